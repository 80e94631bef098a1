"""API Gateway WebSocket events, validated as Powertools' models do, into what a handler needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.networks import IPvAnyNetwork

# Powertools' API Gateway WebSocket event models (aws_lambda_powertools.utilities.parser.models
# .apigw_websocket), field for field (tests/unit/test_events.py compares them). Powertools'
# build their validators when the module is imported, all of them; these build each on its
# first event, so a function builds only the one of the three it is sent (issue 14). Validated
# as Powertools' `parse` validates (the model's validator; a bad event raises ValidationError).
_LATER = ConfigDict(defer_build=True)


class _Identity(BaseModel):
    model_config = _LATER

    source_ip: IPvAnyNetwork = Field(alias="sourceIp")
    user_agent: str | None = Field(None, alias="userAgent")


class _RequestContext(BaseModel):
    model_config = _LATER

    extended_request_id: str = Field(alias="extendedRequestId")
    request_time: str = Field(alias="requestTime")
    stage: str = Field(alias="stage")
    connected_at: datetime = Field(alias="connectedAt")
    request_time_epoch: datetime = Field(alias="requestTimeEpoch")
    identity: _Identity = Field(alias="identity")
    request_id: str = Field(alias="requestId")
    domain_name: str = Field(alias="domainName")
    connection_id: str = Field(alias="connectionId")
    api_id: str = Field(alias="apiId")


class _MessageContext(_RequestContext):
    route_key: str = Field(alias="routeKey")
    message_id: str = Field(alias="messageId")
    event_type: Literal["MESSAGE"] = Field(alias="eventType")
    message_direction: Literal["IN", "OUT"] = Field(alias="messageDirection")


class _ConnectContext(_RequestContext):
    route_key: Literal["$connect"] = Field(alias="routeKey")
    event_type: Literal["CONNECT"] = Field(alias="eventType")
    message_direction: Literal["IN"] = Field(alias="messageDirection")
    authorizer: dict[str, Any] = Field(default_factory=dict)  # Kindred's: the authorizer's verdict


class _DisconnectContext(_RequestContext):
    route_key: Literal["$disconnect"] = Field(alias="routeKey")
    disconnect_status_code: int = Field(alias="disconnectStatusCode")
    event_type: Literal["DISCONNECT"] = Field(alias="eventType")
    message_direction: Literal["IN"] = Field(alias="messageDirection")
    disconnect_reason: str = Field(alias="disconnectReason")


class _ConnectEvent(BaseModel):
    model_config = _LATER

    headers: dict[str, str] = Field(alias="headers")
    multi_value_headers: dict[str, list[str]] = Field(alias="multiValueHeaders")
    request_context: _ConnectContext = Field(alias="requestContext")
    is_base64_encoded: bool = Field(alias="isBase64Encoded")
    query_string_parameters: dict[str, str] | None = Field(None, alias="queryStringParameters")


class _DisconnectEvent(BaseModel):
    model_config = _LATER

    headers: dict[str, str] = Field(alias="headers")
    multi_value_headers: dict[str, list[str]] = Field(alias="multiValueHeaders")
    request_context: _DisconnectContext = Field(alias="requestContext")
    is_base64_encoded: bool = Field(alias="isBase64Encoded")


class _MessageEvent(BaseModel):
    model_config = _LATER

    request_context: _MessageContext = Field(alias="requestContext")
    is_base64_encoded: bool = Field(alias="isBase64Encoded")
    body: str | type[BaseModel] | None = Field(None, alias="body")


@dataclass(frozen=True)
class ConnectRequest:
    connection_id: str
    role: str
    user_id: str
    alias: str
    query: dict[str, str] = field(default_factory=dict)
    token_expires_at: int | None = None  # staff: the ID token's `exp`, from the authorizer
    source_ip: str = ""  # for the connection budget only (kindred.admission): never stored
    practice: bool = False  # a supervisor playing a seeker (kindred.practice), per the authorizer
    coordinator: bool = False  # issue 13: the authorizer found the `coordinators` group


@dataclass(frozen=True)
class DisconnectRequest:
    connection_id: str
    status_code: int
    reason: str


@dataclass(frozen=True)
class MessageRequest:
    connection_id: str
    route_key: str
    body: str | None


def connect_request(event: dict[str, Any]) -> ConnectRequest:
    """The $connect event: connection id, the authorizer's verdict and the query string."""
    model = _ConnectEvent.model_validate(event)
    auth = model.request_context.authorizer
    return ConnectRequest(
        connection_id=model.request_context.connection_id,
        role=str(auth.get("role", "")),
        user_id=str(auth.get("userId", "")),
        alias=str(auth.get("alias", "")),
        query=dict(model.query_string_parameters or {}),
        token_expires_at=_epoch_seconds(auth.get("expiresAt")),
        source_ip=str(model.request_context.identity.source_ip.network_address),
        practice=str(auth.get("practice", "")) == "1",
        coordinator=str(auth.get("coordinator", "")) == "true",
    )


def _epoch_seconds(value: Any) -> int | None:
    """The authorizer's `expiresAt` (a string of epoch seconds); None if absent or not one."""
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def disconnect_request(event: dict[str, Any]) -> DisconnectRequest:
    model = _DisconnectEvent.model_validate(event)
    ctx = model.request_context
    return DisconnectRequest(
        connection_id=ctx.connection_id,
        status_code=ctx.disconnect_status_code,
        reason=ctx.disconnect_reason,
    )


def message_request(event: dict[str, Any]) -> MessageRequest:
    model = _MessageEvent.model_validate(event)
    body = model.body if isinstance(model.body, str) else None
    return MessageRequest(
        connection_id=model.request_context.connection_id,
        route_key=model.request_context.route_key,
        body=body,
    )
