"""End to end over real WebSockets on the local stack (issue 9): every frame of the safety net
at the edges, as a seeker's socket receives it: nobody on shift, a volunteer coming on shift,
the long wait (MaxWaitMinutes of a few seconds, the sweeper sped up), the end of a risk chat,
and a `match` while closed (a second stack, with opening hours that are closed today)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from local.stack import LocalStack
from tests.e2e.ws import WAIT, frames_until, running_stack

VOLUNTEER = "volunteer@example.org"
MAX_WAIT_MINUTES = 0.05  # 3 s
CRISIS = "I have decided to kill myself tonight"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    # The sweeper's rate(1 minute) every 1.2 s.
    with running_stack(
        {"MaxWaitMinutes": str(MAX_WAIT_MINUTES)}, schedule_time_scale=0.02
    ) as running:
        yield running


def _seeker(stack: LocalStack) -> ClientConnection:
    return connect(f"{stack.ws_url}?lang=en", origin=stack.web_origin, open_timeout=WAIT)  # type: ignore[arg-type]


def _volunteer(stack: LocalStack) -> ClientConnection:
    token = stack.id_token(VOLUNTEER)
    return connect(f"{stack.ws_url}?token={token}", origin=stack.web_origin, open_timeout=WAIT)  # type: ignore[arg-type]


def test_nobody_on_shift_then_a_volunteer_comes_then_the_long_wait(stack: LocalStack) -> None:
    """
    Given nobody on shift
    When a seeker asks for a chat
    Then `queued` says 0 on shift with no estimated wait, and `resources` `unavailable` follows;
      after MaxWaitMinutes they hear `position` longWait and `resources` `long_wait`, once
    When the demo volunteer comes on shift (and goes again before any match: they list
      another topic than the seeker's, whom the matcher keeps for their own topic for 60 s)
    Then the seeker hears `position` volunteersOnShift 1, then 0 with `unavailable` again
    """
    with _seeker(stack) as seeker:
        seeker.send(json.dumps({"action": "match", "topics": ["grief"]}))
        first = frames_until(seeker, "resources")
        assert [f["type"] for f in first] == ["queued", "resources"]
        assert first[0]["volunteersOnShift"] == 0 and "estimatedWaitSeconds" not in first[0]
        assert first[1]["reason"] == "unavailable" and first[1]["items"]

        long_wait = frames_until(seeker, "resources:long_wait", WAIT + MAX_WAIT_MINUTES * 60)
        assert [(f["type"], f.get("longWait"), f.get("reason")) for f in long_wait] == [
            ("position", True, None),
            ("resources", None, "long_wait"),
        ]
        assert long_wait[0]["position"] == 1
        assert frames_until(seeker, "resources", 3) == []  # told once, not every sweep

        with _volunteer(stack) as volunteer:
            volunteer.send(
                json.dumps({"action": "availability", "available": True, "topics": ["anxiety"]})
            )
            assert frames_until(volunteer, "status")[-1]["type"] == "status"
            assert frames_until(seeker, "position") == [
                {"type": "position", "position": 1, "volunteersOnShift": 1}
            ]
            volunteer.send(json.dumps({"action": "availability", "available": False}))
            gone = frames_until(seeker, "resources")
            assert [(f["type"], f.get("volunteersOnShift"), f.get("reason")) for f in gone] == [
                ("position", 0, None),
                ("resources", None, "unavailable"),
            ]
        seeker.send(json.dumps({"action": "end"}))


def test_the_end_of_a_risk_chat_leaves_the_seeker_with_the_lines(stack: LocalStack) -> None:
    """
    Given a seeker in a chat with the demo volunteer, who wrote of killing themselves
    When the volunteer ends the chat
    Then the seeker hears `ended`, then `resources` reason `ended`
    """
    with _volunteer(stack) as volunteer, _seeker(stack) as seeker:
        volunteer.send(json.dumps({"action": "availability", "available": True}))
        frames_until(volunteer, "status")
        seeker.send(json.dumps({"action": "match"}))
        queued_then_matched = frames_until(seeker, "matched")
        assert queued_then_matched[0]["volunteersOnShift"] == 1
        session = queued_then_matched[-1]["sessionId"]
        frames_until(volunteer, "matched")
        seeker.send(json.dumps({"action": "message", "text": CRISIS}))
        assert frames_until(seeker, "resources")[-1]["reason"] == "crisis"
        assert frames_until(volunteer, "alert")[-1]["type"] == "alert"

        volunteer.send(json.dumps({"action": "end", "sessionId": session}))
        after = frames_until(seeker, "resources")
        assert [(f["type"], f.get("reason")) for f in after] == [
            ("ended", "ended_by_peer"),
            ("resources", "ended"),
        ]
        assert after[1]["items"]
        volunteer.send(json.dumps({"action": "availability", "available": False}))


def _closed_today() -> dict[str, Any]:
    """Open every day 09:00-17:00 UTC, but closed today: the next opening is tomorrow 09:00."""
    today = datetime.now(UTC).date()
    return {
        "timezone": "UTC",
        "weekly": {
            day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
        "closedDates": [today.isoformat()],
    }


def test_a_match_while_closed_gets_the_next_opening_and_the_lines() -> None:
    """
    Given a stack whose opening hours are closed today (config.json gives the hours)
    When a seeker asks for a chat
    Then they get `resources` `closed` and `error` `closed` with tomorrow 09:00 UTC as
      `opensAt`, and the socket stays open
    """
    hours = _closed_today()
    with running_stack({"OpeningHours": json.dumps(hours)}) as closed:
        assert closed.config()["hours"] == hours
        with _seeker(closed) as seeker:
            seeker.send(json.dumps({"action": "match", "intro": "is anyone there"}))
            frames = frames_until(seeker, "error")
            assert [(f["type"], f.get("reason") or f.get("code")) for f in frames] == [
                ("resources", "closed"),
                ("error", "closed"),
            ]
            tomorrow = datetime.now(UTC).date() + timedelta(days=1)
            assert frames[1]["opensAt"] == f"{tomorrow.isoformat()}T09:00:00.000Z"
            assert "opens again" in frames[1]["message"]
            seeker.send(json.dumps({"action": "ping"}))
            assert frames_until(seeker, "pong") == [{"type": "pong"}]
