"""Safety at the edges (issue 9): nobody on shift, closed hours, the long wait, after a risk chat.

On the in-memory fakes, through kindred.chat.handle, the matcher and the sweeper, as a seeker
sees it. The detector is stood in for by a tag at the start of a text (as in test_levels.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from kindred import hours
from kindred.config import ConfigError, load_settings
from kindred.matching import run_matcher
from kindred.observability import metrics
from kindred.sweeper import sweep
from tests.unit.harness import FakeServices, connect, make_services, send, store_unchanged

AT_RISK = "[high] I have written my goodbye letters."
# Sunday 6 December 2026, 05:00 UTC (06:00 in Madrid): the fakes' clock is set to it below.
SUNDAY_DAWN = datetime(2026, 12, 6, 5, 0, tzinfo=UTC).timestamp()
EVENINGS = {
    "timezone": "Europe/Madrid",
    "weekly": {day: [["18:00", "23:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "closedDates": ["2026-12-07"],
}


pytestmark = pytest.mark.usefixtures("tagged_detector")


def _volunteer(svc: FakeServices, cid: str = "v1", *, languages: list[str] | None = None) -> str:
    connect(svc, cid, "volunteer", user_id=f"user-{cid}", alias=f"Vol {cid}")
    frame: dict[str, Any] = {"action": "availability", "available": True}
    if languages:
        frame["languages"] = languages
    send(svc, cid, frame)
    svc.notifier.take(cid)
    return cid


def _seeker(
    svc: FakeServices, cid: str = "s1", intro: str | None = None, *, lang: str = "en"
) -> list[dict[str, Any]]:
    """A seeker (whose page is in `lang`) asks for a chat; the frames they got."""
    connect(svc, cid, lang=lang)
    send(svc, cid, {"action": "match", **({"intro": intro} if intro else {})})
    return svc.notifier.take(cid)


def _kinds(frames: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """Each frame's type, and for `resources` and `queued` its reason."""
    return [(f["type"], f.get("reason") if f["type"] != "ended" else None) for f in frames]


# ---- nobody on shift -------------------------------------------------------------------------


def test_with_nobody_on_shift_the_seeker_hears_it_at_once_and_no_wait_is_guessed(
    svc: FakeServices,
) -> None:
    """Given nobody on shift (a supervisor watching takes no chats, and counts for nothing),
    When a seeker asks for a chat,
    Then `queued` says 0 volunteers on shift and gives no estimated wait, and the crisis lines
    follow at once with reason `unavailable`; the seeker keeps their place."""
    connect(svc, "boss", "supervisor", user_id="user-boss", alias="Sup")
    svc.queue.record_matches(30, svc.now_ms())  # a recent pace that would give an estimate
    queued, lines = _seeker(svc)
    assert queued["type"] == "queued" and queued["volunteersOnShift"] == 0
    assert "estimatedWaitSeconds" not in queued
    assert lines["type"] == "resources" and lines["reason"] == "unavailable"
    assert [item["country"] for item in lines["items"]][-1] == "INTL"
    assert [e.connection_id for e in svc.queue.waiting(5)] == ["s1"]


def test_with_someone_on_shift_queued_counts_them_and_no_lines_are_sent(
    svc: FakeServices,
) -> None:
    """Given three volunteers on shift: one full, one who speaks English and Spanish, and one
    who speaks only French,
    When an English-speaking seeker asks for a chat,
    Then `queued` counts the two who could take them (whatever their free slots), not the one
    who does not speak their language, and nothing else is sent."""
    _volunteer(svc, "v1")
    _volunteer(svc, "v2", languages=["fr"])
    _seeker(svc, "first")
    run_matcher(svc)  # v1 is now full
    _volunteer(svc, "v3", languages=["es", "en"])
    [queued] = _seeker(svc)
    assert queued["type"] == "queued" and queued["volunteersOnShift"] == 2


def test_with_nobody_on_shift_who_speaks_their_language_a_seeker_hears_nobody_is_there(
    svc: FakeServices,
) -> None:
    """Given a volunteer on shift who speaks only English,
    When a Spanish-speaking seeker asks for a chat (the matcher never pairs them: languages
    must meet),
    Then they hear what a seeker hears with nobody on shift: `volunteersOnShift` 0, no guessed
    wait, and the crisis lines at once."""
    _volunteer(svc, "v1")
    queued, lines = _seeker(svc, lang="es")
    assert queued["volunteersOnShift"] == 0 and "estimatedWaitSeconds" not in queued
    assert (lines["type"], lines["reason"]) == ("resources", "unavailable")


def test_a_seeker_at_risk_with_nobody_on_shift_gets_both_frames(svc: FakeServices) -> None:
    """Given nobody on shift, When a seeker whose intro signals a risk asks for a chat, Then
    they hear that nobody is free and get the crisis lines as a crisis: both frames."""
    assert _kinds(_seeker(svc, intro=AT_RISK)) == [
        ("queued", None),
        ("resources", "unavailable"),
        ("resources", "crisis"),
    ]


def test_waiting_seekers_hear_when_the_first_volunteer_comes_and_the_last_leaves(
    svc: FakeServices,
) -> None:
    """Given two seekers waiting with nobody on shift,
    When a volunteer comes on shift who speaks French only (who can take neither), then one
    who speaks French and English (the first who can take them), a third, the second goes on
    a break, then the third's connection closes,
    Then the seekers hear nothing of the first; `position` with volunteersOnShift 1 when the
    second came, nothing when the count went 1 -> 2 -> 1, and volunteersOnShift 0 with the
    crisis lines (`unavailable`) when the last who could take them left."""
    _seeker(svc, "s1")
    _seeker(svc, "s2")
    _volunteer(svc, "fr0", languages=["fr"])
    assert svc.notifier.take("s1") == [] and svc.notifier.take("s2") == []
    _volunteer(svc, "fr1", languages=["fr", "en"])
    assert svc.notifier.take("s1") == [{"type": "position", "position": 1, "volunteersOnShift": 1}]
    assert svc.notifier.take("s2") == [{"type": "position", "position": 2, "volunteersOnShift": 1}]

    _volunteer(svc, "fr2", languages=["en"])
    send(svc, "fr1", {"action": "availability", "available": False})
    assert svc.notifier.take("s1") == [] and svc.notifier.take("s2") == []

    from kindred.connections import disconnect
    from kindred.requests import DisconnectRequest

    disconnect(svc, DisconnectRequest("fr2", 1000, "closed"))
    for seeker, place in (("s1", 1), ("s2", 2)):
        news, lines = svc.notifier.take(seeker)
        assert news == {"type": "position", "position": place, "volunteersOnShift": 0}
        assert (lines["type"], lines["reason"]) == ("resources", "unavailable")


def test_a_volunteer_who_sends_availability_again_tells_nobody(svc: FakeServices) -> None:
    """Given a seeker waiting and the one volunteer on shift (French only), When the volunteer
    changes their capacity (still available), Then the seeker hears nothing new."""
    _seeker(svc, "s1")
    _volunteer(svc, "fr1", languages=["fr"])
    svc.notifier.take("s1")
    send(svc, "fr1", {"action": "availability", "available": True, "capacity": 2})
    assert svc.notifier.take("s1") == []


# ---- opening hours ---------------------------------------------------------------------------


def test_the_schedule_knows_when_it_is_open_and_when_it_opens_next() -> None:
    """Weekday evenings in Madrid, closed on Monday 7 December: on Sunday at dawn it is
    closed, and opens on Tuesday 8 December at 18:00 Madrid time (17:00 UTC); a window past
    midnight runs into the next day; "24:00" ends a day."""
    schedule = hours.parse(json.dumps(EVENINGS))
    assert schedule is not None
    dawn = datetime.fromtimestamp(SUNDAY_DAWN, UTC)
    assert not schedule.is_open(dawn)
    assert schedule.next_opening(dawn) == datetime(2026, 12, 8, 17, 0, tzinfo=UTC)
    assert schedule.is_open(datetime(2026, 12, 8, 17, 0, tzinfo=UTC))
    assert not schedule.is_open(datetime(2026, 12, 8, 22, 0, tzinfo=UTC))  # 23:00 in Madrid

    nights = hours.parse(
        {"timezone": "UTC", "weekly": {"sat": [["22:00", "02:00"]], "sun": [["10:00", "24:00"]]}}
    )
    assert nights is not None
    assert nights.is_open(datetime(2026, 12, 6, 1, 59, tzinfo=UTC))  # Sunday, from Saturday
    assert not nights.is_open(datetime(2026, 12, 6, 2, 0, tzinfo=UTC))
    assert nights.is_open(datetime(2026, 12, 6, 23, 59, tzinfo=UTC))
    assert nights.to_json()["weekly"] == {"sat": [["22:00", "02:00"]], "sun": [["10:00", "24:00"]]}


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({"weekly": {}}, "timezone"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"timezone": "UTC", "weekly": {"monday": []}}, "weekly takes the days"),
        ({"timezone": "UTC", "weekly": {"mon": [["9:00", "17:00"]]}}, "HH:MM"),
        ({"timezone": "UTC", "weekly": {"mon": [["09:00", "09:00"]]}}, "empty"),
        ({"timezone": "UTC", "closedDates": ["25/12/2026"]}, "YYYY-MM-DD"),
        ({"timezone": "UTC", "open": True}, "unknown keys"),
    ],
)
def test_a_bad_schedule_stops_the_function_with_a_clear_error(
    raw: dict[str, Any], says: str
) -> None:
    """A schedule the operator mistyped is refused at start, naming the setting."""
    with pytest.raises(ValueError, match=says):
        hours.parse(raw)
    environ = {
        "TABLE_NAME": "t",
        "MATCH_QUEUE_URL": "q",
        "WEBSOCKET_ENDPOINT": "https://x",
        "SEALING_KEY_PARAMETER": "/k",
        "AWS_REGION": "eu-west-1",
        "OPENING_HOURS": json.dumps(raw),
    }
    with pytest.raises(ConfigError, match="OPENING_HOURS"):
        load_settings(environ)


def test_a_match_while_closed_is_refused_with_the_next_opening_and_the_lines() -> None:
    """Given weekday evenings and a seeker on Sunday at dawn,
    When they ask for a chat,
    Then they get the crisis lines (`closed`) and an `error` `closed` naming the next opening,
    also as `opensAt`; nothing is stored, the socket stays open, and they can ask again."""
    svc = make_services(opening_hours=json.dumps(EVENINGS))
    svc.clock.now = SUNDAY_DAWN
    connect(svc, "s1")
    with store_unchanged(svc):
        send(svc, "s1", {"action": "match", "intro": "I just need to talk"})
    lines, error = svc.notifier.take("s1")
    assert (lines["type"], lines["reason"]) == ("resources", "closed")
    assert error["type"] == "error" and error["code"] == "closed"
    assert error["opensAt"] == "2026-12-08T17:00:00.000Z"
    assert "Tuesday 8 December at 18:00 (Europe/Madrid time)" in error["message"]
    assert svc.queue.waiting(5) == []

    send(svc, "s1", {"action": "ping"})
    assert svc.notifier.types("s1") == ["pong"]  # the socket is as it was

    svc.clock.now = datetime(2026, 12, 8, 17, 0, 1, tzinfo=UTC).timestamp()  # Tuesday, 18:00
    assert _kinds(_seeker(svc, "s2"))[0] == ("queued", None)


# ---- the long wait ---------------------------------------------------------------------------


def test_after_max_wait_minutes_a_seeker_hears_it_once_and_keeps_their_place() -> None:
    """Given MaxWaitMinutes 20 and two seekers waiting (the second 5 minutes later) with a
    volunteer on shift who fits neither,
    When the sweeper runs at 19 minutes, at 20, at 21 and at 25,
    Then the first hears nothing at 19, then once (`position` longWait, its place, and the
    crisis lines `long_wait`), the second at 25; both keep their places."""
    svc = make_services(max_wait_minutes=20)
    _volunteer(svc, "fr1", languages=["fr"])
    _seeker(svc, "s1")
    svc.clock.advance(300)
    _seeker(svc, "s2")
    svc.clock.advance(19 * 60 - 300)
    sweep(svc)
    assert svc.notifier.take("s1") == []
    svc.clock.advance(60)
    sweep(svc)
    told, lines = svc.notifier.take("s1")
    assert told == {"type": "position", "position": 1, "longWait": True}
    assert (lines["type"], lines["reason"]) == ("resources", "long_wait")
    svc.clock.advance(60)
    sweep(svc)
    assert svc.notifier.take("s1") == [] and svc.notifier.take("s2") == []
    svc.clock.advance(4 * 60)
    sweep(svc)
    assert svc.notifier.take("s1") == []
    assert [f.get("longWait") for f in svc.notifier.take("s2")] == [True, None]
    assert [e.connection_id for e in svc.queue.waiting(5)] == ["s1", "s2"]


def test_the_long_wait_tells_the_place_after_the_sweepers_own_removals() -> None:
    """Given three seekers waiting with nobody fitting them, the first two of whom dropped and
    are away past the grace period when the third has waited MaxWaitMinutes,
    When the sweeper runs (it removes the two first, then tells the long wait),
    Then the third hears place 1, where it now is, not 3 (found by the state machine)."""
    from kindred.connections import disconnect
    from kindred.requests import DisconnectRequest

    svc = make_services(max_wait_minutes=20)
    _volunteer(svc, "fr1", languages=["fr"])
    for cid in ("s1", "s2", "s3"):
        _seeker(svc, cid)
    svc.clock.advance(18 * 60)
    for cid in ("s1", "s2"):
        svc.notifier.gone.add(cid)
        disconnect(svc, DisconnectRequest(cid, 1006, "dropped"))
    svc.notifier.take("s3")
    svc.clock.advance(svc.settings.resume_grace_seconds + 60)
    sweep(svc)
    told = [f for f in svc.notifier.take("s3") if f.get("longWait")]
    assert told == [{"type": "position", "position": 1, "longWait": True}]
    assert [e.connection_id for e in svc.queue.waiting(5)] == ["s3"]


def test_the_sweeper_records_the_longest_wait_for_the_alarm(svc: FakeServices) -> None:
    """Given a seeker waiting 7 minutes with nobody on shift (no match, so no WaitSeconds),
    When the sweeper runs, Then it records OldestWaitSeconds 420: the long-wait alarm reads it."""
    _seeker(svc, "s1")
    svc.clock.advance(420)
    metrics.clear_metrics()
    sweep(svc)
    recorded = metrics.metric_set.get("OldestWaitSeconds")
    metrics.clear_metrics()
    assert recorded is not None and recorded["Value"] == [420.0]


# ---- after a risk chat -----------------------------------------------------------------------


def _risk_chat(svc: FakeServices) -> str:
    _volunteer(svc, "v1")
    _seeker(svc, "s1")
    run_matcher(svc)
    [matched] = svc.notifier.take("s1")
    svc.notifier.take("v1")
    send(svc, "s1", {"action": "message", "sessionId": matched["sessionId"], "text": AT_RISK})
    svc.notifier.forget_all()
    return str(matched["sessionId"])


@pytest.mark.parametrize("ender", ["s1", "v1"])
def test_when_a_chat_with_a_risk_signal_ends_the_seeker_gets_the_lines(
    svc: FakeServices, ender: str
) -> None:
    """Given a chat in which the seeker's message signalled a risk, When either side ends it,
    Then the seeker gets `ended`, then the crisis lines with reason `ended`."""
    session = _risk_chat(svc)
    send(svc, ender, {"action": "end", "sessionId": session})
    assert _kinds(svc.notifier.take("s1")) == [("ended", None), ("resources", "ended")]


def test_when_a_calm_chat_ends_no_lines_are_sent(svc: FakeServices) -> None:
    """Given a chat with no risk signal, When the volunteer ends it, Then only `ended`."""
    _volunteer(svc, "v1")
    _seeker(svc, "s1")
    run_matcher(svc)
    [matched] = svc.notifier.take("s1")
    send(svc, "v1", {"action": "end", "sessionId": matched["sessionId"]})
    assert _kinds(svc.notifier.take("s1")) == [("ended", None)]


def test_a_seeker_handed_back_with_nobody_on_shift_hears_it_with_the_lines(
    svc: FakeServices,
) -> None:
    """Given a chat whose volunteer has already gone off shift (their chats go on),
    When they transfer the seeker,
    Then the seeker's `queued` (reason transfer) says 0 on shift with no estimated wait, and
    the crisis lines (`unavailable`) follow, as after a `match` with nobody on shift."""
    _volunteer(svc, "v1")
    _seeker(svc, "s1")
    run_matcher(svc)
    [matched] = svc.notifier.take("s1")
    send(svc, "v1", {"action": "availability", "available": False})
    svc.notifier.forget_all()
    send(svc, "v1", {"action": "transfer", "sessionId": matched["sessionId"]})
    queued, lines = svc.notifier.take("s1")
    assert (queued["type"], queued["reason"], queued["volunteersOnShift"]) == (
        "queued",
        "transfer",
        0,
    )
    assert "estimatedWaitSeconds" not in queued
    assert (lines["type"], lines["reason"]) == ("resources", "unavailable")
