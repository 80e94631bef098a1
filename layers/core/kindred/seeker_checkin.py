"""The seeker's check-in: its risk signal, and its answers added to the month's totals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kindred.impact import (
    CHANGE_VALUES,
    DISTRESS_VALUES,
    SUICIDAL_ANSWERS,
    CheckinTally,
    month_of,
)
from kindred.observability import logger, metrics
from kindred.protocol import Level
from kindred.records import level_rank
from kindred.services import Services

if TYPE_CHECKING:  # client actions, for annotations only: kindred.protocol imports them on use
    from kindred.protocol import SeekerCheckin

# "Are you thinking about suicide right now?" answered `yes` is a `high` signal, as a detected
# one in the intro: intent stated now (SAFETY.md). `unsure` is no signal by itself (docs/impact.md).
YES_LEVEL: Level = "high"


def level_of_checkin(checkin: SeekerCheckin | None) -> Level | None:
    """The risk level a check-in gives: `high` for `suicidalNow: yes`, else none."""
    return YES_LEVEL if checkin is not None and checkin.suicidalNow == "yes" else None


def higher(a: Level | None, b: Level | None) -> Level | None:
    """The higher of two levels (None is below them all)."""
    return a if level_rank(a) >= level_rank(b) else b


def _one(values: tuple[int, ...], value: int) -> tuple[int, ...]:
    return tuple(1 if v == value else 0 for v in values)


def before_tally(checkin: SeekerCheckin | None) -> CheckinTally:
    """One check-in's share of the totals (nothing for a check-in skipped)."""
    if checkin is None or (checkin.distress is None and checkin.suicidalNow is None):
        return CheckinTally()
    return CheckinTally(
        checkins=1,
        before=_one(DISTRESS_VALUES, -1 if checkin.distress is None else checkin.distress),
        suicidal_now=tuple(1 if a == checkin.suicidalNow else 0 for a in SUICIDAL_ANSWERS),
    )


def after_tally(distress: int | None, distress_before: int | None) -> CheckinTally:
    """One answer after a chat: its distress and, when the page kept the answer it gave before,
    the change (the two are never stored together: this is the only place they meet)."""
    if distress is None:
        return CheckinTally()
    after = CheckinTally(after=_one(DISTRESS_VALUES, distress))
    if distress_before is None:
        return after
    return after + CheckinTally(change=_one(CHANGE_VALUES, distress - distress_before))


def count(svc: Services, tally: CheckinTally) -> None:
    """Add answers to this month's totals: one write, naming nobody.

    After the seeker has had their answer (`queued`, `thanks`): a failure costs a count, never
    their place or their chat. It is logged without the answers.
    """
    if tally.is_empty():
        return
    try:
        svc.impact.add_checkins(month_of(svc.clock()), tally)
    except Exception as exc:
        logger.warning("check-in answers not counted", extra={"error": type(exc).__name__})
        metrics.add_metric(name="CheckinsNotCounted", unit="Count", value=1)
