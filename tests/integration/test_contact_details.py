"""Contact details on the deployed handlers (issue 12): a refused message reaches nobody and is
written nowhere, at the relay's cost; a seeker who chooses to share is relayed."""

from __future__ import annotations

import logging
import os

import boto3
import pytest

from tests.aws_calls import record_aws_calls
from tests.integration.chats import start_chat
from tests.world import World

NUMBER = "07700 900123"
ADDRESS = "sam.marmalade@example.org"


def test_a_refused_message_relays_nothing_and_writes_no_text(
    world: World, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Given a chat, when the seeker writes a phone number and the volunteer an e-mail address
    (the volunteer with `share: true`), then each gets `error` `contact_details` with their
    clientMsgId, the other gets nothing, each refusal costs the relay's one UpdateItem (the rate
    count) and one post (the error), and neither text is in any AWS call but that post, in the
    table, or in the logs."""
    caplog.set_level(logging.DEBUG)
    seeker, vol, session = start_chat(world)
    world.send(seeker, {"action": "ping"})  # warm: clients exist, as in a warm Lambda
    world.frames(seeker)
    capsys.readouterr()
    sent = {
        seeker: {"action": "message", "text": f"call me on {NUMBER}", "clientMsgId": "s-1"},
        vol: {
            "action": "message",
            "sessionId": session,
            "text": f"mail me: {ADDRESS}",
            "clientMsgId": "v-1",
            "share": True,
        },
    }
    for sender, frame in sent.items():
        with record_aws_calls() as recorded:
            world.send(sender, frame)
        assert [(service, op) for service, op, _ in recorded] == [
            ("dynamodb", "UpdateItem"),
            ("apigatewaymanagementapi", "PostToConnection"),
        ]
        assert recorded[1][2]["ConnectionId"] == sender
        assert NUMBER not in str(recorded) and ADDRESS not in str(recorded)
        [refusal] = world.frames(sender)
        assert (refusal["type"], refusal["code"], refusal["action"], refusal["clientMsgId"]) == (
            "error",
            "contact_details",
            "message",
            frame["clientMsgId"],
        )
    assert world.frames(seeker) == [] and world.frames(vol) == []

    items = boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])["Items"]
    out = capsys.readouterr()
    for text in (NUMBER, ADDRESS, "marmalade"):
        assert text not in str(items)
        assert text not in out.out and text not in out.err and text not in caplog.text
    assert "contact_details" in caplog.text or "contact_details" in out.out


def test_a_seeker_who_chooses_to_share_reaches_the_volunteer(world: World) -> None:
    """Given a seeker whose number was refused, when they send it again with `share: true`, then
    the volunteer gets it as written, at the relay's cost, and the seeker gets nothing."""
    seeker, vol, session = start_chat(world)
    world.send(seeker, {"action": "message", "text": f"my number is {NUMBER}", "seq": 0})
    assert [f["code"] for f in world.frames(seeker)] == ["contact_details"]
    with record_aws_calls() as recorded:
        world.send(
            seeker,
            {"action": "message", "text": f"my number is {NUMBER}", "seq": 1, "share": True},
        )
    assert [(service, op) for service, op, _ in recorded] == [
        ("dynamodb", "UpdateItem"),
        ("apigatewaymanagementapi", "PostToConnection"),
    ]
    [message] = world.frames(vol)
    assert (message["type"], message["sessionId"], message["text"], message["seq"]) == (
        "message",
        session,
        f"my number is {NUMBER}",
        1,
    )
    assert "share" not in message
    assert world.frames(seeker) == []


def test_a_refused_message_at_risk_still_alerts(world: World) -> None:
    """Given a chat and a supervisor on shift, when the seeker writes that they will take their
    life tonight and gives a number, then the message is refused and not relayed, the seeker gets
    crisis lines, and the volunteer and the supervisor a `risk` alert."""
    boss = world.connect("supervisor", user_id="boss", alias="Boss")  # on shift, takes no chats
    seeker, vol, session = start_chat(world)
    world.send(
        seeker,
        {"action": "message", "text": f"I want to kill myself tonight. my mum is on {NUMBER}"},
    )
    assert [(f["type"], f.get("code") or f.get("reason")) for f in world.frames(seeker)] == [
        ("error", "contact_details"),
        ("resources", "crisis"),
    ]
    [alert] = world.frames(vol)
    assert (alert["type"], alert["kind"], alert["sessionId"]) == ("alert", "risk", session)
    assert [(f["type"], f["kind"]) for f in world.frames(boss)] == [("alert", "risk")]
