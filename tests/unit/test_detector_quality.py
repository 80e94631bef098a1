"""The crisis detector's quality, measured on messages written apart from its rules.

The held-out part of the corpus (tests/data/crisis/heldout.jsonl) was written before the rules
changed, by writers who never saw them; while the rules were tuned only its counts per kind
were read. The bounds are issue 8's: recall of risk at least 0.95 overall, 0.9 in every risk
kind and 0.97 in every `imminent` kind; false alarms at most 0.05 overall and 0.1 in every
not-risk kind. The table by kind, language and style is printed by
`.venv/bin/pytest tests/unit/test_detector_quality.py -s -p no:logging`.
Speed is measured, not asserted, by `make bench-detector`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from kindred.crisis_text import _lexicon
from kindred.safety import assess
from tools.crisis_corpus import (
    LANGUAGES,
    Case,
    Figures,
    detector,
    figures,
    imminent_kinds,
    load,
    risk_kinds,
    safe_kinds,
)

ROOT = Path(__file__).resolve().parents[2]
FIRST_SET = ROOT / "tests" / "data" / "crisis_cases.jsonl"
MIN_RECALL = 0.95
MIN_RECALL_PER_KIND = 0.9
MIN_RECALL_IMMINENT = 0.97
MAX_FALSE_ALARMS = 0.05
MAX_FALSE_ALARMS_PER_KIND = 0.1


@cache
def heldout() -> Figures:
    return figures(load("heldout"), detector())


def test_the_corpus_is_as_large_bilingual_and_balanced_as_asked() -> None:
    """Given both parts of the corpus, then together they hold at least 800 messages, at least
    35% in Spanish, and each part at least 20 per kind and language; the held-out part has as
    many hard negatives as messages at risk."""
    parts = {part: load(part) for part in ("dev", "heldout")}
    every = [case for cases in parts.values() for case in cases]
    assert len(every) >= 800
    assert sum(c.lang == "es" for c in every) / len(every) >= 0.35
    for part, cases in parts.items():
        for kind in (*risk_kinds(), *safe_kinds()):
            for lang in LANGUAGES:
                count = sum(c.kind == kind and c.lang == lang for c in cases)
                assert count >= 20, (part, kind, lang, count)
    held = parts["heldout"]
    assert sum(not c.risk for c in held) >= sum(c.risk for c in held)
    assert {c.writer for c in held}.isdisjoint({c.writer for c in parts["dev"]})
    assert {c.text for c in held}.isdisjoint({c.text for c in parts["dev"]})


def test_recall_and_false_alarms_on_the_held_out_part() -> None:
    """Given the held-out part, when every message is assessed, then at least 95% of those at
    risk are flagged and at most 5% of the others."""
    figures = heldout()
    print("\n" + figures.table())
    assert figures.recall["all"].rate >= MIN_RECALL, figures.recall["all"].cell()
    assert figures.false_alarms["all"].rate <= MAX_FALSE_ALARMS, figures.false_alarms["all"].cell()


@pytest.mark.parametrize("kind", risk_kinds())
def test_recall_in_every_risk_kind(kind: str) -> None:
    """Given the held-out messages of one risk kind (both languages), then at least 90% are
    flagged, and at least 97% where the kind is `imminent`."""
    bound = MIN_RECALL_IMMINENT if kind in imminent_kinds() else MIN_RECALL_PER_KIND
    tally = heldout().recall[kind]
    assert tally.total >= 40
    assert tally.rate >= bound, f"{kind}: {tally.cell()}"


@pytest.mark.parametrize("kind", safe_kinds())
def test_false_alarms_in_every_not_risk_kind(kind: str) -> None:
    """Given the held-out messages of one kind that only looks like risk (figurative speech,
    past risk now over, denials, research, grief...), then at most 10% raise an alarm."""
    tally = heldout().false_alarms[kind]
    assert tally.total >= 40
    assert tally.rate <= MAX_FALSE_ALARMS_PER_KIND, f"{kind}: {tally.cell()}"


def test_imminent_messages_are_flagged_at_the_imminent_level() -> None:
    """Given the held-out messages of the `imminent` kinds that are flagged, then nine in ten
    carry the level `imminent`, the one that alerts supervisors at once."""
    run = detector()
    cases = [c for c in load("heldout") if c.kind in imminent_kinds()]
    levels = [run(c.text)[1] for c in cases if run(c.text)[0]]
    share = sum(level == "imminent" for level in levels) / len(levels)
    print(f"\nimminent kinds flagged at the imminent level: {share:.3f} of {len(levels)}")
    assert share >= 0.9


def _first_set() -> list[dict[str, Any]]:
    lines = FIRST_SET.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_the_first_labelled_set_still_holds() -> None:
    """Given the first labelled set (short explicit messages written with the first rules, now
    also training material), then at least 95% of those at risk are flagged, at most 5% of the
    others, and every message it gets wrong is marked in its note as a known error."""
    cases = _first_set()
    wrong = [c for c in cases if assess(c["text"]).risk != c["risk"]]
    for case in wrong:
        kind = "missed     " if case["risk"] else "false alarm"
        print(f"\n{kind} [{case['lang']}] {case['text']!r}: {case['note']}")
    at_risk = [c for c in cases if c["risk"]]
    safe = [c for c in cases if not c["risk"]]
    assert sum(c in wrong for c in at_risk) <= 0.05 * len(at_risk)
    assert sum(c in wrong for c in safe) <= 0.05 * len(safe)
    known = ("KNOWN MISS", "KNOWN FALSE ALARM", "FALLO CONOCIDO", "FALSA ALARMA CONOCIDA")
    assert [c["text"] for c in wrong if not any(k in c["note"] for k in known)] == []


def test_the_rules_are_compiled_once_and_reused() -> None:
    """Given many messages, when they are checked, then the term files are read and the rules
    compiled once, not per message (what keeps a message at microseconds)."""
    _lexicon.cache_clear()
    cases: list[Case] = load("heldout")[:200]
    for case in cases:
        assess(case.text)
    info = _lexicon.cache_info()
    assert info.misses == 1
    assert info.hits >= len(cases) - 1


def test_importing_the_detector_loads_nothing_heavy() -> None:
    """Given a fresh interpreter, when the detector is imported and used, then no heavy or
    networked library comes with it: the statistical net is scored in pure Python."""
    code = (
        "import sys; before = set(sys.modules); "
        "from kindred.safety import detect_risk; detect_risk('i want to die'); "
        "print(' '.join(sorted({m.split('.')[0] for m in set(sys.modules) - before})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "layers" / "core")},
    ).stdout.split()
    heavy = {"torch", "numpy", "scipy", "sklearn", "requests", "urllib3", "boto3", "spacy"}
    assert heavy.isdisjoint(out), out


@pytest.mark.slow
def test_the_weights_are_what_the_training_script_makes_of_the_development_part() -> None:
    """Given the development part, when the net is trained again, then the weights file is
    the same to the byte: the file is the script's output, nothing edited by hand."""
    result = subprocess.run(
        [sys.executable, "-m", "tools.train_crisis_model", "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
