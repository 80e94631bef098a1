"""Scheduled functions (SAM Schedule and ScheduleV2 events), run locally on their rate()."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime
from typing import Any

from local.aws_resources import Template
from local.functions import FUNCTION_TYPES, FunctionError, report

log = logging.getLogger("local.scheduler")

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float | None:
    """The period of a rate() expression in seconds; None for cron() or anything else."""
    match = _RATE.match(expression.strip())
    if match is None:
        return None
    value, unit = int(match.group(1)), match.group(2).removesuffix("s")
    if value < 1 or (value == 1) != (match.group(2) == unit):
        return None  # "rate(1 minutes)" and "rate(2 minute)" are invalid, as in EventBridge
    return float(value * _UNIT_SECONDS[unit])


@dataclass(frozen=True)
class Schedule:
    """One scheduled event of a function."""

    name: str  # "<Function>.<Event>"
    function: str
    kind: str  # "Schedule" (EventBridge rule) or "ScheduleV2" (EventBridge Scheduler)
    expression: str
    input: str | None = None
    enabled: bool = True

    @property
    def period(self) -> float | None:
        return rate_seconds(self.expression)


def schedules(template: Template) -> list[Schedule]:
    """Every Schedule and ScheduleV2 event of the template's functions."""
    found: list[Schedule] = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") not in FUNCTION_TYPES:
            continue
        for event_name, event in ((resource.get("Properties") or {}).get("Events") or {}).items():
            kind = (event or {}).get("Type")
            if kind not in ("Schedule", "ScheduleV2"):
                continue
            props = event.get("Properties") or {}
            expression = props.get("Schedule" if kind == "Schedule" else "ScheduleExpression")
            enabled = (
                str(props.get("Enabled", True)).lower() != "false"
                and str(props.get("State", "ENABLED")).upper() != "DISABLED"
            )
            found.append(
                Schedule(
                    name=f"{logical_id}.{event_name}",
                    function=logical_id,
                    kind=kind,
                    expression=str(expression),
                    input=props.get("Input") if isinstance(props.get("Input"), str) else None,
                    enabled=enabled,
                )
            )
    return found


def scheduled_event(schedule: Schedule, *, region: str, account: str) -> Any:
    """What the function receives: the Input if the event has one, else what AWS sends."""
    if schedule.input is not None:
        return json.loads(schedule.input)
    if schedule.kind == "ScheduleV2":
        return {}  # EventBridge Scheduler sends the target's Input, here none
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/{schedule.name.replace('.', '-')}"],
        "detail": {},
    }


@dataclass
class Scheduler:
    """Runs each rate() schedule on a thread: first one period after start, as EventBridge does.

    `time_scale` multiplies every period (tests run a "rate(1 minute)" every 0.1 s).
    """

    entries: list[Schedule]
    invoke: Callable[[str, Any], Any]
    _: KW_ONLY
    region: str
    account: str
    time_scale: float = 1.0
    _stopped: threading.Event = field(default_factory=threading.Event, init=False)
    _threads: list[threading.Thread] = field(default_factory=list, init=False)

    def start(self) -> Scheduler:
        for entry in self.entries:
            if not entry.enabled:
                continue
            if entry.period is None:
                log.warning(
                    "%s: %s is not run locally (only rate() schedules are)",
                    entry.name,
                    entry.expression,
                )
                continue
            thread = threading.Thread(
                target=self._run, args=(entry,), name=f"schedule-{entry.name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        return self

    def stop(self, timeout: float = 2) -> None:
        self._stopped.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0, deadline - time.monotonic()))

    def _run(self, entry: Schedule) -> None:
        assert entry.period is not None
        period = entry.period * self.time_scale
        next_run = time.monotonic() + period
        while not self._stopped.wait(max(0, next_run - time.monotonic())):
            next_run += period
            event = scheduled_event(entry, region=self.region, account=self.account)
            try:
                self.invoke(entry.function, event)
            except FunctionError as error:
                report(error)
