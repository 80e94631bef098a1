"""The Safeguards port on DynamoDB: blocks that outlive a connection, and reports."""

from __future__ import annotations

from kindred.aws import layout
from kindred.aws.table import TableAdapter

BATCH_READ_ATTEMPTS = 6


class DynamoSafeguards(TableAdapter):
    """Implements kindred.ports.Safeguards."""

    def put_block(self, volunteer_user_id: str, seeker_key: str, expires_at: int) -> None:
        self.table.put(layout.block_item(volunteer_user_id, seeker_key, expires_at=expires_at))

    def blocked_pairs(self, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
        wanted = sorted(pairs)
        blocked: set[tuple[str, str]] = set()
        keys = [layout.block_key(user, seeker) for user, seeker in wanted]
        # A pair whose block could not be read is never taken for a free one: the matcher's
        # run fails (RuntimeError), and SQS delivers its work item again.
        for data in self.table.batch_get(
            keys, attempts=BATCH_READ_ATTEMPTS, projection="pk, sk, expiresAt"
        ):
            blocked.add(layout.block_of(data["pk"], data["sk"]))
        return blocked

    def delete_block(self, volunteer_user_id: str, seeker_key: str) -> None:
        self.table.delete(layout.block_key(volunteer_user_id, seeker_key))

    def put_report(
        self, session_id: str, reporter: str, reason: str, reporter_role: str, expires_at: int
    ) -> bool:
        item = layout.report_item(
            session_id,
            reporter,
            reason,
            reporter_role,
            created_at_ms=self.table.now_ms(),
            expires_at=expires_at,
        )
        # One report per side and chat: a second one (a repeat, or a script) writes nothing.
        return self.table.put_if(item, ConditionExpression="attribute_not_exists(pk)")
