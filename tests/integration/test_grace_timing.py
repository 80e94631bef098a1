"""A dropped seeker's grace period ends within seconds of its end, through the handlers on moto
(issue 11, timing): the delayed work item `$disconnect` sends, with no sweeper run at all.

World's clock moves the handlers and moto's SQS together (`World.keep_sqs_on_this_clock`),
so the work item's DelaySeconds is honoured by moto's own delay code, on the moved time.
"""

from __future__ import annotations

from typing import Any

from tests.integration.chats import next_seeker_types
from tests.world import World

GRACE = 120  # the default RESUME_GRACE_SECONDS
BOUND = 10  # the promise: the chat ends within 10 s after the grace period


def _volunteer(world: World) -> str:
    vid = world.connect("volunteer", user_id="vol-1", alias="Sam")
    world.send(vid, {"action": "availability", "available": True, "languages": ["en"]})
    world.frames(vid)
    return vid


def _seconds_until(
    world: World, cid: str, frame_type: str, limit: int
) -> tuple[int, dict[str, Any]]:
    """Move the clock a second at a time, delivering the match queue's due work items after
    each (as the SQS event source would), until `cid` gets a `frame_type` frame: the seconds
    that took, and the frame. No sweeper runs."""
    for second in range(1, limit + 1):
        world.advance(1)
        world.run_matcher()
        found = [f for f in world.frames(cid) if f["type"] == frame_type]
        if found:
            return second, found[0]
    raise AssertionError(f"no {frame_type} within {limit} s")


def test_a_dropped_chat_ends_within_seconds_of_the_grace(world: World) -> None:
    """Given a seeker in a chat, when their connection drops and they do not come back, then
    the volunteer gets `ended` `peer_left` after the grace period and within 10 s of it,
    without the sweeper; their slot is free for the next seeker."""
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    vol = _volunteer(world)
    world.run_matcher()
    session = world.frames(vol)[-1]["sessionId"]
    world.disconnect(seeker)
    assert world.frames(vol) == [{"type": "peer_away", "sessionId": session}]

    took, ended = _seconds_until(world, vol, "ended", GRACE + BOUND)
    assert ended == {"type": "ended", "sessionId": session, "reason": "peer_left"}
    assert GRACE <= took <= GRACE + BOUND
    assert next_seeker_types(world) == ["queued", "matched"]


def test_a_dropped_waiting_seeker_leaves_the_queue_within_seconds_of_the_grace(
    world: World,
) -> None:
    """Given two seekers waiting while nobody is on shift, when the first one's connection
    drops for good, then after the grace period and within 10 s of it the second hears
    `position` 1, without the sweeper; a volunteer coming on shift then takes the second."""
    first, second = world.connect(), world.connect()
    world.send(first, {"action": "match"})
    world.send(second, {"action": "match"})
    assert world.frames(second)[0]["position"] == 2
    world.disconnect(first)

    took, position = _seconds_until(world, second, "position", GRACE + BOUND)
    assert position["position"] == 1
    assert GRACE <= took <= GRACE + BOUND
    vol = _volunteer(world)
    world.run_matcher()
    assert world.frames(vol)[-1]["type"] == "matched"
    assert "matched" in world.types(second)
