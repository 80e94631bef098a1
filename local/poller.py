"""Lambda's SQS event source, locally: poll a queue, invoke the function, delete what succeeded."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from local.aws_resources import Template
from local.functions import FUNCTION_TYPES, FunctionError, logical_id_of, report

log = logging.getLogger("local.poller")

MAX_RECEIVE = 10  # SQS's ReceiveMessage limit per call


@dataclass(frozen=True)
class QueueSource:
    """One SQS event source: a queue feeding a function (EventSourceMapping or SAM SQS event)."""

    name: str
    function: str  # logical id
    queue: str  # logical id
    queue_url: str
    queue_arn: str
    batch_size: int = 10
    batching_window_seconds: float = 0.0
    report_batch_item_failures: bool = False
    enabled: bool = True


def _queue_source(
    name: str,
    function: str | None,
    queue_ref: Any,
    props: Mapping[str, Any],
    resources: Mapping[str, str],
) -> QueueSource | None:
    queue = logical_id_of(queue_ref)
    if function is None or queue is None or f"{queue}.Arn" not in resources:
        return None  # not an SQS queue of this template (Kinesis, DynamoDB streams ...)
    if not resources[f"{queue}.Arn"].startswith("arn:aws:sqs:"):
        return None
    return QueueSource(
        name=name,
        function=function,
        queue=queue,
        queue_url=resources[queue],
        queue_arn=resources[f"{queue}.Arn"],
        batch_size=int(props.get("BatchSize", 10)),
        batching_window_seconds=float(props.get("MaximumBatchingWindowInSeconds", 0)),
        report_batch_item_failures="ReportBatchItemFailures"
        in (props.get("FunctionResponseTypes") or []),
        enabled=str(props.get("Enabled", True)).lower() != "false",
    )


def sqs_sources(template: Template, resources: Mapping[str, str]) -> list[QueueSource]:
    """Every SQS event source of the template, with the created queues' URLs and ARNs."""
    found: list[QueueSource] = []
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Lambda::EventSourceMapping":
            source = _queue_source(
                logical_id,
                logical_id_of(props.get("FunctionName")),
                props.get("EventSourceArn"),
                props,
                resources,
            )
            if source is not None:
                found.append(source)
        elif resource.get("Type") in FUNCTION_TYPES:
            for event_name, event in (props.get("Events") or {}).items():
                if (event or {}).get("Type") != "SQS":
                    continue
                event_props = event.get("Properties") or {}
                source = _queue_source(
                    f"{logical_id}.{event_name}",
                    logical_id,
                    event_props.get("Queue"),
                    event_props,
                    resources,
                )
                if source is not None:
                    found.append(source)
    return found


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """An SQS message (as ReceiveMessage returns it) as Lambda passes it in Records[]."""
    attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value.get("DataType"),
        }
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": attributes,
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def failed_ids(result: Any, batch_ids: set[str]) -> set[str]:
    """The records to keep per a ReportBatchItemFailures response (all, if it is malformed).

    As Lambda does: a failure naming no record of the batch, or an empty or missing
    itemIdentifier, fails the whole batch.
    """
    if result is None:
        return set()
    if not isinstance(result, Mapping):
        return set()
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return set(batch_ids)
    ids: set[str] = set()
    for failure in failures:
        item = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not isinstance(item, str) or item not in batch_ids:
            return set(batch_ids)
        ids.add(item)
    return ids


@dataclass
class SqsPoller:
    """Polls one queue on a thread of its own and invokes the function with batches.

    Short polls (WaitTimeSeconds 0) with `idle_wait` between empty ones: the local moto
    serves one request at a time, and a long poll would hold every other AWS call.
    """

    source: QueueSource
    sqs: Any
    invoke: Callable[[dict[str, Any]], Any]
    _: KW_ONLY
    region: str
    idle_wait: float = 0.2
    _stopped: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        name = f"sqs-{self.source.name}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> SqsPoller:
        # Lambda reads the queue's attributes with the function's role when the mapping is
        # enabled (and refuses a role that cannot): so does this poller.
        self.sqs.get_queue_attributes(QueueUrl=self.source.queue_url, AttributeNames=["All"])
        self._thread.start()
        return self

    def stop(self, timeout: float = 2) -> None:
        self._stopped.set()
        self._thread.join(timeout)

    def _receive(self, count: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.source.queue_url,
            MaxNumberOfMessages=max(1, min(MAX_RECEIVE, count)),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def _batch(self) -> list[dict[str, Any]]:
        """Up to BatchSize messages, waiting up to the batching window once one has come."""
        messages = self._receive(self.source.batch_size)
        if not messages:
            return []
        window_ends = time.monotonic() + self.source.batching_window_seconds
        while len(messages) < self.source.batch_size and time.monotonic() < window_ends:
            more = self._receive(self.source.batch_size - len(messages))
            if more:
                messages += more
            elif self._stopped.wait(min(self.idle_wait, max(0, window_ends - time.monotonic()))):
                break
        return messages

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                messages = self._batch()
            except Exception as exc:
                if self._stopped.is_set():
                    return
                log.warning("%s: polling %s failed: %s", self.source.name, self.source.queue, exc)
                self._stopped.wait(1)
                continue
            if not messages:
                self._stopped.wait(self.idle_wait)
                continue
            self.deliver(messages)

    def deliver(self, messages: list[dict[str, Any]]) -> None:
        """Invoke the function with these messages; delete those it did not report failed."""
        event = {"Records": [sqs_record(m, self.source.queue_arn, self.region) for m in messages]}
        batch_ids = {m["MessageId"] for m in messages}
        try:
            result = self.invoke(event)
        except FunctionError as error:
            report(error)
            return  # every message comes back after its visibility timeout
        keep = failed_ids(result, batch_ids) if self.source.report_batch_item_failures else set()
        done = [m for m in messages if m["MessageId"] not in keep]
        for start in range(0, len(done), MAX_RECEIVE):
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(done[start : start + MAX_RECEIVE])
            ]
            try:
                self.sqs.delete_message_batch(QueueUrl=self.source.queue_url, Entries=entries)
            except Exception as exc:  # they come back after the visibility timeout
                log.warning("%s: deleting a done batch failed: %s", self.source.name, exc)
