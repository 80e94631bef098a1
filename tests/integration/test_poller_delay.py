"""The local stack's SQS poller honours a work item's DelaySeconds, as Lambda's event source
does: the topic fallback's delayed work item reaches the matcher no sooner than asked."""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3

from kindred.aws.queue import SqsWorkQueue
from local.poller import QueueSource, SqsPoller


def test_a_delayed_work_item_reaches_the_matcher_only_after_its_delay(
    aws: dict[str, str],
) -> None:
    """Given the local poller on the match queue (moto), when `match` sends a work item now and
    one delayed by 1 s (through kindred's own SqsWorkQueue), then the matcher gets the first
    at once and the delayed one only once its second has passed, and each exactly once."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = aws["MATCH_QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    delivered: list[tuple[float, str]] = []
    lock = threading.Lock()

    def matcher(event: dict[str, Any]) -> dict[str, Any]:
        with lock:
            delivered.extend((time.monotonic(), r["body"]) for r in event["Records"])
        return {"batchItemFailures": []}

    source = QueueSource(
        name="MatcherQueueMapping",
        function="MatcherFunction",
        queue="MatchQueue",
        queue_url=url,
        queue_arn=arn,
        report_batch_item_failures=True,
    )
    poller = SqsPoller(source, sqs, matcher, region="us-east-1", idle_wait=0.05).start()
    try:
        work = SqsWorkQueue(sqs, url)
        sent_at = time.monotonic()
        work.nudge("seeker_waiting")
        work.nudge("topic_fallback", delay_seconds=1)
        deadline = sent_at + 5
        while time.monotonic() < deadline and len(delivered) < 2:
            time.sleep(0.05)
        time.sleep(0.3)  # room for a wrong second delivery
    finally:
        poller.stop()

    assert [body for _, body in delivered] == [
        '{"reason": "seeker_waiting"}',
        '{"reason": "topic_fallback"}',
    ]
    (now_at, _), (delayed_at, _) = delivered
    assert now_at - sent_at < 0.9
    assert delayed_at - sent_at >= 1.0
