"""Risk levels and `assess` through the deployed handlers on moto (issue 8).

The chat's level lives on its session item (`level`, absent for none), written by one
conditional UpdateItem per signal or assessment. The levels the detector gives are read from
kindred.safety.assess at test time: these tests are about what a level sets off, not about
which words give which level (that is tests/unit/test_safety.py's business).
"""

from __future__ import annotations

import os
from typing import Any

import boto3

from kindred.records import priority_for
from kindred.safety import assess
from tests.aws_calls import record_aws_calls
from tests.world import World

RISKY = "I want to kill myself"  # a risk today and after the detector's rewrite
RISKY_LEVEL = assess(RISKY).level


def _table() -> Any:
    return boto3.client("dynamodb"), os.environ["TABLE_NAME"]


def _session_item(session: str) -> dict[str, Any]:
    db, table = _table()
    key = {"pk": {"S": f"SESSION#{session}"}, "sk": {"S": "SESSION"}}
    item: dict[str, Any] = db.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    return item


def _level_on_item(session: str) -> str | None:
    level = _session_item(session).get("level")
    return None if level is None else str(level["S"])


def _dump() -> list[dict[str, Any]]:
    """Every item of the table but the connections' rate logs (every action is counted)."""
    db, table = _table()
    items = db.scan(TableName=table)["Items"]
    return sorted(
        (
            {k: v for k, v in item.items() if not (k.startswith("rl") and k[2:].isdigit())}
            for item in items
        ),
        key=lambda i: (i["pk"]["S"], i["sk"]["S"]),
    )


def _volunteer(world: World, user: str = "vol-1", alias: str = "Sam", capacity: int = 1) -> str:
    vid = world.connect("volunteer", user_id=user, alias=alias)
    world.send(vid, {"action": "availability", "available": True, "capacity": capacity})
    world.frames(vid)
    return vid


def _supervisor(world: World) -> str:
    sid = world.connect("supervisor", user_id="sup-1", alias="Rosa")
    world.frames(sid)
    return sid


def _chat(world: World, vol: str, intro: str | None = None) -> tuple[str, str, str]:
    """A new seeker matched with `vol`: (seeker, session id, seeker's alias)."""
    seeker = world.connect()
    world.send(seeker, {"action": "match", **({"intro": intro} if intro else {})})
    world.run_matcher()
    matched = world.frames(vol)[-1]
    assert matched["type"] == "matched"
    world.frames(seeker)
    return seeker, matched["sessionId"], matched["peer"]["alias"]


def test_assess_sets_the_level_on_the_session_item_and_alerts_the_supervisor(
    world: World,
) -> None:
    """Given a chat with no risk and a supervisor on shift,
    When the volunteer assesses it as imminent,
    Then the volunteer gets `assessed`, the supervisor a risk alert at imminent naming the
    volunteer, the seeker's alias, the chat and when it started, the seeker crisis lines;
    and the session item in DynamoDB says level imminent. When the volunteer then assesses
    none, the item has no level and nobody else hears anything."""
    boss = _supervisor(world)
    vol = _volunteer(world)
    seeker, session, alias = _chat(world, vol)
    assert _level_on_item(session) is None

    world.send(vol, {"action": "assess", "sessionId": session, "level": "imminent"})

    assert world.frames(vol) == [{"type": "assessed", "sessionId": session, "level": "imminent"}]
    [alert] = world.frames(boss)
    assert {k: alert[k] for k in ("type", "kind", "sessionId", "level", "volunteer", "seeker")} == {
        "type": "alert",
        "kind": "risk",
        "sessionId": session,
        "level": "imminent",
        "volunteer": "Sam",
        "seeker": alias,
    }
    assert alert["at"].endswith("Z") and alert["startedAt"].endswith("Z")
    assert alert["startedAt"] <= alert["at"]
    assert [(f["type"], f["reason"]) for f in world.frames(seeker)] == [("resources", "crisis")]
    assert _level_on_item(session) == "imminent"

    world.send(vol, {"action": "assess", "sessionId": session, "level": "none"})
    assert world.frames(vol) == [{"type": "assessed", "sessionId": session, "level": "none"}]
    assert world.frames(boss) == [] and world.frames(seeker) == []
    assert "level" not in _session_item(session)


def test_a_signal_writes_the_level_with_one_conditional_update_and_a_repeat_alerts_nobody(
    world: World,
) -> None:
    """Given a chat with no risk and a supervisor on shift,
    When the seeker writes words the detector reads as a risk, twice,
    Then the first raises the session item's level with one conditional UpdateItem on the
    session (and alerts the volunteer and the supervisor once; the seeker gets crisis lines,
    marked on the session once per chat; the board's row of the chat takes the level); the
    second makes that same one UpdateItem, which changes nothing, and alerts nobody."""
    assert RISKY_LEVEL is not None
    boss = _supervisor(world)
    vol = _volunteer(world)
    seeker, session, _ = _chat(world, vol)
    session_key = {"pk": {"S": f"SESSION#{session}"}, "sk": {"S": "SESSION"}}

    for round_ in (1, 2):
        with record_aws_calls() as recorded:
            world.send(seeker, {"action": "message", "text": RISKY})
        session_writes = [
            params["UpdateExpression"]
            for service, op, params in recorded
            if service == "dynamodb" and params.get("Key") == session_key
        ]
        level_writes = [
            params
            for service, op, params in recorded
            if service == "dynamodb"
            and params.get("Key") == session_key
            and "#level" in params["UpdateExpression"]
        ]
        assert len(level_writes) == 1, round_
        [write] = level_writes
        # (`levelSeq` orders the copies of the level on the board's row, issue 12.)
        assert write["UpdateExpression"] == "SET #level = :level ADD levelSeq :one"
        assert "ConditionExpression" in write
        # The rise is copied to the chat's row on the supervisors' board; a repeat is not.
        row_key = {"pk": {"S": "BOARD"}, "sk": {"S": f"CHAT#{session}"}}
        row_writes = [p for _, _, p in recorded if p.get("Key") == row_key]
        assert len(row_writes) == (1 if round_ == 1 else 0), row_writes
        # Besides, once per chat: the mark that the seeker has had crisis lines.
        assert len(session_writes) == (2 if round_ == 1 else 1), session_writes
        if round_ == 1:
            assert [f["type"] for f in world.frames(vol)] == ["message", "alert"]
            assert [(f["kind"], f["level"]) for f in world.frames(boss)] == [("risk", RISKY_LEVEL)]
            assert [f["reason"] for f in world.frames(seeker)] == ["crisis"]
        else:
            assert [f["type"] for f in world.frames(vol)] == ["message"]
            assert world.frames(boss) == [] and world.frames(seeker) == []
        assert _level_on_item(session) == RISKY_LEVEL
    assert "kill" not in str(_dump())


def test_after_the_volunteer_lowers_the_level_the_same_signal_is_a_rise_again(
    world: World,
) -> None:
    """Given a chat the detector raised to a level, and a supervisor on shift,
    When the volunteer assesses it as concern and the seeker writes the same words again,
    Then `assessed` concern alerts nobody and the item says concern; the repeated words are a
    rise above concern (if the detector's level is above it): the supervisor is alerted again
    at that level and the item says it again."""
    assert RISKY_LEVEL is not None
    boss = _supervisor(world)
    vol = _volunteer(world)
    seeker, session, _ = _chat(world, vol)
    world.send(seeker, {"action": "message", "text": RISKY})
    world.frames(vol), world.frames(boss), world.frames(seeker)

    world.send(vol, {"action": "assess", "sessionId": session, "level": "concern"})
    assert world.frames(vol) == [{"type": "assessed", "sessionId": session, "level": "concern"}]
    assert world.frames(boss) == []
    assert _level_on_item(session) == "concern"

    world.send(seeker, {"action": "message", "text": RISKY})
    rose = RISKY_LEVEL != "concern"
    assert [f.get("level") for f in world.frames(boss)] == ([RISKY_LEVEL] if rose else [])
    assert [f["type"] for f in world.frames(vol)] == ["message"] + (["alert"] if rose else [])
    assert world.frames(seeker) == []  # crisis lines once per chat
    assert _level_on_item(session) == RISKY_LEVEL


def test_a_bad_assess_gets_an_error_and_leaves_the_table_as_it_was(world: World) -> None:
    """Given two volunteers each in a chat,
    When the seeker sends `assess`, a volunteer assesses the other's chat, and a volunteer
    sends a level that does not exist,
    Then `not_allowed`, `not_in_chat` and `invalid_request`, and no item of the table changed
    (the senders' rate logs aside)."""
    vol = _volunteer(world)
    other = _volunteer(world, user="vol-2", alias="Kim")
    seeker, session, _ = _chat(world, vol)
    _, other_session, _ = _chat(world, other)
    before = _dump()

    world.send(seeker, {"action": "assess", "sessionId": session, "level": "high"})
    world.send(vol, {"action": "assess", "sessionId": other_session, "level": "high"})
    world.send(vol, {"action": "assess", "sessionId": session, "level": "critical"})

    assert [(f["code"], f["action"]) for f in world.frames(seeker)] == [("not_allowed", "assess")]
    assert [(f["code"], f["action"]) for f in world.frames(vol)] == [
        ("not_in_chat", "assess"),
        ("invalid_request", "assess"),
    ]
    assert world.frames(other) == []
    assert _dump() == before


def test_the_queue_serves_by_level_then_transfer_then_normal(world: World) -> None:
    """Given a seeker waiting at normal priority, then one whose intro reads at risk, then one
    transferred from a chat the volunteer had assessed as imminent, and a supervisor on shift,
    When one volunteer takes them one at a time,
    Then the supervisor heard of the waiting seeker at risk (level, alias); and the order is
    the imminent transfer, the intro at risk, the normal seeker, as the one queue sort key
    says; the next volunteer's `matched` names each level."""
    assert RISKY_LEVEL is not None
    boss = _supervisor(world)
    first = _volunteer(world, alias="First")
    moved, moved_session, moved_alias = _chat(world, first)

    normal = world.connect()
    world.send(normal, {"action": "match"})
    at_risk = world.connect()
    world.send(at_risk, {"action": "match", "intro": RISKY})
    [waiting_alert] = world.frames(boss)
    at_risk_alias = waiting_alert["seeker"]
    assert (waiting_alert["kind"], waiting_alert["sessionId"], waiting_alert["level"]) == (
        "risk",
        "",
        RISKY_LEVEL,
    )

    world.send(first, {"action": "assess", "sessionId": moved_session, "level": "imminent"})
    world.send(first, {"action": "transfer", "sessionId": moved_session})
    world.send(first, {"action": "availability", "available": False})
    db, table = _table()
    queue = db.query(
        TableName=table,
        KeyConditionExpression="pk = :q",
        ExpressionAttributeValues={":q": {"S": "QUEUE"}},
        ConsistentRead=True,
    )["Items"]
    assert [int(i["sk"]["S"].split("#")[0]) for i in queue] == [
        priority_for("imminent"),
        priority_for(RISKY_LEVEL),
        priority_for(None),
    ]

    second = _volunteer(world, user="vol-2", alias="Second")
    served = []
    for _ in range(3):
        world.run_matcher()
        [matched] = [f for f in world.frames(second) if f["type"] == "matched"]
        served.append((matched["peer"]["alias"], matched.get("risk")))
        world.send(second, {"action": "end", "sessionId": matched["sessionId"]})
        # After a chat at high or imminent the volunteer pauses (issue 12): wait it out.
        world.advance(5 * 60 + 1)
    assert served[:2] == [(moved_alias, "imminent"), (at_risk_alias, RISKY_LEVEL)]
    assert served[2][1] is None
    assert moved  # the transferred seeker's connection went on through it all
