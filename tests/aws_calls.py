"""Counts the AWS calls the code under test makes, by service and operation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient


@contextmanager
def _wrapped(owner: type, method: str, wrapper: Callable[..., Any]) -> Iterator[None]:
    """Inside the block, a call of owner.method(self, *args) is wrapper(original, self, *args);
    the original method is back after the block."""
    original = getattr(owner, method)

    def patched(*args: Any) -> Any:
        return wrapper(original, *args)

    setattr(owner, method, patched)
    try:
        yield
    finally:
        setattr(owner, method, original)


@contextmanager
def _before_each_api_call(hook: Callable[[str, str, dict[str, Any]], None]) -> Iterator[None]:
    """Inside the block, hook(service, operation, params) runs before every botocore API call;
    if it raises, the call is not made and the caller gets what it raised."""

    def hooked(
        original: Any, client: BaseClient, operation_name: str, api_params: dict[str, Any]
    ) -> Any:
        hook(client.meta.service_model.service_name, operation_name, api_params)
        return original(client, operation_name, api_params)

    with _wrapped(BaseClient, "_make_api_call", hooked):
        yield


@contextmanager
def count_aws_calls() -> Iterator[Counter[tuple[str, str]]]:
    """Every botocore API call inside the block, as (service, operation) -> count."""
    calls: Counter[tuple[str, str]] = Counter()

    def count(service: str, operation: str, params: dict[str, Any]) -> None:
        calls[(service, operation)] += 1

    with _before_each_api_call(count):
        yield calls


@contextmanager
def record_aws_calls() -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    """Every botocore API call inside the block with its parameters, in order."""
    calls: list[tuple[str, str, dict[str, Any]]] = []

    def record(service: str, operation: str, params: dict[str, Any]) -> None:
        calls.append((service, operation, dict(params)))

    with _before_each_api_call(record):
        yield calls


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

    def refuse_gone(service: str, operation: str, params: dict[str, Any]) -> None:
        if service == "apigatewaymanagementapi" and params.get("ConnectionId") in gone:
            raise client_error("GoneException", 410, operation)

    with _before_each_api_call(refuse_gone):
        yield gone


def _is_call_of(operation_model: Any, service: str, operation: str) -> bool:
    return bool(
        operation_model.service_model.service_name == service and operation_model.name == operation
    )


@contextmanager
def throttled(
    service: str,
    operation: str,
    times: int,
    code: str,
    status: int = 400,
    *,
    reasons: tuple[str, ...] = (),
    url_has: str = "",
) -> Iterator[list[str]]:
    """The next `times` calls of `operation` get a throttling error response, as AWS sends one
    (with `reasons`, a cancelled transaction's CancellationReasons, one code per item; with
    `url_has`, only the calls whose URL has it, such as a connection's posts).

    The fault is injected below botocore's retry handler, so the code under test sees what it
    would see in AWS: its client retries (standard mode) and only an error that outlasts the
    retries reaches it. moto cannot throttle. Yields the list of injected faults.
    """
    from botocore.awsrequest import AWSResponse
    from botocore.endpoint import Endpoint

    injected: list[str] = []

    def faulty(
        original: Any, endpoint: Endpoint, request: Any, operation_model: Any, context: Any
    ) -> Any:
        chosen = _is_call_of(operation_model, service, operation) and url_has in request.url
        if chosen and len(injected) < times:
            injected.append(operation)
            raw = AWSResponse(request.url, status, {}, None)
            raw._content = b"{}"  # the body is already parsed below
            parsed = {
                "Error": {"Code": code, "Message": "Rate exceeded"},
                "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
            }
            if reasons:
                parsed["CancellationReasons"] = [{"Code": r} for r in reasons]
            return (raw, parsed), None
        return original(endpoint, request, operation_model, context)

    with _wrapped(Endpoint, "_do_get_response", faulty):
        yield injected


@contextmanager
def answer_lost(service: str, operation: str, times: int = 1) -> Iterator[list[str]]:
    """The next `times` calls of `operation` reach AWS and take effect, but their answer is lost
    (a read timeout), so the SDK retries a call that had already succeeded."""
    from botocore.endpoint import Endpoint
    from botocore.exceptions import ReadTimeoutError

    lost: list[str] = []

    def losing(
        original: Any, endpoint: Endpoint, request: Any, operation_model: Any, context: Any
    ) -> Any:
        response = original(endpoint, request, operation_model, context)
        if _is_call_of(operation_model, service, operation) and len(lost) < times:
            lost.append(operation)
            return None, ReadTimeoutError(endpoint_url=request.url)
        return response

    with _wrapped(Endpoint, "_do_get_response", losing):
        yield lost
