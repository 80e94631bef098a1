"""Relayed text: control and bidirectional-override characters never reach the other person."""

from __future__ import annotations

import unicodedata

import pytest

from kindred.relayed_text import relayable

BIDI_CONTROLS = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
BIDI_MARKS = ["\u200e", "\u200f", "\u061c"]  # LRM, RLM, ALM
CONTROLS = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cc"]


def test_every_control_character_but_newline_and_tab_is_removed() -> None:
    """Given each Unicode control character (category Cc) between two letters, when cleaned,
    then only newline and tab are still there."""
    assert len(CONTROLS) == 65  # C0, DEL and C1
    kept = [c for c in CONTROLS if relayable(f"a{c}b") != "ab"]
    assert kept == ["\t", "\n"]
    assert relayable("line one\nline two\tend") == "line one\nline two\tend"
    assert relayable("windows\r\nline") == "windows\nline"


@pytest.mark.parametrize("char", BIDI_CONTROLS + BIDI_MARKS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_bidirectional_control_and_mark_is_removed(char: str) -> None:
    """Given an embedding, override, isolate or direction mark inside a text, when cleaned,
    then it is gone and the rest is as written."""
    assert relayable(f"call 555{char}0199 now{char}") == "call 5550199 now"


def test_a_reversed_phone_number_reads_as_it_is_sent() -> None:
    """Given a right-to-left override that would show "9910-555" as a different number, when
    cleaned, then the digits are shown in the order they were sent."""
    assert relayable("ring \u202e9910-555\u202c please") == "ring 9910-555 please"


@pytest.mark.parametrize(
    "text",
    [
        "שלום, מה שלומך?",  # Hebrew
        "مرحبا، كيف حالك؟",  # Arabic
        "👩\u200d👩\u200d👧 family",  # an emoji sequence joined by ZWJ
        "naïve café — “quoted” ✓",
        "",
    ],
    ids=["hebrew", "arabic", "zwj-emoji", "punctuation", "empty"],
)
def test_ordinary_text_in_any_script_is_unchanged(text: str) -> None:
    """Given right-to-left scripts, emoji joined by zero-width joiners and typography, when
    cleaned, then nothing changes."""
    assert relayable(text) == text


def test_only_hidden_characters_leave_nothing() -> None:
    """Given a text made only of control and bidirectional characters, then nothing is left
    (the protocol refuses such a message as empty)."""
    assert relayable("\u202e\u2066\x00\x1b\u200f") == ""
