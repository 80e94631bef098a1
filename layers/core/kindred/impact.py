"""The seekers' check-in answers as monthly totals, and what of them an operator may read."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from kindred.frozen import Frozen

# A count under this many answers is never shown, nor anything that would give it away
# (docs/impact.md: the suppression rule).
MIN_CELL = 10
DISTRESS_VALUES = tuple(range(11))  # the distress scale, 0 (none) to 10 (the worst)
CHANGE_VALUES = tuple(range(-10, 11))  # after minus before, one person's two answers
SUICIDAL_ANSWERS = ("yes", "no", "unsure")


def _zeros(n: int) -> tuple[int, ...]:
    return (0,) * n


class CheckinTally(Frozen):
    """Counts of check-in answers: a month's totals, or one answer's share of them.

    Nothing in it says whose answers they were, in which chat, or when within the month.
    """

    checkins: int = 0  # check-ins before a chat with at least one answer
    before: tuple[int, ...] = _zeros(len(DISTRESS_VALUES))  # distress before, by value
    suicidal_now: tuple[int, ...] = _zeros(len(SUICIDAL_ANSWERS))  # yes, no, unsure
    after: tuple[int, ...] = _zeros(len(DISTRESS_VALUES))  # distress after, by value
    change: tuple[int, ...] = _zeros(len(CHANGE_VALUES))  # after - before, -10..10

    def __add__(self, other: CheckinTally) -> CheckinTally:
        summed: dict[str, Any] = {}
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, tuple):
                summed[f.name] = tuple(a + b for a, b in zip(mine, theirs, strict=True))
            else:
                summed[f.name] = mine + theirs
        return CheckinTally(**summed)

    def is_empty(self) -> bool:
        return self == CheckinTally()


def month_of(epoch_seconds: float) -> str:
    """The calendar month (UTC) a moment falls in, as the totals are kept: "2025-05"."""
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m")


def month_after(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def has_ended(month: str, now: float) -> bool:
    """Whether the month is over (UTC): only an ended month is reported."""
    return month_of(now) >= month_after(month)


# ---- what an operator reads ------------------------------------------------------------------

Cells = dict[str, int | None]  # a row's cells; None: hidden (fewer than MIN_CELL, or revealing)


def suppress(cells: dict[str, int]) -> tuple[int | None, Cells]:
    """A row of counts as it may be shown: (its total, its cells); None where hidden.

    A row of fewer than MIN_CELL answers is hidden whole. Otherwise each cell under MIN_CELL
    is hidden (0 too: an empty cell says nobody gave that answer); and if the hidden cells
    add up to fewer than MIN_CELL, the smallest shown cells are hidden as well until they do,
    so that no hidden count can be worked out by taking the shown ones from the total.
    """
    total = sum(cells.values())
    if total < MIN_CELL:
        return None, dict.fromkeys(cells)
    hidden = {name for name, count in cells.items() if count < MIN_CELL}
    shown = sorted((count, name) for name, count in cells.items() if name not in hidden)
    while hidden and sum(cells[name] for name in hidden) < MIN_CELL and shown:
        hidden.add(shown.pop(0)[1])
    return total, {name: None if name in hidden else count for name, count in cells.items()}


def _mean(counts: dict[int, int]) -> float | None:
    n = sum(counts.values())
    if n < MIN_CELL:
        return None
    return round(sum(value * count for value, count in counts.items()) / n, 2)


# The distress scale in three bands (per value, nearly every cell would be hidden).
DISTRESS_BANDS = (("0-3", range(0, 4)), ("4-6", range(4, 7)), ("7-10", range(7, 11)))
CHANGE_BANDS = (
    ("lower by 3 or more", range(-10, -2)),
    ("lower by 1 or 2", range(-2, 0)),
    ("the same", range(0, 1)),
    ("higher", range(1, 11)),
)


def _banded(counts: dict[int, int], bands: tuple[tuple[str, range], ...]) -> dict[str, int]:
    return {name: sum(counts.get(v, 0) for v in values) for name, values in bands}


def readable(month: str, tally: CheckinTally) -> dict[str, Any]:
    """A month's totals as an operator may read them: every count that is shown counts at
    least MIN_CELL answers; a hidden one is None. Means only over MIN_CELL answers or more."""
    before = dict(zip(DISTRESS_VALUES, tally.before, strict=True))
    after = dict(zip(DISTRESS_VALUES, tally.after, strict=True))
    change = dict(zip(CHANGE_VALUES, tally.change, strict=True))
    checkins, _ = suppress({"all": tally.checkins})
    suicidal_total, suicidal = suppress(
        dict(zip(SUICIDAL_ANSWERS, tally.suicidal_now, strict=True))
    )
    rows: dict[str, Any] = {"month": month, "minimumCount": MIN_CELL, "checkins": checkins}
    rows["suicidalNow"] = {"answers": suicidal_total, **suicidal}
    for name, counts, bands in (
        ("distressBefore", before, DISTRESS_BANDS),
        ("distressAfter", after, DISTRESS_BANDS),
        ("change", change, CHANGE_BANDS),
    ):
        total, cells = suppress(_banded(counts, bands))
        rows[name] = {"answers": total, "mean": _mean(counts), "bands": cells}
    mean_before, mean_after = rows["distressBefore"]["mean"], rows["distressAfter"]["mean"]
    rows["differenceOfMeans"] = (
        None if mean_before is None or mean_after is None else round(mean_after - mean_before, 2)
    )
    return rows


def _count(value: int | None) -> str:
    return f"fewer than {MIN_CELL} (hidden)" if value is None else str(value)


def _number(value: float | None, unit: str = "") -> str:
    return "not shown (too few answers)" if value is None else f"{value:+.2f}{unit}"


def report_text(rows: dict[str, Any]) -> str:
    """readable()'s rows as the plain text the report prints (docs/impact.md reads it)."""
    lines = [
        f"Kindred check-ins, {rows['month']} (UTC). Counts under {MIN_CELL} are hidden.",
        "",
        f"Check-ins answered before a chat: {_count(rows['checkins'])}",
        "",
        '"Are you thinking about suicide right now?"',
        f"  answers: {_count(rows['suicidalNow']['answers'])}",
    ]
    for answer, words in (("yes", "yes"), ("no", "no"), ("unsure", "not sure")):
        lines.append(f"  {words}: {_count(rows['suicidalNow'][answer])}")
    titles = {
        "distressBefore": "Distress before a chat (0 none, 10 the worst)",
        "distressAfter": "Distress after a chat (0 none, 10 the worst)",
        "change": "Change in distress, after minus before, where one page gave both",
    }
    for name, title in titles.items():
        row = rows[name]
        mean = row["mean"]
        mean_words = "not shown (too few answers)" if mean is None else f"{mean:.2f}"
        if name == "change":
            mean_words = _number(mean)
        lines += ["", title, f"  answers: {_count(row['answers'])}", f"  mean: {mean_words}"]
        lines += [f"  {band}: {_count(count)}" for band, count in row["bands"].items()]
    lines += [
        "",
        f"Mean after minus mean before: {_number(rows['differenceOfMeans'])}",
        "(negative: less distress after; not a measure of what the chat did: docs/impact.md)",
    ]
    return "\n".join(lines)
