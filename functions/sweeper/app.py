"""Sweeper (EventBridge schedule): repairs what a lost $disconnect leaves behind."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from kindred import cold_start
from kindred.aws.wiring import services
from kindred.observability import logger, metrics
from kindred.sweeper import sweep


# log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: no handler ever logs its event.
@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(sweep(services(), context.get_remaining_time_in_millis))


cold_start.imported()  # last: what the import made, out of the collector's way (issue 14)
