"""The SealingKey custom resource's function (at deploy only): the key made, kept, deleted,
and CloudFormation always answered."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import boto3
import pytest

from tests.world import load_handler


class _Answers(BaseHTTPRequestHandler):
    """CloudFormation's presigned URL: keeps each PUT body."""

    received: ClassVar[list[dict[str, Any]]] = []

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def answers() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    _Answers.received = []
    server = HTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/answer", _Answers.received
    finally:
        server.shutdown()


def _event(kind: str, url: str, name: str, physical: str | None = None) -> dict[str, Any]:
    e = {
        "RequestType": kind,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/kindred/x",
        "RequestId": f"req-{kind}",
        "LogicalResourceId": "SealingKey",
        "ResourceType": "Custom::SealingKey",
        "ResourceProperties": {"ServiceToken": "arn", "Name": name},
    }
    if physical is not None:
        e["PhysicalResourceId"] = physical
    return e


class _Context:
    function_name = "SealingKeyFunction"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:SealingKeyFunction"
    aws_request_id = "id"


def test_the_key_is_made_kept_and_deleted_with_the_stack(
    aws: dict[str, str], answers: tuple[str, list[dict[str, Any]]]
) -> None:
    """
    Given the SealingKey custom resource
    When CloudFormation creates, updates and deletes it
    Then Create makes a new SecureString (a retried Create keeps it), Update leaves it as it
    is, Delete removes it, and each request is answered SUCCESS with the parameter's name
    and NoEcho
    """
    url, received = answers
    handler = load_handler("sealing_key").lambda_handler
    ssm = boto3.client("ssm")
    name = "/kindred-test/sealing-key"

    handler(_event("Create", url, name), _Context())
    made = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    handler(_event("Create", url, name), _Context())
    handler(_event("Update", url, name, physical=name), _Context())
    kept = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    handler(_event("Delete", url, name, physical=name), _Context())

    assert made["Type"] == "SecureString"
    assert len(made["Value"]) == 64
    assert kept["Value"] == made["Value"]
    assert not ssm.get_parameters(Names=[name])["Parameters"]
    assert [(a["Status"], a["PhysicalResourceId"], a["NoEcho"]) for a in received] == [
        ("SUCCESS", name, True)
    ] * 4
    assert made["Value"] not in json.dumps(received)
    assert os.environ["SEALING_KEY_PARAMETER"] != name  # the stack's own key is untouched
    assert ssm.get_parameter(Name=os.environ["SEALING_KEY_PARAMETER"])["Parameter"]


def test_a_failed_create_is_answered_and_its_delete_touches_nothing(
    aws: dict[str, str], answers: tuple[str, list[dict[str, Any]]]
) -> None:
    """
    Given a Create that SSM refuses (a name SSM does not allow)
    When CloudFormation then deletes the resource, as it does after a failed create
    Then both are answered (FAILED, then SUCCESS), no parameter is named after the request,
    and the stack's own key is still there
    """
    url, received = answers
    handler = load_handler("sealing_key").lambda_handler
    bad = "/aws/reserved-prefix"

    handler(_event("Create", url, bad), _Context())
    failed = received[-1]
    handler(_event("Delete", url, bad, physical=failed["PhysicalResourceId"]), _Context())

    assert failed["Status"] == "FAILED"
    assert failed["PhysicalResourceId"] == "none-req-Create"
    assert received[-1]["Status"] == "SUCCESS"
    assert boto3.client("ssm").get_parameter(Name=os.environ["SEALING_KEY_PARAMETER"])
