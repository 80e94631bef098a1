"""A test harness that drives the deployed handlers the way API Gateway and SQS would."""

from __future__ import annotations

import importlib.util
import json
import secrets
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

from local.aws_resources import load_template, parameter_values
from local.gateway import Routes

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
TEMPLATE = load_template(ROOT / "template.yaml")
# API Gateway's routes as the template declares them, and each function's handler directory.
API = Routes.from_template(TEMPLATE, parameter_values(TEMPLATE))
HANDLER_DIRS = {
    logical_id: Path(resource["Properties"]["CodeUri"]).name
    for logical_id, resource in TEMPLATE["Resources"].items()
    if resource.get("Type") == "AWS::Serverless::Function"
}
FUNCTION_OF_DIR = {directory: logical_id for logical_id, directory in HANDLER_DIRS.items()}


class FakeContext:
    """The parts of a LambdaContext that Powertools reads."""

    function_name = "kindred-test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:kindred-test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def load_handler(name: str) -> ModuleType:
    """Import functions/<name>/app.py as its own module (every handler file is called app.py)."""
    path = ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"kindred_fn_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def new_connection_id() -> str:
    # API Gateway connection ids are 16 base64 characters ending in '='.
    return secrets.token_urlsafe(11)[:15] + "="


def _some_address() -> str:
    """A random address of 198.18.0.0/15 (set aside for testing networks)."""
    n = secrets.randbelow(2**17)
    return f"198.{18 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}"


def split_frames(data: bytes) -> list[dict[str, Any]]:
    """moto's @connections backend concatenates what it is posted; cut it into JSON frames."""
    decoder = json.JSONDecoder()
    text, pos, frames = data.decode(), 0, []
    while pos < len(text):
        frame, pos = decoder.raw_decode(text, pos)
        frames.append(frame)
    return frames


def posted_frames(connection_id: str, region: str = "us-east-1") -> list[dict[str, Any]]:
    """Every frame posted to this connection on moto's in-process @connections API."""
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    backend = apigatewaymanagementapi_backends["123456789012"][region]
    data = b""
    for key in dict.fromkeys((connection_id, quote(connection_id, safe=""))):
        if key in backend.connections:
            data += backend.connections[key].data
    return split_frames(data)


class World:
    """Seekers and volunteers talking to the handlers under moto (in-process `mock_aws`).

    Each handler runs on its own function's role (local.iam), with IAM enforced; the SQS
    event source polls on the matcher's role, as Lambda's does.
    """

    def __init__(self, iam: Any, queue_url: str) -> None:
        self.iam = iam
        self.handlers = {
            n: load_handler(n)
            for n in ("connect", "disconnect", "match", "matcher", "chat", "sweeper", "admin")
        }
        self._offset = 0.0  # seconds the clock of the handlers' services is ahead of time.time
        self._sqs = iam.session(FUNCTION_OF_DIR["matcher"]).client("sqs")
        # Lambda reads the queue's attributes with the matcher's role when its event source
        # mapping is enabled: the event source starts the same way here.
        self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])
        self._queue_url = queue_url
        self._seen: dict[str, int] = {}

    def invoke(self, directory: str, e: dict[str, Any]) -> Any:
        """Run functions/<directory>'s handler on `e` as Lambda would: on its own role."""
        function = FUNCTION_OF_DIR[directory]
        with self.iam.acting_as(function):
            self._set_clock(self.iam.services_of(function))
            return self.handlers[directory].lambda_handler(e, FakeContext())

    # -- what API Gateway does -----------------------------------------------------------

    def connect(
        self,
        role: str = "seeker",
        *,
        user_id: str = "",
        alias: str = "",
        lang: str = "en",
        resume: str | None = None,
        expires_at: int | None = None,
        source_ip: str | None = None,
        expect: int = 200,
        practice: bool = False,
        coordinator: bool = False,
    ) -> str:
        """A handshake that the authorizer admitted as `role`, from `source_ip` (default: an
        address of its own, as if every test client were someone else); asserts that
        $connect answered `expect`."""
        cid = new_connection_id()
        e = event("connect")
        e["requestContext"]["connectionId"] = cid
        e["requestContext"]["identity"]["sourceIp"] = source_ip or _some_address()
        e["requestContext"]["authorizer"] = {
            "role": role,
            "userId": user_id,
            "alias": alias,
            "principalId": user_id or "anonymous",
        }
        if coordinator:  # a supervisor in `coordinators`, as the authorizer passes it on
            e["requestContext"]["authorizer"]["coordinator"] = "true"
        if expires_at is not None:  # the staff token's `exp`, as the authorizer passes it on
            e["requestContext"]["authorizer"]["expiresAt"] = str(expires_at)
        if practice:  # a supervisor playing a seeker (kindred.practice)
            e["requestContext"]["authorizer"]["practice"] = "1"
        e["queryStringParameters"] = {"lang": lang}
        if resume is not None:
            e["queryStringParameters"]["resume"] = resume
        result = self.invoke("connect", e)
        assert result["statusCode"] == expect
        return cid

    def send(self, cid: str, frame: dict[str, Any] | str) -> dict[str, Any]:
        body = frame if isinstance(frame, str) else json.dumps(frame)
        route = API.select(body)
        assert route is not None, "the template has a $default route"
        e = event("message")
        e["requestContext"]["connectionId"] = cid
        e["requestContext"]["routeKey"] = route
        e["body"] = body
        result: dict[str, Any] = self.invoke(HANDLER_DIRS[API.routes[route]], e)
        return result

    def disconnect(self, cid: str, status: int = 1001) -> None:
        e = event("disconnect")
        e["requestContext"]["connectionId"] = cid
        e["requestContext"]["disconnectStatusCode"] = status
        self.invoke("disconnect", e)

    # -- the clock and what EventBridge does ----------------------------------------------

    def keep_sqs_on_this_clock(self, monkeypatch: Any) -> None:
        """moto's SQS reads the clock `advance` moves: a delayed work item becomes visible when
        that clock passes its time, as in AWS, where the queue and the handlers read one
        clock (moto's own delay and visibility code runs unchanged, on the moved time)."""
        import moto.sqs.models as sqs_models

        real_ms, real_s = sqs_models.unix_time_millis, sqs_models.unix_time
        monkeypatch.setattr(
            sqs_models, "unix_time_millis", lambda *a: real_ms(*a) + self._offset * 1000
        )
        monkeypatch.setattr(sqs_models, "unix_time", lambda *a: real_s(*a) + self._offset)

    def advance(self, seconds: float) -> None:
        """Move the clock of the handlers' services (their store, and the match queue's, see
        `keep_sqs_on_this_clock`) on by `seconds`."""
        from kindred.aws.wiring import services

        self._offset += seconds
        for svc in [services(), *self.iam.every_services()]:
            self._set_clock(svc)

    def _set_clock(self, svc: Any) -> None:
        """`svc` (a function's Services, or the tests') reads the World's clock."""
        import time

        from kindred.aws.chats import DynamoChats

        offset = self._offset
        if not offset:
            return

        def clock() -> float:
            return time.time() + offset

        object.__setattr__(svc, "clock", clock)  # Services is frozen; this is a test's clock
        assert isinstance(svc.chats, DynamoChats)
        svc.chats.table.clock = clock  # the one table every adapter reads its clock from

    def sweep(self) -> dict[str, int]:
        """One run of the sweeper, as its EventBridge schedule delivers it."""
        e = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        result: dict[str, int] = self.invoke("sweeper", e)
        return result

    # -- what the SQS event source does ----------------------------------------------------

    def run_matcher(self) -> int:
        """Deliver every waiting work item to the matcher, in batches of 10; returns batches."""
        batches = 0
        while True:
            resp = self._sqs.receive_message(
                QueueUrl=self._queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
            )
            messages = resp.get("Messages", [])
            if not messages:
                return batches
            records = [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:MatchQueue",
                    "awsRegion": "us-east-1",
                }
                for m in messages
            ]
            result = self.invoke("matcher", {"Records": records})
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            for m in messages:
                if m["MessageId"] not in failed:
                    self._sqs.delete_message(
                        QueueUrl=self._queue_url, ReceiptHandle=m["ReceiptHandle"]
                    )
            batches += 1

    # -- what the browser receives ---------------------------------------------------------

    def all_frames(self, cid: str) -> list[dict[str, Any]]:
        return posted_frames(cid)

    def frames(self, cid: str) -> list[dict[str, Any]]:
        """The frames this connection received since the last call."""
        every = self.all_frames(cid)
        new = every[self._seen.get(cid, 0) :]
        self._seen[cid] = len(every)
        return new

    def types(self, cid: str) -> list[str]:
        return [f["type"] for f in self.frames(cid)]
