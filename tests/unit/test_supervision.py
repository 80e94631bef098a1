"""Supervision (issue 12): ask for help, step in, whisper, leave; on the fakes, as each sees it."""

from __future__ import annotations

from typing import Any

import pytest

from kindred.connections import disconnect
from kindred.protocol import iso_time
from kindred.requests import DisconnectRequest
from kindred.supervision import ESCALATE_AGAIN_AFTER_SECONDS
from tests.unit.harness import (
    FakeServices,
    connect,
    in_chat,
    send,
    store_unchanged,
    volunteer,
)

NOTE = "They mentioned a bridge near their home, can someone look in?"
WHISPER = "Ask them gently whether they are safe right now."


def _chat(svc: FakeServices, seeker: str = "s1", vol: str = "v1") -> str:
    """A seeker and volunteer `vol` (capacity 3) in a chat; its session id, frames taken."""
    return in_chat(svc, seeker, vol, capacity=3)


def _supervisor(svc: FakeServices, cid: str = "boss", alias: str = "Sam") -> str:
    connect(svc, cid, "supervisor", user_id=f"user-{cid}", alias=alias)
    svc.notifier.take(cid)
    return cid


def _joined(svc: FakeServices, session: str, sup: str = "boss") -> None:
    send(svc, sup, {"action": "join", "sessionId": session})
    svc.notifier.forget_all()


def _error(frames: list[dict[str, Any]]) -> tuple[str, str | None]:
    [err] = frames
    assert err["type"] == "error", frames
    return err["code"], err.get("action")


def _texts(frames: list[dict[str, Any]]) -> list[tuple[str, str | None, str]]:
    return [(f["type"], f.get("from"), f.get("text", "")) for f in frames]


# ---- escalate ------------------------------------------------------------------------------


def test_an_escalation_alerts_the_supervisors_on_shift_with_the_note(svc: FakeServices) -> None:
    """Given a chat and a supervisor on shift,
    When the volunteer asks a supervisor with a note,
    Then the supervisor gets `alert` kind `escalation` naming the chat, its volunteer, the
    seeker's alias, when it started, and the note; the volunteer hears `escalated` (sent, to
    one supervisor); the note is stored nowhere."""
    session = _chat(svc)
    _supervisor(svc)
    stored = svc.chats.get_session(session)
    assert stored is not None
    send(svc, "v1", {"action": "escalate", "sessionId": session, "note": NOTE})
    assert svc.notifier.take("boss") == [
        {
            "type": "alert",
            "kind": "escalation",
            "sessionId": session,
            "at": iso_time(svc.clock()),
            "volunteer": "Vol v1",
            "seeker": stored.seeker_alias,
            "startedAt": iso_time(stored.started_at_ms / 1000),
            "note": NOTE,
        }
    ]
    assert svc.notifier.take("v1") == [
        {
            "type": "escalated",
            "sessionId": session,
            "sent": True,
            "alertedAt": iso_time(svc.clock()),
            "supervisorsOnShift": 1,
        }
    ]
    assert svc.notifier.take("s1") == []
    assert svc.store.mentioning(NOTE, "bridge") == []


def test_a_repeated_escalation_alerts_again_only_after_two_minutes(svc: FakeServices) -> None:
    """Given a chat whose volunteer has just asked a supervisor,
    When they ask again within two minutes, Then the supervisors are not alerted again and the
    volunteer hears when they were; once two minutes have passed, the next ask alerts again."""
    session = _chat(svc)
    _supervisor(svc)
    send(svc, "v1", {"action": "escalate"})
    first = iso_time(svc.clock())
    svc.notifier.forget_all()
    svc.clock.advance(ESCALATE_AGAIN_AFTER_SECONDS - 1)
    send(svc, "v1", {"action": "escalate", "note": "again"})
    assert svc.notifier.take("boss") == []
    assert svc.notifier.take("v1") == [
        {"type": "escalated", "sessionId": session, "sent": False, "alertedAt": first}
    ]
    svc.clock.advance(1)
    send(svc, "v1", {"action": "escalate"})
    assert [f["kind"] for f in svc.notifier.take("boss")] == ["escalation"]
    assert svc.notifier.take("v1")[0]["sent"] is True


def test_an_escalation_with_nobody_on_shift_says_so(svc: FakeServices) -> None:
    """Given no supervisor on shift, When the volunteer asks one, Then `escalated` says that
    nobody was alerted (0), so the volunteer knows to act on their own steps."""
    _chat(svc)
    send(svc, "v1", {"action": "escalate"})
    [answer] = svc.notifier.take("v1")
    assert (answer["sent"], answer["supervisorsOnShift"]) == (True, 0)


@pytest.mark.parametrize(
    ("sender", "frame", "code"),
    [
        ("s1", {"action": "escalate"}, "not_allowed"),
        ("v2", {"action": "escalate"}, "not_in_chat"),
        ("v1", {"action": "escalate", "sessionId": "nope"}, "not_in_chat"),
        ("v1", {"action": "escalate", "note": "n" * 501}, "invalid_request"),
    ],
)
def test_an_escalation_that_is_not_the_senders_to_make_changes_nothing(
    svc: FakeServices, sender: str, frame: dict[str, Any], code: str
) -> None:
    """Given a chat, When a seeker, another volunteer, or its volunteer naming another chat or
    with a note over 500 characters asks a supervisor, Then an `error` and nothing else."""
    _chat(svc)
    volunteer(svc, "v2")
    _supervisor(svc)
    with store_unchanged(svc):
        send(svc, sender, frame)
    assert _error(svc.notifier.take(sender)) == (code, "escalate")
    assert svc.notifier.take("boss") == []


# ---- join, message, whisper, leave -----------------------------------------------------------


def test_a_supervisor_joins_and_both_sides_are_told(svc: FakeServices) -> None:
    """Given a chat, When a supervisor joins it, Then they get `joined` (who is in it, since
    when), the volunteer `supervisor_joined` with the supervisor's name, the seeker
    `supervisor_joined` without it."""
    session = _chat(svc)
    _supervisor(svc)
    stored = svc.chats.get_session(session)
    assert stored is not None
    send(svc, "boss", {"action": "join", "sessionId": session})
    assert svc.notifier.take("boss") == [
        {
            "type": "joined",
            "sessionId": session,
            "volunteer": "Vol v1",
            "seeker": stored.seeker_alias,
            "startedAt": iso_time(stored.started_at_ms / 1000),
        }
    ]
    assert svc.notifier.take("v1") == [
        {"type": "supervisor_joined", "sessionId": session, "supervisor": "Sam"}
    ]
    assert svc.notifier.take("s1") == [{"type": "supervisor_joined", "sessionId": session}]


def test_in_a_joined_chat_every_message_reaches_all_three_and_says_who_wrote_it(
    svc: FakeServices,
) -> None:
    """Given a chat a supervisor joined, When the seeker, the volunteer and the supervisor each
    write, Then each message reaches the two others with `from`; each costs the store the one
    call a relay always makes."""
    session = _chat(svc)
    _supervisor(svc)
    _joined(svc, session)
    for sender, words in (("s1", "hello"), ("v1", "hi there"), ("boss", "I am here too")):
        svc.store.calls.clear()
        frame: dict[str, Any] = {"action": "message", "text": words}
        if sender != "s1":
            frame["sessionId"] = session
        send(svc, sender, frame)
        assert svc.store.calls == ["count_action"]
    side = {"s1": "seeker", "v1": "volunteer", "boss": "supervisor"}
    for reader in ("s1", "v1", "boss"):
        got = [(f["from"], f["text"]) for f in svc.notifier.take(reader)]
        expected = [
            (side[who], words)
            for who, words in (("s1", "hello"), ("v1", "hi there"), ("boss", "I am here too"))
            if who != reader
        ]
        assert got == expected, reader


def test_a_chat_nobody_joined_keeps_its_messages_as_version_1_has_them(svc: FakeServices) -> None:
    """Given a chat no supervisor joined, When the seeker writes, Then the volunteer's
    `message` has no `from` (only a joined chat says who wrote)."""
    _chat(svc)
    send(svc, "s1", {"action": "message", "text": "hello"})
    [got] = svc.notifier.take("v1")
    assert "from" not in got


def test_a_whisper_never_reaches_the_seeker(svc: FakeServices) -> None:
    """Given a chat a supervisor joined, When the volunteer whispers and the supervisor
    whispers back, Then each reaches only the other of the two, and the seeker gets nothing;
    a whisper costs one store call and is stored nowhere."""
    session = _chat(svc)
    _supervisor(svc)
    _joined(svc, session)
    svc.store.calls.clear()
    send(svc, "v1", {"action": "whisper", "sessionId": session, "text": WHISPER})
    assert svc.store.calls == ["count_action"]
    send(svc, "boss", {"action": "whisper", "sessionId": session, "text": "Will do."})
    assert _texts(svc.notifier.take("boss")) == [("whisper", "volunteer", WHISPER)]
    assert _texts(svc.notifier.take("v1")) == [("whisper", "supervisor", "Will do.")]
    assert svc.notifier.take("s1") == []
    assert svc.store.mentioning(WHISPER, "Will do.") == []


@pytest.mark.parametrize(
    ("sender", "frame", "code"),
    [
        ("s1", {"action": "whisper", "text": "psst"}, "not_allowed"),
        ("v1", {"action": "whisper", "text": "psst"}, "not_in_chat"),
        ("boss", {"action": "whisper", "text": "psst"}, "not_in_chat"),
        ("v1", {"action": "whisper", "text": "\u0007"}, "invalid_request"),
    ],
)
def test_a_whisper_without_a_supervisor_between_the_two_is_refused(
    svc: FakeServices, sender: str, frame: dict[str, Any], code: str
) -> None:
    """Given a chat no supervisor joined, When the seeker, the volunteer or a supervisor
    whispers (or the text is empty once cleaned), Then an `error` and nobody hears it."""
    _chat(svc)
    _supervisor(svc)
    with store_unchanged(svc):
        send(svc, sender, frame)
    assert _error(svc.notifier.take(sender)) == (code, "whisper")
    for other in {"s1", "v1", "boss"} - {sender}:
        assert svc.notifier.take(other) == []


@pytest.mark.parametrize(
    ("sender", "code"),
    [("v1", "not_allowed"), ("s1", "not_allowed"), ("boss2", "already_in_chat")],
)
def test_one_supervisor_per_chat_and_only_a_supervisor_joins(
    svc: FakeServices, sender: str, code: str
) -> None:
    """Given a chat supervisor "boss" joined, When the volunteer, the seeker or a second
    supervisor asks to join it, Then an `error`, and nothing changes."""
    session = _chat(svc)
    _supervisor(svc)
    _supervisor(svc, "boss2", "Alex")
    _joined(svc, session)
    with store_unchanged(svc):
        send(svc, sender, {"action": "join", "sessionId": session})
    assert _error(svc.notifier.take(sender)) == (code, "join")
    assert svc.notifier.take("s1") == [] and svc.notifier.take("v1") == []


def test_joining_an_ended_or_unknown_chat_is_refused(svc: FakeServices) -> None:
    """Given a chat that ended, When a supervisor asks to join it or one that never was, Then
    `not_in_chat`, and nothing changes."""
    session = _chat(svc)
    _supervisor(svc)
    send(svc, "v1", {"action": "end", "sessionId": session})
    svc.notifier.forget_all()
    for target in (session, "no-such-chat"):
        with store_unchanged(svc):
            send(svc, "boss", {"action": "join", "sessionId": target})
        assert _error(svc.notifier.take("boss")) == ("not_in_chat", "join")


def test_after_the_supervisor_leaves_the_chat_is_as_before(svc: FakeServices) -> None:
    """Given a chat a supervisor joined, When they leave, Then the three hear
    `supervisor_left`; messages reach only the peer again, without `from`; a whisper is
    refused; the links are gone from every item."""
    session = _chat(svc)
    _supervisor(svc)
    _joined(svc, session)
    send(svc, "boss", {"action": "leave", "sessionId": session})
    for cid in ("s1", "v1", "boss"):
        assert svc.notifier.take(cid) == [{"type": "supervisor_left", "sessionId": session}]
    send(svc, "s1", {"action": "message", "text": "still there?"})
    assert [("from" in f, f["text"]) for f in svc.notifier.take("v1")] == [(False, "still there?")]
    assert svc.notifier.take("boss") == []
    send(svc, "v1", {"action": "whisper", "text": "psst"})
    assert _error(svc.notifier.take("v1")) == ("not_in_chat", "whisper")
    assert (svc.conn("s1").supervisor_id, svc.conn("v1").supervisors) == (None, {})
    assert svc.conn("boss").joined == {}
    stored = svc.chats.get_session(session)
    assert stored is not None and stored.supervisor_id is None


def test_leaving_a_chat_not_joined_is_refused(svc: FakeServices) -> None:
    """Given a chat, When a supervisor who did not join it leaves it, Then `not_in_chat`."""
    session = _chat(svc)
    _supervisor(svc)
    with store_unchanged(svc):
        send(svc, "boss", {"action": "leave", "sessionId": session})
    assert _error(svc.notifier.take("boss")) == ("not_in_chat", "leave")


@pytest.mark.parametrize(
    ("ender", "frame", "supervisor_hears"),
    [
        ("s1", {"action": "end"}, "ended_by_peer"),
        ("v1", {"action": "end"}, "ended_by_peer"),
        ("v1", {"action": "block"}, "blocked"),
        ("v1", {"action": "transfer"}, "transferred"),
    ],
)
def test_a_chat_that_ends_tells_its_supervisor_and_clears_the_links(
    svc: FakeServices, ender: str, frame: dict[str, Any], supervisor_hears: str
) -> None:
    """Given a chat a supervisor joined, When a side ends it (or blocks, or transfers), Then
    the supervisor hears `ended` with the reason the side that did not end it heard (a
    transfer: `transferred`), and no item links them to the chat any more."""
    session = _chat(svc)
    _supervisor(svc)
    _joined(svc, session)
    send(svc, ender, frame | ({"sessionId": session} if ender == "v1" else {}))
    assert svc.notifier.take("boss") == [
        {"type": "ended", "sessionId": session, "reason": supervisor_hears}
    ]
    assert svc.conn("boss").joined == {}
    assert svc.conn("s1").supervisor_id is None
    send(svc, "boss", {"action": "message", "sessionId": session, "text": "hello?"})
    assert _error(svc.notifier.take("boss")) == ("not_in_chat", "message")


def test_a_supervisor_whose_connection_closes_leaves_and_the_chat_goes_on(
    svc: FakeServices,
) -> None:
    """Given a chat a supervisor joined, When the supervisor's $disconnect runs, Then the
    volunteer and the seeker hear `supervisor_left`, and they go on talking."""
    session = _chat(svc)
    _supervisor(svc)
    _joined(svc, session)
    svc.notifier.gone.add("boss")
    disconnect(svc, DisconnectRequest("boss", 1001, "Going away"))
    for cid in ("s1", "v1"):
        assert svc.notifier.take(cid) == [{"type": "supervisor_left", "sessionId": session}]
    send(svc, "s1", {"action": "message", "text": "are you there?"})
    assert [f["text"] for f in svc.notifier.take("v1")] == ["are you there?"]
    stored = svc.chats.get_session(session)
    assert stored is not None and stored.active and stored.supervisor_id is None


def test_a_gone_supervisor_never_ends_the_chat_for_the_others(svc: FakeServices) -> None:
    """Given a chat whose supervisor's socket is gone (410) before their $disconnect ran,
    When the seeker writes, Then the volunteer gets the message, the sender no error, the
    chat goes on, and the two hear that the supervisor left."""
    session = _chat(svc)
    _supervisor(svc)
    _joined(svc, session)
    svc.notifier.gone.add("boss")
    send(svc, "s1", {"action": "message", "text": "hello", "clientMsgId": "m1"})
    assert _texts(svc.notifier.take("v1")) == [
        ("message", "seeker", "hello"),
        ("supervisor_left", None, ""),
    ]
    assert svc.notifier.take("s1") == [{"type": "supervisor_left", "sessionId": session}]
    stored = svc.chats.get_session(session)
    assert stored is not None and stored.active


def test_a_seeker_who_comes_back_is_still_in_the_supervised_chat(svc: FakeServices) -> None:
    """Given a chat a supervisor joined, When the seeker's socket drops and they resume on a
    new connection, Then the supervisor hears `peer_away` then `peer_back`, and what the
    supervisor writes reaches the seeker's new connection."""
    from kindred.connections import connect as on_connect
    from kindred.requests import ConnectRequest

    session = _chat(svc)
    token = [f for f in svc.notifier.wire["s1"] if "resumeToken" in f][-1]["resumeToken"]
    _supervisor(svc)
    _joined(svc, session)
    svc.notifier.gone.add("s1")
    disconnect(svc, DisconnectRequest("s1", 1001, "Going away"))
    on_connect(svc, ConnectRequest("s2", "", "", "", {"resume": token}))
    assert [f["type"] for f in svc.notifier.take("boss")] == ["peer_away", "peer_back"]
    send(svc, "boss", {"action": "message", "sessionId": session, "text": "welcome back"})
    assert svc.conn("s2").supervisor_id == "boss"
    assert ("message", "supervisor", "welcome back") in _texts(svc.notifier.take("s2"))


def test_a_supervisor_may_join_several_chats_and_must_name_one(svc: FakeServices) -> None:
    """Given a supervisor who joined two chats, When they write without `sessionId`, Then
    `session_required`; naming one, it reaches that chat only."""
    first = _chat(svc, "s1", "v1")
    second = _chat(svc, "s2", "v2")
    _supervisor(svc)
    _joined(svc, first)
    _joined(svc, second)
    send(svc, "boss", {"action": "message", "text": "hi"})
    assert _error(svc.notifier.take("boss")) == ("session_required", "message")
    send(svc, "boss", {"action": "message", "sessionId": second, "text": "hi"})
    assert svc.notifier.take("s1") == [] and svc.notifier.take("v1") == []
    assert [f["text"] for f in svc.notifier.take("s2")] == ["hi"]


def test_the_sweeper_unlinks_a_supervisor_whose_connection_item_is_gone(
    svc: FakeServices,
) -> None:
    """Given a chat whose supervisor's connection item is gone with its links left behind (a
    release cut short), When the sweeper runs, Then the supervisor leaves the chat: both sides
    hear `supervisor_left`, no item names them, and the chat goes on."""
    from kindred.sweeper import sweep

    session = _chat(svc)
    _supervisor(svc)
    _joined(svc, session)
    svc.notifier.gone.add("boss")
    svc.store.conns.drop("boss")
    sweep(svc)
    for cid in ("s1", "v1"):
        assert svc.notifier.take(cid) == [{"type": "supervisor_left", "sessionId": session}]
    stored = svc.chats.get_session(session)
    assert stored is not None and stored.active and stored.supervisor_id is None
    assert svc.conn("s1").supervisor_id is None and svc.conn("v1").supervisors == {}
