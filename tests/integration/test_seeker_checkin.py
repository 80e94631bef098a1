"""The seeker's check-in through the deployed handlers on moto (issue 12, "Before and after").

Each handler on its own role with IAM enforced (tests/world.py). The answers live in one item
per calendar month (`pk=IMPACT`, `sk=MONTH#<YYYY-MM>`: counts only); no other item, no SQS
message and no log line carries them, and nothing in that item names a connection, a chat or
an alias.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from typing import Any

import boto3
import pytest

from kindred.aws.impact import DynamoImpact
from kindred.aws.table import Table
from kindred.impact import CheckinTally, month_of
from tests.aws_calls import record_aws_calls
from tests.world import World
from tools import impact as impact_tool

COMMENT_MARK = "porcupine"


def _db() -> Any:
    return boto3.client("dynamodb")


def _table() -> str:
    return os.environ["TABLE_NAME"]


def _items() -> list[dict[str, Any]]:
    return list(_db().scan(TableName=_table())["Items"])


def _impact() -> DynamoImpact:
    return DynamoImpact(Table(_db(), _table(), connection_ttl=0, session_ttl=0))


def _volunteer(world: World, user: str = "vol-1", alias: str = "Sam") -> str:
    vid = world.connect("volunteer", user_id=user, alias=alias)
    world.send(vid, {"action": "availability", "available": True})
    world.frames(vid)
    return vid


def test_a_yes_puts_the_seeker_at_high_on_the_queue_item_and_the_chat_item(world: World) -> None:
    """Given a supervisor on shift and no volunteer who fits (one on shift speaks French),
    When a seeker asks with a calm intro and a check-in answering `yes`,
    Then they get `queued`, the lines for nobody on shift who can take them and the crisis
    lines, the supervisor a `risk` alert at `high`, their
    queue item says level high at high priority; once matched, the volunteer's `matched` and
    the chat's item say high too."""
    boss = world.connect("supervisor", user_id="sup-1", alias="Rosa")
    world.frames(boss)
    french = world.connect("volunteer", user_id="vol-fr", alias="Léa")
    world.send(french, {"action": "availability", "available": True, "languages": ["fr"]})
    seeker = world.connect()
    world.send(
        seeker,
        {"action": "match", "intro": "work is a lot", "checkin": {"suicidalNow": "yes"}},
    )
    assert [(f["type"], f.get("reason")) for f in world.frames(seeker)] == [
        ("queued", None),
        ("resources", "unavailable"),
        ("resources", "crisis"),
    ]
    [alert] = world.frames(boss)
    assert (alert["kind"], alert["level"], alert["sessionId"]) == ("risk", "high", "")
    [queued] = [i for i in _items() if i["pk"]["S"] == "QUEUE"]
    assert queued["level"] == {"S": "high"}
    assert queued["sk"]["S"].startswith("1#")  # PRIORITY_HIGH leads the queue key

    vol = _volunteer(world)
    world.run_matcher()
    [matched] = world.frames(vol)
    assert matched["risk"] == "high"
    key = {"pk": {"S": f"SESSION#{matched['sessionId']}"}, "sk": {"S": "SESSION"}}
    assert _db().get_item(TableName=_table(), Key=key)["Item"]["level"] == {"S": "high"}


def test_the_answers_are_in_the_months_totals_only_and_nothing_links_them_to_anyone(
    world: World, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Given a seeker who answers the check-in (distress 7, not sure), chats, ends, and gives
    feedback with distress 3 (and the page's 7 from before) and a comment,
    When we look at every item left in the table, every AWS call made and every log line,
    Then the month's totals count one check-in, a 7 before, a `not sure`, a 3 after and a
    change of -4; that item's key is the month alone and it holds counts and its expiry only;
    no other item has an attribute of the check-in, the only writes that carried the answers
    are UpdateItems of that item, and no log line names an answer."""
    caplog.set_level(logging.DEBUG)
    capsys.readouterr()
    with record_aws_calls() as calls:
        seeker = world.connect()
        world.send(
            seeker,
            {"action": "match", "checkin": {"distress": 7, "suicidalNow": "unsure"}},
        )
        vol = _volunteer(world)
        world.run_matcher()
        session = world.frames(seeker)[-1]["sessionId"]
        world.send(seeker, {"action": "message", "text": "hello"})
        world.send(seeker, {"action": "end"})
        world.send(
            seeker,
            {
                "action": "feedback",
                "sessionId": session,
                "rating": 4,
                "comment": f"{COMMENT_MARK} thanks",
                "distress": 3,
                "distressBefore": 7,
            },
        )
    assert world.frames(seeker)[-1] == {"type": "thanks"}
    alias = next(f for f in world.all_frames(vol) if f["type"] == "matched")["peer"]["alias"]
    month = month_of(time.time())

    items = _items()
    [totals] = [i for i in items if i["pk"]["S"] == "IMPACT"]
    assert totals["sk"] == {"S": f"MONTH#{month}"}
    counts = {k: int(v["N"]) for k, v in totals.items() if k not in ("pk", "sk", "expiresAt")}
    assert counts == {
        "checkins": 1,
        "before7": 1,
        "suicidalUnsure": 1,
        "after3": 1,
        "change-4": 1,
    }
    assert set(totals) == {"pk", "sk", "expiresAt", *counts}
    # Kept two years after the month ends, then TTL removes it.
    assert int(totals["expiresAt"]["N"]) > time.time() + 700 * 86400
    ids = (seeker, vol, session, alias, "vol-1", "Sam")
    assert not any(i in json.dumps(totals) for i in ids)
    check_in_words = re.compile(r"distress|suicid|checkin|before\d|after\d|change-?\d", re.I)
    for item in items:
        if item is not totals:
            assert not any(check_in_words.search(name) for name in item), item

    carried = [
        (op, params.get("Key"))
        for service, op, params in calls
        if service != "apigatewaymanagementapi" and check_in_words.search(json.dumps(params))
    ]
    assert carried == [("UpdateItem", totals_key) for totals_key in [_key(month)] * 2]
    assert _impact().checkin_totals(month) == CheckinTally(
        checkins=1,
        before=tuple(int(v == 7) for v in range(11)),
        suicidal_now=(0, 0, 1),
        after=tuple(int(v == 3) for v in range(11)),
        change=tuple(int(v == -4) for v in range(-10, 11)),
    )

    out = capsys.readouterr()
    # Every line our Logger printed (JSON, with its extra keys), and the EMF metrics; not
    # moto's debug lines, which are the AWS side (they show the requests it was sent).
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name == "kindred")
    logged = ours + out.out + out.err
    assert "matched" in caplog.messages  # the capture works
    assert not check_in_words.search(logged), "a check-in answer was logged"
    assert "unsure" not in logged and COMMENT_MARK not in logged


def _key(month: str) -> dict[str, Any]:
    return {"pk": {"S": "IMPACT"}, "sk": {"S": f"MONTH#{month}"}}


def test_the_report_reads_an_ended_month_from_the_table(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given totals for the last month that has ended, written through the adapter (40 check-ins:
    distress 8 for 30 and 2 for 10; 4 `yes`, 30 `no`, 6 `not sure`),
    When an operator runs `python -m tools.impact --table <name> --month <it>`,
    Then it reads them from DynamoDB and prints them with the counts under 10 hidden (and
    the band of 10 that would give away the empty one)."""
    impact, month = _impact(), impact_tool.last_ended_month(time.time())
    for distress, answer, times in ((8, "no", 30), (2, "yes", 4), (2, "unsure", 6)):
        for _ in range(times):
            impact.add_checkins(
                month,
                CheckinTally(
                    checkins=1,
                    before=tuple(int(v == distress) for v in range(11)),
                    suicidal_now=tuple(int(a == answer) for a in ("yes", "no", "unsure")),
                ),
            )
    capsys.readouterr()
    assert impact_tool.main(["--table", _table(), "--month", month, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows["checkins"] == 40
    assert rows["suicidalNow"] == {"answers": 40, "yes": None, "no": 30, "unsure": None}
    assert rows["distressBefore"] == {
        "answers": 40,
        "mean": 6.5,
        "bands": {"0-3": None, "4-6": None, "7-10": 30},
    }
