"""Seeker text in the form the crisis rules are written for, and the phrases that are no signal.

`normalise` folds the ways people type (case, accents, digits for letters, emoji, spaced and
stretched letters, chat spellings: `kms`, `kiero`, `wanna`) into one spelling, with the word
table of `kindred/data/crisis_words.json`. `cut_figurative` then blanks the phrases of
`kindred/data/crisis_terms.json` that only look like signals: figurative uses ("this exam is
killing me", "me muero de risa"), names ("Suicide Squad") and distances ("5 kms"). Both files
are read once per process.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

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


@dataclass(frozen=True)
class _Rule:
    id: str
    pattern: str
    example: str


@dataclass(frozen=True)
class _Lexicon:
    not_risk_rules: tuple[_Rule, ...]
    not_risk: re.Pattern[str] | None
    words: dict[str, str]
    known: frozenset[str]
    emoji: re.Pattern[str]
    emoji_words: dict[str, str]


def _read(name: str) -> Any:
    return json.loads(resources.files("kindred.data").joinpath(name).read_text(encoding="utf-8"))


def _rules(raw: Any, key: str) -> tuple[_Rule, ...]:
    rules = tuple(
        _Rule(
            id=str(item["id"]),
            pattern=str(item["pattern"]),
            example=str(item["example"]),
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
    not_risk_rules = _rules(_read("crisis_terms.json"), "not_risk")
    ids = [rule.id for rule in not_risk_rules]
    if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
        raise ValueError(f"crisis_terms.json: rule ids used twice: {duplicates}")
    words: dict[str, str] = {}
    word_files = _read("crisis_words.json")
    for lang, table in word_files.items():
        if not lang.startswith("_"):
            words.update(table)
    emoji_words: dict[str, str] = word_files.get("_emoji", {})
    # The words the rules and rewrites know: a stretched word ("diee") is cut back to one.
    patterns = [rule.pattern for rule in not_risk_rules]
    for by_lang in _read("crisis_signals.json")["terms"].values():
        patterns.extend(phrase for phrases in by_lang.values() for phrase in phrases)
    known: set[str] = set()
    for pattern in patterns:
        for word, optional in _WORDS.findall(_ESCAPES.sub(" ", pattern)):
            known.add(word)
            if optional:  # "missions?" knows "mission" too
                known.add(word[:-1])
    known.update(word for value in words.values() for word in value.split())
    _word.cache_clear()  # words cut or rewritten by an earlier build of the lexicon
    return _Lexicon(
        not_risk_rules=not_risk_rules,
        not_risk=re.compile(_alternation(not_risk_rules)) if not_risk_rules else None,
        words=words,
        known=frozenset(known),
        emoji=re.compile("|".join(map(re.escape, sorted(emoji_words, key=len, reverse=True)))),
        emoji_words=emoji_words,
    )


def forget_words() -> None:
    """Forget the words normalised so far (each is normalised afresh): for benchmarks."""
    _word.cache_clear()


def reload() -> None:
    """Read the data files again on the next call (and forget the words normalised so far)."""
    _lexicon.cache_clear()
    _word.cache_clear()


def normalise(text: str) -> str:
    """Seeker text in the form the crisis rules are written for.

    Lower case, no accents, no apostrophes; digits and symbols inside words read as letters
    (k1ll -> kill); emoji that carry meaning read as words (crisis_words.json `_emoji`), other
    punctuation and emoji become spaces; lone spaced letters joined
    (s u i c i d e -> suicide); stretched words cut to a word the rules know (dieeee -> die,
    killllling -> killing); then each word rewritten by crisis_words.json
    (wanna -> want to, dont -> do not, sucide -> suicide, kiero -> quiero).
    """
    plain = text.lower().translate(_APOSTROPHES)
    if not plain.isascii():
        emoji = _lexicon().emoji
        if emoji.search(plain):
            plain = emoji.sub(lambda m: _lexicon().emoji_words[m.group()], plain)
        plain = _COMBINING.sub("", unicodedata.normalize("NFKD", plain))
    if any(c in plain for c in _LEET_CHARS):
        plain = _LEET.sub(lambda m: m.group().translate(_LEET_LETTERS), plain)
    plain = _NON_WORD.sub(" ", plain)
    plain = _SPACED.sub(lambda m: m.group().replace(" ", ""), plain)
    plain = " ".join(map(_word, plain.split()))
    return _TWO_FOR_TO.sub(r"\1 to", plain) if " 2" in plain else plain


def cut_figurative(plain: str) -> str:
    """Normalised text with figurative uses, names and distances blanked out ("~")."""
    pattern = _lexicon().not_risk
    return plain if pattern is None else pattern.sub(" ~ ", plain)


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
