"""The Admissions port on DynamoDB: one counter item per source and minute, under TTL."""

from __future__ import annotations

from kindred.aws import layout
from kindred.aws.table import TableAdapter

# A minute's counter is kept this long after the minute ends, then TTL removes it.
KEPT_AFTER_MINUTE = 120


class DynamoAdmissions(TableAdapter):
    """Implements kindred.ports.Admissions."""

    def count_connection(self, source_key: str, *, minute: int, limit: int) -> bool:
        # One UpdateItem, no read: ADD counts, the condition refuses (and writes nothing) once
        # `limit` connections were counted in this minute.
        return self.table.update_if(
            layout.source_minute_key(source_key, minute),
            UpdateExpression="SET expiresAt = :exp ADD connections :one",
            ConditionExpression="attribute_not_exists(connections) OR connections < :limit",
            ExpressionAttributeValues=layout.attribute_values(
                {":one": 1, ":limit": limit, ":exp": (minute + 1) * 60 + KEPT_AFTER_MINUTE}
            ),
        ).written
