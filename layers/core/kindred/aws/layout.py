"""The table's layout: every key Kindred writes, and the codecs between records and items.

One DynamoDB table; an item is told by its keys (`pk`, `sk`):

| item | pk | sk |
|---|---|---|
| a connection | `CONN#<connection id>` | `CONN` |
| a chat | `SESSION#<session id>` | `SESSION` |
| a resume ticket | `RESUME#<hash of the token>` | `RESUME` |
| a block | `BLOCK#<volunteer's user id>` | `SEEKER#<seeker key>` |
| a report (one per side of a chat) | `REPORT#<session id>` | `BY#<side>` (`seeker`, `volunteer`) |
| a waiting seeker | `QUEUE` | the queue key (priority, time, connection id) |
| a practice seeker waiting (kindred.practice) | `PRACTICE` | `practice#<queue key>` |
| a volunteer's slot | `POOL` | connection id |
| a supervisor on shift | `SHIFT` | connection id |
| a staff account's shift and pause (kindred.care) | `CARE#<user id>` | `CARE` |
| the pace of matches | `STATS` | `PACE` |
| a source's new seekers in a minute | `SOURCE#<keyed hash>` | `MINUTE#<epoch minute>` |
| a month's check-in totals (counts only) | `IMPACT` | `MONTH#<YYYY-MM>` |
| the board's subscribers and pending push | `BOARD` | `STATE` |
| an active chat as the board shows it | `BOARD` | `CHAT#<session id>` |
| a return key's link to a volunteer (issue 13) | `RETURN#<SHA-256 of the key>` | `RETURN` |

A connection item also carries `census` = `CONN`: the key of the sparse, keys-only index
`Census` (`census`, `pk`), which holds the connection items and nothing else, so that the
sweeper finds every open connection with one Query (kindred.aws.census) instead of a Scan.
Only a connection's creation and deletion write to the index: its updates change no key.

An item's other attributes are spelled by the codecs below: each record of kindred.records
becomes an item (`*_item`, in DynamoDB's low-level form, ready for PutItem) and an item read back
(plain values, as `from_item` gives them) becomes a record (`*_from_item`). The adapters
(kindred.aws.connections, .tickets, .waiting_queue, .pool, .chats, .safeguards, .census,
.impact, .board, .return_links) and the tests that look at items through moto use these
names; nothing else spells a key.

Supervision (issue 12) keeps its links on connection items as attributes of their own, one per
chat (`sup#<session id>` on a volunteer's: the supervisor joined to that chat;
`joined#<session id>` on a supervisor's: {`seeker`, `volunteer`}), so that an item written
before them needs no map to exist first, and removing a link that is not there is harmless.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kindred.aws.attributes import deserialize, serialize
from kindred.impact import CHANGE_VALUES, DISTRESS_VALUES, SUICIDAL_ANSWERS, CheckinTally
from kindred.records import (
    CareRecord,
    ChatRow,
    Connection,
    JoinedChat,
    MatchPace,
    QueueEntry,
    Session,
    VolunteerSlot,
    is_practice_key,
)

QUEUE_PK = "QUEUE"
# Practice seekers wait apart (issue 13): no count, position or read of the real queue sees them.
PRACTICE_QUEUE_PK = "PRACTICE"
BOARD_PK = "BOARD"
BOARD_STATE_SK = "STATE"
POOL_PK = "POOL"
SHIFT_PK = "SHIFT"
STATS_PK = "STATS"
PACE_SK = "PACE"
CONN_SK = "CONN"
SESSION_SK = "SESSION"
RESUME_SK = "RESUME"
CARE_SK = "CARE"
RETURN_SK = "RETURN"
_CONN = "CONN#"
_SESSION = "SESSION#"
_RESUME = "RESUME#"
_RETURN = "RETURN#"
_BLOCK = "BLOCK#"
_SEEKER = "SEEKER#"
_REPORT = "REPORT#"
_BY = "BY#"
_SOURCE = "SOURCE#"
_CARE = "CARE#"
_MINUTE = "MINUTE#"
IMPACT_PK = "IMPACT"
_MONTH = "MONTH#"

# The sparse index of connection items (its partition key's one value is CONN_SK).
CENSUS_INDEX = "Census"
CENSUS_ATTR = "census"

_CHAT_ROW = "CHAT#"
_SUPERVISOR_OF = "sup#"
_JOINED = "joined#"


def supervisor_attr(session_id: str) -> str:
    """The attribute of a volunteer's connection item naming the supervisor joined to one of
    their chats."""
    return _SUPERVISOR_OF + session_id


def joined_attr(session_id: str) -> str:
    """The attribute of a supervisor's connection item naming the two sides of a chat they
    joined: {`seeker`, `volunteer`}."""
    return _JOINED + session_id


def joined_update(
    supervisor_id: str, session_id: str, update: str, condition: str, **values: str
) -> dict[str, Any]:
    """A transaction's Update of the chat a supervisor joined (`#joined` in the expressions),
    on the supervisor's own connection item; `values` are the expression's `:name` values."""
    op: dict[str, Any] = {
        "Key": conn_key(supervisor_id),
        "UpdateExpression": update,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#joined": joined_attr(session_id)},
    }
    if values:
        op["ExpressionAttributeValues"] = attribute_values({f":{k}": v for k, v in values.items()})
    return {"Update": op}


def joined_value(sides: JoinedChat) -> dict[str, str]:
    return {"seeker": sides.seeker_id, "volunteer": sides.volunteer_id}


def board_state_key() -> dict[str, Any]:
    return key(BOARD_PK, BOARD_STATE_SK)


def chat_row_key(session_id: str) -> dict[str, Any]:
    return key(BOARD_PK, _CHAT_ROW + session_id)


def is_chat_row(sk: str) -> bool:
    return sk.startswith(_CHAT_ROW)


def source_minute_key(source_key: str, minute: int) -> dict[str, Any]:
    """The counter of one source's new connections in one minute (kindred.admission: the
    source is a keyed hash, never an address)."""
    return key(_SOURCE + source_key, _MINUTE + str(minute))


def impact_month_key(month: str) -> dict[str, Any]:
    """The check-in totals of one calendar month ("2025-05"): counts, never whose."""
    return key(IMPACT_PK, _MONTH + month)


def care_key(user_id: str) -> dict[str, Any]:
    """A staff account's care record (its shift and pause)."""
    return key(_CARE + user_id, CARE_SK)


def queue_pk(*, practice: bool) -> str:
    """The partition of the real queue, or of the practice seekers' (kindred.practice)."""
    return PRACTICE_QUEUE_PK if practice else QUEUE_PK


def queue_entry_key(queue_key: str) -> dict[str, Any]:
    """A queue entry's key: its queue key says which queue it is in."""
    return key(queue_pk(practice=is_practice_key(queue_key)), queue_key)


def key(pk: str, sk: str) -> dict[str, Any]:
    """An item's key as DynamoDB's low-level API takes it."""
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def conn_key(connection_id: str) -> dict[str, Any]:
    return key(_CONN + connection_id, CONN_SK)


def session_key(session_id: str) -> dict[str, Any]:
    return key(_SESSION + session_id, SESSION_SK)


def resume_key(resume_hash: str) -> dict[str, Any]:
    return key(_RESUME + resume_hash, RESUME_SK)


def return_key(return_hash: str) -> dict[str, Any]:
    """A return key's link to the volunteer it leads to (kindred.return_keys)."""
    return key(_RETURN + return_hash, RETURN_SK)


def return_hash_of(pk: str) -> str | None:
    """The key hash of a return link's partition key; None for any other item."""
    return pk.removeprefix(_RETURN) if pk.startswith(_RETURN) else None


def return_link_item(return_hash: str, user_id: str, *, expires_at: int) -> dict[str, Any]:
    """A return link: the key's hash, the volunteer's account id and the TTL; nothing else."""
    return to_item(
        {"pk": _RETURN + return_hash, "sk": RETURN_SK, "userId": user_id, "expiresAt": expires_at}
    )


def block_key(volunteer_user_id: str, seeker_key: str) -> dict[str, Any]:
    return key(_BLOCK + volunteer_user_id, _SEEKER + seeker_key)


def connection_id_of(pk: str, sk: str) -> str | None:
    """The connection id of a connection item's keys; None for any other item."""
    return pk.removeprefix(_CONN) if sk == CONN_SK and pk.startswith(_CONN) else None


def session_id_of(pk: str, sk: str) -> str | None:
    """The session id of a chat item's keys; None for any other item."""
    return pk.removeprefix(_SESSION) if sk == SESSION_SK and pk.startswith(_SESSION) else None


def block_of(pk: str, sk: str) -> tuple[str, str]:
    """(volunteer's user id, seeker key) of a block item's keys."""
    return pk.removeprefix(_BLOCK), sk.removeprefix(_SEEKER)


def resume_hash_of(pk: str) -> str | None:
    """The token hash of a resume ticket's partition key; None for any other item."""
    return pk.removeprefix(_RESUME) if pk.startswith(_RESUME) else None


# -- items: DynamoDB's typed values ----------------------------------------------------------


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's low-level form; a None value is left out (absent, not null)."""
    return {k: serialize(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item (or its returned attributes) as plain values."""
    return {k: deserialize(v) for k, v in item.items()}


def attribute_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """ExpressionAttributeValues in DynamoDB's low-level form."""
    return {k: serialize(v) for k, v in values.items()}


# -- the codecs: a record to its item and back -------------------------------------------------


def connection_item(conn: Connection, *, connected_at_ms: int, expires_at: int) -> dict[str, Any]:
    """A connection's whole item as a new connection (or a resumed one) has it.

    The resume ticket it holds (`resumeHash`), its grace period (`awayUntil`) and its rate log
    are set later, by updates of the item.
    """
    return to_item(
        {
            "pk": _CONN + conn.connection_id,
            "sk": CONN_SK,
            CENSUS_ATTR: CONN_SK,
            "role": conn.role,
            "alias": conn.alias,
            "lang": conn.language,
            "userId": conn.user_id or None,
            "seekerKey": conn.seeker_key or None,
            "state": conn.state,
            "sessionId": conn.session_id,
            "peerId": conn.peer_id,
            "queueKey": conn.queue_key,
            "lastSessionId": conn.last_session_id,
            "chats": dict(conn.chats),
            "blockedUsers": set(conn.blocked_users) or None,
            "sessionIds": set(conn.session_ids) or None,
            "resumed": True if conn.resumed else None,
            "resumeFailed": True if conn.resume_failed else None,
            "alertedLevel": conn.alerted_level,
            "urgentQueued": list(conn.urgent_queued_ms) or None,
            "connectedAt": connected_at_ms,
            "tokenExpiresAt": conn.token_expires_at,
            "coordinator": True if conn.coordinator else None,
            "expiresAt": expires_at,
            "supervisorId": conn.supervisor_id,
            "returnHash": conn.return_hash,
            "practice": True if conn.practice else None,
            **{supervisor_attr(sid): sup for sid, sup in conn.supervisors.items()},
            **{joined_attr(sid): joined_value(sides) for sid, sides in conn.joined.items()},
        }
    )


def connection_from_item(connection_id: str, data: Mapping[str, Any]) -> Connection:
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
        token_expires_at=(
            int(data["tokenExpiresAt"]) if data.get("tokenExpiresAt") is not None else None
        ),
        alerted_level=data.get("alertedLevel"),
        urgent_queued_ms=tuple(int(t) for t in data.get("urgentQueued", ())),
        coordinator=bool(data.get("coordinator", False)),
        supervisor_id=data.get("supervisorId"),
        return_hash=data.get("returnHash"),
        supervisors={
            name.removeprefix(_SUPERVISOR_OF): str(value)
            for name, value in data.items()
            if name.startswith(_SUPERVISOR_OF)
        },
        joined={
            name.removeprefix(_JOINED): JoinedChat(str(value["seeker"]), str(value["volunteer"]))
            for name, value in data.items()
            if name.startswith(_JOINED)
        },
        practice=bool(data.get("practice", False)),
    )


def queue_entry_item(entry: QueueEntry, *, expires_at: int) -> dict[str, Any]:
    return to_item(
        {
            "pk": queue_pk(practice=entry.practice),
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
            "returnHash": entry.return_hash,
            "preferredUser": entry.preferred_user,
            "expiresAt": expires_at,
        }
    )


def queue_entry_from_item(d: Mapping[str, Any]) -> QueueEntry:
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
        return_hash=d.get("returnHash"),
        preferred_user=d.get("preferredUser"),
    )


def slot_from_item(d: Mapping[str, Any]) -> VolunteerSlot:
    """A volunteer's slot (its item is written by one UpdateItem, kindred.aws.pool)."""
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
        on_shift_since_ms=int(d.get("onShiftSince", 0)),
        paused_until=int(d["pausedUntil"]) if d.get("pausedUntil") is not None else None,
    )


def care_values(record: CareRecord) -> dict[str, Any]:
    """A care record's attributes (not its keys), for the UpdateItem that writes it whole."""
    return {
        "userId": record.user_id,
        "onShiftSince": record.on_shift_since_ms,
        "offShiftSince": record.off_shift_since_ms,
        "pausedUntil": record.paused_until,
        "capTold": record.cap_told,
    }


def care_from_item(d: Mapping[str, Any]) -> CareRecord:
    def optional(name: str) -> int | None:
        return int(d[name]) if d.get(name) is not None else None

    return CareRecord(
        user_id=str(d.get("userId", "")),
        on_shift_since_ms=int(d.get("onShiftSince", 0)),
        off_shift_since_ms=optional("offShiftSince"),
        paused_until=optional("pausedUntil"),
        cap_told=int(d.get("capTold", 0)),
    )


def new_session_item(session: Session, *, expires_at: int) -> dict[str, Any]:
    """A chat's item as the match creates it: active."""
    return to_item(
        {
            "pk": _SESSION + session.session_id,
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
            "practice": True if session.practice else None,
            "expiresAt": expires_at,
        }
    )


def session_from_item(session_id: str, d: Mapping[str, Any]) -> Session:
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
        supervisor_id=d.get("supervisorId"),
        supervisor_alias=d.get("supervisorAlias", ""),
        escalated_at_ms=int(d["escalatedAt"]) if d.get("escalatedAt") is not None else None,
        practice=bool(d.get("practice", False)),
    )


def chat_row_item(session: Session, *, expires_at: int) -> dict[str, Any]:
    """An active chat's row on the board, as the match creates it (it goes when the chat ends;
    its level follows the chat's, `levelSeq` ordering the copies, kindred.aws.chats)."""
    return to_item(
        {
            "pk": BOARD_PK,
            "sk": _CHAT_ROW + session.session_id,
            "volunteerAlias": session.volunteer_alias,
            "seekerAlias": session.seeker_alias,
            "startedAt": session.started_at_ms,
            "level": session.level,
            "levelSeq": 0,
            "practice": True if session.practice else None,
            "expiresAt": expires_at,
        }
    )


def chat_row_from_item(d: Mapping[str, Any]) -> ChatRow:
    return ChatRow(
        session_id=str(d["sk"]).removeprefix(_CHAT_ROW),
        volunteer_alias=d.get("volunteerAlias", ""),
        seeker_alias=d.get("seekerAlias", ""),
        started_at_ms=int(d.get("startedAt", 0)),
        level=d.get("level"),
        escalated=bool(d.get("escalated", False)),
        supervisor_alias=d.get("supervisorAlias", ""),
        practice=bool(d.get("practice", False)),
    )


def pace_item(pace: MatchPace, *, expires_at: int) -> dict[str, Any]:
    return to_item(
        {
            "pk": STATS_PK,
            "sk": PACE_SK,
            "windowStart": pace.window_start_ms,
            "matches": pace.count,
            "previousMatches": pace.previous,
            "expiresAt": expires_at,
        }
    )


def pace_from_item(data: Mapping[str, Any]) -> MatchPace:
    return MatchPace(
        window_start_ms=int(data["windowStart"]),
        count=int(data.get("matches", 0)),
        previous=int(data.get("previousMatches", 0)),
    )


def resume_ticket_item(
    resume_hash: str, connection_id: str, seeker_key: str, *, expires_at: int
) -> dict[str, Any]:
    return to_item(
        {
            "pk": _RESUME + resume_hash,
            "sk": RESUME_SK,
            "connectionId": connection_id,
            "seekerKey": seeker_key,
            "expiresAt": expires_at,
        }
    )


def resume_ticket_from_item(data: Mapping[str, Any]) -> tuple[str, str]:
    """(connection id, seeker key) of a resume ticket."""
    return str(data["connectionId"]), str(data.get("seekerKey", ""))


def block_item(volunteer_user_id: str, seeker_key: str, *, expires_at: int) -> dict[str, Any]:
    return to_item(
        {"pk": _BLOCK + volunteer_user_id, "sk": _SEEKER + seeker_key, "expiresAt": expires_at}
    )


def report_item(
    session_id: str,
    reporter: str,
    reason: str,
    reporter_role: str,
    *,
    created_at_ms: int,
    expires_at: int,
) -> dict[str, Any]:
    return to_item(
        {
            "pk": _REPORT + session_id,
            "sk": _BY + reporter,
            "sessionId": session_id,
            "reason": reason,
            "reporterRole": reporter_role,
            "createdAt": created_at_ms,
            "expiresAt": expires_at,
        }
    )


def shift_item(connection_id: str, *, expires_at: int) -> dict[str, Any]:
    """A supervisor on shift."""
    return to_item({"pk": SHIFT_PK, "sk": connection_id, "expiresAt": expires_at})


# The check-in totals: one Number attribute per count, so that one UpdateItem ADDs to them.
_SUICIDAL_ATTRIBUTES = {"yes": "suicidalYes", "no": "suicidalNo", "unsure": "suicidalUnsure"}


def _tally_attributes(tally: CheckinTally) -> dict[str, int]:
    counts = {"checkins": tally.checkins}
    counts |= {f"before{v}": n for v, n in zip(DISTRESS_VALUES, tally.before, strict=True)}
    counts |= {f"after{v}": n for v, n in zip(DISTRESS_VALUES, tally.after, strict=True)}
    counts |= {f"change{v}": n for v, n in zip(CHANGE_VALUES, tally.change, strict=True)}
    answers = zip(SUICIDAL_ANSWERS, tally.suicidal_now, strict=True)
    counts |= {_SUICIDAL_ATTRIBUTES[a]: n for a, n in answers}
    return counts


def checkin_tally_update(tally: CheckinTally, *, expires_at: int) -> dict[str, Any]:
    """The UpdateItem arguments (but the key) that add `tally` to a month's totals."""
    counts = {name: n for name, n in _tally_attributes(tally).items() if n}
    adds = ", ".join(f"#c{i} :c{i}" for i in range(len(counts)))
    return {
        "UpdateExpression": "SET expiresAt = :exp" + (f" ADD {adds}" if adds else ""),
        "ExpressionAttributeNames": {f"#c{i}": name for i, name in enumerate(counts)},
        "ExpressionAttributeValues": attribute_values(
            {":exp": expires_at} | {f":c{i}": n for i, n in enumerate(counts.values())}
        ),
    }


def checkin_tally_from_item(data: Mapping[str, Any]) -> CheckinTally:
    def counted(name: str) -> int:
        return int(data.get(name, 0))

    return CheckinTally(
        checkins=counted("checkins"),
        before=tuple(counted(f"before{v}") for v in DISTRESS_VALUES),
        suicidal_now=tuple(counted(_SUICIDAL_ATTRIBUTES[a]) for a in SUICIDAL_ANSWERS),
        after=tuple(counted(f"after{v}") for v in DISTRESS_VALUES),
        change=tuple(counted(f"change{v}") for v in CHANGE_VALUES),
    )
