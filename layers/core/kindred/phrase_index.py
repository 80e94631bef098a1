"""Finds which of many phrase patterns match at the start of each word, trying each only there.

A term of the crisis taxonomy is a list of phrase patterns (regular expressions over
normalised text). Scanning a message with one big alternation costs time in proportion to the
number of phrases at every position. Instead each phrase is indexed by the first letters any
match of it must start with (read from the compiled pattern's parse), and at each word start
only the phrases whose first letters stand there are tried: the cost follows what is in the
message, not how many phrases the organisation has written.
"""

from __future__ import annotations

import re
import re._constants as sre_constants  # type: ignore[import-not-found]
import re._parser as sre_parse  # type: ignore[import-not-found]
from dataclasses import dataclass, field
from typing import Any

PREFIX = 6  # letters of a phrase's start used as its key
_MERGED_LIMIT = 65_536  # starts remembered with their phrases (a bound on memory)
_MAX_STARTS = 256  # a phrase that could start in more ways than this is tried everywhere
_WORD_END = r"(?![a-z0-9])"


class _TooMany(Exception):
    pass


def _starts(items: list[Any], prefix: str, out: set[str]) -> None:
    """Adds to `out` the strings (up to PREFIX letters) a match of `items` can start with; a
    string shorter than PREFIX means the pattern may continue with anything after it."""
    if len(out) > _MAX_STARTS:
        raise _TooMany
    if len(prefix) >= PREFIX or not items:
        out.add(prefix[:PREFIX])
        return
    op, av = items[0]
    rest = items[1:]
    if op is sre_constants.LITERAL:
        _starts(rest, prefix + chr(av), out)
    elif op is sre_constants.SUBPATTERN:
        _starts([*av[-1], *rest], prefix, out)
    elif op is sre_constants.BRANCH:
        for branch in av[1]:
            _starts([*branch, *rest], prefix, out)
    elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
        low, _, body = av
        if low == 0:
            _starts(rest, prefix, out)
        # After one repetition more may follow: what comes next is not known.
        _starts([*body], prefix, out)
    elif op is sre_constants.IN and all(kind is sre_constants.LITERAL for kind, _ in av):
        for _, char in av:
            _starts(rest, prefix + chr(char), out)
    elif op is sre_constants.AT:
        _starts(rest, prefix, out)
    else:  # a class of characters, a lookaround: the start is known only this far
        out.add(prefix)


def starts(phrase: str) -> set[str]:
    """The first letters (up to PREFIX) every match of the phrase begins with; {""} when a
    match may begin with anything."""
    found: set[str] = set()
    try:
        _starts(list(sre_parse.parse(phrase)), "", found)
    except _TooMany:
        return {""}
    return found


@dataclass(frozen=True)
class PhraseIndex:
    """Phrases of several named terms, indexed by their first letters."""

    # by_size[n]: phrases whose known start has n letters (n = PREFIX, ..., 1), by that start;
    # by_size[0][""]: phrases that may start with anything.
    by_size: tuple[dict[str, tuple[tuple[str, re.Pattern[str]], ...]], ...]
    # What may match where a word starts with these PREFIX letters: the phrases of every size
    # of start, gathered the first time those letters are seen.
    merged: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, terms: dict[str, list[str]]) -> PhraseIndex:
        # Per first letters, per term, one alternation of that term's phrases (longest first,
        # so that a match is the fullest reading): one attempt per term where they stand.
        grouped: dict[str, dict[str, list[str]]] = {}
        for name, phrases in terms.items():
            for phrase in dict.fromkeys(phrases):
                try:
                    re.compile(phrase)
                except re.error as exc:
                    raise ValueError(f"term {name!r}: {phrase!r} does not compile: {exc}") from exc
                for start in starts(phrase):
                    grouped.setdefault(start, {}).setdefault(name, []).append(phrase)
        by_size: list[dict[str, tuple[tuple[str, re.Pattern[str]], ...]]] = [
            {} for _ in range(PREFIX + 1)
        ]
        for start, by_term in grouped.items():
            by_size[len(start)][start] = tuple(
                (
                    name,
                    re.compile(f"(?:{'|'.join(sorted(group, key=len, reverse=True))}){_WORD_END}"),
                )
                for name, group in by_term.items()
            )
        return cls(tuple(by_size))

    def matches(self, plain: str) -> list[tuple[str, int, int]]:
        """(term, start, end) of every phrase that matches at the start of a word of `plain`
        (normalised: lower-case words separated by single spaces)."""
        found: dict[tuple[str, int, int], None] = {}
        merged = self.merged
        position = 0
        for word in plain.split(" "):
            start = plain[position : position + PREFIX]
            group = merged.get(start)
            if group is None:
                group = self._gather(start)
            for name, pattern in group:
                if (match := pattern.match(plain, position)) is not None:
                    found[(name, position, match.end())] = None
            position += len(word) + 1
        return list(found)

    def _gather(self, start: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
        group = tuple(
            phrase
            for size in range(min(PREFIX, len(start)), -1, -1)
            for phrase in self.by_size[size].get(start[:size], ())
        )
        if len(self.merged) >= _MERGED_LIMIT:
            self.merged.clear()
        self.merged[start] = group
        return group
