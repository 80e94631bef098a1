"""The crisis detector's quality on the labelled set tests/data/crisis_cases.jsonl.

Recall of risk must be at least 0.9 and the false-alarm rate on non-risk at most 0.1, overall
and in each language. The figures are printed by
`.venv/bin/pytest tests/unit/test_detector_quality.py -s -p no:logging`.
Speed is measured, not asserted, by `.venv/bin/python bench/detector.py`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kindred.safety import _lexicon, assess

CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "crisis_cases.jsonl"
MIN_RECALL = 0.9
MAX_FALSE_ALARMS = 0.1
LANGUAGES = ("en", "es")


def _cases() -> list[dict[str, Any]]:
    with CASES_FILE.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


CASES = _cases()


@dataclass(frozen=True)
class Figures:
    scope: str
    cases: int
    risk_cases: int
    caught: int
    safe_cases: int
    false_alarms: int

    @property
    def recall(self) -> float:
        return self.caught / self.risk_cases

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.safe_cases

    def line(self) -> str:
        return (
            f"{self.scope:<8} {self.cases:>4} cases | recall {self.recall:.3f} "
            f"({self.caught}/{self.risk_cases}) | false alarms {self.false_alarm_rate:.3f} "
            f"({self.false_alarms}/{self.safe_cases})"
        )


def _figures(scope: str, cases: Iterable[dict[str, Any]]) -> Figures:
    chosen = list(cases)
    at_risk = [c for c in chosen if c["risk"]]
    safe = [c for c in chosen if not c["risk"]]
    return Figures(
        scope=scope,
        cases=len(chosen),
        risk_cases=len(at_risk),
        caught=sum(assess(c["text"]).risk for c in at_risk),
        safe_cases=len(safe),
        false_alarms=sum(assess(c["text"]).risk for c in safe),
    )


def test_the_labelled_set_is_large_balanced_and_bilingual() -> None:
    """Given the labelled set, then it has at least 150 distinct cases, each well formed, about
    half of them at risk, and at least 30% in Spanish."""
    assert len(CASES) >= 150
    for case in CASES:
        assert set(case) == {"text", "risk", "lang", "note"}, case
        assert isinstance(case["text"], str) and case["text"].strip(), case
        assert isinstance(case["risk"], bool), case
        assert case["lang"] in LANGUAGES, case
        assert case["note"], case
    assert len({c["text"] for c in CASES}) == len(CASES), "a case is listed twice"
    share_at_risk = sum(c["risk"] for c in CASES) / len(CASES)
    assert 0.4 <= share_at_risk <= 0.6
    assert sum(c["lang"] == "es" for c in CASES) / len(CASES) >= 0.3
    for lang in LANGUAGES:
        assert {c["risk"] for c in CASES if c["lang"] == lang} == {True, False}


@pytest.mark.parametrize("scope", ["all", *LANGUAGES])
def test_recall_and_false_alarms_on_the_labelled_set(scope: str) -> None:
    """Given the labelled set (overall and per language), when every case is checked, then at
    least 90% of the cases at risk are caught and at most 10% of the others raise an alarm."""
    figures = _figures(scope, (c for c in CASES if scope in ("all", c["lang"])))
    print("\n" + figures.line())
    assert figures.recall >= MIN_RECALL, figures.line()
    assert figures.false_alarm_rate <= MAX_FALSE_ALARMS, figures.line()


def test_print_the_cases_the_detector_gets_wrong() -> None:
    """Given the labelled set, when it is checked, then the cases the detector gets wrong are
    listed (pytest -s), each marked in its note as a known miss or false alarm: a new error
    is a regression, not a silent change of the figures."""
    wrong = [c for c in CASES if assess(c["text"]).risk != c["risk"]]
    for case in wrong:
        kind = "missed     " if case["risk"] else "false alarm"
        print(f"\n{kind} [{case['lang']}] {case['text']!r}: {case['note']}")
    known = ("KNOWN MISS", "KNOWN FALSE ALARM", "FALLO CONOCIDO", "FALSA ALARMA CONOCIDA")
    unexplained = [c["text"] for c in wrong if not any(k in c["note"] for k in known)]
    assert unexplained == []


def test_the_rules_are_compiled_once_and_reused() -> None:
    """Given many messages, when they are checked, then the term files are read and the rules
    compiled once, not per message (what keeps a message at microseconds)."""
    _lexicon.cache_clear()
    for case in CASES:
        assess(case["text"])
    info = _lexicon.cache_info()
    assert info.misses == 1
    assert info.hits >= len(CASES) - 1  # the first message built them


def test_importing_the_detector_loads_nothing_heavy() -> None:
    """Given a fresh interpreter, when the detector is imported and used, then no heavy or
    networked library comes with it (no model, no HTTP client)."""
    code = (
        "import sys; before = set(sys.modules); "
        "from kindred.safety import detect_risk; detect_risk('i want to die'); "
        "print(' '.join(sorted({m.split('.')[0] for m in set(sys.modules) - before})))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
        env={"PYTHONPATH": str(root / "layers" / "core")},
    ).stdout.split()
    heavy = {"torch", "numpy", "transformers", "sklearn", "requests", "urllib3", "boto3", "spacy"}
    assert heavy.isdisjoint(out), out
