"""Reads a seeker's message as structure: its clauses, the taxonomy's terms, and the signals raised.

The terms and signals are data (`kindred/data/crisis_signals.json`, described in its
`_comment`); this module holds only the structure they are read with. A message is cut into
clauses; in each, a term preceded closely by a negation is negated ("I don't want to die"), a
clause with a past marker is past ("I tried years ago"), a clause that names someone else and
not the writer is about someone else ("my brother has the pills"), and a clause that names a
film, a song, a study or a game is framed. A signal in a past clause of a message that says the
writer is safe now, in a framed clause, or resting on a negated term, is not raised; one about
someone else is raised as `other_at_risk`. Everything read is also handed to the statistical net
as features, so the net can weigh what the rules cannot decide.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, cast

from kindred.phrase_index import PhraseIndex

Level = Literal["concern", "high", "imminent"]
LEVELS: tuple[Level, ...] = ("concern", "high", "imminent")  # from lowest to highest

# Clauses end at sentence punctuation and new lines, and before a contrast: what follows
# "but" is judged on its own ("I'm not suicidal, but I want to disappear").
# An ellipsis is a pause inside a sentence ("i want to... die"), not the end of one.
_CLAUSE_BREAK = re.compile(
    r"(?:[!?;]|(?<!\.)\.(?!\.))[.!?;]*(?=\s|$)|\n+"
    r"|,?\s+(?=(?:but|pero|aunque|though|although|however|sin embargo)\b)",
    re.IGNORECASE,
)
_CONTRAST = re.compile(r"^\s*(?:but|pero|aunque|though|although|however|sin embargo)\b")
DENIED = ("suicide_word", "die_wish", "self_harm", "thoughts")  # what a denial denies
HEDGED = ("die_wish", "thoughts", "burden", "hopeless")  # what may follow "but"
NEGATION_GAP = 1  # at most this many words between a negation and the term it turns
FRAMES = ("media", "fiction", "game", "reported")
CONTEXT_TERMS = (
    "self",
    "other_person",
    "negation",
    "past",
    "safe_now",
    *FRAMES,
    "grief",
    "accident",
    "now_marker",
    "joking",
)
CONTEXT_TERMS_SET = frozenset(CONTEXT_TERMS)
DISTRESS_ONLY = frozenset({*CONTEXT_TERMS, "burden", "hopeless"})


@dataclass(frozen=True, slots=True)
class Signal:
    """A signal the rules raised: its id in crisis_signals.json, its kind and its level."""

    id: str
    kind: str
    level: Level


@dataclass(frozen=True, slots=True)
class Reading:
    """What the rules read in a message: the signals raised, and every feature for the net."""

    signals: tuple[Signal, ...]
    features: frozenset[str]

    @property
    def strongest(self) -> Signal | None:
        return max(self.signals, key=lambda s: LEVELS.index(s.level), default=None)


@dataclass(frozen=True)
class _SignalRule:
    id: str
    kind: str
    all: frozenset[str]
    any: frozenset[str]
    none: frozenset[str]
    none_in_message: frozenset[str]
    example: str


@dataclass(frozen=True)
class _Taxonomy:
    terms: frozenset[str]
    index: PhraseIndex
    rules: tuple[_SignalRule, ...]
    levels: dict[str, Level]
    negation_scope: frozenset[str]  # words a negation reaches over ("not GOING TO hurt myself")


def _read(name: str) -> Any:
    return json.loads(resources.files("kindred.data").joinpath(name).read_text(encoding="utf-8"))


@cache
def taxonomy() -> _Taxonomy:
    """The terms, signal rules and kind levels, read and compiled once per process."""
    raw = _read("crisis_signals.json")
    kinds = _read("crisis_taxonomy.json")["risk"]
    phrases = {
        name: [p for lang in sorted(by_lang) for p in by_lang[lang]]
        for name, by_lang in raw["terms"].items()
    }
    try:
        index = PhraseIndex.build(phrases)
    except ValueError as exc:
        raise ValueError(f"crisis_signals.json: {exc}") from exc
    terms = frozenset(phrases)
    rules = tuple(
        _SignalRule(
            id=str(item["id"]),
            kind=str(item["kind"]),
            all=frozenset(item["all"]),
            any=frozenset(item.get("any", ())),
            none=frozenset(item.get("none", ())),
            none_in_message=frozenset(item.get("none_in_message", ())),
            example=str(item["example"]),
        )
        for item in raw["signals"]
    )
    for rule in rules:
        unknown = sorted((rule.all | rule.any | rule.none | rule.none_in_message) - terms)
        if unknown or rule.kind not in kinds:
            raise ValueError(
                f"crisis_signals.json: signal {rule.id!r} names {unknown or rule.kind}"
            )
    missing = [t for t in CONTEXT_TERMS if t not in terms]
    if missing:
        raise ValueError(f"crisis_signals.json: terms {missing} are needed by the structure")
    levels = {kind: cast(Level, spec["level"]) for kind, spec in kinds.items()}
    scope = frozenset(w for words in raw["negation_scope"].values() for w in words)
    return _Taxonomy(terms=terms, index=index, rules=rules, levels=levels, negation_scope=scope)


def clauses(text: str) -> list[str]:
    """The clauses of a message as written (before normalisation, which drops punctuation)."""
    return [part for part in _CLAUSE_BREAK.split(text) if part and part.strip()]


@dataclass(frozen=True)
class _Clause:
    present: frozenset[str]  # terms found and not negated
    negated: frozenset[str]  # terms found only under a negation
    about_other: bool
    past: bool
    framed: bool
    contrast: bool  # starts with but/pero/aunque


def _read_clause(plain: str, tax: _Taxonomy) -> _Clause:
    found = tax.index.matches(plain)
    others = [(a, b) for name, a, b in found if name == "other_person"]
    negations = [b for name, _, b in found if name == "negation"]
    present: set[str] = set()
    negated: set[str] = set()
    for name, start, _ in found:
        if name == "negation":
            continue
        if name == "self" and any(a <= start < b for a, b in others):
            continue  # "my" in "my brother" names the brother, not the writer
        # A negation just before the term turns it, over auxiliaries and modals ("not going to
        # hurt myself"); one inside the term ("no quiero vivir") is part of what it says.
        turned = any(
            end <= start
            and sum(w not in tax.negation_scope for w in plain[end:start].split()) <= NEGATION_GAP
            for end in negations
        )
        (negated if turned else present).add(name)
    negated -= present
    return _Clause(
        present=frozenset(present),
        negated=frozenset(negated),
        about_other="other_person" in present and "self" not in present,
        past="past" in present,
        framed=any(frame in present for frame in FRAMES),
        contrast=_CONTRAST.match(plain) is not None,
    )


def _now_after_past(read_clauses: list[_Clause]) -> bool:
    """A past clause, then a later one that starts from now and holds no term of risk."""
    seen_past = False
    for clause in read_clauses:
        if seen_past and "now_marker" in clause.present and clause.present <= CONTEXT_TERMS_SET:
            return True
        seen_past = seen_past or clause.past
    return False


def read(plain_clauses: list[str]) -> Reading:
    """Reads normalised clauses: the signals raised and the features for the net."""
    tax = taxonomy()
    read_clauses = [_read_clause(c, tax) for c in plain_clauses if c]
    # "Clean for two months and blew it" speaks of a relapse, not of safety.
    safe_now = (
        any("safe_now" in c.present for c in read_clauses) or _now_after_past(read_clauses)
    ) and not any("relapse" in c.present for c in read_clauses)
    in_message = frozenset(t for c in read_clauses for t in c.present)
    features: set[str] = set()
    signals: list[Signal] = []
    if safe_now:
        features.add("F safe_now")
    # Distress alone ("ya no aguanto más") names no death, no act, no means: the net learns
    # what that absence weighs.
    if all(c.present <= DISTRESS_ONLY for c in read_clauses):
        features.add("F distress_only")
    for before, clause in zip([None, *read_clauses], read_clauses, strict=False):
        if (
            before is not None
            and clause.contrast
            and any(t in before.negated for t in DENIED)
            and any(t in clause.present for t in HEDGED)
        ):
            signals.append(Signal("denial_but", "suicidal_thoughts", "concern"))
            features.add("S denial_but")
        features.update("T " + t for t in clause.present)
        features.update("N " + t for t in clause.negated)
        topical = sorted(clause.present.difference(CONTEXT_TERMS))
        features.update(f"C {a}+{b}" for a, b in itertools.combinations(topical, 2))
        context = [
            name
            for name, on in (
                ("other", clause.about_other),
                ("past", clause.past),
                ("framed", clause.framed),
                ("past_safe", clause.past and safe_now),
            )
            if on
        ]
        features.update(f"X {t} {c}" for t in topical for c in context)
        present = clause.present
        for rule in tax.rules:
            if not rule.all <= present or (rule.any and rule.any.isdisjoint(present)):
                continue
            if not (rule.none.isdisjoint(present) and rule.none_in_message.isdisjoint(in_message)):
                features.add(f"S {rule.id} none")
                continue
            if clause.framed:
                features.add(f"S {rule.id} framed")
            elif clause.past and safe_now:
                features.add(f"S {rule.id} past_safe")
            elif clause.about_other:
                level = tax.levels[rule.kind]
                signals.append(
                    Signal(rule.id, "other_at_risk", "imminent" if level == "imminent" else "high")
                )
                features.add(f"S {rule.id} other")
            else:
                signals.append(Signal(rule.id, rule.kind, tax.levels[rule.kind]))
                features.add(f"S {rule.id}")
    return Reading(signals=tuple(signals), features=frozenset(features))
