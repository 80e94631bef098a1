"""In-memory fakes of kindred's ports for unit tests: the rules of the AWS adapters, no AWS."""

from __future__ import annotations

import base64
import copy
import dataclasses
import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from kindred import ports
from kindred.impact import CheckinTally, month_after
from kindred.ports import BoardView, Conflict, PushStart, RateLimited, TableView, Undelivered
from kindred.protocol import Level, ServerFrame
from kindred.records import (
    PACE_WINDOW_MS,
    CareRecord,
    ChatRow,
    Connection,
    Escalation,
    JoinedChat,
    LevelChange,
    MatchPace,
    Offer,
    Pairing,
    QueueEntry,
    Session,
    Ticket,
    VolunteerSlot,
    is_practice_key,
    level_rank,
)
from kindred.work_items import WorkItem, WorkReason

K = TypeVar("K")
V = TypeVar("V")
C = TypeVar("C", bound=type)

START_TIME = 1_750_000_000.0  # an arbitrary fixed "now" (epoch seconds) for the fake clock
# What the adapter writes of a new connection, and what a resumed connection takes over.
AT_CONNECT = (
    "connection_id role alias language user_id seeker_key state chats resume_failed"
    " token_expires_at supervisor_id supervisors joined coordinator practice"
)
ON_RESUME = (
    "alias language seeker_key state session_id peer_id last_session_id session_ids"
    " alerted_level urgent_queued_ms return_hash"
)


class FakeClock:
    """A clock that only moves when a test moves it (epoch seconds, like time.time)."""

    def __init__(self, start: float = START_TIME) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Shelf(dict[K, V]):
    """Records of one kind by their id, each kept until an epoch second.

    As under DynamoDB's TTL, reads (`live`, `alive`) skip a record past its time, while a
    condition (`in`, `get`, `[]`) still sees it: expired records are not deleted.
    """

    def __init__(self, now: Callable[[], int]) -> None:
        super().__init__()
        self.expires: dict[K, int] = {}
        self._now = now

    def keep(self, key: K, record: V, expires_at: int) -> V:
        self[key], self.expires[key] = record, expires_at
        return record

    def amend(self, key: K, **changes: Any) -> V:
        """The record under `key` with these fields changed, stored in its place."""
        self[key] = replace(self[key], **changes)  # type: ignore[type-var]
        return self[key]

    def drop(self, key: K) -> V | None:
        self.expires.pop(key, None)
        return self.pop(key, None)

    def live(self, key: K) -> V | None:
        return self.get(key) if self.expires.get(key, 0) > self._now() else None

    def in_order(self) -> list[V]:
        """Every record (expired ones too) in key order, as a query reads a partition."""
        return [self[k] for k in sorted(self)]  # type: ignore[type-var]

    def alive(self) -> list[V]:
        return [r for k in sorted(self) if (r := self.live(k)) is not None]  # type: ignore[type-var]


@dataclass(frozen=True)
class Report:
    """A report as kept: which chat, why, by whom, when; never what was said."""

    session_id: str
    reason: str
    reporter_role: str
    created_at_ms: int


def _recorded(cls: C) -> C:
    """Each method of kindred.ports.Store, when called, appends its name to `self.calls`."""
    for name in (n for n in dir(ports.Store) if not n.startswith("_")):
        method = getattr(cls, name)

        def record(self: Any, *args: Any, __m: Any = method, __n: str = name, **kw: Any) -> Any:
            self.calls.append(__n)
            return __m(self, *args, **kw)

        setattr(cls, name, functools.wraps(method)(record))
    return cls


def _require(*conditions: bool) -> None:
    """A transaction's conditions: all hold, or Conflict before anything is written."""
    if not all(conditions):
        raise Conflict()


def _texts(value: Any) -> Iterable[str]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = vars(value)
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            yield from _texts(v)
    else:
        yield str(value)


def _holds(stored: Connection | None, conn: Connection) -> bool:
    """Whether the stored connection is in the state `conn` was read in."""
    if stored is None or stored.state != conn.state:
        return False
    if conn.state == "waiting":
        return stored.queue_key == conn.queue_key
    return conn.state != "chatting" or stored.session_id == conn.session_id


@_recorded
class InMemoryStore:
    """Implements kindred.ports.Store on records, with the rules of the DynamoDB adapter.

    A transaction checks all its conditions (`_require`) before it writes anything, as
    TransactWriteItems does. `calls` records every port method called, in order; the
    shelves (`conns`, `entries`, `slots`, ...) are what a test looks at.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        connection_ttl: int,
        session_ttl: int,
        care_ttl: int = 6 * 3600,
    ) -> None:
        self.clock, self.calls = clock, list[str]()
        self._connection_ttl, self._session_ttl = connection_ttl, session_ttl
        self._care_ttl = care_ttl
        self.conns: Shelf[str, Connection] = Shelf(self._now)
        self.rate_logs: dict[str, tuple[int, ...]] = {}  # connection id -> times, newest first
        self.entries: Shelf[str, QueueEntry] = Shelf(self._now)  # by queue key
        self.slots: Shelf[str, VolunteerSlot] = Shelf(self._now)
        self.on_shift: Shelf[str, str] = Shelf(self._now)
        self.care: Shelf[str, CareRecord] = Shelf(self._now)  # by account (user id)
        self.sessions: Shelf[str, Session] = Shelf(self._now)
        self.tickets: Shelf[str, tuple[str, str]] = Shelf(self._now)  # (connection, seeker key)
        self.blocks: Shelf[tuple[str, str], bool] = Shelf(self._now)  # (user id, seeker key)
        self.reports: Shelf[tuple[str, str], Report] = Shelf(self._now)  # (session, side)
        # New seeker connections counted per (source key, epoch minute).
        self.source_counts: Shelf[tuple[str, int], int] = Shelf(self._now)
        self.pace: MatchPace | None = None  # expires two windows after its window opened
        # Check-in totals per calendar month ("2025-05"): counts, never whose.
        self.impact: Shelf[str, CheckinTally] = Shelf(self._now)
        # The supervisors' board (issue 12): its subscribers, and since when a push is pending
        # (epoch ms). The chats' rows are the active sessions as they are (the adapter keeps
        # a copy of each in the board's partition; here they cannot drift apart).
        self.board_subscribers: Shelf[str, str] = Shelf(self._now)
        self.push_pending_since: int | None = None
        # Return keys (issue 13): the volunteer account each key's hash leads to.
        self.return_links: Shelf[str, str] = Shelf(self._now)

    def _shelves(self) -> dict[str, Shelf[Any, Any]]:
        return {name: v for name, v in vars(self).items() if isinstance(v, Shelf)}

    def snapshot(self, *, rate_logs: bool = True) -> dict[str, Any]:
        """A deep copy of everything stored, to compare before and after an action."""
        kept: dict[str, Any] = {n: (dict(s), dict(s.expires)) for n, s in self._shelves().items()}
        kept |= {"pace": self.pace, "rate_logs": self.rate_logs if rate_logs else None}
        return copy.deepcopy(kept)

    def mentioning(self, *needles: str) -> list[tuple[str, Any]]:
        """The (shelf, key) of the stored records (expired or not) that contain a needle."""
        wanted = [n for n in needles if n]
        return [
            (name, key)
            for name, shelf in self._shelves().items()
            for key, record in shelf.items()
            if any(n in t for t in _texts([key, record]) for n in wanted)
        ]

    def _now(self) -> int:
        return int(self.clock())

    def _ttl(self) -> int:
        return self._now() + self._connection_ttl

    def _forget(self, connection_id: str) -> None:
        self.rate_logs.pop(connection_id, None)
        self.conns.drop(connection_id)

    # -- connections -----------------------------------------------------------------------

    def get_connection(self, connection_id: str) -> Connection | None:
        return self.conns.live(connection_id)

    def put_connection(self, conn: Connection) -> None:
        # Like the adapter: a whole new item with only what a new connection has.
        kept = {f: getattr(conn, f) for f in AT_CONNECT.split()}
        self._forget(conn.connection_id)
        fresh = Connection(**kept, connected_at_ms=int(self.clock() * 1000))
        self.conns.keep(conn.connection_id, fresh, self._ttl())

    def delete_connection(self, connection_id: str) -> None:
        self._forget(connection_id)

    def count_action(
        self, connection_id: str, *, now_ms: int, limit: int, window_ms: int
    ) -> Connection | None:
        # Like the adapter: one conditional update of a log of `limit` times, no read.
        log = self.rate_logs.get(connection_id, ())
        full = len(log) >= limit and log[limit - 1] > now_ms - window_ms
        if full or self.conns.expires.get(connection_id, 0) <= now_ms // 1000:
            if self.conns.live(connection_id) is None:
                return None
            raise RateLimited(connection_id)
        self.rate_logs[connection_id] = (now_ms, *log)[:limit]
        return self.conns.live(connection_id)

    def add_blocked_user(self, connection_id: str, user_id: str) -> bool:
        conn = self.conns.get(connection_id)
        if conn is not None:  # a connection that is gone is not recreated
            self.conns.amend(connection_id, blocked_users=conn.blocked_users | {user_id})
        return conn is not None

    def mark_away(self, conn: Connection, away_until: int) -> bool:
        waiting = conn.state == "waiting" and bool(conn.queue_key)
        entry = self.entries.get(conn.queue_key or "")
        if not _holds(self.conns.get(conn.connection_id), conn) or (waiting and entry is None):
            return False
        self.conns.amend(conn.connection_id, away_until=away_until)
        if waiting and entry is not None:
            self.entries.amend(entry.queue_key, away=True)
        return True

    def extend_token(self, connection_id: str, user_id: str, expires_at: int) -> bool:
        conn = self.conns.get(connection_id)
        if conn is None or conn.user_id != user_id:
            return False
        self.conns.amend(connection_id, token_expires_at=expires_at)
        return True

    def clear_resume_flags(self, connection_id: str) -> None:
        if connection_id in self.conns:
            self.conns.amend(connection_id, resumed=False, resume_failed=False)

    def note_urgent_queueing(
        self, connection_id: str, queued_ms: tuple[int, ...], alerted_level: Level | None
    ) -> None:
        if connection_id in self.conns:
            changes: dict[str, Any] = {"urgent_queued_ms": tuple(queued_ms)}
            if alerted_level is not None:
                changes["alerted_level"] = alerted_level
            self.conns.amend(connection_id, **changes)

    # -- resume tickets --------------------------------------------------------------------

    def put_resume(self, ticket: Ticket, connection_id: str, seeker_key: str) -> None:
        # Separate writes, as in the adapter: the new ticket stays when the connection is gone.
        resume_hash = ticket.resume_hash
        self.tickets.keep(resume_hash, (connection_id, seeker_key), ticket.expires_at)
        _require(connection_id in self.conns)
        held = self.conns[connection_id].resume_hash
        self.conns.amend(connection_id, resume_hash=resume_hash)
        if held and held != resume_hash:  # one valid token per seeker
            self.tickets.drop(held)

    def get_resume(self, resume_hash: str) -> tuple[str, str] | None:
        return self.tickets.live(resume_hash)

    def delete_resume(self, resume_hash: str) -> None:
        self.tickets.drop(resume_hash)

    def resume(self, old: Connection, new: Connection, resume_hash: str) -> bool:
        now, now_ms, stored = (
            self._now(),
            int(self.clock() * 1000),
            self.conns.get(old.connection_id),
        )
        ticket = self.tickets.get(resume_hash)
        moved = None
        if old.state == "waiting" and old.queue_key and new.queue_key:
            entry = self.entries.live(old.queue_key)
            if entry is None:
                return False
            moved = replace(entry, connection_id=new.connection_id, queue_key=new.queue_key)
        sid, peer = old.session_id or "", old.peer_id or ""
        chatting = old.state == "chatting" and bool(sid and peer)
        session, volunteer = self.sessions.get(sid), self.conns.get(peer)
        # Like the adapter: a supervisor still joined to the chat is re-pointed too; one who
        # left meanwhile is not kept.
        supervisor = self.conns.get(old.supervisor_id or "") if chatting else None
        watching = supervisor is not None and (
            supervisor.joined.get(sid, JoinedChat("", "")).seeker_id == old.connection_id
        )
        try:
            _require(
                ticket is not None and ticket[0] == old.connection_id,
                self.tickets.expires.get(resume_hash, 0) > now,
                _holds(stored, old),
                stored is None or stored.away_until is None or stored.away_until > now,
                moved is None or moved.queue_key not in self.entries,
                not chatting or (session is not None and session.seeker_id == old.connection_id),
                not chatting or (session is not None and session.active),
                not chatting
                or (volunteer is not None and volunteer.chats.get(sid) == old.connection_id),
            )
        except Conflict:
            return False
        self.tickets.drop(resume_hash)
        self._forget(old.connection_id)
        self._forget(new.connection_id)
        kept = {f: getattr(old, f) for f in ON_RESUME.split()}
        kept |= {"queue_key": new.queue_key, "blocked_users": old.blocked_users}
        kept |= {"supervisor_id": old.supervisor_id if watching else None}
        taken = Connection(
            new.connection_id, "seeker", **kept, resumed=True, connected_at_ms=now_ms
        )
        self.conns.keep(new.connection_id, taken, self._ttl())
        if moved is not None and old.queue_key:
            self.entries.drop(old.queue_key)
            self.entries.keep(moved.queue_key, replace(moved, away=False), self._ttl())
        if chatting and volunteer is not None:
            self.sessions.amend(sid, seeker_id=new.connection_id)
            self.conns.amend(peer, chats={**volunteer.chats, sid: new.connection_id})
        if watching and supervisor is not None:
            sides = replace(supervisor.joined[sid], seeker_id=new.connection_id)
            self.conns.amend(supervisor.connection_id, joined={**supervisor.joined, sid: sides})
        return True

    # -- the waiting queue -----------------------------------------------------------------

    def enqueue(self, entry: QueueEntry, ticket: Ticket, replaces: str | None = None) -> None:
        resume_hash = ticket.resume_hash
        cid, conn = entry.connection_id, self.conns.get(entry.connection_id)
        _require(
            entry.queue_key not in self.entries,
            conn is not None and conn.state == "idle",
            # Like the adapter: the ticket deleted must be the one the connection holds.
            conn is not None and conn.resume_hash == (replaces or None),
        )
        self.entries.keep(entry.queue_key, entry, self._ttl())
        self.conns.amend(cid, state="waiting", queue_key=entry.queue_key, resume_hash=resume_hash)
        self.tickets.keep(resume_hash, (cid, entry.seeker_key), ticket.expires_at)
        if replaces and replaces != resume_hash:
            self.tickets.drop(replaces)

    def leave_queue(self, conn: Connection) -> bool:
        if conn.state != "waiting" or not conn.queue_key or conn.queue_key not in self.entries:
            return False
        if not _holds(self.conns.get(conn.connection_id), conn):
            return False
        self.entries.drop(conn.queue_key)
        self.conns.amend(conn.connection_id, state="idle", queue_key=None)
        return True

    def queue_position(self, entry_key: str) -> int:
        # Like the adapter's COUNT query (no filter): an expired entry not yet deleted counts.
        # Practice seekers wait in a queue of their own (kindred.practice).
        practice = is_practice_key(entry_key)
        return 1 + sum(
            1 for key in self.entries if key < entry_key and is_practice_key(key) == practice
        )

    def waiting(self, limit: int, *, practice: bool = False) -> list[QueueEntry]:
        return [e for e in self.entries.alive() if e.practice == practice][:limit]

    def delete_queue_entry(self, entry_key: str) -> None:
        self.entries.drop(entry_key)

    def mark_long_wait(self, entry_key: str) -> bool:
        told = entry_key not in self.entries or self.entries[entry_key].long_wait
        if not told:
            self.entries.amend(entry_key, long_wait=True)
        return not told

    def record_matches(self, count: int, now_ms: int) -> MatchPace:
        # Like the adapter: ADD to the open window, else start the next window.
        old = self.pace
        if old is not None and old.window_start_ms > now_ms - PACE_WINDOW_MS:
            self.pace = replace(old, count=old.count + count)
        elif old is not None and now_ms - old.window_start_ms < 2 * PACE_WINDOW_MS:
            self.pace = MatchPace(old.window_start_ms + PACE_WINDOW_MS, count, old.count)
        else:
            self.pace = MatchPace(now_ms, count)
        return self.pace

    def match_pace(self) -> MatchPace | None:
        pace = self.pace
        expires = pace and (pace.window_start_ms + 2 * PACE_WINDOW_MS) // 1000
        return pace if expires and expires > self._now() else None

    # -- volunteers ------------------------------------------------------------------------

    def set_availability(
        self, conn: Connection, offer: Offer, care: CareRecord | None = None
    ) -> VolunteerSlot:
        # An unconditional upsert; `active` and `idle_since_ms` survive it (if_not_exists);
        # the shift's start and pause come from `care`, a pause the slot has stays otherwise.
        cid, old = conn.connection_id, self.slots.get(conn.connection_id)
        active, idle = (old.active, old.idle_since_ms) if old else (0, int(self.clock() * 1000))
        since, paused = (old.on_shift_since_ms, old.paused_until) if old else (0, None)
        if care is not None:
            since = care.on_shift_since_ms
            paused = care.paused_until if care.paused_until is not None else paused
        who = (cid, conn.user_id, conn.role, conn.alias)
        slot = VolunteerSlot(
            *who,
            offer.available,
            offer.capacity,
            active,
            offer.languages,
            offer.topics,
            idle,
            since,
            paused,
        )
        return self.slots.keep(cid, slot, self._ttl())

    def get_slot(self, connection_id: str) -> VolunteerSlot | None:
        return self.slots.live(connection_id)

    def available_volunteers(self) -> list[VolunteerSlot]:
        return [s for s in self.slots.alive() if s.free_slots > 0]

    def slots_on_shift(self, *, practice: bool = False) -> list[VolunteerSlot]:
        return [s for s in self.slots.alive() if s.available and s.practice == practice]

    def remove_slot(self, connection_id: str) -> None:
        self.slots.drop(connection_id)

    def on_shift_supervisors(self) -> list[str]:
        return self.on_shift.alive()

    def join_shift(self, connection_id: str) -> None:
        self.on_shift.keep(connection_id, connection_id, self._ttl())

    def leave_shift(self, connection_id: str) -> None:
        self.on_shift.drop(connection_id)

    # -- care for volunteers ---------------------------------------------------------------

    def account_slots(self, user_id: str) -> list[VolunteerSlot]:
        return [s for s in self.slots.alive() if s.user_id == user_id]

    def get_care(self, user_id: str) -> CareRecord | None:
        return self.care.live(user_id)

    def put_care(self, record: CareRecord) -> None:
        self.care.keep(record.user_id, record, self._now() + self._care_ttl)

    def note_off_shift(self, user_id: str, at_ms: int) -> None:
        # Like the adapter: one conditional write, on a record that exists (expired or not).
        record = self.care.get(user_id)
        if record is not None and record.off_shift_since_ms is None:
            off = replace(record, off_shift_since_ms=at_ms)
            self.care.keep(user_id, off, self._now() + self._care_ttl)

    def pause(self, user_id: str, until: int) -> list[VolunteerSlot]:
        # Like the adapter: the care record (made if missing), then each slot of the account;
        # each write keeps a later pause already set.
        record = self.care.get(user_id)
        if record is None or record.paused_until is None or record.paused_until < until:
            paused = replace(record or CareRecord(user_id), paused_until=until)
            self.care.keep(user_id, paused, self._now() + self._care_ttl)
        for slot in self.account_slots(user_id):
            if slot.paused_until is None or slot.paused_until < until:
                self.slots.amend(slot.connection_id, paused_until=until)
        return self.account_slots(user_id)

    def note_cap_told(self, user_id: str, on_shift_since_ms: int, stage: int) -> bool:
        record = self.care.get(user_id)
        if record is None or record.on_shift_since_ms != on_shift_since_ms:
            return False
        if record.cap_told >= stage:
            return False
        self.care.keep(user_id, replace(record, cap_told=stage), self._now() + self._care_ttl)
        return True

    # -- chats -----------------------------------------------------------------------------

    def create_chat(self, pairing: Pairing) -> None:
        entry, slot, session = pairing.entry, pairing.slot, pairing.session
        shift_since_after_ms = pairing.shift_since_after_ms
        sid, cid, vid = session.session_id, entry.connection_id, slot.connection_id
        queued, seeker, free = (
            self.entries.get(entry.queue_key),
            self.conns.get(cid),
            self.slots.get(vid),
        )
        _require(
            queued is not None and not queued.away,  # not matched while their socket is down
            seeker is not None and (seeker.state, seeker.queue_key) == ("waiting", entry.queue_key),
            free is not None and free.available and free.active < free.capacity,
            vid in self.conns and sid not in self.sessions,
            # Like the adapter: conditions on the slot as stored, not as the matcher read it.
            free is not None and (free.paused_until is None or free.paused_until <= self._now()),
            free is not None
            and (
                shift_since_after_ms is None
                or not free.on_shift_since_ms
                or free.on_shift_since_ms > shift_since_after_ms
            ),
        )
        assert seeker is not None and free is not None
        self.entries.drop(entry.queue_key)
        ids = seeker.session_ids | {sid}
        chatting = {"state": "chatting", "session_id": sid, "last_session_id": sid}
        self.conns.amend(cid, **chatting, peer_id=vid, queue_key=None, session_ids=ids)
        self.slots.amend(vid, active=free.active + 1)
        self.conns.amend(vid, chats={**self.conns[vid].chats, sid: cid})
        kept = replace(session, active=True, crisis_notified=False)
        self.sessions.keep(sid, kept, self._now() + self._session_ttl)

    def end_chat(self, session: Session, *, requeue: QueueEntry | None = None) -> Session | None:
        # Like the adapter: a side already gone is left out; the others end in one transaction,
        # a supervisor's links with them; the chat is returned as it ended.
        sid, vid = session.session_id, session.volunteer_id
        stored, seeker = self.sessions.get(sid), self.conns.get(session.seeker_id)
        if stored is not None and stored.seeker_id != session.seeker_id:
            seeker = self.conns.get(stored.seeker_id)  # read again: a seeker who resumed
        seeker = seeker if seeker is not None and seeker.session_id == sid else None
        back = requeue if seeker is not None else None
        if stored is None or not stored.active or (back and back.queue_key in self.entries):
            return None
        self.sessions.amend(sid, active=False, supervisor_id=None, supervisor_alias="")
        if seeker is not None:
            state, queue_key = ("waiting", back.queue_key) if back else ("idle", seeker.queue_key)
            freed = {"session_id": None, "peer_id": None, "supervisor_id": None}
            self.conns.amend(seeker.connection_id, state=state, queue_key=queue_key, **freed)
        if back is not None:
            self.entries.keep(back.queue_key, back, self._ttl())
        if vid in self.conns and sid in self.conns[vid].chats:
            chats = {k: v for k, v in self.conns[vid].chats.items() if k != sid}
            watched = {k: v for k, v in self.conns[vid].supervisors.items() if k != sid}
            self.conns.amend(vid, chats=chats, supervisors=watched)
        if vid in self.slots and self.slots[vid].active > 0:
            idle = int(self.clock() * 1000)
            self.slots.amend(vid, active=self.slots[vid].active - 1, idle_since_ms=idle)
        self._unjoin(stored.supervisor_id, sid)
        return stored

    def _unjoin(self, supervisor_id: str | None, session_id: str) -> None:
        supervisor = self.conns.get(supervisor_id or "")
        if supervisor is not None and session_id in supervisor.joined:
            joined = {k: v for k, v in supervisor.joined.items() if k != session_id}
            self.conns.amend(supervisor.connection_id, joined=joined)

    def get_session(self, session_id: str) -> Session | None:
        return self.sessions.live(session_id)

    def mark_crisis_notified(self, session_id: str) -> bool:
        first = session_id in self.sessions and not self.sessions[session_id].crisis_notified
        if first:
            self.sessions.amend(session_id, crisis_notified=True)
        return first

    def raise_level(self, session_id: str, level: Level) -> LevelChange | None:
        # Like the adapter: one conditional update, the old item returned either way.
        old = self.sessions.get(session_id)
        if old is None or not old.active or self.sessions.live(session_id) is None:
            return None
        if level_rank(old.level) >= level_rank(level):
            return LevelChange(session=old, previous=old.level)
        return LevelChange(self.sessions.amend(session_id, level=level), previous=old.level)

    def set_level(
        self, session_id: str, level: Level | None, *, volunteer_id: str
    ) -> LevelChange | None:
        old = self.sessions.get(session_id)
        if old is None or not old.active or old.volunteer_id != volunteer_id:
            return None
        return LevelChange(self.sessions.amend(session_id, level=level), previous=old.level)

    def delete_session(self, session_id: str) -> str | None:
        # Like the adapter's DeleteItem with ReturnValues=ALL_OLD (expired or not).
        old = self.sessions.drop(session_id)
        return old.volunteer_user_id if old is not None else None

    # -- supervision (issue 12) ------------------------------------------------------------

    def escalate(
        self, session_id: str, *, volunteer_id: str, now_ms: int, again_after_ms: int
    ) -> Escalation | None:
        # Like the adapter: one conditional update of the chat; its old item when refused.
        stored = self.sessions.get(session_id)
        if stored is None or self.sessions.live(session_id) is None or not stored.active:
            return None
        if stored.volunteer_id != volunteer_id:
            return None
        last = stored.escalated_at_ms
        if last is not None and last > now_ms - again_after_ms:
            return Escalation(session=stored, alert=False)
        return Escalation(self.sessions.amend(session_id, escalated_at_ms=now_ms), alert=True)

    def join_chat(self, session: Session, supervisor_id: str, supervisor_alias: str) -> bool:
        sid = session.session_id
        stored, supervisor = self.sessions.get(sid), self.conns.get(supervisor_id)
        seeker, volunteer = self.conns.get(session.seeker_id), self.conns.get(session.volunteer_id)
        try:
            _require(
                stored is not None and stored.active and stored.supervisor_id is None,
                stored is not None and stored.seeker_id == session.seeker_id,
                stored is not None and stored.volunteer_id == session.volunteer_id,
                seeker is not None and seeker.session_id == sid,
                volunteer is not None and volunteer.chats.get(sid) == session.seeker_id,
                supervisor is not None,
            )
        except Conflict:
            return False
        assert seeker is not None and volunteer is not None and supervisor is not None
        self.sessions.amend(sid, supervisor_id=supervisor_id, supervisor_alias=supervisor_alias)
        self.conns.amend(seeker.connection_id, supervisor_id=supervisor_id)
        self.conns.amend(
            volunteer.connection_id, supervisors={**volunteer.supervisors, sid: supervisor_id}
        )
        sides = JoinedChat(session.seeker_id, session.volunteer_id)
        self.conns.amend(supervisor_id, joined={**supervisor.joined, sid: sides})
        return True

    def leave_chat(self, session_id: str, supervisor_id: str, sides: JoinedChat) -> bool:
        # Like the adapter: every link still there goes; False without the chat's or the
        # supervisor's own link.
        stored, supervisor = self.sessions.get(session_id), self.conns.get(supervisor_id)
        on_chat = stored is not None and stored.supervisor_id == supervisor_id
        on_own = supervisor is not None and session_id in supervisor.joined
        if not (on_chat or on_own):
            return False
        if on_chat:
            self.sessions.amend(session_id, supervisor_id=None, supervisor_alias="")
        seeker, volunteer = self.conns.get(sides.seeker_id), self.conns.get(sides.volunteer_id)
        if seeker is not None and seeker.supervisor_id == supervisor_id:
            self.conns.amend(sides.seeker_id, supervisor_id=None)
        if volunteer is not None and volunteer.supervisors.get(session_id) == supervisor_id:
            watched = {k: v for k, v in volunteer.supervisors.items() if k != session_id}
            self.conns.amend(sides.volunteer_id, supervisors=watched)
        self._unjoin(supervisor_id, session_id)
        return True

    # -- the board (issue 12) --------------------------------------------------------------

    def subscribe(self, connection_id: str) -> None:
        self.board_subscribers.keep(connection_id, connection_id, self._ttl())

    def unsubscribe(self, connection_id: str) -> None:
        self.board_subscribers.drop(connection_id)

    def claim_push(self, now_ms: int, stale_before_ms: int) -> bool:
        # Like the adapter: one conditional write, that someone subscribes and nothing is
        # pending (or what is pending is older than `stale_before_ms`).
        pending = self.push_pending_since
        if not self.board_subscribers.alive() or (
            pending is not None and pending >= stale_before_ms
        ):
            return False
        self.push_pending_since = now_ms
        return True

    def start_push(self, claimed_by_ms: int) -> PushStart:
        # Like the adapter: one conditional write on the claim's time.
        pending = self.push_pending_since
        if pending is None or pending > claimed_by_ms:
            return PushStart(subscribers=[], pending_since_ms=pending)
        self.push_pending_since = None
        return PushStart(subscribers=self.board_subscribers.alive())

    def board_view(self) -> BoardView:
        rows = [
            ChatRow(
                session_id=s.session_id,
                volunteer_alias=s.volunteer_alias,
                seeker_alias=s.seeker_alias,
                started_at_ms=s.started_at_ms,
                level=s.level,
                escalated=s.escalated_at_ms is not None,
                supervisor_alias=s.supervisor_alias,
                practice=s.practice,
            )
            for s in self.sessions.alive()
            if s.active
        ]
        real = [e for e in self.entries.alive() if not e.practice]  # (the adapter's QUEUE)
        return BoardView(real, self.slots.alive(), rows)

    # -- blocks, reports and the sweeper's view --------------------------------------------

    def put_block(self, volunteer_user_id: str, seeker_key: str, expires_at: int) -> None:
        self.blocks.keep((volunteer_user_id, seeker_key), True, expires_at)

    def blocked_pairs(self, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
        return {pair for pair in pairs if self.blocks.live(pair)}

    def delete_block(self, volunteer_user_id: str, seeker_key: str) -> None:
        self.blocks.drop((volunteer_user_id, seeker_key))

    def put_report(
        self, session_id: str, reporter: str, reason: str, reporter_role: str, expires_at: int
    ) -> bool:
        # Like the adapter: a conditional put on (chat, side), which an expired one still holds.
        if (session_id, reporter) in self.reports:
            return False
        report = Report(session_id, reason, reporter_role, int(self.clock() * 1000))
        self.reports.keep((session_id, reporter), report, expires_at)
        return True

    # -- return keys (issue 13) ---------------------------------------------------------------

    def link(self, return_hash: str, user_id: str, expires_at: int) -> None:
        self.return_links.keep(return_hash, user_id, expires_at)

    def linked_user(self, return_hash: str) -> str | None:
        return self.return_links.live(return_hash)

    def unlink(self, return_hash: str, user_id: str | None = None) -> None:
        # Like the adapter: a delete conditioned on the account, which an expired link still has.
        if user_id is None or self.return_links.get(return_hash) == user_id:
            self.return_links.drop(return_hash)

    def hold(self, connection_id: str, return_hash: str) -> None:
        if connection_id in self.conns:
            self.conns.amend(connection_id, return_hash=return_hash)

    def count_connection(self, source_key: str, *, minute: int, limit: int) -> bool:
        # Like the adapter: one conditional add; the minute is in the key, so no expiry check.
        counted = self.source_counts.get((source_key, minute), 0)
        if counted >= limit:
            return False
        self.source_counts.keep((source_key, minute), counted + 1, (minute + 1) * 60 + 120)
        return True

    def add_checkins(self, month: str, tally: CheckinTally) -> None:
        # Like the adapter: one unconditional add, kept two years after the month ends.
        if tally.is_empty():
            return
        ends = datetime.strptime(month_after(month), "%Y-%m").replace(tzinfo=UTC)
        totals = self.impact.get(month, CheckinTally()) + tally
        self.impact.keep(month, totals, int(ends.timestamp()) + 731 * 86400)

    def checkin_totals(self, month: str) -> CheckinTally:
        return self.impact.live(month) or CheckinTally()

    def table_view(self) -> TableView:
        conns, entries, slots = self.conns.alive(), self.entries.alive(), self.slots.alive()
        chats = [s for s in self.sessions.alive() if s.active]
        return TableView(conns, entries, slots, self.on_shift.alive(), chats)


class RecordingNotifier:
    """Implements kindred.ports.Notifier: keeps every delivered frame, per connection.

    A connection id in `gone` behaves like a closed socket: send returns False (410); one in
    `refusing` like a socket the gateway will not post to now (Undelivered).
    """

    def __init__(self) -> None:
        self.wire: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.order: list[str] = []  # the connection of each delivered frame, in sending order
        self.gone: set[str] = set()
        self.refusing: set[str] = set()
        self.undelivered: list[tuple[str, ServerFrame]] = []
        self.closed: list[str] = []
        self._taken: dict[str, int] = defaultdict(int)

    def send(self, connection_id: str, frame: ServerFrame) -> bool:
        as_sent = json.loads(frame.wire())  # every frame must serialise as the wire has it
        if connection_id in self.gone:
            self.undelivered.append((connection_id, frame))
            return False
        if connection_id in self.refusing:
            raise Undelivered(connection_id)
        self.wire[connection_id].append(as_sent)
        self.order.append(connection_id)
        return True

    def close(self, connection_id: str) -> None:
        self.closed.append(connection_id)
        self.gone.add(connection_id)

    def exists(self, connection_id: str) -> bool:
        return connection_id not in self.gone

    def take(self, connection_id: str) -> list[dict[str, Any]]:
        """The frames (as the client parses them) this connection got since the last take."""
        every = self.wire[connection_id]
        new = every[self._taken[connection_id] :]
        self._taken[connection_id] = len(every)
        return new

    def types(self, connection_id: str) -> list[str]:
        """The types of the frames this connection got since the last take (and takes them)."""
        return [f["type"] for f in self.take(connection_id)]

    def forget_all(self) -> None:
        """Mark every frame so far as taken."""
        for cid, frames in self.wire.items():
            self._taken[cid] = len(frames)


class ListWorkQueue:
    """Implements kindred.ports.WorkQueue: remembers why the matcher was asked to run.

    A work item sent with a delay is invisible, as SQS keeps it, until the clock has passed
    its delay: only then does it join `reasons` (in the order the items became visible).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._visible: list[str] = []
        self._delayed: list[tuple[float, int, str]] = []  # (visible at, order sent, reason)
        self._graces: list[tuple[float, int, str]] = []  # (visible at, order, connection id)
        self._sent = 0
        self._clock = clock

    @property
    def reasons(self) -> list[str]:
        """The reasons of the visible work items (a list a test may clear)."""
        now = self._clock()
        self._visible.extend(reason for at, _, reason in sorted(self._delayed) if at <= now)
        self._delayed = [d for d in self._delayed if d[0] > now]
        return self._visible

    @property
    def delayed(self) -> list[tuple[str, float]]:
        """The work items not visible yet: (reason, seconds until they are)."""
        now = self._clock()
        return [(reason, at - now) for at, _, reason in sorted(self._delayed) if at > now]

    def graces_due(self) -> list[str]:
        """Takes the `grace_over` work items now visible: their connection ids, in order.
        (Kept apart from `reasons`, which lists the items that only wake the matcher.)"""
        now = self._clock()
        due = [cid for at, _, cid in sorted(self._graces) if at <= now]
        self._graces = [g for g in self._graces if g[0] > now]
        return due

    @property
    def graces_pending(self) -> list[tuple[str, float]]:
        """The `grace_over` work items not visible yet: (connection id, seconds until)."""
        now = self._clock()
        return [(cid, at - now) for at, _, cid in sorted(self._graces) if at > now]

    def grace_over(self, connection_id: str, delay_seconds: int) -> None:
        WorkItem.model_validate({"reason": "grace_over", "connectionId": connection_id})
        assert 0 <= delay_seconds <= 900, "SQS delays a message by at most 900 s"
        self._sent += 1
        self._graces.append((self._clock() + delay_seconds, self._sent, connection_id))

    def nudge(self, reason: WorkReason, delay_seconds: int = 0) -> None:
        WorkItem.model_validate({"reason": reason})  # the matcher refuses any other reason
        assert 0 <= delay_seconds <= 900, "SQS delays a message by at most 900 s"
        if delay_seconds:
            self._sent += 1
            self._delayed.append((self._clock() + delay_seconds, self._sent, reason))
        else:
            self.reasons.append(reason)


class PlainSealer:
    """Implements kindred.ports.Sealer reversibly and visibly: base64 behind a prefix."""

    PREFIX = "sealed:"

    def seal(self, text: str) -> str:
        return self.PREFIX + base64.urlsafe_b64encode(text.encode()).decode()

    def unseal(self, sealed: str) -> str:
        if not sealed.startswith(self.PREFIX):
            raise ValueError("not sealed by this sealer")
        return base64.urlsafe_b64decode(sealed[len(self.PREFIX) :].encode()).decode()


class FakeTokens:
    """Implements kindred.ports.TokenVerifier: tokens issued here by `issue`, checked against
    the fake clock; any other token is `malformed`."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._issued: dict[str, Any] = {}

    def issue(self, user_id: str, role: str = "volunteer", *, lifetime: int = 3600) -> str:
        """A new ID token of this account, valid `lifetime` seconds from now."""
        from kindred.auth import Identity

        token = f"token-{len(self._issued)}-{user_id}"
        self._issued[token] = Identity(
            role=role,  # type: ignore[arg-type]
            user_id=user_id,
            alias=f"Vol {user_id}",
            expires_at=int(self.clock()) + lifetime,
        )
        return token

    def verify(self, token: str) -> Any:
        from kindred.auth import AuthError

        identity = self._issued.get(token)
        if identity is None:
            raise AuthError("malformed")
        if identity.expires_at <= self.clock():
            raise AuthError("expired")
        return identity


class FakeAccounts:
    """Implements kindred.ports.Accounts: every account is active unless disabled here."""

    def __init__(self) -> None:
        self.disabled: set[str] = set()
        self.asked: list[list[str]] = []

    def inactive(self, user_ids: list[str]) -> set[str]:
        self.asked.append(list(user_ids))
        return self.disabled & set(user_ids)


class FixedSalts:
    """Implements kindred.ports.Salts from a fixed test secret (a different salt each day)."""

    def daily_salt(self, day: str) -> bytes:
        return hashlib.sha256(b"test-secret|" + day.encode()).digest()


class FakeStaffDirectory:
    """Implements kindred.ports.StaffDirectory: a user pool's accounts and groups in memory;
    `refuse` makes the next call of an operation raise AccountRefused."""

    def __init__(self, groups: tuple[str, ...] = ("supervisors", "volunteers", "coordinators")):
        from kindred.ports import StaffMember

        self.groups = set(groups)
        self.members: dict[str, StaffMember] = {}
        self.calls: list[tuple[str, str]] = []  # (operation, user id)
        self.refuse: dict[str, Any] = {}
        self._next = 0

    def _call(self, operation: str, user_id: str) -> None:
        self.calls.append((operation, user_id))
        if operation in self.refuse:
            raise self.refuse.pop(operation)

    def add(self, email: str, name: str, *groups: str, enabled: bool = True) -> str:
        """An existing account (set-up): its user id."""
        from kindred.ports import StaffMember

        self._next += 1
        user_id = f"sub-{self._next}"
        self.members[user_id] = StaffMember(
            user_id, user_id, email, name, frozenset(groups), enabled, "CONFIRMED"
        )
        return user_id

    def list_members(self) -> list[Any]:
        self.calls.append(("list", ""))
        return list(self.members.values())

    def find(self, user_id: str) -> Any:
        return self.members.get(user_id)

    def create(self, email: str, name: str) -> Any:
        from dataclasses import replace

        from kindred.ports import AccountRefused

        if any(m.email == email for m in self.members.values()):
            raise AccountRefused("exists")
        user_id = self.add(email, name)
        self._call("create", user_id)
        member = replace(self.members[user_id], status="FORCE_CHANGE_PASSWORD")
        self.members[user_id] = member
        return member

    def _change(self, operation: str, member: Any, **changes: Any) -> None:
        from dataclasses import replace

        self._call(operation, member.user_id)
        self.members[member.user_id] = replace(self.members[member.user_id], **changes)

    def add_to_group(self, member: Any, group: str) -> None:
        from kindred.ports import AccountRefused

        if group not in self.groups:
            raise AccountRefused("no_group")
        current = self.members[member.user_id].groups
        self._change(f"add:{group}", member, groups=current | {group})

    def remove_from_group(self, member: Any, group: str) -> None:
        current = self.members[member.user_id].groups
        self._change(f"remove:{group}", member, groups=current - {group})

    def disable(self, member: Any) -> None:
        self._change("disable", member, enabled=False)

    def enable(self, member: Any) -> None:
        self._change("enable", member, enabled=True)

    def delete(self, member: Any) -> None:
        self._call("delete", member.user_id)
        del self.members[member.user_id]

    def sign_out(self, member: Any) -> None:
        self._call("sign_out", member.user_id)
