"""accounts: a coordinator invites and manages staff accounts (Cognito's admin calls, issue 13).

A function of its own: its role is the only one allowed Cognito's admin calls on the pool.
"""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from kindred import accounts_admin, cold_start
from kindred.aws.wiring import services
from kindred.events import message_request
from kindred.observability import logger, metrics

# Exactly the template's routes to AdminFunction (tests/template checks it).
ROUTES = ("accounts",)


# log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: the body holds addresses and names.
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False
)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return accounts_admin.handle(services(), message_request(event), frozenset(ROUTES))


cold_start.imported()  # last: what the import made, out of the collector's way (issue 14)
