"""End to end over real WebSockets on the local stack (issue 11, timing): a dropped seeker's
grace period ends within 10 s after it, by the delayed work item their `$disconnect` sends
to the match queue (the local SQS poller honours DelaySeconds as Lambda's event source does).

The sweeper is slowed down so that it never runs during these tests: the work item alone must
end the chat, or take the seeker out of the queue. The grace is the shortest allowed, 10 s;
the bound is measured from the moment the seeker's socket closed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from websockets.sync.client import ClientConnection, connect

from local.stack import LocalStack
from tests.e2e.ws import frames_until, running_stack

VOLUNTEER = "volunteer@example.org"
WAIT = 10
GRACE = 10  # the shortest ResumeGraceSeconds allowed
BOUND = 10  # the promise: within 10 s after the grace period


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    # The sweeper's rate(1 minute) every 6,000 s: its first run is long after these tests.
    with running_stack({"ResumeGraceSeconds": str(GRACE)}, schedule_time_scale=100) as running:
        yield running


def _open(stack: LocalStack, query: str) -> ClientConnection:
    return connect(
        f"{stack.ws_url}?{query}",
        origin=stack.web_origin,  # type: ignore[arg-type]
        open_timeout=WAIT,
    )


def test_a_dropped_chat_ends_within_ten_seconds_of_the_grace(stack: LocalStack) -> None:
    """
    Given a seeker in a chat with the demo volunteer, and no sweeper run to come
    When the seeker's socket closes and they do not come back
    Then the volunteer hears `peer_away`, then `ended` reason `peer_left` no sooner than the
    grace period after the drop and no later than 10 s after it
    """
    with _open(stack, f"token={stack.id_token(VOLUNTEER)}") as volunteer:
        volunteer.send(json.dumps({"action": "availability", "available": True}))
        frames_until(volunteer, "status", WAIT)
        with _open(stack, "lang=en") as seeker:
            seeker.send(json.dumps({"action": "match"}))
            assert frames_until(seeker, "matched", WAIT)[-1]["type"] == "matched"
            assert frames_until(volunteer, "matched", WAIT)[-1]["type"] == "matched"
        dropped_at = time.monotonic()

        assert [f["type"] for f in frames_until(volunteer, "peer_away", WAIT)] == ["peer_away"]
        ended = frames_until(volunteer, "ended", GRACE + BOUND + 1)
        took = time.monotonic() - dropped_at
        assert ended and ended[-1]["type"] == "ended", f"no `ended` {took:.1f} s after the drop"
        assert ended[-1]["reason"] == "peer_left"
        assert GRACE - 1 <= took <= GRACE + BOUND, f"ended {took:.1f} s after the drop"


def test_a_dropped_waiting_seeker_leaves_the_queue_within_ten_seconds_of_the_grace(
    stack: LocalStack,
) -> None:
    """
    Given two seekers waiting while nobody is on shift, and no sweeper run to come
    When the first one's socket closes and they do not come back
    Then the second hears `position` 1 no sooner than the grace period after the drop and no
    later than 10 s after it
    """
    with _open(stack, "lang=en") as second:
        with _open(stack, "lang=en") as first:
            first.send(json.dumps({"action": "match"}))
            assert frames_until(first, "queued", WAIT)[-1]["position"] == 1
            second.send(json.dumps({"action": "match"}))
            assert frames_until(second, "queued", WAIT)[-1]["position"] == 2
        dropped_at = time.monotonic()

        moved_up = None
        while moved_up is None and time.monotonic() - dropped_at < GRACE + BOUND + 1:
            frames = frames_until(second, "position", GRACE + BOUND + 1)
            # (A `position` naming only a change of volunteers on shift keeps position 2.)
            moved_up = next((f for f in frames if f.get("position") == 1), None)
        took = time.monotonic() - dropped_at
        assert moved_up is not None, f"no `position` 1 {took:.1f} s after the drop"
        assert GRACE - 1 <= took <= GRACE + BOUND, f"moved up {took:.1f} s after the drop"
        second.send(json.dumps({"action": "end"}))
