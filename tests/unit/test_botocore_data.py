"""The botocore data kindred's clients load (kindred/aws/botocore_data): current, complete, and
making the same requests as botocore's full data."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import botocore
import botocore.exceptions
import botocore.session
import pytest
from botocore import xform_name
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.model import Shape

from kindred.aws.clients import BOTOCORE_DATA, create_client, shipped_session, trimmed_from
from tools import trim_botocore_models

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = ROOT / "layers" / "core" / "kindred" / "aws"
SERVICES = tuple(trim_botocore_models.OPERATIONS)
KEYS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "secret"}
# Regions of every partition a stack could be deployed to.
REGIONS = (
    "us-east-1",
    "eu-west-1",
    "ap-southeast-2",
    "sa-east-1",
    "us-gov-west-1",
    "cn-north-1",
    "eu-isoe-west-1",
    "us-iso-east-1",
)
# Differ between any two requests (time, retries, signature): not compared.
VOLATILE = ("X-Amz-Date", "Authorization", "amz-sdk-invocation-id", "amz-sdk-request")


def _pinned_botocore() -> str:
    lock = (ROOT / "requirements" / "dev.lock").read_text(encoding="utf-8")
    found = re.search(r"^botocore==(\S+)$", lock, re.MULTILINE)
    assert found, "requirements/dev.lock pins no botocore"
    return found.group(1)


def _client(session: Any, service: str, region: str = "us-east-1") -> Any:
    endpoint = None
    if service == "apigatewaymanagementapi":
        endpoint = f"https://abc123.execute-api.{region}.amazonaws.com/prod"
    return session.create_client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        config=Config(retries={"mode": "standard", "max_attempts": 4}),
        **KEYS,
    )


def _full_session() -> Any:
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    loader.search_paths[:] = [loader.BUILTIN_DATA_PATH]
    return session


def _sample(shape: Shape, depth: int = 0) -> Any:
    """A value of `shape` that fills every member it can (a union: its first member)."""
    kind = shape.type_name
    if kind == "structure":
        names = list(shape.members)
        if shape.metadata.get("union"):
            names = names[:1]
        elif depth > 4:
            names = [n for n in names if n in shape.required_members]
        return {n: _sample(shape.members[n], depth + 1) for n in names}
    if kind == "list":
        return [_sample(shape.member, depth + 1)]
    if kind == "map":
        return {"k": _sample(shape.value, depth + 1)}
    if kind == "string":
        if shape.enum:
            return shape.enum[0]
        return "x" * max(1, int(shape.metadata.get("min", 1)))
    if kind in ("integer", "long"):
        return max(1, int(shape.metadata.get("min", 1)))
    if kind in ("float", "double"):
        return 1.5
    if kind == "boolean":
        return True
    if kind == "blob":
        return b"x" * max(1, int(shape.metadata.get("min", 1)))
    if kind == "timestamp":
        return datetime.datetime(2026, 12, 7, 3, 0, tzinfo=datetime.UTC)
    raise AssertionError(f"no sample for {kind}")


def _sent(client: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """What `client` sends for `operation(**params)` (not sent: answered with `{}`), and what
    it makes of that answer."""
    seen: dict[str, Any] = {}

    def capture(request: Any, **_: Any) -> AWSResponse:
        headers = {k: v for k, v in request.headers.items() if k not in VOLATILE}
        scope = re.search(r"Credential=[^/]+/\d+/([^,]+),", str(request.headers["Authorization"]))
        seen.update(
            method=request.method,
            url=request.url,
            headers=headers,
            body=request.body,
            scope=scope.group(1) if scope else None,
        )
        return AWSResponse(request.url, 200, {}, _Raw(b"{}"))

    client.meta.events.register_first("before-send", capture)
    parsed = getattr(client, xform_name(operation))(**params)
    parsed.pop("ResponseMetadata", None)
    return {**seen, "parsed": parsed}


class _Raw:
    """The raw body of a canned answer."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def test_the_shipped_data_is_what_the_tool_writes_from_the_pinned_botocore(
    tmp_path: Path,
) -> None:
    """
    Given the botocore pinned in requirements/dev.lock (the one installed)
    When tools/trim_botocore_models.py writes its data afresh
    Then it is, file for file and byte for byte, kindred/aws/botocore_data: an upgrade of
    botocore cannot leave the shipped models behind
    """
    assert botocore.__version__ == _pinned_botocore() == trimmed_from()
    trim_botocore_models.write(tmp_path)
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    shipped = {
        p.relative_to(BOTOCORE_DATA): p.read_bytes()
        for p in BOTOCORE_DATA.rglob("*")
        if p.is_file()
    }

    assert sorted(map(str, shipped)) == sorted(map(str, fresh))
    for path, content in fresh.items():
        assert shipped[path] == content, (
            f"{path} is stale: run python -m tools.trim_botocore_models"
        )


def test_every_operation_the_adapters_name_is_in_the_shipped_models() -> None:
    """
    Given every operation of the full models of the services kindred calls
    When kindred/aws's source names one (client.put_item(...), client.post_to_connection as
    an argument, or "admin_create_user" for getattr)
    Then the shipped model of its service has it
    """
    source = "\n".join(p.read_text(encoding="utf-8") for p in ADAPTERS.glob("*.py"))
    full, shipped = _full_session(), shipped_session()
    named: dict[str, set[str]] = {}
    for service in SERVICES:
        model = full.get_service_model(service)
        named[service] = {
            op for op in model.operation_names if re.search(rf"[.\"']{xform_name(op)}\b", source)
        }
        kept = set(shipped.get_service_model(service).operation_names)
        assert named[service] <= kept, service

    # The check finds what it must (the table's writes, the notifier's posts, Cognito's admin).
    assert {"PutItem", "TransactWriteItems", "BatchGetItem"} <= named["dynamodb"]
    assert {"PostToConnection", "DeleteConnection"} <= named["apigatewaymanagementapi"]
    assert {"AdminCreateUser", "ListUsers"} <= named["cognito-idp"]
    assert named["sqs"] == {"SendMessage"}
    assert named["ssm"] == {"GetParameter", "PutParameter", "DeleteParameter"}


def test_the_shipped_loader_reads_nothing_from_botocore_data() -> None:
    """
    Given a session from kindred.aws.clients.shipped_session (AWS_DATA_PATH unset)
    When it builds a client of each service kindred calls
    Then its loader searched only ~/.aws/models and kindred's data, never botocore/data, and
    the endpoints count as botocore's own (so the rule sets resolve as with the full file)
    """
    session = shipped_session()
    for service in SERVICES:
        _client(session, service)
    loader = session.get_component("data_loader")
    builtin = Path(botocore.__file__).parent / "data"

    assert str(builtin) not in loader.search_paths
    assert loader.search_paths[-1] == str(BOTOCORE_DATA)
    assert session._get_internal_component("endpoint_resolver").uses_builtin_data


@pytest.mark.parametrize("service", SERVICES)
def test_each_request_is_sent_as_with_the_full_model(service: str) -> None:
    """
    Given a client of `service` from the shipped data and one from botocore's full data
    When each calls every operation of the shipped model with every parameter filled
    Then both send the same method, URL, headers, body and signing scope, and read the same
    answer; and they know the same errors (client.exceptions)
    """
    full_session, shipped = _full_session(), shipped_session()
    full, trimmed = _client(full_session, service), _client(shipped, service)
    operations = trimmed.meta.service_model.operation_names

    assert operations
    for operation in operations:
        params = _sample(full.meta.service_model.operation_model(operation).input_shape)
        assert _sent(trimmed, operation, params) == _sent(full, operation, params), operation
    assert sorted(trimmed.exceptions._code_to_exception) == sorted(
        full.exceptions._code_to_exception
    )


@pytest.mark.parametrize("region", REGIONS)
def test_every_region_resolves_as_with_the_full_data(region: str) -> None:
    """
    Given clients of each service in `region` from the shipped and from the full data
    When each makes its first operation's request
    Then both go to the same endpoint, signed for the same region and service
    """
    full_session, shipped = _full_session(), shipped_session()
    for service in SERVICES:
        full, trimmed = _client(full_session, service, region), _client(shipped, service, region)
        operation = trimmed.meta.service_model.operation_names[0]
        params = _sample(full.meta.service_model.operation_model(operation).input_shape)

        assert trimmed.meta.endpoint_url == full.meta.endpoint_url, (service, region)
        sent, expected = _sent(trimmed, operation, params), _sent(full, operation, params)
        assert (sent["url"], sent["scope"]) == (expected["url"], expected["scope"])


def test_an_older_botocore_reads_its_own_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Given a botocore older than the one the shipped data comes from (a Lambda runtime's may be)
    When kindred asks for its session
    Then the session reads botocore's own data, which that botocore surely reads
    """
    major, minor, _patch = (int(n) for n in trimmed_from().split(".")[:3])
    monkeypatch.setattr(botocore, "__version__", f"{major}.{minor - 1}.99")
    loader = shipped_session().get_component("data_loader")

    assert (
        loader.search_paths[-1]
        == loader.BUILTIN_DATA_PATH
        == str(Path(botocore.__file__).parent / "data")
    )


def test_a_client_the_shipped_data_cannot_build_is_built_on_botocores_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """
    Given a session on the shipped data that fails to build a client (a botocore that cannot
    read it)
    When kindred builds its SSM client
    Then it gets one on botocore's own data (its full model), and any other failure is raised
    """
    session = shipped_session()

    def unreadable(*_args: Any, **_kwargs: Any) -> Any:
        raise botocore.exceptions.DataNotFoundError(data_path="ssm")

    monkeypatch.setattr(session, "create_client", unreadable)
    built = create_client(session, "ssm", region_name="us-east-1", **KEYS)

    assert "DescribeParameters" in built.meta.service_model.operation_names  # the full model
    plain = botocore.session.get_session()
    monkeypatch.setattr(plain, "create_client", unreadable)
    with pytest.raises(botocore.exceptions.DataNotFoundError):
        create_client(plain, "ssm", region_name="us-east-1", **KEYS)
