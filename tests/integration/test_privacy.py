"""Privacy: what a seeker or volunteer writes never reaches DynamoDB, SQS or the logs."""

from __future__ import annotations

import logging
import os

import boto3
import pytest

from tests.aws_calls import record_aws_calls
from tests.world import World

INTRO_MARK = "zebrafinch"
SEEKER_MARK = "marmalade"
VOLUNTEER_MARK = "lighthouse"
NOTE_MARK = "tangerine"
CRISIS = "honestly I want to kill myself tonight"


def test_no_text_is_stored_sent_to_sqs_or_logged(
    world: World, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Given a whole chat (intro, messages both ways, a crisis message, bad frames quoting the
    text, a transfer with a note, feedback with a comment, a report with details), when we look
    at every AWS call made, every item left in the table, and every log line, then none of the
    texts is there; they went only to the other person's socket."""
    caplog.set_level(logging.DEBUG)
    with record_aws_calls() as calls:
        seeker = world.connect()
        world.send(seeker, {"action": "match", "intro": f"my {INTRO_MARK} story"})
        vol = world.connect("volunteer", user_id="v1", alias="Vee")
        world.send(vol, {"action": "availability", "available": True, "capacity": 2})
        world.run_matcher()
        world.send(seeker, {"action": "message", "text": f"about {SEEKER_MARK} again"})
        world.send(vol, {"action": "message", "text": f"the {VOLUNTEER_MARK} helps"})
        world.send(seeker, {"action": "message", "text": CRISIS})
        world.send(seeker, {"action": "message", "text": f"{SEEKER_MARK} " * 800})  # too long
        world.send(seeker, f'{{"action": "message", "text": "{SEEKER_MARK}"')  # not JSON
        world.send(
            seeker, {"action": "report", "reason": "other", "details": f"{SEEKER_MARK} details"}
        )
        session = next(f["sessionId"] for f in world.all_frames(vol) if f["type"] == "matched")
        world.send(vol, {"action": "transfer", "sessionId": session, "note": f"{NOTE_MARK} note"})
        vol2 = world.connect("volunteer", user_id="v2", alias="Wim")
        world.send(vol2, {"action": "availability", "available": True})
        world.run_matcher()
        world.send(seeker, {"action": "end"})
        world.send(
            seeker,
            {
                "action": "feedback",
                "sessionId": next(
                    f["sessionId"]
                    for f in reversed(world.all_frames(seeker))
                    if f["type"] == "ended"
                ),
                "rating": 5,
                "comment": f"{SEEKER_MARK} thanks",
            },
        )
        items = boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])["Items"]

    # The texts did reach the people they were for...
    vol_frames = str(world.all_frames(vol))
    assert INTRO_MARK in vol_frames and SEEKER_MARK in vol_frames
    assert NOTE_MARK in str(world.all_frames(vol2))
    assert VOLUNTEER_MARK in str(world.all_frames(seeker))
    # ...and nowhere else.
    marks = (INTRO_MARK, SEEKER_MARK, VOLUNTEER_MARK, NOTE_MARK, "kill myself")
    stored_or_queued = [
        (service, op, params)
        for service, op, params in calls
        if service != "apigatewaymanagementapi"
    ]
    assert {s for s, _, _ in stored_or_queued} >= {"dynamodb", "sqs"}
    for mark in marks:
        assert mark not in str(stored_or_queued), f"{mark} was sent to DynamoDB or SQS"
        assert mark not in str(items), f"{mark} is stored in the table"
        out = capsys.readouterr()
        assert mark not in out.out and mark not in out.err, f"{mark} was logged"
        assert mark not in caplog.text, f"{mark} was logged"
    assert any(s == "sqs" and op == "SendMessage" for s, op, _ in calls)
    assert any(op == "TransactWriteItems" for _, op, _ in calls)
    # The report is an item of who, which chat, why and when: its details went nowhere.
    [report] = [i for i in items if i["pk"]["S"].startswith("REPORT#")]
    assert set(report) == {
        "pk",
        "sk",
        "sessionId",
        "reason",
        "reporterRole",
        "createdAt",
        "expiresAt",
    }
