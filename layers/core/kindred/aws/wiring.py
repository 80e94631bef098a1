"""The composition root: the AWS adapters behind the domain's ports, built once per cold start.

Only this package knows boto3 and the adapters; handlers take their Services from here.
"""

from __future__ import annotations

import threading
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


def aws_services(
    config: Settings, session: Any = None, *, clients: dict[str, Any] | None = None
) -> Services:
    """The AWS adapters for these settings, on `session`'s credentials (a boto3 Session;
    default: Lambda's, through botocore alone: boto3 is never imported).

    Every client is built on first use (kindred.aws.clients): a request builds only the
    clients its route calls. botocore honours AWS_ENDPOINT_URL, which the local stack sets to
    its moto server. `clients`, if given, receives each client (built or not) by service.
    """
    from botocore.config import Config

    # Imported on first use: the cold start.
    from kindred.aws.accounts import CognitoAccounts
    from kindred.aws.admissions import DynamoAdmissions
    from kindred.aws.board import DynamoBoard
    from kindred.aws.census import DynamoCensus
    from kindred.aws.chats import DynamoChats
    from kindred.aws.clients import LazyClient, create_client, shipped_session
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
    # Every client reads botocore's data trimmed to kindred's calls (kindred.aws.clients):
    # the models and endpoints of a full botocore cost a cold start more than the client.
    shipped = shipped_session()
    one_at_a_time = threading.Lock()  # a botocore session is not thread-safe; its clients are
    if session is None:

        def make(service: str, **options: Any) -> Any:
            with one_at_a_time:
                return create_client(
                    shipped, service, region_name=config.region, config=retries, **options
                )
    else:
        # A boto3 session on a function's role (the local stack, the integration tests):
        # its region and credentials, with the same data as in Lambda.
        given = session

        def make(service: str, **options: Any) -> Any:
            keys = given.get_credentials().get_frozen_credentials()
            with one_at_a_time:
                return create_client(
                    shipped,
                    service,
                    region_name=given.region_name,
                    aws_access_key_id=keys.access_key,
                    aws_secret_access_key=keys.secret_key,
                    aws_session_token=keys.token,
                    config=retries,
                    **options,
                )

    def client(service: str, **options: Any) -> LazyClient:
        lazy = LazyClient(service, lambda: make(service, **options))
        if clients is not None:
            clients[service] = lazy
        return lazy

    # Only the sweeper (ListUsers) and the admin function ask Cognito.
    cognito = client("cognito-idp")
    table = Table(
        client("dynamodb"),
        config.table_name,
        connection_ttl=config.connection_ttl_seconds,
        session_ttl=config.session_retention_hours * 3600 + config.connection_ttl_seconds,
        care_ttl=care_kept_seconds(config),
    )
    notifier = GatewayNotifier(
        client("apigatewaymanagementapi", endpoint_url=config.websocket_endpoint)
    )
    work = SqsWorkQueue(client("sqs"), config.match_queue_url)
    # The key is fetched only when a text is first sealed or unsealed, or a salt first
    # derived: the chat function's relay never pays for the client or the call.
    secret = cache(key_reader(client("ssm").get, config.sealing_key_parameter))
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
        accounts=CognitoAccounts(cognito.get, config.cognito_user_pool_id),
        # Only the admin function manages accounts (its role alone allows it).
        staff=CognitoStaffDirectory(cognito.get, config.cognito_user_pool_id),
    )


def services() -> Services:
    """The services of this invocation: this Lambda process's, built once and kept warm."""
    given = _serving.get()
    return given() if given is not None else _process_services()


# This process's clients by service, built or not (bench.coldstart builds a request's own).
_process_clients: dict[str, Any] = {}


def process_clients() -> dict[str, Any]:
    """The clients of this process's services (kindred.aws.clients.LazyClient) by service."""
    _process_services()
    return dict(_process_clients)


@cache
def _process_services() -> Services:
    _process_clients.clear()
    return aws_services(settings(), clients=_process_clients)


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
