"""The composition root: the AWS adapters behind the domain's ports, built once per cold start.

Only this package knows boto3 and the adapters; handlers take their Services from here.
"""

from __future__ import annotations

from functools import cache

from kindred.config import Settings, settings
from kindred.services import Services


def aws_services(config: Settings) -> Services:
    """The AWS adapters for these settings (boto3 honours AWS_ENDPOINT_URL for local stacks)."""
    import boto3
    from botocore.config import Config

    # Imported on first use: the cold start.
    from kindred.aws.admissions import DynamoAdmissions
    from kindred.aws.census import DynamoCensus
    from kindred.aws.chats import DynamoChats
    from kindred.aws.connections import DynamoConnections
    from kindred.aws.gateway import GatewayNotifier
    from kindred.aws.pool import DynamoPool
    from kindred.aws.queue import SqsWorkQueue
    from kindred.aws.safeguards import DynamoSafeguards
    from kindred.aws.sealing import AesGcmSealer, SecretSalts, secret_reader
    from kindred.aws.table import Table
    from kindred.aws.tickets import DynamoTickets
    from kindred.aws.waiting_queue import DynamoQueue

    retries = Config(
        retries={"mode": "standard", "max_attempts": 4}, connect_timeout=2, read_timeout=5
    )
    session = boto3.session.Session(region_name=config.region)
    table = Table(
        session.client("dynamodb", config=retries),
        config.table_name,
        connection_ttl=config.connection_ttl_seconds,
        session_ttl=config.session_retention_hours * 3600 + config.connection_ttl_seconds,
    )
    notifier = GatewayNotifier(
        session.client(
            "apigatewaymanagementapi", endpoint_url=config.websocket_endpoint, config=retries
        )
    )
    work = SqsWorkQueue(session.client("sqs", config=retries), config.match_queue_url)
    # The secret is fetched only when a text is first sealed or unsealed, or a salt first
    # derived: the chat function's relay never pays for the client or the call.
    secret = cache(
        secret_reader(
            lambda: session.client("secretsmanager", config=retries), config.sealing_secret_arn
        )
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
        admissions=DynamoAdmissions(table),
        census=DynamoCensus(table),
        notifier=notifier,
        work=work,
        sealer=sealer,
        salts=SecretSalts(secret),
        settings=config,
    )


@cache
def services() -> Services:
    """The services of this Lambda process, built on first use and reused while warm."""
    return aws_services(settings())
