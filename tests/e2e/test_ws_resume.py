"""End to end over real WebSockets on the local stack (issue 5): a seeker's connection drops
mid-chat and comes back with their resume token; or does not, and the sweeper (run by the
local scheduler from the template's Schedule event, sped up) ends the chat after the grace."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from websockets.sync.client import ClientConnection, connect

from local.stack import LocalStack
from tests.e2e.ws import frames_until, running_stack

VOLUNTEER = "volunteer@example.org"
WAIT = 10
GRACE = 10  # the shortest ResumeGraceSeconds allowed


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    # The sweeper's rate(1 minute) every 1.2 s.
    with running_stack({"ResumeGraceSeconds": str(GRACE)}, schedule_time_scale=0.02) as running:
        yield running


@contextmanager
def _available_volunteer(stack: LocalStack) -> Iterator[ClientConnection]:
    """The demo volunteer's socket, available for chats."""
    token = stack.id_token(VOLUNTEER)
    with connect(
        f"{stack.ws_url}?token={token}",
        origin=stack.web_origin,  # type: ignore[arg-type]
        open_timeout=WAIT,
    ) as volunteer:
        volunteer.send(json.dumps({"action": "availability", "available": True}))
        frames_until(volunteer, "status", WAIT)
        yield volunteer


def _chat_then_drop(stack: LocalStack, volunteer: ClientConnection) -> str:
    """A seeker asks for a match, is matched with the volunteer, then their socket closes;
    their resume token."""
    with connect(
        f"{stack.ws_url}?lang=en",
        origin=stack.web_origin,  # type: ignore[arg-type]
        open_timeout=WAIT,
    ) as seeker:
        seeker.send(json.dumps({"action": "match"}))
        frames = frames_until(seeker, "matched", WAIT)
        assert [f["type"] for f in frames] == ["queued", "matched"]
        assert frames_until(volunteer, "matched", WAIT)[-1]["type"] == "matched"
    token: str = frames[0]["resumeToken"]
    return token


def test_a_seeker_drops_and_resumes_mid_chat(stack: LocalStack) -> None:
    """
    Given a seeker in a chat with the demo volunteer
    When the seeker's socket closes, and they reconnect with their resume token
    Then the volunteer hears `peer_away` then `peer_back`, the seeker's first message gets
    `resumed` (chatting, a new token), and messages flow both ways on the new socket
    """
    with _available_volunteer(stack) as volunteer:
        resume = _chat_then_drop(stack, volunteer)
        away = frames_until(volunteer, "peer_away", WAIT)
        assert [f["type"] for f in away] == ["peer_away"]

        with connect(
            f"{stack.ws_url}?resume={resume}",
            origin=stack.web_origin,  # type: ignore[arg-type]
            open_timeout=WAIT,
        ) as back:
            assert [f["type"] for f in frames_until(volunteer, "peer_back", WAIT)] == ["peer_back"]
            back.send(json.dumps({"action": "message", "text": "I'm back"}))
            resumed = frames_until(back, "resumed", WAIT)
            assert resumed[-1]["type"] == "resumed" and resumed[-1]["state"] == "chatting"
            assert resumed[-1]["resumeToken"] != resume
            got = frames_until(volunteer, "message", WAIT)
            assert got[-1]["text"] == "I'm back"
            volunteer.send(json.dumps({"action": "message", "text": "Welcome back"}))
            assert frames_until(back, "message", WAIT)[-1]["text"] == "Welcome back"
            back.send(json.dumps({"action": "end"}))
            frames_until(volunteer, "ended", WAIT)


def test_without_a_resume_the_sweeper_ends_the_chat_after_the_grace(stack: LocalStack) -> None:
    """
    Given a seeker in a chat with the demo volunteer
    When the seeker's socket closes and they do not come back
    Then the volunteer hears `peer_away`, and after the grace period (its delayed work item,
    or the sweeper's next run) `ended` reason `peer_left`
    """
    with _available_volunteer(stack) as volunteer:
        _chat_then_drop(stack, volunteer)
        dropped_at = time.monotonic()
        assert [f["type"] for f in frames_until(volunteer, "peer_away", WAIT)] == ["peer_away"]
        ended = frames_until(volunteer, "ended", GRACE + WAIT)
        assert ended[-1]["type"] == "ended" and ended[-1]["reason"] == "peer_left"
        assert time.monotonic() - dropped_at >= GRACE - 1
