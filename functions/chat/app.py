"""The chat actions and $default: message, typing, end, report, block, feedback, and the rest."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from kindred import chat
from kindred.aws.wiring import services
from kindred.events import message_request
from kindred.observability import logger, metrics


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return chat.handle(services(), message_request(event))
