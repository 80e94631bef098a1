"""The sweeper (a scheduled function): repairs what a lost `$disconnect` leaves behind.

API Gateway usually runs `$disconnect`, but not always (a Lambda error, a throttled
invocation), and a seeker's grace period ends without any event at all. Once a run, the
sweeper reads the whole table in one Scan (it is small: connections, queue entries, slots and
shifts live hours, sessions a day) and:

- ends the grace period of seekers away past it: their chat ends (`ended` `peer_left` to the
  volunteer) or they leave the queue;
- treats as closed (as `$disconnect` would: a seeker gets the grace period) connections past
  API Gateway's maximum connection time (2 hours) or answering 410 to GetConnection;
- ends chats with a side whose connection item is gone, frees volunteer slots and shift
  entries whose connection is gone, and removes queue entries whose connection is gone;
- wakes the matcher when a seeker has waited longer than the topic fallback (a lost work item
  must not leave them waiting);
- tells a seeker who has waited MaxWaitMinutes, once, and records the longest wait for the
  long-wait alarm (which matches alone cannot show while nobody is on shift);
- closes volunteers' and supervisors' connections whose sign-in ran out (kindred.sessions),
  and those of accounts Cognito says are disabled.
"""

from __future__ import annotations

from collections import Counter

from kindred import edges, positions, sessions
from kindred.chat_end import end_session
from kindred.connections import disconnect as on_disconnect
from kindred.connections import release
from kindred.events import DisconnectRequest
from kindred.observability import logger, metrics
from kindred.ports import TableView
from kindred.records import Connection
from kindred.services import Services

# API Gateway closes every WebSocket after 2 hours; a minute more for its $disconnect to run.
MAX_CONNECTION_MS = (2 * 3600 + 60) * 1000
# Staff accounts asked after in Cognito per run (one ListUsers each). With more connected at
# once, each run takes the next ones in turn, so every account is asked after within
# ceil(accounts / MAX_ACCOUNT_CHECKS) minutes.
MAX_ACCOUNT_CHECKS = 100


def sweep(svc: Services) -> Counter[str]:
    """One pass; returns what it repaired, by kind (also logged and counted as metrics)."""
    view = svc.census.table_view()
    now_ms = svc.now_ms()
    now = now_ms // 1000
    done: Counter[str] = Counter()
    remaining: set[str] = set()
    # Released or disconnected here: their items are seen to.
    handled: set[str] = _end_staff_sessions(svc, view, done)
    for conn in view.connections:
        if conn.connection_id in handled:
            continue
        if conn.away_until is not None:
            if conn.away_until <= now:
                release(svc, conn)  # the grace period is over: chat ended, queue left
                handled.add(conn.connection_id)
                done["away_expired"] += 1
            else:
                remaining.add(conn.connection_id)
            continue
        if _closed(svc, conn, now_ms):
            on_disconnect(svc, DisconnectRequest(conn.connection_id, 1006, "swept"))
            handled.add(conn.connection_id)
            done["gone"] += 1
            if svc.connections.get_connection(conn.connection_id) is not None:
                remaining.add(conn.connection_id)  # a seeker now in their grace period
            continue
        remaining.add(conn.connection_id)

    _repair_orphans(svc, view, remaining, handled, done)
    fallback_ms = svc.settings.topic_fallback_seconds * 1000
    overdue = False
    waiting = []
    for entry in view.queue:
        if entry.connection_id in handled:
            continue
        if entry.connection_id not in remaining:
            if svc.connections.get_connection(entry.connection_id) is None:
                svc.queue.delete_queue_entry(entry.queue_key)
                positions.after_leaving(svc, entry.queue_key)
                done["queue_entries_removed"] += 1
            continue
        waiting.append(entry)
        if not entry.away and now_ms - entry.enqueued_at_ms >= fallback_ms:
            overdue = True
    if told := edges.tell_long_waits(svc, view, waiting):
        done["long_waits_told"] += told
    if overdue and any(slot.free_slots for slot in view.slots):
        svc.work.nudge("sweep")
        done["matcher_nudged"] += 1
    for kind, count in done.items():
        metrics.add_metric(name=f"Swept_{kind}", unit="Count", value=count)
    logger.info("swept", extra={"connections": len(view.connections), **done})
    return done


def _repair_orphans(
    svc: Services, view: TableView, remaining: set[str], handled: set[str], done: Counter[str]
) -> None:
    """Chats, slots and shifts whose connection item is gone (a resume may have moved a chat
    since the Scan: each is read again before anything is ended)."""
    for session in view.active_sessions:
        sides = {session.seeker_id, session.volunteer_id}
        if sides <= remaining or sides & handled:
            continue
        current = svc.chats.get_session(session.session_id)  # a resume may have moved it
        if current is None or not current.active:
            continue
        for side in (current.seeker_id, current.volunteer_id):
            if svc.connections.get_connection(side) is None:
                end_session(
                    svc, current, by=side, reason_for_ender=None, reason_for_other="peer_left"
                )
                done["chats_ended"] += 1
                break
    left_shift = False
    for slot in view.slots:
        if (
            slot.connection_id not in remaining
            and svc.connections.get_connection(slot.connection_id) is None
        ):
            svc.pool.remove_slot(slot.connection_id)
            done["slots_freed"] += 1
            left_shift = left_shift or slot.available
    if left_shift:
        edges.after_shift_change(svc, available=False)
    for supervisor in view.shift:
        if supervisor not in remaining and svc.connections.get_connection(supervisor) is None:
            svc.pool.leave_shift(supervisor)
            done["shifts_left"] += 1


def _end_staff_sessions(svc: Services, view: TableView, done: Counter[str]) -> set[str]:
    """Close the staff connections whose sign-in ran out (no `reauth` came), then those of
    accounts disabled in Cognito, so a disabled account is out within a run, not
    when its token expires. Returns the connections closed."""
    closed: set[str] = set()
    staff: list[Connection] = []
    for conn in view.connections:
        if sessions.is_expired(svc, conn):
            sessions.close_session(svc, conn)
            closed.add(conn.connection_id)
            done["sessions_expired"] += 1
        elif conn.is_staff and conn.user_id:
            staff.append(conn)
    accounts = sorted({c.user_id for c in staff})
    if len(accounts) > MAX_ACCOUNT_CHECKS:
        start = (svc.now_ms() // 60_000 * MAX_ACCOUNT_CHECKS) % len(accounts)
        accounts = (accounts + accounts)[start : start + MAX_ACCOUNT_CHECKS]
    inactive = svc.accounts.inactive(accounts) if accounts else set()
    for conn in staff:
        if conn.user_id in inactive:
            sessions.close_session(svc, conn, sessions.INACTIVE_MESSAGE)
            closed.add(conn.connection_id)
            done["accounts_closed"] += 1
    return closed


def _closed(svc: Services, conn: Connection, now_ms: int) -> bool:
    """Past API Gateway's maximum connection time, or its socket answers 410."""
    if conn.connected_at_ms and now_ms - conn.connected_at_ms > MAX_CONNECTION_MS:
        return True
    return not svc.notifier.exists(conn.connection_id)
