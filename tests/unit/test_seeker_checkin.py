"""The seeker's check-in before and after a chat (issue 12, "Before and after").

On the in-memory fakes, through kindred.chat.handle and the matcher. A `yes` to "Are you
thinking about suicide right now?" is a `high` signal exactly as one read in the intro; the
answers are kept only as the month's totals, which name nobody. A stand-in detector reads the
intro's level from a leading tag (as tests/unit/test_levels.py does).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest

from kindred.impact import CheckinTally, month_of
from kindred.matching import run_matcher
from kindred.protocol import SeekerCheckin
from kindred.records import PRIORITY_HIGH, PRIORITY_IMMINENT, PRIORITY_NORMAL
from kindred.seeker_checkin import after_tally, before_tally
from tests.unit.harness import FakeServices, bystander, connect, send, store_unchanged, volunteer

HIGH = "[high] I have written a letter to say goodbye."
IMMINENT = "[imminent] I have the pills in my hand right now."
CALM = "Work has been a lot lately."


pytestmark = pytest.mark.usefixtures("tagged_detector")


def _month(svc: FakeServices) -> CheckinTally:
    return svc.impact.checkin_totals(month_of(svc.clock()))


def _ask(svc: FakeServices, cid: str, **match: Any) -> list[dict[str, Any]]:
    """A new seeker's `match`; the frames they got."""
    connect(svc, cid)
    send(svc, cid, {"action": "match", **match})
    return svc.notifier.take(cid)


def _kinds(frames: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(f["type"], f.get("level") or f.get("reason")) for f in frames]


def _entry(svc: FakeServices, cid: str) -> Any:
    key = svc.conn(cid).queue_key
    [entry] = [e for e in svc.queue.waiting(100) if e.queue_key == key]
    return entry


# ---- `suicidalNow: yes` is a high signal, exactly as a high intro ------------------------------


def test_a_yes_sets_off_exactly_what_a_high_intro_does(svc: FakeServices) -> None:
    """Given a supervisor on shift and no volunteer who fits,
    When one seeker asks with an intro the detector reads as high, and another with a calm
    intro and a check-in answering `yes` to "Are you thinking about suicide right now?",
    Then each gets `queued` and the crisis lines at once, the supervisor a `risk` alert at
    `high` for each, both wait at high priority, and the volunteer who takes the second hears
    `risk: high` in `matched`: the same effects, frame for frame."""
    bystander(svc)
    connect(svc, "boss", "supervisor", user_id="user-boss", alias="Sup")
    by_intro = _ask(svc, "intro", intro=HIGH)
    by_checkin = _ask(svc, "yes", intro=CALM, checkin={"distress": 9, "suicidalNow": "yes"})

    assert _kinds(by_intro) == _kinds(by_checkin) == [("queued", None), ("resources", "crisis")]
    assert by_intro[1] == by_checkin[1]  # the same crisis lines
    alerts = svc.notifier.take("boss")
    assert [(a["kind"], a["level"], a["seeker"]) for a in alerts] == [
        ("risk", "high", svc.conn("intro").alias),
        ("risk", "high", svc.conn("yes").alias),
    ]
    for cid in ("intro", "yes"):
        entry = _entry(svc, cid)
        assert (entry.priority, entry.level) == (PRIORITY_HIGH, "high")

    send(svc, "intro", {"action": "end"})
    volunteer(svc, "v1")
    run_matcher(svc)
    [matched] = svc.notifier.take("v1")
    assert (matched["peer"]["alias"], matched["risk"]) == (svc.conn("yes").alias, "high")
    stored = svc.chats.get_session(matched["sessionId"])
    assert stored is not None and stored.level == "high"


def test_a_yes_never_lowers_an_intros_higher_level(svc: FakeServices) -> None:
    """Given a seeker whose intro reads imminent, when their check-in also says `yes`, then
    they wait at imminent (the higher of the two), not high."""
    bystander(svc)
    _ask(svc, "s1", intro=IMMINENT, checkin={"suicidalNow": "yes"})
    entry = _entry(svc, "s1")
    assert (entry.priority, entry.level) == (PRIORITY_IMMINENT, "imminent")


@pytest.mark.parametrize("answer", ["no", "unsure"])
def test_no_and_not_sure_are_no_signal_by_themselves(svc: FakeServices, answer: str) -> None:
    """Given a supervisor on shift, when a seeker with a calm intro answers `no` or `unsure`
    (and a distress of 10), then they wait at normal priority with no level: no crisis lines
    from the server, no alert (docs/impact.md argues `unsure`)."""
    bystander(svc)
    connect(svc, "boss", "supervisor", user_id="user-boss", alias="Sup")
    frames = _ask(svc, "s1", intro=CALM, checkin={"distress": 10, "suicidalNow": answer})
    assert _kinds(frames) == [("queued", None)]
    assert svc.notifier.take("boss") == []
    entry = _entry(svc, "s1")
    assert (entry.priority, entry.level) == (PRIORITY_NORMAL, None)


def test_a_yes_counts_towards_the_urgent_requeue_cap_like_a_risky_intro(
    svc: FakeServices,
) -> None:
    """Given a seeker who answers `yes`, then leaves and asks again with `yes` four more times
    within ten minutes, then the fifth is refused `rate_limited` after the crisis lines, as a
    risky intro is (issue 11's cap), and the refused one is not counted in the totals."""
    bystander(svc)
    connect(svc, "s1")
    for _ in range(4):
        send(svc, "s1", {"action": "match", "checkin": {"suicidalNow": "yes"}})
        send(svc, "s1", {"action": "end"})
    svc.notifier.take("s1")
    send(svc, "s1", {"action": "match", "checkin": {"suicidalNow": "yes"}})
    frames = svc.notifier.take("s1")
    assert _kinds(frames) == [("resources", "crisis"), ("error", None)]
    assert frames[-1]["code"] == "rate_limited"
    assert _month(svc).suicidal_now == (4, 0, 0)


# ---- kept only as the month's totals ------------------------------------------------------------


def test_the_answers_before_are_added_to_the_months_totals_and_nowhere_else(
    svc: FakeServices,
) -> None:
    """Given two seekers asking at the same moment with the same intro, one with a check-in
    (distress 7, `no`) and one without,
    When both are queued,
    Then the month's totals count one check-in, one distress of 7 and one `no`; and the two
    seekers' connections and queue entries are alike but for who they are: nothing stored
    about a seeker holds their answers."""
    bystander(svc)
    _ask(svc, "with", intro=CALM, checkin={"distress": 7, "suicidalNow": "no"})
    _ask(svc, "without", intro=CALM)

    totals = _month(svc)
    assert totals.checkins == 1
    assert totals.before == tuple(1 if v == 7 else 0 for v in range(11))
    assert totals.suicidal_now == (0, 1, 0)
    assert totals.after == (0,) * 11 and totals.change == (0,) * 21

    personal = {"connection_id", "queue_key", "seeker_key", "seeker_alias", "alias", "resume_hash"}

    def alike(record: Any) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(record).items() if k not in personal}

    assert alike(_entry(svc, "with")) == alike(_entry(svc, "without"))
    assert alike(svc.conn("with")) == alike(svc.conn("without"))
    # The only record the answers went into is the month's totals, keyed by the month alone.
    assert list(svc.store.impact) == [month_of(svc.clock())]


def test_a_skipped_or_empty_checkin_counts_nothing_and_writes_nothing(svc: FakeServices) -> None:
    """Given seekers who ask without a check-in, with `checkin: null` and with `{}`, then the
    month has no totals at all (no write was made for them)."""
    bystander(svc)
    _ask(svc, "a")
    _ask(svc, "b", checkin=None)
    _ask(svc, "c", checkin={})
    assert "add_checkins" not in svc.store.calls
    assert dict(svc.store.impact) == {}


@pytest.mark.parametrize(
    ("checkin", "field"),
    [
        ({"distress": 11}, "checkin.distress"),
        ({"distress": -1}, "checkin.distress"),
        ({"distress": "7"}, "checkin.distress"),
        ({"distress": 7.0}, "checkin.distress"),
        ({"distress": True}, "checkin.distress"),
        ({"suicidalNow": "maybe"}, "checkin.suicidalNow"),
        ({"suicidalNow": True}, "checkin.suicidalNow"),
        ([7, "yes"], "checkin"),
        ("yes", "checkin"),
    ],
)
def test_a_bad_checkin_is_refused_and_changes_nothing(
    svc: FakeServices, checkin: Any, field: str
) -> None:
    """Given a seeker, when their `match` carries a check-in with a value out of range or of
    the wrong type, then they get `invalid_request` naming the field (not the value), are not
    queued, and nothing is stored or counted."""
    connect(svc, "s1")
    with store_unchanged(svc):
        send(svc, "s1", {"action": "match", "checkin": checkin})
    [error] = svc.notifier.take("s1")
    assert (error["type"], error["code"], error["action"]) == ("error", "invalid_request", "match")
    assert error["message"].startswith(field + ":")
    assert svc.conn("s1").state == "idle"


def test_a_refused_match_counts_nothing(svc: FakeServices) -> None:
    """Given a seeker already waiting (counted once), when they send `match` with a check-in
    again, then `already_waiting`, and the totals still count one check-in."""
    bystander(svc)
    _ask(svc, "s1", checkin={"distress": 4})
    send(svc, "s1", {"action": "match", "checkin": {"distress": 4}})
    assert svc.notifier.take("s1")[-1]["code"] == "already_waiting"
    assert _month(svc).checkins == 1


# ---- after the chat -------------------------------------------------------------------------


def _ended_chat(svc: FakeServices) -> str:
    volunteer(svc, "v1")
    _ask(svc, "s1")
    run_matcher(svc)
    session: str = svc.notifier.take("s1")[-1]["sessionId"]
    send(svc, "s1", {"action": "end"})
    svc.notifier.forget_all()
    return session


def test_distress_after_and_the_change_are_counted_with_the_feedback(svc: FakeServices) -> None:
    """Given a seeker whose chat ended, when they send feedback with distress 3 and the
    page's copy of the 7 they answered before, then `thanks`, and the month counts one
    distress of 3 after and one change of -4 (but no check-in before: that was counted, or
    not, when they asked)."""
    session = _ended_chat(svc)
    send(
        svc,
        "s1",
        {
            "action": "feedback",
            "sessionId": session,
            "rating": 4,
            "distress": 3,
            "distressBefore": 7,
        },
    )
    assert svc.notifier.types("s1") == ["thanks"]
    totals = _month(svc)
    assert totals.after == tuple(1 if v == 3 else 0 for v in range(11))
    assert totals.change == tuple(1 if v == -4 else 0 for v in range(-10, 11))
    assert (totals.checkins, totals.before) == (0, (0,) * 11)


def test_feedback_without_distress_counts_nothing(svc: FakeServices) -> None:
    """Given an ended chat, when the seeker rates it without a distress answer (a
    `distressBefore` alone pairs with nothing), then `thanks` and nothing is counted."""
    session = _ended_chat(svc)
    send(svc, "s1", {"action": "feedback", "sessionId": session, "rating": 5, "distressBefore": 6})
    assert svc.notifier.types("s1") == ["thanks"]
    assert "add_checkins" not in svc.store.calls


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"distress": 11}, "distress"), ({"distress": 2, "distressBefore": "5"}, "distressBefore")],
)
def test_a_bad_distress_after_is_refused_and_changes_nothing(
    svc: FakeServices, extra: dict[str, Any], field: str
) -> None:
    """Given an ended chat, when the feedback's distress is out of range or not an integer,
    then `invalid_request` naming the field, no `thanks`, nothing counted."""
    session = _ended_chat(svc)
    with store_unchanged(svc):
        send(svc, "s1", {"action": "feedback", "sessionId": session, "rating": 3, **extra})
    [error] = svc.notifier.take("s1")
    assert (error["code"], error["message"].split(":")[0]) == ("invalid_request", field)


def test_feedback_refused_counts_no_distress(svc: FakeServices) -> None:
    """Given a chat in progress, when the seeker sends feedback with distress for it, then
    `not_in_chat` and nothing is counted; a volunteer's is `not_allowed`, not counted."""
    volunteer(svc, "v1")
    _ask(svc, "s1")
    run_matcher(svc)
    session = svc.notifier.take("s1")[-1]["sessionId"]
    send(svc, "s1", {"action": "feedback", "sessionId": session, "rating": 2, "distress": 8})
    send(svc, "v1", {"action": "feedback", "sessionId": session, "rating": 2, "distress": 8})
    assert svc.notifier.take("s1")[-1]["code"] == "not_in_chat"
    assert svc.notifier.take("v1")[-1]["code"] == "not_allowed"
    assert "add_checkins" not in svc.store.calls


class _Unwritable:
    def add_checkins(self, month: str, tally: CheckinTally) -> None:
        raise RuntimeError("throttled")

    def checkin_totals(self, month: str) -> CheckinTally:
        return CheckinTally()


def test_a_count_that_fails_costs_the_seeker_nothing_and_logs_no_answer(
    svc: FakeServices, caplog: pytest.LogCaptureFixture
) -> None:
    """Given totals that cannot be written, when a seeker asks with a check-in and later gives
    feedback with distress, then they are queued, matched and thanked as usual, and the log
    says a count was lost without saying what it was."""
    caplog.set_level(logging.DEBUG)
    broken = dataclasses.replace(svc, impact=_Unwritable())
    volunteer(broken, "v1")  # type: ignore[arg-type]
    connect(broken, "s1")
    send(broken, "s1", {"action": "match", "checkin": {"distress": 8, "suicidalNow": "unsure"}})
    assert svc.notifier.types("s1")[0] == "queued"
    run_matcher(broken)
    session = svc.notifier.take("s1")[-1]["sessionId"]
    send(broken, "s1", {"action": "end"})
    send(broken, "s1", {"action": "feedback", "sessionId": session, "rating": 3, "distress": 6})
    assert svc.notifier.types("s1")[-1] == "thanks"
    lost = [r for r in caplog.records if r.getMessage() == "check-in answers not counted"]
    assert len(lost) == 2
    for record in lost:
        assert not {"distress", "suicidalNow", "tally"} & set(vars(record))
        assert "unsure" not in str(vars(record))


# ---- one answer's share of the totals --------------------------------------------------------


def test_one_answers_share_counts_each_answer_once() -> None:
    """A check-in gives one check-in and one count per answer given; after a chat, one
    distress and, with the answer before, one change (after minus before)."""
    both = before_tally(SeekerCheckin(distress=0, suicidalNow="unsure"))
    assert (both.checkins, both.before[0], both.suicidal_now) == (1, 1, (0, 0, 1))
    only_yes = before_tally(SeekerCheckin(suicidalNow="yes"))
    assert (only_yes.checkins, sum(only_yes.before), only_yes.suicidal_now) == (1, 0, (1, 0, 0))
    assert before_tally(SeekerCheckin()) == before_tally(None) == CheckinTally()
    worse = after_tally(10, 0)
    assert (worse.after[10], worse.change[20], sum(worse.change)) == (1, 1, 1)
    assert after_tally(None, 5) == CheckinTally()
    assert sum(after_tally(5, None).change) == 0
