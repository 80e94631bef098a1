"""The Connections port on DynamoDB: one item per open WebSocket, with its rate log."""

from __future__ import annotations

from typing import Any

from kindred.aws import layout
from kindred.aws.table import TableAdapter
from kindred.ports import RateLimited
from kindred.protocol import Level
from kindred.records import Connection

# The rate log on a connection item: rl0 is the time (epoch ms) of its latest counted action,
# rl1 the one before, and so on (see DynamoConnections.count_action).
RATE_LOG = "rl"


def still_holds(conn: Connection, values: dict[str, Any]) -> str:
    """The end of a condition that the connection item still holds this record's queue entry
    or chat (" AND ...", or nothing when idle); adds its values to `values`."""
    if conn.state == "waiting":
        values[":qk"] = conn.queue_key
        return " AND queueKey = :qk"
    if conn.state == "chatting":
        values[":sid"] = conn.session_id
        return " AND sessionId = :sid"
    return ""


class DynamoConnections(TableAdapter):
    """Implements kindred.ports.Connections; conditions in every write make races harmless."""

    def get_connection(self, connection_id: str) -> Connection | None:
        data = self.table.get(layout.conn_key(connection_id))
        return None if data is None else layout.connection_from_item(connection_id, data)

    def put_connection(self, conn: Connection) -> None:
        self.table.put(
            layout.connection_item(
                conn,
                connected_at_ms=self.table.now_ms(),
                expires_at=self.table.connection_expiry(),
            )
        )

    def delete_connection(self, connection_id: str) -> None:
        self.table.delete(layout.conn_key(connection_id))

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
        outcome = self.table.update_if(
            layout.conn_key(connection_id),
            UpdateExpression="SET " + ", ".join(shifts),
            ConditionExpression=(
                f"attribute_exists(pk) AND expiresAt > :nowSeconds"
                f" AND (attribute_not_exists({last}) OR {last} <= :windowStart)"
            ),
            ExpressionAttributeValues=layout.attribute_values(
                {
                    ":now": now_ms,
                    # DynamoDB refuses a value no expression uses: a log of one shifts nothing.
                    **({":zero": 0} if limit > 1 else {}),
                    ":nowSeconds": now_ms // 1000,
                    ":windowStart": now_ms - window_ms,
                }
            ),
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        if outcome.written:
            return layout.connection_from_item(connection_id, outcome.item)
        if not outcome.item or not self.table.alive(outcome.item):
            return None
        raise RateLimited(connection_id)

    def add_blocked_user(self, connection_id: str, user_id: str) -> bool:
        return self.table.update_if(
            layout.conn_key(connection_id),
            UpdateExpression="ADD blockedUsers :u",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":u": {"SS": [user_id]}},
        ).written

    def mark_away(self, conn: Connection, away_until: int) -> bool:
        values: dict[str, Any] = {":au": away_until, ":state": conn.state}
        condition = "attribute_exists(pk) AND #state = :state" + still_holds(conn, values)
        ops: list[dict[str, Any]] = [
            {
                "Update": {
                    "Key": layout.conn_key(conn.connection_id),
                    "UpdateExpression": "SET awayUntil = :au",
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": layout.attribute_values(values),
                }
            }
        ]
        if conn.state == "waiting" and conn.queue_key:
            ops.append(
                {
                    "Update": {
                        "Key": layout.queue_entry_key(conn.queue_key),
                        "UpdateExpression": "SET away = :true",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": layout.attribute_values({":true": True}),
                    }
                }
            )
        return self.table.transact_if(ops)

    def extend_token(self, connection_id: str, user_id: str, expires_at: int) -> bool:
        # The condition is the guard: only the account that opened the connection extends it.
        return self.table.update_if(
            layout.conn_key(connection_id),
            UpdateExpression="SET tokenExpiresAt = :exp",
            ConditionExpression="attribute_exists(pk) AND userId = :uid",
            ExpressionAttributeValues=layout.attribute_values(
                {":exp": expires_at, ":uid": user_id}
            ),
        ).written

    def clear_resume_flags(self, connection_id: str) -> None:
        # A connection already gone has no flags to clear.
        self.table.update_if(
            layout.conn_key(connection_id),
            UpdateExpression="REMOVE resumed, resumeFailed",
            ConditionExpression="attribute_exists(pk)",
        )

    def note_urgent_queueing(
        self, connection_id: str, queued_ms: tuple[int, ...], alerted_level: Level | None
    ) -> None:
        values: dict[str, Any] = {":uq": list(queued_ms)}
        update = "SET urgentQueued = :uq"
        if alerted_level is not None:
            update += ", alertedLevel = :al"
            values[":al"] = alerted_level
        # A connection already gone keeps nothing.
        self.table.update_if(
            layout.conn_key(connection_id),
            UpdateExpression=update,
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=layout.attribute_values(values),
        )
