"""What one person writes, cleaned before the server relays it to another person."""

from __future__ import annotations

import re

# Control characters (Unicode category Cc) but tab and newline, and the invisible characters
# that change the direction text is shown in: embeddings and overrides (U+202A..U+202E),
# isolates (U+2066..U+2069) and the marks (LRM U+200E, RLM U+200F, ALM U+061C). A sender could
# use them to make a message read differently from what it says (a phone number or a link
# shown reversed); the pages show each message with dir="auto", which a mark is not needed for.
# Zero-width joiners stay: emoji sequences and some scripts need them.
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def relayable(text: str) -> str:
    """`text` without control characters (tab and newline kept) or bidirectional controls."""
    return _HIDDEN.sub("", text)
