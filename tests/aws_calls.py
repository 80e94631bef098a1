"""Counts the AWS calls the code under test makes, by service and operation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient


@contextmanager
def count_aws_calls() -> Iterator[Counter[tuple[str, str]]]:
    """Every botocore API call inside the block, as (service, operation) -> count."""
    calls: Counter[tuple[str, str]] = Counter()
    original = BaseClient._make_api_call

    def counting(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        calls[(self.meta.service_model.service_name, operation_name)] += 1
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


@contextmanager
def record_aws_calls() -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    """Every botocore API call inside the block with its parameters, in order."""
    calls: list[tuple[str, str, dict[str, Any]]] = []
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        calls.append((self.meta.service_model.service_name, operation_name, dict(api_params)))
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = recording  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def client_error(code: str, status: int, operation: str) -> Any:
    from botocore.exceptions import ClientError

    return ClientError(
        {
            "Error": {"Code": code, "Message": code},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


@contextmanager
def gone_connections(*connection_ids: str) -> Iterator[set[str]]:
    """PostToConnection to these connections fails with 410 GoneException, as API Gateway's does
    for a socket that has closed (moto's @connections API never answers 410)."""
    gone = set(connection_ids)
    original = BaseClient._make_api_call

    def faulty(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        if (
            self.meta.service_model.service_name == "apigatewaymanagementapi"
            and api_params.get("ConnectionId") in gone
        ):
            raise client_error("GoneException", 410, operation_name)
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = faulty  # type: ignore[method-assign]
    try:
        yield gone
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


@contextmanager
def throttled(
    service: str, operation: str, times: int, code: str, status: int = 400
) -> Iterator[list[str]]:
    """The next `times` calls of `operation` get a throttling error response, as AWS sends one.

    The fault is injected below botocore's retry handler, so the code under test sees what it
    would see in AWS: its client retries (standard mode) and only an error that outlasts the
    retries reaches it. moto cannot throttle. Yields the list of injected faults.
    """
    from botocore.awsrequest import AWSResponse
    from botocore.endpoint import Endpoint

    injected: list[str] = []
    original = Endpoint._do_get_response

    def faulty(self: Endpoint, request: Any, operation_model: Any, context: Any) -> Any:
        if (
            operation_model.service_model.service_name == service
            and operation_model.name == operation
            and len(injected) < times
        ):
            injected.append(operation)
            raw = AWSResponse(request.url, status, {}, None)
            raw._content = b"{}"  # the body is already parsed below
            parsed = {
                "Error": {"Code": code, "Message": "Rate exceeded"},
                "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
            }
            return (raw, parsed), None
        return original(self, request, operation_model, context)

    Endpoint._do_get_response = faulty  # type: ignore[method-assign]
    try:
        yield injected
    finally:
        Endpoint._do_get_response = original  # type: ignore[method-assign]


@contextmanager
def answer_lost(service: str, operation: str, times: int = 1) -> Iterator[list[str]]:
    """The next `times` calls of `operation` reach AWS and take effect, but their answer is lost
    (a read timeout), so the SDK retries a call that had already succeeded."""
    from botocore.endpoint import Endpoint
    from botocore.exceptions import ReadTimeoutError

    lost: list[str] = []
    original = Endpoint._do_get_response

    def losing(self: Endpoint, request: Any, operation_model: Any, context: Any) -> Any:
        response = original(self, request, operation_model, context)
        if (
            operation_model.service_model.service_name == service
            and operation_model.name == operation
            and len(lost) < times
        ):
            lost.append(operation)
            return None, ReadTimeoutError(endpoint_url=request.url)
        return response

    Endpoint._do_get_response = losing  # type: ignore[method-assign]
    try:
        yield lost
    finally:
        Endpoint._do_get_response = original  # type: ignore[method-assign]
