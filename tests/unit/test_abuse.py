"""Abuse limits (issue 11): the connection budget, alerts once per rise, the urgent re-queue
cap, one report per side and chat. On the in-memory fakes, as each side sees it.

As in tests/unit/test_levels.py, a stand-in detector reads the level from a tag at the start
of a seeker's text: these tests say what a level sets off, whatever the detector's rules are.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from kindred.admission import admit, source_key, source_of
from kindred.matching import URGENT_REQUEUE_WINDOW_SECONDS, URGENT_REQUEUES, run_matcher
from kindred.records import PRIORITY_HIGH
from kindred.requests import ConnectRequest
from tests.unit.fakes import FixedSalts
from tests.unit.harness import FakeServices, bystander, connect, make_services, send, volunteer

CONCERN = "[concern] Some days I wish I just would not wake up."
HIGH = "[high] I have written a letter to say goodbye."
ADDRESS = "203.0.113.7"


pytestmark = pytest.mark.usefixtures("tagged_detector")


@pytest.fixture
def svc() -> FakeServices:
    # Start at the top of a minute, so that a test's minute is one counter.
    services = make_services()
    services.clock.now -= services.clock.now % 60
    return services


def _handshake(svc: FakeServices, n: int, role: str = "seeker", ip: str = ADDRESS) -> bool:
    user = f"user-{n}" if role != "seeker" else ""
    return admit(svc, ConnectRequest(f"c{n}", role, user, "", {}, source_ip=ip))


def _day(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def _kinds(frames: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(f["type"], f.get("code") or f.get("reason") or f.get("kind")) for f in frames]


# ---- the connection budget -------------------------------------------------------------------


def test_a_source_gets_its_budget_a_minute_and_not_one_connection_more(
    svc: FakeServices,
) -> None:
    """Given the default budget of 30 new seeker connections per source and minute,
    When one address opens 31 in a minute, and one more the next minute,
    Then the first 30 are admitted, the 31st refused with nothing written for it, and the
    next minute's admitted."""
    limit = svc.settings.max_connections_per_source_per_minute
    assert limit == 30
    assert all(_handshake(svc, n) for n in range(limit))
    before = svc.store.snapshot()

    svc.clock.advance(59)
    assert not _handshake(svc, limit)
    assert svc.store.snapshot() == before

    svc.clock.advance(1)
    assert _handshake(svc, limit + 1)


def test_each_source_has_a_budget_of_its_own(svc: FakeServices) -> None:
    """Given an address that used up its budget, when another connects, it is admitted."""
    assert all(_handshake(svc, n) for n in range(30))
    assert not _handshake(svc, 30)
    assert _handshake(svc, 31, ip="198.51.100.9")


def test_an_ipv6_source_is_its_64_prefix(svc: FakeServices) -> None:
    """Given a script that takes a new IPv6 address of its /64 for every connection,
    When it opens 31 in a minute, Then the 31st is refused; another /64 is someone else."""
    assert all(_handshake(svc, n, ip=f"2001:db8:1:2::{n:x}") for n in range(30))
    assert not _handshake(svc, 30, ip="2001:db8:1:2:ffff::1")
    assert _handshake(svc, 31, ip="2001:db8:1:3::1")
    assert source_of("2001:db8:1:2::7") == "2001:db8:1:2::/64"
    assert source_of("203.0.113.7") == "203.0.113.7"


def test_volunteers_and_supervisors_are_not_counted(svc: FakeServices) -> None:
    """Given a source whose budget is used up, when a volunteer or supervisor (whose token the
    authorizer verified) connects from it, then they are admitted and nothing is counted."""
    assert all(_handshake(svc, n) for n in range(30))
    before = svc.store.snapshot()
    assert _handshake(svc, 30, "volunteer") and _handshake(svc, 31, "supervisor")
    assert svc.store.snapshot() == before


def test_a_budget_of_zero_counts_nothing() -> None:
    """Given MaxConnectionsPerSourcePerMinute 0 (the local stack), when one address opens 100
    connections in a second, then all are admitted and nothing is written."""
    svc = make_services(max_connections_per_source_per_minute=0)
    assert all(_handshake(svc, n) for n in range(100))
    assert svc.store.source_counts == {}


def test_the_address_is_kept_only_as_a_key_that_changes_every_day(svc: FakeServices) -> None:
    """Given a connection counted, then the store holds no part of the address, only a keyed
    hash of it, which is another one the next day (UTC)."""
    assert _handshake(svc, 0)
    assert svc.store.mentioning(ADDRESS, "203.0.113") == []
    [(key, _)] = svc.store.source_counts
    salts, now = FixedSalts(), svc.clock.now
    assert key == source_key(salts.daily_salt(_day(now)), ADDRESS)
    assert key != source_key(salts.daily_salt(_day(now + 86400)), ADDRESS)
    assert len(key) == 32 and ADDRESS not in key


# ---- a waiting seeker's risk alert: once per level rise ----------------------------------------


def _supervisor(svc: FakeServices) -> str:
    return connect(svc, "boss", "supervisor", user_id="user-boss", alias="Boss")


def _match_and_end(svc: FakeServices, cid: str, intro: str) -> list[tuple[str, str | None]]:
    send(svc, cid, {"action": "match", "intro": intro})
    frames = _kinds(svc.notifier.take(cid))
    send(svc, cid, {"action": "end"})
    svc.clock.advance(1)
    return frames


def test_a_match_end_loop_alerts_supervisors_once_per_level_and_always_shows_crisis_lines(
    svc: FakeServices,
) -> None:
    """Given a supervisor on shift,
    When a seeker whose intro reads `concern` asks for a chat and leaves the queue three
    times, then once more at `high`, then at `concern` again,
    Then the supervisor is alerted once at `concern` and once at `high`, and the seeker gets
    the crisis lines every time."""
    bystander(svc)
    _supervisor(svc)
    connect(svc, "s1")
    for intro in (CONCERN, CONCERN, CONCERN, HIGH):
        assert _match_and_end(svc, "s1", intro) == [("queued", None), ("resources", "crisis")]
        svc.clock.advance(URGENT_REQUEUE_WINDOW_SECONDS)  # the re-queue cap is not this test's
    assert _match_and_end(svc, "s1", CONCERN) == [("queued", None), ("resources", "crisis")]

    alerts = svc.notifier.take("boss")
    assert [(a["kind"], a["level"], a["sessionId"]) for a in alerts] == [
        ("risk", "concern", ""),
        ("risk", "high", ""),
    ]


def test_a_resumed_seeker_is_not_alerted_of_again_at_the_same_level(svc: FakeServices) -> None:
    """Given a waiting seeker at `high` whose connection dropped and came back with their
    token, When they leave the queue and ask again at `high`, Then no second alert."""
    from kindred.connections import connect as on_connect
    from kindred.connections import disconnect
    from kindred.requests import DisconnectRequest

    bystander(svc)
    _supervisor(svc)
    connect(svc, "s1")
    send(svc, "s1", {"action": "match", "intro": HIGH})
    token = svc.notifier.take("s1")[0]["resumeToken"]
    disconnect(svc, DisconnectRequest("s1", 1006, ""))
    on_connect(svc, ConnectRequest("s2", "seeker", "", "", {"lang": "en", "resume": token}))
    send(svc, "s2", {"action": "end"})
    send(svc, "s2", {"action": "match", "intro": HIGH})
    assert ("resources", "crisis") in _kinds(svc.notifier.take("s2"))
    assert [a["level"] for a in svc.notifier.take("boss")] == ["high"]


def test_a_chat_from_that_wait_does_not_alert_again_at_the_same_level(svc: FakeServices) -> None:
    """Given a seeker alerted of at `high` while waiting, When a volunteer takes them and they
    write at `high` again, Then the supervisor hears nothing more (the chat began at `high`)."""
    _supervisor(svc)
    volunteer(svc, "v1")
    connect(svc, "s1")
    send(svc, "s1", {"action": "match", "intro": HIGH})
    run_matcher(svc)
    assert [a["level"] for a in svc.notifier.take("boss")] == ["high"]
    send(svc, "s1", {"action": "message", "text": HIGH})
    assert svc.notifier.take("boss") == []


# ---- the urgent re-queue cap -------------------------------------------------------------------


def test_urgent_requeues_are_capped_per_connection_with_the_crisis_lines_each_time(
    svc: FakeServices,
) -> None:
    """Given a seeker whose intro reads `high` (queued ahead of normal priority),
    When they ask for a chat and leave the queue again and again within ten minutes,
    Then the first ask and URGENT_REQUEUES re-queues are served at their level's place; the
    next ask gets the crisis lines then `rate_limited`, changes nothing, and once ten minutes
    have passed since the oldest of those, they are queued again at their level's place."""
    bystander(svc)
    connect(svc, "s1")
    for _ in range(1 + URGENT_REQUEUES):
        assert _match_and_end(svc, "s1", HIGH) == [("queued", None), ("resources", "crisis")]

    before = svc.store.snapshot(rate_logs=False)
    send(svc, "s1", {"action": "match", "intro": HIGH})
    assert _kinds(svc.notifier.take("s1")) == [("resources", "crisis"), ("error", "rate_limited")]
    assert svc.store.snapshot(rate_logs=False) == before

    svc.clock.advance(URGENT_REQUEUE_WINDOW_SECONDS - (1 + URGENT_REQUEUES))
    send(svc, "s1", {"action": "match", "intro": HIGH})
    assert _kinds(svc.notifier.take("s1")) == [("queued", None), ("resources", "crisis")]
    [entry] = svc.store.entries.alive()
    assert entry.priority == PRIORITY_HIGH


def test_the_cap_never_touches_a_seeker_without_a_risk(svc: FakeServices) -> None:
    """Given a seeker with no risk in their intro, When they ask and leave ten times in a
    minute, Then every ask is queued (the per-connection rate limit is the only bound)."""
    bystander(svc)
    connect(svc, "s1")
    for _ in range(10):
        assert _match_and_end(svc, "s1", "Work has been a lot lately.") == [("queued", None)]


# ---- one report per side and chat --------------------------------------------------------------


def test_a_second_report_of_a_chat_by_the_same_side_is_answered_but_kept_and_told_once(
    svc: FakeServices,
) -> None:
    """Given a chat and a supervisor on shift,
    When the seeker reports it ten times, and the volunteer once,
    Then the seeker gets `reported` every time, one report of theirs is kept and the
    supervisor is alerted once for it; the volunteer's report is kept and alerted too."""
    _supervisor(svc)
    volunteer(svc, "v1")
    connect(svc, "s1")
    send(svc, "s1", {"action": "match"})
    run_matcher(svc)
    svc.notifier.forget_all()

    for _ in range(10):
        send(svc, "s1", {"action": "report", "reason": "harassment"})
    assert svc.notifier.types("s1") == ["reported"] * 10
    assert [(a["type"], a["kind"]) for a in svc.notifier.take("boss")] == [("alert", "report")]
    assert len(svc.store.reports) == 1

    send(svc, "v1", {"action": "report", "reason": "spam"})
    assert svc.notifier.types("v1") == ["reported"]
    assert [(a["type"], a["kind"]) for a in svc.notifier.take("boss")] == [("alert", "report")]
    assert sorted(r.reporter_role for r in svc.store.reports.values()) == ["seeker", "volunteer"]
