"""Risk levels and the volunteer's own assessment (issue 8, "Levels" and "People first").

On the in-memory fakes, through kindred.chat.handle and the matcher, as each side sees it.
The crisis detector itself is another module's business (tests/unit/test_safety.py): here a
stand-in reads the level from a tag at the start of a seeker's text, so that these tests say
what a level sets off, whatever the detector's rules are.
"""

from __future__ import annotations

from typing import Any

import pytest

from kindred import crisis
from kindred.matching import run_matcher
from kindred.protocol import iso_time
from kindred.records import (
    PRIORITY_CONCERN,
    PRIORITY_HIGH,
    PRIORITY_IMMINENT,
    PRIORITY_NORMAL,
    PRIORITY_URGENT,
)
from kindred.safety import LEVELS
from tests.unit.harness import (
    FakeServices,
    bystander,
    connect,
    send,
    store_unchanged,
    volunteer,
    waiting,
)

CONCERN = "[concern] Some days I wish I just would not wake up."
HIGH = "[high] I have written a letter to say goodbye."
IMMINENT = "[imminent] I have the pills in my hand right now."
TEXT_OF = {"concern": CONCERN, "high": HIGH, "imminent": IMMINENT}
CALM = "Work has been a lot lately."


pytestmark = pytest.mark.usefixtures("tagged_detector")


# ---- helpers ---------------------------------------------------------------------------------


def _supervisor(svc: FakeServices, cid: str = "boss") -> str:
    """A supervisor on shift who takes no chats (connecting puts them on shift)."""
    return connect(svc, cid, "supervisor", user_id=f"user-{cid}", alias=f"Sup {cid}")


def _chat(svc: FakeServices, seeker: str = "s1", vol: str = "v1", intro: str | None = None) -> str:
    """A seeker and a volunteer in a chat; returns the session id (frames so far are taken)."""
    if svc.connections.get_connection(vol) is None:
        volunteer(svc, vol)
    waiting(svc, seeker, intro)
    run_matcher(svc)
    session: str = svc.notifier.take(seeker)[-1]["sessionId"]
    svc.notifier.forget_all()
    svc.clock.advance(60)
    return session


def _risk_alert(svc: FakeServices, session: str, level: str) -> dict[str, Any]:
    """The `alert` a rise to `level` in this chat gives now, as its readers see it."""
    stored = svc.chats.get_session(session)
    assert stored is not None
    return {
        "type": "alert",
        "kind": "risk",
        "sessionId": session,
        "at": iso_time(svc.clock()),
        "level": level,
        "volunteer": stored.volunteer_alias,
        "seeker": stored.seeker_alias,
        "startedAt": iso_time(stored.started_at_ms / 1000),
    }


def _level(svc: FakeServices, session: str) -> str | None:
    stored = svc.chats.get_session(session)
    assert stored is not None
    return stored.level


def _says(svc: FakeServices, cid: str, text: str) -> None:
    send(svc, cid, {"action": "message", "text": text})


def _kinds(frames: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(f["type"], f.get("level") or f.get("reason")) for f in frames]


# ---- the queue: priority by level --------------------------------------------------------------


def _alias(svc: FakeServices, cid: str) -> str:
    return svc.conn(cid).alias


def test_seekers_are_served_imminent_then_high_then_concern_then_transfer_then_normal(
    svc: FakeServices,
) -> None:
    """Given seekers who queued in the order normal, concern, high, imminent while the only
    volunteer was busy, and then that volunteer transferred their chat (no risk in it),
    When one volunteer takes them one at a time,
    Then they are served imminent, high, concern, the transferred seeker, then normal, and
    the volunteer's `matched` names each one's level."""
    moved_chat = _chat(svc, "moved", "v0")
    for cid, intro in (("normal", CALM), ("c", CONCERN), ("h", HIGH), ("i", IMMINENT)):
        waiting(svc, cid, intro)
    queued = svc.notifier.take("i")[0]
    assert (queued["type"], queued["position"]) == ("queued", 1)  # ahead of the three before
    send(svc, "v0", {"action": "transfer", "sessionId": moved_chat})
    send(svc, "v0", {"action": "availability", "available": False})
    svc.notifier.forget_all()

    assert [e.priority for e in svc.queue.waiting(10)] == [
        PRIORITY_IMMINENT,
        PRIORITY_HIGH,
        PRIORITY_CONCERN,
        PRIORITY_URGENT,
        PRIORITY_NORMAL,
    ]
    volunteer(svc, "v1")
    served = []
    for _ in range(5):
        run_matcher(svc)
        [matched] = svc.notifier.take("v1")
        served.append((matched["peer"]["alias"], matched.get("risk")))
        send(svc, "v1", {"action": "end", "sessionId": matched["sessionId"]})
        svc.notifier.take("v1")
        # After a chat at high or imminent the volunteer pauses (issue 12): wait it out.
        svc.clock.advance(svc.settings.risk_pause_minutes * 60)
    assert served == [
        (_alias(svc, "i"), "imminent"),
        (_alias(svc, "h"), "high"),
        (_alias(svc, "c"), "concern"),
        (_alias(svc, "moved"), None),
        (_alias(svc, "normal"), None),
    ]


def test_among_seekers_at_one_level_the_longest_waiting_goes_first(svc: FakeServices) -> None:
    """Given two seekers at the high level, the second queued a second later,
    When a volunteer frees up,
    Then the first is matched; the second hears they are now first."""
    bystander(svc)
    waiting(svc, "h1", HIGH)
    waiting(svc, "h2", HIGH)
    svc.notifier.forget_all()
    volunteer(svc, "v1")
    run_matcher(svc)
    assert svc.notifier.types("h1") == ["matched"]
    assert [(f["type"], f["position"]) for f in svc.notifier.take("h2")] == [("position", 1)]


@pytest.mark.parametrize("level", LEVELS)
def test_the_intros_level_is_named_to_the_volunteer_only(svc: FakeServices, level: str) -> None:
    """Given a seeker whose intro reads at a level,
    When they are matched,
    Then the volunteer's `matched.risk` is that level and the seeker's `matched` has none;
    the chat keeps that level."""
    volunteer(svc, "v1")
    waiting(svc, "s1", TEXT_OF[level])
    svc.notifier.take("s1")
    run_matcher(svc)
    [to_volunteer] = svc.notifier.take("v1")
    [to_seeker] = svc.notifier.take("s1")
    assert to_volunteer["risk"] == level
    assert "risk" not in to_seeker
    assert _level(svc, to_volunteer["sessionId"]) == level


def test_a_waiting_seeker_at_risk_alerts_supervisors_with_the_level_and_alias(
    svc: FakeServices,
) -> None:
    """Given a supervisor on shift,
    When a seeker asks for a chat with an intro at the imminent level,
    Then the seeker gets `queued` then crisis lines at once, and the supervisor gets a `risk`
    alert naming the level, the seeker's alias and the time (no chat yet: sessionId "")."""
    bystander(svc)
    _supervisor(svc)
    waiting(svc, "s1", IMMINENT)
    assert _kinds(svc.notifier.take("s1")) == [("queued", None), ("resources", "crisis")]
    assert svc.notifier.take("boss") == [
        {
            "type": "alert",
            "kind": "risk",
            "sessionId": "",
            "at": iso_time(svc.clock() - 1),
            "level": "imminent",
            "seeker": _alias(svc, "s1"),
        }
    ]


def test_a_calm_intro_alerts_nobody(svc: FakeServices) -> None:
    """Given a supervisor on shift, When a seeker's intro reads no risk, Then no alert, no
    crisis lines, normal priority."""
    bystander(svc)
    _supervisor(svc)
    waiting(svc, "s1", CALM)
    assert svc.notifier.types("s1") == ["queued"]
    assert svc.notifier.take("boss") == []
    assert svc.queue.waiting(1)[0].priority == PRIORITY_NORMAL


# ---- signals in a chat: one alert per rise -----------------------------------------------------


def test_each_rise_of_the_level_alerts_once_and_crisis_lines_come_once(
    svc: FakeServices,
) -> None:
    """Given a chat with no risk and a supervisor on shift,
    When the seeker writes at concern, concern, high, high, concern, imminent, imminent,
    Then every message reaches the volunteer; the volunteer and the supervisor each get one
    `risk` alert per rise (concern, high, imminent), each with the chat's new level; the seeker
    gets crisis lines once, at the first; the chat ends up at imminent."""
    _supervisor(svc)
    session = _chat(svc)
    to_volunteer: list[tuple[str, str | None]] = []
    to_supervisor: list[dict[str, Any]] = []
    for level in ("concern", "concern", "high", "high", "concern", "imminent", "imminent"):
        _says(svc, "s1", TEXT_OF[level])
        to_volunteer += _kinds(svc.notifier.take("v1"))
        to_supervisor += svc.notifier.take("boss")
        svc.clock.advance(5)

    assert to_volunteer == [
        ("message", None),
        ("alert", "concern"),
        ("message", None),
        ("message", None),
        ("alert", "high"),
        ("message", None),
        ("message", None),
        ("message", None),
        ("alert", "imminent"),
        ("message", None),
    ]
    assert [a["level"] for a in to_supervisor] == ["concern", "high", "imminent"]
    assert _kinds(svc.notifier.take("s1")) == [("resources", "crisis")]
    assert _level(svc, session) == "imminent"


def test_a_rise_alert_names_the_level_the_volunteer_the_seeker_and_the_chat(
    svc: FakeServices,
) -> None:
    """Given a chat and a supervisor on shift,
    When the seeker writes at the imminent level,
    Then the volunteer and the supervisor get the same alert: kind risk, the chat's id, the
    time, level imminent, the volunteer's name, the seeker's alias and when the chat began."""
    _supervisor(svc)
    session = _chat(svc)
    _says(svc, "s1", IMMINENT)
    expected = _risk_alert(svc, session, "imminent")
    assert expected["volunteer"] == "Vol v1" and expected["seeker"] == _alias(svc, "s1")
    assert expected["startedAt"] < expected["at"]
    assert svc.notifier.take("v1")[1] == expected
    assert svc.notifier.take("boss") == [expected]


def test_an_imminent_signal_reaches_every_supervisor_and_the_volunteer_once_each(
    svc: FakeServices,
) -> None:
    """Given two supervisors on shift, one of whom is the volunteer in the chat,
    When the seeker writes at the imminent level,
    Then each gets the alert exactly once: the volunteer-supervisor in the chat is alerted
    as the chat's volunteer, the other as a supervisor."""
    _supervisor(svc, "boss")
    volunteer(svc, "sup-vol", role="supervisor")
    _chat(svc, "s1", "sup-vol")
    _says(svc, "s1", IMMINENT)
    assert _kinds(svc.notifier.take("sup-vol")) == [("message", None), ("alert", "imminent")]
    assert _kinds(svc.notifier.take("boss")) == [("alert", "imminent")]


def test_a_chat_that_began_at_a_level_alerts_only_above_it(svc: FakeServices) -> None:
    """Given a chat that began at high (the intro; the volunteer saw it in `matched`, the
    supervisors when the seeker queued),
    When the seeker writes at high, then at imminent,
    Then the message at high alerts nobody again but brings the seeker crisis lines in the
    chat; the message at imminent alerts the volunteer and the supervisor."""
    _supervisor(svc)
    session = _chat(svc, intro=HIGH)
    _says(svc, "s1", HIGH)
    assert _kinds(svc.notifier.take("v1")) == [("message", None)]
    assert svc.notifier.take("boss") == []
    assert _kinds(svc.notifier.take("s1")) == [("resources", "crisis")]

    _says(svc, "s1", IMMINENT)
    assert _kinds(svc.notifier.take("v1")) == [("message", None), ("alert", "imminent")]
    assert svc.notifier.take("boss") == [_risk_alert(svc, session, "imminent")]
    assert svc.notifier.take("s1") == []


def test_a_repeated_signal_costs_one_store_call_beyond_the_relay(svc: FakeServices) -> None:
    """Given a chat already at high whose seeker had crisis lines,
    When the seeker writes at high again,
    Then the store is asked once about the level (one conditional write that changes
    nothing) and nothing else; the message is relayed as usual."""
    _supervisor(svc)
    _chat(svc)
    _says(svc, "s1", HIGH)
    svc.store.calls.clear()
    _says(svc, "s1", HIGH)
    assert svc.store.calls == ["count_action", "raise_level"]


def test_a_first_rise_costs_one_level_write_one_crisis_mark_and_one_shift_read(
    svc: FakeServices,
) -> None:
    """Given a chat with no risk,
    When the seeker writes at concern,
    Then the store calls are: the relay's one, one conditional write of the level, one mark
    that crisis lines went out, one read of the supervisors on shift, and the one conditional
    write that claims a push of the supervisors' board (issue 12)."""
    _chat(svc)
    svc.store.calls.clear()
    _says(svc, "s1", CONCERN)
    assert svc.store.calls == [
        "count_action",
        "raise_level",
        "mark_crisis_notified",
        "on_shift_supervisors",
        "claim_push",
    ]


def test_the_volunteers_words_never_change_the_level(svc: FakeServices) -> None:
    """Given a chat, When the volunteer writes words the detector would read as imminent,
    Then nobody is alerted and the chat has no level (only seekers' words are read)."""
    _supervisor(svc)
    session = _chat(svc)
    _says(svc, "v1", IMMINENT)
    assert svc.notifier.take("boss") == []
    assert _level(svc, session) is None


def test_a_signal_after_the_chat_ended_changes_nothing(svc: FakeServices) -> None:
    """Given a chat the volunteer ended, When its session's level is raised late (a message
    that crossed the end), Then nothing is written and nobody is alerted."""
    _supervisor(svc)
    session = _chat(svc)
    send(svc, "v1", {"action": "end", "sessionId": session})
    svc.notifier.forget_all()
    before = svc.store.snapshot()
    crisis.on_chat_signal(svc, session, "imminent")
    assert svc.store.snapshot() == before
    assert svc.notifier.take("boss") == []


# ---- assess: the volunteer's own judgement -----------------------------------------------------


def test_the_volunteer_raises_the_level_and_supervisors_and_the_seeker_hear_of_it(
    svc: FakeServices,
) -> None:
    """Given a chat with no risk and a supervisor on shift,
    When the volunteer assesses it as high,
    Then the volunteer gets `assessed` {sessionId, level high}; the supervisor gets a risk
    alert at high naming the volunteer, the seeker and the chat; the seeker gets crisis
    lines; the volunteer gets no alert of their own judgement; the chat is at high."""
    _supervisor(svc)
    session = _chat(svc)
    send(svc, "v1", {"action": "assess", "sessionId": session, "level": "high"})
    assert svc.notifier.take("v1") == [{"type": "assessed", "sessionId": session, "level": "high"}]
    assert svc.notifier.take("boss") == [_risk_alert(svc, session, "high")]
    assert _kinds(svc.notifier.take("s1")) == [("resources", "crisis")]
    assert _level(svc, session) == "high"


def test_assess_without_a_session_id_is_about_the_volunteers_only_chat(
    svc: FakeServices,
) -> None:
    """Given a volunteer with one chat, When they assess it as imminent without a sessionId,
    Then that chat is at imminent and `assessed` names it."""
    session = _chat(svc)
    send(svc, "v1", {"action": "assess", "level": "imminent"})
    assert svc.notifier.take("v1") == [
        {"type": "assessed", "sessionId": session, "level": "imminent"}
    ]
    assert _level(svc, session) == "imminent"


def test_the_volunteer_lowers_the_level_then_only_a_signal_above_it_is_a_rise(
    svc: FakeServices,
) -> None:
    """Given a chat the detector put at imminent (alerts and crisis lines went out),
    When the volunteer assesses it as concern,
    Then they get `assessed` concern and nobody else hears anything; and afterwards a
    message at concern alerts nobody, while a message at high (above concern) is a rise:
    the volunteer and the supervisor are alerted at high; the seeker gets no second crisis
    lines in this chat."""
    _supervisor(svc)
    session = _chat(svc)
    _says(svc, "s1", IMMINENT)
    svc.notifier.forget_all()

    send(svc, "v1", {"action": "assess", "sessionId": session, "level": "concern"})
    assert svc.notifier.take("v1") == [
        {"type": "assessed", "sessionId": session, "level": "concern"}
    ]
    assert svc.notifier.take("boss") == []
    assert svc.notifier.take("s1") == []
    assert _level(svc, session) == "concern"

    _says(svc, "s1", CONCERN)
    assert _kinds(svc.notifier.take("v1")) == [("message", None)]
    assert svc.notifier.take("boss") == []

    _says(svc, "s1", HIGH)
    assert _kinds(svc.notifier.take("v1")) == [("message", None), ("alert", "high")]
    assert svc.notifier.take("boss") == [_risk_alert(svc, session, "high")]
    assert svc.notifier.take("s1") == []


def test_none_clears_the_level_and_a_transfer_then_carries_no_risk(svc: FakeServices) -> None:
    """Given a chat that began at high,
    When the volunteer assesses it as none and then transfers it,
    Then `assessed` says none, the chat has no level, and the seeker waits at the transfer's
    priority (not high's), and the next volunteer's `matched` carries no risk."""
    session = _chat(svc, intro=HIGH)
    send(svc, "v1", {"action": "assess", "sessionId": session, "level": "none"})
    assert svc.notifier.take("v1") == [{"type": "assessed", "sessionId": session, "level": "none"}]
    assert _level(svc, session) is None

    send(svc, "v1", {"action": "transfer", "sessionId": session})
    send(svc, "v1", {"action": "availability", "available": False})
    assert svc.queue.waiting(1)[0].priority == PRIORITY_URGENT
    volunteer(svc, "v2")
    run_matcher(svc)
    [matched] = svc.notifier.take("v2")
    assert matched["type"] == "matched" and "risk" not in matched


def test_assessing_the_level_the_chat_already_has_alerts_nobody(svc: FakeServices) -> None:
    """Given a chat at high, When the volunteer assesses it as high, Then `assessed` high and
    no alert, no crisis lines (nothing rose)."""
    _supervisor(svc)
    session = _chat(svc, intro=HIGH)
    svc.notifier.forget_all()
    send(svc, "v1", {"action": "assess", "sessionId": session, "level": "high"})
    assert _kinds(svc.notifier.take("v1")) == [("assessed", "high")]
    assert svc.notifier.take("boss") == []
    assert svc.notifier.take("s1") == []


def test_the_volunteer_raises_step_by_step_and_each_rise_alerts(svc: FakeServices) -> None:
    """Given a chat with no risk, When the volunteer assesses concern, then imminent,
    Then the supervisor gets two alerts, at concern then imminent; the seeker gets crisis
    lines once."""
    _supervisor(svc)
    session = _chat(svc)
    send(svc, "v1", {"action": "assess", "sessionId": session, "level": "concern"})
    send(svc, "v1", {"action": "assess", "sessionId": session, "level": "imminent"})
    assert [a["level"] for a in svc.notifier.take("boss")] == ["concern", "imminent"]
    assert _kinds(svc.notifier.take("s1")) == [("resources", "crisis")]


def test_a_supervisor_in_a_chat_of_their_own_can_assess_it(svc: FakeServices) -> None:
    """Given a supervisor taking chats like a volunteer, and another supervisor on shift,
    When the first assesses their chat as imminent,
    Then they get `assessed`, and the other supervisor gets the alert."""
    _supervisor(svc, "boss")
    volunteer(svc, "sup-vol", role="supervisor")
    session = _chat(svc, "s1", "sup-vol")
    send(svc, "sup-vol", {"action": "assess", "sessionId": session, "level": "imminent"})
    assert _kinds(svc.notifier.take("sup-vol")) == [("assessed", "imminent")]
    assert svc.notifier.take("boss") == [_risk_alert(svc, session, "imminent")]


def test_a_transfer_keeps_the_chats_level_and_its_place_in_the_queue(svc: FakeServices) -> None:
    """Given a seeker already waiting at high, and a chat the volunteer assessed as imminent,
    When the volunteer transfers that chat,
    Then the transferred seeker waits ahead of the high one, at imminent priority, and the
    next volunteer's `matched` says imminent."""
    session = _chat(svc)
    waiting(svc, "waiting", HIGH)
    send(svc, "v1", {"action": "assess", "sessionId": session, "level": "imminent"})
    send(svc, "v1", {"action": "transfer", "sessionId": session})
    send(svc, "v1", {"action": "availability", "available": False})
    assert [(e.connection_id, e.priority) for e in svc.queue.waiting(10)] == [
        ("s1", PRIORITY_IMMINENT),
        ("waiting", PRIORITY_HIGH),
    ]
    volunteer(svc, "v2")
    run_matcher(svc)
    [matched] = svc.notifier.take("v2")
    assert matched["peer"]["alias"] == _alias(svc, "s1") and matched["risk"] == "imminent"


def test_a_seeker_at_risk_whose_volunteer_vanished_keeps_their_levels_place(
    svc: FakeServices,
) -> None:
    """Given a seeker at imminent and one at high waiting, and a volunteer whose socket is gone,
    When the matcher gives the imminent seeker to that volunteer (and must undo it),
    Then the imminent seeker is back at the front, at imminent priority."""
    waiting(svc, "i", IMMINENT)
    waiting(svc, "h", HIGH)
    volunteer(svc, "gone")
    svc.notifier.gone.add("gone")
    run_matcher(svc)
    assert [(e.connection_id, e.priority) for e in svc.queue.waiting(10)] == [
        ("i", PRIORITY_IMMINENT),
        ("h", PRIORITY_HIGH),
    ]


# ---- assess: what is refused, and changes nothing ----------------------------------------------


def _two_chats(svc: FakeServices) -> tuple[str, str]:
    volunteer(svc, "v1", capacity=2)
    first = _chat(svc, "s1", "v1")
    second = _chat(svc, "s2", "v1")
    return first, second


def test_a_seeker_cannot_assess(svc: FakeServices) -> None:
    """Given a chat, When the seeker sends `assess`, Then `not_allowed`, and nothing changes:
    no level, nobody else hears anything."""
    _supervisor(svc)
    session = _chat(svc)
    with store_unchanged(svc):
        send(svc, "s1", {"action": "assess", "sessionId": session, "level": "imminent"})
    [error] = svc.notifier.take("s1")
    assert (error["type"], error["code"], error["action"]) == ("error", "not_allowed", "assess")
    assert svc.notifier.take("v1") == [] and svc.notifier.take("boss") == []


@pytest.mark.parametrize(
    ("who", "frame", "code"),
    [
        ("v1", {"level": "high"}, "session_required"),  # two chats, no sessionId
        ("v1", {"sessionId": "no-such-chat", "level": "high"}, "not_in_chat"),
        ("v2", {"sessionId": "FIRST", "level": "high"}, "not_in_chat"),  # not v2's chat
        ("boss", {"sessionId": "FIRST", "level": "imminent"}, "not_in_chat"),  # not in it
        ("free", {"level": "concern"}, "not_in_chat"),  # a volunteer with no chat
        ("v1", {"sessionId": "FIRST", "level": "severe"}, "invalid_request"),
        ("v1", {"sessionId": "FIRST"}, "invalid_request"),
        ("v1", {"sessionId": "", "level": "high"}, "invalid_request"),
    ],
)
def test_a_bad_assess_gets_an_error_and_changes_nothing(
    svc: FakeServices, who: str, frame: dict[str, Any], code: str
) -> None:
    """Given a volunteer with two chats, another volunteer with a chat, a supervisor on shift
    and a free volunteer,
    When an `assess` names no chat among several, a chat that does not exist, another's chat,
    or carries a bad level,
    Then the sender gets `error` with that code and action assess; no stored item changes
    (the sender's rate log aside), nobody else hears anything."""
    _supervisor(svc)
    first, _ = _two_chats(svc)
    _chat(svc, "s3", "v2")
    volunteer(svc, "free")
    svc.notifier.forget_all()
    body = {"action": "assess", **{k: first if v == "FIRST" else v for k, v in frame.items()}}
    with store_unchanged(svc):
        send(svc, who, body)
    [error] = svc.notifier.take(who)
    assert (error["type"], error["code"], error["action"]) == ("error", code, "assess")
    for other in ("v1", "v2", "s1", "s2", "s3", "boss", "free"):
        if other != who:
            assert svc.notifier.take(other) == [], other


def test_assessing_an_ended_chat_is_refused(svc: FakeServices) -> None:
    """Given a volunteer whose chat the seeker just ended, When the volunteer assesses it,
    Then `not_in_chat` and the ended chat's record is unchanged."""
    _supervisor(svc)
    session = _chat(svc)
    send(svc, "s1", {"action": "end"})
    svc.notifier.forget_all()
    with store_unchanged(svc):
        send(svc, "v1", {"action": "assess", "sessionId": session, "level": "imminent"})
    assert _kinds(svc.notifier.take("v1")) == [("error", None)]
    assert svc.notifier.take("boss") == []


def test_a_volunteer_with_two_chats_assesses_the_one_named(svc: FakeServices) -> None:
    """Given a volunteer with two chats, When they assess the second as concern,
    Then only the second chat has a level."""
    first, second = _two_chats(svc)
    send(svc, "v1", {"action": "assess", "sessionId": second, "level": "concern"})
    assert (_level(svc, first), _level(svc, second)) == (None, "concern")


def test_the_logs_name_the_level_never_the_words(
    svc: FakeServices, caplog: pytest.LogCaptureFixture
) -> None:
    """Given a chat, When the seeker writes at imminent and the volunteer assesses it as high,
    Then the log lines name the levels but never the words; the store keeps only the level."""
    session = _chat(svc)
    caplog.clear()
    _says(svc, "s1", IMMINENT)
    send(svc, "v1", {"action": "assess", "sessionId": session, "level": "high"})
    levels = [getattr(r, "risk_level", None) for r in caplog.records]
    assert "imminent" in levels and "high" in levels
    assert all("pills" not in str(r.__dict__) for r in caplog.records)
    assert svc.store.mentioning("pills") == []
