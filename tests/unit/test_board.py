"""The supervisors' board (issue 12): what it shows, when it is pushed, what it costs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kindred import board
from kindred.matching import run_matcher
from kindred.protocol import iso_time
from tests.unit.harness import (
    FakeServices,
    connect,
    send,
    store_unchanged,
    volunteer,
)

INTRO = "My exam results came today and I can't stop crying."


def _supervisor(svc: FakeServices, cid: str = "boss", *, subscribe: bool = True) -> str:
    connect(svc, cid, "supervisor", user_id=f"user-{cid}", alias="Sam")
    if subscribe:
        send(svc, cid, {"action": "board", "subscribe": True})
    svc.notifier.take(cid)
    svc.work.reasons.clear()
    return cid


def _boards(svc: FakeServices, cid: str = "boss") -> list[dict[str, Any]]:
    return [f for f in svc.notifier.take(cid) if f["type"] == "board"]


def _deliver_board_items(svc: FakeServices) -> int:
    """What the matcher does with the visible `board` work items: one push for them all."""
    due = [r for r in svc.work.reasons if r == "board"]
    svc.work.reasons[:] = [r for r in svc.work.reasons if r != "board"]
    return board.push(svc) if due else 0


def _chat(svc: FakeServices, seeker: str = "s1", vol: str = "v1", **match: Any) -> str:
    if svc.connections.get_connection(vol) is None:
        volunteer(svc, vol, capacity=3)
    connect(svc, seeker)
    send(svc, seeker, {"action": "match", **match})
    svc.clock.advance(1)
    run_matcher(svc)
    session: str = svc.notifier.take(seeker)[-1]["sessionId"]
    return session


def test_only_a_supervisor_sees_the_board(svc: FakeServices) -> None:
    """Given a volunteer and a seeker, When either asks for the board, Then `not_allowed`, and
    nothing changes."""
    volunteer(svc, "v1")
    connect(svc, "s1")
    for cid in ("v1", "s1"):
        with store_unchanged(svc):
            send(svc, cid, {"action": "board", "subscribe": True})
        [err] = svc.notifier.take(cid)
        assert (err["code"], err["action"]) == ("not_allowed", "board")


def test_subscribing_sends_the_board_at_once_and_it_holds_no_text(svc: FakeServices) -> None:
    """Given a volunteer in a chat at risk that they escalated, a seeker waiting in Spanish and
    one in English, When a supervisor subscribes, Then the board comes at once: the queue (2
    waiting, the longest wait, none at risk, by language), the volunteer (1 of 3 chats), and
    the chat (who, since when, its level, escalated, nobody joined); no intro, no text."""
    session = _chat(svc, intro="I want to kill myself")
    send(svc, "v1", {"action": "escalate", "note": "please look"})
    connect(svc, "w1")
    send(svc, "w1", {"action": "match", "language": "es", "intro": INTRO})
    svc.clock.advance(30)
    connect(svc, "w2")
    send(svc, "w2", {"action": "match"})
    svc.clock.advance(5)
    stored = svc.chats.get_session(session)
    assert stored is not None
    slot = svc.pool.get_slot("v1")
    assert slot is not None and slot.on_shift_since_ms
    connect(svc, "boss", "supervisor", user_id="user-boss", alias="Sam")
    send(svc, "boss", {"action": "board", "subscribe": True})
    [frame] = svc.notifier.take("boss")
    assert frame == {
        "type": "board",
        "at": iso_time(svc.clock()),
        "queue": {
            "waiting": 2,
            "longestWaitSeconds": 35,
            "atRisk": 0,
            "byLanguage": {"en": 1, "es": 1},
        },
        "volunteers": [
            {
                "name": "Vol v1",
                "role": "volunteer",
                "available": True,
                "activeChats": 1,
                "capacity": 3,
                "onShiftSince": iso_time(slot.on_shift_since_ms / 1000),
            }
        ],
        "chats": [
            {
                "sessionId": session,
                "volunteer": "Vol v1",
                "seeker": stored.seeker_alias,
                "startedAt": iso_time(stored.started_at_ms / 1000),
                "level": stored.level,
                "escalated": True,
            }
        ],
    }
    assert stored.level in ("high", "imminent")
    wire = json.dumps(frame)
    assert "exam" not in wire and "kill" not in wire and "please look" not in wire


def test_a_change_pushes_the_board_once_two_seconds_later(svc: FakeServices) -> None:
    """Given a supervisor subscribed, When seekers join the queue three times in a second,
    Then one `board` work item is sent, delayed 2 s, and one push reaches the supervisor;
    a change after the push claims the next one."""
    _supervisor(svc)
    for cid in ("s1", "s2", "s3"):
        connect(svc, cid)
        send(svc, cid, {"action": "match"})
    assert svc.work.delayed.count(("board", board.PUSH_DELAY_SECONDS)) == 1
    assert "board" not in svc.work.reasons
    svc.clock.advance(board.PUSH_DELAY_SECONDS)
    assert _deliver_board_items(svc) == 1
    [pushed] = _boards(svc)
    assert pushed["queue"]["waiting"] == 3
    connect(svc, "s4")
    send(svc, "s4", {"action": "match"})
    assert [r for r, _ in svc.work.delayed].count("board") == 1


def test_with_nobody_subscribed_a_change_costs_one_refused_write(svc: FakeServices) -> None:
    """Given no supervisor subscribed, When a seeker joins the queue, Then the board's only
    cost is one claim (refused): no work item, no push."""
    _supervisor(svc, subscribe=False)
    connect(svc, "s1")
    svc.store.calls.clear()
    send(svc, "s1", {"action": "match"})
    assert svc.store.calls.count("claim_push") == 1
    assert "board" not in [r for r, _ in svc.work.delayed] + svc.work.reasons


def test_messages_and_typing_never_touch_the_board(svc: FakeServices) -> None:
    """Given a chat and a supervisor subscribed, When both sides write and type, Then the store
    sees only the relay's one call each, and no board work item is sent."""
    _chat(svc)
    _supervisor(svc)
    for sender, frame in (
        ("s1", {"action": "message", "text": "hello"}),
        ("v1", {"action": "message", "text": "hi"}),
        ("s1", {"action": "typing"}),
    ):
        svc.store.calls.clear()
        send(svc, sender, frame)
        assert svc.store.calls == ["count_action"]
    assert "board" not in [r for r, _ in svc.work.delayed] + svc.work.reasons


def _board_items(svc: FakeServices) -> int:
    return [reason for reason, _ in svc.work.delayed].count("board")


def _join(svc: FakeServices) -> None:
    send(svc, "boss", {"action": "join", "sessionId": svc.conn("s1").session_id})


def _leave(svc: FakeServices) -> None:
    send(svc, "boss", {"action": "leave", "sessionId": svc.conn("s1").session_id})


def _disconnect(svc: FakeServices, cid: str) -> None:
    from kindred.connections import disconnect
    from kindred.requests import DisconnectRequest

    svc.notifier.gone.add(cid)
    disconnect(svc, DisconnectRequest(cid, 1001, "Going away"))


CHANGES = {
    # what the board shows -> (the state before, the change)
    "a seeker joins the queue": ("connected", lambda svc: send(svc, "s1", {"action": "match"})),
    "a seeker leaves the queue": ("waiting", lambda svc: send(svc, "s1", {"action": "end"})),
    "a chat starts": ("waiting", run_matcher),
    "a chat ends": ("chatting", lambda svc: send(svc, "s1", {"action": "end"})),
    "its level rises": (
        "chatting",
        lambda svc: send(svc, "s1", {"action": "message", "text": "I want to kill myself"}),
    ),
    "its volunteer sets its level": (
        "chatting",
        lambda svc: send(svc, "v1", {"action": "assess", "level": "concern"}),
    ),
    "its volunteer asks for help": (
        "chatting",
        lambda svc: send(svc, "v1", {"action": "escalate"}),
    ),
    "a supervisor joins": ("chatting", _join),
    "a supervisor leaves": ("joined", _leave),
    "a volunteer stops taking chats": (
        "connected",
        lambda svc: send(svc, "v1", {"action": "availability", "available": False}),
    ),
    "a volunteer's connection closes": ("connected", lambda svc: _disconnect(svc, "v1")),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_every_change_the_board_shows_claims_a_push(svc: FakeServices, change: str) -> None:
    """Given a supervisor subscribed and no push pending, When something the board shows
    changes, Then a push is claimed: one `board` work item, delayed."""
    state, act = CHANGES[change]
    volunteer(svc, "v1", capacity=3)
    connect(svc, "s1")
    _supervisor(svc)
    if state != "connected":
        send(svc, "s1", {"action": "match"})
    if state in ("chatting", "joined"):
        run_matcher(svc)
    if state == "joined":
        _join(svc)
    svc.clock.advance(board.PUSH_DELAY_SECONDS)
    board.push(svc)  # what was pending is pushed: the next change claims anew
    before = _board_items(svc)
    act(svc)
    assert _board_items(svc) == before + 1


def test_a_push_lost_for_thirty_seconds_does_not_still_the_board(svc: FakeServices) -> None:
    """Given a push claimed whose work item never came (it went to the dead-letter queue),
    When a change comes within 30 s, Then it claims nothing; after 30 s, it claims anew."""
    _supervisor(svc)
    connect(svc, "s1")
    send(svc, "s1", {"action": "match"})
    svc.clock.advance(29)
    assert not svc.board.claim_push(svc.now_ms(), svc.now_ms() - board.STALE_PUSH_MS)
    svc.clock.advance(2)
    assert svc.board.claim_push(svc.now_ms(), svc.now_ms() - board.STALE_PUSH_MS)


def test_pushes_are_two_seconds_apart_however_late_a_work_item_comes(svc: FakeServices) -> None:
    """Given a push claimed whose work item is 40 s late, and a second claim made meanwhile
    (the first had gone stale), When the late item comes, Then it pushes nothing (the second
    claim is not 2 s old) and sends one more item, due when it is; the second claim's own
    item pushes, 2 s after its claim; the extra item then finds nothing to push."""
    _supervisor(svc)
    connect(svc, "s1")
    send(svc, "s1", {"action": "match"})  # claim 1
    svc.clock.advance(39)
    send(svc, "s1", {"action": "end"})  # claim 2: claim 1 went stale
    svc.clock.advance(1)
    assert board.push(svc) == 0  # claim 1's late item
    assert _boards(svc) == []
    assert [r for r, _ in svc.work.delayed].count("board") == 2  # claim 2's, and one more
    svc.clock.advance(1)
    assert board.push(svc) == 1  # claim 2's own item, 2 s after it
    [pushed] = _boards(svc)
    assert pushed["queue"]["waiting"] == 0
    assert board.push(svc) == 0  # the safeguard item: nothing pending any more


def test_a_push_reaches_every_subscriber_and_drops_the_gone(svc: FakeServices) -> None:
    """Given two supervisors subscribed, one of whose socket is gone, When the board is
    pushed, Then the other gets it and the gone one is no longer subscribed."""
    _supervisor(svc, "boss")
    _supervisor(svc, "boss2")
    svc.notifier.gone.add("boss2")
    connect(svc, "s1")
    send(svc, "s1", {"action": "match"})
    svc.clock.advance(board.PUSH_DELAY_SECONDS)
    assert board.push(svc) == 1
    assert len(_boards(svc, "boss")) == 1
    assert svc.store.board_subscribers.alive() == ["boss"]


def test_an_unsubscribed_supervisor_gets_no_more_boards(svc: FakeServices) -> None:
    """Given a supervisor subscribed, When they unsubscribe, Then a change pushes nothing to
    them (and, with nobody left, claims nothing)."""
    _supervisor(svc)
    send(svc, "boss", {"action": "board", "subscribe": False})
    assert svc.notifier.take("boss") == []
    connect(svc, "s1")
    send(svc, "s1", {"action": "match"})
    assert "board" not in [r for r, _ in svc.work.delayed]
    assert board.push(svc) == 0


def test_a_board_too_large_for_one_frame_leaves_rows_out_and_says_how_many(
    svc: FakeServices,
) -> None:
    """Given 240 chats (the board of them is over 32 KB), the last one escalated, When the
    board is built, Then the frame fits in 32 KB, the escalated chat comes first, and
    `leftOut` counts the rows it left out."""
    for n in range(80):
        volunteer(svc, f"v{n}", capacity=3)
    for n in range(240):
        connect(svc, f"s{n}")
        send(svc, f"s{n}", {"action": "match"})
        svc.clock.advance(1)
        run_matcher(svc)
    last = svc.conn("s239")
    assert last.session_id is not None and last.peer_id is not None
    send(svc, last.peer_id, {"action": "escalate", "sessionId": last.session_id})
    frame = board.board_frame(svc, svc.board.board_view())
    assert len(frame.wire()) <= 32 * 1024
    assert frame.leftOut is not None and frame.leftOut.chats > 0
    assert len(frame.chats) + frame.leftOut.chats == 240
    assert len(frame.volunteers) + frame.leftOut.volunteers == 80
    assert frame.chats[0].sessionId == last.session_id


def test_a_volunteer_paused_after_a_risk_chat_shows_so_on_the_board(svc: FakeServices) -> None:
    """Given a volunteer whose chat at high risk has just ended (care: the risk pause), When a
    supervisor subscribes, Then the volunteer's row says since when they are on shift, that
    they are paused for risk, and until when; after the pause, neither."""
    _chat(svc, intro="I want to kill myself")
    send(svc, "v1", {"action": "end"})
    slot = svc.pool.get_slot("v1")
    assert slot is not None and slot.paused_until is not None
    _supervisor(svc, subscribe=False)
    send(svc, "boss", {"action": "board", "subscribe": True})
    [row] = _boards(svc)[-1]["volunteers"]
    assert row["onShiftSince"] == iso_time(slot.on_shift_since_ms / 1000)
    assert (row["paused"], row["pausedUntil"]) == ("risk", iso_time(slot.paused_until))
    svc.clock.advance(slot.paused_until - svc.clock() + 1)
    send(svc, "boss", {"action": "board", "subscribe": True})
    [row] = _boards(svc)[-1]["volunteers"]
    assert "paused" not in row and "pausedUntil" not in row
