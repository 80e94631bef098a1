"""Care for volunteers (issue 12, kindred.care): the pause after a risk chat, the shift cap,
the check-ins.

On the in-memory fakes, through kindred.chat.handle, the matcher and the sweeper. The crisis
detector is another module's business: a stand-in reads the level from a tag at the start of a
seeker's text (as tests/unit/test_levels.py does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from kindred.connections import disconnect
from kindred.matching import run_matcher, start_chat
from kindred.protocol import iso_time
from kindred.requests import DisconnectRequest
from kindred.sweeper import sweep
from tests.unit.harness import (
    FakeServices,
    connect,
    deliver_graces,
    make_services,
    send,
    store_unchanged,
    volunteer,
    waiting,
)

HIGH = "[high] I have written a letter to say goodbye."
IMMINENT = "[imminent] I have the pills in my hand right now."
CONCERN = "[concern] Some days I wish I just would not wake up."
PAUSE = 5 * 60  # RiskPauseMinutes' default, in seconds
CAP = 4 * 3600  # ShiftCapHours' default, in seconds


pytestmark = pytest.mark.usefixtures("tagged_detector")


@pytest.fixture
def long_svc() -> FakeServices:
    """Services whose connection items outlive a shift (the default TTL, 3 hours, is past API
    Gateway's 2-hour maximum; a real shift spans several connections, as some tests show)."""
    return make_services(connection_ttl_seconds=86400)


# ---- helpers ---------------------------------------------------------------------------------


def _chat(svc: FakeServices, seeker: str = "s1", vol: str = "v1", intro: str | None = HIGH) -> str:
    """A seeker (at the intro's level) in a chat with `vol`; returns the session id, every
    frame so far taken."""
    if svc.connections.get_connection(vol) is None:
        volunteer(svc, vol)
    waiting(svc, seeker, intro)
    assert run_matcher(svc) == 1
    session: str = svc.conn(seeker).session_id or ""
    assert session
    svc.notifier.forget_all()
    svc.work.reasons.clear()
    return session


def _status(svc: FakeServices, cid: str) -> dict[str, Any]:
    """The one `status` this connection got since the last take (and takes its frames)."""
    [status] = [f for f in svc.notifier.take(cid) if f["type"] == "status"]
    return status


def _paused_status(svc: FakeServices, since: float, until: float, **more: Any) -> dict[str, Any]:
    """The `status` of an available volunteer (capacity 1, no chat) paused after a risk chat."""
    return {
        "type": "status",
        "available": True,
        "capacity": 1,
        "activeChats": 0,
        "onShiftSince": iso_time(since),
        "pausedUntil": iso_time(until),
        "paused": "risk",
        "shiftCapAt": iso_time(since + CAP),
        **more,
    }


def _matched_with(svc: FakeServices, seeker: str) -> str | None:
    """The volunteer connection a seeker is in a chat with, if any."""
    return svc.conn(seeker).peer_id


# ---- the pause after a risk chat -------------------------------------------------------------


def test_a_chat_at_high_ends_and_its_volunteer_pauses_and_is_asked_to_check_in(
    svc: FakeServices,
) -> None:
    """Given a volunteer in a chat at `high` and another seeker waiting,
    When the seeker ends the chat,
    Then the volunteer hears `ended`, then `status` with their pause (RiskPauseMinutes from
    now) and `checkin` `after_risk`; the waiting seeker is not matched with them during the
    pause, and is as soon as it is over (a work item wakes the matcher then)."""
    since = svc.clock()
    session = _chat(svc)
    waiting(svc, "s2")
    send(svc, "s1", {"action": "end"})
    ended_at = svc.clock()

    frames = svc.notifier.take("v1")
    assert frames[0] == {"type": "ended", "sessionId": session, "reason": "ended_by_peer"}
    assert frames[1:] == [
        _paused_status(svc, since, ended_at + PAUSE, checkin="after_risk"),
    ]
    assert ("pause_over", PAUSE) in svc.work.delayed
    assert run_matcher(svc) == 0
    svc.clock.advance(PAUSE - 1)
    assert run_matcher(svc) == 0 and _matched_with(svc, "s2") is None
    assert "pause_over" not in svc.work.reasons
    svc.clock.advance(1)
    assert "pause_over" in svc.work.reasons  # visible now: the matcher runs
    assert run_matcher(svc) == 1 and _matched_with(svc, "s2") == "v1"


def _end_by_seeker(svc: FakeServices, session: str) -> None:
    send(svc, "s1", {"action": "end"})


def _end_by_volunteer(svc: FakeServices, session: str) -> None:
    send(svc, "v1", {"action": "end", "sessionId": session})


def _block(svc: FakeServices, session: str) -> None:
    send(svc, "v1", {"action": "block", "sessionId": session})


def _transfer(svc: FakeServices, session: str) -> None:
    send(svc, "v1", {"action": "transfer", "sessionId": session})


def _seeker_gone(svc: FakeServices, session: str) -> None:
    """The seeker's socket is gone without a `$disconnect` (a 410 to the volunteer's message)."""
    svc.notifier.gone.add("s1")
    send(svc, "v1", {"action": "message", "sessionId": session, "text": "Are you there?"})


def _grace_over(svc: FakeServices, session: str) -> None:
    """The seeker's connection dropped and their grace period ran out."""
    svc.notifier.gone.add("s1")
    disconnect(svc, DisconnectRequest("s1", 1006, "gone"))
    svc.clock.advance(svc.settings.resume_grace_seconds)
    assert deliver_graces(svc) == ["ended"]


def _swept(svc: FakeServices, session: str) -> None:
    """The seeker's item is gone (a lost `$disconnect` the sweeper repairs)."""
    svc.notifier.gone.add("s1")
    svc.store.delete_connection("s1")
    sweep(svc)


ENDINGS: dict[str, Callable[[FakeServices, str], None]] = {
    "end by the seeker": _end_by_seeker,
    "end by the volunteer": _end_by_volunteer,
    "block": _block,
    "transfer": _transfer,
    "peer gone": _seeker_gone,
    "grace over": _grace_over,
    "swept": _swept,
}


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
@pytest.mark.parametrize("level", ["high", "imminent"])
def test_every_way_a_risk_chat_ends_pauses_its_volunteer(
    svc: FakeServices, ending: Callable[[FakeServices, str], None], level: str
) -> None:
    """Given a chat at `high` or `imminent`,
    When it ends in any way (either side's `end`, a block, a transfer, the seeker's socket
    gone, their grace over, the sweeper),
    Then the volunteer's slot is paused for RiskPauseMinutes from the end, they hear it with
    the check-in, and a seeker who waits is not matched with them until it is over."""
    session = _chat(svc, intro=HIGH if level == "high" else IMMINENT)
    start = svc.clock()
    ending(svc, session)
    assert svc.slot("v1").paused_until is not None
    assert start + PAUSE <= svc.slot("v1").paused_until <= svc.clock() + PAUSE
    assert _status(svc, "v1")["checkin"] == "after_risk"
    waiting(svc, "s9")
    assert run_matcher(svc) == 0
    svc.clock.advance(PAUSE)
    assert run_matcher(svc) == 1 and _matched_with(svc, "s9") == "v1"


@pytest.mark.parametrize(
    ("intro", "assessed"),
    [(None, None), (CONCERN, None), (HIGH, "concern"), (HIGH, "none")],
    ids=["no risk", "concern", "assessed down to concern", "assessed down to none"],
)
def test_no_pause_after_a_chat_below_high(
    svc: FakeServices, intro: str | None, assessed: str | None
) -> None:
    """Given a chat with no risk, at `concern`, or one the volunteer judged lower than `high`
    before it ended (their `assess`: the level the chat has when it ends decides),
    When it ends, then no pause: the next seeker is matched with them at once."""
    session = _chat(svc, intro=intro)
    if assessed:
        send(svc, "v1", {"action": "assess", "sessionId": session, "level": assessed})
    send(svc, "s1", {"action": "end"})
    assert svc.slot("v1").paused_until is None
    assert all(f["type"] != "status" for f in svc.notifier.take("v1"))
    waiting(svc, "s2")
    assert run_matcher(svc) == 1


def test_a_chat_the_volunteer_assessed_up_to_high_pauses_them(svc: FakeServices) -> None:
    """Given a chat with no risk noted, when the volunteer assesses it `high` and it ends, then
    they pause (the volunteer's judgement counts like the detector's)."""
    session = _chat(svc, intro=None)
    send(svc, "v1", {"action": "assess", "sessionId": session, "level": "high"})
    send(svc, "v1", {"action": "end", "sessionId": session})
    assert svc.slot("v1").paused_until == int(svc.clock()) + PAUSE


def test_no_pause_when_risk_pause_minutes_is_zero() -> None:
    """Given RiskPauseMinutes 0, when a chat at `imminent` ends, then no pause, no check-in."""
    svc = make_services(risk_pause_minutes=0)
    _chat(svc, intro=IMMINENT)
    send(svc, "s1", {"action": "end"})
    assert svc.slot("v1").paused_until is None
    assert [f["type"] for f in svc.notifier.take("v1")] == ["ended"]
    waiting(svc, "s2")
    assert run_matcher(svc) == 1


def test_the_volunteers_other_chats_go_on_during_the_pause(svc: FakeServices) -> None:
    """Given a volunteer with two chats, one at `high`, when that one ends, then the other
    goes on (messages both ways) and the volunteer gets no third chat during the pause,
    although they have a free place."""
    volunteer(svc, "v1", capacity=3)
    risky = _chat(svc, "s1", "v1", intro=HIGH)
    calm = _chat(svc, "s2", "v1", intro=None)
    send(svc, "s1", {"action": "end"})
    waiting(svc, "s3")
    assert run_matcher(svc) == 0
    send(svc, "v1", {"action": "message", "sessionId": calm, "text": "I'm still here."})
    send(svc, "s2", {"action": "message", "text": "Thank you."})
    assert [f["type"] for f in svc.notifier.take("s2")] == ["message"]
    assert "message" in [f["type"] for f in svc.notifier.take("v1")]
    assert svc.chats.get_session(calm) is not None and svc.chats.get_session(risky) is not None
    assert svc.slot("v1").active == 1


def test_a_later_pause_is_never_shortened(svc: FakeServices) -> None:
    """Given a volunteer (capacity 2) paused after one risk chat, when their second risk chat
    ends a minute later, then the pause runs from the second end."""
    volunteer(svc, "v1", capacity=2)
    _chat(svc, "s1", "v1", intro=HIGH)
    _chat(svc, "s2", "v1", intro=HIGH)
    send(svc, "s1", {"action": "end"})
    svc.clock.advance(60)
    send(svc, "s2", {"action": "end"})
    assert svc.slot("v1").paused_until == int(svc.clock()) + PAUSE
    svc.clock.advance(-120)  # an older pause (a late writer) does not shorten it
    assert svc.store.pause("user-v1", int(svc.clock()) + PAUSE) == [svc.slot("v1")]
    assert svc.slot("v1").paused_until == int(svc.clock()) + 120 + PAUSE


def test_the_pause_survives_a_reconnection(svc: FakeServices) -> None:
    """Given a volunteer paused after a risk chat, when they reload the console (a new
    connection of the same account) and say they are available, then the new connection is
    paused until the same time, and told so; no seeker is matched with them until then."""
    _chat(svc, intro=HIGH)
    send(svc, "s1", {"action": "end"})
    until = svc.slot("v1").paused_until
    assert until is not None
    svc.notifier.gone.add("v1")
    disconnect(svc, DisconnectRequest("v1", 1001, "reload"))
    svc.clock.advance(10)
    connect(svc, "v2", "volunteer", user_id="user-v1", alias="Vol v1")
    send(svc, "v2", {"action": "availability", "available": True})
    status = _status(svc, "v2")
    assert (status["pausedUntil"], status["paused"]) == (iso_time(until), "risk")
    waiting(svc, "s2")
    assert run_matcher(svc) == 0
    svc.clock.advance(until - svc.clock())
    assert run_matcher(svc) == 1 and _matched_with(svc, "s2") == "v2"


def test_a_volunteer_whose_connection_closes_mid_risk_chat_is_paused_on_return(
    svc: FakeServices,
) -> None:
    """Given a volunteer in a chat at `imminent`, when their connection closes (the chat ends
    for the seeker) and they come back at once, then they are paused."""
    _chat(svc, intro=IMMINENT)
    svc.notifier.gone.add("v1")
    disconnect(svc, DisconnectRequest("v1", 1006, "gone"))
    connect(svc, "v2", "volunteer", user_id="user-v1", alias="Vol v1")
    send(svc, "v2", {"action": "availability", "available": True})
    assert _status(svc, "v2")["paused"] == "risk"


def test_every_connection_of_the_account_is_paused(svc: FakeServices) -> None:
    """Given one account on shift in two tabs, when a risk chat of one ends, then both tabs are
    paused and told (only the chat's own is asked to check in): neither gets a new chat."""
    _chat(svc, "s1", "v1", intro=HIGH)
    connect(svc, "tab2", "volunteer", user_id="user-v1", alias="Vol v1")
    send(svc, "tab2", {"action": "availability", "available": True})
    svc.notifier.take("tab2")
    send(svc, "s1", {"action": "end"})
    assert _status(svc, "v1")["checkin"] == "after_risk"
    assert "checkin" not in (tab2 := _status(svc, "tab2")) and tab2["paused"] == "risk"
    waiting(svc, "s2")
    assert run_matcher(svc) == 0


def test_the_match_refuses_a_volunteer_paused_after_the_matcher_read_them(
    svc: FakeServices,
) -> None:
    """Given a matcher that read a volunteer's slot before their risk chat ended (a race),
    When it commits the match with what it read,
    Then the match's conditional write refuses it: nothing is written, nobody is told."""
    volunteer(svc, "v1", capacity=2)
    _chat(svc, "s1", "v1", intro=HIGH)
    waiting(svc, "s2")
    [entry] = svc.queue.waiting(10)
    read = svc.slot("v1")  # what the matcher read: free, not paused
    send(svc, "s1", {"action": "end"})  # meanwhile: the pause
    svc.notifier.forget_all()
    assert read.paused_until is None and svc.slot("v1").paused_until is not None
    assert start_chat(svc, entry, read) is False
    assert svc.conn("s2").state == "waiting" and svc.slot("v1").active == 0
    assert svc.notifier.take("s2") == [] and svc.notifier.take("v1") == []


# ---- check-ins -------------------------------------------------------------------------------


def test_ok_is_thanked_and_tells_nobody(svc: FakeServices) -> None:
    """Given a volunteer and a supervisor on shift, when the volunteer checks in `ok`, then
    they get `checked_in` and nobody else hears anything; nothing is stored."""
    connect(svc, "boss", "supervisor", user_id="u-boss", alias="Boss")
    volunteer(svc, "v1")
    with store_unchanged(svc):
        send(svc, "v1", {"action": "checkin", "state": "ok"})
    assert svc.notifier.take("v1") == [{"type": "checked_in", "state": "ok"}]
    assert svc.notifier.take("boss") == []


def test_debrief_alerts_the_supervisors_on_shift_with_the_volunteers_name(
    svc: FakeServices,
) -> None:
    """Given two supervisors on shift (one also taking chats) and a volunteer, when the
    volunteer asks for a debrief, then each supervisor gets `alert` kind `debrief` naming the
    volunteer (no chat, nothing written), the volunteer hears how many were told; a supervisor
    who asks is not alerted by their own debrief; nothing is stored."""
    connect(svc, "boss", "supervisor", user_id="u-boss", alias="Boss")
    volunteer(svc, "boss2", "supervisor")
    volunteer(svc, "v1")
    with store_unchanged(svc):
        send(svc, "v1", {"action": "checkin", "state": "debrief"})
    alert = {"type": "alert", "kind": "debrief", "sessionId": "", "at": iso_time(svc.clock())}
    alert["volunteer"] = "Vol v1"
    assert svc.notifier.take("boss") == [alert]
    assert svc.notifier.take("boss2") == [alert]
    assert svc.notifier.take("v1") == [
        {"type": "checked_in", "state": "debrief", "supervisorsTold": 2}
    ]
    send(svc, "boss2", {"action": "checkin", "state": "debrief"})
    assert svc.notifier.take("boss2") == [
        {"type": "checked_in", "state": "debrief", "supervisorsTold": 1}
    ]


def test_debrief_with_nobody_on_shift_says_so(svc: FakeServices) -> None:
    """Given no supervisor on shift, when a volunteer asks for a debrief, then the answer says
    that none was told (the console then says whom else to ask)."""
    volunteer(svc, "v1")
    send(svc, "v1", {"action": "checkin", "state": "debrief"})
    assert svc.notifier.take("v1") == [
        {"type": "checked_in", "state": "debrief", "supervisorsTold": 0}
    ]


def test_a_check_in_does_not_shorten_the_pause(svc: FakeServices) -> None:
    """Given a volunteer paused after a risk chat, when they check in `ok`, then the pause
    runs on: no new chat until it is over."""
    _chat(svc, intro=HIGH)
    send(svc, "s1", {"action": "end"})
    send(svc, "v1", {"action": "checkin", "state": "ok"})
    waiting(svc, "s2")
    assert run_matcher(svc) == 0
    assert svc.slot("v1").paused_until == int(svc.clock()) - 1 + PAUSE


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"action": "checkin", "state": "fine"}, "invalid_request"),
        ({"action": "checkin"}, "invalid_request"),
        ({"action": "checkin", "state": "debrief"}, "not_allowed"),
    ],
    ids=["unknown state", "no state", "from a seeker"],
)
def test_a_bad_check_in_is_refused_and_changes_nothing(
    svc: FakeServices, frame: dict[str, Any], code: str
) -> None:
    """Given a supervisor on shift, when a seeker checks in, or a check-in names no state or
    one that is not `ok` or `debrief`, then `error` with its code, nothing stored, nobody
    alerted."""
    connect(svc, "boss", "supervisor", user_id="u-boss", alias="Boss")
    sender = connect(svc, "s1") if code == "not_allowed" else volunteer(svc, "v1")
    with store_unchanged(svc):
        send(svc, sender, frame)
    [error] = svc.notifier.take(sender)
    assert (error["type"], error["code"], error["action"]) == ("error", code, "checkin")
    assert svc.notifier.take("boss") == []


# ---- the shift, its cap and the end-of-shift check-in ---------------------------------------


def test_going_off_shift_asks_for_the_check_in_once(svc: FakeServices) -> None:
    """Given a volunteer on shift, when they stop taking chats, then `status` asks for the
    end-of-shift check-in; saying so again (already off) does not ask again."""
    volunteer(svc, "v1")
    send(svc, "v1", {"action": "availability", "available": False})
    assert _status(svc, "v1") == {
        "type": "status",
        "available": False,
        "capacity": 1,
        "activeChats": 0,
        "checkin": "end_of_shift",
    }
    send(svc, "v1", {"action": "availability", "available": False})
    assert "checkin" not in _status(svc, "v1")


def test_the_sweeper_reminds_before_the_cap_and_tells_at_it_once_each(
    svc: FakeServices,
) -> None:
    """Given a volunteer on shift (ShiftCapHours 4) whose console reconnected after 2 hours
    (API Gateway's longest connection),
    When the sweeper runs before, at 3 h 45 min and on, and at 4 h and on,
    Then they hear nothing before, one `status` with `reminder` at 3 h 45, and one with
    `paused` `shift_cap` at 4 h; nothing more on later runs."""
    since = svc.clock()
    volunteer(svc, "v0")
    svc.clock.advance(2 * 3600 - 60)
    sweep(svc)
    svc.notifier.gone.add("v0")
    disconnect(svc, DisconnectRequest("v0", 1001, "two hours"))
    connect(svc, "v1", "volunteer", user_id="user-v0", alias="Vol v0")
    send(svc, "v1", {"action": "availability", "available": True})
    svc.notifier.take("v1")
    expected = {
        "type": "status",
        "available": True,
        "capacity": 1,
        "activeChats": 0,
        "onShiftSince": iso_time(since),
        "shiftCapAt": iso_time(since + CAP),
    }
    svc.clock.advance(CAP - 15 * 60 - 1 - (svc.clock() - since))
    sweep(svc)
    assert svc.notifier.take("v1") == []
    svc.clock.advance(1)
    sweep(svc)
    sweep(svc)
    assert svc.notifier.take("v1") == [expected | {"reminder": "shift_cap"}]
    svc.clock.advance(15 * 60)
    sweep(svc)
    sweep(svc)
    assert svc.notifier.take("v1") == [expected | {"paused": "shift_cap"}]


def test_past_the_cap_no_new_chat_and_open_ones_go_on(long_svc: FakeServices) -> None:
    """Given a volunteer (capacity 2) in a chat when their shift reaches the cap, then no new
    seeker is matched with them (not even after saying they are available again) while the
    chat goes on."""
    svc = long_svc
    volunteer(svc, "v1", capacity=2)
    session = _chat(svc, "s1", "v1", intro=None)
    svc.clock.advance(CAP)
    waiting(svc, "s2")
    assert run_matcher(svc) == 0
    send(svc, "v1", {"action": "availability", "available": True, "capacity": 2})
    assert _status(svc, "v1")["paused"] == "shift_cap"
    assert run_matcher(svc) == 0
    send(svc, "v1", {"action": "message", "sessionId": session, "text": "Still here."})
    assert [f["type"] for f in svc.notifier.take("s1")] == ["message"]


def test_the_match_refuses_a_volunteer_past_the_cap_whatever_the_matcher_read(
    long_svc: FakeServices,
) -> None:
    """Given a volunteer whose shift has reached the cap, when a match is committed with their
    slot as an older read had it (no shift start known), then the conditional write refuses
    it: the cap is a condition on the stored slot."""
    svc = long_svc
    volunteer(svc, "v1")
    waiting(svc, "s1")
    [entry] = svc.queue.waiting(10)
    read = replace(svc.slot("v1"), on_shift_since_ms=0)
    svc.clock.advance(CAP)
    assert start_chat(svc, entry, read) is False
    assert svc.conn("s1").state == "waiting"


@pytest.mark.parametrize(
    ("break_minutes", "new_shift"), [(29, False), (30, True)], ids=["29 min", "30 min"]
)
def test_only_a_break_of_30_minutes_starts_a_new_shift(
    long_svc: FakeServices, break_minutes: int, new_shift: bool
) -> None:
    """Given a volunteer whose shift reached the cap, when they go off shift and come back
    after 29 minutes, then it is the same shift (still capped, no chat); after 30, a new
    shift begins (onShiftSince now) and a waiting seeker is matched with them."""
    svc = long_svc
    since = svc.clock()
    volunteer(svc, "v1")
    svc.clock.advance(CAP)
    send(svc, "v1", {"action": "availability", "available": False})
    assert _status(svc, "v1")["checkin"] == "end_of_shift"
    svc.clock.advance(break_minutes * 60)
    waiting(svc, "s1")
    send(svc, "v1", {"action": "availability", "available": True})
    status = _status(svc, "v1")
    back = svc.clock()
    assert status["onShiftSince"] == iso_time(back if new_shift else since)
    assert status.get("paused") == (None if new_shift else "shift_cap")
    assert run_matcher(svc) == (1 if new_shift else 0)


def test_a_reconnection_does_not_start_a_new_shift(svc: FakeServices) -> None:
    """Given a volunteer almost 2 hours into a shift, when their connection closes and they
    sign in again 10 minutes later, then the shift goes on from where it began (its cap with
    it)."""
    since = svc.clock()
    volunteer(svc, "v1")
    svc.clock.advance(110 * 60)
    svc.notifier.gone.add("v1")
    disconnect(svc, DisconnectRequest("v1", 1001, "closed"))
    svc.clock.advance(600)
    connect(svc, "v2", "volunteer", user_id="user-v1", alias="Vol v1")
    send(svc, "v2", {"action": "availability", "available": True})
    assert _status(svc, "v2")["onShiftSince"] == iso_time(since)


def test_another_tab_going_off_is_not_a_break(long_svc: FakeServices) -> None:
    """Given one account on shift in two tabs, when one tab goes off shift for an hour, then
    the account is still on shift: the tab coming back continues the shift."""
    svc = long_svc
    since = svc.clock()
    volunteer(svc, "v1")
    connect(svc, "tab2", "volunteer", user_id="user-v1", alias="Vol v1")
    send(svc, "tab2", {"action": "availability", "available": True})
    send(svc, "tab2", {"action": "availability", "available": False})
    svc.notifier.take("tab2")
    svc.clock.advance(3600)
    send(svc, "tab2", {"action": "availability", "available": True})
    assert _status(svc, "tab2")["onShiftSince"] == iso_time(since)


def test_no_cap_when_shift_cap_hours_is_zero() -> None:
    """Given ShiftCapHours 0, when a volunteer has been on shift 10 hours, then `status` names
    no cap, the sweeper tells nothing, and a seeker is matched with them."""
    svc = make_services(shift_cap_hours=0, connection_ttl_seconds=86400)
    volunteer(svc, "v1")
    svc.clock.advance(10 * 3600)
    svc.store.extend_token("v1", "user-v1", int(svc.clock()) + 3600)
    svc.notifier.gone.add("v1")  # (the sweeper would close it: past 2 hours)
    sweep(svc)
    assert svc.notifier.undelivered == []
    connect(svc, "v2", "volunteer", user_id="user-v1", alias="Vol v1")
    send(svc, "v2", {"action": "availability", "available": True})
    assert "shiftCapAt" not in _status(svc, "v2")
    waiting(svc, "s1")
    assert run_matcher(svc) == 1
