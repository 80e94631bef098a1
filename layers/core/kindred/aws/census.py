"""The Census port on DynamoDB: the sweeper's one Scan of the table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kindred.aws import layout
from kindred.aws.table import TableAdapter
from kindred.ports import TableView


class DynamoCensus(TableAdapter):
    """Implements kindred.ports.Census."""

    def table_view(self) -> TableView:
        """One Scan of the whole table (the sweeper's only read): every item is small and
        short-lived but sessions (SessionRetentionHours), reports and blocks."""
        view = TableView(connections=[], queue=[], slots=[], shift=[], active_sessions=[])
        kwargs: dict[str, Any] = {"TableName": self.table.name}
        while True:
            resp = self.table.client.scan(**kwargs)
            for d in map(layout.from_item, resp.get("Items", [])):
                if self.table.alive(d):
                    _sort_into(view, d)
            last = resp.get("LastEvaluatedKey")
            if not last:
                return view
            kwargs["ExclusiveStartKey"] = last


def _sort_into(view: TableView, d: Mapping[str, Any]) -> None:
    pk, sk = str(d["pk"]), str(d["sk"])
    if (connection_id := layout.connection_id_of(pk, sk)) is not None:
        view.connections.append(layout.connection_from_item(connection_id, d))
    elif pk in (layout.QUEUE_PK, layout.PRACTICE_QUEUE_PK):
        view.queue.append(layout.queue_entry_from_item(d))
    elif pk == layout.POOL_PK:
        view.slots.append(layout.slot_from_item(d))
    elif pk == layout.SHIFT_PK:
        view.shift.append(sk)
    elif (session_id := layout.session_id_of(pk, sk)) is not None and d.get("active") is True:
        view.active_sessions.append(layout.session_from_item(session_id, d))
