"""$disconnect: free the queue place, the chats and the volunteer slot the connection held."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from kindred import cold_start
from kindred.aws.wiring import services
from kindred.connections import disconnect
from kindred.events import disconnect_request
from kindred.observability import logger, metrics


# log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: no handler ever logs its event.
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False
)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    disconnect(services(), disconnect_request(event))
    return {"statusCode": 200}


cold_start.imported()  # last: what the import made, out of the collector's way (issue 14)
