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
    LevelChange,
    QueueEntry,
    Session,
    VolunteerSlot,
)


class DynamoChats(TableAdapter):
    """Implements kindred.ports.Chats; a match and a chat's end are each one transaction."""

    def create_chat(
        self,
        entry: QueueEntry,
        slot: VolunteerSlot,
        session: Session,
        *,
        shift_since_after_ms: int | None = None,
    ) -> None:
        try:
            self.table.transact(self._match_ops(entry, slot, session, shift_since_after_ms))
        except Conflict:
            # A transaction whose answer was lost (a timeout) is retried by the SDK; if the first
            # attempt had committed, the retry finds its own work done and fails its conditions.
            # The session exists then: the match was made, and both sides must be told.
            if self.table.get(layout.session_key(session.session_id)) is None:
                raise

    def _match_ops(
        self,
        entry: QueueEntry,
        slot: VolunteerSlot,
        session: Session,
        shift_since_after_ms: int | None,
    ) -> list[dict[str, Any]]:
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
                    "Key": layout.key(layout.QUEUE_PK, entry.queue_key),
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
        ]

    def _end_ops(self, session: Session, include: set[str]) -> list[dict[str, Any]]:
        now_ms = self.table.now_ms()
        sid = session.session_id
        ops: list[dict[str, Any]] = [
            {
                "Update": {
                    "Key": layout.session_key(sid),
                    "UpdateExpression": "SET #active = :false, endedAt = :now",
                    "ConditionExpression": "#active = :true",
                    "ExpressionAttributeNames": names("active"),
                    "ExpressionAttributeValues": layout.attribute_values(
                        {":false": False, ":true": True, ":now": now_ms}
                    ),
                }
            }
        ]
        if "seeker" in include:
            ops.append(
                {
                    "Update": {
                        "Key": layout.conn_key(session.seeker_id),
                        "UpdateExpression": "SET #state = :idle REMOVE sessionId, peerId",
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
        return ops

    def end_chat(self, session: Session, *, requeue: QueueEntry | None = None) -> bool:
        # A side whose connection is already gone cannot be updated (the condition fails);
        # find out which sides are still there and end the chat for those.
        include = {"seeker", "volunteer", "slot"}
        for _ in range(4):
            ops = self._end_ops(session, include)
            if requeue is not None and "seeker" in include:
                ops.append(put_entry(self.table, requeue))
                seeker_op = ops[1]["Update"]
                seeker_op["UpdateExpression"] = (
                    "SET #state = :waiting, queueKey = :qk REMOVE sessionId, peerId"
                )
                seeker_op["ExpressionAttributeValues"] = layout.attribute_values(
                    {":waiting": "waiting", ":qk": requeue.queue_key, ":sid": session.session_id}
                )
            if self.table.transact_if(ops):
                return True
            current = self.table.get(layout.session_key(session.session_id))
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
        slot = self.table.get(layout.key(layout.POOL_PK, session.volunteer_id))
        if slot and layout.slot_from_item(slot).active > 0:
            present.add("slot")
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
            UpdateExpression="SET #level = :level",
            ConditionExpression=f"attribute_exists(pk) AND #active = :true AND {below}",
            ExpressionAttributeNames=names("level", "active"),
            ExpressionAttributeValues=layout.attribute_values(
                {":level": level, ":true": True, **lowers}
            ),
            ReturnValues="ALL_OLD",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        before = outcome.item
        if outcome.written:
            return self._changed(session_id, before, level)
        if not before or not self.table.alive(before) or before.get("active") is not True:
            return None
        session = layout.session_from_item(session_id, before)
        return LevelChange(session=session, previous=session.level)

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
        return self._changed(session_id, outcome.item, level) if outcome.written else None

    @staticmethod
    def _changed(session_id: str, before: dict[str, Any], level: Level | None) -> LevelChange:
        """The chat after its level became `level`, from the item as it was before."""
        session = layout.session_from_item(session_id, before)
        return LevelChange(session=replace(session, level=level), previous=session.level)

    def delete_session(self, session_id: str) -> str | None:
        resp = self.table.delete(layout.session_key(session_id), ReturnValues="ALL_OLD")
        old = resp.get("Attributes") or {}
        return str(old["volunteerUserId"]["S"]) if "volunteerUserId" in old else None
