"""End to end over real WebSockets on the local stack (issue 5): a seeker's connection drops
mid-chat and comes back with their resume token; or does not, and the sweeper (run by the
local scheduler from the template's Schedule event, sped up) ends the chat after the grace."""

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
GRACE = 10  # the shortest ResumeGraceSeconds allowed


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    running = LocalStack(
        ports=Ports(web=0, ws=0, aws=0, connections=0),
        parameters={"ResumeGraceSeconds": str(GRACE)},
        schedule_time_scale=0.02,  # the sweeper's rate(1 minute) every 1.2 s
    ).start()
    try:
        yield running
    finally:
        running.stop()


def _frames_until(ws: ClientConnection, frame_type: str, timeout: float) -> list[dict[str, Any]]:
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


def _in_a_chat(seeker: ClientConnection, volunteer: ClientConnection) -> str:
    """The seeker asks for a match and is matched with the volunteer; their resume token."""
    seeker.send(json.dumps({"action": "match"}))
    frames = _frames_until(seeker, "matched", WAIT)
    assert [f["type"] for f in frames] == ["queued", "matched"]
    assert _frames_until(volunteer, "matched", WAIT)[-1]["type"] == "matched"
    token: str = frames[0]["resumeToken"]
    return token


def test_a_seeker_drops_and_resumes_mid_chat(stack: LocalStack) -> None:
    """
    Given a seeker in a chat with the demo volunteer
    When the seeker's socket closes, and they reconnect with their resume token
    Then the volunteer hears `peer_away` then `peer_back`, the seeker's first message gets
    `resumed` (chatting, a new token), and messages flow both ways on the new socket
    """
    token = stack.id_token(VOLUNTEER)
    origin = stack.web_origin
    with connect(f"{stack.ws_url}?token={token}", origin=origin, open_timeout=WAIT) as volunteer:  # type: ignore[arg-type]
        volunteer.send(json.dumps({"action": "availability", "available": True}))
        _frames_until(volunteer, "status", WAIT)
        with connect(f"{stack.ws_url}?lang=en", origin=origin, open_timeout=WAIT) as seeker:  # type: ignore[arg-type]
            resume = _in_a_chat(seeker, volunteer)
        away = _frames_until(volunteer, "peer_away", WAIT)
        assert [f["type"] for f in away] == ["peer_away"]

        with connect(
            f"{stack.ws_url}?resume={resume}",
            origin=origin,  # type: ignore[arg-type]
            open_timeout=WAIT,
        ) as back:
            assert [f["type"] for f in _frames_until(volunteer, "peer_back", WAIT)] == ["peer_back"]
            back.send(json.dumps({"action": "message", "text": "I'm back"}))
            resumed = _frames_until(back, "resumed", WAIT)
            assert resumed[-1]["type"] == "resumed" and resumed[-1]["state"] == "chatting"
            assert resumed[-1]["resumeToken"] != resume
            got = _frames_until(volunteer, "message", WAIT)
            assert got[-1]["text"] == "I'm back"
            volunteer.send(json.dumps({"action": "message", "text": "Welcome back"}))
            assert _frames_until(back, "message", WAIT)[-1]["text"] == "Welcome back"
            back.send(json.dumps({"action": "end"}))
            _frames_until(volunteer, "ended", WAIT)


def test_without_a_resume_the_sweeper_ends_the_chat_after_the_grace(stack: LocalStack) -> None:
    """
    Given a seeker in a chat with the demo volunteer
    When the seeker's socket closes and they do not come back
    Then the volunteer hears `peer_away`, and after the grace period (the sweeper's next run)
    `ended` reason `peer_left`
    """
    token = stack.id_token(VOLUNTEER)
    origin = stack.web_origin
    with connect(f"{stack.ws_url}?token={token}", origin=origin, open_timeout=WAIT) as volunteer:  # type: ignore[arg-type]
        volunteer.send(json.dumps({"action": "availability", "available": True}))
        _frames_until(volunteer, "status", WAIT)
        with connect(f"{stack.ws_url}?lang=en", origin=origin, open_timeout=WAIT) as seeker:  # type: ignore[arg-type]
            _in_a_chat(seeker, volunteer)
        dropped_at = time.monotonic()
        assert [f["type"] for f in _frames_until(volunteer, "peer_away", WAIT)] == ["peer_away"]
        ended = _frames_until(volunteer, "ended", GRACE + WAIT)
        assert ended[-1]["type"] == "ended" and ended[-1]["reason"] == "peer_left"
        assert time.monotonic() - dropped_at >= GRACE - 1
