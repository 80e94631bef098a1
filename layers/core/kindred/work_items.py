"""Work items on the match queue: a reason to run the matcher, never any text."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

# Why the matcher is asked to run: the one list, typed from the nudge to the matcher.
WorkReason = Literal[
    "seeker_waiting",
    "volunteer_available",
    "slot_freed",
    "transfer",
    "volunteer_gone",
    "topic_fallback",  # sent delayed: a seeker's wait for their topic is over
    "sweep",
]


class WorkItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    reason: WorkReason


def parse_work_item(body: str) -> WorkItem:
    """Validate one SQS message body; raises on anything that is not a work item."""
    return WorkItem.model_validate_json(body)
