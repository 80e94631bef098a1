"""The BoardState port on DynamoDB: the partition BOARD, its state item and the chats' rows."""

from __future__ import annotations

from kindred.aws import layout
from kindred.aws.table import TableAdapter
from kindred.ports import BoardView, PushStart


class DynamoBoard(TableAdapter):
    """Implements kindred.ports.BoardState.

    One item, `BOARD`/`STATE`, holds the subscribers (a string set: DynamoDB drops an empty
    set, so `attribute_exists(subscribers)` means someone subscribes) and `pendingSince`, the
    time a push was claimed until the matcher starts it (not before the claim is 2 s old).
    The chats' rows share the partition (kindred.aws.chats writes them with each chat), so
    one Query reads them all.
    """

    def subscribe(self, connection_id: str) -> None:
        self.table.update(
            layout.board_state_key(),
            UpdateExpression="ADD subscribers :cid SET expiresAt = :expires",
            ExpressionAttributeValues={
                ":cid": {"SS": [connection_id]},
                ":expires": {"N": str(self.table.connection_expiry())},
            },
        )

    def unsubscribe(self, connection_id: str) -> None:
        # Never creates the item: nobody subscribed, nothing to remove.
        self.table.update_if(
            layout.board_state_key(),
            UpdateExpression="DELETE subscribers :cid",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":cid": {"SS": [connection_id]}},
        )

    def claim_push(self, now_ms: int, stale_before_ms: int) -> bool:
        """One conditional UpdateItem: SET pendingSince = now IF someone subscribes (and the
        item is live) AND no push is pending since `stale_before_ms` (a pending push older
        than that was lost: its work item went to the dead-letter queue)."""
        return self.table.update_if(
            layout.board_state_key(),
            UpdateExpression="SET pendingSince = :now",
            ConditionExpression=(
                "attribute_exists(subscribers) AND expiresAt > :nowSeconds"
                " AND (attribute_not_exists(pendingSince) OR pendingSince < :stale)"
            ),
            ExpressionAttributeValues=layout.attribute_values(
                {":now": now_ms, ":nowSeconds": now_ms // 1000, ":stale": stale_before_ms}
            ),
        ).written

    def start_push(self, claimed_by_ms: int) -> PushStart:
        """One UpdateItem: REMOVE pendingSince IF it is `claimed_by_ms` or earlier (the new
        item's subscribers; when refused, the old item's pending claim, if any)."""
        outcome = self.table.update_if(
            layout.board_state_key(),
            UpdateExpression="REMOVE pendingSince",
            ConditionExpression="pendingSince <= :by",
            ExpressionAttributeValues=layout.attribute_values({":by": claimed_by_ms}),
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        item = outcome.item
        if not item or not self.table.alive(item):
            return PushStart(subscribers=[])
        if outcome.written:
            return PushStart(subscribers=sorted(str(c) for c in item.get("subscribers", ())))
        pending = item.get("pendingSince")
        return PushStart(subscribers=[], pending_since_ms=None if pending is None else int(pending))

    def board_view(self) -> BoardView:
        """Three Queries, eventually consistent (the board is at most a second behind, and
        the push waits two): the queue, the volunteers' slots, the chats' rows."""
        rows = self.table.query_partition(layout.BOARD_PK, consistent=False)
        return BoardView(
            queue=[
                layout.queue_entry_from_item(d)
                for d in self.table.query_partition(layout.QUEUE_PK, consistent=False)
            ],
            slots=[
                layout.slot_from_item(d)
                for d in self.table.query_partition(layout.POOL_PK, consistent=False)
            ],
            chats=[layout.chat_row_from_item(d) for d in rows if layout.is_chat_row(str(d["sk"]))],
        )
