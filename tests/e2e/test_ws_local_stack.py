"""The local stack around the gateway: config.json, the web server, the SQS poller, the env."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.poller import failed_ids
from local.static import StaticServer
from tests.e2e.conftest import E2EStack

ROOT = Path(__file__).resolve().parents[2]
WAIT = 20


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


# ---------------------------------------------------------------- config.json


def test_config_json_names_the_local_websocket_and_cognito(local_stack: E2EStack) -> None:
    """
    Given the running stack
    When a page fetches config.json next to it
    Then it names the local WebSocket URL, the site's topics and languages, and the local
    Cognito pool, client and endpoint, which sign the demo volunteer in
    """
    config = local_stack.config
    site = json.loads((ROOT / "web" / "site.json").read_text())
    status, headers, _ = get(local_stack.web_url + "config.json")

    assert status == 200 and headers["Content-Type"] == "application/json"
    assert config["websocketUrl"] == local_stack.ws_url
    assert config["websocketUrl"].startswith("ws://127.0.0.1:")
    assert config["topics"] == site["topics"] and config["languages"] == site["languages"]
    assert config["cognito"]["region"] == "us-east-1"
    assert config["cognito"]["userPoolId"].startswith("us-east-1_")
    assert config["cognito"]["clientId"]
    assert config["cognito"]["endpoint"] == local_stack.stack.aws_endpoint
    assert local_stack.id_token("supervisor@example.org").count(".") == 2


def test_the_handlers_run_with_the_stacks_environment(local_stack: E2EStack) -> None:
    """
    Given the root conftest strips AWS_* variables before every test elsewhere
    When an e2e test runs
    Then os.environ is the stack's: the functions' variables, moto as every AWS endpoint,
    the local administrator's credentials (each function's calls carry its role's), and the
    pool's keys fetched from moto
    """
    environment = local_stack.stack.environment

    assert {name: os.environ.get(name) for name in environment} == environment
    assert os.environ["AWS_ENDPOINT_URL"] == local_stack.stack.aws_endpoint
    assert local_stack.stack.iam is not None
    assert os.environ["AWS_ACCESS_KEY_ID"] == local_stack.stack.iam.admin["aws_access_key_id"]
    assert os.environ["WEBSOCKET_ENDPOINT"] == local_stack.stack.connections_endpoint
    assert os.environ["COGNITO_JWKS_URL"].startswith(local_stack.stack.aws_endpoint + "/")
    assert local_stack.origin in os.environ["ALLOWED_ORIGINS"].split(",")


def test_the_local_stack_runs_with_optional_mfa_and_no_per_source_budget(
    local_stack: E2EStack,
) -> None:
    """
    Given `make run`'s stack (the template's defaults are MFA ON and 30 connections per source
    a minute)
    When its pool and its functions' environment are read
    Then the pool's MFA is OPTIONAL (the demo accounts sign in with a password alone) and the
    per-source budget is 0 (every local client comes from one address)
    """
    import boto3

    pool_id = local_stack.config["cognito"]["userPoolId"]
    # A session of its own: boto3's default one would keep this stack's credentials for the
    # stacks of later modules.
    cognito = boto3.session.Session().client(
        "cognito-idp", endpoint_url=local_stack.stack.aws_endpoint, region_name="us-east-1"
    )

    assert cognito.get_user_pool_mfa_config(UserPoolId=pool_id)["MfaConfiguration"] == "OPTIONAL"
    assert local_stack.stack.environment["MAX_CONNECTIONS_PER_SOURCE_PER_MINUTE"] == "0"


# ---------------------------------------------------------------- the SQS poller


@pytest.fixture
def short_visibility(local_stack: E2EStack) -> Iterator[str]:
    """The match queue with a 1 s visibility timeout (180 s in the template); restored after."""
    sqs = local_stack.stack.client("sqs")
    queue = local_stack.stack.resources["MatchQueue"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["VisibilityTimeout"])
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "1"})
    yield queue
    sqs.set_queue_attributes(QueueUrl=queue, Attributes=attributes["Attributes"])


def test_a_poison_work_item_ends_in_the_dead_letter_queue_after_5_receives(
    local_stack: E2EStack, short_visibility: str
) -> None:
    """
    Given the match queue (redrive to its DLQ after 5 receives) with a 1 s visibility timeout
    When a work item the matcher cannot read is queued next to a good one
    Then the poller delivers the good one once (deleted after success) and the poison one
    five times (a reported batch item failure each time), and SQS moves it to the DLQ
    """
    stack = local_stack.stack
    sqs = stack.client("sqs")
    deliveries: dict[str, int] = {}
    lock = threading.Lock()

    def count(function: str, event: dict[str, Any], result: Any) -> None:
        with lock:
            for record in event.get("Records", []):
                deliveries[record["body"]] = deliveries.get(record["body"], 0) + 1

    matcher = stack.functions["MatcherFunction"]
    matcher.observers.append(count)
    poison = "this is not a work item"
    good = json.dumps({"reason": "seeker_waiting"})
    try:
        sqs.send_message(QueueUrl=short_visibility, MessageBody=poison)
        sqs.send_message(QueueUrl=short_visibility, MessageBody=good)
        dlq = stack.resources["MatchDeadLetterQueue"]
        deadline = time.monotonic() + WAIT
        dead: list[dict[str, Any]] = []
        while not dead and time.monotonic() < deadline:
            dead = sqs.receive_message(
                QueueUrl=dlq, AttributeNames=["All"], WaitTimeSeconds=0, VisibilityTimeout=0
            ).get("Messages", [])
            time.sleep(0.2)
    finally:
        matcher.observers.remove(count)

    assert [m["Body"] for m in dead] == [poison]
    assert deliveries[poison] == 5
    assert deliveries[good] == 1


# ---------------------------------------------------------------- the web server


@pytest.fixture
def web_root(tmp_path: Path) -> Iterator[str]:
    """A StaticServer on a small web root of its own, next to a file it must not serve."""
    root = tmp_path / "web"
    (root / "js").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "volunteer").mkdir()
    (root / "index.html").write_text("<!doctype html><title>Kindred</title>")
    (root / "js" / "app.js").write_text("export const ready = true;")
    (root / "style.css").write_text("body { margin: 0 }")
    (root / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (root / "volunteer" / "index.html").write_text("<!doctype html><title>Console</title>")
    (tmp_path / "secret.txt").write_text("not for the web")
    server = StaticServer(("127.0.0.1", 0), root, lambda: {"websocketUrl": "ws://x"}).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("", "text/html; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
        ("js/app.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("logo.svg", "image/svg+xml"),
        ("config.json", "application/json"),
        ("volunteer/", "text/html; charset=utf-8"),
    ],
)
def test_the_web_root_is_served_with_its_content_types(
    web_root: str, path: str, content_type: str
) -> None:
    """
    Given a web root with a page, a script, a style sheet and an image
    When a browser fetches each
    Then each comes with its content type, and nosniff
    """
    status, headers, _ = get(web_root + path)

    assert status == 200
    assert headers["Content-Type"] == content_type
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "js/",
        "empty/",
        "missing.html",
        "../secret.txt",
        "%2e%2e/secret.txt",
        "js/%2e%2e/%2e%2e/secret.txt",
    ],
)
def test_nothing_outside_the_web_root_and_no_listing_is_served(web_root: str, path: str) -> None:
    """
    Given a web root next to a secret file
    When a browser asks for a directory without index.html, a missing file, or a path
    that climbs out of the root
    Then the answer is 404, never a listing nor the file outside
    """
    status, _, body = get(web_root + path)

    assert status == 404
    assert b"not for the web" not in body


def test_a_directory_without_its_slash_is_redirected(web_root: str) -> None:
    """
    Given a directory with an index.html
    When it is asked for without the trailing slash
    Then the answer redirects to it with the slash, so its relative links resolve
    """
    request = urllib.request.Request(web_root + "volunteer", method="GET")
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(request, timeout=10)

    assert redirect.value.code == 301
    assert redirect.value.headers["Location"] == "/volunteer/"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.mark.parametrize(
    ("result", "kept"),
    [
        (None, set()),
        ({"statusCode": 200}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "zz"}]}, {"a", "b"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
        ({"batchItemFailures": [{}]}, {"a", "b"}),
        ({"batchItemFailures": "b"}, {"a", "b"}),
    ],
)
def test_a_batch_response_keeps_what_lambda_would_keep(result: Any, kept: set[str]) -> None:
    """
    Given a batch of records a and b, and a function that reports batch item failures
    When it returns nothing, no failures, a failure of b, or a malformed failure list
    Then the poller keeps (does not delete) what Lambda keeps: b alone, or the whole batch
    when a failure names no record of it
    """
    assert failed_ids(result, {"a", "b"}) == kept
