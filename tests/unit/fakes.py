"""In-memory fakes of kindred's ports for unit tests: the rules of the AWS adapters, no AWS."""

from __future__ import annotations

import base64
import copy
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from typing import Any

from kindred.aws.layout import PACE_SK, POOL_PK, QUEUE_PK, SHIFT_PK, STATS_PK
from kindred.config import Settings
from kindred.ports import Conflict, RateLimited, TableView
from kindred.protocol import Level, ServerFrame
from kindred.records import (
    LEVELS,
    PACE_WINDOW_MS,
    Connection,
    LevelChange,
    MatchPace,
    QueueEntry,
    Session,
    VolunteerSlot,
)
from kindred.services import Services
from kindred.work_items import WorkItem, WorkReason

# The fake keeps the same items under the same keys (kindred.aws.layout) with the same attribute
# names, so a test can look at "the table". (Issue 10 wants fakes at record level instead.)
RATE_LOG = "rl"  # rl0, rl1, ...: the connection's rate log, newest first

Key = tuple[str, str]
Item = dict[str, Any]

START_TIME = 1_750_000_000.0  # an arbitrary fixed "now" (epoch seconds) for the fake clock

READS = frozenset(
    {
        "get_connection",
        "get_resume",
        "table_view",
        "queue_position",
        "waiting",
        "get_slot",
        "available_volunteers",
        "on_shift_supervisors",
        "get_session",
        "blocked_pairs",
        "match_pace",
    }
)


class FakeClock:
    """A clock that only moves when a test moves it (epoch seconds, like time.time)."""

    def __init__(self, start: float = START_TIME) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _conn_key(connection_id: str) -> Key:
    return (f"CONN#{connection_id}", "CONN")


def _session_key(session_id: str) -> Key:
    return (f"SESSION#{session_id}", "SESSION")


def _resume_key(resume_hash: str) -> Key:
    return (f"RESUME#{resume_hash}", "RESUME")


def _block_key(volunteer_user_id: str, seeker_key: str) -> Key:
    return (f"BLOCK#{volunteer_user_id}", f"SEEKER#{seeker_key}")


def is_rate_log(attribute: str) -> bool:
    """Whether a connection item's attribute is part of its rate log (rl0, rl1, ...)."""
    return attribute.startswith(RATE_LOG) and attribute[len(RATE_LOG) :].isdigit()


def _without_none(values: dict[str, Any]) -> Item:
    # DynamoStore's _to_item drops None values: an unset attribute is absent, not null.
    return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class _Op:
    """One write of a transaction: the condition it needs and what it makes of the item.

    `condition` sees the stored item as DynamoDB's condition expressions do: an item past its
    `expiresAt` that TTL has not deleted yet still exists for a condition.
    `write` returns the new item, or None to delete it.
    """

    key: Key
    condition: Callable[[Item | None], bool]
    write: Callable[[Item], Item | None]


def _always(_: Item | None) -> bool:
    return True


def _exists(item: Item | None) -> bool:
    return item is not None


def _absent(item: Item | None) -> bool:
    return item is None


class InMemoryStore:
    """Implements kindred.ports.Store like kindred.aws.dynamo.DynamoStore does, in a dict.

    Every transaction checks all of its conditions before it writes anything, and raises
    Conflict when one fails, as TransactWriteItems does. Reads treat an item past its
    `expiresAt` as absent. `calls` records every Store method called, in order.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        connection_ttl: int = 3 * 3600,
        session_ttl: int = 27 * 3600,
    ) -> None:
        self.items: dict[Key, Item] = {}
        self.calls: list[str] = []
        self._clock: Callable[[], float] = clock or FakeClock()
        self._connection_ttl = connection_ttl
        self._session_ttl = session_ttl

    # -- what a test looks at -------------------------------------------------------------

    def snapshot(self) -> dict[Key, Item]:
        """A deep copy of every stored item, to compare before and after an action."""
        return copy.deepcopy(self.items)

    @property
    def reads(self) -> int:
        """How many read methods of the Store have been called."""
        return sum(1 for name in self.calls if name in READS)

    def items_mentioning(self, *needles: str) -> list[Key]:
        """The keys of the stored items (expired or not) whose key or values contain a needle."""
        wanted = [n for n in needles if n]

        def texts(value: Any) -> Iterable[str]:
            if isinstance(value, dict):
                for k, v in value.items():
                    yield str(k)
                    yield from texts(v)
            elif isinstance(value, (list, tuple, set, frozenset)):
                for v in value:
                    yield from texts(v)
            else:
                yield str(value)

        return [
            key
            for key, item in self.items.items()
            if any(n in t for t in texts([*key, item]) for n in wanted)
        ]

    def partition(self, pk: str) -> list[Item]:
        """The stored items of one partition in sort-key order (expired ones included)."""
        return [copy.deepcopy(self.items[k]) for k in sorted(k for k in self.items if k[0] == pk)]

    # -- helpers ----------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self._clock())

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _alive(self, item: Item) -> bool:
        expires = item.get("expiresAt")
        return expires is None or int(expires) > self._now()

    def _get(self, key: Key) -> Item | None:
        item = self.items.get(key)
        if item is None or not self._alive(item):
            return None
        return copy.deepcopy(item)

    def _query(self, pk: str, limit: int | None = None) -> list[Item]:
        keys = sorted(k for k in self.items if k[0] == pk)
        alive = [copy.deepcopy(self.items[k]) for k in keys if self._alive(self.items[k])]
        return alive if limit is None else alive[:limit]

    def _transact(self, ops: list[_Op]) -> None:
        keys = [op.key for op in ops]
        if len(set(keys)) != len(keys):  # DynamoDB refuses two writes to one item
            raise ValueError(f"a transaction writes one item twice: {keys}")
        failed = [i for i, op in enumerate(ops) if not op.condition(self.items.get(op.key))]
        if failed:
            # The cancellation reasons, as DynamoStore puts them in its Conflict.
            reasons = ["ConditionalCheckFailed" if i in failed else "None" for i in range(len(ops))]
            raise Conflict(",".join(reasons))
        for op in ops:
            current = copy.deepcopy(self.items.get(op.key)) or {"pk": op.key[0], "sk": op.key[1]}
            new = op.write(current)
            if new is None:
                self.items.pop(op.key, None)
            else:
                self.items[op.key] = new

    def _put(self, item: Item) -> None:
        self.items[(item["pk"], item["sk"])] = item

    # -- connections -----------------------------------------------------------------------

    def get_connection(self, connection_id: str) -> Connection | None:
        self.calls.append("get_connection")
        return self._connection(connection_id)

    def _connection(self, connection_id: str) -> Connection | None:
        data = self._get(_conn_key(connection_id))
        if data is None:
            return None
        return Connection(
            connection_id=connection_id,
            role=data["role"],
            alias=data.get("alias", ""),
            language=data.get("lang", "en"),
            user_id=data.get("userId", ""),
            seeker_key=data.get("seekerKey", ""),
            state=data.get("state", "idle"),
            session_id=data.get("sessionId"),
            peer_id=data.get("peerId"),
            queue_key=data.get("queueKey"),
            last_session_id=data.get("lastSessionId"),
            chats=dict(data.get("chats", {})),
            blocked_users=frozenset(data.get("blockedUsers", ())),
            resume_hash=data.get("resumeHash"),
            session_ids=frozenset(data.get("sessionIds", ())),
            away_until=int(data["awayUntil"]) if data.get("awayUntil") is not None else None,
            resumed=bool(data.get("resumed", False)),
            resume_failed=bool(data.get("resumeFailed", False)),
            connected_at_ms=int(data.get("connectedAt", 0)),
        )

    def put_connection(self, conn: Connection) -> None:
        # Like DynamoStore: a whole new item with only what a new connection has.
        self.calls.append("put_connection")
        self._put(
            _without_none(
                {
                    "pk": f"CONN#{conn.connection_id}",
                    "sk": "CONN",
                    "role": conn.role,
                    "alias": conn.alias,
                    "lang": conn.language,
                    "userId": conn.user_id or None,
                    "seekerKey": conn.seeker_key or None,
                    "state": conn.state,
                    "chats": dict(conn.chats),
                    "connectedAt": self._now_ms(),
                    "resumeFailed": True if conn.resume_failed else None,
                    "expiresAt": self._now() + self._connection_ttl,
                }
            )
        )

    def delete_connection(self, connection_id: str) -> None:
        self.calls.append("delete_connection")
        self.items.pop(_conn_key(connection_id), None)

    def count_action(
        self, connection_id: str, *, now_ms: int, limit: int, window_ms: int
    ) -> Connection | None:
        # Like DynamoStore: one conditional update that shifts the rate log (every operand is
        # the value before the update) and returns the whole new item.
        self.calls.append("count_action")
        last = f"{RATE_LOG}{limit - 1}"

        def shift(item: Item) -> Item:
            old = dict(item)
            item[f"{RATE_LOG}0"] = now_ms
            for i in range(1, limit):
                item[f"{RATE_LOG}{i}"] = old.get(f"{RATE_LOG}{i - 1}", 0)
            return item

        def admitted(item: Item | None) -> bool:
            return (
                item is not None
                and int(item.get("expiresAt", 0)) > now_ms // 1000
                and (last not in item or int(item[last]) <= now_ms - window_ms)
            )

        old = self.items.get(_conn_key(connection_id))
        try:
            self._transact([_Op(_conn_key(connection_id), admitted, shift)])
        except Conflict:
            # As ReturnValuesOnConditionCheckFailure=ALL_OLD tells DynamoStore.
            if old is None or not self._alive(old):
                return None
            raise RateLimited(connection_id) from None
        return self._connection(connection_id)

    def add_blocked_user(self, connection_id: str, user_id: str) -> bool:
        self.calls.append("add_blocked_user")

        def add(item: Item) -> Item:
            item["blockedUsers"] = set(item.get("blockedUsers", set())) | {user_id}
            return item

        # Like DynamoStore: a connection that is gone is not recreated, and the caller is told.
        try:
            self._transact([_Op(_conn_key(connection_id), _exists, add)])
        except Conflict:
            return False
        return True

    # -- blocks ------------------------------------------------------------------------------

    def put_block(self, volunteer_user_id: str, seeker_key: str, expires_at: int) -> None:
        self.calls.append("put_block")
        pk, sk = _block_key(volunteer_user_id, seeker_key)
        self._put({"pk": pk, "sk": sk, "expiresAt": expires_at})

    def blocked_pairs(self, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
        # One BatchGetItem in DynamoStore (per 100 pairs); an expired block is no block.
        self.calls.append("blocked_pairs")
        return {pair for pair in pairs if self._get(_block_key(*pair)) is not None}

    def delete_block(self, volunteer_user_id: str, seeker_key: str) -> None:
        self.calls.append("delete_block")
        self.items.pop(_block_key(volunteer_user_id, seeker_key), None)

    # -- the pace of matches ---------------------------------------------------------------

    def record_matches(self, count: int, now_ms: int) -> MatchPace:
        # Like DynamoStore: ADD to the open window, else the next window's item.
        self.calls.append("record_matches")
        key = (STATS_PK, PACE_SK)
        old = self.items.get(key)
        if old is not None and int(old["windowStart"]) > now_ms - PACE_WINDOW_MS:
            old["matches"] = int(old.get("matches", 0)) + count
            return self._pace(old)
        start, previous = now_ms, 0
        if old is not None and now_ms - int(old["windowStart"]) < 2 * PACE_WINDOW_MS:
            start, previous = int(old["windowStart"]) + PACE_WINDOW_MS, int(old["matches"])
        item = {
            "pk": STATS_PK,
            "sk": PACE_SK,
            "windowStart": start,
            "matches": count,
            "previousMatches": previous,
            "expiresAt": (start + 2 * PACE_WINDOW_MS) // 1000,
        }
        self._put(item)
        return self._pace(item)

    def match_pace(self) -> MatchPace | None:
        self.calls.append("match_pace")
        data = self._get((STATS_PK, PACE_SK))
        return self._pace(data) if data else None

    @staticmethod
    def _pace(data: Item) -> MatchPace:
        return MatchPace(
            window_start_ms=int(data["windowStart"]),
            count=int(data.get("matches", 0)),
            previous=int(data.get("previousMatches", 0)),
        )

    # -- the waiting queue -----------------------------------------------------------------

    def _queue_item(self, entry: QueueEntry) -> Item:
        return _without_none(
            {
                "pk": QUEUE_PK,
                "sk": entry.queue_key,
                "connectionId": entry.connection_id,
                "priority": entry.priority,
                "enqueuedAt": entry.enqueued_at_ms,
                "lang": entry.language,
                "topics": list(entry.topics),
                "seekerKey": entry.seeker_key,
                "seekerAlias": entry.seeker_alias,
                "level": entry.level,
                "sealedIntro": entry.sealed_intro,
                "sealedNote": entry.sealed_note,
                "reason": entry.reason,
                "blockedUsers": sorted(entry.blocked_users),
                "away": True if entry.away else None,
                "longWait": True if entry.long_wait else None,
                "expiresAt": self._now() + self._connection_ttl,
            }
        )

    def _queue_put(self, entry: QueueEntry) -> _Op:
        item = self._queue_item(entry)
        return _Op((QUEUE_PK, entry.queue_key), _absent, lambda _: item)

    def enqueue(
        self,
        entry: QueueEntry,
        resume_hash: str,
        resume_expires_at: int,
        previous_resume_hash: str | None = None,
    ) -> None:
        self.calls.append("enqueue")

        def to_waiting(item: Item) -> Item:
            item.update(state="waiting", queueKey=entry.queue_key, resumeHash=resume_hash)
            return item

        resume = {
            "pk": f"RESUME#{resume_hash}",
            "sk": "RESUME",
            "connectionId": entry.connection_id,
            "seekerKey": entry.seeker_key,
            "expiresAt": resume_expires_at,
        }
        ops = [
            self._queue_put(entry),
            _Op(
                _conn_key(entry.connection_id),
                # Like DynamoStore: the ticket deleted must be the one the connection holds.
                lambda c: (
                    c is not None
                    and c.get("state") == "idle"
                    and c.get("resumeHash") == (previous_resume_hash or None)
                ),
                to_waiting,
            ),
            _Op(_resume_key(resume_hash), _always, lambda _: resume),
        ]
        if previous_resume_hash and previous_resume_hash != resume_hash:
            ops.append(_Op(_resume_key(previous_resume_hash), _always, lambda _: None))
        self._transact(ops)

    def leave_queue(self, conn: Connection) -> bool:
        self.calls.append("leave_queue")
        if conn.state != "waiting" or not conn.queue_key:
            return False
        qk = conn.queue_key

        def to_idle(item: Item) -> Item:
            item["state"] = "idle"
            item.pop("queueKey", None)
            return item

        try:
            self._transact(
                [
                    _Op((QUEUE_PK, qk), _exists, lambda _: None),
                    _Op(
                        _conn_key(conn.connection_id),
                        lambda c: (
                            c is not None
                            and c.get("state") == "waiting"
                            and c.get("queueKey") == qk
                        ),
                        to_idle,
                    ),
                ]
            )
        except Conflict:
            return False
        return True

    def queue_position(self, entry_key: str) -> int:
        # Like DynamoStore's COUNT query (no filter): an expired entry not yet deleted counts.
        self.calls.append("queue_position")
        return 1 + sum(1 for pk, sk in self.items if pk == QUEUE_PK and sk < entry_key)

    def waiting(self, limit: int) -> list[QueueEntry]:
        self.calls.append("waiting")
        return [self._entry(d) for d in self._query(QUEUE_PK, limit)]

    @staticmethod
    def _entry(d: Item) -> QueueEntry:
        return QueueEntry(
            connection_id=d["connectionId"],
            queue_key=d["sk"],
            priority=int(d["priority"]),
            enqueued_at_ms=int(d["enqueuedAt"]),
            language=d["lang"],
            topics=tuple(d.get("topics", ())),
            seeker_key=d.get("seekerKey", ""),
            seeker_alias=d.get("seekerAlias", ""),
            # Like DynamoStore: `risk: true` is how an entry queued before levels said so.
            level=d.get("level") or ("high" if d.get("risk") else None),
            sealed_intro=d.get("sealedIntro"),
            sealed_note=d.get("sealedNote"),
            reason=d.get("reason"),
            blocked_users=frozenset(d.get("blockedUsers", ())),
            away=bool(d.get("away", False)),
            long_wait=bool(d.get("longWait", False)),
        )

    # -- volunteers ------------------------------------------------------------------------

    @staticmethod
    def _slot(d: Item) -> VolunteerSlot:
        return VolunteerSlot(
            connection_id=d["sk"],
            user_id=d.get("userId", ""),
            role=d.get("role", "volunteer"),
            alias=d.get("alias", ""),
            available=bool(d.get("available", False)),
            capacity=int(d.get("capacity", 1)),
            active=int(d.get("active", 0)),
            languages=tuple(d.get("languages", ())),
            topics=tuple(d.get("topics", ())),
            idle_since_ms=int(d.get("idleSince", 0)),
        )

    def set_availability(
        self,
        conn: Connection,
        *,
        available: bool,
        capacity: int,
        languages: tuple[str, ...],
        topics: tuple[str, ...],
    ) -> VolunteerSlot:
        # An unconditional upsert; `active` and `idleSince` survive it (if_not_exists).
        self.calls.append("set_availability")
        item = copy.deepcopy(self.items.get((POOL_PK, conn.connection_id))) or {
            "pk": POOL_PK,
            "sk": conn.connection_id,
        }
        item.update(
            available=available,
            capacity=capacity,
            languages=list(languages),
            topics=list(topics),
            userId=conn.user_id,
            role=conn.role,
            alias=conn.alias,
            expiresAt=self._now() + self._connection_ttl,
        )
        item.setdefault("active", 0)
        item.setdefault("idleSince", self._now_ms())
        self._put(item)
        return self._slot(item)

    def get_slot(self, connection_id: str) -> VolunteerSlot | None:
        self.calls.append("get_slot")
        return self._slot_of(connection_id)

    def _slot_of(self, connection_id: str) -> VolunteerSlot | None:
        data = self._get((POOL_PK, connection_id))
        return self._slot(data) if data else None

    def available_volunteers(self) -> list[VolunteerSlot]:
        self.calls.append("available_volunteers")
        slots = (self._slot(d) for d in self._query(POOL_PK))
        return [s for s in slots if s.free_slots > 0]

    def volunteers_on_shift(self) -> int:
        self.calls.append("volunteers_on_shift")
        return sum(1 for d in self._query(POOL_PK) if self._slot(d).available)

    def remove_slot(self, connection_id: str) -> None:
        self.calls.append("remove_slot")
        self.items.pop((POOL_PK, connection_id), None)

    def on_shift_supervisors(self) -> list[str]:
        self.calls.append("on_shift_supervisors")
        return [d["sk"] for d in self._query(SHIFT_PK)]

    def join_shift(self, connection_id: str) -> None:
        self.calls.append("join_shift")
        self._put(
            {"pk": SHIFT_PK, "sk": connection_id, "expiresAt": self._now() + self._connection_ttl}
        )

    def leave_shift(self, connection_id: str) -> None:
        self.calls.append("leave_shift")
        self.items.pop((SHIFT_PK, connection_id), None)

    # -- sessions --------------------------------------------------------------------------

    def create_chat(self, entry: QueueEntry, slot: VolunteerSlot, session: Session) -> None:
        self.calls.append("create_chat")
        now_ms = self._now_ms()
        sid = session.session_id

        def seeker_to_chat(item: Item) -> Item:
            item.update(
                state="chatting", sessionId=sid, peerId=slot.connection_id, lastSessionId=sid
            )
            item.pop("queueKey", None)
            item["sessionIds"] = set(item.get("sessionIds", set())) | {sid}  # ADD to a string set
            return item

        def take_slot(item: Item) -> Item:
            item["active"] = int(item["active"]) + 1
            item["lastMatchAt"] = now_ms
            return item

        def add_chat(item: Item) -> Item:
            item["chats"] = {**item["chats"], sid: entry.connection_id}
            return item

        # Like DynamoStore's _to_item: an unset attribute (no level) is absent, not null.
        session_item = _without_none(
            {
                "pk": f"SESSION#{sid}",
                "sk": "SESSION",
                "seekerId": session.seeker_id,
                "volunteerId": session.volunteer_id,
                "seekerKey": session.seeker_key,
                "volunteerUserId": session.volunteer_user_id,
                "volunteerAlias": session.volunteer_alias,
                "seekerAlias": session.seeker_alias,
                "topics": list(session.topics),
                "startedAt": session.started_at_ms,
                "active": True,
                "lang": session.language,
                "level": session.level,
                "expiresAt": self._now() + self._session_ttl,
            }
        )
        self._transact(
            [
                # Like DynamoStore: a seeker whose socket dropped is not matched while away.
                _Op(
                    (QUEUE_PK, entry.queue_key),
                    lambda q: q is not None and "away" not in q,
                    lambda _: None,
                ),
                _Op(
                    _conn_key(entry.connection_id),
                    lambda c: (
                        c is not None
                        and c.get("state") == "waiting"
                        and c.get("queueKey") == entry.queue_key
                    ),
                    seeker_to_chat,
                ),
                _Op(
                    (POOL_PK, slot.connection_id),
                    lambda s: (
                        s is not None
                        and s.get("available") is True
                        and "active" in s
                        and "capacity" in s
                        and int(s["active"]) < int(s["capacity"])
                    ),
                    take_slot,
                ),
                _Op(
                    _conn_key(slot.connection_id),
                    lambda c: c is not None and "chats" in c,
                    add_chat,
                ),
                _Op(_session_key(sid), _absent, lambda _: session_item),
            ]
        )

    def _end_ops(
        self, session: Session, include: set[str], requeue: QueueEntry | None
    ) -> list[_Op]:
        now_ms = self._now_ms()
        sid = session.session_id

        def end(item: Item) -> Item:
            item.update(active=False, endedAt=now_ms)
            return item

        def free_seeker(item: Item) -> Item:
            if requeue is not None:
                item.update(state="waiting", queueKey=requeue.queue_key)
            else:
                item["state"] = "idle"
            item.pop("sessionId", None)
            item.pop("peerId", None)
            return item

        def drop_chat(item: Item) -> Item:
            item["chats"] = {k: v for k, v in item["chats"].items() if k != sid}
            return item

        def free_slot(item: Item) -> Item:
            item.update(active=int(item["active"]) - 1, idleSince=now_ms)
            return item

        ops = [_Op(_session_key(sid), lambda s: s is not None and s.get("active") is True, end)]
        if "seeker" in include:
            ops.append(
                _Op(
                    _conn_key(session.seeker_id),
                    lambda c: c is not None and c.get("sessionId") == sid,
                    free_seeker,
                )
            )
        if "volunteer" in include:
            ops.append(
                _Op(
                    _conn_key(session.volunteer_id),
                    lambda c: c is not None and sid in c.get("chats", {}),
                    drop_chat,
                )
            )
        if "slot" in include:
            ops.append(
                _Op(
                    (POOL_PK, session.volunteer_id),
                    lambda s: s is not None and int(s.get("active", 0)) > 0,
                    free_slot,
                )
            )
        if requeue is not None and "seeker" in include:
            ops.append(self._queue_put(requeue))
        return ops

    def end_chat(self, session: Session, *, requeue: QueueEntry | None = None) -> bool:
        # Like DynamoStore: a side already gone cannot be updated, so find out which sides
        # are still there and end the chat for those.
        self.calls.append("end_chat")
        include = {"seeker", "volunteer", "slot"}
        for _ in range(4):
            try:
                self._transact(self._end_ops(session, include, requeue))
                return True
            except Conflict:
                current = self._get(_session_key(session.session_id))
                if current is None or not current.get("active"):
                    return False
                include = self._still_present(session)
        return False

    def _still_present(self, session: Session) -> set[str]:
        present: set[str] = set()
        seeker = self._connection(session.seeker_id)
        if seeker is not None and seeker.session_id == session.session_id:
            present.add("seeker")
        volunteer = self._connection(session.volunteer_id)
        if volunteer is not None and session.session_id in volunteer.chats:
            present.add("volunteer")
        slot = self._slot_of(session.volunteer_id)
        if slot is not None and slot.active > 0:
            present.add("slot")
        return present

    def get_session(self, session_id: str) -> Session | None:
        self.calls.append("get_session")
        d = self._get(_session_key(session_id))
        if d is None:
            return None
        return self._session(session_id, d)

    @staticmethod
    def _session(session_id: str, d: Item) -> Session:
        return Session(
            session_id=session_id,
            seeker_id=d["seekerId"],
            volunteer_id=d["volunteerId"],
            seeker_key=d.get("seekerKey", ""),
            volunteer_user_id=d.get("volunteerUserId", ""),
            volunteer_alias=d.get("volunteerAlias", ""),
            seeker_alias=d.get("seekerAlias", ""),
            topics=tuple(d.get("topics", ())),
            started_at_ms=int(d.get("startedAt", 0)),
            active=bool(d.get("active", False)),
            language=d.get("lang", ""),
            level=d.get("level"),
            crisis_notified=bool(d.get("crisisNotified", False)),
        )

    def mark_crisis_notified(self, session_id: str) -> bool:
        self.calls.append("mark_crisis_notified")

        def mark(item: Item) -> Item:
            item["crisisNotified"] = True
            return item

        try:
            self._transact(
                [
                    _Op(
                        _session_key(session_id),
                        lambda s: s is not None and "crisisNotified" not in s,
                        mark,
                    )
                ]
            )
        except Conflict:
            return False
        return True

    def raise_level(self, session_id: str, level: Level) -> LevelChange | None:
        # Like DynamoStore: one conditional UpdateItem (the level set only if the chat is
        # active and its level lower or absent), the old item returned either way (ALL_OLD).
        self.calls.append("raise_level")
        lower = set(LEVELS[: LEVELS.index(level)])
        old = copy.deepcopy(self.items.get(_session_key(session_id)))

        def set_level(item: Item) -> Item:
            item["level"] = level
            return item

        try:
            self._transact(
                [
                    _Op(
                        _session_key(session_id),
                        lambda s: (
                            s is not None
                            and s.get("active") is True
                            and ("level" not in s or s["level"] in lower)
                        ),
                        set_level,
                    )
                ]
            )
        except Conflict:
            if old is None or not self._alive(old) or old.get("active") is not True:
                return None
            session = self._session(session_id, old)
            return LevelChange(session=session, previous=session.level)
        assert old is not None
        before = self._session(session_id, old)
        return LevelChange(session=replace(before, level=level), previous=before.level)

    def set_level(
        self, session_id: str, level: Level | None, *, volunteer_id: str
    ) -> LevelChange | None:
        # Like DynamoStore: one conditional UpdateItem (SET or REMOVE), ReturnValues=ALL_OLD.
        self.calls.append("set_level")
        old = copy.deepcopy(self.items.get(_session_key(session_id)))

        def write(item: Item) -> Item:
            if level is None:
                item.pop("level", None)
            else:
                item["level"] = level
            return item

        try:
            self._transact(
                [
                    _Op(
                        _session_key(session_id),
                        lambda s: (
                            s is not None
                            and s.get("active") is True
                            and s.get("volunteerId") == volunteer_id
                        ),
                        write,
                    )
                ]
            )
        except Conflict:
            return None
        assert old is not None
        before = self._session(session_id, old)
        return LevelChange(session=replace(before, level=level), previous=before.level)

    def delete_session(self, session_id: str) -> str | None:
        # Like DynamoStore's DeleteItem with ReturnValues=ALL_OLD (expired or not).
        self.calls.append("delete_session")
        old = self.items.pop(_session_key(session_id), None)
        return str(old["volunteerUserId"]) if old and "volunteerUserId" in old else None

    # -- reports and resume tickets --------------------------------------------------------

    def put_report(
        self, report_id: str, session_id: str, reason: str, reporter_role: str, expires_at: int
    ) -> None:
        self.calls.append("put_report")
        self._put(
            {
                "pk": f"REPORT#{report_id}",
                "sk": "REPORT",
                "sessionId": session_id,
                "reason": reason,
                "reporterRole": reporter_role,
                "createdAt": self._now_ms(),
                "expiresAt": expires_at,
            }
        )

    def put_resume(
        self, resume_hash: str, connection_id: str, seeker_key: str, expires_at: int
    ) -> None:
        # Separate writes, not one transaction, as in DynamoStore: the new ticket stays even
        # when the second write finds the connection gone (and raises).
        self.calls.append("put_resume")
        self._put(
            {
                "pk": f"RESUME#{resume_hash}",
                "sk": "RESUME",
                "connectionId": connection_id,
                "seekerKey": seeker_key,
                "expiresAt": expires_at,
            }
        )

        previous: list[str] = []

        def point(item: Item) -> Item:
            if item.get("resumeHash"):
                previous.append(item["resumeHash"])  # as ReturnValues=UPDATED_OLD gives it
            item["resumeHash"] = resume_hash
            return item

        self._transact([_Op(_conn_key(connection_id), _exists, point)])
        # Like DynamoStore: one valid token per seeker, the one held before is deleted.
        if previous and previous[0] != resume_hash:
            self.items.pop(_resume_key(previous[0]), None)

    def delete_resume(self, resume_hash: str) -> None:
        self.calls.append("delete_resume")
        self.items.pop(_resume_key(resume_hash), None)

    def get_resume(self, resume_hash: str) -> tuple[str, str] | None:
        self.calls.append("get_resume")
        data = self._get(_resume_key(resume_hash))
        if data is None:
            return None
        return str(data["connectionId"]), str(data.get("seekerKey", ""))

    # -- resuming a dropped connection -----------------------------------------------------

    @staticmethod
    def _holds(conn: Connection) -> Callable[[Item | None], bool]:
        """The condition that the stored connection is in the state `conn` was read in."""

        def same(c: Item | None) -> bool:
            if c is None or c.get("state") != conn.state:
                return False
            if conn.state == "waiting":
                return c.get("queueKey") == conn.queue_key
            if conn.state == "chatting":
                return c.get("sessionId") == conn.session_id
            return True

        return same

    def mark_away(self, conn: Connection, away_until: int) -> bool:
        # Like DynamoStore: one transaction marks the connection and its queue entry.
        self.calls.append("mark_away")

        def mark(item: Item) -> Item:
            item["awayUntil"] = away_until
            return item

        def flag(item: Item) -> Item:
            item["away"] = True
            return item

        ops = [_Op(_conn_key(conn.connection_id), self._holds(conn), mark)]
        if conn.state == "waiting" and conn.queue_key:
            ops.append(_Op((QUEUE_PK, conn.queue_key), _exists, flag))
        try:
            self._transact(ops)
        except Conflict:
            return False
        return True

    def resume(self, old: Connection, new: Connection, resume_hash: str) -> bool:
        self.calls.append("resume")
        now = self._now()
        holds = self._holds(old)

        def old_ok(c: Item | None) -> bool:
            return holds(c) and (c is None or "awayUntil" not in c or int(c["awayUntil"]) > now)

        item = _without_none(
            {
                "pk": f"CONN#{new.connection_id}",
                "sk": "CONN",
                "role": "seeker",
                "alias": old.alias,
                "lang": old.language,
                "seekerKey": old.seeker_key or None,
                "state": old.state,
                "sessionId": old.session_id,
                "peerId": old.peer_id,
                "queueKey": new.queue_key,
                "lastSessionId": old.last_session_id,
                "chats": {},
                "blockedUsers": set(old.blocked_users) or None,
                "sessionIds": set(old.session_ids) or None,
                "resumed": True,
                "connectedAt": self._now_ms(),
                "expiresAt": now + self._connection_ttl,
            }
        )
        ops = [
            _Op(
                _resume_key(resume_hash),
                lambda r: (
                    r is not None
                    and r.get("connectionId") == old.connection_id
                    and int(r["expiresAt"]) > now
                ),
                lambda _: None,
            ),
            _Op(_conn_key(old.connection_id), old_ok, lambda _: None),
            _Op(_conn_key(new.connection_id), _always, lambda _: item),
        ]
        if old.state == "waiting" and old.queue_key and new.queue_key:
            data = self._get((QUEUE_PK, old.queue_key))
            if data is None:
                return False
            moved = self._entry(data)
            moved = QueueEntry(
                **{
                    **moved.__dict__,
                    "connection_id": new.connection_id,
                    "queue_key": new.queue_key,
                    "away": False,
                }
            )
            ops.append(_Op((QUEUE_PK, old.queue_key), _exists, lambda _: None))
            ops.append(self._queue_put(moved))
        if old.state == "chatting" and old.session_id and old.peer_id:
            sid = old.session_id

            def repoint_session(s: Item) -> Item:
                s["seekerId"] = new.connection_id
                return s

            def repoint_chat(v: Item) -> Item:
                v["chats"] = {**v["chats"], sid: new.connection_id}
                return v

            ops.append(
                _Op(
                    _session_key(sid),
                    lambda s: (
                        s is not None
                        and s.get("seekerId") == old.connection_id
                        and s.get("active") is True
                    ),
                    repoint_session,
                )
            )
            ops.append(
                _Op(
                    _conn_key(old.peer_id),
                    lambda v: v is not None and v.get("chats", {}).get(sid) == old.connection_id,
                    repoint_chat,
                )
            )
        try:
            self._transact(ops)
        except Conflict:
            return False
        return True

    def clear_resume_flags(self, connection_id: str) -> None:
        self.calls.append("clear_resume_flags")

        def clear(item: Item) -> Item:
            item.pop("resumed", None)
            item.pop("resumeFailed", None)
            return item

        with suppress(Conflict):
            self._transact([_Op(_conn_key(connection_id), _exists, clear)])

    # -- the sweeper -----------------------------------------------------------------------

    def table_view(self) -> TableView:
        # Like DynamoStore's Scan: every live item, sorted into what it is.
        self.calls.append("table_view")
        view = TableView(connections=[], queue=[], slots=[], shift=[], active_sessions=[])
        for (pk, sk), stored in sorted(self.items.items()):
            if not self._alive(stored):
                continue
            d = copy.deepcopy(stored)
            if sk == "CONN" and pk.startswith("CONN#"):
                conn = self._connection(pk.removeprefix("CONN#"))
                if conn is not None:
                    view.connections.append(conn)
            elif pk == QUEUE_PK:
                view.queue.append(self._entry(d))
            elif pk == POOL_PK:
                view.slots.append(self._slot(d))
            elif pk == SHIFT_PK:
                view.shift.append(sk)
            elif sk == "SESSION" and d.get("active") is True:
                view.active_sessions.append(self._session(pk.removeprefix("SESSION#"), d))
        return view

    def delete_queue_entry(self, entry_key: str) -> None:
        self.calls.append("delete_queue_entry")
        self.items.pop((QUEUE_PK, entry_key), None)

    def mark_long_wait(self, entry_key: str) -> bool:
        self.calls.append("mark_long_wait")
        item = self.items.get((QUEUE_PK, entry_key))
        if item is None or item.get("longWait"):
            return False
        item["longWait"] = True
        return True


class RecordingNotifier:
    """Implements kindred.ports.Notifier: keeps every delivered frame, per connection.

    A connection id in `gone` behaves like a closed socket: send returns False (410).
    """

    def __init__(self) -> None:
        self.frames: dict[str, list[ServerFrame]] = defaultdict(list)
        self.wire: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.gone: set[str] = set()
        self.undelivered: list[tuple[str, ServerFrame]] = []
        self.closed: list[str] = []
        self._taken: dict[str, int] = defaultdict(int)

    def send(self, connection_id: str, frame: ServerFrame) -> bool:
        as_sent = json.loads(frame.wire())  # every frame must serialise as the wire has it
        if connection_id in self.gone:
            self.undelivered.append((connection_id, frame))
            return False
        self.frames[connection_id].append(frame)
        self.wire[connection_id].append(as_sent)
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

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._visible: list[str] = []
        self._delayed: list[tuple[float, int, str]] = []  # (visible at, order sent, reason)
        self._sent = 0
        self._clock = clock

    @property
    def reasons(self) -> list[str]:
        """The reasons of the visible work items (a list a test may clear)."""
        now = self._clock() if self._clock is not None else float("inf")
        due = sorted(d for d in self._delayed if d[0] <= now)
        self._delayed = [d for d in self._delayed if d[0] > now]
        self._visible.extend(reason for _, _, reason in due)
        return self._visible

    @property
    def delayed(self) -> list[tuple[str, float]]:
        """The work items not visible yet: (reason, seconds until they are)."""
        now = self._clock() if self._clock is not None else 0.0
        return [(reason, at - now) for at, _, reason in sorted(self._delayed) if at > now]

    def nudge(self, reason: WorkReason, delay_seconds: int = 0) -> None:
        WorkItem.model_validate({"reason": reason})  # the matcher refuses any other reason
        assert 0 <= delay_seconds <= 900, "SQS delays a message by at most 900 s"
        if delay_seconds and self._clock is not None:
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


def literal_settings(**overrides: Any) -> Settings:
    """Settings from literal values: nothing is read from the environment."""
    values: dict[str, Any] = {
        "table_name": "t",
        "match_queue_url": "q",
        "websocket_endpoint": "https://x",
        "sealing_secret_arn": "s",
        "region": "us-east-1",
    }
    return Settings(**(values | overrides))


@dataclass(frozen=True)
class FakeServices(Services):
    """kindred.services.Services whose ports are the fakes (typed, for the tests' sake)."""

    notifier: RecordingNotifier
    work: ListWorkQueue
    sealer: PlainSealer
    clock: FakeClock

    @property
    def store(self) -> InMemoryStore:
        """The one fake behind every storage port."""
        assert isinstance(self.connections, InMemoryStore)
        return self.connections


def make_services(clock: FakeClock | None = None, **settings: Any) -> FakeServices:
    """Services on the in-memory fakes, with a clock that stands still unless advanced."""
    config = literal_settings(**settings)
    the_clock = clock or FakeClock()
    store = InMemoryStore(
        clock=the_clock,
        connection_ttl=config.connection_ttl_seconds,
        session_ttl=config.session_retention_hours * 3600 + config.connection_ttl_seconds,
    )
    return FakeServices(
        connections=store,
        tickets=store,
        queue=store,
        pool=store,
        chats=store,
        safeguards=store,
        census=store,
        notifier=RecordingNotifier(),
        work=ListWorkQueue(the_clock),
        sealer=PlainSealer(),
        settings=config,
        clock=the_clock,
    )


# ---- driving the domain as API Gateway would ---------------------------------------------


def connect(
    svc: Services, cid: str, role: str = "seeker", *, user_id: str = "", alias: str = ""
) -> str:
    """Open a connection the way $connect does, after the authorizer has said who it is."""
    from kindred.connections import connect as on_connect
    from kindred.events import ConnectRequest

    on_connect(svc, ConnectRequest(cid, role, user_id, alias, {"lang": "en"}))
    return cid


def send(svc: Services, cid: str, frame: dict[str, Any] | str | None) -> None:
    """One client frame through kindred.chat.handle, routed on its action like API Gateway."""
    from kindred.chat import handle
    from kindred.events import MessageRequest
    from kindred.protocol import ACTIONS

    body = frame if frame is None or isinstance(frame, str) else json.dumps(frame)
    action = frame.get("action") if isinstance(frame, dict) else None
    route = action if isinstance(action, str) and action in ACTIONS else "$default"
    result = handle(svc, MessageRequest(connection_id=cid, route_key=route, body=body))
    assert result == {"statusCode": 200}  # a bad frame never fails the invocation


def _without_rate_logs(items: dict[Key, Item]) -> dict[Key, Item]:
    return {
        key: {k: v for k, v in item.items() if not is_rate_log(k)} for key, item in items.items()
    }


@contextmanager
def store_unchanged(svc: FakeServices) -> Iterator[None]:
    """Assert that what runs inside the block leaves every stored item as it was.

    Except the sender's rate log: every action but `ping` is counted in it, refused or not
    (the count is the one store call made before anything else is known).
    """
    before = _without_rate_logs(svc.store.snapshot())
    yield
    assert _without_rate_logs(svc.store.snapshot()) == before
