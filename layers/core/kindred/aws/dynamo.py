"""The Store on one DynamoDB table: every item keyed pk/sk, every item with a TTL."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from kindred.aws.layout import (
    CONN_SK,
    PACE_SK,
    POOL_PK,
    QUEUE_PK,
    REPORT_SK,
    RESUME_SK,
    SESSION_SK,
    SHIFT_PK,
    STATS_PK,
    block_key,
    block_of,
    block_pk,
    block_sk,
    conn_key,
    conn_pk,
    connection_id_of,
    key,
    report_pk,
    resume_key,
    resume_pk,
    session_id_of,
    session_key,
    session_pk,
)
from kindred.ports import Conflict, RateLimited, TableView
from kindred.protocol import Level
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

# The rate log on a connection item: rl0 is the time (epoch ms) of its latest counted action,
# rl1 the one before, and so on (see DynamoStore.count_action).
RATE_LOG = "rl"
BATCH_READ_ATTEMPTS = 6

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def _from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _names(*names: str) -> dict[str, str]:
    """Expression names for attributes: several of ours are DynamoDB reserved words."""
    return {f"#{n}": n for n in names}


def _values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items()}


def _next_window(old_start: Any, old_count: Any, count: int, now_ms: int) -> MatchPace:
    """The pace item for a new window, after the one that started at `old_start` closed."""
    if old_start is not None and now_ms - int(old_start) < 2 * PACE_WINDOW_MS:
        # The next window right after the old one: the old count is the previous window's.
        return MatchPace(
            window_start_ms=int(old_start) + PACE_WINDOW_MS,
            count=count,
            previous=int(old_count),
        )
    return MatchPace(window_start_ms=now_ms, count=count)


class DynamoStore:
    """Implements kindred.ports.Store; conditions in every write make races harmless."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        connection_ttl: int,
        session_ttl: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = client
        self._table = table_name
        self._connection_ttl = connection_ttl
        self._session_ttl = session_ttl
        self._clock = clock

    # -- helpers ---------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self._clock())

    def _alive(self, item: Mapping[str, Any]) -> bool:
        expires = item.get("expiresAt")
        return expires is None or int(expires) > self._now()

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        resp = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True)
        item = resp.get("Item")
        if not item:
            return None
        data = _from_item(item)
        return data if self._alive(data) else None

    def _query_partition(self, pk: str, limit: int | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
        }
        while True:
            if limit is not None:
                kwargs["Limit"] = limit - len(items)
            resp = self._db.query(**kwargs)
            items.extend(d for d in map(_from_item, resp.get("Items", [])) if self._alive(d))
            last = resp.get("LastEvaluatedKey")
            if not last or (limit is not None and len(items) >= limit):
                return items
            kwargs["ExclusiveStartKey"] = last

    def _transact(self, ops: list[dict[str, Any]]) -> None:
        for op in ops:
            next(iter(op.values()))["TableName"] = self._table
        try:
            self._db.transact_write_items(TransactItems=ops)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("TransactionCanceledException", "ConditionalCheckFailedException"):
                reasons = [
                    r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])
                ]
                raise Conflict(",".join(reasons) or str(code)) from None
            raise

    # -- connections -----------------------------------------------------------------------

    def get_connection(self, connection_id: str) -> Connection | None:
        data = self._get(conn_key(connection_id))
        return None if data is None else self._connection(connection_id, data)

    @staticmethod
    def _connection(connection_id: str, data: Mapping[str, Any]) -> Connection:
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
        item = {
            "pk": conn_pk(conn.connection_id),
            "sk": CONN_SK,
            "role": conn.role,
            "alias": conn.alias,
            "lang": conn.language,
            "userId": conn.user_id or None,
            "seekerKey": conn.seeker_key or None,
            "state": conn.state,
            "chats": dict(conn.chats),
            "connectedAt": int(self._clock() * 1000),
            "resumeFailed": True if conn.resume_failed else None,
            "expiresAt": self._now() + self._connection_ttl,
        }
        self._db.put_item(TableName=self._table, Item=_to_item(item))

    def delete_connection(self, connection_id: str) -> None:
        self._db.delete_item(TableName=self._table, Key=conn_key(connection_id))

    def count_action(
        self, connection_id: str, *, now_ms: int, limit: int, window_ms: int
    ) -> Connection | None:
        """One UpdateItem: count this action in the connection's rate log and return the item.

        The log is `limit` attributes rl0 .. rl{limit-1}, the times of the latest counted
        actions, newest first. Each counted action shifts it by one (DynamoDB evaluates every
        operand of an update expression against the item as it was before the update, so
        `rl1 = rl0` takes the old rl0), and the condition admits the action only if the
        oldest entry, the limit-th latest counted action, lies outside the window:

            SET rl0 = :now, rl1 = if_not_exists(rl0, :zero), ..., rlN = if_not_exists(rlN-1, :zero)
            IF attribute_exists(pk) AND expiresAt > :nowSeconds
               AND (attribute_not_exists(rlN) OR rlN <= :windowStart)

        with N = limit - 1 and :windowStart = now - window: at most `limit` counted actions in
        any window, exactly, with concurrent actions serialised by DynamoDB on the one item.
        A refused action writes nothing and does not count. When the condition fails,
        ReturnValuesOnConditionCheckFailure=ALL_OLD tells why: no item, or one past its
        expiry, is a gone connection; otherwise the log is full.
        """
        last = f"{RATE_LOG}{limit - 1}"
        shifts = [f"{RATE_LOG}0 = :now"] + [
            f"{RATE_LOG}{i} = if_not_exists({RATE_LOG}{i - 1}, :zero)" for i in range(1, limit)
        ]
        try:
            resp = self._db.update_item(
                TableName=self._table,
                Key=conn_key(connection_id),
                UpdateExpression="SET " + ", ".join(shifts),
                ConditionExpression=(
                    f"attribute_exists(pk) AND expiresAt > :nowSeconds"
                    f" AND (attribute_not_exists({last}) OR {last} <= :windowStart)"
                ),
                ExpressionAttributeValues=_values(
                    {
                        ":now": now_ms,
                        ":zero": 0,
                        ":nowSeconds": now_ms // 1000,
                        ":windowStart": now_ms - window_ms,
                    }
                ),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            old = exc.response.get("Item")
            if not old or not self._alive(_from_item(old)):
                return None
            raise RateLimited(connection_id) from None
        return self._connection(connection_id, _from_item(resp["Attributes"]))

    def add_blocked_user(self, connection_id: str, user_id: str) -> bool:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=conn_key(connection_id),
                UpdateExpression="ADD blockedUsers :u",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":u": {"SS": [user_id]}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # -- blocks ------------------------------------------------------------------------------

    def put_block(self, volunteer_user_id: str, seeker_key: str, expires_at: int) -> None:
        item = {
            "pk": block_pk(volunteer_user_id),
            "sk": block_sk(seeker_key),
            "expiresAt": expires_at,
        }
        self._db.put_item(TableName=self._table, Item=_to_item(item))

    def blocked_pairs(self, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
        wanted = sorted(pairs)
        blocked: set[tuple[str, str]] = set()
        for start in range(0, len(wanted), 100):  # BatchGetItem's limit
            keys = [block_key(user, seeker) for user, seeker in wanted[start : start + 100]]
            request: dict[str, Any] = {
                self._table: {"Keys": keys, "ProjectionExpression": "pk, sk, expiresAt"}
            }
            for attempt in range(BATCH_READ_ATTEMPTS):
                if attempt:
                    time.sleep(0.05 * 2**attempt)  # what DynamoDB left unread, with back-off
                resp = self._db.batch_get_item(RequestItems=request)
                for item in resp.get("Responses", {}).get(self._table, []):
                    data = _from_item(item)
                    if self._alive(data):
                        blocked.add(block_of(data["pk"], data["sk"]))
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                # A pair whose block could not be read is never taken for a free one: the
                # matcher's run fails, and SQS delivers its work item again.
                raise RuntimeError("the blocks of the planned pairs could not be read")
        return blocked

    def delete_block(self, volunteer_user_id: str, seeker_key: str) -> None:
        self._db.delete_item(TableName=self._table, Key=block_key(volunteer_user_id, seeker_key))

    # -- the waiting queue -----------------------------------------------------------------

    def _queue_put(self, entry: QueueEntry) -> dict[str, Any]:
        item = {
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
        return {"Put": {"Item": _to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}}

    def enqueue(
        self,
        entry: QueueEntry,
        resume_hash: str,
        resume_expires_at: int,
        previous_resume_hash: str | None = None,
    ) -> None:
        # The ticket deleted is the one the connection holds: the condition makes sure.
        values: dict[str, Any] = {
            ":waiting": "waiting",
            ":idle": "idle",
            ":qk": entry.queue_key,
            ":rh": resume_hash,
        }
        if previous_resume_hash:
            held = "resumeHash = :prev"
            values[":prev"] = previous_resume_hash
        else:
            held = "attribute_not_exists(resumeHash)"
        ops: list[dict[str, Any]] = [
            self._queue_put(entry),
            {
                "Update": {
                    "Key": conn_key(entry.connection_id),
                    "UpdateExpression": "SET #state = :waiting, queueKey = :qk, resumeHash = :rh",
                    "ConditionExpression": f"attribute_exists(pk) AND #state = :idle AND {held}",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": _values(values),
                }
            },
            {
                "Put": {
                    "Item": _to_item(
                        {
                            "pk": resume_pk(resume_hash),
                            "sk": RESUME_SK,
                            "connectionId": entry.connection_id,
                            "seekerKey": entry.seeker_key,
                            "expiresAt": resume_expires_at,
                        }
                    )
                }
            },
        ]
        if previous_resume_hash and previous_resume_hash != resume_hash:
            ops.append({"Delete": {"Key": resume_key(previous_resume_hash)}})
        self._transact(ops)

    def leave_queue(self, conn: Connection) -> bool:
        if conn.state != "waiting" or not conn.queue_key:
            return False
        try:
            self._transact(
                [
                    {
                        "Delete": {
                            "Key": key(QUEUE_PK, conn.queue_key),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "Key": conn_key(conn.connection_id),
                            "UpdateExpression": "SET #state = :idle REMOVE queueKey",
                            "ConditionExpression": "#state = :waiting AND queueKey = :qk",
                            "ExpressionAttributeNames": {"#state": "state"},
                            "ExpressionAttributeValues": _values(
                                {":idle": "idle", ":waiting": "waiting", ":qk": conn.queue_key}
                            ),
                        }
                    },
                ]
            )
        except Conflict:
            return False
        return True

    def queue_position(self, entry_key: str) -> int:
        count = 0
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk < :sk",
            "ExpressionAttributeValues": _values({":pk": QUEUE_PK, ":sk": entry_key}),
            "Select": "COUNT",
        }
        while True:
            resp = self._db.query(**kwargs)
            count += int(resp.get("Count", 0))
            if "LastEvaluatedKey" not in resp:
                return count + 1
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def waiting(self, limit: int) -> list[QueueEntry]:
        return [self._entry(d) for d in self._query_partition(QUEUE_PK, limit)]

    @staticmethod
    def _entry(d: Mapping[str, Any]) -> QueueEntry:
        return QueueEntry(
            connection_id=d["connectionId"],
            queue_key=d["sk"],
            priority=int(d["priority"]),
            enqueued_at_ms=int(d["enqueuedAt"]),
            language=d["lang"],
            topics=tuple(d.get("topics", ())),
            seeker_key=d.get("seekerKey", ""),
            seeker_alias=d.get("seekerAlias", ""),
            # (`risk: true` is how an entry queued before levels said "at risk".)
            level=d.get("level") or ("high" if d.get("risk") else None),
            sealed_intro=d.get("sealedIntro"),
            sealed_note=d.get("sealedNote"),
            reason=d.get("reason"),
            blocked_users=frozenset(d.get("blockedUsers", ())),
            away=bool(d.get("away", False)),
            long_wait=bool(d.get("longWait", False)),
        )

    # -- the pace of matches ---------------------------------------------------------------

    @staticmethod
    def _pace(data: Mapping[str, Any]) -> MatchPace:
        return MatchPace(
            window_start_ms=int(data["windowStart"]),
            count=int(data.get("matches", 0)),
            previous=int(data.get("previousMatches", 0)),
        )

    def record_matches(self, count: int, now_ms: int) -> MatchPace:
        # One item, two counters: matches in the current fixed window and in the one before.
        # Counting is one UpdateItem while the window is open; when it has closed (or the item
        # is absent), the item is rewritten for the next window, on condition that nobody
        # else rolled it first (then the count goes into their window).
        pace_key = key(STATS_PK, PACE_SK)
        for _ in range(3):
            try:
                resp = self._db.update_item(
                    TableName=self._table,
                    Key=pace_key,
                    UpdateExpression="ADD matches :n",
                    ConditionExpression="windowStart > :closedBefore",
                    ExpressionAttributeValues=_values(
                        {":n": count, ":closedBefore": now_ms - PACE_WINDOW_MS}
                    ),
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return self._pace(_from_item(resp["Attributes"]))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                old = _from_item(exc.response.get("Item") or {})
            pace = _next_window(old.get("windowStart"), old.get("matches", 0), count, now_ms)
            item = {
                "pk": STATS_PK,
                "sk": PACE_SK,
                "windowStart": pace.window_start_ms,
                "matches": pace.count,
                "previousMatches": pace.previous,
                # Past two windows the counts say nothing any more.
                "expiresAt": (pace.window_start_ms + 2 * PACE_WINDOW_MS) // 1000,
            }
            seen = old.get("windowStart")
            try:
                self._db.put_item(
                    TableName=self._table,
                    Item=_to_item(item),
                    ConditionExpression=(
                        "windowStart = :seen" if seen is not None else "attribute_not_exists(pk)"
                    ),
                    **(
                        {"ExpressionAttributeValues": _values({":seen": seen})}
                        if seen is not None
                        else {}
                    ),
                )
                return pace
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
        return MatchPace(window_start_ms=now_ms, count=count)  # an estimate, not worth more

    def match_pace(self) -> MatchPace | None:
        data = self._get(key(STATS_PK, PACE_SK))
        return self._pace(data) if data else None

    # -- volunteers ------------------------------------------------------------------------

    @staticmethod
    def _slot(d: Mapping[str, Any]) -> VolunteerSlot:
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
        resp = self._db.update_item(
            TableName=self._table,
            Key=key(POOL_PK, conn.connection_id),
            UpdateExpression=(
                "SET #available = :available, #capacity = :capacity, #languages = :languages, "
                "#topics = :topics, #userId = :userId, #role = :role, #alias = :alias, "
                "#active = if_not_exists(#active, :zero), "
                "#idleSince = if_not_exists(#idleSince, :now), #expiresAt = :expiresAt"
            ),
            ExpressionAttributeNames=_names(
                "available",
                "capacity",
                "languages",
                "topics",
                "userId",
                "role",
                "alias",
                "active",
                "idleSince",
                "expiresAt",
            ),
            ExpressionAttributeValues=_values(
                {
                    ":available": available,
                    ":capacity": capacity,
                    ":languages": list(languages),
                    ":topics": list(topics),
                    ":userId": conn.user_id,
                    ":role": conn.role,
                    ":alias": conn.alias,
                    ":zero": 0,
                    ":now": int(self._clock() * 1000),
                    ":expiresAt": self._now() + self._connection_ttl,
                }
            ),
            ReturnValues="ALL_NEW",
        )
        return self._slot(_from_item(resp["Attributes"]))

    def get_slot(self, connection_id: str) -> VolunteerSlot | None:
        data = self._get(key(POOL_PK, connection_id))
        return self._slot(data) if data else None

    def available_volunteers(self) -> list[VolunteerSlot]:
        slots = (self._slot(d) for d in self._query_partition(POOL_PK))
        return [s for s in slots if s.free_slots > 0]

    def volunteers_on_shift(self) -> int:
        return sum(1 for d in self._query_partition(POOL_PK) if self._slot(d).available)

    def remove_slot(self, connection_id: str) -> None:
        self._db.delete_item(TableName=self._table, Key=key(POOL_PK, connection_id))

    def on_shift_supervisors(self) -> list[str]:
        return [d["sk"] for d in self._query_partition(SHIFT_PK)]

    def join_shift(self, connection_id: str) -> None:
        item = {
            "pk": SHIFT_PK,
            "sk": connection_id,
            "expiresAt": self._now() + self._connection_ttl,
        }
        self._db.put_item(TableName=self._table, Item=_to_item(item))

    def leave_shift(self, connection_id: str) -> None:
        self._db.delete_item(TableName=self._table, Key=key(SHIFT_PK, connection_id))

    # -- sessions --------------------------------------------------------------------------

    def create_chat(self, entry: QueueEntry, slot: VolunteerSlot, session: Session) -> None:
        try:
            self._create_chat(entry, slot, session)
        except Conflict:
            # A transaction whose answer was lost (a timeout) is retried by the SDK; if the first
            # attempt had committed, the retry finds its own work done and fails its conditions.
            # The session exists then: the match was made, and both sides must be told.
            if self._get(session_key(session.session_id)) is None:
                raise

    def _create_chat(self, entry: QueueEntry, slot: VolunteerSlot, session: Session) -> None:
        now_ms = int(self._clock() * 1000)
        self._transact(
            [
                {
                    "Delete": {
                        "Key": key(QUEUE_PK, entry.queue_key),
                        # A seeker whose socket dropped is not matched while away.
                        "ConditionExpression": (
                            "attribute_exists(pk) AND attribute_not_exists(away)"
                        ),
                    }
                },
                {
                    "Update": {
                        "Key": conn_key(entry.connection_id),
                        "UpdateExpression": (
                            "SET #state = :chatting, sessionId = :sid, peerId = :peer, "
                            "lastSessionId = :sid REMOVE queueKey ADD sessionIds :sids"
                        ),
                        "ConditionExpression": "#state = :waiting AND queueKey = :qk",
                        "ExpressionAttributeNames": {"#state": "state"},
                        "ExpressionAttributeValues": _values(
                            {
                                ":chatting": "chatting",
                                ":waiting": "waiting",
                                ":sid": session.session_id,
                                ":sids": {session.session_id},
                                ":peer": slot.connection_id,
                                ":qk": entry.queue_key,
                            }
                        ),
                    }
                },
                {
                    "Update": {
                        "Key": key(POOL_PK, slot.connection_id),
                        "UpdateExpression": "SET #active = #active + :one, lastMatchAt = :now",
                        "ConditionExpression": "#available = :true AND #active < #capacity",
                        "ExpressionAttributeNames": _names("active", "available", "capacity"),
                        "ExpressionAttributeValues": _values(
                            {":one": 1, ":true": True, ":now": now_ms}
                        ),
                    }
                },
                {
                    "Update": {
                        "Key": conn_key(slot.connection_id),
                        "UpdateExpression": "SET chats.#sid = :seeker",
                        "ConditionExpression": "attribute_exists(pk) AND attribute_exists(chats)",
                        "ExpressionAttributeNames": {"#sid": session.session_id},
                        "ExpressionAttributeValues": _values({":seeker": entry.connection_id}),
                    }
                },
                {
                    "Put": {
                        "Item": _to_item(
                            {
                                "pk": session_pk(session.session_id),
                                "sk": SESSION_SK,
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
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    def _end_ops(self, session: Session, include: set[str]) -> list[dict[str, Any]]:
        now_ms = int(self._clock() * 1000)
        sid = session.session_id
        ops: list[dict[str, Any]] = [
            {
                "Update": {
                    "Key": session_key(sid),
                    "UpdateExpression": "SET #active = :false, endedAt = :now",
                    "ConditionExpression": "#active = :true",
                    "ExpressionAttributeNames": _names("active"),
                    "ExpressionAttributeValues": _values(
                        {":false": False, ":true": True, ":now": now_ms}
                    ),
                }
            }
        ]
        if "seeker" in include:
            ops.append(
                {
                    "Update": {
                        "Key": conn_key(session.seeker_id),
                        "UpdateExpression": "SET #state = :idle REMOVE sessionId, peerId",
                        "ConditionExpression": "sessionId = :sid",
                        "ExpressionAttributeNames": {"#state": "state"},
                        "ExpressionAttributeValues": _values({":idle": "idle", ":sid": sid}),
                    }
                }
            )
        if "volunteer" in include:
            ops.append(
                {
                    "Update": {
                        "Key": conn_key(session.volunteer_id),
                        "UpdateExpression": "REMOVE chats.#sid",
                        "ConditionExpression": "attribute_exists(chats.#sid)",
                        "ExpressionAttributeNames": {"#sid": sid},
                    }
                }
            )
        if "slot" in include:
            ops.append(
                {
                    "Update": {
                        "Key": key(POOL_PK, session.volunteer_id),
                        "UpdateExpression": "SET #active = #active - :one, idleSince = :now",
                        "ConditionExpression": "#active > :zero",
                        "ExpressionAttributeNames": _names("active"),
                        "ExpressionAttributeValues": _values(
                            {":one": 1, ":zero": 0, ":now": now_ms}
                        ),
                    }
                }
            )
        return ops

    def end_chat(self, session: Session, *, requeue: QueueEntry | None = None) -> bool:
        # A side whose connection is already gone cannot be updated (the condition fails);
        # find out which sides are still there and end the chat for those.
        include = {"seeker", "volunteer", "slot"}
        for _ in range(4):
            ops = self._end_ops(session, include)
            if requeue is not None and "seeker" in include:
                ops.append(self._queue_put(requeue))
                seeker_op = ops[1]["Update"]
                seeker_op["UpdateExpression"] = (
                    "SET #state = :waiting, queueKey = :qk REMOVE sessionId, peerId"
                )
                seeker_op["ExpressionAttributeValues"] = _values(
                    {":waiting": "waiting", ":qk": requeue.queue_key, ":sid": session.session_id}
                )
            try:
                self._transact(ops)
                return True
            except Conflict:
                current = self._get(session_key(session.session_id))
                if current is None or not current.get("active"):
                    return False
                include = self._still_present(session)
        return False

    def _still_present(self, session: Session) -> set[str]:
        present: set[str] = set()
        seeker = self.get_connection(session.seeker_id)
        if seeker is not None and seeker.session_id == session.session_id:
            present.add("seeker")
        volunteer = self.get_connection(session.volunteer_id)
        if volunteer is not None and session.session_id in volunteer.chats:
            present.add("volunteer")
        slot = self.get_slot(session.volunteer_id)
        if slot is not None and slot.active > 0:
            present.add("slot")
        return present

    def get_session(self, session_id: str) -> Session | None:
        d = self._get(session_key(session_id))
        if d is None:
            return None
        return self._session(session_id, d)

    @staticmethod
    def _session(session_id: str, d: Mapping[str, Any]) -> Session:
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
        try:
            self._db.update_item(
                TableName=self._table,
                Key=session_key(session_id),
                UpdateExpression="SET crisisNotified = :true",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(crisisNotified)",
                ExpressionAttributeValues={":true": {"BOOL": True}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def raise_level(self, session_id: str, level: Level) -> LevelChange | None:
        """One UpdateItem: SET level IF the chat is active AND its level is lower (or absent).

        ALL_OLD either way: on success it is the chat before the write (its level the one
        before); when the condition fails it tells whether the chat is gone or ended (None) or
        already at this level or higher (no change).
        """
        lower = LEVELS[: LEVELS.index(level)]
        names = {f":lower{i}": value for i, value in enumerate(lower)}
        below = "attribute_not_exists(#level)"
        if names:
            below = f"({below} OR #level IN ({', '.join(names)}))"
        try:
            resp = self._db.update_item(
                TableName=self._table,
                Key=session_key(session_id),
                UpdateExpression="SET #level = :level",
                ConditionExpression=f"attribute_exists(pk) AND #active = :true AND {below}",
                ExpressionAttributeNames=_names("level", "active"),
                ExpressionAttributeValues=_values({":level": level, ":true": True, **names}),
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            old = _from_item(exc.response.get("Item") or {})
            if not old or not self._alive(old) or old.get("active") is not True:
                return None
            session = self._session(session_id, old)
            return LevelChange(session=session, previous=session.level)
        before = self._session(session_id, _from_item(resp["Attributes"]))
        return LevelChange(session=replace(before, level=level), previous=before.level)

    def set_level(
        self, session_id: str, level: Level | None, *, volunteer_id: str
    ) -> LevelChange | None:
        """One UpdateItem: SET (or REMOVE) level IF the chat is active and this volunteer's."""
        values: dict[str, Any] = {":true": True, ":volunteer": volunteer_id}
        if level is None:
            update = "REMOVE #level"
        else:
            update = "SET #level = :level"
            values[":level"] = level
        try:
            resp = self._db.update_item(
                TableName=self._table,
                Key=session_key(session_id),
                UpdateExpression=update,
                ConditionExpression=(
                    "attribute_exists(pk) AND #active = :true AND volunteerId = :volunteer"
                ),
                ExpressionAttributeNames=_names("level", "active"),
                ExpressionAttributeValues=_values(values),
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        before = self._session(session_id, _from_item(resp["Attributes"]))
        return LevelChange(session=replace(before, level=level), previous=before.level)

    def delete_session(self, session_id: str) -> str | None:
        resp = self._db.delete_item(
            TableName=self._table,
            Key=session_key(session_id),
            ReturnValues="ALL_OLD",
        )
        old = resp.get("Attributes") or {}
        return str(old["volunteerUserId"]["S"]) if "volunteerUserId" in old else None

    # -- reports and resume tickets --------------------------------------------------------

    def put_report(
        self, report_id: str, session_id: str, reason: str, reporter_role: str, expires_at: int
    ) -> None:
        item = {
            "pk": report_pk(report_id),
            "sk": REPORT_SK,
            "sessionId": session_id,
            "reason": reason,
            "reporterRole": reporter_role,
            "createdAt": int(self._clock() * 1000),
            "expiresAt": expires_at,
        }
        self._db.put_item(TableName=self._table, Item=_to_item(item))

    def put_resume(
        self, resume_hash: str, connection_id: str, seeker_key: str, expires_at: int
    ) -> None:
        item = {
            "pk": resume_pk(resume_hash),
            "sk": RESUME_SK,
            "connectionId": connection_id,
            "seekerKey": seeker_key,
            "expiresAt": expires_at,
        }
        self._db.put_item(TableName=self._table, Item=_to_item(item))
        resp = self._db.update_item(
            TableName=self._table,
            Key=conn_key(connection_id),
            UpdateExpression="SET resumeHash = :rh",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":rh": {"S": resume_hash}},
            ReturnValues="UPDATED_OLD",
        )
        # One valid token per seeker: the ticket the connection held before is deleted.
        previous = resp.get("Attributes", {}).get("resumeHash", {}).get("S")
        if previous and previous != resume_hash:
            self.delete_resume(previous)

    def delete_resume(self, resume_hash: str) -> None:
        self._db.delete_item(TableName=self._table, Key=resume_key(resume_hash))

    def get_resume(self, resume_hash: str) -> tuple[str, str] | None:
        data = self._get(resume_key(resume_hash))
        if data is None:
            return None
        return str(data["connectionId"]), str(data.get("seekerKey", ""))

    # -- resuming a dropped connection -----------------------------------------------------

    def mark_away(self, conn: Connection, away_until: int) -> bool:
        values: dict[str, Any] = {":au": away_until, ":state": conn.state}
        condition = "attribute_exists(pk) AND #state = :state"
        if conn.state == "waiting":
            condition += " AND queueKey = :qk"
            values[":qk"] = conn.queue_key
        elif conn.state == "chatting":
            condition += " AND sessionId = :sid"
            values[":sid"] = conn.session_id
        ops: list[dict[str, Any]] = [
            {
                "Update": {
                    "Key": conn_key(conn.connection_id),
                    "UpdateExpression": "SET awayUntil = :au",
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": _values(values),
                }
            }
        ]
        if conn.state == "waiting" and conn.queue_key:
            ops.append(
                {
                    "Update": {
                        "Key": key(QUEUE_PK, conn.queue_key),
                        "UpdateExpression": "SET away = :true",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": _values({":true": True}),
                    }
                }
            )
        try:
            self._transact(ops)
        except Conflict:
            return False
        return True

    def resume(self, old: Connection, new: Connection, resume_hash: str) -> bool:
        now = self._now()
        old_values: dict[str, Any] = {":state": old.state, ":now": now}
        old_condition = "#state = :state AND (attribute_not_exists(awayUntil) OR awayUntil > :now)"
        if old.state == "waiting":
            old_condition += " AND queueKey = :qk"
            old_values[":qk"] = old.queue_key
        elif old.state == "chatting":
            old_condition += " AND sessionId = :sid"
            old_values[":sid"] = old.session_id
        item: dict[str, Any] = {
            "pk": conn_pk(new.connection_id),
            "sk": CONN_SK,
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
            "connectedAt": int(self._clock() * 1000),
            "expiresAt": now + self._connection_ttl,
        }
        ops: list[dict[str, Any]] = [
            {
                "Delete": {
                    "Key": resume_key(resume_hash),
                    "ConditionExpression": "connectionId = :old AND expiresAt > :now",
                    "ExpressionAttributeValues": _values({":old": old.connection_id, ":now": now}),
                }
            },
            {
                "Delete": {
                    "Key": conn_key(old.connection_id),
                    "ConditionExpression": old_condition,
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": _values(old_values),
                }
            },
            {"Put": {"Item": _to_item(item)}},
        ]
        if old.state == "waiting" and old.queue_key and new.queue_key:
            data = self._get(key(QUEUE_PK, old.queue_key))
            if data is None:
                return False
            entry = self._entry(data)
            ops.append(
                {
                    "Delete": {
                        "Key": key(QUEUE_PK, old.queue_key),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                }
            )
            moved = QueueEntry(
                **{
                    **entry.__dict__,
                    "connection_id": new.connection_id,
                    "queue_key": new.queue_key,
                    "away": False,
                }
            )
            ops.append(self._queue_put(moved))
        if old.state == "chatting" and old.session_id and old.peer_id:
            ops.append(
                {
                    "Update": {
                        "Key": session_key(old.session_id),
                        "UpdateExpression": "SET seekerId = :new",
                        "ConditionExpression": "seekerId = :old AND #active = :true",
                        "ExpressionAttributeNames": _names("active"),
                        "ExpressionAttributeValues": _values(
                            {":new": new.connection_id, ":old": old.connection_id, ":true": True}
                        ),
                    }
                }
            )
            ops.append(
                {
                    "Update": {
                        "Key": conn_key(old.peer_id),
                        "UpdateExpression": "SET chats.#sid = :new",
                        "ConditionExpression": "chats.#sid = :old",
                        "ExpressionAttributeNames": {"#sid": old.session_id},
                        "ExpressionAttributeValues": _values(
                            {":new": new.connection_id, ":old": old.connection_id}
                        ),
                    }
                }
            )
        try:
            self._transact(ops)
        except Conflict:
            return False
        return True

    def clear_resume_flags(self, connection_id: str) -> None:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=conn_key(connection_id),
                UpdateExpression="REMOVE resumed, resumeFailed",
                ConditionExpression="attribute_exists(pk)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    # -- the sweeper -----------------------------------------------------------------------

    def table_view(self) -> TableView:
        """One Scan of the whole table (the sweeper's only read): every item is small and
        short-lived but sessions (SessionRetentionHours), reports and blocks."""
        view = TableView(connections=[], queue=[], slots=[], shift=[], active_sessions=[])
        kwargs: dict[str, Any] = {"TableName": self._table}
        while True:
            resp = self._db.scan(**kwargs)
            for d in map(_from_item, resp.get("Items", [])):
                if self._alive(d):
                    _sort_into(view, d, self)
            last = resp.get("LastEvaluatedKey")
            if not last:
                return view
            kwargs["ExclusiveStartKey"] = last

    def delete_queue_entry(self, entry_key: str) -> None:
        self._db.delete_item(TableName=self._table, Key=key(QUEUE_PK, entry_key))

    def mark_long_wait(self, entry_key: str) -> bool:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=key(QUEUE_PK, entry_key),
                UpdateExpression="SET longWait = :yes",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(longWait)",
                ExpressionAttributeValues=_values({":yes": True}),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _sort_into(view: TableView, d: Mapping[str, Any], store: DynamoStore) -> None:
    pk, sk = str(d["pk"]), str(d["sk"])
    if (connection_id := connection_id_of(pk, sk)) is not None:
        view.connections.append(store._connection(connection_id, d))
    elif pk == QUEUE_PK:
        view.queue.append(store._entry(d))
    elif pk == POOL_PK:
        view.slots.append(store._slot(d))
    elif pk == SHIFT_PK:
        view.shift.append(sk)
    elif (session_id := session_id_of(pk, sk)) is not None and d.get("active") is True:
        view.active_sessions.append(store._session(session_id, d))
