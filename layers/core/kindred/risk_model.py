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


def features(plain: str, extra: Iterable[str] = ()) -> set[str]:
    """The features of a normalised message: words, word pairs and triples, character n-grams
    (across word edges, so short phrases count), and the names the rules give (`extra`)."""
    words = plain.split()
    found = {"w " + w for w in words}
    found.update(f"b {a} {b}" for a, b in itertools.pairwise(words))
    found.update(f"t {a} {b} {c}" for a, b, c in zip(words, words[1:], words[2:], strict=False))
    padded = f" {plain} "
    for size in CHAR_SIZES:
        found.update("c " + padded[i : i + size] for i in range(len(padded) - size + 1))
    found.update(extra)
    return found


@dataclass(frozen=True)
class Linear:
    """One linear score: a bias and a weight per feature (absent features weigh nothing)."""

    bias: float
    weights: dict[str, float]
    known: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "known", frozenset(self.weights))

    def score(self, found: set[str]) -> float:
        # The intersection and the sum run in C: about a third faster than a lookup each.
        return self.bias + sum(map(self.weights.__getitem__, found & self.known))


@dataclass(frozen=True)
class Model:
    risk: Linear
    threshold: float  # on the risk score (a log-odds), chosen when training
    rule_margin: float  # a message the rules flag is at risk from threshold - rule_margin up
    levels: dict[str, Linear]  # one score per level; the highest wins
    level_features: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        every = frozenset().union(*(linear.known for linear in self.levels.values()))
        object.__setattr__(self, "level_features", every)

    def is_risk(self, found: set[str], rules_flag: bool) -> bool:
        floor = self.threshold - (self.rule_margin if rules_flag else 0.0)
        return self.risk.score(found) >= floor

    def level(self, found: set[str]) -> str:
        # One pass over the message's features for the three scores, then small sets.
        known = found & self.level_features
        return max(self.levels, key=lambda name: self.levels[name].score(known))


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
