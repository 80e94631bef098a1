"""API Gateway's WebSocket events (authorizer, $connect, message, $disconnect), shaped as AWS's."""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ID_ALPHABET = string.ascii_letters + string.digits


def new_id() -> str:
    """An id shaped like API Gateway's connection, request and message ids ("Yx1AbcC2joECFhQ=")."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(15)) + "="


def now_ms() -> int:
    return int(time.time() * 1000)


def request_time(epoch_ms: int) -> str:
    """API Gateway's requestTime, "26/Nov/2026:01:00:00 +0000" (locale-independent)."""
    t = time.gmtime(epoch_ms / 1000)
    return (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{time.strftime('%H:%M:%S', t)} +0000"
    )


@dataclass(frozen=True)
class Api:
    """The WebSocket API the events come from."""

    api_id: str
    stage: str
    region: str
    account: str

    def method_arn(self, route_key: str) -> str:
        return (
            f"arn:aws:execute-api:{self.region}:{self.account}:{self.api_id}/"
            f"{self.stage}/{route_key}"
        )


@dataclass
class Handshake:
    """What a client sent to open the socket, and the connection it became."""

    connection_id: str
    domain_name: str  # the Host the client connected to
    source_ip: str
    headers: list[tuple[str, str]]  # as received, in order, names as the client wrote them
    query: str  # the raw query string, without "?"
    connected_at: int = field(default_factory=now_ms)
    authorizer: dict[str, Any] | None = None  # set once the authorizer allowed it

    @property
    def user_agent(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "user-agent"), None)


def _identity(handshake: Handshake) -> dict[str, Any]:
    identity: dict[str, Any] = {"sourceIp": handshake.source_ip}
    if handshake.user_agent is not None:
        identity["userAgent"] = handshake.user_agent
    return identity


def _request_context(
    api: Api,
    handshake: Handshake,
    *,
    route_key: str,
    event_type: str,
    epoch_ms: int,
    with_authorizer: bool = True,
) -> dict[str, Any]:
    request_id = new_id()
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": request_time(epoch_ms),
        "messageDirection": "IN",
        "stage": api.stage,
        "connectedAt": handshake.connected_at,
        "requestTimeEpoch": epoch_ms,
        "identity": _identity(handshake),
        "requestId": request_id,
        "domainName": handshake.domain_name,
        "connectionId": handshake.connection_id,
        "apiId": api.api_id,
    }
    if with_authorizer and handshake.authorizer is not None:
        context["authorizer"] = dict(handshake.authorizer)
    return context


def _headers(handshake: Handshake) -> tuple[dict[str, str], dict[str, list[str]]]:
    """headers (the last value of each name) and multiValueHeaders (all of them)."""
    forwarded = [
        ("X-Forwarded-For", handshake.source_ip),
        ("X-Forwarded-Proto", "http"),  # the local gateway is plain ws://, not wss://
    ]
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in [*handshake.headers, *forwarded]:
        key = next((k for k in single if k.lower() == name.lower()), name)
        single[key] = value
        multi.setdefault(key, []).append(value)
    return single, multi


def _query(handshake: Handshake) -> dict[str, Any]:
    """queryStringParameters (last value) and multiValueQueryStringParameters; none if empty."""
    pairs = parse_qsl(handshake.query, keep_blank_values=True)
    if not pairs:
        return {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return {
        "queryStringParameters": {name: values[-1] for name, values in multi.items()},
        "multiValueQueryStringParameters": multi,
    }


def authorizer_event(api: Api, handshake: Handshake) -> dict[str, Any]:
    """The REQUEST authorizer's input for $connect."""
    headers, multi = _headers(handshake)
    return {
        "type": "REQUEST",
        "methodArn": api.method_arn("$connect"),
        "headers": headers,
        "multiValueHeaders": multi,
        **_query(handshake),
        "stageVariables": {},
        "requestContext": _request_context(
            api,
            handshake,
            route_key="$connect",
            event_type="CONNECT",
            epoch_ms=now_ms(),
            with_authorizer=False,
        ),
    }


def connect_event(api: Api, handshake: Handshake) -> dict[str, Any]:
    """The $connect route's event: the handshake, and the authorizer's context if any."""
    headers, multi = _headers(handshake)
    return {
        "headers": headers,
        "multiValueHeaders": multi,
        **_query(handshake),
        "requestContext": _request_context(
            api, handshake, route_key="$connect", event_type="CONNECT", epoch_ms=now_ms()
        ),
        "isBase64Encoded": False,
    }


def message_event(api: Api, handshake: Handshake, route_key: str, body: str) -> dict[str, Any]:
    """A client frame's event, for the route it selected."""
    context = _request_context(
        api, handshake, route_key=route_key, event_type="MESSAGE", epoch_ms=now_ms()
    )
    context["messageId"] = new_id()
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def disconnect_event(
    api: Api, handshake: Handshake, status_code: int, reason: str
) -> dict[str, Any]:
    """The $disconnect route's event, with the close code and reason."""
    headers = {
        "Host": handshake.domain_name,
        "x-api-key": "",
        "x-restapi": "",
    }
    context = _request_context(
        api, handshake, route_key="$disconnect", event_type="DISCONNECT", epoch_ms=now_ms()
    )
    context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    return {
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }
