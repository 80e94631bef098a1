"""The composition root: the AWS adapters behind the domain's ports, built once per cold start.

Only this package knows boto3 and the adapters; handlers take their Services from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any

from kindred.care import care_kept_seconds
from kindred.config import Settings, settings
from kindred.services import Services

# Set only where several functions share one process (the local stack, the integration
# tests): each invocation is served with its own function's Services, on its own role.
_serving: ContextVar[Callable[[], Services] | None] = ContextVar("kindred_serving", default=None)

if TYPE_CHECKING:
    from kindred.auth import Identity


class _LazyTokens:
    """kindred.auth.CognitoTokens, imported on the first `reauth`: PyJWT and cryptography
    stay out of the chat function's cold start."""

    def __init__(self, config: Settings) -> None:
        self._config = config

    def verify(self, token: str) -> Identity:
        from kindred.auth import CognitoTokens

        return CognitoTokens(self._config).verify(token)


def aws_services(config: Settings, session: Any = None) -> Services:
    """The AWS adapters for these settings, on `session`'s credentials (default: Lambda's).

    boto3 honours AWS_ENDPOINT_URL, which the local stack sets to its moto server.
    """
    import boto3
    from botocore.config import Config

    # Imported on first use: the cold start.
    from kindred.aws.accounts import CognitoAccounts
    from kindred.aws.admissions import DynamoAdmissions
    from kindred.aws.board import DynamoBoard
    from kindred.aws.census import DynamoCensus
    from kindred.aws.chats import DynamoChats
    from kindred.aws.connections import DynamoConnections
    from kindred.aws.gateway import GatewayNotifier
    from kindred.aws.impact import DynamoImpact
    from kindred.aws.pool import DynamoPool
    from kindred.aws.queue import SqsWorkQueue
    from kindred.aws.return_links import DynamoReturnLinks
    from kindred.aws.safeguards import DynamoSafeguards
    from kindred.aws.sealing import AesGcmSealer, SecretSalts, key_reader
    from kindred.aws.staff_directory import CognitoStaffDirectory
    from kindred.aws.table import Table
    from kindred.aws.tickets import DynamoTickets
    from kindred.aws.waiting_queue import DynamoQueue

    retries = Config(
        retries={"mode": "standard", "max_attempts": 4}, connect_timeout=2, read_timeout=5
    )
    session = session or boto3.session.Session(region_name=config.region)
    # Made on first use: only the sweeper (ListUsers) and the admin function ask Cognito.
    cognito = cache(lambda: session.client("cognito-idp", config=retries))
    table = Table(
        session.client("dynamodb", config=retries),
        config.table_name,
        connection_ttl=config.connection_ttl_seconds,
        session_ttl=config.session_retention_hours * 3600 + config.connection_ttl_seconds,
        care_ttl=care_kept_seconds(config),
    )
    notifier = GatewayNotifier(
        session.client(
            "apigatewaymanagementapi", endpoint_url=config.websocket_endpoint, config=retries
        )
    )
    work = SqsWorkQueue(session.client("sqs", config=retries), config.match_queue_url)
    # The key is fetched only when a text is first sealed or unsealed, or a salt first
    # derived: the chat function's relay never pays for the client or the call.
    secret = cache(
        key_reader(lambda: session.client("ssm", config=retries), config.sealing_key_parameter)
    )
    sealer = AesGcmSealer(secret)
    # Keyword by keyword, so that mypy checks each adapter against its port.
    return Services(
        connections=DynamoConnections(table),
        tickets=DynamoTickets(table),
        queue=DynamoQueue(table),
        pool=DynamoPool(table),
        chats=DynamoChats(table),
        safeguards=DynamoSafeguards(table),
        returns=DynamoReturnLinks(table),
        admissions=DynamoAdmissions(table),
        impact=DynamoImpact(table),
        census=DynamoCensus(table),
        board=DynamoBoard(table),
        notifier=notifier,
        work=work,
        sealer=sealer,
        salts=SecretSalts(secret),
        settings=config,
        tokens=_LazyTokens(config),
        # Only the sweeper asks Cognito (ListUsers); the client is made then.
        accounts=CognitoAccounts(cognito, config.cognito_user_pool_id),
        # Only the admin function manages accounts (its role alone allows it).
        staff=CognitoStaffDirectory(cognito, config.cognito_user_pool_id),
    )


def services() -> Services:
    """The services of this invocation: this Lambda process's, built once and kept warm."""
    given = _serving.get()
    return given() if given is not None else _process_services()


@cache
def _process_services() -> Services:
    return aws_services(settings())


def reset_services() -> None:
    """Build the process's services anew at the next use (new settings, a new moto)."""
    _process_services.cache_clear()


@contextmanager
def serving(svc: Callable[[], Services]) -> Iterator[None]:
    """Within it, services() is `svc()` (in this thread): one function's Services, on its
    role, built when the handler first asks for them."""
    token = _serving.set(svc)
    try:
        yield
    finally:
        _serving.reset(token)
