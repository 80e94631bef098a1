"""The one DynamoDB table the adapters share: its client, name, TTLs and clock, and its calls."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from kindred.aws.layout import from_item
from kindred.frozen import Frozen
from kindred.ports import Conflict

CONDITION_FAILED = "ConditionalCheckFailedException"
# A write refused for what other requests were doing, not for its condition: another write in
# flight on one of its items (TransactionConflict), or a throttle inside a transaction. It
# wrote nothing and may pass if tried again, which the SDK does not do (its standard mode
# retries TransactionInProgressException only, and a cancelled transaction not at all).
PASSING_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)
WRITE_TRIES = 4  # with back-off: 25, 50 and 100 ms, less up to half of each (jitter)


def error_code(exc: ClientError) -> str | None:
    code = exc.response.get("Error", {}).get("Code")
    return None if code is None else str(code)


def passing(exc: ClientError) -> bool:
    """Whether a write refused with this error wrote nothing and may pass if tried again."""
    code = error_code(exc)
    if code == "TransactionConflictException":  # a plain write met a transaction in flight
        return True
    if code != "TransactionCanceledException":
        return False
    reasons = {r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])}
    return bool(reasons & PASSING_REASONS) and "ConditionalCheckFailed" not in reasons


def _tried(write: Callable[..., dict[str, Any]], **request: Any) -> dict[str, Any]:
    """One write, tried again (WRITE_TRIES in all) while what refused it may pass."""
    for attempt in range(1, WRITE_TRIES):
        try:
            return write(**request)
        except ClientError as exc:
            if not passing(exc):
                raise
        time.sleep(0.025 * 2 ** (attempt - 1) * random.uniform(0.5, 1.0))
    return write(**request)


def names(*attributes: str) -> dict[str, str]:
    """Expression names for attributes: several of ours are DynamoDB reserved words."""
    return {f"#{n}": n for n in attributes}


class Outcome(Frozen):
    """What a conditional write did: `written`, or refused by its condition (nothing written).

    `item` is, as plain values, what DynamoDB returned: the attributes asked for with
    ReturnValues when written, the item as it was (ReturnValuesOnConditionCheckFailure=ALL_OLD)
    when refused; empty if nothing was asked for or there was no item.
    """

    written: bool
    item: dict[str, Any]


@dataclass
class Table:
    """The table every adapter of kindred.aws works on; one per Lambda process.

    `clock` (epoch seconds) is read for every expiry and timestamp the adapters write and for
    telling expired items from live ones: a test moves it for all the adapters at once.
    """

    client: Any
    name: str
    connection_ttl: int
    session_ttl: int
    clock: Callable[[], float] = time.time
    # How long a staff account's care record is kept after its last write (kindred.care).
    care_ttl: int = 6 * 3600

    def now(self) -> int:
        """Epoch seconds, as `expiresAt` counts them."""
        return int(self.clock())

    def now_ms(self) -> int:
        """Epoch milliseconds, as the records' times count them."""
        return int(self.clock() * 1000)

    def connection_expiry(self) -> int:
        """When an item that lives as long as a connection expires, if written now."""
        return self.now() + self.connection_ttl

    def alive(self, data: Mapping[str, Any]) -> bool:
        """Reads treat an item past `expiresAt` as absent: TTL deletion lags."""
        expires = data.get("expiresAt")
        return expires is None or int(expires) > self.now()

    # -- reads -------------------------------------------------------------------------------

    def batch_get(
        self, keys: list[dict[str, Any]], *, attempts: int, projection: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """The live items of these keys as plain values, 100 a BatchGetItem, eventually
        consistent; what DynamoDB leaves unread is asked again with back-off, `attempts` times
        in all, after which a RuntimeError says the items could not be read."""
        for start in range(0, len(keys), 100):  # BatchGetItem's limit
            asked: dict[str, Any] = {"Keys": keys[start : start + 100]}
            if projection:
                asked["ProjectionExpression"] = projection
            request: dict[str, Any] = {self.name: asked}
            for attempt in range(attempts):
                if attempt:
                    time.sleep(0.05 * 2**attempt)
                resp = self.client.batch_get_item(RequestItems=request)
                for item in resp.get("Responses", {}).get(self.name, []):
                    data = from_item(item)
                    if self.alive(data):
                        yield data
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise RuntimeError("items could not be read")

    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        """One consistent GetItem: the live item as plain values, None if absent or expired."""
        resp = self.client.get_item(TableName=self.name, Key=key, ConsistentRead=True)
        item = resp.get("Item")
        if not item:
            return None
        data = from_item(item)
        return data if self.alive(data) else None

    def query_partition(
        self, pk: str, limit: int | None = None, *, consistent: bool = True
    ) -> list[dict[str, Any]]:
        """The live items of one partition in sort-key order (at most `limit`), page by page;
        `consistent=False` reads at half the price what may be a second old."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": consistent,
        }
        while True:
            if limit is not None:
                kwargs["Limit"] = limit - len(items)
            resp = self.client.query(**kwargs)
            items.extend(d for d in map(from_item, resp.get("Items", [])) if self.alive(d))
            last = resp.get("LastEvaluatedKey")
            if not last or (limit is not None and len(items) >= limit):
                return items
            kwargs["ExclusiveStartKey"] = last

    # -- writes ------------------------------------------------------------------------------

    # Every write is tried again while another request's write on its items refused it
    # (`_tried`); a failed condition is an answer, and never tried again.

    def put(self, item: dict[str, Any], **request: Any) -> None:
        """PutItem of an item in low-level form (kindred.aws.layout's codecs make them)."""
        _tried(self.client.put_item, TableName=self.name, Item=item, **request)

    def delete(self, key: dict[str, Any], **request: Any) -> dict[str, Any]:
        return _tried(self.client.delete_item, TableName=self.name, Key=key, **request)

    def update(self, key: dict[str, Any], **request: Any) -> dict[str, Any]:
        """UpdateItem; a failed condition raises (use `update_if` where it may fail)."""
        return _tried(self.client.update_item, TableName=self.name, Key=key, **request)

    def update_if(self, key: dict[str, Any], **request: Any) -> Outcome:
        """UpdateItem under its ConditionExpression: refused (not written) if it fails."""
        return self._conditional(self.client.update_item, Key=key, **request)

    def put_if(self, item: dict[str, Any], **request: Any) -> bool:
        """PutItem under its ConditionExpression: False (nothing written) if it fails."""
        return self._conditional(self.client.put_item, Item=item, **request).written

    def _conditional(self, write: Callable[..., dict[str, Any]], **request: Any) -> Outcome:
        try:
            resp = _tried(write, TableName=self.name, **request)
        except ClientError as exc:
            if error_code(exc) != CONDITION_FAILED:
                raise
            return Outcome(written=False, item=from_item(exc.response.get("Item") or {}))
        return Outcome(written=True, item=from_item(resp.get("Attributes") or {}))

    def transact(self, ops: list[dict[str, Any]]) -> None:
        """One TransactWriteItems on this table; Conflict (nothing written) if a condition
        fails, with the cancellation reasons. Cancelled only by other requests' writes past
        every try, it raises their ClientError: no condition refused it."""
        for op in ops:
            next(iter(op.values()))["TableName"] = self.name
        try:
            _tried(self.client.transact_write_items, TransactItems=ops)
        except ClientError as exc:
            code = error_code(exc)
            if code in ("TransactionCanceledException", CONDITION_FAILED) and not passing(exc):
                reasons = [
                    r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])
                ]
                raise Conflict(",".join(reasons) or str(code)) from None
            raise

    def transact_if(self, ops: list[dict[str, Any]]) -> bool:
        """One TransactWriteItems; False (nothing written) if a condition fails."""
        try:
            self.transact(ops)
        except Conflict:
            return False
        return True


class TableAdapter:
    """An adapter of one port on the shared table: kindred.aws.wiring builds one of each."""

    def __init__(self, table: Table) -> None:
        self.table = table
