"""The contact-details detector (kindred.contact_details) on its cases, English and Spanish.

tests/data/contact_details_cases.jsonl holds the development cases, one JSON object a line:
`text`, `lang` (en, es) and `kinds`, the kinds the message holds in the order phone, email,
handle ([] for the hard negatives: times, prices, dates, years, ages, percentages, counts,
service numbers, an "@" for "at", platforms named without a name). Every case must read exactly
as labelled. A held-out set, written apart from these rules, is measured by the lead.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from kindred.contact_details import KINDS, contact_details_in

CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "contact_details_cases.jsonl"


def _cases() -> list[dict[str, Any]]:
    lines = CASES_FILE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


CASES = _cases()


def _ids(case: dict[str, Any]) -> str:
    return f"{case['lang']}-{'+'.join(case['kinds']) or 'none'}-{case['text'][:40]}"


def test_the_cases_are_bilingual_and_balanced() -> None:
    """Given the case file, then it has each kind and hard negatives in both languages, at
    least as many negatives as positives, and no case twice."""
    texts = [case["text"] for case in CASES]
    assert len(texts) == len(set(texts))
    for lang in ("en", "es"):
        ours = [case for case in CASES if case["lang"] == lang]
        for kind in KINDS:
            assert sum(kind in case["kinds"] for case in ours) >= 10, (lang, kind)
        negatives = sum(not case["kinds"] for case in ours)
        assert negatives >= len(ours) - negatives, lang
    for case in CASES:
        assert case["kinds"] == [kind for kind in KINDS if kind in case["kinds"]], case


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_each_case_reads_as_labelled(case: dict[str, Any]) -> None:
    """Given a message of the case file, then the detector finds exactly its kinds."""
    assert contact_details_in(case["text"]) == case["kinds"]


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("", []),
        ("hello", []),
        ("call 07700 900123, mail laura@example.org, insta @laura_92", list(KINDS)),
        ("@laura_92 07700 900123 laura@example.org", list(KINDS)),
        ("laura@example.org laura@example.org", ["email"]),
    ],
)
def test_kinds_come_once_each_in_a_fixed_order(text: str, kinds: list[str]) -> None:
    """Given a message with several contact details, some twice, then each kind is named once,
    in the order phone, email, handle, whatever order they were written in."""
    assert contact_details_in(text) == kinds


@pytest.mark.parametrize(
    "text",
    [
        "call\u200b 0\u200b7700 900123",  # zero-width spaces between the digits
        "call \uff10\uff17\uff17\uff10\uff10 \uff19\uff10\uff10\uff11\uff12\uff13",  # full width
        "call 07700\u2013900\u2013123",  # en dashes
    ],
)
def test_invisible_characters_and_look_alike_digits_do_not_hide_a_number(text: str) -> None:
    """Given a phone number broken up with zero-width characters, written in full-width digits,
    or joined with en dashes, then it is still a phone number."""
    assert contact_details_in(text) == ["phone"]


def test_every_crisis_line_of_the_directory_may_be_written() -> None:
    """Given each phone and SMS number of Kindred's own crisis directory (a public service, not
    a person), written as the directory has it, then it is not a contact detail."""
    from kindred.safety import crisis_directory

    numbers = {
        str(line[key])
        for lines in crisis_directory().values()
        for line in lines
        for key in ("phone", "sms")
        if line.get(key)
    }
    assert numbers
    assert [n for n in sorted(numbers) if contact_details_in(f"call {n} now")] == []


def test_every_number_of_the_referral_directory_may_be_written() -> None:
    """Given each phone and SMS number of the organisation's referral directory (a service, not
    a person), written as the directory has it, then a volunteer may type it in a message."""
    from kindred.referrals import directory

    numbers = {str(value) for item in directory() for value in (item.phone, item.sms) if value}
    assert len(numbers) >= 5
    assert [n for n in sorted(numbers) if contact_details_in(f"you can call {n}")] == []


def test_a_long_hostile_message_is_read_in_good_time() -> None:
    """Given messages of 4000 characters built to make patterns backtrack, then each is read
    in well under a second (the relay must not stall on one)."""
    hostile = [
        "9" * 4000,
        "1 " * 2000,
        "1." * 2000,
        "a@" * 2000,
        "x at y dot " * 400,
        "my insta is " * 333,
        "seiscientos " * 333,
        "(1)" * 1333,
        "add me on snap " * 266,
    ]
    for text in hostile:
        started = time.perf_counter()
        contact_details_in(text[:4000])
        assert time.perf_counter() - started < 0.5, text[:20]
