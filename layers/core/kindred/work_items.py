"""Work items on the match queue: a reason to run the matcher, never any text."""

from __future__ import annotations

import json
import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_DELAY_SECONDS = 900  # SQS's longest DelaySeconds

# Why the matcher is asked to run: the one list, typed from the nudge to the matcher.
WorkReason = Literal[
    "seeker_waiting",
    "volunteer_available",
    "slot_freed",
    "transfer",
    "volunteer_gone",
    "topic_fallback",  # sent delayed: a seeker's wait for their topic is over
    "sweep",
    "grace_over",  # sent delayed at a seeker's $disconnect: their grace period is over
    "pause_over",  # sent delayed after a risk chat: the volunteer's pause is over (kindred.care)
    "board",  # sent delayed: the supervisors' board changed, push it (issue 12)
]


class WorkItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    reason: WorkReason
    # Only on `grace_over`: the dropped seeker's connection (an opaque id, never text).
    connection_id: str | None = Field(
        default=None, alias="connectionId", min_length=1, max_length=128
    )

    @model_validator(mode="after")
    def _connection_only_for_grace(self) -> WorkItem:
        if (self.reason == "grace_over") != (self.connection_id is not None):
            raise ValueError("connectionId goes with reason grace_over, and only with it")
        return self

    def body(self) -> str:
        """The SQS message body: {"reason": ...} (and "connectionId" on grace_over)."""
        return json.dumps(self.model_dump(by_alias=True, exclude_none=True))


def delay_until(at: int, now: float) -> int:
    """The DelaySeconds that keeps a work item invisible until epoch second `at` (at least 1),
    capped at SQS's longest: a later `at` needs the item sent on again when it arrives."""
    return max(1, min(MAX_DELAY_SECONDS, at - math.floor(now)))


def parse_work_item(body: str) -> WorkItem:
    """Validate one SQS message body; raises on anything that is not a work item."""
    return WorkItem.model_validate_json(body)
