"""The WaitingQueue port on DynamoDB: the seekers waiting, in serving order, and the match pace."""

from __future__ import annotations

from typing import Any

from kindred.aws import layout
from kindred.aws.table import Table, TableAdapter
from kindred.records import (
    PACE_WINDOW_MS,
    Connection,
    MatchPace,
    QueueEntry,
    Ticket,
    is_practice_key,
)


def put_entry(table: Table, entry: QueueEntry) -> dict[str, Any]:
    """A transaction's Put of a new queue entry (enqueue, a transfer, a resume)."""
    item = layout.queue_entry_item(entry, expires_at=table.connection_expiry())
    return {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}


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


class DynamoQueue(TableAdapter):
    """Implements kindred.ports.WaitingQueue: the partition QUEUE (PRACTICE for practice
    seekers), sorted by the queue key."""

    def enqueue(self, entry: QueueEntry, ticket: Ticket, replaces: str | None = None) -> None:
        resume_hash = ticket.resume_hash
        # The ticket deleted is the one the connection holds: the condition makes sure.
        values: dict[str, Any] = {
            ":waiting": "waiting",
            ":idle": "idle",
            ":qk": entry.queue_key,
            ":rh": resume_hash,
        }
        if replaces:
            held = "resumeHash = :prev"
            values[":prev"] = replaces
        else:
            held = "attribute_not_exists(resumeHash)"
        item = layout.resume_ticket_item(
            resume_hash, entry.connection_id, entry.seeker_key, expires_at=ticket.expires_at
        )
        ops: list[dict[str, Any]] = [
            put_entry(self.table, entry),
            {
                "Update": {
                    "Key": layout.conn_key(entry.connection_id),
                    "UpdateExpression": "SET #state = :waiting, queueKey = :qk, resumeHash = :rh",
                    "ConditionExpression": f"attribute_exists(pk) AND #state = :idle AND {held}",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": layout.attribute_values(values),
                }
            },
            {"Put": {"Item": item}},
        ]
        if replaces and replaces != resume_hash:
            ops.append({"Delete": {"Key": layout.resume_key(replaces)}})
        self.table.transact(ops)

    def leave_queue(self, conn: Connection) -> bool:
        if conn.state != "waiting" or not conn.queue_key:
            return False
        return self.table.transact_if(
            [
                {
                    "Delete": {
                        "Key": layout.queue_entry_key(conn.queue_key),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                {
                    "Update": {
                        "Key": layout.conn_key(conn.connection_id),
                        "UpdateExpression": "SET #state = :idle REMOVE queueKey",
                        "ConditionExpression": "#state = :waiting AND queueKey = :qk",
                        "ExpressionAttributeNames": {"#state": "state"},
                        "ExpressionAttributeValues": layout.attribute_values(
                            {":idle": "idle", ":waiting": "waiting", ":qk": conn.queue_key}
                        ),
                    }
                },
            ]
        )

    def queue_position(self, entry_key: str) -> int:
        count = 0
        kwargs: dict[str, Any] = {
            "TableName": self.table.name,
            "KeyConditionExpression": "pk = :pk AND sk < :sk",
            "ExpressionAttributeValues": layout.attribute_values(
                {":pk": layout.queue_pk(practice=is_practice_key(entry_key)), ":sk": entry_key}
            ),
            "Select": "COUNT",
        }
        while True:
            resp = self.table.client.query(**kwargs)
            count += int(resp.get("Count", 0))
            if "LastEvaluatedKey" not in resp:
                return count + 1
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def waiting(self, limit: int, *, practice: bool = False) -> list[QueueEntry]:
        return [
            layout.queue_entry_from_item(d)
            for d in self.table.query_partition(layout.queue_pk(practice=practice), limit)
        ]

    def delete_queue_entry(self, entry_key: str) -> None:
        self.table.delete(layout.queue_entry_key(entry_key))

    def mark_long_wait(self, entry_key: str) -> bool:
        return self.table.update_if(
            layout.queue_entry_key(entry_key),
            UpdateExpression="SET longWait = :yes",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(longWait)",
            ExpressionAttributeValues=layout.attribute_values({":yes": True}),
        ).written

    # -- the pace of matches ---------------------------------------------------------------

    def record_matches(self, count: int, now_ms: int) -> MatchPace:
        # One item, two counters: matches in the current fixed window and in the one before.
        # Counting is one UpdateItem while the window is open; when it has closed (or the item
        # is absent), the item is rewritten for the next window, on condition that nobody
        # else rolled it first (then the count goes into their window).
        pace_key = layout.key(layout.STATS_PK, layout.PACE_SK)
        for _ in range(3):
            counted = self.table.update_if(
                pace_key,
                UpdateExpression="ADD matches :n",
                ConditionExpression="windowStart > :closedBefore",
                ExpressionAttributeValues=layout.attribute_values(
                    {":n": count, ":closedBefore": now_ms - PACE_WINDOW_MS}
                ),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            if counted.written:
                return layout.pace_from_item(counted.item)
            old = counted.item
            pace = _next_window(old.get("windowStart"), old.get("matches", 0), count, now_ms)
            # Past two windows the counts say nothing any more.
            item = layout.pace_item(
                pace, expires_at=(pace.window_start_ms + 2 * PACE_WINDOW_MS) // 1000
            )
            seen = old.get("windowStart")
            if self.table.put_if(
                item,
                ConditionExpression=(
                    "windowStart = :seen" if seen is not None else "attribute_not_exists(pk)"
                ),
                **(
                    {"ExpressionAttributeValues": layout.attribute_values({":seen": seen})}
                    if seen is not None
                    else {}
                ),
            ):
                return pace
        return MatchPace(window_start_ms=now_ms, count=count)  # an estimate, not worth more

    def match_pace(self) -> MatchPace | None:
        data = self.table.get(layout.key(layout.STATS_PK, layout.PACE_SK))
        return layout.pace_from_item(data) if data else None
