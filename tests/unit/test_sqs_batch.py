"""kindred.sqs_batch answers and fails exactly as Powertools' batch utility (SQS) did."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities import batch as powertools
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from hypothesis import given, settings
from hypothesis import strategies as st

from kindred import sqs_batch
from kindred.work_items import parse_work_item

BODIES = (
    '{"reason": "sweep"}',
    '{"reason": "grace_over", "connectionId": "c-1"}',
    "{not json",
    '{"reason": "nonsense"}',
    "",
)


def _record(n: int, body: str) -> dict[str, Any]:
    return {
        "messageId": f"m-{n}",
        "receiptHandle": f"r-{n}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "x",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:match",
        "awsRegion": "us-east-1",
    }


def _handle(body: str) -> None:
    parse_work_item(body)  # the matcher's record handler's own check: a malformed item raises


def _outcome(run: Any) -> tuple[str, Any]:
    """('ok', the response) or ('raised', (the error's class name, its text))."""
    try:
        return "ok", run()
    except Exception as error:
        return "raised", (type(error).__name__, str(error))


def _both(event: dict[str, Any]) -> tuple[tuple[str, Any], tuple[str, Any]]:
    processor = powertools.BatchProcessor(event_type=powertools.EventType.SQS)

    def record_handler(record: SQSRecord) -> None:
        _handle(record.body)

    theirs = _outcome(
        lambda: powertools.process_partial_response(
            event=event, record_handler=record_handler, processor=processor
        )
    )
    ours = _outcome(lambda: sqs_batch.process_partial_response(event, _handle))
    return ours, theirs


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(BODIES), min_size=1, max_size=10))
def test_any_batch_is_answered_as_powertools_answers_it(bodies: list[str]) -> None:
    """
    Given a batch of 1 to 10 work items, each well-formed or not
    When kindred.sqs_batch and Powertools' BatchProcessor each handle it
    Then both name the same failed records in the same order, or both raise the same error
    with the same text (every record failed: Lambda retries the batch)
    """
    event = {"Records": [_record(n, body) for n, body in enumerate(bodies)]}
    ours, theirs = _both(event)

    assert ours[0] == theirs[0]
    if ours[0] == "ok":
        assert ours == theirs
    else:  # the text holds each record's traceback: the same message and the same errors
        assert ours[1][0] == theirs[1][0] == "BatchProcessingError"
        first = ours[1][1].split("\n")[0]
        assert first == theirs[1][1].split("\n")[0]
        expected = f"All records failed processing. {len(bodies)} individual errors logged"
        assert first == expected + " separately below."
        assert ours[1][1].count("Traceback") == theirs[1][1].count("Traceback") == len(bodies)


def test_a_mixed_batch_reports_only_the_malformed_records() -> None:
    """
    Given a batch of a good item, a malformed one and another good one
    When it is handled
    Then the answer names the malformed record alone
    """
    event = {"Records": [_record(0, BODIES[0]), _record(1, BODIES[2]), _record(2, BODIES[1])]}

    assert sqs_batch.process_partial_response(event, _handle) == {
        "batchItemFailures": [{"itemIdentifier": "m-1"}]
    }


@pytest.mark.parametrize("event", [{}, {"Records": []}, {"Records": "x"}])
def test_an_event_without_records_fails_as_with_powertools(event: dict[str, Any]) -> None:
    """
    Given an event without records (not what SQS sends)
    When it is handled
    Then it raises UnexpectedBatchTypeError with Powertools' text, and nothing is handled
    """
    ours, theirs = _both(event)

    assert ours == theirs
    assert ours[1][0] == "UnexpectedBatchTypeError"
