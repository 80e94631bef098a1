"""A peer whose socket has gone (410 on post): the chat ends cleanly and the sender is told."""

from __future__ import annotations

import os

import boto3

from tests.aws_calls import gone_connections
from tests.integration.chats import next_seeker_types, start_chat
from tests.world import World


def test_a_message_to_a_gone_volunteer_tells_the_seeker_and_ends_the_chat(world: World) -> None:
    """Given a chat whose volunteer's socket vanished without a $disconnect, when the seeker sends
    a message, then the seeker gets `error` peer_gone with their clientMsgId and `ended`
    peer_left, and can queue again at once."""
    seeker, vol, session = start_chat(world)
    with gone_connections(vol):
        world.send(seeker, {"action": "message", "text": "are you there?", "clientMsgId": "m7"})
    got = world.frames(seeker)
    assert [(f["type"], f.get("code"), f.get("clientMsgId"), f.get("reason")) for f in got] == [
        ("error", "peer_gone", "m7", None),
        ("ended", None, None, "peer_left"),
    ]
    assert got[1]["sessionId"] == session
    world.send(seeker, {"action": "match"})
    assert world.types(seeker) == ["queued"]


def test_a_message_to_a_gone_seeker_frees_the_volunteer_slot(world: World) -> None:
    """Given a chat whose seeker's socket vanished, when the volunteer writes, then the volunteer
    is told and their slot takes the next seeker."""
    seeker, vol, _ = start_chat(world)
    with gone_connections(seeker):
        world.send(vol, {"action": "message", "text": "Take your time."})
    assert [f.get("code") or f.get("reason") for f in world.frames(vol)] == [
        "peer_gone",
        "peer_left",
    ]
    assert next_seeker_types(world) == ["queued", "matched"]


def test_a_volunteer_gone_at_the_moment_of_the_match_does_not_cost_the_seeker(
    world: World,
) -> None:
    """Given a waiting seeker and a volunteer whose socket vanished, when the matcher pairs them,
    then the seeker never hears of that chat and is matched with the next volunteer."""
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    ghost = world.connect("volunteer", user_id="ghost", alias="Ghost")
    world.send(ghost, {"action": "availability", "available": True})
    with gone_connections(ghost):
        world.run_matcher()
    # Nobody on shift, then the ghost, then nobody again: never a chat that did not happen.
    assert [(f["type"], f.get("volunteersOnShift")) for f in world.frames(seeker)] == [
        ("queued", 0),
        ("resources", None),
        ("position", 1),
        ("position", 0),
        ("resources", None),
    ]
    vol = world.connect("volunteer", user_id="v2", alias="Real")
    world.send(vol, {"action": "availability", "available": True})
    world.run_matcher()
    news, matched = world.frames(seeker)
    assert news == {"type": "position", "position": 1, "volunteersOnShift": 1}
    assert matched["type"] == "matched" and matched["peer"]["alias"] == "Real"


def test_a_seeker_gone_at_the_moment_of_the_match_frees_the_volunteer(world: World) -> None:
    """Given a waiting seeker whose socket vanished, when the matcher pairs them, then the
    volunteer hears `ended` peer_left and takes the next seeker."""
    ghost = world.connect()
    world.send(ghost, {"action": "match"})
    vol = world.connect("volunteer", user_id="v", alias="V")
    world.send(vol, {"action": "availability", "available": True})
    assert world.types(vol) == ["status"]
    with gone_connections(ghost):
        world.run_matcher()
    assert [(f["type"], f.get("reason")) for f in world.frames(vol)] == [
        ("matched", None),
        ("ended", "peer_left"),
    ]
    assert next_seeker_types(world) == ["queued", "matched"]


def test_a_block_after_the_seeker_is_gone_just_ends_the_chat(world: World) -> None:
    """Given a chat whose seeker's connection item is already gone from the table (and whose
    socket is closed), when the volunteer blocks, then the volunteer gets `ended` blocked, not
    an error, no connection item is made up for the seeker, and the slot takes the next
    seeker."""
    seeker, vol, session = start_chat(world)
    db = boto3.client("dynamodb")
    key = {"pk": {"S": f"CONN#{seeker}"}, "sk": {"S": "CONN"}}
    db.delete_item(TableName=os.environ["TABLE_NAME"], Key=key)
    with gone_connections(seeker):
        world.send(vol, {"action": "block"})
    assert world.frames(vol) == [{"type": "ended", "sessionId": session, "reason": "blocked"}]
    assert "Item" not in db.get_item(TableName=os.environ["TABLE_NAME"], Key=key)
    assert next_seeker_types(world) == ["queued", "matched"]
