"""Supervision and the board through the deployed handlers on moto, IAM enforced (issue 12).

What each side sees, what is stored (never a whisper, a note or a message), and what the
board costs: a change is one conditional UpdateItem; a push is the matcher's, at most one
every 2 s.
"""

from __future__ import annotations

import os
from typing import Any

import boto3

from kindred.board import PUSH_DELAY_SECONDS
from tests.aws_calls import count_aws_calls, gone_connections
from tests.integration.chats import start_chat
from tests.world import World

NOTE = "Mentions a plan for tonight, please join."
WHISPER = "Could you ask about the plan directly?"
REPLY = "Yes: ask whether they are safe right now."


def _items() -> list[dict[str, Any]]:
    db = boto3.client("dynamodb")
    items: list[dict[str, Any]] = db.scan(TableName=os.environ["TABLE_NAME"])["Items"]
    return items


def _supervisor(world: World, user: str = "boss", alias: str = "Robin") -> str:
    sup = world.connect("supervisor", user_id=user, alias=alias)
    world.frames(sup)
    return sup


def _joined_chat(world: World) -> tuple[str, str, str, str]:
    seeker, vol, session = start_chat(world, capacity=3)
    sup = _supervisor(world)
    world.send(sup, {"action": "join", "sessionId": session})
    assert world.types(sup) == ["joined"]
    assert world.types(vol) == ["supervisor_joined"]
    assert world.types(seeker) == ["supervisor_joined"]
    return seeker, vol, sup, session


def test_escalate_join_whisper_leave_as_each_sees_it(world: World) -> None:
    """Given a chat and a supervisor on shift, When the volunteer asks for help with a note,
    the supervisor joins, each of the three writes, the two whisper, and the supervisor
    leaves, Then each hears what the protocol says, the seeker never a whisper, and no item
    holds a note, a whisper or a message."""
    seeker, vol, session = start_chat(world, capacity=3)
    sup = _supervisor(world)
    world.send(vol, {"action": "escalate", "sessionId": session, "note": NOTE})
    [alert] = world.frames(sup)
    assert (alert["type"], alert["kind"], alert["sessionId"], alert["note"]) == (
        "alert",
        "escalation",
        session,
        NOTE,
    )
    assert alert["volunteer"] == "V"
    [answer] = world.frames(vol)
    assert (answer["type"], answer["sent"], answer["supervisorsOnShift"]) == (
        "escalated",
        True,
        1,
    )

    world.send(sup, {"action": "join", "sessionId": session})
    assert [f["type"] for f in world.frames(sup)] == ["joined"]
    assert world.frames(vol) == [
        {"type": "supervisor_joined", "sessionId": session, "supervisor": "Robin"}
    ]
    assert world.frames(seeker) == [{"type": "supervisor_joined", "sessionId": session}]

    world.send(seeker, {"action": "message", "text": "I feel awful"})
    world.send(vol, {"action": "message", "sessionId": session, "text": "I'm here"})
    world.send(sup, {"action": "message", "sessionId": session, "text": "Me too"})
    world.send(vol, {"action": "whisper", "sessionId": session, "text": WHISPER})
    world.send(sup, {"action": "whisper", "sessionId": session, "text": REPLY})
    said = {cid: world.frames(cid) for cid in (seeker, vol, sup)}
    assert [(f["type"], f.get("from"), f["text"]) for f in said[seeker]] == [
        ("message", "volunteer", "I'm here"),
        ("message", "supervisor", "Me too"),
    ]
    assert [(f["type"], f.get("from"), f["text"]) for f in said[vol]] == [
        ("message", "seeker", "I feel awful"),
        ("message", "supervisor", "Me too"),
        ("whisper", "supervisor", REPLY),
    ]
    assert [(f["type"], f.get("from"), f["text"]) for f in said[sup]] == [
        ("message", "seeker", "I feel awful"),
        ("message", "volunteer", "I'm here"),
        ("whisper", "volunteer", WHISPER),
    ]

    world.send(sup, {"action": "leave", "sessionId": session})
    for cid in (seeker, vol, sup):
        assert world.frames(cid) == [{"type": "supervisor_left", "sessionId": session}]
    dump = repr(_items())
    for text in (NOTE, WHISPER, REPLY, "I feel awful", "Me too", "plan"):
        assert text not in dump


def test_a_chat_that_ends_tells_its_supervisor_and_a_gone_supervisor_ends_nothing(
    world: World,
) -> None:
    """Given a chat a supervisor joined, When the supervisor's socket is gone (410) and the
    seeker writes, Then the volunteer still gets the message and both hear `supervisor_left`;
    when another supervisor joins and the seeker ends the chat, that supervisor hears
    `ended`, and no connection item still names a supervisor."""
    seeker, vol, sup, session = _joined_chat(world)
    with gone_connections(sup):
        world.send(seeker, {"action": "message", "text": "still here"})
    assert [f["type"] for f in world.frames(vol)] == ["message", "supervisor_left"]
    assert world.frames(seeker) == [{"type": "supervisor_left", "sessionId": session}]

    other = _supervisor(world, "boss2", "Alex")
    world.send(other, {"action": "join", "sessionId": session})
    world.frames(other), world.frames(vol), world.frames(seeker)
    world.send(seeker, {"action": "end"})
    assert world.frames(other) == [
        {"type": "ended", "sessionId": session, "reason": "ended_by_peer"}
    ]
    for item in _items():
        names = set(item)
        assert "supervisorId" not in names
        assert not [n for n in names if n.startswith(("sup#", "joined#"))], item


def test_a_supervisor_who_disconnects_leaves_and_a_resumed_seeker_keeps_them(
    world: World,
) -> None:
    """Given a chat a supervisor joined, When the seeker's socket drops and they resume, Then
    the supervisor's messages reach the new connection; when the supervisor's $disconnect
    runs, both sides hear `supervisor_left` and the chat goes on."""
    seeker, vol, sup, session = _joined_chat(world)
    token = [f for f in world.all_frames(seeker) if "resumeToken" in f][-1]["resumeToken"]
    world.disconnect(seeker)
    back = world.connect(resume=token)
    world.send(back, {"action": "ping"})
    assert [f["type"] for f in world.frames(sup)] == ["peer_away", "peer_back"]
    world.send(sup, {"action": "message", "sessionId": session, "text": "welcome back"})
    assert ("message", "supervisor") in [(f["type"], f.get("from")) for f in world.frames(back)]

    world.disconnect(sup)
    assert world.frames(back) == [{"type": "supervisor_left", "sessionId": session}]
    assert [f["type"] for f in world.frames(vol)] == ["peer_away", "peer_back", "message",
                                                        "supervisor_left"]  # fmt: skip
    world.send(back, {"action": "message", "text": "ok"})
    assert [f.get("from") for f in world.frames(vol)] == [None]


def test_the_board_is_pushed_by_the_matcher_two_seconds_after_a_change(world: World) -> None:
    """Given a supervisor subscribed (the board comes at once), When seekers ask for a chat,
    one is matched and its volunteer asks for help, Then each change costs one conditional
    UpdateItem; one `board` work item comes due 2 s later, and the matcher pushes one board
    showing all of it."""
    sup = _supervisor(world)
    world.send(sup, {"action": "board", "subscribe": True})
    [first] = world.frames(sup)
    assert first["type"] == "board" and first["chats"] == [] and first["queue"]["waiting"] == 0

    _, vol, session = start_chat(world, capacity=3)
    waiting = world.connect(lang="es")
    with count_aws_calls() as calls:
        world.send(waiting, {"action": "match", "language": "es"})
    # Its own calls and the board's one claim (refused: a push is pending since the match).
    assert calls[("sqs", "SendMessage")] == 1  # the matcher's nudge, not a board item
    world.send(vol, {"action": "escalate"})
    world.frames(vol)
    assert world.types(sup) == ["alert"]
    world.run_matcher()  # the board's item is not due yet
    assert world.frames(sup) == []
    world.advance(PUSH_DELAY_SECONDS)
    world.run_matcher()
    [pushed] = world.frames(sup)
    assert pushed["type"] == "board"
    assert pushed["queue"]["waiting"] == 1 and pushed["queue"]["byLanguage"] == {"es": 1}
    assert [(c["sessionId"], c["escalated"]) for c in pushed["chats"]] == [(session, True)]
    assert pushed["volunteers"][0]["activeChats"] == 1


def test_a_push_reads_three_partitions_and_posts_once_per_subscriber(world: World) -> None:
    """Given two supervisors subscribed and a change, When the board's work item comes, Then
    the matcher makes one UpdateItem (the push starts), three eventually consistent Queries
    and one post per subscriber; no matching pass."""
    for user in ("boss", "boss2"):
        sup = _supervisor(world, user)
        world.send(sup, {"action": "board", "subscribe": True})
    start_chat(world)
    world.advance(PUSH_DELAY_SECONDS)
    with count_aws_calls() as calls:
        world.run_matcher()
    assert calls[("dynamodb", "Query")] == 3
    assert calls[("dynamodb", "UpdateItem")] == 1
    assert calls[("apigatewaymanagementapi", "PostToConnection")] == 2
    assert ("dynamodb", "TransactWriteItems") not in calls
