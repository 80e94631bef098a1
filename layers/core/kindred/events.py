"""API Gateway WebSocket events, parsed with Powertools' models into what a handler needs."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketConnectEventRequestContext,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from pydantic import ConfigDict, Field

from kindred.requests import ConnectRequest, DisconnectRequest, MessageRequest


class _ConnectContext(APIGatewayWebSocketConnectEventRequestContext):
    model_config = ConfigDict(defer_build=True)  # built on the first $connect, not at import

    authorizer: dict[str, Any] = Field(default_factory=dict)


class _ConnectEvent(APIGatewayWebSocketConnectEventModel):
    model_config = ConfigDict(defer_build=True)

    request_context: _ConnectContext = Field(alias="requestContext")
    query_string_parameters: dict[str, str] | None = Field(None, alias="queryStringParameters")


def connect_request(event: dict[str, Any]) -> ConnectRequest:
    """The $connect event: connection id, the authorizer's verdict and the query string."""
    model = parse(event=event, model=_ConnectEvent)
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
    model = parse(event=event, model=APIGatewayWebSocketDisconnectEventModel)
    ctx = model.request_context
    return DisconnectRequest(
        connection_id=ctx.connection_id,
        status_code=ctx.disconnect_status_code,
        reason=ctx.disconnect_reason,
    )


def message_request(event: dict[str, Any]) -> MessageRequest:
    model = parse(event=event, model=APIGatewayWebSocketMessageEventModel)
    body = model.body if isinstance(model.body, str) else None
    return MessageRequest(
        connection_id=model.request_context.connection_id,
        route_key=model.request_context.route_key,
        body=body,
    )
