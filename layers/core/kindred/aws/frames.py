"""The Lambda entry point of client frames, made per function for the routes it serves.

API Gateway calls it with a route's event; it logs with the request's correlation id, flushes
the metrics, and hands the frame to kindred.chat with this process's Services. A frame on a
route the function does not serve is refused: its role holds only what its routes need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from kindred import chat
from kindred.aws.wiring import services
from kindred.events import message_request
from kindred.observability import logger, metrics


def frame_handler(*routes: str) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The handler of a function whose template routes are `routes`."""
    served = frozenset(routes)

    # log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: the body is what someone wrote.
    @logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False
    )
    @metrics.log_metrics
    def handle_frame(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return chat.handle(services(), message_request(event), served)

    return handle_frame
