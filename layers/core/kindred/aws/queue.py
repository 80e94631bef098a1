"""The WorkQueue on SQS: a work item asks the matcher to run; it carries no text."""

from __future__ import annotations

from typing import Any

from kindred.work_items import MAX_DELAY_SECONDS, WorkItem, WorkReason


class SqsWorkQueue:
    """Implements kindred.ports.WorkQueue with one SendMessage per work item."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def nudge(self, reason: WorkReason, delay_seconds: int = 0) -> None:
        self._send(WorkItem(reason=reason), delay_seconds)

    def grace_over(self, connection_id: str, delay_seconds: int) -> None:
        self._send(WorkItem(reason="grace_over", connection_id=connection_id), delay_seconds)

    def _send(self, item: WorkItem, delay_seconds: int) -> None:
        # A delayed message stays invisible to every consumer until its delay has passed.
        delay = max(0, min(MAX_DELAY_SECONDS, int(delay_seconds)))
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=item.body(),
            **({"DelaySeconds": delay} if delay else {}),
        )
