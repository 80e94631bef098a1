"""Resume and the sweeper on the in-memory fakes (issue 5): the rules, the races."""

from __future__ import annotations

from kindred.connections import disconnect
from kindred.requests import ConnectRequest, DisconnectRequest
from kindred.sweeper import sweep
from tests.unit.harness import (
    FakeServices,
    connect,
    drop,
    make_services,
    seeker_in_chat,
    send,
)


def _resume(svc: FakeServices, cid: str, token: str) -> str:
    from kindred.connections import connect as on_connect

    on_connect(svc, ConnectRequest(cid, "seeker", "", "", {"lang": "en", "resume": token}))
    return cid


def test_a_dropped_seeker_is_away_with_their_chat_kept(svc: FakeServices) -> None:
    """Given a chat, when the seeker's $disconnect runs, then their connection is marked away
    for the grace period, the chat is still active and the volunteer hears `peer_away`."""
    _token, session = seeker_in_chat(svc)
    drop(svc, "s1")
    conn = svc.connections.get_connection("s1")
    assert conn is not None and conn.away_until == int(svc.clock()) + 120
    assert svc.chats.get_session(session).active  # type: ignore[union-attr]
    assert svc.notifier.take("v1") == [{"type": "peer_away", "sessionId": session}]


def test_a_message_to_an_away_seeker_fails_without_ending_the_chat(svc: FakeServices) -> None:
    """Given a seeker who is away, when the volunteer writes, then they get `error` `peer_away`
    (the message was not delivered) and the chat goes on; typing is dropped quietly."""
    _token, session = seeker_in_chat(svc)
    drop(svc, "s1")
    svc.notifier.take("v1")
    send(svc, "v1", {"action": "message", "text": "are you there?", "clientMsgId": "m1"})
    send(svc, "v1", {"action": "typing"})
    (err,) = svc.notifier.take("v1")
    assert (err["code"], err["clientMsgId"]) == ("peer_away", "m1")
    assert svc.chats.get_session(session).active  # type: ignore[union-attr]


def test_resume_is_one_transaction_that_moves_everything(svc: FakeServices) -> None:
    """Given an away seeker in a chat, when a new connection comes with their token, then the
    session and the volunteer's chats name the new connection, the old connection item and
    the used ticket are gone, in one store write."""
    token, session = seeker_in_chat(svc)
    drop(svc, "s1")
    svc.notifier.take("v1")
    svc.store.calls.clear()
    _resume(svc, "s2", token)
    writes = [c for c in svc.store.calls if c not in ("get_resume", "get_connection")]
    assert writes == ["resume"]
    assert svc.chats.get_session(session).seeker_id == "s2"  # type: ignore[union-attr]
    assert svc.connections.get_connection("v1").chats == {session: "s2"}  # type: ignore[union-attr]
    assert svc.connections.get_connection("s1") is None
    assert svc.store.tickets == {}
    assert svc.notifier.take("v1") == [{"type": "peer_back", "sessionId": session}]


def test_resume_before_the_old_disconnect_closes_the_old_socket(svc: FakeServices) -> None:
    """Given a seeker whose old socket API Gateway still thinks open, when they come back with
    their token, then the new connection takes the place, the old socket is closed, and the
    old socket's late $disconnect changes nothing."""
    token, session = seeker_in_chat(svc)
    _resume(svc, "s2", token)
    assert "s1" in svc.notifier.closed
    before = svc.store.snapshot()
    disconnect(svc, DisconnectRequest("s1", 1000, "closed"))
    assert svc.store.snapshot() == before
    assert svc.chats.get_session(session).active  # type: ignore[union-attr]


def test_a_waiting_seeker_resumes_at_the_same_place(svc: FakeServices) -> None:
    """Given two seekers waiting, when the first drops, then their entry is flagged away (the
    matcher passes them over); resumed, their entry has the same priority and time."""
    connect(svc, "s1")
    send(svc, "s1", {"action": "match"})
    token = svc.notifier.take("s1")[0]["resumeToken"]
    svc.clock.advance(1)
    connect(svc, "s0")
    send(svc, "s0", {"action": "match"})
    (entry,) = [e for e in svc.store.entries.in_order() if e.connection_id == "s1"]
    drop(svc, "s1")
    assert svc.store.entries.in_order()[0].away is True
    _resume(svc, "s2", token)
    first = svc.store.entries.in_order()[0]
    assert first.connection_id == "s2" and not first.away
    assert (first.priority, first.enqueued_at_ms) == (entry.priority, entry.enqueued_at_ms)


def test_the_grace_is_the_limit(svc: FakeServices) -> None:
    """Given an away seeker, when they come back one second after the grace period, then the
    resume fails (a plain new seeker, told on its first action) and the sweeper ends the chat."""
    token, session = seeker_in_chat(svc)
    drop(svc, "s1")
    svc.clock.advance(121)
    _resume(svc, "s2", token)
    send(svc, "s2", {"action": "resources"})
    assert svc.notifier.take("s2")[0]["code"] == "resume_failed"
    sweep(svc)
    assert {"type": "ended", "sessionId": session, "reason": "peer_left"} in svc.notifier.take("v1")
    assert svc.store.slots["v1"].active == 0


def test_the_sweeper_frees_a_slot_and_a_connection_past_the_maximum_time() -> None:
    """Given a volunteer whose socket is long past API Gateway's 2-hour limit and whose
    $disconnect never ran, when the sweeper runs, then their slot and connection are gone."""
    svc = make_services()
    connect(svc, "v1", "volunteer", user_id="u1")
    send(svc, "v1", {"action": "availability", "available": True})
    svc.clock.advance(2 * 3600 + 120)
    done = sweep(svc)
    assert done["gone"] == 1
    assert svc.pool.get_slot("v1") is None and svc.connections.get_connection("v1") is None


def test_the_sweeper_nudges_the_matcher_for_a_seeker_past_the_topic_wait(svc: FakeServices) -> None:
    """Given a seeker waiting past the topic fallback and a free volunteer (a work item was
    lost), when the sweeper runs, then the matcher is woken."""
    connect(svc, "s1")
    send(svc, "s1", {"action": "match", "topics": ["grief"]})
    connect(svc, "v1", "volunteer", user_id="u1")
    send(svc, "v1", {"action": "availability", "available": True, "topics": ["work"]})
    svc.work.reasons.clear()
    svc.clock.advance(61)
    svc.work.reasons.clear()
    sweep(svc)
    assert svc.work.reasons == ["sweep"]
