"""Shared fixtures: moto as the local AWS, the settings every handler reads, and the World."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from kindred.aws.wiring import services
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
    services.cache_clear()
    yield
    settings.cache_clear()
    services.cache_clear()


def create_stack(endpoint_url: str | None = None) -> dict[str, str]:
    """Create what template.yaml declares on the local AWS; returns the functions' env vars."""
    from local.aws_resources import create_resources, function_environment

    session = boto3.session.Session(region_name=REGION)
    resources = create_resources(ROOT / "template.yaml", session, endpoint_url)
    return function_environment(ROOT / "template.yaml", resources, WEBSOCKET_ENDPOINT)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto in-process, with the stack's resources created and the env vars set."""
    with mock_aws():
        env = create_stack()
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings.cache_clear()
        services.cache_clear()
        yield env


@pytest.fixture
def world(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    from tests.world import World

    sqs = boto3.client("sqs", region_name=REGION)
    world = World(sqs, aws["MATCH_QUEUE_URL"])
    world.keep_sqs_on_this_clock(monkeypatch)  # delayed work items come due on World's clock
    return world
