"""Opening hours: whether the service is open at a moment, and when it next opens.

The schedule is the `OpeningHours` template parameter (JSON, shared PROTOCOL.md's `hours`):
{"timezone": "Europe/Madrid", "weekly": {"mon": [["18:00", "23:00"]], ...},
"closedDates": ["2026-12-25"]}. A day left out of `weekly` is closed; "24:00" ends a window at
midnight; a window that ends before it starts runs past midnight into the next day (and
belongs to the day it starts on, for `closedDates`). No schedule at all means open 24/7.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kindred.frozen import Frozen

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
_LOOK_AHEAD_DAYS = 400  # a schedule with no opening in this long is never open


class Window(Frozen):
    """Open from `start` to `end` minutes after the local midnight of its day (end may pass
    1440: past midnight)."""

    start: int
    end: int


class Hours(Frozen):
    timezone: str
    weekly: dict[int, tuple[Window, ...]]  # by weekday, Monday 0
    closed_dates: frozenset[date]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _windows(self, day: date) -> tuple[Window, ...]:
        return () if day in self.closed_dates else self.weekly.get(day.weekday(), ())

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        today = local.date()
        if any(w.start <= minute < w.end for w in self._windows(today)):
            return True
        # A window of yesterday's that runs past midnight.
        yesterday = today - timedelta(days=1)
        return any(minute + 1440 < w.end for w in self._windows(yesterday))

    def next_opening(self, at: datetime) -> datetime | None:
        """The first moment after `at` at which a window opens; None if none in a year."""
        zone = self.zone
        today = at.astimezone(zone).date()
        for offset in range(_LOOK_AHEAD_DAYS):
            day = today + timedelta(days=offset)
            for window in sorted(self._windows(day), key=lambda w: w.start):
                start = datetime.combine(day, time(window.start // 60, window.start % 60), zone)
                if start > at:
                    return start
        return None

    def to_json(self) -> dict[str, object]:
        """As config.json gives it to the pages."""
        return {
            "timezone": self.timezone,
            "weekly": {
                DAYS[d]: [
                    [_clock(w.start), _clock(w.end - 1440 if w.end > 1440 else w.end)]
                    for w in windows
                ]
                for d, windows in sorted(self.weekly.items())
            },
            "closedDates": sorted(d.isoformat() for d in self.closed_dates),
        }


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(value: object, where: str) -> int:
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise ValueError(f"{where}: {value!r} is not a time of day as HH:MM")
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def parse(raw: str | dict[str, object] | None) -> Hours | None:
    """The schedule from its JSON (a string or parsed); None for none (open 24/7).

    ValueError names what is wrong, for the operator.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    data = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(data, dict):
        raise ValueError("opening hours must be a JSON object")
    unknown = set(data) - {"timezone", "weekly", "closedDates"}
    if unknown:
        raise ValueError(f"opening hours: unknown keys {sorted(unknown)}")
    zone = data.get("timezone")
    if not isinstance(zone, str):
        raise ValueError("opening hours: timezone (an IANA name such as Europe/Madrid) is needed")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"opening hours: unknown time zone {zone!r}") from None
    weekly_raw = data.get("weekly", {})
    if not isinstance(weekly_raw, dict) or set(weekly_raw) - set(DAYS):
        raise ValueError(f"opening hours: weekly takes the days {', '.join(DAYS)}")
    weekly: dict[int, tuple[Window, ...]] = {}
    for name, spans in weekly_raw.items():
        if not isinstance(spans, list):
            raise ValueError(f"opening hours: {name} must be a list of [start, end]")
        windows = []
        for span in spans:
            if not isinstance(span, list) or len(span) != 2:
                raise ValueError(f"opening hours: {name}: {span!r} is not [start, end]")
            start, end = _minutes(span[0], name), _minutes(span[1], name)
            if start == 1440:
                raise ValueError(f"opening hours: {name}: a window cannot start at 24:00")
            if end == start:
                raise ValueError(f"opening hours: {name}: {span!r} is empty")
            windows.append(Window(start, end if end > start else end + 1440))
        weekly[DAYS.index(name)] = tuple(windows)
    closed_raw = data.get("closedDates", [])
    if not isinstance(closed_raw, list):
        raise ValueError("opening hours: closedDates must be a list of YYYY-MM-DD")
    try:
        closed = frozenset(date.fromisoformat(str(d)) for d in closed_raw)
    except ValueError:
        raise ValueError("opening hours: closedDates must be a list of YYYY-MM-DD") from None
    return Hours(timezone=zone, weekly=weekly, closed_dates=closed)


def closed_message(opens: datetime | None, hours: Hours) -> str:
    """What a seeker reads when they ask for a chat while the service is closed."""
    if opens is None:
        return "Kindred is closed and no opening is planned yet. The crisis lines can help now."
    local = opens.astimezone(hours.zone)
    when = f"{local:%A} {local.day} {local:%B} at {local:%H:%M} ({hours.timezone} time)"
    return f"Kindred is closed now. It opens again on {when}. The crisis lines can help now."
