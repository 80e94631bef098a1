"""Shared fixtures: moto as the local AWS, the settings every handler reads, and the World."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from moto import mock_aws

from kindred.aws.wiring import reset_services
from kindred.config import settings

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
WEBSOCKET_ENDPOINT = "https://abc123.execute-api.us-east-1.amazonaws.com/live"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reaches a real AWS account, and every test reads fresh settings."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name.startswith("POWERTOOLS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Kindred")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "kindred")
    settings.cache_clear()
    reset_services()
    yield
    settings.cache_clear()
    reset_services()


def create_stack(endpoint_url: str | None = None) -> dict[str, str]:
    """Create what template.yaml declares on the local AWS; returns the functions' env vars."""
    return create_stack_and_roles(endpoint_url)[0]


def create_stack_and_roles(endpoint_url: str | None = None) -> tuple[dict[str, str], Any]:
    """The stack's resources and each function's role (local.iam.LocalIam), not yet enforced."""
    from local.aws_resources import create_resources, function_environment
    from local.iam import LocalIam

    session = boto3.session.Session(region_name=REGION)
    resources = create_resources(ROOT / "template.yaml", session, endpoint_url)
    env = function_environment(ROOT / "template.yaml", resources, WEBSOCKET_ENDPOINT)
    iam = LocalIam.from_template(
        ROOT / "template.yaml",
        resources,
        api_id=urlsplit(WEBSOCKET_ENDPOINT).hostname.split(".")[0],  # type: ignore[union-attr]
        region=REGION,
        endpoint_url=endpoint_url,
    ).create(session)
    return env, iam


@pytest.fixture
def aws_iam(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[dict[str, str], Any]]:
    """moto in-process, with the stack's resources and roles created, the env vars set and
    IAM enforced: the tests' own clients are an administrator, each function its role."""
    with mock_aws():
        env, iam = create_stack_and_roles()
        for name, value in {**env, **iam.admin_environment()}.items():
            monkeypatch.setenv(name, value)
        settings.cache_clear()
        reset_services()
        with iam.enforced():
            yield env, iam


@pytest.fixture
def aws(aws_iam: tuple[dict[str, str], Any]) -> dict[str, str]:
    """The functions' env vars on moto with IAM enforced (see aws_iam)."""
    return aws_iam[0]


@pytest.fixture
def world(aws_iam: tuple[dict[str, str], Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    from tests.world import World

    env, iam = aws_iam
    world = World(iam, env["MATCH_QUEUE_URL"])
    world.keep_sqs_on_this_clock(monkeypatch)  # delayed work items come due on World's clock
    return world
