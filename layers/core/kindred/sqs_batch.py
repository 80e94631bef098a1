"""SQS partial batch responses (the matcher's): each record handled alone, the failed ones reported.

What Powertools' `process_partial_response` with `BatchProcessor(EventType.SQS)` does for the
matcher, without importing its batch utility (asyncio, its event data classes: ~40 ms of a
cold start): the same answers and the same failures (tests/unit/test_sqs_batch.py compares
both on random batches).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any


class BatchProcessingError(Exception):
    """Every record of the batch failed: Lambda retries the whole batch. Named and worded as
    Powertools' (its text: the message, then each record's traceback), so the function's error
    reads the same in its log."""

    def __init__(self, msg: str, errors: list[BaseException] | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.errors = errors or []

    def __str__(self) -> str:
        parts = [f"{self.msg}\n"]
        for error in self.errors:
            parts.append(
                "".join(traceback.format_exception(type(error), error, error.__traceback__))
            )
        return "\n".join(parts)


class UnexpectedBatchTypeError(BatchProcessingError):
    """An event without records."""


def process_partial_response(
    event: dict[str, Any], handle: Callable[[str], None]
) -> dict[str, Any]:
    """`handle(body)` for each record of the SQS `event`, in order; Lambda's partial batch
    response names the records whose handling raised. Raises UnexpectedBatchTypeError for an
    event without records, BatchProcessingError if every record failed (as Powertools does)."""
    records = event.get("Records", [])
    if not records or not isinstance(records, list):
        raise UnexpectedBatchTypeError(
            "Unexpected batch event type. Possible values are: SQS, KinesisDataStreams, "
            "DynamoDBStreams, Kafka"
        )
    failed: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    for record in records:
        try:
            handle(record["body"])
        except Exception as error:  # the record fails alone; the others go on
            failed.append(record)
            errors.append(error)
    if failed and len(errors) == len(records):
        raise BatchProcessingError(
            f"All records failed processing. {len(errors)} individual errors logged separately "
            "below.",
            errors,
        )
    return {"batchItemFailures": [{"itemIdentifier": record["messageId"]} for record in failed]}
