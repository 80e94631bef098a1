"""The ResumeTickets port on DynamoDB: a dropped seeker takes their place back with a ticket."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kindred.aws import layout
from kindred.aws.connections import still_holds
from kindred.aws.table import TableAdapter, names
from kindred.aws.waiting_queue import put_entry
from kindred.records import Connection, Ticket


class DynamoTickets(TableAdapter):
    """Implements kindred.ports.ResumeTickets."""

    def put_resume(self, ticket: Ticket, connection_id: str, seeker_key: str) -> None:
        resume_hash = ticket.resume_hash
        self.table.put(
            layout.resume_ticket_item(
                resume_hash, connection_id, seeker_key, expires_at=ticket.expires_at
            )
        )
        resp = self.table.update(
            layout.conn_key(connection_id),
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
        self.table.delete(layout.resume_key(resume_hash))

    def get_resume(self, resume_hash: str) -> tuple[str, str] | None:
        data = self.table.get(layout.resume_key(resume_hash))
        return None if data is None else layout.resume_ticket_from_item(data)

    def resume(self, old: Connection, new: Connection, resume_hash: str) -> bool:
        # A supervisor joined to the seeker's chat (issue 12) names the seeker's connection:
        # it is re-pointed in the same transaction. If the supervisor left meanwhile, the
        # resume is tried again without them (their leaving must not cost the seeker the chat).
        supervised = self._still_supervised(old)
        for _ in range(2):
            ops = self._resume_ops(old, new, resume_hash, supervised)
            if ops is None:
                return False
            if self.table.transact_if(ops):
                return True
            if not supervised or self._still_supervised(old):
                return False
            supervised = False
        return False

    def _still_supervised(self, old: Connection) -> bool:
        """Whether the supervisor the seeker's connection names still has their chat joined."""
        if old.state != "chatting" or not old.session_id or not old.supervisor_id:
            return False
        data = self.table.get(layout.conn_key(old.supervisor_id))
        if data is None:
            return False
        sides = layout.connection_from_item(old.supervisor_id, data).joined.get(old.session_id)
        return sides is not None and sides.seeker_id == old.connection_id

    def _resume_ops(
        self, old: Connection, new: Connection, resume_hash: str, supervised: bool
    ) -> list[dict[str, Any]] | None:
        now = self.table.now()
        old_values: dict[str, Any] = {":state": old.state, ":now": now}
        old_condition = (
            "#state = :state AND (attribute_not_exists(awayUntil) OR awayUntil > :now)"
            + still_holds(old, old_values)
        )
        # The old connection under the new id (its ticket and grace period are not written).
        taken_over = replace(
            old,
            connection_id=new.connection_id,
            role="seeker",
            user_id="",
            queue_key=new.queue_key,
            chats={},
            resumed=True,
            resume_failed=False,
            supervisor_id=old.supervisor_id if supervised else None,
        )
        item = layout.connection_item(
            taken_over,
            connected_at_ms=self.table.now_ms(),
            expires_at=now + self.table.connection_ttl,
        )
        ops: list[dict[str, Any]] = [
            {
                "Delete": {
                    "Key": layout.resume_key(resume_hash),
                    "ConditionExpression": "connectionId = :old AND expiresAt > :now",
                    "ExpressionAttributeValues": layout.attribute_values(
                        {":old": old.connection_id, ":now": now}
                    ),
                }
            },
            {
                "Delete": {
                    "Key": layout.conn_key(old.connection_id),
                    "ConditionExpression": old_condition,
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": layout.attribute_values(old_values),
                }
            },
            {"Put": {"Item": item}},
        ]
        if old.state == "waiting" and old.queue_key and new.queue_key:
            data = self.table.get(layout.queue_entry_key(old.queue_key))
            if data is None:
                return None
            ops.append(
                {
                    "Delete": {
                        "Key": layout.queue_entry_key(old.queue_key),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                }
            )
            moved = replace(
                layout.queue_entry_from_item(data),
                connection_id=new.connection_id,
                queue_key=new.queue_key,
                away=False,
            )
            ops.append(put_entry(self.table, moved))
        if old.state == "chatting" and old.session_id and old.peer_id:
            ops += _repoint_chat(old.session_id, old.peer_id, old.connection_id, new.connection_id)
            if supervised and old.supervisor_id:
                ops.append(
                    _repoint_supervisor(
                        old.session_id, old.supervisor_id, old.connection_id, new.connection_id
                    )
                )
        return ops


def _repoint_chat(session_id: str, peer_id: str, old_id: str, new_id: str) -> list[dict[str, Any]]:
    """The chat and its volunteer's connection name the seeker's new connection (`new_id`)."""
    return [
        {
            "Update": {
                "Key": layout.session_key(session_id),
                "UpdateExpression": "SET seekerId = :new",
                "ConditionExpression": "seekerId = :old AND #active = :true",
                "ExpressionAttributeNames": names("active"),
                "ExpressionAttributeValues": layout.attribute_values(
                    {":new": new_id, ":old": old_id, ":true": True}
                ),
            }
        },
        {
            "Update": {
                "Key": layout.conn_key(peer_id),
                "UpdateExpression": "SET chats.#sid = :new",
                "ConditionExpression": "chats.#sid = :old",
                "ExpressionAttributeNames": {"#sid": session_id},
                "ExpressionAttributeValues": layout.attribute_values(
                    {":new": new_id, ":old": old_id}
                ),
            }
        },
    ]


def _repoint_supervisor(
    session_id: str, supervisor_id: str, old_id: str, new_id: str
) -> dict[str, Any]:
    """The supervisor joined to the chat names the seeker's new connection (`new_id`)."""
    return layout.joined_update(
        supervisor_id,
        session_id,
        "SET #joined.seeker = :new",
        "#joined.seeker = :old",
        new=new_id,
        old=old_id,
    )
