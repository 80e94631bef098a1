"""The chat actions through kindred.chat.handle on the fakes: what each side sees, what is kept."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import pytest

from kindred.matching import run_matcher
from kindred.protocol import iso_time
from kindred.records import PRIORITY_URGENT
from tests.unit.fakes import Report
from tests.unit.harness import (
    FakeServices,
    connect,
    make_services,
    send,
    store_unchanged,
    volunteer,
    waiting,
)

RISKY = "I want to kill myself"


# ---- helpers ---------------------------------------------------------------------------------


def _chat(svc: FakeServices, seeker: str = "s1", vol: str = "v1", **match: Any) -> str:
    """A seeker and a volunteer in a chat; returns the session id (frames so far are taken)."""
    if svc.connections.get_connection(vol) is None:
        volunteer(svc, vol)
    waiting(svc, seeker, **match)
    run_matcher(svc)
    frames = svc.notifier.take(seeker)
    session: str = frames[-1]["sessionId"]
    svc.notifier.forget_all()
    svc.work.reasons.clear()
    return session


def _error(frames: list[dict[str, Any]]) -> tuple[str, str | None]:
    [err] = frames
    assert err["type"] == "error"
    return err["code"], err.get("action")


def _alert(svc: FakeServices, kind: str, session: str, level: str | None = None) -> dict[str, Any]:
    """The `alert` frame about a chat as a supervisor sees it now: who, since when, the level."""
    stored = svc.chats.get_session(session)
    assert stored is not None
    frame = {
        "type": "alert",
        "kind": kind,
        "sessionId": session,
        "at": iso_time(svc.clock()),
        "volunteer": stored.volunteer_alias,
        "seeker": stored.seeker_alias,
        "startedAt": iso_time(stored.started_at_ms / 1000),
    }
    return frame | ({"level": level} if level else {})


def _active(svc: FakeServices, vol: str) -> int:
    return svc.slot(vol).active


# ---- relay and typing ------------------------------------------------------------------------


def test_a_message_reaches_the_peer_unchanged_and_the_sender_hears_nothing(
    svc: FakeServices,
) -> None:
    """Given a chat, when the seeker sends a message with clientMsgId and seq, then the volunteer
    gets it with the session id, the text, a UTC sentAt, the clientMsgId and the seq; the
    seeker gets nothing back."""
    session = _chat(svc)
    send(svc, "s1", {"action": "message", "text": "hi there", "clientMsgId": "c1", "seq": 0})
    [got] = svc.notifier.take("v1")
    assert got == {
        "type": "message",
        "sessionId": session,
        "text": "hi there",
        "sentAt": got["sentAt"],
        "clientMsgId": "c1",
        "seq": 0,
    }
    assert got["sentAt"].endswith("Z")
    assert svc.notifier.take("s1") == []


def test_a_volunteers_message_reaches_the_seeker(svc: FakeServices) -> None:
    """Given a chat, when the volunteer writes without sessionId, then the seeker gets it, with
    no clientMsgId or seq since none were sent."""
    session = _chat(svc)
    send(svc, "v1", {"action": "message", "text": "Hello, I'm here."})
    [got] = svc.notifier.take("s1")
    assert {k: v for k, v in got.items() if k != "sentAt"} == {
        "type": "message",
        "sessionId": session,
        "text": "Hello, I'm here.",
    }
    assert svc.notifier.take("v1") == []


def test_relaying_a_message_makes_one_store_call_and_keeps_no_text(svc: FakeServices) -> None:
    """Given a chat, when a message is relayed, then the store is called once (count_action:
    it counts the action against the rate limit and returns the sender's connection), nothing
    but the sender's rate log changes, and the text is kept nowhere."""
    _chat(svc)
    svc.store.calls.clear()
    with store_unchanged(svc):
        send(svc, "s1", {"action": "message", "text": "a secret worry"})
    assert svc.store.calls == ["count_action"]
    assert svc.store.mentioning("secret worry") == []


def test_typing_reaches_the_peer(svc: FakeServices) -> None:
    """Given a chat, when the volunteer is typing, then the seeker gets `typing` for that chat
    and nothing is stored."""
    session = _chat(svc)
    with store_unchanged(svc):
        send(svc, "v1", {"action": "typing"})
    assert svc.notifier.take("s1") == [{"type": "typing", "sessionId": session}]
    assert svc.notifier.take("v1") == []


def test_a_volunteer_with_several_chats_must_name_the_session(svc: FakeServices) -> None:
    """Given a volunteer in two chats, when they write without sessionId, then they get
    `session_required` with their clientMsgId and nothing changes; with it, only that seeker
    gets the message."""
    volunteer(svc, "v1", capacity=2)
    _chat(svc, "s1")
    second = _chat(svc, "s2")
    with store_unchanged(svc):
        send(svc, "v1", {"action": "message", "text": "hello", "clientMsgId": "v1-1"})
    [err] = svc.notifier.take("v1")
    assert (err["code"], err["action"], err["clientMsgId"]) == (
        "session_required",
        "message",
        "v1-1",
    )
    with store_unchanged(svc):
        send(svc, "v1", {"action": "typing"})
    assert _error(svc.notifier.take("v1")) == ("session_required", "typing")

    send(svc, "v1", {"action": "message", "text": "hello two", "sessionId": second})
    assert svc.notifier.take("s1") == []
    assert [f["text"] for f in svc.notifier.take("s2")] == ["hello two"]


def test_a_seeker_not_in_a_chat_cannot_write(svc: FakeServices) -> None:
    """Given a seeker who is only waiting, when they send a message or typing, then they get
    `not_in_chat` and nothing changes."""
    waiting(svc, "s1")
    svc.notifier.take("s1")
    with store_unchanged(svc):
        send(svc, "s1", {"action": "message", "text": "hello?", "clientMsgId": "c7"})
        send(svc, "s1", {"action": "typing"})
    frames = svc.notifier.take("s1")
    assert [(f["code"], f["action"]) for f in frames] == [
        ("not_in_chat", "message"),
        ("not_in_chat", "typing"),
    ]
    assert frames[0]["clientMsgId"] == "c7"


def test_nobody_can_write_into_a_chat_that_is_not_theirs(svc: FakeServices) -> None:
    """Given two chats, when the first volunteer names the second chat's session, or a seeker
    names a session not theirs, then `not_in_chat`, nothing is delivered or changed."""
    first = _chat(svc, "s1", "v1")
    second = _chat(svc, "s2", "v2")
    with store_unchanged(svc):
        send(svc, "v1", {"action": "message", "text": "hi", "sessionId": second})
        send(svc, "s1", {"action": "message", "text": "hi", "sessionId": second})
        send(svc, "s2", {"action": "end", "sessionId": first})
    assert _error(svc.notifier.take("v1")) == ("not_in_chat", "message")
    assert [f["code"] for f in svc.notifier.take("s1")] == ["not_in_chat"]
    assert _error(svc.notifier.take("s2")) == ("not_in_chat", "end")
    assert svc.notifier.take("v2") == []


def test_a_volunteer_without_a_chat_cannot_write(svc: FakeServices) -> None:
    """Given an available volunteer with no chat, when they send a message, then
    `not_in_chat`."""
    volunteer(svc, "v1")
    with store_unchanged(svc):
        send(svc, "v1", {"action": "message", "text": "anyone?"})
    assert _error(svc.notifier.take("v1")) == ("not_in_chat", "message")


# ---- a peer gone (410) -----------------------------------------------------------------------


def test_a_message_to_a_gone_volunteer_ends_the_chat_for_the_seeker(svc: FakeServices) -> None:
    """Given a chat whose volunteer's socket is gone, when the seeker writes, then the seeker
    gets `error` peer_gone with their clientMsgId and `ended` peer_left, and can ask for a new
    match."""
    session = _chat(svc)
    svc.notifier.gone.add("v1")
    send(svc, "s1", {"action": "message", "text": "are you there?", "clientMsgId": "c3"})
    assert svc.notifier.take("s1") == [
        {
            "type": "error",
            "code": "peer_gone",
            "message": "The other person has left the chat.",
            "action": "message",
            "clientMsgId": "c3",
        },
        {"type": "ended", "sessionId": session, "reason": "peer_left"},
    ]
    send(svc, "s1", {"action": "match"})
    assert svc.notifier.types("s1") == ["queued"]


def test_a_message_to_a_gone_seeker_frees_the_volunteers_slot(svc: FakeServices) -> None:
    """Given a chat whose seeker's socket is gone, when the volunteer writes, then the volunteer
    gets `error` peer_gone and `ended` peer_left, their slot is free, and the next seeker is
    matched with them."""
    session = _chat(svc)
    svc.notifier.gone.add("s1")
    send(svc, "v1", {"action": "message", "text": "still with me?", "clientMsgId": "v9"})
    frames = svc.notifier.take("v1")
    assert [(f["type"], f.get("code"), f.get("clientMsgId")) for f in frames] == [
        ("error", "peer_gone", "v9"),
        ("ended", None, None),
    ]
    assert frames[1] == {"type": "ended", "sessionId": session, "reason": "peer_left"}
    assert _active(svc, "v1") == 0
    assert svc.work.reasons == ["slot_freed"]

    waiting(svc, "s2")
    run_matcher(svc)
    assert svc.notifier.types("s2") == ["queued", "matched"]


def test_typing_to_a_gone_peer_ends_the_chat(svc: FakeServices) -> None:
    """Given a chat whose seeker is gone, when the volunteer types, then the volunteer gets
    `ended` peer_left and their slot is free."""
    session = _chat(svc)
    svc.notifier.gone.add("s1")
    send(svc, "v1", {"action": "typing"})
    assert svc.notifier.take("v1") == [
        {"type": "ended", "sessionId": session, "reason": "peer_left"}
    ]
    assert _active(svc, "v1") == 0


# ---- end -------------------------------------------------------------------------------------


def test_end_tells_both_sides_and_frees_thevolunteer(svc: FakeServices) -> None:
    """Given a chat, when the seeker ends it, then the seeker hears `ended_by_you`, the
    volunteer `ended_by_peer`, the volunteer's slot is free and the matcher is woken."""
    session = _chat(svc)
    send(svc, "s1", {"action": "end"})
    assert svc.notifier.take("s1") == [
        {"type": "ended", "sessionId": session, "reason": "ended_by_you"}
    ]
    assert svc.notifier.take("v1") == [
        {"type": "ended", "sessionId": session, "reason": "ended_by_peer"}
    ]
    assert _active(svc, "v1") == 0
    assert svc.work.reasons == ["slot_freed"]
    stored = svc.chats.get_session(session)
    assert stored is not None and stored.active is False


def test_a_volunteer_can_end_the_chat(svc: FakeServices) -> None:
    """Given a chat, when the volunteer ends it, then the volunteer hears `ended_by_you` and the
    seeker `ended_by_peer`."""
    session = _chat(svc)
    send(svc, "v1", {"action": "end", "sessionId": session})
    assert svc.notifier.take("v1") == [
        {"type": "ended", "sessionId": session, "reason": "ended_by_you"}
    ]
    assert svc.notifier.take("s1") == [
        {"type": "ended", "sessionId": session, "reason": "ended_by_peer"}
    ]


def test_a_chat_ends_once(svc: FakeServices) -> None:
    """Given a chat the volunteer ended, when the seeker also sends `end`, then nobody hears of
    it twice and nothing changes."""
    _chat(svc)
    send(svc, "v1", {"action": "end"})
    svc.notifier.forget_all()
    with store_unchanged(svc):
        send(svc, "s1", {"action": "end"})
    assert svc.notifier.take("s1") == []
    assert svc.notifier.take("v1") == []


def test_a_waiting_seeker_who_ends_leaves_the_queue_quietly(svc: FakeServices) -> None:
    """Given a waiting seeker, when they send `end`, then they get no `ended` (there was no
    chat), they are out of the queue, and a volunteer who comes later is not matched with
    them."""
    waiting(svc, "s1")
    svc.notifier.take("s1")
    send(svc, "s1", {"action": "end"})
    assert svc.notifier.take("s1") == []
    assert svc.store.entries == {}
    conn = svc.connections.get_connection("s1")
    assert conn is not None and conn.state == "idle"
    volunteer(svc, "v1")
    assert run_matcher(svc) == 0


# ---- report ----------------------------------------------------------------------------------


def test_a_report_alerts_the_supervisors_on_shift_and_keeps_only_the_facts(
    svc: FakeServices,
) -> None:
    """Given a chat and a supervisor on shift, when the seeker reports with details, then the
    seeker gets `reported`, the supervisor an `alert` of kind report for that chat, and the
    store keeps the reason, the reporter's role and the session, never the details."""
    connect(svc, "boss", "supervisor", user_id="u-boss", alias="Boss")
    session = _chat(svc)
    details = "he kept asking where I live"
    send(svc, "s1", {"action": "report", "reason": "unsafe", "details": details})

    assert svc.notifier.take("s1") == [{"type": "reported"}]
    assert svc.notifier.take("boss") == [_alert(svc, "report", session)]
    assert svc.notifier.take("v1") == []
    [(report_id, report)] = svc.store.reports.items()
    assert report == Report(session, "unsafe", "seeker", int(svc.clock() * 1000))
    retention = svc.settings.report_retention_days * 86400
    assert svc.store.reports.expires[report_id] == int(svc.clock()) + retention
    assert svc.store.mentioning("where I live") == []


def test_a_seeker_can_report_after_the_chat_ended(svc: FakeServices) -> None:
    """Given a chat that ended, when the seeker reports without a session id, then the report is
    about their last chat."""
    connect(svc, "boss", "supervisor", user_id="u-boss", alias="Boss")
    session = _chat(svc)
    send(svc, "v1", {"action": "end"})
    send(svc, "s1", {"action": "report", "reason": "harassment"})
    assert svc.notifier.take("s1")[-1] == {"type": "reported"}
    assert svc.notifier.take("boss") == [_alert(svc, "report", session)]


def test_a_report_without_a_chat_is_refused(svc: FakeServices) -> None:
    """Given a seeker who never chatted, when they report, then `not_in_chat`, no supervisor is
    alerted and nothing is stored."""
    connect(svc, "boss", "supervisor", user_id="u-boss", alias="Boss")
    connect(svc, "s1")
    with store_unchanged(svc):
        send(svc, "s1", {"action": "report", "reason": "spam"})
    assert _error(svc.notifier.take("s1")) == ("not_in_chat", "report")
    assert svc.notifier.take("boss") == []


def test_nobody_can_report_a_chat_that_is_not_theirs(svc: FakeServices) -> None:
    """Given two chats, when one seeker reports the other chat's session, then `not_in_chat`
    and nothing is stored."""
    _chat(svc, "s1", "v1")
    other = _chat(svc, "s2", "v2")
    with store_unchanged(svc):
        send(svc, "s1", {"action": "report", "reason": "spam", "sessionId": other})
    assert _error(svc.notifier.take("s1")) == ("not_in_chat", "report")


# ---- block -----------------------------------------------------------------------------------


def test_block_ends_the_chat_and_the_pair_is_never_matched_again(svc: FakeServices) -> None:
    """Given a chat, when the seeker blocks the volunteer, then both get `ended` reason blocked;
    when the seeker waits again and the volunteer is free, the matcher pairs nothing, and a
    different volunteer is matched with the seeker."""
    session = _chat(svc)
    send(svc, "s1", {"action": "block"})
    assert svc.notifier.take("s1") == [{"type": "ended", "sessionId": session, "reason": "blocked"}]
    assert svc.notifier.take("v1") == [{"type": "ended", "sessionId": session, "reason": "blocked"}]

    send(svc, "s1", {"action": "match"})
    # v1, the only one on shift, is blocked: nobody on shift can take them, and they hear it.
    [queued, lines] = svc.notifier.take("s1")
    assert queued["volunteersOnShift"] == 0 and lines["reason"] == "unavailable"
    assert _active(svc, "v1") == 0
    assert run_matcher(svc) == 0
    assert svc.notifier.take("v1") == [] and svc.notifier.take("s1") == []

    volunteer(svc, "v2")
    assert run_matcher(svc) == 1
    assert svc.notifier.types("v2") == ["matched"]


def test_a_block_is_kept_as_its_own_item_for_the_block_retention(svc: FakeServices) -> None:
    """Given a chat, when the seeker blocks the volunteer, then the store holds one block
    naming only the volunteer's account and the seeker's anonymous key, which expires after
    BLOCK_RETENTION_DAYS (90 by default)."""
    _chat(svc)
    key = _seeker_key(svc, "s1")
    send(svc, "s1", {"action": "block"})
    assert svc.store.blocks == {("user-v1", key): True}
    assert svc.store.blocks.expires == {("user-v1", key): int(svc.clock()) + 90 * 86400}


def test_a_volunteer_can_block_a_seeker(svc: FakeServices) -> None:
    """Given a chat, when the volunteer blocks, then both hear `blocked` and the same seeker is
    not matched with that volunteer again."""
    _chat(svc)
    send(svc, "v1", {"action": "block"})
    assert svc.notifier.types("s1") == ["ended"]
    assert svc.notifier.types("v1") == ["ended"]
    send(svc, "s1", {"action": "match"})
    assert run_matcher(svc) == 0


def test_block_outside_a_chat_is_refused(svc: FakeServices) -> None:
    """Given a seeker who is not in a chat, when they block, then `not_in_chat` and nothing
    changes."""
    connect(svc, "s1")
    with store_unchanged(svc):
        send(svc, "s1", {"action": "block"})
    assert _error(svc.notifier.take("s1")) == ("not_in_chat", "block")


def test_a_volunteer_can_block_a_seeker_whose_connection_is_gone(svc: FakeServices) -> None:
    """Given a chat whose seeker's connection is already gone (its item deleted, its socket
    closed), when the volunteer blocks, then the volunteer gets `ended` reason blocked (no
    error), their slot is free, and no connection item is made up for the seeker."""
    session = _chat(svc)
    svc.connections.delete_connection("s1")
    svc.notifier.gone.add("s1")
    send(svc, "v1", {"action": "block"})
    assert svc.notifier.take("v1") == [{"type": "ended", "sessionId": session, "reason": "blocked"}]
    assert _active(svc, "v1") == 0
    assert svc.connections.get_connection("s1") is None
    assert "s1" not in svc.store.conns
    stored = svc.chats.get_session(session)
    assert stored is not None and stored.active is False


# ---- feedback --------------------------------------------------------------------------------


def test_feedback_after_the_chat_is_thanked_and_not_stored(svc: FakeServices) -> None:
    """Given a chat that ended, when the seeker rates it with a comment, then they get `thanks`
    and the store is not touched (the comment is kept nowhere)."""
    session = _chat(svc)
    send(svc, "s1", {"action": "end"})
    svc.notifier.take("s1")
    with store_unchanged(svc):
        send(
            svc,
            "s1",
            {"action": "feedback", "sessionId": session, "rating": 5, "comment": "so kind"},
        )
    assert svc.notifier.take("s1") == [{"type": "thanks"}]
    assert svc.store.mentioning("so kind") == []


def test_feedback_during_the_chat_is_refused(svc: FakeServices) -> None:
    """Given a chat in progress, when the seeker sends feedback for it, then `not_in_chat` and
    nothing changes."""
    session = _chat(svc)
    with store_unchanged(svc):
        send(svc, "s1", {"action": "feedback", "sessionId": session, "rating": 4})
    assert _error(svc.notifier.take("s1")) == ("not_in_chat", "feedback")


def test_feedback_is_only_for_the_seekers_own_chat(svc: FakeServices) -> None:
    """Given two ended chats, when a seeker sends feedback naming the other chat, then
    `not_in_chat`; when a volunteer sends feedback, `not_allowed`."""
    mine = _chat(svc, "s1", "v1")
    other = _chat(svc, "s2", "v2")
    send(svc, "s1", {"action": "end"})
    send(svc, "s2", {"action": "end"})
    svc.notifier.forget_all()
    with store_unchanged(svc):
        send(svc, "s1", {"action": "feedback", "sessionId": other, "rating": 1})
        send(svc, "v1", {"action": "feedback", "sessionId": mine, "rating": 1})
    assert _error(svc.notifier.take("s1")) == ("not_in_chat", "feedback")
    assert _error(svc.notifier.take("v1")) == ("not_allowed", "feedback")


# ---- resources -------------------------------------------------------------------------------


def test_anyone_can_ask_for_crisis_lines(svc: FakeServices) -> None:
    """Given a seeker not in any chat, when they ask for resources for Canada, then they get
    Canada's line, then the international one, reason requested, and nothing is stored."""
    connect(svc, "s1")
    with store_unchanged(svc):
        send(svc, "s1", {"action": "resources", "country": "ca"})
    [frame] = svc.notifier.take("s1")
    assert frame["type"] == "resources" and frame["reason"] == "requested"
    assert [i["country"] for i in frame["items"]] == ["CA", "INTL", "INTL"]


def test_resources_without_a_country_use_the_deployments_default() -> None:
    """Given a deployment whose default country is GB, when a volunteer asks for resources
    without a country, then they get the GB line first."""
    svc = make_services(default_country="GB")
    connect(svc, "v1", "volunteer", user_id="u1", alias="Sam")
    send(svc, "v1", {"action": "resources"})
    [frame] = svc.notifier.take("v1")
    assert [i["country"] for i in frame["items"]] == ["GB", "INTL", "INTL"]


# ---- transfer --------------------------------------------------------------------------------


def test_transfer_hands_the_seeker_to_the_next_volunteer_with_the_note(
    svc: FakeServices,
) -> None:
    """Given a chat and a normal-priority seeker already waiting, when the volunteer transfers
    with a note (and goes on a break), then the volunteer gets `ended` transferred, the seeker
    (no `ended`) gets `queued` reason transfer at position 1, and the next volunteer's
    `matched` carries the note, ahead of the other seeker (who hears their place change);
    the note waits sealed, never in plain text."""
    session = _chat(svc)
    waiting(svc, "waiting")
    svc.notifier.take("waiting")
    note = "Talked about exams; prefers short messages"

    send(svc, "v1", {"action": "transfer", "sessionId": session, "note": note})
    send(svc, "v1", {"action": "availability", "available": False})

    assert svc.notifier.take("v1") == [
        {"type": "ended", "sessionId": session, "reason": "transferred"},
        {
            "type": "status",
            "available": False,
            "capacity": 1,
            "activeChats": 0,
            "checkin": "end_of_shift",
        },
    ]
    [queued, lines] = svc.notifier.take("s1")
    assert queued["type"] == "queued" and queued["reason"] == "transfer"
    assert queued["position"] == 1 and len(queued["resumeToken"]) >= 32
    # v1, still on shift, handed them on: nobody on shift can take them, and they hear it at
    # once (no guessed wait, the crisis lines); v1's break then is no news to them.
    assert queued["volunteersOnShift"] == 0 and "estimatedWaitSeconds" not in queued
    assert (lines["type"], lines["reason"]) == ("resources", "unavailable")
    assert svc.queue.waiting(1)[0].priority == PRIORITY_URGENT
    assert svc.store.mentioning(note) == []
    assert svc.work.reasons[-1] == "transfer"

    volunteer(svc, "v2")
    run_matcher(svc)
    [to_v2] = svc.notifier.take("v2")
    assert to_v2["note"] == note and to_v2["peer"]["role"] == "seeker"
    [on_shift_again, to_seeker] = svc.notifier.take("s1")
    assert on_shift_again == {"type": "position", "position": 1, "volunteersOnShift": 1}
    assert to_seeker["peer"]["alias"] == "Vol v2"
    assert "note" not in to_seeker
    # The other seeker was not matched: they heard they moved back behind the transferred
    # seeker, that nobody and then someone was on shift, then that they moved up again.
    assert [
        (f["type"], f.get("position"), f.get("volunteersOnShift"))
        for f in svc.notifier.take("waiting")
    ] == [
        ("position", 2, None),
        ("position", 2, 0),
        ("resources", None, None),
        ("position", 2, 1),
        ("position", 1, None),
    ]


def test_a_transferred_seeker_is_not_handed_back_to_the_samevolunteer(
    svc: FakeServices,
) -> None:
    """Given a volunteer with two slots who transfers one chat, when the matcher runs while that
    volunteer has the fewest chats, then the seeker goes to another volunteer, not back."""
    volunteer(svc, "v1", capacity=2)
    session = _chat(svc, "s1", "v1")
    volunteer(svc, "v2", capacity=3)
    _chat(svc, "s2", "v2")  # v2 has more chats than v1 will have after the transfer
    send(svc, "v1", {"action": "transfer", "sessionId": session})
    svc.notifier.forget_all()
    run_matcher(svc)
    assert svc.notifier.types("v1") == []
    assert svc.notifier.types("v2") == ["matched"]


def test_only_a_volunteer_can_transfer_and_only_their_own_chat(svc: FakeServices) -> None:
    """Given two chats, when a seeker transfers, then `not_allowed`; when a volunteer transfers
    the other volunteer's chat, then `not_in_chat`; nothing changes either way."""
    mine = _chat(svc, "s1", "v1")
    other = _chat(svc, "s2", "v2")
    with store_unchanged(svc):
        send(svc, "s1", {"action": "transfer", "sessionId": mine})
        send(svc, "v1", {"action": "transfer", "sessionId": other})
    assert _error(svc.notifier.take("s1")) == ("not_allowed", "transfer")
    assert _error(svc.notifier.take("v1")) == ("not_in_chat", "transfer")
    assert svc.notifier.take("s2") == []


# ---- forget ----------------------------------------------------------------------------------


def _about(svc: FakeServices, seeker: str, seeker_key: str) -> list[tuple[str, Any]]:
    return svc.store.mentioning(seeker, seeker_key)


def _seeker_key(svc: FakeServices, seeker: str) -> str:
    return svc.conn(seeker).seeker_key


def test_forget_deletes_everything_about_the_seeker_and_closes(svc: FakeServices) -> None:
    """Given a seeker in a chat, when they ask to be forgotten, then the volunteer hears
    `peer_left`, the seeker gets `forgotten` and their connection is closed, and no stored item
    mentions the seeker any more."""
    session = _chat(svc, intro="I need to talk about my family")
    key = _seeker_key(svc, "s1")
    assert _about(svc, "s1", key)

    send(svc, "s1", {"action": "forget"})

    assert svc.notifier.take("s1") == [{"type": "forgotten"}]
    assert svc.notifier.closed == ["s1"]
    assert svc.notifier.take("v1") == [
        {"type": "ended", "sessionId": session, "reason": "peer_left"}
    ]
    assert _about(svc, "s1", key) == []
    assert _active(svc, "v1") == 0


def test_forget_while_waiting_leaves_the_queue(svc: FakeServices) -> None:
    """Given a waiting seeker with an intro, when they ask to be forgotten, then the queue is
    empty, nothing mentions them, and a volunteer who comes is matched with nobody."""
    waiting(svc, "s1", intro="I need to talk")
    key = _seeker_key(svc, "s1")
    send(svc, "s1", {"action": "forget"})
    assert svc.notifier.take("s1")[-1] == {"type": "forgotten"}
    assert _about(svc, "s1", key) == []
    volunteer(svc, "v1")
    assert run_matcher(svc) == 0


@pytest.mark.parametrize("listed", [True, False], ids=["listed", "not-listed"])
def test_forget_after_a_block_deletes_the_block_too(svc: FakeServices, listed: bool) -> None:
    """Given a seeker who blocked a volunteer and then waits again (with the block listed on
    their connection record or not), when they ask to be forgotten, then no stored record
    mentions their key, the block included: it bound a key that no connection can use again."""
    _chat(svc)
    key = _seeker_key(svc, "s1")
    send(svc, "s1", {"action": "block"})
    if not listed:
        conn = svc.store.conns["s1"]
        svc.store.conns["s1"] = replace(conn, blocked_users=frozenset())
    send(svc, "s1", {"action": "match"})
    assert svc.store.mentioning(key)
    send(svc, "s1", {"action": "forget"})
    assert _about(svc, "s1", key) == []
    assert svc.store.blocks == {}


def test_only_a_seeker_can_be_forgotten(svc: FakeServices) -> None:
    """Given a volunteer, when they send `forget`, then `not_allowed`, the connection stays open
    and nothing changes."""
    volunteer(svc, "v1")
    with store_unchanged(svc):
        send(svc, "v1", {"action": "forget"})
    assert _error(svc.notifier.take("v1")) == ("not_allowed", "forget")
    assert svc.notifier.closed == []


def test_forget_after_a_transfer_deletes_everything_about_the_seeker(svc: FakeServices) -> None:
    """Given a seeker who was transferred to a second volunteer, when they ask to be forgotten,
    then no stored item mentions them any more (nor their first resume ticket)."""
    session = _chat(svc)
    key = _seeker_key(svc, "s1")
    send(svc, "v1", {"action": "transfer", "sessionId": session})
    volunteer(svc, "v2")
    run_matcher(svc)
    send(svc, "s1", {"action": "forget"})
    assert _about(svc, "s1", key) == []


def test_forget_after_two_chats_deletes_everything_about_the_seeker(svc: FakeServices) -> None:
    """Given a seeker who had a chat, ended it and had a second one, when they ask to be
    forgotten, then no stored item mentions them any more (nor their first chat)."""
    _chat(svc)
    key = _seeker_key(svc, "s1")
    send(svc, "s1", {"action": "end"})
    send(svc, "s1", {"action": "match"})
    run_matcher(svc)
    send(svc, "s1", {"action": "forget"})
    assert _about(svc, "s1", key) == []


def _tickets(svc: FakeServices, seeker: str) -> list[str]:
    """The hashes of the resume tickets stored for this seeker's connection."""
    return [h for h, (cid, _) in svc.store.tickets.items() if cid == seeker]


def test_a_seeker_holds_one_resume_token_at_a_time(svc: FakeServices) -> None:
    """Given a seeker who chats, ends, asks again and is then transferred, when each new
    `queued` brings a new resume token, then only the latest one's ticket is stored (the one
    the connection points at): an earlier token is no longer valid."""

    def only_the_latest_ticket() -> None:
        [queued] = [f for f in svc.notifier.take("s1") if f["type"] == "queued"]
        latest = hashlib.sha256(queued["resumeToken"].encode()).hexdigest()
        assert _tickets(svc, "s1") == [latest]
        conn = svc.connections.get_connection("s1")
        assert conn is not None and conn.resume_hash == latest

    volunteer(svc, "v1")
    connect(svc, "s1")
    send(svc, "s1", {"action": "match"})
    only_the_latest_ticket()
    run_matcher(svc)
    send(svc, "s1", {"action": "end"})
    send(svc, "s1", {"action": "match"})
    only_the_latest_ticket()
    run_matcher(svc)
    session = svc.notifier.take("s1")[-1]["sessionId"]
    send(svc, "v1", {"action": "transfer", "sessionId": session})
    only_the_latest_ticket()


# ---- ping ------------------------------------------------------------------------------------


def test_ping_is_answered_with_one_read_and_no_write(svc: FakeServices) -> None:
    """Given any connection, when it pings, then it gets `pong`, the store is read once (a
    resumed connection learns its outcome from its first ping) and never written."""
    connect(svc, "s1")
    before = svc.store.snapshot()
    svc.store.calls.clear()
    send(svc, "s1", {"action": "ping"})
    assert svc.notifier.take("s1") == [{"type": "pong"}]
    assert svc.store.calls == ["get_connection"]  # one read
    assert svc.store.snapshot() == before


# ---- crisis in a chat ------------------------------------------------------------------------


def test_a_risky_message_brings_crisis_lines_once_and_alerts_once(svc: FakeServices) -> None:
    """Given a chat and a supervisor on shift, when the seeker sends two messages that signal
    risk, then both messages reach the volunteer, the seeker gets `resources` reason crisis
    once, and the volunteer and the supervisor each get one `alert` kind risk for the chat."""
    connect(svc, "boss", "supervisor", user_id="u-boss", alias="Boss")
    session = _chat(svc)

    send(svc, "s1", {"action": "message", "text": RISKY, "seq": 0})
    send(svc, "s1", {"action": "message", "text": "I really want to die", "seq": 1})

    to_vol = svc.notifier.take("v1")
    assert [(f["type"], f.get("seq")) for f in to_vol] == [
        ("message", 0),
        ("alert", None),
        ("message", 1),
    ]
    assert to_vol[1] == _alert(svc, "risk", session, "high")
    to_seeker = svc.notifier.take("s1")
    assert [(f["type"], f["reason"]) for f in to_seeker] == [("resources", "crisis")]
    assert to_seeker[0]["items"]
    assert svc.notifier.take("boss") == [_alert(svc, "risk", session, "high")]


def test_a_volunteers_words_raise_no_alarm(svc: FakeServices) -> None:
    """Given a chat, when the volunteer asks about suicide, then the message is delivered and no
    crisis lines or alerts go out (only what seekers write is checked)."""
    connect(svc, "boss", "supervisor", user_id="u-boss", alias="Boss")
    _chat(svc)
    send(svc, "v1", {"action": "message", "text": "Are you having thoughts of suicide?"})
    assert svc.notifier.types("s1") == ["message"]
    assert svc.notifier.take("boss") == []


def test_crisis_lines_come_again_in_a_new_chat(svc: FakeServices) -> None:
    """Given a seeker who got crisis lines in one chat, when they signal risk in their next
    chat, then they get crisis lines again (once per chat, not once ever)."""
    _chat(svc)
    send(svc, "s1", {"action": "message", "text": RISKY})
    send(svc, "s1", {"action": "end"})
    # The volunteer pauses after a chat at high risk (issue 12): the next chat comes after it.
    svc.clock.advance(svc.settings.risk_pause_minutes * 60)
    send(svc, "s1", {"action": "match"})
    run_matcher(svc)
    svc.notifier.forget_all()
    send(svc, "s1", {"action": "message", "text": RISKY})
    assert svc.notifier.types("s1") == ["resources"]


# ---- bad frames and failures -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_json"),
        (None, "invalid_json"),
        ('{"action": "dance"}', "unknown_action"),
        ('{"action": "message", "text": ""}', "invalid_request"),
    ],
)
def test_a_bad_frame_gets_an_error_and_changes_nothing(
    svc: FakeServices, body: str | None, code: str
) -> None:
    """Given a chat, when the seeker sends a bad frame, then the seeker gets an `error` with the
    protocol's code, the volunteer gets nothing, and nothing changes; the chat goes on."""
    _chat(svc)
    with store_unchanged(svc):
        send(svc, "s1", body)
    [err] = svc.notifier.take("s1")
    assert (err["type"], err["code"]) == ("error", code)
    assert svc.notifier.take("v1") == []
    send(svc, "s1", {"action": "message", "text": "still here"})
    assert svc.notifier.types("v1") == ["message"]


def test_an_unknown_connection_is_told_to_reconnect(svc: FakeServices) -> None:
    """Given a connection the store does not know (expired or never recorded), when it sends a
    frame, then it gets `error` internal and nothing is stored."""
    with store_unchanged(svc):
        send(svc, "ghost", {"action": "match"})
    assert _error(svc.notifier.take("ghost")) == ("internal", "match")


def test_a_failure_inside_never_reaches_the_client_as_a_stack_trace(
    svc: FakeServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a store that fails unexpectedly, when a seeker asks for a match, then they get
    `error` internal with a plain message and the failure's details are not in it."""
    connect(svc, "s1")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("DynamoDB table arn:aws:dynamodb:secret-detail exploded")

    monkeypatch.setattr(svc.store, "enqueue", broken)
    send(svc, "s1", {"action": "match", "clientMsgId": "c1"})
    [err] = svc.notifier.take("s1")
    assert (err["code"], err["action"]) == ("internal", "match")
    assert "secret-detail" not in err["message"] and "Traceback" not in err["message"]


def test_the_pool_is_untouched_by_a_seekers_chat_actions(svc: FakeServices) -> None:
    """Given a chat, when the seeker writes and types, then the volunteer's slot is unchanged
    (the hot path never writes)."""
    _chat(svc)
    before = svc.store.snapshot()["slots"]
    send(svc, "s1", {"action": "message", "text": "hello"})
    send(svc, "s1", {"action": "typing"})
    assert svc.store.snapshot()["slots"] == before


def test_a_transferred_seeker_keeps_the_language_they_asked_for(svc: FakeServices) -> None:
    """Given a seeker who asked for a Spanish-speaking volunteer (their connection says en),
    when they are transferred and only an English-only volunteer is free, then they are not
    matched with that volunteer."""
    connect(svc, "es1", "volunteer", user_id="user-es1", alias="Vol es1")
    send(svc, "es1", {"action": "availability", "available": True, "languages": ["es"]})
    session = _chat(svc, "s1", "es1", language="es")
    send(svc, "es1", {"action": "transfer", "sessionId": session})
    send(svc, "es1", {"action": "availability", "available": False})
    volunteer(svc, "en1")
    run_matcher(svc)
    assert svc.notifier.take("en1") == []


def test_a_transferred_seeker_goes_to_a_volunteer_who_speaks_their_language(
    svc: FakeServices,
) -> None:
    """Given a seeker who asked for Spanish (their connection says en), when they are
    transferred and an English-only and a Spanish-speaking volunteer are free, then the
    Spanish-speaking one gets them."""
    volunteer(svc, "es1", languages=["es"])
    session = _chat(svc, "s1", "es1", language="es")
    send(svc, "es1", {"action": "transfer", "sessionId": session})
    volunteer(svc, "en1")
    volunteer(svc, "es2", languages=["es"])
    run_matcher(svc)
    assert svc.notifier.take("en1") == []
    assert svc.notifier.types("es2") == ["matched"]


def _transfer_to_v2(svc: FakeServices, session: str) -> dict[str, Any]:
    send(svc, "v1", {"action": "transfer", "sessionId": session})
    send(svc, "v1", {"action": "availability", "available": False})
    volunteer(svc, "v2")
    run_matcher(svc)
    [to_v2] = svc.notifier.take("v2")
    assert to_v2["type"] == "matched"
    return to_v2


def test_a_seeker_queued_at_risk_is_still_flagged_after_a_transfer(svc: FakeServices) -> None:
    """Given a seeker whose intro signalled risk, when their volunteer transfers them, then the
    next volunteer's `matched` carries `risk` too."""
    session = _chat(svc, intro=RISKY)
    assert _transfer_to_v2(svc, session)["risk"] == "high"


def test_a_crisis_in_the_chat_is_flagged_to_the_nextvolunteer(svc: FakeServices) -> None:
    """Given a seeker who came in without risk but signalled it during the chat, when their
    volunteer transfers them, then the next volunteer's `matched` carries `risk`."""
    session = _chat(svc, intro="I just need to talk")
    send(svc, "s1", {"action": "message", "text": RISKY})
    assert _transfer_to_v2(svc, session)["risk"] == "high"


def test_a_transfer_without_any_risk_raises_no_flag(svc: FakeServices) -> None:
    """Given a chat with no crisis signal, when it is transferred, then the next volunteer's
    `matched` has no `risk`."""
    session = _chat(svc, intro="I just need to talk")
    send(svc, "s1", {"action": "message", "text": "this exam is killing me"})
    assert "risk" not in _transfer_to_v2(svc, session)
