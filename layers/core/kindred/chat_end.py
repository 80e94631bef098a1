"""Ending a chat: one transaction frees both sides, then each side hears why it ended."""

from __future__ import annotations

from kindred import board, care, positions
from kindred.observability import metrics
from kindred.practice import counted
from kindred.protocol import Ended, EndReason
from kindred.records import Connection, Session
from kindred.services import Services


def end_session(
    svc: Services,
    session: Session,
    *,
    by: str | None,
    reason_for_ender: EndReason | None,
    reason_for_other: EndReason,
) -> bool:
    """End the chat once; False if it had already ended (then nobody is told twice).

    `by` is the connection that caused the end; it is told `reason_for_ender` (if any) and the
    other side `reason_for_other`, as is a supervisor who had joined the chat (issue 12). The
    volunteer's freed slot wakes the matcher.
    """
    ended = svc.chats.end_chat(session)
    if ended is None:
        return False
    if counted(session):
        metrics.add_metric(name="ChatsEnded", unit="Count", value=1)
    # (The chat as it ended: read again if it changed meanwhile, a resumed seeker for one.)
    for side in (ended.seeker_id, ended.volunteer_id):
        reason = reason_for_ender if side == by else reason_for_other
        if reason is not None:
            svc.notifier.send(side, Ended(sessionId=session.session_id, reason=reason))
    if ended.supervisor_id is not None and ended.supervisor_id != by:
        svc.notifier.send(
            ended.supervisor_id, Ended(sessionId=session.session_id, reason=reason_for_other)
        )
    # After a chat at high or imminent risk, its volunteer's pause (kindred.care); never a
    # trainee's after practice: the risk was played, and a pause would stop their training.
    if counted(session):
        care.after_chat(svc, session)
    if session.level is not None and (by != session.seeker_id or reason_for_ender is not None):
        # A chat in which a risk was seen ends, whoever ended it: the seeker leaves with the
        # crisis lines ("If you need someone now"). Not when their socket is gone for good.
        # (Imported here: the functions that end chats need the directory only then.)
        from kindred.crisis import send_crisis_lines

        send_crisis_lines(svc, session.seeker_id, "ended")
    svc.work.nudge("slot_freed")
    board.changed(svc)
    return True


def leave(svc: Services, conn: Connection, session_ids: list[str]) -> None:
    """A connection leaves for good: each of its chats ends and the other side hears
    `peer_left`; a waiting seeker leaves the queue."""
    if conn.state == "waiting" and svc.queue.leave_queue(conn) and conn.queue_key:
        positions.after_leaving(svc, conn.queue_key)
        board.changed(svc)
    for session_id in session_ids:
        session = svc.chats.get_session(session_id)
        if session is not None:
            end_session(
                svc,
                session,
                by=conn.connection_id,
                reason_for_ender=None,
                reason_for_other="peer_left",
            )
