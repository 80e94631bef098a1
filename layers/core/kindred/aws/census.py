"""The Census port on DynamoDB: what is open, read by partition and by the connections' index."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kindred.aws import layout
from kindred.aws.table import TableAdapter
from kindred.ports import TableView

# BatchGetItem reads at most 100 keys; what DynamoDB leaves unread is asked again this often.
BATCH_READ_ATTEMPTS = 5


class DynamoCensus(TableAdapter):
    """Implements kindred.ports.Census."""

    def table_view(self) -> TableView:
        """What is open, eventually consistent (the sweeper reads again before it repairs):
        the open connections (the `Census` index's keys, then their items), the queues, the
        pool, the shift and the active chats (the board's chat rows, then their items).
        Nothing else is read: not the ended chats kept for a day, not the reports, blocks or
        counters. With nothing open, six Queries of empty partitions (3 RRU) are the run's
        whole read; what is left behind without a connection (a queue entry, a slot, a chat
        whose sockets all went) is still found."""
        view = TableView(connections=[], queue=[], slots=[], shift=[], active_sessions=[])
        keys = list(self._open_connection_keys())
        for d in self._items(keys):
            connection_id = layout.connection_id_of(str(d["pk"]), str(d["sk"]))
            if connection_id is not None:
                view.connections.append(layout.connection_from_item(connection_id, d))
        for pk in (layout.QUEUE_PK, layout.PRACTICE_QUEUE_PK):
            view.queue.extend(map(layout.queue_entry_from_item, self._partition(pk)))
        view.slots.extend(map(layout.slot_from_item, self._partition(layout.POOL_PK)))
        view.shift.extend(str(d["sk"]) for d in self._partition(layout.SHIFT_PK))
        chats = [
            layout.chat_row_from_item(d).session_id
            for d in self._partition(layout.BOARD_PK)
            if layout.is_chat_row(str(d["sk"]))
        ]
        for d in self._items([layout.session_key(sid) for sid in chats]):
            session_id = layout.session_id_of(str(d["pk"]), str(d["sk"]))
            if session_id is not None and d.get("active") is True:
                view.active_sessions.append(layout.session_from_item(session_id, d))
        return view

    def _open_connection_keys(self) -> Iterator[dict[str, Any]]:
        """The keys of every connection item (the index holds their keys only)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table.name,
            "IndexName": layout.CENSUS_INDEX,
            "KeyConditionExpression": "#census = :conn",
            "ExpressionAttributeNames": {"#census": layout.CENSUS_ATTR},
            "ExpressionAttributeValues": {":conn": {"S": layout.CONN_SK}},
        }
        while True:
            resp = self.table.client.query(**kwargs)
            for item in resp.get("Items", []):
                yield {"pk": item["pk"], "sk": item["sk"]}
            last = resp.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def _partition(self, pk: str) -> list[dict[str, Any]]:
        return self.table.query_partition(pk, consistent=False)

    def _items(self, keys: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The live items of these keys. If some cannot be read, the run fails (and says so in
        the errors alarm); the next one reads again."""
        return self.table.batch_get(keys, attempts=BATCH_READ_ATTEMPTS)
