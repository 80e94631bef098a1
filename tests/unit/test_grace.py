"""The end of a dropped seeker's grace period on the in-memory fakes (issue 11, timing): due
by a delayed work item at `$disconnect`, idempotent, and repaired by the sweeper, whose runs
keep to a time budget."""

from __future__ import annotations

from kindred.requests import ConnectRequest
from kindred.sweeper import CheckRotation, sweep
from tests.unit.harness import (
    FakeServices,
    connect,
    counted_checks,
    deliver_graces,
    drop,
    make_services,
    seeker_in_chat,
    send,
)

GRACE = 120


def test_a_dropped_chat_ends_when_its_grace_item_comes_due(svc: FakeServices) -> None:
    """Given a chat whose seeker's socket dropped, when the grace period has passed and the
    `grace_over` work item sent at `$disconnect` reaches the matcher, then the volunteer gets
    `ended` `peer_left` and their slot is free, without any sweeper run (by grace + 1 s, the
    grace being rounded up to a whole second); a second before the grace, the item is not
    yet visible."""
    _token, session = seeker_in_chat(svc)
    svc.clock.advance(0.4)  # a dropped socket has no reason to close on a whole second
    drop(svc, "s1")
    assert svc.notifier.take("v1") == [{"type": "peer_away", "sessionId": session}]
    ((cid, delay),) = svc.work.graces_pending
    assert cid == "s1" and GRACE <= delay <= GRACE + 1

    svc.clock.advance(GRACE - 1)
    assert deliver_graces(svc) == []
    assert svc.notifier.take("v1") == []
    svc.clock.advance(2)  # the grace is rounded up to a whole second: at most 1 s more
    assert deliver_graces(svc) == ["ended"]
    assert svc.notifier.take("v1") == [
        {"type": "ended", "sessionId": session, "reason": "peer_left"}
    ]
    assert svc.store.slots["v1"].active == 0
    assert svc.connections.get_connection("s1") is None


def test_a_dropped_waiting_seeker_leaves_the_queue_when_the_item_comes_due(
    svc: FakeServices,
) -> None:
    """Given three seekers waiting, when the first drops and the grace item comes due, then the
    first leaves the queue and those behind move up (2 -> 1, 3 -> 2)."""
    for cid in ("s1", "s2", "s3"):
        connect(svc, cid)
        send(svc, cid, {"action": "match"})
    svc.notifier.forget_all()
    drop(svc, "s1")
    svc.clock.advance(GRACE)
    assert deliver_graces(svc) == ["ended"]
    assert [f["position"] for f in svc.notifier.take("s2") if f["type"] == "position"] == [1]
    assert [f["position"] for f in svc.notifier.take("s3") if f["type"] == "position"] == [2]
    assert [e.connection_id for e in svc.store.entries.in_order()] == ["s2", "s3"]


def test_the_grace_item_does_nothing_after_a_resume(svc: FakeServices) -> None:
    """Given a seeker who dropped and came back with their token within the grace, when the
    grace item of the dropped connection comes due, then nothing happens: the chat goes on."""
    from kindred.connections import connect as on_connect

    token, session = seeker_in_chat(svc)
    drop(svc, "s1")
    svc.clock.advance(30)
    on_connect(svc, ConnectRequest("s2", "seeker", "", "", {"lang": "en", "resume": token}))
    svc.notifier.forget_all()
    svc.clock.advance(GRACE)
    assert deliver_graces(svc) == ["nothing"]
    assert svc.notifier.take("v1") == []
    assert svc.chats.get_session(session) is not None
    assert svc.conn("s2").session_id == session


def test_the_grace_ends_once_whoever_comes_first(svc: FakeServices) -> None:
    """Given a dropped chat past its grace, when the sweeper ends it and the grace item then
    arrives (or arrives twice), then the volunteer hears `ended` once."""
    from kindred.grace import on_grace_over

    seeker_in_chat(svc)
    drop(svc, "s1")
    assert svc.notifier.types("v1") == ["peer_away"]
    svc.clock.advance(GRACE + 1)
    assert sweep(svc)["away_expired"] == 1
    assert deliver_graces(svc) == ["nothing"]
    assert on_grace_over(svc, "s1") == "nothing"  # SQS may deliver an item twice
    assert svc.notifier.types("v1") == ["ended"]


def test_a_grace_longer_than_sqs_delays_is_sent_on_until_it_is_over() -> None:
    """Given a deployment whose grace is 3600 s (SQS delays at most 900 s), when a seeker in a
    chat drops, then the item comes at 900 s and is sent on, again and again, and the chat
    ends at 3600 s, not before."""
    svc = make_services(resume_grace_seconds=3600)
    seeker_in_chat(svc)
    drop(svc, "s1")
    assert [d for _, d in svc.work.graces_pending] == [900]
    outcomes: list[str] = []
    for _ in range(3):
        svc.clock.advance(900)
        outcomes += deliver_graces(svc)
    assert outcomes == ["not_yet"] * 3
    assert svc.notifier.types("v1") == ["peer_away"]
    svc.clock.advance(899)
    assert deliver_graces(svc) == []
    svc.clock.advance(1)
    assert deliver_graces(svc) == ["ended"]
    assert svc.notifier.types("v1") == ["ended"]


def test_a_sweep_short_of_time_leaves_the_rest_to_the_next_run(svc: FakeServices) -> None:
    """Given 200 seekers waiting and one volunteer whose socket vanished without a
    `$disconnect`, when the sweeper runs with time for only 64 GetConnection checks, then it
    stops there, counts the rest as left for later and ends nothing it did not check; the
    runs after resume where it stopped, and within four runs the volunteer is cleaned up."""
    for n in range(200):
        connect(svc, f"s{n:03}")
        send(svc, f"s{n:03}", {"action": "match"})
    connect(svc, "v1", "volunteer", user_id="u1")
    send(svc, "v1", {"action": "availability", "available": True})
    svc.notifier.gone.add("v1")
    checked = counted_checks(svc)
    rotation = CheckRotation()
    runs = 0
    while svc.pool.get_slot("v1") is not None:
        runs += 1
        assert runs <= 4, "the gone volunteer was never reached"
        before = len(checked)
        # 60 s at the start, then after 64 checks too little for more checks (a third of
        # the start's), enough for the repairs they call for (5 s).
        sweep(svc, lambda b=before: 60_000 if len(checked) - b < 64 else 15_000, rotation)
        assert len(checked) - before == 64
    # The rotation goes round: once every connection was checked, a run may carry on from the
    # start (the last run began where the one before stopped); before that, none twice.
    everyone = len(set(checked))
    assert len(set(checked[:everyone])) == everyone, "no connection checked twice before all were"
    assert svc.connections.get_connection("v1") is None
    assert all(svc.connections.get_connection(f"s{n:03}") for n in range(200))


def test_an_idle_seeker_is_checked_one_run_in_ten(svc: FakeServices) -> None:
    """Given 100 idle seekers (connected, never asked for a chat), one of whose sockets vanished
    without a `$disconnect`, when the sweeper runs once a minute, then each run checks about a
    tenth of them, and within ten runs every one was checked once and the vanished one's
    connection is gone."""
    for n in range(100):
        connect(svc, f"i{n:03}")
    svc.notifier.gone.add("i042")
    checked = counted_checks(svc)
    for _ in range(10):
        before = len(checked)
        sweep(svc)
        assert 0 < len(checked) - before < 25
        svc.clock.advance(60)
    assert sorted(checked) == [f"i{n:03}" for n in range(100)]
    assert svc.connections.get_connection("i042") is None
