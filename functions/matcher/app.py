"""Matcher (SQS consumer): one matching pass per batch; ends the grace periods that come due;
pushes the supervisors' board."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from kindred import board, cold_start
from kindred.aws.wiring import services
from kindred.grace import on_grace_over
from kindred.matching import run_matcher
from kindred.observability import logger, metrics
from kindred.sqs_batch import process_partial_response
from kindred.work_items import parse_work_item


def record_handler(body: str) -> None:
    item = parse_work_item(body)  # a malformed item fails alone and ends in the DLQ
    if item.reason == "grace_over" and item.connection_id:
        # A dropped seeker's grace period is due: end it (idempotent; nothing after a resume).
        outcome = on_grace_over(services(), item.connection_id)
        logger.info("grace item", extra={"outcome": outcome})


# log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: no handler ever logs its event.
@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Powertools' partial batch response, without its batch utility's imports (kindred.sqs_batch)
    response = process_partial_response(event, record_handler)
    reasons = {_reason(r) for r in event.get("Records", [])}
    if "board" in reasons:
        # The supervisors' board changed (issue 12): one build, one post per subscriber.
        board.push(services())
    if not reasons or reasons - {"board"}:
        # Work items only say "something changed": one pass serves the whole batch. If it
        # fails, the exception makes Lambda retry every item of the batch.
        started = run_matcher(services())
        logger.info(
            "matcher pass", extra={"items": len(event.get("Records", [])), "started": started}
        )
    return dict(response)


def _reason(record: dict[str, Any]) -> str | None:
    """A work item's reason; None for one that is not a work item (it fails on its own)."""
    try:
        return parse_work_item(str(record.get("body", ""))).reason
    except ValueError:
        return None


cold_start.imported()  # last: what the import made, out of the collector's way (issue 14)
