"""Resume after a dropped connection, and the sweeper, through the handlers on moto (issue 5)."""

from __future__ import annotations

import os
from typing import Any

import boto3

from tests.aws_calls import gone_connections
from tests.integration.chats import next_seeker_types
from tests.world import World

GRACE = 120  # the default RESUME_GRACE_SECONDS


def _volunteer(world: World, user: str = "vol-1") -> str:
    vid = world.connect("volunteer", user_id=user, alias="Sam")
    world.send(vid, {"action": "availability", "available": True, "languages": ["en"]})
    world.frames(vid)
    return vid


def _chat(world: World) -> tuple[str, str, str, str]:
    """A seeker in a chat with a volunteer: (seeker, their resume token, volunteer, session)."""
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    token = world.frames(seeker)[0]["resumeToken"]
    vol = _volunteer(world)
    world.run_matcher()
    session = world.frames(vol)[-1]["sessionId"]
    world.frames(seeker)
    return seeker, token, vol, session


def _table_items() -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])["Items"]


def test_a_seeker_who_drops_mid_chat_resumes_within_the_grace(world: World) -> None:
    """Given a chat, when the seeker's connection drops, then the volunteer gets `peer_away`;
    when the seeker comes back with their token within the grace period, then the volunteer
    gets `peer_back`, the seeker's first action hears `resumed` with a new token, messages flow
    both ways on the new connection, and the old token no longer works."""
    seeker, token, vol, session = _chat(world)
    world.disconnect(seeker)
    assert world.frames(vol) == [{"type": "peer_away", "sessionId": session}]

    world.advance(GRACE - 10)
    back = world.connect(resume=token)
    assert world.frames(vol) == [{"type": "peer_back", "sessionId": session}]

    world.send(back, {"action": "message", "text": "still here", "clientMsgId": "s1"})
    resumed, *_ = world.frames(back)
    assert resumed["type"] == "resumed" and resumed["state"] == "chatting"
    assert resumed["sessionId"] == session and resumed["resumeToken"] != token
    assert [f["text"] for f in world.frames(vol) if f["type"] == "message"] == ["still here"]
    world.send(vol, {"action": "message", "text": "welcome back"})
    assert [f["text"] for f in world.frames(back) if f["type"] == "message"] == ["welcome back"]

    again = world.connect(resume=token)  # the token was single-use
    world.send(again, {"action": "match"})
    assert world.frames(again)[0]["code"] == "resume_failed"
    assert not [i for i in _table_items() if seeker in str(i)]


def test_a_waiting_seeker_who_drops_keeps_their_place(world: World) -> None:
    """Given two seekers waiting, when the first drops, then while away they are not matched (the
    one behind is); when they resume, their first frame hears `resumed` with position 1, and
    when the volunteer is free again they are matched."""
    first, second = world.connect(), world.connect()
    world.send(first, {"action": "match"})
    token = world.frames(first)[0]["resumeToken"]
    world.send(second, {"action": "match"})
    world.frames(second)
    world.disconnect(first)
    vol = _volunteer(world)
    world.run_matcher()
    # The volunteer's coming on shift is news to both; only the one present is matched.
    assert [f["type"] for f in world.frames(second)] == ["position", "matched"]

    world.advance(30)
    back = world.connect(resume=token)
    world.send(back, {"action": "resources"})
    frames = world.frames(back)
    assert [f["type"] for f in frames] == ["resumed", "resources"]
    resumed = frames[0]
    assert (resumed["type"], resumed["state"], resumed["position"]) == ("resumed", "waiting", 1)
    world.send(vol, {"action": "end"})
    world.run_matcher()
    assert "matched" in world.types(back)


def test_no_resume_within_the_grace_ends_the_chat_and_frees_the_slot(world: World) -> None:
    """Given a seeker who dropped mid-chat, when the grace period passes and the sweeper runs,
    then the volunteer gets `ended` `peer_left`, their slot is free for the next seeker, and
    the token no longer works."""
    seeker, token, vol, session = _chat(world)
    world.disconnect(seeker)
    world.frames(vol)
    world.advance(GRACE - 1)
    world.sweep()
    assert world.frames(vol) == []  # still within the grace
    world.advance(2)
    world.sweep()
    assert world.frames(vol) == [{"type": "ended", "sessionId": session, "reason": "peer_left"}]
    assert next_seeker_types(world) == ["queued", "matched"]
    late = world.connect(resume=token)
    world.send(late, {"action": "resources"})
    assert world.frames(late)[0]["code"] == "resume_failed"


def test_an_unknown_token_gives_a_plain_seeker_told_on_the_first_action(world: World) -> None:
    """Given a token nobody issued, when a seeker connects with it, then the connection is a
    plain new seeker: its first action gets `error` `resume_failed` and is served too."""
    cid = world.connect(resume="not-a-token")
    world.send(cid, {"action": "match"})
    frames = world.frames(cid)
    assert frames[0]["type"] == "error" and frames[0]["code"] == "resume_failed"
    assert frames[1]["type"] == "queued"
    world.send(cid, {"action": "end"})
    assert world.frames(cid) == []  # told once


def test_the_sweeper_cleans_up_a_volunteer_who_vanished_without_disconnect(world: World) -> None:
    """Given a chat whose volunteer's socket vanished without a $disconnect (GetConnection
    answers 410), when the sweeper runs, then the seeker gets `ended` `peer_left` and nothing
    of the volunteer is left: no connection, no slot."""
    seeker, _token, vol, session = _chat(world)
    with gone_connections(vol):
        world.sweep()
    assert world.frames(seeker) == [{"type": "ended", "sessionId": session, "reason": "peer_left"}]
    assert not [i for i in _table_items() if vol in str(i) and "SESSION" not in str(i)]


def test_the_first_ping_after_a_resume_tells_the_outcome(world: World) -> None:
    """Given a seeker who dropped mid-chat, when they come back with their token and their page's
    first frame is a ping (as the web page sends on reconnecting), then that ping brings
    `resumed` with a new token before the `pong`, and that new token resumes them after a
    second drop; a ping with a spent token brings `resume_failed`."""
    seeker, token, vol, session = _chat(world)
    world.disconnect(seeker)
    back = world.connect(resume=token)
    world.send(back, {"action": "ping"})
    resumed, pong = world.frames(back)
    assert (resumed["type"], resumed["state"], resumed["sessionId"]) == (
        "resumed",
        "chatting",
        session,
    )
    assert pong == {"type": "pong"}
    world.send(back, {"action": "ping"})
    assert world.frames(back) == [{"type": "pong"}]  # told once

    world.disconnect(back)
    again = world.connect(resume=resumed["resumeToken"])
    world.send(again, {"action": "ping"})
    assert world.types(again) == ["resumed", "pong"]
    assert [f["type"] for f in world.frames(vol)] == ["peer_away", "peer_back"] * 2

    stale = world.connect(resume=token)
    world.send(stale, {"action": "ping"})
    assert [f.get("code", f["type"]) for f in world.frames(stale)] == ["resume_failed", "pong"]
