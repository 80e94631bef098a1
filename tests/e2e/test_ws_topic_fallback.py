"""End to end on a local stack whose topic wait is 1 s: the delayed work item, through the
local SQS poller, is what matches a seeker after their topic wait when nothing else happens."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from local.stack import LocalStack, Ports

VOLUNTEER = "volunteer@example.org"
WAIT = 10


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    running = LocalStack(
        ports=Ports(web=0, ws=0, aws=0, connections=0),
        parameters={"TopicFallbackSeconds": "1"},
    ).start()
    try:
        yield running
    finally:
        running.stop()


def _frames_until(ws: ClientConnection, frame_type: str, timeout: float) -> list[dict[str, Any]]:
    """Every frame up to and including the first of this type (or until the timeout)."""
    frames: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            frame = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            frames.append(frame)
            if frame["type"] == frame_type:
                break
    except (TimeoutError, ConnectionClosed):
        pass
    return frames


def test_a_seeker_waits_for_their_topic_then_the_volunteer_free_since_takes_them(
    stack: LocalStack,
) -> None:
    """
    Given a local stack whose topic wait is 1 s, and the demo volunteer available for anxiety
    When a seeker asks about grief, and nothing else happens
    Then the seeker hears `queued`, no `matched` for the first second, and `matched` with the
    demo volunteer soon after it: the delayed work item went through the local poller
    """
    token = stack.id_token(VOLUNTEER)
    origin = stack.web_origin
    with (
        connect(f"{stack.ws_url}?token={token}", origin=origin, open_timeout=WAIT) as volunteer,  # type: ignore[arg-type]
        connect(f"{stack.ws_url}?lang=en", origin=origin, open_timeout=WAIT) as seeker,  # type: ignore[arg-type]
    ):
        volunteer.send(
            json.dumps({"action": "availability", "available": True, "topics": ["anxiety"]})
        )
        assert [f["type"] for f in _frames_until(volunteer, "status", WAIT)] == ["status"]

        asked_at = time.monotonic()
        seeker.send(json.dumps({"action": "match", "topics": ["grief"]}))
        first_second = _frames_until(seeker, "matched", 0.8)
        later = _frames_until(seeker, "matched", WAIT)
        matched_at = time.monotonic()

    assert [f["type"] for f in first_second] == ["queued"]
    assert [f["type"] for f in later] == ["matched"]
    assert later[0]["peer"] == {"alias": "Demo Volunteer", "role": "volunteer"}
    assert matched_at - asked_at >= 1.0
