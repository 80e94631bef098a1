"""The Chats port on DynamoDB: a match in one transaction, a chat's end, its risk level."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kindred.aws import layout
from kindred.aws.table import TableAdapter, names
from kindred.aws.waiting_queue import put_entry
from kindred.ports import Conflict
from kindred.protocol import Level
from kindred.records import (
    LEVELS,
    Connection,
    Escalation,
    JoinedChat,
    LevelChange,
    Pairing,
    QueueEntry,
    Session,
)


class DynamoChats(TableAdapter):
    """Implements kindred.ports.Chats; a match and a chat's end are each one transaction."""

    def create_chat(self, pairing: Pairing) -> None:
        session = pairing.session
        try:
            self.table.transact(self._match_ops(pairing))
        except Conflict:
            # A transaction whose answer was lost (a timeout) is retried by the SDK; if the first
            # attempt had committed, the retry finds its own work done and fails its conditions.
            # The session exists then: the match was made, and both sides must be told.
            if self.table.get(layout.session_key(session.session_id)) is None:
                raise

    def _match_ops(self, pairing: Pairing) -> list[dict[str, Any]]:
        entry, slot, session = pairing.entry, pairing.slot, pairing.session
        shift_since_after_ms = pairing.shift_since_after_ms
        now_ms = self.table.now_ms()
        # Care for volunteers (kindred.care): a paused slot, or one whose shift is past the
        # cap, is refused here, on the item, not only by the matcher's reading of it.
        slot_condition = (
            "#available = :true AND #active < #capacity"
            " AND (attribute_not_exists(#pausedUntil) OR #pausedUntil <= :nowS)"
        )
        slot_names = names("active", "available", "capacity", "pausedUntil")
        slot_values: dict[str, Any] = {":one": 1, ":true": True, ":now": now_ms}
        slot_values[":nowS"] = self.table.now()
        if shift_since_after_ms is not None:
            slot_condition += (
                " AND (attribute_not_exists(#onShiftSince) OR #onShiftSince = :zero"
                " OR #onShiftSince > :capSince)"
            )
            slot_names |= names("onShiftSince")
            slot_values |= {":zero": 0, ":capSince": shift_since_after_ms}
        return [
            {
                "Delete": {
                    "Key": layout.queue_entry_key(entry.queue_key),
                    # A seeker whose socket dropped is not matched while away.
                    "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(away)",
                }
            },
            {
                "Update": {
                    "Key": layout.conn_key(entry.connection_id),
                    "UpdateExpression": (
                        "SET #state = :chatting, sessionId = :sid, peerId = :peer, "
                        "lastSessionId = :sid REMOVE queueKey ADD sessionIds :sids"
                    ),
                    "ConditionExpression": "#state = :waiting AND queueKey = :qk",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": layout.attribute_values(
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
                    "Key": layout.key(layout.POOL_PK, slot.connection_id),
                    "UpdateExpression": "SET #active = #active + :one, lastMatchAt = :now",
                    "ConditionExpression": slot_condition,
                    "ExpressionAttributeNames": slot_names,
                    "ExpressionAttributeValues": layout.attribute_values(slot_values),
                }
            },
            {
                "Update": {
                    "Key": layout.conn_key(slot.connection_id),
                    "UpdateExpression": "SET chats.#sid = :seeker",
                    "ConditionExpression": "attribute_exists(pk) AND attribute_exists(chats)",
                    "ExpressionAttributeNames": {"#sid": session.session_id},
                    "ExpressionAttributeValues": layout.attribute_values(
                        {":seeker": entry.connection_id}
                    ),
                }
            },
            {
                "Put": {
                    "Item": layout.new_session_item(
                        session, expires_at=self.table.now() + self.table.session_ttl
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            # The chat's row on the supervisors' board (issue 12), for as long as it lasts.
            {
                "Put": {
                    "Item": layout.chat_row_item(
                        session, expires_at=self.table.now() + self.table.session_ttl
                    )
                }
            },
        ]

    def _end_ops(self, session: Session, include: set[str]) -> list[dict[str, Any]]:
        now_ms = self.table.now_ms()
        sid = session.session_id
        # The chat ends with the supervisor it was read with (issue 12): a join that came in
        # between fails this condition, and the chat is read again, so that the supervisor's
        # links go too and they hear `ended`.
        values: dict[str, Any] = {":false": False, ":true": True, ":now": now_ms}
        if session.supervisor_id is None:
            supervised = "attribute_not_exists(supervisorId)"
        else:
            supervised = "supervisorId = :sup"
            values[":sup"] = session.supervisor_id
        ops: list[dict[str, Any]] = [
            {
                "Update": {
                    "Key": layout.session_key(sid),
                    "UpdateExpression": (
                        "SET #active = :false, endedAt = :now REMOVE supervisorId, supervisorAlias"
                    ),
                    "ConditionExpression": f"#active = :true AND {supervised}",
                    "ExpressionAttributeNames": names("active"),
                    "ExpressionAttributeValues": layout.attribute_values(values),
                }
            }
        ]
        if "seeker" in include:
            ops.append(
                {
                    "Update": {
                        "Key": layout.conn_key(session.seeker_id),
                        "UpdateExpression": (
                            "SET #state = :idle REMOVE sessionId, peerId, supervisorId"
                        ),
                        "ConditionExpression": "sessionId = :sid",
                        "ExpressionAttributeNames": {"#state": "state"},
                        "ExpressionAttributeValues": layout.attribute_values(
                            {":idle": "idle", ":sid": sid}
                        ),
                    }
                }
            )
        if "volunteer" in include:
            ops.append(
                {
                    "Update": {
                        "Key": layout.conn_key(session.volunteer_id),
                        "UpdateExpression": "REMOVE chats.#sid, #sup",
                        "ConditionExpression": "attribute_exists(chats.#sid)",
                        "ExpressionAttributeNames": {
                            "#sid": sid,
                            "#sup": layout.supervisor_attr(sid),
                        },
                    }
                }
            )
        if "slot" in include:
            ops.append(
                {
                    "Update": {
                        "Key": layout.key(layout.POOL_PK, session.volunteer_id),
                        "UpdateExpression": "SET #active = #active - :one, idleSince = :now",
                        "ConditionExpression": "#active > :zero",
                        "ExpressionAttributeNames": names("active"),
                        "ExpressionAttributeValues": layout.attribute_values(
                            {":one": 1, ":zero": 0, ":now": now_ms}
                        ),
                    }
                }
            )
        if "supervisor" in include and session.supervisor_id is not None:
            ops.append(_unjoin_op(session.supervisor_id, sid))
        # The board's row goes with the chat (an absent row is no failure).
        ops.append({"Delete": {"Key": layout.chat_row_key(sid)}})
        return ops

    def end_chat(self, session: Session, *, requeue: QueueEntry | None = None) -> Session | None:
        # A side whose connection is already gone cannot be updated (the condition fails);
        # find out which sides are still there and end the chat for those.
        include = {"seeker", "volunteer", "slot", "supervisor"}
        for _ in range(4):
            ops = self._end_ops(session, include)
            if requeue is not None and "seeker" in include:
                ops.append(put_entry(self.table, requeue))
                seeker_op = ops[1]["Update"]
                seeker_op["UpdateExpression"] = (
                    "SET #state = :waiting, queueKey = :qk REMOVE sessionId, peerId, supervisorId"
                )
                seeker_op["ExpressionAttributeValues"] = layout.attribute_values(
                    {":waiting": "waiting", ":qk": requeue.queue_key, ":sid": session.session_id}
                )
            if self.table.transact_if(ops):
                return session
            current = self.table.get(layout.session_key(session.session_id))
            if current is None or not current.get("active"):
                return None
            # Read again: a supervisor may have joined or left since (its links end too).
            session = layout.session_from_item(session.session_id, current)
            include = self._still_present(session)
        return None

    def _still_present(self, session: Session) -> set[str]:
        present: set[str] = set()
        seeker = self._connection(session.seeker_id)
        if seeker is not None and seeker.session_id == session.session_id:
            present.add("seeker")
        volunteer = self._connection(session.volunteer_id)
        if volunteer is not None and session.session_id in volunteer.chats:
            present.add("volunteer")
        slot = self.table.get(layout.key(layout.POOL_PK, session.volunteer_id))
        if slot and layout.slot_from_item(slot).active > 0:
            present.add("slot")
        if session.supervisor_id is not None:
            supervisor = self._connection(session.supervisor_id)
            if supervisor is not None and session.session_id in supervisor.joined:
                present.add("supervisor")
        return present

    def _connection(self, connection_id: str) -> Connection | None:
        data = self.table.get(layout.conn_key(connection_id))
        return None if data is None else layout.connection_from_item(connection_id, data)

    def get_session(self, session_id: str) -> Session | None:
        d = self.table.get(layout.session_key(session_id))
        return None if d is None else layout.session_from_item(session_id, d)

    def mark_crisis_notified(self, session_id: str) -> bool:
        return self.table.update_if(
            layout.session_key(session_id),
            UpdateExpression="SET crisisNotified = :true",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(crisisNotified)",
            ExpressionAttributeValues={":true": {"BOOL": True}},
        ).written

    def raise_level(self, session_id: str, level: Level) -> LevelChange | None:
        """One UpdateItem: SET level IF the chat is active AND its level is lower (or absent).

        ALL_OLD either way: on success it is the chat before the write (its level the one
        before); when the condition fails it tells whether the chat is gone or ended (None) or
        already at this level or higher (no change).
        """
        lower = LEVELS[: LEVELS.index(level)]
        lowers = {f":lower{i}": value for i, value in enumerate(lower)}
        below = "attribute_not_exists(#level)"
        if lowers:
            below = f"({below} OR #level IN ({', '.join(lowers)}))"
        outcome = self.table.update_if(
            layout.session_key(session_id),
            UpdateExpression="SET #level = :level ADD levelSeq :one",
            ConditionExpression=f"attribute_exists(pk) AND #active = :true AND {below}",
            ExpressionAttributeNames=names("level", "active"),
            ExpressionAttributeValues=layout.attribute_values(
                {":level": level, ":true": True, ":one": 1, **lowers}
            ),
            ReturnValues="ALL_OLD",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        before = outcome.item
        if outcome.written:
            self._copy_level_to_board(session_id, level, before)
            return self._changed(session_id, before, level)
        if not before or not self.table.alive(before) or before.get("active") is not True:
            return None
        session = layout.session_from_item(session_id, before)
        return LevelChange(session=session, previous=session.level)

    def set_level(
        self, session_id: str, level: Level | None, *, volunteer_id: str
    ) -> LevelChange | None:
        """One UpdateItem: SET (or REMOVE) level IF the chat is active and this volunteer's."""
        values: dict[str, Any] = {":true": True, ":volunteer": volunteer_id, ":one": 1}
        if level is None:
            update = "REMOVE #level ADD levelSeq :one"
        else:
            update = "SET #level = :level ADD levelSeq :one"
            values[":level"] = level
        outcome = self.table.update_if(
            layout.session_key(session_id),
            UpdateExpression=update,
            ConditionExpression=(
                "attribute_exists(pk) AND #active = :true AND volunteerId = :volunteer"
            ),
            ExpressionAttributeNames=names("level", "active"),
            ExpressionAttributeValues=layout.attribute_values(values),
            ReturnValues="ALL_OLD",
        )
        if not outcome.written:
            return None
        self._copy_level_to_board(session_id, level, outcome.item)
        return self._changed(session_id, outcome.item, level)

    def _copy_level_to_board(
        self, session_id: str, level: Level | None, before: dict[str, Any]
    ) -> None:
        """The chat's row on the board takes the level just written. Each write of a chat's
        level counts `levelSeq` up, and the row takes only a later count than it has: two
        writes racing leave the row at the chat's level, whichever copy lands last."""
        seq = int(before.get("levelSeq", 0)) + 1
        values: dict[str, Any] = {":seq": seq}
        if level is None:
            update = "SET levelSeq = :seq REMOVE #level"
        else:
            update = "SET levelSeq = :seq, #level = :level"
            values[":level"] = level
        self.table.update_if(
            layout.chat_row_key(session_id),
            UpdateExpression=update,
            ConditionExpression=(
                "attribute_exists(pk) AND (attribute_not_exists(levelSeq) OR levelSeq < :seq)"
            ),
            ExpressionAttributeNames=names("level"),
            ExpressionAttributeValues=layout.attribute_values(values),
        )

    @staticmethod
    def _changed(session_id: str, before: dict[str, Any], level: Level | None) -> LevelChange:
        """The chat after its level became `level`, from the item as it was before."""
        session = layout.session_from_item(session_id, before)
        return LevelChange(session=replace(session, level=level), previous=session.level)

    def delete_session(self, session_id: str) -> str | None:
        resp = self.table.delete(layout.session_key(session_id), ReturnValues="ALL_OLD")
        old = resp.get("Attributes") or {}
        return str(old["volunteerUserId"]["S"]) if "volunteerUserId" in old else None

    # -- supervision (issue 12) ------------------------------------------------------------

    def escalate(
        self, session_id: str, *, volunteer_id: str, now_ms: int, again_after_ms: int
    ) -> Escalation | None:
        """One UpdateItem: SET escalatedAt IF the chat is active, this volunteer's, and was
        not escalated since `again_after_ms` ago; the row on the board then says so."""
        outcome = self.table.update_if(
            layout.session_key(session_id),
            UpdateExpression="SET escalatedAt = :now",
            ConditionExpression=(
                "attribute_exists(pk) AND #active = :true AND volunteerId = :volunteer"
                " AND (attribute_not_exists(escalatedAt) OR escalatedAt <= :since)"
            ),
            ExpressionAttributeNames=names("active"),
            ExpressionAttributeValues=layout.attribute_values(
                {
                    ":now": now_ms,
                    ":true": True,
                    ":volunteer": volunteer_id,
                    ":since": now_ms - again_after_ms,
                }
            ),
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        data = outcome.item
        if not data or not self.table.alive(data) or data.get("active") is not True:
            return None
        session = layout.session_from_item(session_id, data)
        if session.volunteer_id != volunteer_id:
            return None
        if outcome.written:
            self.table.update_if(
                layout.chat_row_key(session_id),
                UpdateExpression="SET escalated = :true",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=layout.attribute_values({":true": True}),
            )
        return Escalation(session=session, alert=outcome.written)

    def join_chat(self, session: Session, supervisor_id: str, supervisor_alias: str) -> bool:
        sid = session.session_id
        sides = JoinedChat(session.seeker_id, session.volunteer_id)
        ops: list[dict[str, Any]] = [
            {
                "Update": {
                    "Key": layout.session_key(sid),
                    "UpdateExpression": "SET supervisorId = :sup, supervisorAlias = :alias",
                    "ConditionExpression": (
                        "#active = :true AND attribute_not_exists(supervisorId)"
                        " AND seekerId = :seeker AND volunteerId = :volunteer"
                    ),
                    "ExpressionAttributeNames": names("active"),
                    "ExpressionAttributeValues": layout.attribute_values(
                        {
                            ":sup": supervisor_id,
                            ":alias": supervisor_alias,
                            ":true": True,
                            ":seeker": sides.seeker_id,
                            ":volunteer": sides.volunteer_id,
                        }
                    ),
                }
            },
            {
                "Update": {
                    "Key": layout.conn_key(sides.seeker_id),
                    "UpdateExpression": "SET supervisorId = :sup",
                    "ConditionExpression": "sessionId = :sid",
                    "ExpressionAttributeValues": layout.attribute_values(
                        {":sup": supervisor_id, ":sid": sid}
                    ),
                }
            },
            {
                "Update": {
                    "Key": layout.conn_key(sides.volunteer_id),
                    "UpdateExpression": "SET #sup = :sup",
                    "ConditionExpression": "chats.#sid = :seeker",
                    "ExpressionAttributeNames": {
                        "#sid": sid,
                        "#sup": layout.supervisor_attr(sid),
                    },
                    "ExpressionAttributeValues": layout.attribute_values(
                        {":sup": supervisor_id, ":seeker": sides.seeker_id}
                    ),
                }
            },
            {
                "Update": {
                    "Key": layout.conn_key(supervisor_id),
                    "UpdateExpression": "SET #joined = :sides",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeNames": {"#joined": layout.joined_attr(sid)},
                    "ExpressionAttributeValues": layout.attribute_values(
                        {":sides": layout.joined_value(sides)}
                    ),
                }
            },
            {
                "Update": {
                    "Key": layout.chat_row_key(sid),
                    "UpdateExpression": "SET supervisorAlias = :alias",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": layout.attribute_values(
                        {":alias": supervisor_alias}
                    ),
                }
            },
        ]
        return self.table.transact_if(ops)

    def leave_chat(self, session_id: str, supervisor_id: str, sides: JoinedChat) -> bool:
        # Like a chat's end: the links still there are read and undone in one transaction; a
        # transaction that fails (a link went meanwhile) is tried again with what is left.
        for _ in range(4):
            links = self._links(session_id, supervisor_id, sides)
            if not links & {"session", "supervisor"}:
                return False
            if self.table.transact_if(self._unlink_ops(session_id, supervisor_id, sides, links)):
                return True
        return False

    def _links(self, session_id: str, supervisor_id: str, sides: JoinedChat) -> set[str]:
        """Which items still name the supervisor as joined to this chat."""
        links: set[str] = set()
        session = self.table.get(layout.session_key(session_id))
        if session is not None and session.get("supervisorId") == supervisor_id:
            links.add("session")
        seeker = self._connection(sides.seeker_id)
        if seeker is not None and seeker.supervisor_id == supervisor_id:
            links.add("seeker")
        volunteer = self._connection(sides.volunteer_id)
        if volunteer is not None and volunteer.supervisors.get(session_id) == supervisor_id:
            links.add("volunteer")
        supervisor = self._connection(supervisor_id)
        if supervisor is not None and session_id in supervisor.joined:
            links.add("supervisor")
        return links

    def _unlink_ops(
        self, session_id: str, supervisor_id: str, sides: JoinedChat, links: set[str]
    ) -> list[dict[str, Any]]:
        sup = layout.attribute_values({":sup": supervisor_id})
        ops: list[dict[str, Any]] = []
        if "session" in links:
            ops.append(
                {
                    "Update": {
                        "Key": layout.session_key(session_id),
                        "UpdateExpression": "REMOVE supervisorId, supervisorAlias",
                        "ConditionExpression": "supervisorId = :sup",
                        "ExpressionAttributeValues": sup,
                    }
                }
            )
            ops.append(
                {
                    "Update": {
                        "Key": layout.chat_row_key(session_id),
                        "UpdateExpression": "REMOVE supervisorAlias",
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                }
            )
        if "seeker" in links:
            ops.append(
                {
                    "Update": {
                        "Key": layout.conn_key(sides.seeker_id),
                        "UpdateExpression": "REMOVE supervisorId",
                        "ConditionExpression": "supervisorId = :sup",
                        "ExpressionAttributeValues": sup,
                    }
                }
            )
        if "volunteer" in links:
            ops.append(
                {
                    "Update": {
                        "Key": layout.conn_key(sides.volunteer_id),
                        "UpdateExpression": "REMOVE #sup",
                        "ConditionExpression": "#sup = :sup",
                        "ExpressionAttributeNames": {"#sup": layout.supervisor_attr(session_id)},
                        "ExpressionAttributeValues": sup,
                    }
                }
            )
        if "supervisor" in links:
            ops.append(_unjoin_op(supervisor_id, session_id))
        return ops


def _unjoin_op(supervisor_id: str, session_id: str) -> dict[str, Any]:
    """A transaction's Update taking a chat off the supervisor's own connection item."""
    return layout.joined_update(
        supervisor_id, session_id, "REMOVE #joined", "attribute_exists(#joined)"
    )
