"""$connect: within its source's budget, record the new connection (the authorizer admitted it)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from kindred import cold_start
from kindred.admission import admit
from kindred.aws.wiring import services
from kindred.connections import connect
from kindred.events import connect_request
from kindred.observability import logger, metrics


# log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: the event carries a resume token.
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False
)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    svc, req = services(), connect_request(event)
    if not admit(svc, req):
        return {"statusCode": 429}  # the handshake is refused; nothing was stored
    connect(svc, req)
    return {"statusCode": 200}


cold_start.imported()  # last: what the import made, out of the collector's way (issue 14)
