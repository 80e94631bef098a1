"""What the benches share: the deployed handlers on in-process moto, AWS call records, output.

`InProcessStack` creates template.yaml's resources on moto (`mock_aws`), gives os.environ the
functions' environment as template.yaml resolves it, loads every function of the template and
drives them the way API Gateway and Lambda's SQS poller would: the $connect authorizer, route
selection on the template's expression, API Gateway-shaped events (local.ws_events, the same
builders the local stack uses), SQS records in batches. What each connection received is read
from moto's @connections backend. `AwsCalls` records every botocore call with its parameters,
its answer and the time moto itself took to serve it.
"""

from __future__ import annotations

import io
import json
import math
import statistics
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest.mock import patch
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "layers" / "core"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from bench import prices  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"
API_ID = "abc123"
WEBSOCKET_ENDPOINT = f"https://{API_ID}.execute-api.{REGION}.amazonaws.com/live"
ORIGIN = "http://localhost:8080"  # one of the template's default AllowedOrigins
DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}

# A relay publishes no metric and Powertools warns about it on every frame.
warnings.filterwarnings("ignore", message="No application metrics to publish")


# ---------------------------------------------------------------- recording AWS calls


@dataclass
class Call:
    """One botocore API call: what was asked, what came back, how long it took."""

    service: str
    operation: str
    params: dict[str, Any]
    response: dict[str, Any] | None
    error: str | None
    seconds: float
    moto_seconds: float  # spent inside moto's request handling (the "server" side)

    @property
    def key(self) -> str:
        return f"{self.service}.{self.operation}"


class AwsCalls:
    """Records every botocore call of this process while entered (and not paused)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._paused = 0
        self._lock = threading.Lock()
        self._local = threading.local()
        self._exit = ExitStack()

    def _moto_time(self) -> float:
        return float(getattr(self._local, "moto", 0.0))

    def __enter__(self) -> AwsCalls:
        from botocore.client import BaseClient
        from botocore.exceptions import ClientError
        from moto.core.botocore_stubber import BotocoreStubber

        recorder = self
        original_call = BaseClient._make_api_call
        original_stub = BotocoreStubber.__call__

        def timed_stub(stub: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original_stub(stub, *args, **kwargs)
            finally:
                recorder._local.moto = recorder._moto_time() + time.perf_counter() - started

        def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if recorder._paused:
                return original_call(client, operation, params)
            moto_before = recorder._moto_time()
            started = time.perf_counter()
            response: dict[str, Any] | None = None
            error: str | None = None
            try:
                response = original_call(client, operation, params)
                return response
            except ClientError as exc:
                error = str(exc.response.get("Error", {}).get("Code", "ClientError"))
                raise
            finally:
                call = Call(
                    service=client.meta.service_model.service_name,
                    operation=operation,
                    params=dict(params),
                    response=response,
                    error=error,
                    seconds=time.perf_counter() - started,
                    moto_seconds=recorder._moto_time() - moto_before,
                )
                with recorder._lock:
                    recorder.calls.append(call)

        BaseClient._make_api_call = recording  # type: ignore[method-assign]
        BotocoreStubber.__call__ = timed_stub  # type: ignore[method-assign]
        self._exit.callback(setattr, BaseClient, "_make_api_call", original_call)
        self._exit.callback(setattr, BotocoreStubber, "__call__", original_stub)
        return self

    def __exit__(self, *exc: object) -> None:
        self._exit.close()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Calls made here are the bench's own (reading the queue, the table): not counted."""
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int) -> list[Call]:
        return self.calls[mark:]

    def moto_seconds(self) -> float:
        """moto's time so far on this thread (for the handler's own time = wall - this)."""
        return self._moto_time()


def by_operation(calls: Iterable[Call]) -> Counter[str]:
    return Counter(c.key for c in calls)


# ---------------------------------------------------------------- DynamoDB units


def _number_bytes(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0").rstrip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_bytes(value: Mapping[str, Any]) -> int:
    """DynamoDB's size of one attribute value (its documented sizing rules, approximately)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        return _number_bytes(str(data))
    if kind == "B":
        return len(data) if isinstance(data, bytes | bytearray) else len(str(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in data)
    if kind == "NS":
        return sum(_number_bytes(str(n)) for n in data)
    if kind == "BS":
        return sum(len(b) for b in data)
    if kind == "L":
        return 3 + sum(1 + value_bytes(v) for v in data)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + value_bytes(v) for k, v in data.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_bytes(item: Mapping[str, Any]) -> int:
    """DynamoDB's size of an item: attribute names plus values."""
    return sum(len(name.encode()) + value_bytes(v) for name, v in item.items())


def dynamo_units(call: Call, largest_item: int) -> tuple[float, float]:
    """(read units, write units) one DynamoDB call consumed, on-demand.

    Writes are priced on `largest_item`, the largest item seen in the table during the run
    (a write costs per KB of the larger of the old and the new item): every item here is
    under 1 KB, so a write is 1 WRU, 2 per item of a transaction. A failed conditional write
    consumes its units too. A ConditionCheck inside a transaction is counted as a
    transactional write (2 WRU), the conservative reading.
    """
    if call.service != "dynamodb":
        return 0.0, 0.0
    op, params, resp = call.operation, call.params, call.response or {}
    consistent = bool(params.get("ConsistentRead", False))
    if op == "GetItem":
        size = item_bytes(resp["Item"]) if resp.get("Item") else 0
        return prices.read_units(size, consistent=consistent), 0.0
    if op in ("Query", "Scan"):
        if "Items" in resp:
            size = sum(item_bytes(i) for i in resp["Items"])
        else:  # Select COUNT: every item counted was read
            size = int(resp.get("ScannedCount", resp.get("Count", 0))) * largest_item
        return prices.read_units(size, consistent=consistent), 0.0
    if op in ("PutItem", "UpdateItem", "DeleteItem"):
        return 0.0, float(prices.write_units(largest_item))
    if op == "TransactWriteItems":
        n = len(params.get("TransactItems", []))
        return 0.0, float(n * prices.write_units(largest_item, transactional=True))
    if op == "TransactGetItems":
        n = len(params.get("TransactItems", []))
        return n * prices.read_units(largest_item, transactional=True), 0.0
    if op == "BatchWriteItem":
        n = sum(len(v) for v in params.get("RequestItems", {}).values())
        return 0.0, float(n * prices.write_units(largest_item))
    if op == "BatchGetItem":
        n = sum(len(v.get("Keys", [])) for v in params.get("RequestItems", {}).values())
        return n * prices.read_units(largest_item, consistent=consistent), 0.0
    return 0.0, 0.0


# ---------------------------------------------------------------- what the functions log


class ByteCounter(io.TextIOBase):
    """A stream that keeps only the count of the UTF-8 bytes and lines written to it."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        self.lines += text.count("\n")
        return len(text)


# What Lambda's runtime writes to the log group around every invocation (shape of real lines).
_RID = "8f5e3c4a-6c1b-4c8e-9a1e-2b3c4d5e6f70"
PLATFORM_LINES = (
    f"START RequestId: {_RID} Version: $LATEST\n",
    f"END RequestId: {_RID}\n",
    f"REPORT RequestId: {_RID}\tDuration: 23.45 ms\tBilled Duration: 24 ms\t"
    "Memory Size: 256 MB\tMax Memory Used: 92 MB\t\n",
)
PLATFORM_LOG_BYTES = sum(len(line.encode()) for line in PLATFORM_LINES)


# ---------------------------------------------------------------- invocations


@dataclass
class Invocation:
    """One Lambda invocation the bench made, and what it cost in calls, time and logs."""

    function: str
    route: str
    wall_s: float
    moto_s: float
    calls: list[Call]
    log_bytes: int
    emf_metrics: list[str] = field(default_factory=list)
    inbound_bytes: int | None = None  # the client frame that caused it, if one did

    @property
    def kind(self) -> str:
        return f"{self.function} {self.route}".strip()

    @property
    def own_s(self) -> float:
        """The handler's own time: wall time minus the time moto spent serving its calls."""
        return max(0.0, self.wall_s - self.moto_s)


def _emf_metric_names(text: str) -> list[str]:
    names: list[str] = []
    for line in text.splitlines():
        if '"_aws"' not in line:
            continue
        try:
            blob = json.loads(line)
        except ValueError:
            continue
        for directive in blob.get("_aws", {}).get("CloudWatchMetrics", []):
            names.extend(m["Name"] for m in directive.get("Metrics", []))
    return names


class _Tee(io.TextIOBase):
    """Counts bytes and keeps the EMF lines (to name the custom metrics published)."""

    def __init__(self, counter: ByteCounter) -> None:
        self.counter = counter
        self.text: list[str] = []

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.counter.write(text)
        if '"_aws"' in text:
            self.text.append(text)
        return len(text)


# ---------------------------------------------------------------- the in-process stack


class InProcessStack:
    """template.yaml's resources and functions on in-process moto, driven like API Gateway."""

    def __init__(
        self,
        *,
        parameters: Mapping[str, str] | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.parameters = dict(parameters or {})
        self.extra_env = dict(extra_env or {})
        self.aws = AwsCalls()
        self.invocations: list[Invocation] = []
        self.handshakes: dict[str, Any] = {}
        self.frames_seen: dict[str, int] = {}
        self.modelled_sqs_requests = 0  # the SQS event source's ReceiveMessage + delete calls
        self.largest_seen = 0  # the largest item seen in the table, in bytes
        self._exit = ExitStack()

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> InProcessStack:
        import boto3
        from moto import mock_aws

        from local.aws_resources import (
            DUMMY_CREDENTIALS,
            create_resources,
            function_environment,
            load_template,
            parameter_values,
        )
        from local.functions import load_functions, patched_environ, shared_environment
        from local.gateway import Routes
        from local.poller import sqs_sources
        from local.ws_events import Api

        try:
            self._exit.enter_context(patched_environ(DUMMY_AWS, remove=("AWS_*", "POWERTOOLS_*")))
            self._exit.enter_context(mock_aws())
            template = load_template(TEMPLATE)
            self.template = template
            session = boto3.session.Session(region_name=REGION, **DUMMY_CREDENTIALS)
            self.resources = create_resources(
                TEMPLATE, session, None, region=REGION, parameters=self.parameters
            )
            self.functions = load_functions(template, ROOT, region=REGION)
            environments = {
                function_id: function_environment(
                    TEMPLATE,
                    self.resources,
                    WEBSOCKET_ENDPOINT,
                    function_id,
                    parameters=self.parameters,
                )
                for function_id in self.functions
            }
            self.environment = {**shared_environment(environments), **self.extra_env}
            self._exit.enter_context(patched_environ(self.environment))
            self.reset_caches()
            self.routes = Routes.from_template(
                template, parameter_values(template, self.parameters)
            )
            self.api = Api(
                api_id=API_ID, stage=self.routes.stage, region=REGION, account="123456789012"
            )
            self.sources = sqs_sources(template, self.resources)
            self.sqs = session.client("sqs")
            self.dynamodb = session.client("dynamodb")
            self._exit.enter_context(self.aws)
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._exit.close()

    @staticmethod
    def reset_caches() -> None:
        """A cold start: settings and services are read again on the next invocation."""
        from kindred.aws.wiring import reset_services
        from kindred.config import settings

        settings.cache_clear()
        reset_services()

    @property
    def table_name(self) -> str:
        return self.environment["TABLE_NAME"]

    # -- invoking ------------------------------------------------------------------------

    def invoke(self, function: str, route: str, event: dict[str, Any]) -> Any:
        """Run one function on one event as Lambda would, recording what it cost."""
        mark = self.aws.mark()
        moto_before = self.aws.moto_seconds()
        counter = ByteCounter()
        tee = _Tee(counter)
        from kindred.observability import logger

        handler = logger.registered_handler
        previous = handler.setStream(tee)  # type: ignore[attr-defined]
        started = time.perf_counter()
        error: BaseException | None = None
        result: Any = None
        try:
            with redirect_stdout(tee):
                result = self.functions[function].invoke(event)
        except BaseException as exc:
            error = exc
        finally:
            wall = time.perf_counter() - started
            handler.setStream(previous)  # type: ignore[attr-defined]
        self.invocations.append(
            Invocation(
                function=function,
                route=route,
                wall_s=wall,
                moto_s=self.aws.moto_seconds() - moto_before,
                calls=self.aws.since(mark),
                log_bytes=counter.bytes,
                emf_metrics=_emf_metric_names("".join(tee.text)),
            )
        )
        if error is not None:
            raise error
        return result

    def open(self, *, token: str | None = None, query: str = "") -> str:
        """A WebSocket handshake: the authorizer, then $connect. Returns the connection id."""
        from local.gateway import context_values, policy_effect
        from local.ws_events import Handshake, authorizer_event, connect_event, new_id

        parts = [p for p in (query, f"token={token}" if token else "") if p]
        handshake = Handshake(
            connection_id=new_id(),
            domain_name=f"{API_ID}.execute-api.{REGION}.amazonaws.com",
            # Each handshake from an address of its own, as seekers are: the connection budget
            # counts (and costs) one write per handshake, and never refuses the bench.
            source_ip=f"198.18.{len(self.handshakes) // 256 % 256}.{len(self.handshakes) % 256}",
            headers=[("Host", f"{API_ID}.execute-api.{REGION}.amazonaws.com"), ("Origin", ORIGIN)],
            query="&".join(parts),
        )
        if self.routes.authorizer:
            event = authorizer_event(self.api, handshake)
            policy = self.invoke(self.routes.authorizer, "$connect authorizer", event)
            effect = policy_effect(policy, event["methodArn"])
            if effect != "Allow":
                raise RuntimeError(f"the authorizer refused the handshake ({effect})")
            handshake.authorizer = {
                **(context_values(policy) or {}),
                "principalId": policy["principalId"],
                "integrationLatency": 5,
            }
        connect = self.routes.routes.get("$connect")
        if connect:
            result = self.invoke(connect, "$connect", connect_event(self.api, handshake))
            if not (isinstance(result, dict) and 200 <= int(result.get("statusCode", 0)) < 300):
                raise RuntimeError(f"$connect refused the connection: {result!r}")
        self.handshakes[handshake.connection_id] = handshake
        return handshake.connection_id

    def send(self, connection_id: str, frame: Mapping[str, Any] | str) -> str:
        """A client frame: route selection, then the route's function. Returns the body sent."""
        from local.ws_events import message_event

        body = frame if isinstance(frame, str) else json.dumps(frame)
        route = self.routes.select(body)
        if route is None:
            raise RuntimeError("no route and no $default")
        event = message_event(self.api, self.handshakes[connection_id], route, body)
        try:
            self.invoke(self.routes.routes[route], route, event)
        finally:
            self.invocations[-1].inbound_bytes = len(body.encode())
        return body

    def close(self, connection_id: str, status: int = 1001) -> None:
        from local.ws_events import disconnect_event

        handshake = self.handshakes.pop(connection_id)
        route = self.routes.routes.get("$disconnect")
        if route:
            self.invoke(route, "$disconnect", disconnect_event(self.api, handshake, status, "bye"))

    def release_delayed_work(self) -> int:
        """Make delayed SQS messages visible now (a bench cannot wait out DelaySeconds):
        each would wake the matcher on its own, later. Returns how many there were."""
        from moto.sqs.models import sqs_backends

        released = 0
        backend = sqs_backends["123456789012"][REGION]
        for source in self.sources:
            queue = backend.queues[source.queue_url.rsplit("/", 1)[-1]]
            for message in list(queue._messages):
                if message.delayed:
                    message.delayed_until = 0.0
                    released += 1
        return released

    def run_event_sources(self, *, separate_delayed: bool = True) -> int:
        """What Lambda's SQS pollers do: deliver every waiting message, in batches. Returns
        the number of invocations. The bench's own SQS calls are not counted; the poller's
        billed requests are modelled as one ReceiveMessage and one DeleteMessageBatch per
        batch (the empty receives of idle polling are part of the idle cost)."""
        invocations = 0
        while True:
            delivered = self._deliver_once()
            invocations += delivered
            if delivered:
                continue
            if separate_delayed and self.release_delayed_work():
                continue
            return invocations

    def _deliver_once(self) -> int:
        from local.poller import sqs_record

        invocations = 0
        for source in self.sources:
            while True:
                with self.aws.paused():
                    messages = self.sqs.receive_message(
                        QueueUrl=source.queue_url,
                        MaxNumberOfMessages=min(10, source.batch_size),
                        AttributeNames=["All"],
                    ).get("Messages", [])
                if not messages:
                    break
                records = [sqs_record(m, source.queue_arn, REGION) for m in messages]
                result = self.invoke(source.function, "SQS batch", {"Records": records})
                failed = {
                    f.get("itemIdentifier")
                    for f in (result or {}).get("batchItemFailures", [])
                    if isinstance(f, dict)
                }
                with self.aws.paused():
                    for m in messages:
                        if m["MessageId"] not in failed:
                            self.sqs.delete_message(
                                QueueUrl=source.queue_url, ReceiptHandle=m["ReceiptHandle"]
                            )
                self.modelled_sqs_requests += 2
                invocations += 1
        return invocations

    # -- what clients received -----------------------------------------------------------

    def all_frames(self, connection_id: str) -> list[dict[str, Any]]:
        from tests.world import posted_frames

        return posted_frames(connection_id, REGION)

    def frames(self, connection_id: str) -> list[dict[str, Any]]:
        """The frames this connection received since the last call."""
        every = self.all_frames(connection_id)
        new = every[self.frames_seen.get(connection_id, 0) :]
        self.frames_seen[connection_id] = len(every)
        return new

    def forget_frames(self, connection_id: str) -> None:
        """Drop what moto kept for a closed connection (a long run would keep it all)."""
        from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

        backend = apigatewaymanagementapi_backends["123456789012"][REGION]
        for key in dict.fromkeys((connection_id, quote(connection_id, safe=""))):
            backend.connections.pop(key, None)
        self.frames_seen.pop(connection_id, None)

    def snapshot(self) -> dict[tuple[str, str], tuple[int, int | None]]:
        """Every item of the table now: (pk, sk) -> (size in bytes, expiresAt or None)."""
        items: dict[tuple[str, str], tuple[int, int | None]] = {}
        with self.aws.paused():
            paginator = self.dynamodb.get_paginator("scan")
            for page in paginator.paginate(TableName=self.table_name):
                for item in page.get("Items", []):
                    expires = item.get("expiresAt", {}).get("N")
                    items[(item["pk"]["S"], item["sk"]["S"])] = (
                        item_bytes(item),
                        int(expires) if expires else None,
                    )
        return items

    def largest_item(self) -> tuple[int, int]:
        """(largest item in bytes, item count) of the table right now."""
        items = self.snapshot()
        return max((size for size, _ in items.values()), default=0), len(items)


@contextmanager
def item_level_transaction_backups() -> Iterator[None]:
    """Make moto's TransactWriteItems O(items) instead of O(table): moto deep-copies the whole
    table for every item of a transaction, to roll back if it fails; this backs up only the
    items the transaction names (all a rollback can need). For setting up thousands of chats
    quickly; what is measured never runs under it. Conflicts still cancel the transaction and
    leave every item as it was."""
    import copy
    import types

    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    backend = models.DynamoDBBackend
    original = backend.transact_write_items
    real_copy = models.copy

    def no_table_copy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def transact(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Any, Any, Any, Any]] = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            source = op.get("Key") or op.get("Item") or {}
            if table is None or table.hash_key_attr not in source:
                continue
            hash_key = DynamoType(source[table.hash_key_attr])
            range_key = DynamoType(source[table.range_key_attr]) if table.range_key_attr else None
            saved.append(
                (table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key)))
            )
        models.copy = types.SimpleNamespace(deepcopy=no_table_copy)  # type: ignore[assignment]
        try:
            original(self, transact_items)
        except BaseException:
            for table, hash_key, range_key, item in reversed(saved):
                if item is None and range_key:
                    table.items.get(hash_key, {}).pop(range_key, None)
                elif item is None:
                    table.items.pop(hash_key, None)
                elif range_key:
                    table.items[hash_key][range_key] = item
                else:
                    table.items[hash_key] = item
            raise
        finally:
            models.copy = real_copy

    with patch.object(backend, "transact_write_items", transact):
        yield


# ---------------------------------------------------------------- volunteers' ID tokens


class TokenIssuer:
    """Plays the Cognito user pool for the authorizer: an RSA key whose JWKS is served over
    HTTP on loopback (as moto's is to the local stack), and ID tokens signed with it."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from jwt.algorithms import RSAAlgorithm

        from local.http_server import BackgroundHTTPServer, QuietHandler

        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        body = json.dumps({"keys": [{**jwk, "kid": "bench-key", "alg": "RS256", "use": "sig"}]})

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                self.answer(200, body.encode(), "application/json")

        self._server = BackgroundHTTPServer(("127.0.0.1", 0), Handler, name="bench-jwks").start()
        self.url = f"{self._server.origin}/pool/.well-known/jwks.json"

    def token(self, *, issuer: str, audience: str, user: str, name: str, group: str) -> str:
        import uuid

        import jwt

        now = int(time.time())
        claims = {
            "sub": str(uuid.uuid5(uuid.NAMESPACE_DNS, user)),
            "aud": audience,
            "iss": issuer,
            "token_use": "id",
            "auth_time": now,
            "iat": now,
            "exp": now + 3600,
            "jti": str(uuid.uuid4()),
            "cognito:username": user,
            "cognito:groups": [group],
            "email": user,
            "name": name,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": "bench-key"})

    def pool_token(self, env: Mapping[str, str], *, user: str, name: str, group: str) -> str:
        """An ID token as the user pool of the stack whose environment is `env` issues it."""
        return self.token(
            issuer=f"https://cognito-idp.{env['AWS_REGION']}.amazonaws.com/{env['COGNITO_USER_POOL_ID']}",
            audience=env["COGNITO_CLIENT_ID"],
            user=user,
            name=name,
            group=group,
        )

    def close(self) -> None:
        self._server.stop()

    def __enter__(self) -> TokenIssuer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_volunteer(stack: InProcessStack, issuer: TokenIssuer, n: int, capacity: int) -> str:
    """Volunteer n (volunteer<n>@example.org) connects and comes on shift with `capacity`
    slots; their connection id."""
    token = issuer.pool_token(
        stack.environment,
        user=f"volunteer{n}@example.org",
        name=f"Volunteer {n}",
        group="volunteers",
    )
    cid = stack.open(token=token)
    stack.send(cid, {"action": "availability", "available": True, "capacity": capacity})
    return cid


# ---------------------------------------------------------------- figures and output


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), nearest-rank on the sorted values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Iterable[float]) -> float:
    data = list(values)
    return statistics.median(data) if data else float("nan")


def bullets(items: Iterable[object]) -> str:
    """A Markdown list, "- item" a line: the notes and failures under a bench's table."""
    return "\n".join(f"- {item}" for item in items)


def markdown_table(header: list[str], rows: Iterable[Iterable[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def git_revision() -> str:
    import subprocess

    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "-C",
                str(ROOT),
                "status",
                "--porcelain",
                "--",
                "layers",
                "functions",
                "template.yaml",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + (" + uncommitted changes in layers/functions/template" if dirty else "")


def machine() -> dict[str, Any]:
    """The CPUs and how busy they were (the benches share this machine with other work)."""
    import os

    one, five, fifteen = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "load_average_1_5_15_min": [round(one, 2), round(five, 2), round(fifteen, 2)],
    }


def write_results(name: str, figures: Mapping[str, Any], markdown: str) -> Path:
    """bench/results/<name>.json (the figures) and <name>.md (the table for the README)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamped = {
        "bench": name,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "code": git_revision(),
        "python": sys.version.split()[0],
        "machine": machine(),
        **figures,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(stamped, indent=2, sort_keys=False, default=str) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown.rstrip() + "\n")
    return path
