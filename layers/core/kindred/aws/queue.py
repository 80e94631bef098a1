"""The WorkQueue on SQS: a work item asks the matcher to run; it carries no text."""

from __future__ import annotations

import json
from typing import Any

from kindred.work_items import WorkReason

MAX_DELAY_SECONDS = 900  # SQS's longest DelaySeconds


class SqsWorkQueue:
    """Implements kindred.ports.WorkQueue with one SendMessage per nudge."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def nudge(self, reason: WorkReason, delay_seconds: int = 0) -> None:
        # A delayed message stays invisible to every consumer until its delay has passed.
        delay = max(0, min(MAX_DELAY_SECONDS, int(delay_seconds)))
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=json.dumps({"reason": reason}),
            **({"DelaySeconds": delay} if delay else {}),
        )
