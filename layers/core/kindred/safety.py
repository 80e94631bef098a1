"""Crisis signals: detects risk of suicide or self-harm in seeker text, and the crisis lines."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from importlib import resources

from kindred.protocol import ResourceItem

_REPEATS = re.compile(r"(.)\1{2,}")
_LETTER_RUNS = re.compile(r"([a-z])\1+")
_NON_WORD = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")
INTL = "INTL"  # the directory's international fallback


def normalise(text: str) -> str:
    """Lower case, no accents, no punctuation, letters repeated 3+ times folded to two."""
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    plain = plain.replace("'", "").replace("\u2019", "")
    plain = _NON_WORD.sub(" ", plain)
    plain = _REPEATS.sub(r"\1\1", plain)
    return _SPACES.sub(" ", plain).strip()


@cache
def _patterns() -> re.Pattern[str]:
    raw = json.loads(resources.files("kindred.data").joinpath("crisis_terms.json").read_text())
    phrases = [p for lang, items in raw.items() if not lang.startswith("_") for p in items]
    return re.compile("|".join(f"(?:{p})" for p in phrases))


def detect_risk(text: str | None) -> bool:
    """True when the text signals a risk of suicide or self-harm."""
    if not text:
        return False
    plain = normalise(text)
    # Stretched letters ("dieeee", "waaaant") fold to two in `plain`, which keeps a doubled
    # letter ("kill", "free") whole but leaves "diee"; a copy with every run of a letter
    # folded to one catches those.
    single = _LETTER_RUNS.sub(r"\1", plain)
    return any(_patterns().search(t) is not None for t in (plain, single))


@cache
def _directory() -> dict[str, list[ResourceItem]]:
    raw = json.loads(resources.files("kindred.data").joinpath("resources.json").read_text())
    return {
        code: [ResourceItem.model_validate(item) for item in items]
        for code, items in raw.items()
        if not code.startswith("_")
    }


def crisis_lines(country: str | None) -> list[ResourceItem]:
    """The crisis lines of a country, then the international fallback (each line once)."""
    directory = _directory()
    code = (country or "").upper()
    local = directory.get(code, []) if code != INTL else []
    return [*local, *directory.get(INTL, [])]
