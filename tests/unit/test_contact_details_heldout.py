"""The contact-details detector's quality, measured on messages written apart from its rules.

tests/data/contact_details_heldout.jsonl was written by a session that never saw the detector
or its cases (261 messages, English and Spanish, 117 with a phone number, e-mail address or
handle, 144 traps: times, prices, dates, service numbers, "@" as a word). Only the counts below
are read, never its failures one by one. The bounds were set before the first measurement:
recall at least 0.9 overall and 0.85 in each language; false alarms at most 0.05 overall and
0.08 in each language. The table is printed by
`.venv/bin/pytest tests/unit/test_contact_details_heldout.py -s -p no:logging`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kindred.contact_details import contact_details_in

HELDOUT = Path(__file__).resolve().parents[1] / "data" / "contact_details_heldout.jsonl"
MIN_RECALL = 0.9
MIN_RECALL_PER_LANGUAGE = 0.85
MAX_FALSE_ALARMS = 0.05
MAX_FALSE_ALARMS_PER_LANGUAGE = 0.08


@dataclass(frozen=True)
class Counts:
    contact: int
    caught: int
    clean: int
    false_alarms: int

    @property
    def recall(self) -> float:
        return self.caught / self.contact

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.clean


@cache
def counts_by_language() -> dict[str, Counts]:
    tally: dict[str, list[int]] = {}
    for line in HELDOUT.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        found = bool(contact_details_in(case["text"]))
        t = tally.setdefault(case["lang"], [0, 0, 0, 0])
        if case["contact"]:
            t[0] += 1
            t[1] += found
        else:
            t[2] += 1
            t[3] += found
    return {lang: Counts(*t) for lang, t in sorted(tally.items())}


def _overall() -> Counts:
    per = counts_by_language().values()
    return Counts(*(sum(getattr(c, f) for c in per) for f in Counts.__dataclass_fields__))


def test_the_heldout_set_is_bilingual_and_has_traps() -> None:
    """Given the held-out set, then it has both languages, each with at least 50 messages with
    contact details and 50 traps."""
    per = counts_by_language()
    assert set(per) == {"en", "es"}
    for c in per.values():
        assert c.contact >= 50 and c.clean >= 50


def test_contact_details_are_caught_in_messages_written_apart() -> None:
    """Given messages written by someone who never saw the rules, when each is checked, then
    at least 90% of those with contact details are caught (85% in each language)."""
    for lang, c in counts_by_language().items():
        print(f"{lang}: caught {c.caught}/{c.contact} ({c.recall:.3f})")
        assert c.recall >= MIN_RECALL_PER_LANGUAGE, lang
    assert _overall().recall >= MIN_RECALL


def test_ordinary_messages_written_apart_are_rarely_refused() -> None:
    """Given messages with times, prices, dates and service numbers but no contact details,
    then at most 5% are refused (8% in each language)."""
    for lang, c in counts_by_language().items():
        print(f"{lang}: false alarms {c.false_alarms}/{c.clean} ({c.false_alarm_rate:.3f})")
        assert c.false_alarm_rate <= MAX_FALSE_ALARMS_PER_LANGUAGE, lang
    assert _overall().false_alarm_rate <= MAX_FALSE_ALARMS
