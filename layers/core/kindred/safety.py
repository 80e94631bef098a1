"""Crisis signals: detects risk of suicide or self-harm in seeker text, and the crisis lines.

The detector is a set of phrase rules over normalised text, kept in data files the organisation
can edit (`kindred/data/crisis_terms.json`, `kindred/data/crisis_words.json`; their format is
described in `kindred/data/README.md`). It is built once, on first use, and costs microseconds
per message: no network, no model.

What it flags, and what it leaves, on purpose:
- Any first-person signal of suicide or self-harm, in English or Spanish, however it is spelt
  ("sucide", "k1ll mys3lf", "s u i c i d e", "kiero morir", "kms", "unalive", "sewerslide").
- A mention of suicide (the word) in any context other than a few named ones (Suicide Squad,
  suicide doors, suicide prevention training): a seeker who brings it up gets a gentle check.
- Not figurative speech ("this exam is killing me", "me muero de risa", "me mato estudiando"),
  distances ("5 kms"), nor "kys", which is abuse aimed at someone else, not a signal about the
  writer.
- A firm denial ("I would never kill myself", "no soy suicida") is not a signal, but a denial
  followed within a few words by "but"/"pero" ("I'm not suicidal but...") is: what comes after
  the "but" is often the real concern, and a false alarm costs less than a miss.
- Distress alone ("I can't take it anymore", "ya no aguanto más", "I hate my life") is not a
  signal: it is why most seekers come, and alerting on it would drown the real alerts.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Literal

from kindred.protocol import ResourceItem

Level = Literal["concern", "high", "imminent"]
LEVELS: tuple[Level, ...] = ("concern", "high", "imminent")  # from lowest to highest

INTL = "INTL"  # the directory's international fallback

_APOSTROPHES = str.maketrans("", "", "'\u2019\u2018`\u00b4\u02bc\u2032")
_COMBINING = re.compile("[\u0300-\u036f]+")
# Digits and symbols read as letters inside a word: after a letter ("k1ll", "mys3lf", "d13"),
# '!', '|' and a censoring '*' only between letters ("su!cide", "k*ll"), '$' and '@' at a
# word's start ("$uicide").
# A number that starts a word stays a number ("5kms", "2nd", "3am").
_LEET = re.compile(r"(?<=[a-z])[013457@$]+|(?<=[a-z])[!|*]+(?=[a-z])|(?<![a-z0-9])[@$]+(?=[a-z])")
_LEET_CHARS = "013457@$!|*"
_LEET_LETTERS = str.maketrans(_LEET_CHARS, "oieastasili")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_SPACED = re.compile(r"\b[a-z](?: [a-z]\b){2,}")  # "s u i c i d e": three or more lone letters
_REPEATS = re.compile(r"([a-z])\1{2,}")
_DOUBLE = re.compile(r"([a-z])\1")
_TWO_FOR_TO = re.compile(r"\b(want|going|need|trying|plan|planning|ready|how) 2\b")
_ESCAPES = re.compile(r"\\[a-zA-Z]")
_WORDS = re.compile(r"([a-z]+)(\?)?")


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the detector found: whether there is a risk, and which rule said so.

    `rule` is the id of the rule in crisis_terms.json (e.g. "en.kill_self"), for tests and
    metrics. The matched text itself is never returned, so it cannot end up in a log.
    """

    risk: bool
    rule: str | None = None
    level: Level | None = None  # set exactly when risk is


@dataclass(frozen=True)
class _Rule:
    id: str
    pattern: str
    example: str
    level: Level = "high"


@dataclass(frozen=True)
class _Lexicon:
    risk_rules: tuple[_Rule, ...]
    not_risk_rules: tuple[_Rule, ...]
    risk: re.Pattern[str]
    not_risk: re.Pattern[str] | None
    words: dict[str, str]
    known: frozenset[str]


def _read(name: str) -> Any:
    return json.loads(resources.files("kindred.data").joinpath(name).read_text(encoding="utf-8"))


def _rules(raw: Any, key: str) -> tuple[_Rule, ...]:
    rules = tuple(
        _Rule(
            id=str(item["id"]),
            pattern=str(item["pattern"]),
            example=str(item["example"]),
            level=item.get("level", "high"),
        )
        for item in raw.get(key, [])
    )
    for rule in rules:
        try:
            re.compile(rule.pattern)
        except re.error as exc:
            raise ValueError(
                f"crisis_terms.json: rule {rule.id!r} does not compile: {exc}"
            ) from exc
    return rules


def _alternation(rules: tuple[_Rule, ...]) -> str:
    # One named group per rule, so that a match tells which rule it was (m.lastgroup). Rules
    # match from the start of a word: the guard in front lets the engine skip every other
    # position at once instead of trying each rule there (three times faster).
    groups = "|".join(f"(?P<r{i}>{rule.pattern})" for i, rule in enumerate(rules))
    return f"(?:^|(?<= ))(?:{groups})"


@cache
def _lexicon() -> _Lexicon:
    terms = _read("crisis_terms.json")
    risk_rules = _rules(terms, "risk")
    not_risk_rules = _rules(terms, "not_risk")
    ids = [rule.id for rule in (*risk_rules, *not_risk_rules)]
    if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
        raise ValueError(f"crisis_terms.json: rule ids used twice: {duplicates}")
    words: dict[str, str] = {}
    for lang, table in _read("crisis_words.json").items():
        if not lang.startswith("_"):
            words.update(table)
    # The words the rules and rewrites know: a stretched word ("diee") is cut back to one.
    known: set[str] = set()
    for rule in (*risk_rules, *not_risk_rules):
        for word, optional in _WORDS.findall(_ESCAPES.sub(" ", rule.pattern)):
            known.add(word)
            if optional:  # "missions?" knows "mission" too
                known.add(word[:-1])
    known.update(word for value in words.values() for word in value.split())
    _word.cache_clear()  # words cut or rewritten by an earlier build of the lexicon
    return _Lexicon(
        risk_rules=risk_rules,
        not_risk_rules=not_risk_rules,
        risk=re.compile(_alternation(risk_rules)),
        not_risk=re.compile(_alternation(not_risk_rules)) if not_risk_rules else None,
        words=words,
        known=frozenset(known),
    )


@lru_cache(maxsize=16384)
def _word(word: str) -> str:
    """One word as the rules spell it: a known misspelling rewritten, a stretched word cut.

    Only a word with a letter typed three or more times counts as stretched ("dieeee",
    "kiiill"): it is cut to two of that letter if the rules know that word ("killlling" ->
    "killing"), else to one ("dieeee" -> "die"). Ordinary double letters are left alone.
    """
    lex = _lexicon()
    if (rewrite := lex.words.get(word)) is not None:
        return rewrite
    if _REPEATS.search(word) is None:
        return word
    for cut in (doubled := _REPEATS.sub(r"\1\1", word), _DOUBLE.sub(r"\1", doubled)):
        if (rewrite := lex.words.get(cut)) is not None:
            return rewrite
        if cut in lex.known:
            return cut
    return doubled


def normalise(text: str) -> str:
    """Seeker text in the form the crisis rules are written for.

    Lower case, no accents, no apostrophes; digits and symbols inside words read as letters
    (k1ll -> kill); other punctuation and emoji become spaces; lone spaced letters joined
    (s u i c i d e -> suicide); stretched words cut to a word the rules know (dieeee -> die,
    killllling -> killing); then each word rewritten by crisis_words.json
    (wanna -> want to, dont -> do not, sucide -> suicide, kiero -> quiero).
    """
    plain = text.lower().translate(_APOSTROPHES)
    if not plain.isascii():
        plain = _COMBINING.sub("", unicodedata.normalize("NFKD", plain))
    if any(c in plain for c in _LEET_CHARS):
        plain = _LEET.sub(lambda m: m.group().translate(_LEET_LETTERS), plain)
    plain = _NON_WORD.sub(" ", plain)
    plain = _SPACED.sub(lambda m: m.group().replace(" ", ""), plain)
    plain = " ".join(_word(word) for word in plain.split())
    return _TWO_FOR_TO.sub(r"\1 to", plain) if " 2" in plain else plain


def assess(text: str | None) -> Assessment:
    """Whether the text signals a risk of suicide or self-harm, its level, and the rule's id."""
    if not text or text.isspace():
        return Assessment(risk=False)
    lex = _lexicon()
    plain = normalise(text)
    if lex.not_risk is not None:
        # Figurative uses, names and firm denials are cut out before the risk rules run, so
        # "I want to die of embarrassment" leaves "I want to ~", which no rule matches.
        plain = lex.not_risk.sub(" ~ ", plain)
    match = lex.risk.search(plain)
    if match is None or match.lastgroup is None:
        return Assessment(risk=False)
    rule = lex.risk_rules[int(match.lastgroup[1:])]
    return Assessment(risk=True, rule=rule.id, level=rule.level)


def detect_risk(text: str | None) -> bool:
    """True when the text signals a risk of suicide or self-harm."""
    return assess(text).risk


@cache
def _directory() -> dict[str, list[ResourceItem]]:
    raw = _read("resources.json")
    return {
        code: [ResourceItem.model_validate(item) for item in items]
        for code, items in raw.items()
        if not code.startswith("_")
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
