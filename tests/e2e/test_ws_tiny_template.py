"""The local stack is generic: a tiny template of its own drives the gateway, poller, schedule.

Its functions (written below into a temporary directory) fail, refuse, echo and record, so
what the local stack does with a failing handler, a refused $connect, a missing route, an
SQS event with partial failures and a rate() schedule can be watched from outside.
"""

from __future__ import annotations

import json
import logging
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from local.functions import EnvironmentMismatchError
from local.stack import LocalStack, Ports
from tests.e2e.ws import wait_for

FREE = Ports(web=0, ws=0, aws=0, connections=0)
WAIT = 10

# The functions with no event of their own, each running app.<its name in lower case>.
PLAIN_FUNCTIONS = "\n".join(
    f"  {name}:\n    Type: AWS::Serverless::Function\n"
    f"    Properties:\n      Handler: app.{name.lower()}"
    for name in ("Gate", "Echo", "Boom")
)
TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  StageName:
    Type: String
    Default: dev
  OutDir:
    Type: String
Globals:
  Function:
    Runtime: python3.13
    CodeUri: fn
    Timeout: 3
    Environment:
      Variables:
        OUT_DIR: !Ref OutDir
        MANAGEMENT_ENDPOINT: !Sub https://${Api}.execute-api.${AWS::Region}.amazonaws.com/${StageName}
Resources:
  Api:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      StageName: !Ref StageName
      Routes:
        $connect:
          FunctionArn: !GetAtt Gate.Arn
        echo:
          FunctionArn: !GetAtt Echo.Arn
        boom:
          FunctionArn: !GetAtt Boom.Arn
{PLAIN_FUNCTIONS}
  Sweeper:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.record
      Events:
        Sweep:
          Type: Schedule
          Properties:
            Schedule: rate(1 minute)
        Nightly:
          Type: Schedule
          Properties:
            Schedule: cron(0 3 * * ? *)
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.work
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 1
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt JobsDeadLetters.Arn
        maxReceiveCount: 2
  JobsDeadLetters:
    Type: AWS::SQS::Queue
""".replace("{PLAIN_FUNCTIONS}", PLAIN_FUNCTIONS)

HANDLERS = """
import json
import os
from pathlib import Path

import boto3


def _append(name, value):
    with (Path(os.environ["OUT_DIR"]) / name).open("a") as out:
        out.write(json.dumps(value) + "\\n")


def gate(event, context):
    query = event.get("queryStringParameters") or {}
    return {"statusCode": 403 if "deny" in query else 200}


def echo(event, context):
    api = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["MANAGEMENT_ENDPOINT"])
    api.post_to_connection(
        ConnectionId=event["requestContext"]["connectionId"], Data=event["body"].encode()
    )
    return {"statusCode": 200}


def boom(event, context):
    raise RuntimeError("boom on purpose")


def record(event, context):
    _append("schedule.jsonl", event)


def work(event, context):
    failures = []
    for record in event["Records"]:
        _append("work.jsonl", record["body"])
        if record["body"] == "fail":
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The local stack on the tiny template, its rate(1 minute) running every 0.12 s."""
    base = tmp_path_factory.mktemp("tiny")
    (base / "fn").mkdir()
    (base / "fn" / "app.py").write_text(textwrap.dedent(HANDLERS))
    (base / "template.yaml").write_text(TEMPLATE)
    (base / "out").mkdir()
    (base / "web").mkdir()
    stack = LocalStack(
        ports=FREE,
        template=base / "template.yaml",
        web_root=base / "web",
        parameters={"OutDir": str(base / "out")},
        schedule_time_scale=0.002,
    ).start()
    try:
        yield stack
    finally:
        stack.stop()


def lines(stack: LocalStack, name: str) -> list[Any]:
    path = Path(stack.environment["OUT_DIR"]) / name
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_failing_handler_is_reported_and_the_stack_keeps_serving(
    tiny: LocalStack, caplog: pytest.LogCaptureFixture
) -> None:
    """
    Given a route whose handler raises
    When a client sends a frame for it, then one for another route
    Then the client gets API Gateway's "Internal server error" message, the terminal shows
    the function's name and what it raised, and the next frame is served as usual
    """
    caplog.set_level(logging.ERROR, logger="local.functions")
    with connect(tiny.ws_url, open_timeout=WAIT) as ws:
        ws.send(json.dumps({"action": "boom"}))
        failed = json.loads(ws.recv(timeout=WAIT))
        ws.send(json.dumps({"action": "echo", "n": 1}))
        echoed = json.loads(ws.recv(timeout=WAIT))

    assert failed["message"] == "Internal server error"
    assert failed["connectionId"] and failed["requestId"]
    assert echoed == {"action": "echo", "n": 1}
    assert any(
        "Boom failed: RuntimeError: boom on purpose" in record.getMessage()
        for record in caplog.records
    )


def test_a_frame_with_no_route_and_no_default_gets_forbidden(tiny: LocalStack) -> None:
    """
    Given an API without a $default route
    When a frame names no route of it (or is not JSON)
    Then the client gets API Gateway's "Forbidden" message and the socket stays open
    """
    with connect(tiny.ws_url, open_timeout=WAIT) as ws:
        ws.send(json.dumps({"action": "fly"}))
        unknown = json.loads(ws.recv(timeout=WAIT))
        ws.send("not json")
        not_json = json.loads(ws.recv(timeout=WAIT))
        ws.send(json.dumps({"action": "echo"}))
        echoed = json.loads(ws.recv(timeout=WAIT))

    assert unknown["message"] == not_json["message"] == "Forbidden"
    assert echoed == {"action": "echo"}


def test_a_connect_handler_answering_403_refuses_the_handshake(tiny: LocalStack) -> None:
    """
    Given a $connect handler that answers statusCode 403 to ?deny
    When a client connects with ?deny
    Then the handshake is refused with 403
    """
    with pytest.raises(InvalidStatus) as refused:
        connect(tiny.ws_url + "?deny=1", open_timeout=WAIT)

    assert refused.value.response.status_code == 403


def test_a_rate_schedule_runs_its_function_with_a_scheduled_event(tiny: LocalStack) -> None:
    """
    Given a function with a rate(1 minute) schedule, time scaled so a minute is 0.12 s,
    and a cron() schedule the local stack does not run
    When time passes
    Then the function runs again and again with EventBridge's Scheduled Event
    """

    def three_runs() -> list[dict[str, Any]] | None:
        found = lines(tiny, "schedule.jsonl")
        return found if len(found) >= 3 else None

    events = wait_for(three_runs, timeout=5)

    assert {e["detail-type"] for e in events} == {"Scheduled Event"}
    assert {e["source"] for e in events} == {"aws.events"}
    assert all(e["resources"][0].startswith("arn:aws:events:us-east-1:") for e in events)


def test_an_sqs_event_deletes_what_succeeded_and_redrives_what_kept_failing(
    tiny: LocalStack,
) -> None:
    """
    Given a function fed by a queue (ReportBatchItemFailures, visibility 1 s, DLQ after 2)
    When a good and a bad message are queued
    Then the good one is delivered once; the bad one twice, then SQS moves it to the DLQ
    """
    sqs = tiny.client("sqs")
    sqs.send_message(QueueUrl=tiny.resources["Jobs"], MessageBody="fine")
    sqs.send_message(QueueUrl=tiny.resources["Jobs"], MessageBody="fail")

    dead = wait_for(
        lambda: sqs.receive_message(
            QueueUrl=tiny.resources["JobsDeadLetters"], VisibilityTimeout=0
        ).get("Messages"),
        timeout=15,
    )
    delivered = lines(tiny, "work.jsonl")

    assert [m["Body"] for m in dead] == ["fail"]
    assert delivered.count("fine") == 1
    assert delivered.count("fail") == 2


def test_functions_needing_different_environments_are_refused(tmp_path: Path) -> None:
    """
    Given a template where one function's own Environment gives a variable another value
    When the local stack starts on it
    Then it refuses, naming the function and the variable: one process has one environment
    """
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text("def handler(event, context):\n    return None\n")
    (tmp_path / "template.yaml").write_text(
        textwrap.dedent(
            """
            Transform: AWS::Serverless-2016-10-31
            Globals:
              Function:
                CodeUri: fn
                Handler: app.handler
                Environment:
                  Variables:
                    MODE: shared
            Resources:
              Api:
                Type: AWS::Serverless::WebSocketApi
                Properties:
                  StageName: dev
                  Routes:
                    $default:
                      FunctionArn: !GetAtt One.Arn
              One:
                Type: AWS::Serverless::Function
              Two:
                Type: AWS::Serverless::Function
                Properties:
                  Environment:
                    Variables:
                      MODE: special
            """
        )
    )
    stack = LocalStack(ports=FREE, template=tmp_path / "template.yaml", web_root=tmp_path)

    with pytest.raises(EnvironmentMismatchError, match="Two sets MODE='special'"):
        stack.start()
