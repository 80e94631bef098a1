"""The statistical net under the crisis rules: linear models over n-grams, scored in pure Python.

The weights are a data file (`kindred/data/crisis_model.json`) that `tools/train_crisis_model.py`
trains from the development part of the labelled corpus; nothing is downloaded and no library
beyond the standard one is needed to score. One model says whether a message is at risk (a
logistic score against a threshold chosen on held-apart writers); a second, over the same
features, says at which level a message at risk is.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

CHAR_SIZES = (4, 5)
# The slices of a character n-gram at every position of a message up to this long, made once:
# cutting the grams is then one call in C per size instead of a Python step per gram.
_SLICES = {size: [slice(i, i + size) for i in range(4096)] for size in CHAR_SIZES}


def features(plain: str, extra: Iterable[str] = ()) -> set[str]:
    """The features of a normalised message: words, word pairs and triples, character n-grams
    (across word edges, so short phrases count), and the names the rules give (`extra`).

    A character n-gram is the text itself (lower-case letters, digits and spaces); every other
    feature has a ':' or a capital letter in its name, so no two kinds of feature meet.
    """
    words = plain.split()
    found = {"w:" + w for w in words}
    found.update(map("b:{} {}".format, words, words[1:]))
    found.update(map("t:{} {} {}".format, words, words[1:], words[2:]))
    padded = f" {plain} "
    get = padded.__getitem__
    for size in CHAR_SIZES:
        count = len(padded) - size + 1
        if count <= len(_SLICES[size]):
            found.update(map(get, _SLICES[size][:count]))
        else:
            found.update(padded[i : i + size] for i in range(count))
    found.update(extra)
    return found


@dataclass(frozen=True)
class Linear:
    """One linear score: a bias and a weight per feature (absent features weigh nothing)."""

    bias: float
    weights: dict[str, float]


@dataclass(frozen=True)
class Model:
    risk: Linear
    threshold: float  # on the risk score (a log-odds), chosen when training
    rule_margin: float  # a message the rules flag is at risk from threshold - rule_margin up
    levels: dict[str, Linear]  # one score per level; the highest wins
    # Every feature with its weights in the four scores (risk, then the levels in order): one
    # lookup a feature for all four, in one table.
    table: dict[str, tuple[float, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        linears = (self.risk, *self.levels.values())
        every = set().union(*(linear.weights for linear in linears))
        table = {f: tuple(linear.weights.get(f, 0.0) for linear in linears) for f in every}
        object.__setattr__(self, "table", table)

    def scores(self, found: set[str]) -> tuple[float, ...]:
        """The risk score, then one score per level, of a message's features."""
        rows = [row for row in map(self.table.get, found) if row is not None]
        sums = map(sum, zip(*rows, strict=True)) if rows else itertools.repeat(0.0)
        biases = (self.risk.bias, *(linear.bias for linear in self.levels.values()))
        return tuple(bias + total for bias, total in zip(biases, sums, strict=False))

    def is_risk(self, scores: tuple[float, ...], rules_flag: bool) -> bool:
        floor = self.threshold - (self.rule_margin if rules_flag else 0.0)
        return scores[0] >= floor

    def level(self, scores: tuple[float, ...]) -> str:
        names = list(self.levels)
        return names[max(range(len(names)), key=lambda i: scores[i + 1])]


def _linear(raw: dict[str, object]) -> Linear:
    weights = raw["weights"]
    assert isinstance(weights, dict)
    return Linear(bias=float(str(raw["bias"])), weights={k: float(v) for k, v in weights.items()})


@cache
def model() -> Model | None:
    """The trained model, read once per process; None when the file is absent (rules only)."""
    source = resources.files("kindred.data").joinpath("crisis_model.json")
    if not source.is_file():
        return None
    raw = json.loads(source.read_text(encoding="utf-8"))
    return Model(
        risk=_linear(raw["risk"]),
        threshold=float(raw["threshold"]),
        rule_margin=float(raw.get("rule_margin", 0.0)),
        levels={name: _linear(part) for name, part in raw["levels"].items()},
    )
