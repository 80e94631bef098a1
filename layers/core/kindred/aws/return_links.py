"""The ReturnLinks port on DynamoDB: a return key's hash, the volunteer it leads to, a TTL."""

from __future__ import annotations

from botocore.exceptions import ClientError

from kindred.aws import layout
from kindred.aws.table import CONDITION_FAILED, TableAdapter, error_code


class DynamoReturnLinks(TableAdapter):
    """Implements kindred.ports.ReturnLinks."""

    def link(self, return_hash: str, user_id: str, expires_at: int) -> None:
        # PutItem: a new chat with the key re-points it, and its TTL starts again.
        self.table.put(layout.return_link_item(return_hash, user_id, expires_at=expires_at))

    def linked_user(self, return_hash: str) -> str | None:
        data = self.table.get(layout.return_key(return_hash))
        return str(data["userId"]) if data and data.get("userId") else None

    def unlink(self, return_hash: str, user_id: str | None = None) -> None:
        if user_id is None:
            self.table.delete(layout.return_key(return_hash))
            return
        try:
            self.table.delete(
                layout.return_key(return_hash),
                ConditionExpression="userId = :user",
                ExpressionAttributeValues=layout.attribute_values({":user": user_id}),
            )
        except ClientError as exc:  # it leads to someone else, or nowhere: nothing to undo
            if error_code(exc) != CONDITION_FAILED:
                raise

    def hold(self, connection_id: str, return_hash: str) -> None:
        self.table.update_if(
            layout.conn_key(connection_id),
            UpdateExpression="SET returnHash = :hash",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=layout.attribute_values({":hash": return_hash}),
        )
