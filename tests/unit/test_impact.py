"""What an operator reads of the check-in totals: no count under 10, nothing that reveals one.

The report (`python -m tools.impact`, kindred.impact.readable) shows one ended calendar month;
every count it shows counts at least MIN_CELL answers, and the hidden ones cannot be worked out
from the shown ones and the total (docs/impact.md).
"""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from kindred.impact import (
    CHANGE_VALUES,
    MIN_CELL,
    CheckinTally,
    has_ended,
    month_after,
    month_of,
    readable,
    report_text,
    suppress,
)
from tests.unit.harness import make_services
from tools import impact as impact_tool


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _distress(counts: dict[int, int]) -> tuple[int, ...]:
    return tuple(counts.get(v, 0) for v in range(11))


def _change(counts: dict[int, int]) -> tuple[int, ...]:
    return tuple(counts.get(v, 0) for v in CHANGE_VALUES)


# ---- the suppression rule ---------------------------------------------------------------------


def test_a_row_of_fewer_than_ten_answers_is_hidden_whole() -> None:
    """Given 9 answers in a row, then neither the total nor any cell is shown."""
    assert suppress({"yes": 0, "no": 9, "unsure": 0}) == (
        None,
        dict.fromkeys(["yes", "no", "unsure"]),
    )


def test_a_small_cell_is_hidden_and_so_is_the_next_smallest_so_it_cannot_be_subtracted() -> None:
    """Given 25 answers: no 15, unsure 7, yes 3, then yes and unsure are hidden (both under 10),
    and they add up to 10, so the total may show. Given no 30, unsure 12, yes 2: yes alone is
    hidden but 30 + 12 from 44 would give it away, so unsure (the smallest shown) goes too."""
    assert suppress({"yes": 3, "no": 15, "unsure": 7}) == (
        25,
        {"yes": None, "no": 15, "unsure": None},
    )
    assert suppress({"yes": 2, "no": 30, "unsure": 12}) == (
        44,
        {"yes": None, "no": 30, "unsure": None},
    )


def test_an_empty_cell_is_hidden_too() -> None:
    """Given no `yes` at all among 40 answers, then `yes` is hidden (an empty cell says that
    nobody gave that answer), and the next smallest with it."""
    total, cells = suppress({"yes": 0, "no": 28, "unsure": 12})
    assert (total, cells) == (40, {"yes": None, "no": 28, "unsure": None})


def _shown_counts(rows: Any) -> list[int]:
    """Every count the report shows (means and differences are not counts)."""
    found: list[int] = []
    if isinstance(rows, dict):
        for key, value in rows.items():
            if key in ("mean", "differenceOfMeans", "minimumCount", "month"):
                continue
            found += _shown_counts(value)
    elif isinstance(rows, int) and not isinstance(rows, bool):
        found.append(rows)
    return found


def _printed_counts(text: str) -> list[str]:
    return re.findall(r": (\d+)$", text, re.MULTILINE)


def _random_tally(rng: random.Random) -> CheckinTally:
    def spread(n: int) -> tuple[int, ...]:
        return tuple(rng.choice([0, 0, 1, 2, 5, 9, 10, 14, 40]) for _ in range(n))

    return CheckinTally(
        checkins=rng.choice([0, 3, 9, 10, 57]),
        before=spread(11),
        suicidal_now=spread(3),
        after=spread(11),
        change=spread(21),
    )


def test_no_shown_count_is_under_ten_and_no_hidden_one_can_be_recovered() -> None:
    """Given 500 random months of totals, then every count the report shows is at least 10;
    in every row the hidden cells add up to 10 or more (or there are none), so no hidden count
    is the total less the shown ones; and a mean is shown only over 10 answers or more."""
    rng = random.Random(12)
    for _ in range(500):
        rows = readable("2025-04", _random_tally(rng))
        assert all(count >= MIN_CELL for count in _shown_counts(rows)), rows
        for name in ("suicidalNow", "distressBefore", "distressAfter", "change"):
            row = rows[name]
            cells = row if name == "suicidalNow" else row["bands"]
            cells = {k: v for k, v in cells.items() if k != "answers"}
            if row["answers"] is None:
                assert set(cells.values()) == {None}
                assert row.get("mean") is None
                continue
            hidden = row["answers"] - sum(v for v in cells.values() if v is not None)
            assert hidden == 0 or hidden >= MIN_CELL, rows
            if name != "suicidalNow":
                assert row["mean"] is not None


def test_the_report_shows_means_the_change_and_the_difference_of_means() -> None:
    """Given a month: 20 distress answers before (10 of 8, 10 of 6), 12 after (all 4), 12
    changes of -3 and 21 suicide answers (1 yes, 15 no, 5 not sure),
    then the means are 7, 4 and -3, the difference of the means -3; no band
    under 10 is shown, nor one that would give it away (0-3 is empty, so 4-6 is hidden too)."""
    tally = CheckinTally(
        checkins=21,
        before=_distress({8: 10, 6: 10}),
        suicidal_now=(1, 15, 5),
        after=_distress({4: 12}),
        change=_change({-3: 12}),
    )
    rows = readable("2025-04", tally)
    assert rows["checkins"] == 21
    assert rows["distressBefore"] == {
        "answers": 20,
        "mean": 7.0,
        "bands": {"0-3": None, "4-6": None, "7-10": 10},
    }
    # All 12 in one band: the two empty ones would be given away by it, so it is hidden too.
    assert rows["distressAfter"]["bands"] == {"0-3": None, "4-6": None, "7-10": None}
    assert rows["distressAfter"]["answers"] == 12 and rows["distressAfter"]["mean"] == 4.0
    assert rows["change"]["mean"] == -3.0
    assert rows["differenceOfMeans"] == -3.0
    # yes 1 and not sure 5 are hidden; 15 would give away that they make 6: hidden too.
    assert rows["suicidalNow"] == {"answers": 21, "yes": None, "no": None, "unsure": None}
    text = report_text(rows)
    assert "Mean after minus mean before: -3.00" in text
    assert "  yes: fewer than 10 (hidden)" in text
    # Every count printed is 10 or more (a count ends its line; means have decimals).
    assert all(int(n) >= MIN_CELL for n in _printed_counts(text))


def test_a_quiet_month_shows_nothing_but_that_it_was_quiet() -> None:
    """Given a month with 4 check-ins (distress 9, `yes`), then the report shows no count and
    no mean at all."""
    tally = CheckinTally(checkins=4, before=_distress({9: 4}), suicidal_now=(4, 0, 0))
    rows = readable("2025-04", tally)
    assert _shown_counts(rows) == []
    assert rows["distressBefore"]["mean"] is None and rows["differenceOfMeans"] is None
    assert _printed_counts(report_text(rows)) == []


# ---- months -----------------------------------------------------------------------------------


def test_months_are_utc_calendar_months() -> None:
    assert month_of(_epoch("2025-12-31T23:59:59")) == "2025-12"
    assert month_of(_epoch("2026-01-01T00:00:00")) == "2026-01"
    assert month_after("2025-12") == "2026-01" and month_after("2025-01") == "2025-02"
    assert not has_ended("2025-12", _epoch("2025-12-31T23:59:59"))
    assert has_ended("2025-12", _epoch("2026-01-01T00:00:00"))


# ---- the tool ---------------------------------------------------------------------------------


def _impact_with(month: str, tally: CheckinTally) -> Any:
    svc = make_services()
    svc.impact.add_checkins(month, tally)
    return svc.impact


def test_the_tool_prints_an_ended_month_with_small_counts_hidden(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Given totals for an ended month, when an operator runs the report (text, then JSON),
    then it prints them with the counts under 10 hidden."""
    tally = CheckinTally(
        checkins=30, before=_distress({7: 25, 5: 6, 2: 5}), suicidal_now=(3, 20, 7)
    )
    store = _impact_with("2024-02", tally)
    assert impact_tool.main(["--month", "2024-02"], impact=store) == 0
    text = capsys.readouterr().out
    assert "Kindred check-ins, 2024-02 (UTC)" in text
    assert "Check-ins answered before a chat: 30" in text
    assert "  yes: fewer than 10 (hidden)" in text
    assert impact_tool.main(["--month", "2024-02", "--json"], impact=store) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows["suicidalNow"] == {"answers": 30, "yes": None, "no": 20, "unsure": None}
    assert rows["distressBefore"]["bands"] == {"0-3": None, "4-6": None, "7-10": 25}


def test_the_tool_refuses_a_month_that_has_not_ended(capsys: pytest.CaptureFixture[str]) -> None:
    """Given the month now running, when an operator asks for it (or for nonsense), then the
    tool refuses, says why, and prints no figure."""
    store = _impact_with(month_of(datetime.now(UTC).timestamp()), CheckinTally(checkins=50))
    current = month_of(datetime.now(UTC).timestamp())
    assert impact_tool.main(["--month", current], impact=store) == 1
    out = capsys.readouterr()
    assert out.out == "" and "has not ended yet" in out.err
    assert impact_tool.main(["--month", "2025-13"], impact=store) == 1
    assert "calendar month" in capsys.readouterr().err


def test_the_default_month_is_the_last_one_ended() -> None:
    assert impact_tool.last_ended_month(_epoch("2026-01-15T12:00:00")) == "2025-12"
    assert impact_tool.last_ended_month(_epoch("2025-07-01T00:00:00")) == "2025-06"
