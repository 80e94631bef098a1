"""kindred.events' event models are Powertools' WebSocket models field for field (issue 14 copied
them, so that a cold start does not import all of Powertools' models), plus Kindred's own."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from pydantic import BaseModel, ValidationError

from kindred import events

# What Kindred adds to Powertools' models: the authorizer's verdict and the query string.
ADDED = {"authorizer", "query_string_parameters"}


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    """Each field's alias, type (nested models by their own fields), default and requiredness."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in ADDED:
            continue
        kind = info.annotation
        shape = _fields(kind) if isinstance(kind, type) and issubclass(kind, BaseModel) else kind
        out[name] = (info.alias, repr(shape), info.is_required(), repr(info.default))
    return out


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (events._ConnectEvent, APIGatewayWebSocketConnectEventModel),
        (events._DisconnectEvent, APIGatewayWebSocketDisconnectEventModel),
        (events._MessageEvent, APIGatewayWebSocketMessageEventModel),
    ],
    ids=["connect", "disconnect", "message"],
)
def test_each_event_model_has_powertools_fields(
    ours: type[BaseModel], theirs: type[BaseModel]
) -> None:
    assert _fields(ours) == _fields(theirs)


def _context(route: str, event_type: str) -> dict[str, Any]:
    return {
        "routeKey": route,
        "eventType": event_type,
        "extendedRequestId": "x",
        "requestTime": "07/Dec/2026:03:00:00 +0000",
        "messageDirection": "IN",
        "stage": "prod",
        "connectedAt": 1796612400000,
        "requestTimeEpoch": 1796612400000,
        "identity": {"sourceIp": "203.0.113.7", "userAgent": "test"},
        "requestId": "r-1",
        "domainName": "example.com",
        "connectionId": "c-1",
        "apiId": "api",
    }


def test_a_message_event_reads_alike() -> None:
    event = {
        "requestContext": {**_context("message", "MESSAGE"), "messageId": "m-1"},
        "body": '{"action": "ping"}',
        "isBase64Encoded": False,
    }
    theirs = parse(event=event, model=APIGatewayWebSocketMessageEventModel)
    assert events._MessageEvent.model_validate(event).model_dump() == theirs.model_dump()
    assert events.message_request(event) == events.MessageRequest("c-1", "message", theirs.body)


def test_a_disconnect_event_reads_alike_and_a_bad_one_is_refused_alike() -> None:
    event = {
        "headers": {},
        "multiValueHeaders": {},
        "requestContext": {
            **_context("$disconnect", "DISCONNECT"),
            "disconnectStatusCode": 1001,
            "disconnectReason": "going away",
        },
        "isBase64Encoded": False,
    }
    theirs = parse(event=event, model=APIGatewayWebSocketDisconnectEventModel)
    assert events._DisconnectEvent.model_validate(event).model_dump() == theirs.model_dump()
    event["requestContext"]["identity"]["sourceIp"] = "not an address"
    with pytest.raises(ValidationError) as expected:
        parse(event=event, model=APIGatewayWebSocketDisconnectEventModel)
    with pytest.raises(ValidationError) as refused:
        events.disconnect_request(event)
    assert [e["loc"] for e in refused.value.errors()] == [e["loc"] for e in expected.value.errors()]


def test_a_connect_event_gives_the_request_it_gave() -> None:
    event = {
        "headers": {"Origin": "https://example.com"},
        "multiValueHeaders": {"Origin": ["https://example.com"]},
        "queryStringParameters": {"resume": "t"},
        "requestContext": {
            **_context("$connect", "CONNECT"),
            "authorizer": {"role": "seeker", "userId": "", "alias": "Blue", "practice": "1"},
        },
        "isBase64Encoded": False,
    }
    theirs = parse(event=event, model=APIGatewayWebSocketConnectEventModel)
    assert events.connect_request(event) == events.ConnectRequest(
        connection_id=theirs.request_context.connection_id,
        role="seeker",
        user_id="",
        alias="Blue",
        query={"resume": "t"},
        source_ip="203.0.113.7",
        practice=True,
    )
