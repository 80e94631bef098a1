"""Lambda REQUEST authorizer of the WebSocket $connect route: admits seekers, checks volunteers."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from kindred import auth, cold_start
from kindred.config import settings
from kindred.observability import logger, metrics


# log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: the event carries the token.
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False
)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = settings()
    try:
        return auth.authorize(event, config, auth.cached_jwks(config.jwks_url))
    except auth.AuthError:
        # API Gateway answers 401 only to this exact message; the reason is already logged.
        raise Exception("Unauthorized") from None


cold_start.imported()  # last: what the import made, out of the collector's way (issue 14)
