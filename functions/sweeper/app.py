"""Sweeper (EventBridge schedule): repairs what a lost $disconnect leaves behind."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from kindred.aws.wiring import services
from kindred.observability import logger, metrics
from kindred.sweeper import sweep


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(sweep(services(), context.get_remaining_time_in_millis))
