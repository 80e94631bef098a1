"""A local WebSocket gateway that behaves like API Gateway's: authorizer, routes, limits, closes."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import logging
import socket
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.protocol import State

from local.aws_resources import Template
from local.functions import FunctionError, LocalFunction, logical_id_of, report
from local.ws_events import (
    Api,
    Handshake,
    authorizer_event,
    connect_event,
    disconnect_event,
    message_event,
    new_id,
    now_ms,
)

log = logging.getLogger("local.gateway")

WEBSOCKET_API_TYPE = "AWS::Serverless::WebSocketApi"
INTEGRATION_TIMEOUT_SECONDS = 29  # API Gateway's limit for $connect (authorizer included)


class GoneError(LookupError):
    """No open connection has this id (never was, or closed): @connections answers 410."""


class PayloadTooLargeError(ValueError):
    """A PostToConnection body over the message limit: @connections answers 413."""


@dataclass(frozen=True)
class GatewayLimits:
    """API Gateway's WebSocket quotas; tests shorten them."""

    frame_bytes: int = 32 * 1024
    message_bytes: int = 128 * 1024
    idle_seconds: float = 10 * 60
    max_seconds: float = 2 * 60 * 60


class StageThrottle:
    """The stage's throttle (DefaultRouteSettings ThrottlingRateLimit and ThrottlingBurstLimit),
    as API Gateway applies it: a token bucket of `burst` tokens, full at first, refilled at
    `rate` a second; each $connect and each message takes one, and without one the request is
    refused (429 Too Many Requests) before any function runs. Used on the event loop only."""

    def __init__(self, rate: float, burst: int, clock: Any = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens, self._at = float(burst), clock()
        self.refused = 0

    def admit(self) -> bool:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            self.refused += 1
            return False
        self._tokens -= 1
        return True


@dataclass(frozen=True)
class Routes:
    """The WebSocket API of the template: its routes, authorizer, route selection and throttle."""

    routes: Mapping[str, str]  # route key -> function logical id
    selection_expression: str = "$request.body.action"
    authorizer: str | None = None  # function logical id of the $connect authorizer
    identity_sources: tuple[str, ...] = ()
    stage: str = "live"
    api_logical_id: str = ""
    throttle: tuple[float, int] | None = None  # (rate a second, burst); None: no stage throttle

    @classmethod
    def from_template(cls, template: Template, parameters: Mapping[str, Any]) -> Routes:
        apis = {
            logical_id: resource
            for logical_id, resource in template["Resources"].items()
            if resource.get("Type") == WEBSOCKET_API_TYPE
        }
        if len(apis) != 1:
            raise ValueError(
                f"the local gateway serves exactly one {WEBSOCKET_API_TYPE}; "
                f"the template has {len(apis)}"
            )
        ((api_id, api),) = apis.items()
        props = api.get("Properties") or {}
        routes: dict[str, str] = {}
        for key, route in (props.get("Routes") or {}).items():
            function = logical_id_of((route or {}).get("FunctionArn"))
            if function is None:
                raise ValueError(
                    f"{api_id} route {key}: FunctionArn must be !GetAtt <Function>.Arn"
                )
            routes[str(key)] = function
        auth = props.get("Auth") or {}
        authorizer = logical_id_of(auth.get("AuthArn")) if auth.get("AuthType") else None
        sources: Any = auth.get("IdentitySource") or []
        stage = props.get("StageName", "live")
        if isinstance(stage, dict):  # !Ref StageName
            stage = parameters.get(str(stage.get("Ref")), "live")
        settings = props.get("DefaultRouteSettings") or {}

        def setting(name: str) -> Any:
            value = settings.get(name)
            return parameters.get(str(value.get("Ref"))) if isinstance(value, dict) else value

        rate, burst = setting("ThrottlingRateLimit"), setting("ThrottlingBurstLimit")
        return cls(
            routes=routes,
            selection_expression=str(props.get("RouteSelectionExpression", "$request.body.action")),
            authorizer=authorizer,
            identity_sources=tuple(
                str(s) for s in (sources if isinstance(sources, list) else [sources])
            ),
            stage=str(stage),
            api_logical_id=api_id,
            throttle=(float(rate), int(burst)) if rate is not None and burst is not None else None,
        )

    def select(self, body: str) -> str | None:
        """The route a frame takes: the selection expression's value if it names a route,
        else $default; None if there is no $default either."""
        prefix = "$request.body."
        chosen: Any = None
        if self.selection_expression.startswith(prefix):
            try:
                chosen = json.loads(body)
            except ValueError:
                chosen = None
            for part in self.selection_expression[len(prefix) :].split("."):
                chosen = chosen.get(part) if isinstance(chosen, dict) else None
        if isinstance(chosen, str) and chosen in self.routes and not chosen.startswith("$"):
            return chosen
        return "$default" if "$default" in self.routes else None


def policy_effect(policy: Any, method_arn: str) -> str | None:
    """ "Allow" or "Deny" for method_arn per the authorizer's policy; None if malformed."""
    if not isinstance(policy, Mapping) or not isinstance(policy.get("principalId"), str):
        return None
    document = policy.get("policyDocument")
    statements = document.get("Statement") if isinstance(document, Mapping) else None
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        return None
    allowed = False
    for statement in statements:
        if not isinstance(statement, Mapping):
            return None
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase(method_arn, str(r)) for r in resources):
            continue
        if statement.get("Effect") == "Deny":
            return "Deny"
        allowed = allowed or statement.get("Effect") == "Allow"
    return "Allow" if allowed else "Deny"


def context_values(policy: Mapping[str, Any]) -> dict[str, Any] | None:
    context = policy.get("context") or {}
    if not isinstance(context, Mapping):
        return None
    # API Gateway accepts only strings, numbers and booleans as context values.
    if not all(isinstance(v, str | int | float | bool) for v in context.values()):
        return None
    return dict(context)


@dataclass
class _Connection:
    handshake: Handshake
    ws: ServerConnection
    limits: GatewayLimits  # those in force when it was accepted
    last_active_ms: int = field(default_factory=now_ms)
    closing: tuple[int, str] | None = None  # set when the gateway closes it
    # Set once the 101 is sent: from $connect's success on, the connection exists for
    # @connections, which waits for this rather than answer 410 to a client that has its 101.
    opened: asyncio.Event = field(default_factory=asyncio.Event)


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds")


class WebSocketGateway:
    """Serves one WebSocket API on a socket; thread-safe post/get/delete for @connections."""

    def __init__(
        self,
        api: Api,
        routes: Routes,
        functions: Mapping[str, LocalFunction],
        executor: Executor,
        limits: GatewayLimits | None = None,
    ) -> None:
        missing = {f for f in [*routes.routes.values(), routes.authorizer] if f} - set(functions)
        if missing:
            raise ValueError(f"routes name functions the template lacks: {sorted(missing)}")
        self.api = api
        self.routes = routes
        self.limits = limits or GatewayLimits()
        self._functions = functions
        self._executor = executor
        self._connections: dict[str, _Connection] = {}
        self._accepted: dict[ServerConnection, _Connection] = {}  # until their socket is served
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._stopping = False
        self._server: Server | None = None
        self.throttle = StageThrottle(*routes.throttle) if routes.throttle else None

    # ------------------------------------------------------------ lifecycle

    def start(self, sock: socket.socket) -> None:
        """Serve on `sock` (already bound) from a thread of its own; returns once listening."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(self._main(sock, ready))
            except BaseException as exc:  # reported to start() if it happens before ready
                failure.append(exc)
                ready.set()

        self._thread = threading.Thread(target=run, name="ws-gateway", daemon=True)
        self._thread.start()
        started = ready.wait(timeout=10)
        if failure:
            raise failure[0]
        if not started:
            raise RuntimeError("the WebSocket gateway did not start within 10 s")

    async def _main(self, sock: socket.socket, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(
            self._serve,
            sock=sock,
            process_request=self._process_request,
            compression=None,  # no permessage-deflate: the limits count what is on the wire
            max_size=(self.limits.message_bytes, self.limits.frame_bytes),
            ping_interval=None,  # staying active is the client's job (the `ping` action)
            open_timeout=INTEGRATION_TIMEOUT_SECONDS + 1,
            close_timeout=2,
            server_header=None,
        ) as server:
            self._server = server
            ready.set()
            await self._stop.wait()
            self._stopping = True
            server.close()  # closes every connection with 1001
            try:
                async with asyncio.timeout(3):
                    await server.wait_closed()
            except TimeoutError:
                log.warning("some WebSocket connections did not close in time")

    def stop(self, timeout: float = 5) -> None:
        """Close every connection (1001) and stop serving; no $disconnect runs then."""
        self._stopping = True
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def set_limits(self, **changes: Any) -> GatewayLimits:
        """Change the idle and maximum times of connections opened from now on (tests).

        Frame and message sizes are fixed once serving. Returns the previous limits.
        """
        previous = self.limits
        self.limits = replace(previous, **changes)
        return previous

    # ------------------------------------------------------------ the opening handshake

    async def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        path, _, query = request.path.partition("?")
        if path.rstrip("/") != f"/{self.api.stage}":
            return ws.respond(HTTPStatus.FORBIDDEN, "Forbidden\n")
        if self.throttle is not None and not self.throttle.admit():
            return ws.respond(HTTPStatus.TOO_MANY_REQUESTS, "Too Many Requests\n")
        remote = ws.remote_address
        handshake = Handshake(
            connection_id=new_id(),
            domain_name=request.headers.get("Host", ""),
            source_ip=str(remote[0]) if remote else "127.0.0.1",
            headers=list(request.headers.raw_items()),
            query=query,
        )
        if self.routes.authorizer is not None:
            refusal = await self._authorize(ws, handshake)
            if refusal is not None:
                return refusal
        connect = self.routes.routes.get("$connect")
        if connect is not None:
            try:
                result = await self._invoke(connect, connect_event(self.api, handshake))
            except FunctionError as error:
                report(error)
                return ws.respond(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error\n")
            status = result.get("statusCode", 200) if isinstance(result, Mapping) else 200
            if not isinstance(status, int) or not 200 <= status < 300:
                log.info("%s answered %s: handshake refused", connect, status)
                code = status if isinstance(status, int) and 400 <= status < 600 else 502
                try:
                    phrase = HTTPStatus(code).phrase
                except ValueError:
                    phrase = "Refused"
                return ws.respond(code, f"{phrase}\n")
        conn = _Connection(handshake, ws, self.limits)
        self._accepted[ws] = conn
        self._connections[handshake.connection_id] = conn
        self._track(self._forget_if_never_served(conn))
        return None

    async def _forget_if_never_served(self, conn: _Connection) -> None:
        """An accepted handshake that never became a socket (the client left before its 101,
        or the gateway was stopping) must not stay a connection."""
        await conn.ws.wait_closed()
        if not conn.opened.is_set():
            self._accepted.pop(conn.ws, None)
            self._connections.pop(conn.handshake.connection_id, None)

    def _track(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _identity_present(self, handshake: Handshake) -> bool:
        query = dict(parse_qsl(handshake.query, keep_blank_values=True))
        for source in self.routes.identity_sources:
            kind, _, name = source.removeprefix("route.request.").partition(".")
            if kind == "header":
                if not any(k.lower() == name.lower() and v for k, v in handshake.headers):
                    return False
            elif kind == "querystring" and not query.get(name):
                return False
        return True

    async def _authorize(self, ws: ServerConnection, handshake: Handshake) -> Response | None:
        assert self.routes.authorizer is not None
        if not self._identity_present(handshake):
            # API Gateway answers 401 without calling the authorizer.
            return ws.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        event = authorizer_event(self.api, handshake)
        started = time.monotonic()
        try:
            policy = await self._invoke(self.routes.authorizer, event)
        except FunctionError as error:
            if str(error.error) == "Unauthorized":
                return ws.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
            report(error)
            return ws.respond(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error\n")
        effect = policy_effect(policy, event["methodArn"])
        context = context_values(policy) if effect else None
        if effect is None or context is None:
            log.error("%s returned no valid policy: handshake refused", self.routes.authorizer)
            return ws.respond(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error\n")
        if effect == "Deny":
            return ws.respond(HTTPStatus.FORBIDDEN, "Forbidden\n")
        handshake.authorizer = {
            **context,
            "principalId": policy["principalId"],
            "integrationLatency": int((time.monotonic() - started) * 1000),
        }
        return None

    async def _invoke(self, function: str, event: dict[str, Any]) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._functions[function].invoke, event)

    # ------------------------------------------------------------ an open connection

    async def _serve(self, ws: ServerConnection) -> None:
        conn = self._accepted.pop(ws, None)
        if conn is None:
            return
        handshake, limits = conn.handshake, conn.limits
        conn.opened.set()
        loop = asyncio.get_running_loop()
        hard_deadline = loop.time() + limits.max_seconds
        idle_deadline = loop.time() + limits.idle_seconds
        try:
            while True:
                try:
                    async with asyncio.timeout_at(min(idle_deadline, hard_deadline)):
                        data = await ws.recv()
                except TimeoutError:
                    conn.closing = (CloseCode.GOING_AWAY, "Going away")
                    await ws.close(*conn.closing)
                    break
                except ConnectionClosed:
                    break
                if isinstance(data, bytes):
                    # API Gateway does not take binary frames: it closes with 1003.
                    conn.closing = (CloseCode.UNSUPPORTED_DATA, "Binary frames are not supported")
                    await ws.close(*conn.closing)
                    break
                idle_deadline = loop.time() + limits.idle_seconds
                conn.last_active_ms = now_ms()
                # A throttled frame runs no route: the client hears of it in the gateway's words.
                throttled = self.throttle is not None and not self.throttle.admit()
                try:
                    if throttled:
                        cid = handshake.connection_id
                        self._executor.submit(self._answer_error, cid, "Too Many Requests")
                    else:
                        self._executor.submit(self._route, conn, data)
                except RuntimeError:  # the executor shut down: the stack is stopping
                    break
        finally:
            self._connections.pop(handshake.connection_id, None)
            if not self._stopping:
                code, reason = self._close_status(conn)
                event = disconnect_event(self.api, handshake, code, reason)
                disconnect = self.routes.routes.get("$disconnect")
                if disconnect is not None:
                    try:
                        await self._invoke(disconnect, event)
                    except FunctionError as error:
                        report(error)
                    except RuntimeError:  # the executor shut down: the stack is stopping
                        pass

    @staticmethod
    def _close_status(conn: _Connection) -> tuple[int, str]:
        """disconnectStatusCode and disconnectReason, as API Gateway reports them."""
        if conn.closing is not None:
            return int(conn.closing[0]), conn.closing[1]
        protocol = conn.ws.protocol
        received, sent = protocol.close_rcvd, protocol.close_sent
        if received is not None and protocol.close_rcvd_then_sent is not False:
            code = int(received.code)
            try:
                name = CloseCode(code).name
            except ValueError:
                name = "UNKNOWN"
            return code, f"Client-side close frame status code '{code}' ({name})"
        if sent is not None:  # the gateway failed the connection (1009 too big, 1007 ...)
            return int(sent.code), sent.reason or CloseCode(sent.code).name
        return int(CloseCode.ABNORMAL_CLOSURE), "Connection closed abnormally"

    def _route(self, conn: _Connection, body: str) -> None:
        """On a worker thread: run the frame's route (frames of one connection run concurrently)."""
        handshake = conn.handshake
        route = self.routes.select(body)
        if route is None:
            self._answer_error(handshake.connection_id, "Forbidden")
            return
        try:
            self._functions[self.routes.routes[route]].invoke(
                message_event(self.api, handshake, route, body)
            )
        except FunctionError as error:
            report(error)
            self._answer_error(handshake.connection_id, "Internal server error")

    def _answer_error(self, connection_id: str, message: str) -> None:
        """What API Gateway sends the client when a route fails, is missing or is throttled."""
        frame = {"message": message, "connectionId": connection_id, "requestId": new_id()}
        with contextlib.suppress(GoneError):
            self.post(connection_id, json.dumps(frame).encode())

    # ------------------------------------------------------------ @connections (any thread)

    def _call(self, coroutine: Any, timeout: float = 30) -> Any:
        loop = self._loop
        if loop is None or loop.is_closed() or self._stopping:
            coroutine.close()
            raise GoneError("the gateway is not running")
        if self._thread is threading.current_thread():
            coroutine.close()
            raise RuntimeError("call the @connections API from another thread than the gateway's")
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)

    def post(self, connection_id: str, data: bytes) -> None:
        """PostToConnection: send `data` as one message (text if UTF-8, else binary)."""
        if len(data) > self.limits.message_bytes:
            raise PayloadTooLargeError(f"{len(data)} bytes is over {self.limits.message_bytes}")
        self._call(self._send(connection_id, data))

    def get(self, connection_id: str) -> dict[str, Any]:
        """GetConnection: connectedAt, identity and lastActiveAt."""
        return dict(self._call(self._describe(connection_id)))

    async def _describe(self, connection_id: str) -> dict[str, Any]:
        conn = await self._open(connection_id)
        handshake = conn.handshake
        identity = {"sourceIp": handshake.source_ip}
        if handshake.user_agent is not None:
            identity["userAgent"] = handshake.user_agent
        return {
            "connectedAt": _iso(handshake.connected_at),
            "identity": identity,
            "lastActiveAt": _iso(conn.last_active_ms),
        }

    def delete(self, connection_id: str) -> None:
        """DeleteConnection: close it (1000); $disconnect follows as for any close."""
        self._call(self._close(connection_id))

    def connection_ids(self) -> list[str]:
        return [
            cid
            for cid, conn in list(self._connections.items())
            if conn.closing is None and conn.opened.is_set()
        ]

    async def _open(self, connection_id: str) -> _Connection:
        conn = self._connections.get(connection_id)
        if conn is not None and not conn.opened.is_set():
            try:  # accepted, its 101 on the way
                async with asyncio.timeout(5):
                    await conn.opened.wait()
            except TimeoutError:  # the handshake failed after all
                self._connections.pop(connection_id, None)
                raise GoneError(connection_id) from None
        if conn is None or conn.closing is not None or conn.ws.state is not State.OPEN:
            raise GoneError(connection_id)
        return conn

    async def _send(self, connection_id: str, data: bytes) -> None:
        conn = await self._open(connection_id)
        payload: str | bytes
        try:
            payload = data.decode("utf-8")
        except UnicodeDecodeError:
            payload = data
        try:
            if len(data) <= self.limits.frame_bytes:
                await conn.ws.send(payload)
            else:
                # Frames are at most 32 KB: a longer message goes out in fragments.
                step = self.limits.frame_bytes // (4 if isinstance(payload, str) else 1)
                await conn.ws.send([payload[i : i + step] for i in range(0, len(payload), step)])
        except ConnectionClosed:
            raise GoneError(connection_id) from None

    async def _close(self, connection_id: str) -> None:
        conn = await self._open(connection_id)
        conn.closing = (CloseCode.NORMAL_CLOSURE, "Connection Closed Normally")
        # Answer at once, as API Gateway does; the closing handshake goes on meanwhile.
        self._track(conn.ws.close(CloseCode.NORMAL_CLOSURE))
