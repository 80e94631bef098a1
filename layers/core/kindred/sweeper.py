"""The sweeper (a scheduled function): repairs what a lost `$disconnect` leaves behind.

API Gateway usually runs `$disconnect`, but not always (a Lambda error, a throttled
invocation), and a lost work item can leave a seeker's grace period without its end. Once a
run, the sweeper reads what is open (kindred.aws.census: the open connections by their index,
the queues, the pool, the shift and the active chats by their partitions; never the ended chats,
reports or blocks), then runs each repair of `REPAIRS` in turn:

- `end_staff_sessions`: volunteers' and supervisors' connections whose sign-in ran out
  (kindred.sessions) are closed, and those of accounts Cognito says are disabled;
- `end_graces`: seekers away past the grace period (whose `grace_over` work item was lost or
  is late) are released as the work item would have (kindred.grace): their chat ends
  (`ended` `peer_left` to the volunteer) or they leave the queue;
- `close_gone_connections`: connections past API Gateway's maximum connection time (2 hours)
  or answering 410 to GetConnection are treated as closed, as `$disconnect` would (a seeker
  gets the grace period); the GetConnection checks run a few at once, every run for staff
  and for seekers waiting or in a chat, one run in `IDLE_CHECK_RUNS` for an idle seeker;
- `repair_orphans`: chats with a side whose connection item is gone end; a supervisor whose
  connection item is gone leaves the chats they joined; volunteer slots and shift entries
  whose connection is gone are freed;
- `repair_queue`: queue entries whose connection is gone are removed; a seeker who has waited
  MaxWaitMinutes is told, once; the longest wait is recorded for the long-wait alarm; the
  matcher is woken when a seeker has waited longer than the topic fallback;
- `tell_shift_caps`: volunteers on shift near ShiftCapHours are reminded, and told once
  they reach it (kindred.care).

Each run has a time budget: the GetConnection checks take at most `CHECKS_SHARE` of the time
the run started with, and no new repair starts once the Lambda has less than `MARGIN_MS` left.
What was left (counted in `deferred`, logged with the time that remained) is done by the next
run, a minute later; the GetConnection checks resume where the last run stopped. A repair is a
function of the `Sweep`: another one is added to `REPAIRS`.
"""

from __future__ import annotations

import random
import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kindred import board, care, edges, positions, sessions, supervision
from kindred.chat_end import end_session
from kindred.connections import disconnect as on_disconnect
from kindred.grace import end_if_over
from kindred.observability import logger, metrics
from kindred.ports import TableView
from kindred.records import Connection, JoinedChat, VolunteerSlot
from kindred.requests import DisconnectRequest
from kindred.services import Services

# Staff accounts asked after in Cognito per run (one ListUsers each). With more connected at
# once, each run takes the next ones in turn, so every account is asked after within
# ceil(accounts / MAX_ACCOUNT_CHECKS) minutes.
MAX_ACCOUNT_CHECKS = 100
# API Gateway closes every WebSocket after 2 hours; a minute more for its $disconnect to run.
MAX_CONNECTION_MS = (2 * 3600 + 60) * 1000
# No new repair starts with less than this left of the run (the Lambda timeout is 60 s): the
# longest single repair (a release: a few calls) and the metrics' flush fit in it many times.
MARGIN_MS = 5_000
# The GetConnection checks take at most two thirds of the run's time: what they find must
# still be repaired in the same run (with a 60 s timeout, no check starts after 40 s).
CHECKS_SHARE = 2 / 3
# GetConnection calls in flight at once: under boto3's pool of 10 connections per client.
CHECK_WORKERS = 8
# Checks handed to the workers between two looks at the budget (about 0.2 s of work).
CHECK_CHUNK = 64
# An idle seeker's socket (not waiting, not in a chat) is checked one run in this many: what a
# lost `$disconnect` leaves of it (its item, its resume ticket) holds nothing anyone waits on
# and expires with its TTL, so a check every run would buy nothing for most of the calls.
IDLE_CHECK_RUNS = 10

RemainingMs = Callable[[], int]


class Budget:
    """The run's time, from the Lambda context's remaining time (None: unlimited)."""

    def __init__(self, remaining_ms: RemainingMs | None, margin_ms: int = MARGIN_MS) -> None:
        self._remaining_ms = remaining_ms
        self._margin_ms = margin_ms
        self.at_start_ms = self.left_ms()

    def left_ms(self) -> int | None:
        return None if self._remaining_ms is None else self._remaining_ms()

    def spent(self) -> bool:
        """Whether the run must stop starting new repairs."""
        left = self.left_ms()
        return left is not None and left < self._margin_ms

    def checks_spent(self) -> bool:
        """Whether the run must stop starting new GetConnection checks."""
        left = self.left_ms()
        if left is None or self.at_start_ms is None:
            return False
        keep = max(self._margin_ms, self.at_start_ms * (1 - CHECKS_SHARE))
        return left < keep


class CheckRotation:
    """Where the GetConnection checks stopped when a run ran out of time: the next run starts
    there. Kept while the Lambda process lives (a once-a-minute schedule reuses it); a new
    process starts at a random place, so no connection is always last."""

    def __init__(self) -> None:
        self.resume_after: str | None = None

    def order(self, ids: list[str]) -> list[str]:
        ordered = sorted(ids)
        if not ordered:
            return ordered
        if self.resume_after is None:
            start = random.randrange(len(ordered))
        else:
            start = next((n for n, cid in enumerate(ordered) if cid > self.resume_after), 0)
        return ordered[start:] + ordered[:start]


ROTATION = CheckRotation()


@dataclass
class Sweep:
    """One run: what the Scan saw, what the repairs learnt since, and what they did."""

    svc: Services
    view: TableView
    now_ms: int
    budget: Budget
    rotation: CheckRotation = ROTATION
    done: Counter[str] = field(default_factory=Counter)
    checked: int = 0  # GetConnection checks made
    deferred: Counter[str] = field(default_factory=Counter)  # left to the next run, by kind
    remaining: set[str] = field(default_factory=set)  # connections open, or not checked
    handled: set[str] = field(default_factory=set)  # released or disconnected: items seen to

    def gone(self, connection_id: str) -> bool:
        """Whether the connection's item no longer exists (read again: the Scan is a past)."""
        return self.svc.connections.get_connection(connection_id) is None


def sweep(
    svc: Services, remaining_ms: RemainingMs | None = None, rotation: CheckRotation = ROTATION
) -> Counter[str]:
    """One pass; returns what it repaired, by kind (also logged and counted as metrics).
    `remaining_ms` is the Lambda context's get_remaining_time_in_millis."""
    run = Sweep(svc, svc.census.table_view(), svc.now_ms(), Budget(remaining_ms), rotation)
    for repair in REPAIRS:
        repair(run)
    if run.done.keys() & {"slots_freed", "queue_entries_removed"}:
        board.changed(svc)  # (the other repairs that change the board see to it themselves)
    for kind, count in run.done.items():
        metrics.add_metric(name=f"Swept_{kind}", unit="Count", value=count)
    if left_over := sum(run.deferred.values()):
        # Only when it happens: a custom metric published every run would cost $0.30 a month.
        metrics.add_metric(name="SweepDeferred", unit="Count", value=left_over)
    left_ms = run.budget.left_ms()
    # A run that found nothing open and did nothing logs at DEBUG: an idle deployment's
    # 43,800 runs a month write (and pay for) no line.
    busy = run.view.connections or run.view.queue or run.view.slots or run.view.shift
    log = logger.info if busy or run.done or run.deferred else logger.debug
    log(
        "swept",
        extra={
            "connections": len(run.view.connections),
            "checked": run.checked,
            "time_left_ms": left_ms,
            "deferred": dict(run.deferred),
            **run.done,
        },
    )
    return run.done


def end_staff_sessions(run: Sweep) -> None:
    """Close the staff connections whose sign-in ran out (no `reauth` came), then those of
    accounts disabled in Cognito, so a disabled account is out within a run, not when its
    token expires."""
    svc = run.svc
    staff: list[Connection] = []
    for conn in run.view.connections:
        if sessions.is_expired(svc, conn):
            sessions.close_session(svc, conn)
            run.handled.add(conn.connection_id)
            run.done["sessions_expired"] += 1
        elif conn.is_staff and conn.user_id:
            staff.append(conn)
    accounts = sorted({c.user_id for c in staff})
    if len(accounts) > MAX_ACCOUNT_CHECKS:
        start = (run.now_ms // 60_000 * MAX_ACCOUNT_CHECKS) % len(accounts)
        accounts = (accounts + accounts)[start : start + MAX_ACCOUNT_CHECKS]
    inactive = svc.accounts.inactive(accounts) if accounts else set()
    for conn in staff:
        if conn.user_id in inactive:
            sessions.close_session(svc, conn, sessions.INACTIVE_MESSAGE)
            run.handled.add(conn.connection_id)
            run.done["accounts_closed"] += 1


def end_graces(run: Sweep) -> None:
    """Seekers away past the grace period: released as their `grace_over` work item would."""
    for conn in run.view.connections:
        if conn.away_until is None:
            continue
        if run.budget.spent():
            run.deferred["graces"] += 1
            run.remaining.add(conn.connection_id)  # still away, as far as this run knows
        elif end_if_over(run.svc, conn):
            run.handled.add(conn.connection_id)
            run.done["away_expired"] += 1
        else:
            run.remaining.add(conn.connection_id)


def close_gone_connections(run: Sweep) -> None:
    """Connections past the maximum connection time or answering 410, as `$disconnect` would
    see to them (a seeker gets the grace period). Those not checked count as open."""
    present = [
        c
        for c in run.view.connections
        if c.away_until is None and c.connection_id not in run.handled
    ]
    too_old = [c for c in present if _too_old(c, run.now_ms)]
    by_id = {c.connection_id: c for c in present if not _too_old(c, run.now_ms)}
    run_number = run.now_ms // 60_000  # the sweeper runs once a minute
    due = [cid for cid, c in by_id.items() if _holds_a_place(c) or idle_check_due(cid, run_number)]
    closed = too_old + [by_id[cid] for cid in _gone_sockets(run, due)]
    closed_ids = {c.connection_id for c in closed}
    run.remaining.update(cid for cid in by_id if cid not in closed_ids)
    # Seekers first: each gets the grace period its own $disconnect would have given it, even
    # when its volunteer's socket was lost too (whose $disconnect would end the chat first).
    for conn in sorted(closed, key=lambda c: c.is_staff):
        if run.budget.spent():
            run.deferred["disconnects"] += 1
            run.remaining.add(conn.connection_id)
            continue
        on_disconnect(run.svc, DisconnectRequest(conn.connection_id, 1006, "swept"))
        run.handled.add(conn.connection_id)
        run.done["gone"] += 1
        if not run.gone(conn.connection_id):
            run.remaining.add(conn.connection_id)  # a seeker now in their grace period


def _holds_a_place(conn: Connection) -> bool:
    """Staff (slots, shifts, chats) and seekers waiting or in a chat: checked every run."""
    return conn.is_staff or conn.state != "idle"


def idle_check_due(connection_id: str, run_number: int) -> bool:
    """Whether this run checks this idle seeker: each one in `IDLE_CHECK_RUNS` runs."""
    return zlib.crc32(connection_id.encode()) % IDLE_CHECK_RUNS == run_number % IDLE_CHECK_RUNS


def _too_old(conn: Connection, now_ms: int) -> bool:
    return bool(conn.connected_at_ms) and now_ms - conn.connected_at_ms > MAX_CONNECTION_MS


def _gone_sockets(run: Sweep, ids: list[str]) -> list[str]:
    """The ids whose socket answers 410, checked `CHECK_WORKERS` at a time in the rotation's
    order, until the budget is spent (the rest count as open until the next run)."""
    order = run.rotation.order(ids)
    gone: list[str] = []
    checked = 0
    if not order:  # nothing to ask after: no pool of threads either
        run.rotation.resume_after = None
        return gone
    with ThreadPoolExecutor(max_workers=CHECK_WORKERS, thread_name_prefix="sweep") as pool:
        while checked < len(order) and not run.budget.checks_spent():
            chunk = order[checked : checked + CHECK_CHUNK]
            answers = pool.map(run.svc.notifier.exists, chunk)
            gone += [cid for cid, is_open in zip(chunk, answers, strict=True) if not is_open]
            checked += len(chunk)
    run.checked += checked
    if checked < len(order):
        run.deferred["checks"] += len(order) - checked
        run.rotation.resume_after = order[checked - 1] if checked else run.rotation.resume_after
    else:
        run.rotation.resume_after = None
    return gone


def repair_orphans(run: Sweep) -> None:
    """Chats, slots and shifts whose connection item is gone (a resume may have moved a chat
    since the Scan: each is read again before anything is ended)."""
    svc, remaining, handled = run.svc, run.remaining, run.handled
    for session in run.view.active_sessions:
        sides = {session.seeker_id, session.volunteer_id}
        if sides <= remaining or sides & handled:
            continue
        if run.budget.spent():
            run.deferred["chats"] += 1
            continue
        current = svc.chats.get_session(session.session_id)  # a resume may have moved it
        if current is None or not current.active:
            continue
        for side in (current.seeker_id, current.volunteer_id):
            if run.gone(side):
                end_session(
                    svc, current, by=side, reason_for_ender=None, reason_for_other="peer_left"
                )
                run.done["chats_ended"] += 1
                break
    _repair_supervisor_links(run)
    left_shift: list[VolunteerSlot] = []
    for slot in run.view.slots:
        if slot.connection_id in remaining:
            continue
        if run.budget.spent():
            run.deferred["slots"] += 1
        elif run.gone(slot.connection_id):
            svc.pool.remove_slot(slot.connection_id)
            care.left_shift(svc, slot)
            run.done["slots_freed"] += 1
            if slot.available:
                left_shift.append(slot)
    if left_shift:
        edges.after_shift_change(svc, left_shift, available=False)
    for supervisor in run.view.shift:
        if supervisor in remaining:
            continue
        if run.budget.spent():
            run.deferred["shifts"] += 1
        elif run.gone(supervisor):
            svc.pool.leave_shift(supervisor)
            run.done["shifts_left"] += 1


def _repair_supervisor_links(run: Sweep) -> None:
    """Chats still naming a joined supervisor whose connection item is gone: they leave (both
    sides hear `supervisor_left`); the chat goes on."""
    for session in run.view.active_sessions:
        supervisor = session.supervisor_id
        if supervisor is None or supervisor in run.remaining or supervisor in run.handled:
            continue
        if run.budget.spent():
            run.deferred["supervisors"] += 1
        elif run.gone(supervisor):
            current = run.svc.chats.get_session(session.session_id)  # a resume may have moved it
            if current is None or current.supervisor_id != supervisor:
                continue
            sides = JoinedChat(current.seeker_id, current.volunteer_id)
            if supervision.unlink(run.svc, session.session_id, supervisor, sides):
                run.done["supervisors_left"] += 1


def repair_queue(run: Sweep) -> None:
    """Queue entries whose connection is gone leave; long waits are told and recorded; the
    matcher is woken for a seeker past the topic fallback while a volunteer has a free slot."""
    svc = run.svc
    fallback_ms = svc.settings.topic_fallback_seconds * 1000
    overdue = False
    waiting = []
    for entry in run.view.queue:
        if entry.connection_id in run.handled:
            continue
        if entry.connection_id not in run.remaining:
            if run.budget.spent():
                run.deferred["queue_entries"] += 1
            elif run.gone(entry.connection_id):
                svc.queue.delete_queue_entry(entry.queue_key)
                positions.after_leaving(svc, entry.queue_key)
                run.done["queue_entries_removed"] += 1
            continue
        if entry.practice:
            continue  # never a long wait, nor the alarm's (kindred.practice): only repaired
        waiting.append(entry)
        if not entry.away and run.now_ms - entry.enqueued_at_ms >= fallback_ms:
            overdue = True
    if told := edges.tell_long_waits(svc, waiting):
        run.done["long_waits_told"] += told
    if overdue and any(slot.free_slots for slot in run.view.slots):
        svc.work.nudge("sweep")
        run.done["matcher_nudged"] += 1


def tell_shift_caps(run: Sweep) -> None:
    """Volunteers on shift near or past the shift cap hear it, once each (kindred.care)."""
    if run.budget.spent():
        run.deferred["shift_caps"] += 1
    elif told := care.tell_shift_caps(run.svc, run.view, run.handled):
        run.done["shift_caps_told"] += told


# The repairs, in the order a run makes them (each reads what the ones before learnt).
REPAIRS: tuple[Callable[[Sweep], None], ...] = (
    end_staff_sessions,
    end_graces,
    close_gone_connections,
    repair_orphans,
    repair_queue,
    tell_shift_caps,
)
