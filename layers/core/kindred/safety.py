"""Crisis signals: whether a seeker's words signal a risk of suicide or self-harm, and the lines.

A message is read twice. The rules of the taxonomy (`kindred.signals`, data in
`kindred/data/crisis_signals.json` and `crisis_taxonomy.json`) read it as structure: the signals
of published practice (a wish to die, a plan, preparation, a goodbye, self-injury, an attempt
under way, means at hand, a dangerous place, someone else at risk), each turned off by a
negation, by the past tense of someone safe now, or by a film, a song, a study; turned to
`other_at_risk` when it is about someone else. The statistical net (`kindred.risk_model`)
reads the words with what the rules found, and holds on phrasings no rule lists. Text is first
normalised (`kindred.crisis_text`). Everything is read once per process and costs tens of
microseconds a message: no network, no model download. The README and docs/detector.md give
the measured figures and the known limits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, cast

from kindred import crisis_text, risk_model, signals
from kindred.crisis_text import cut_figurative, normalise
from kindred.protocol import ResourceItem
from kindred.signals import LEVELS, Level

__all__ = [
    "LEVELS",
    "Assessment",
    "Level",
    "assess",
    "crisis_directory",
    "crisis_lines",
    "detect_risk",
]

INTL = "INTL"  # the directory's international fallback


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the detector found: whether there is a risk, at which level, and what said so.

    `rule` is the id of the strongest signal in crisis_signals.json (e.g. "means_now"), or
    "net" when the statistical net alone found the risk: for tests and metrics. The matched
    text itself is never returned, so it cannot end up in a log.
    """

    risk: bool
    rule: str | None = None
    level: Level | None = None  # set exactly when risk is


def _read_data(name: str) -> Any:
    return json.loads(resources.files("kindred.data").joinpath(name).read_text(encoding="utf-8"))


def assess(text: str | None) -> Assessment:
    """Whether the text signals a risk of suicide or self-harm, its level, and what said so.

    The rules of the taxonomy (kindred.signals) nominate and the statistical net
    (kindred.risk_model) decides, reading the words together with what the rules found: a
    message the rules flag is at risk unless the net is clearly against it, one they do not
    flag only if the net says so, and an `imminent` signal of the rules whatever the net says.
    The level is the higher of the net's and the rules'. Without a trained net (no
    crisis_model.json), the rules alone decide.
    """
    if not text or text.isspace():
        return Assessment(risk=False)
    plain, found = _read(text)
    strongest = found.strongest
    net = risk_model.model()
    if net is None:
        if strongest is None:
            return Assessment(risk=False)
        return Assessment(risk=True, rule=strongest.id, level=strongest.level)
    scores = net.scores(risk_model.features(plain, found.features))
    at_risk = net.is_risk(scores, rules_flag=strongest is not None)
    if not at_risk and (strongest is None or strongest.level != "imminent"):
        return Assessment(risk=False)
    level = cast(Level, net.level(scores))
    if strongest is not None and LEVELS.index(strongest.level) > LEVELS.index(level):
        level = strongest.level
    return Assessment(risk=True, rule=strongest.id if strongest else "net", level=level)


def model_features(text: str) -> set[str]:
    """What the statistical net reads of a message (for training it)."""
    plain, found = _read(text)
    return risk_model.features(plain, found.features)


def reading(text: str) -> signals.Reading:
    """The taxonomy's signals in the text, read clause by clause (kindred.signals), with
    figurative uses and names ("me muero de risa", "Suicide Squad") cut out first."""
    return _read(text)[1]


def _read(text: str) -> tuple[str, signals.Reading]:
    # The text is normalised once, clause by clause (normalising drops the punctuation that
    # tells where a clause ends); the whole message is those clauses joined.
    plain = [normalise(clause) for clause in signals.clauses(text)]
    return " ".join(plain), signals.read([cut_figurative(clause) for clause in plain])


def reload() -> None:
    """Read the data files and the net again on the next assessment (after editing them, or to
    measure the first call)."""
    crisis_text.reload()
    signals.taxonomy.cache_clear()
    risk_model.model.cache_clear()


def detect_risk(text: str | None) -> bool:
    """True when the text signals a risk of suicide or self-harm."""
    return assess(text).risk


@cache
def _directory() -> dict[str, list[ResourceItem]]:
    raw = _read_data("resources.json")
    return {
        code: [ResourceItem.model_validate(item) for item in items]
        for code, items in raw.items()
        if not code.startswith("_")
    }


def crisis_directory() -> dict[str, list[dict[str, Any]]]:
    """The whole directory as the pages are given it (by country code, then INTL)."""
    return {
        code: [item.model_dump(exclude_none=True) for item in items]
        for code, items in _directory().items()
    }


def crisis_lines(country: str | None) -> list[ResourceItem]:
    """The crisis lines of a country, then the international fallback (each line once)."""
    directory = _directory()
    code = (country or "").strip().upper()
    local = directory.get(code, []) if code != INTL else []
    lines: list[ResourceItem] = []
    for item in (*local, *directory.get(INTL, [])):
        if item not in lines:
            lines.append(item)
    return lines
