"""The crisis detector's labelled corpus: loading, checking, and the figures per kind and language.

    .venv/bin/python -m tools.crisis_corpus report dev          # figures on the development part
    .venv/bin/python -m tools.crisis_corpus report heldout      # figures on the held-out part
    .venv/bin/python -m tools.crisis_corpus failures dev        # the dev cases it gets wrong
    .venv/bin/python -m tools.crisis_corpus import heldout W F  # add writer W's file F

The held-out and fresh parts are written apart from the rules and never read case by case:
`failures` refuses them, and `report` prints only counts per kind, language and style. The
fresh part was read twice, by counts only, when issue 8's detector was finished.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "crisis"
PARTS = ("dev", "heldout", "fresh")
LANGUAGES = ("en", "es")
LEVELS = ("concern", "high", "imminent")
STYLES = ("plain", "buried", "slang", "misspelled")
KEYS = {"text", "risk", "level", "kind", "lang", "style", "writer"}
TAXONOMY = ROOT / "layers" / "core" / "kindred" / "data" / "crisis_taxonomy.json"


@dataclass(frozen=True)
class Case:
    text: str
    risk: bool
    level: str | None
    kind: str
    lang: str
    style: str
    writer: str


def taxonomy() -> dict[str, Any]:
    return dict(json.loads(TAXONOMY.read_text(encoding="utf-8")))


def risk_kinds() -> list[str]:
    return list(taxonomy()["risk"])


def safe_kinds() -> list[str]:
    return list(taxonomy()["not_risk"])


def imminent_kinds() -> list[str]:
    return [k for k, v in taxonomy()["risk"].items() if v["level"] == "imminent"]


def path_of(part: str) -> Path:
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}: one of {PARTS}")
    return CORPUS / f"{part}.jsonl"


def check(raw: dict[str, Any], where: str) -> Case:
    """One line of the corpus as a Case, or a ValueError that says what is wrong with it."""
    if set(raw) != KEYS:
        raise ValueError(f"{where}: keys {sorted(raw)} are not {sorted(KEYS)}")
    kinds = taxonomy()
    case = Case(**raw)
    if not isinstance(case.text, str) or not case.text.strip():
        raise ValueError(f"{where}: empty text")
    if case.risk is True:
        if case.kind not in kinds["risk"] or case.level not in LEVELS:
            raise ValueError(f"{where}: risk case with kind {case.kind!r} level {case.level!r}")
    elif case.risk is False:
        if case.kind not in kinds["not_risk"] or case.level is not None:
            raise ValueError(f"{where}: not-risk case with kind {case.kind!r}")
    else:
        raise ValueError(f"{where}: risk must be true or false")
    if case.lang not in LANGUAGES or case.style not in STYLES or not case.writer:
        raise ValueError(f"{where}: lang, style or writer not known")
    return case


def load(part: str) -> list[Case]:
    path = path_of(part)
    with path.open(encoding="utf-8") as lines:
        return [
            check(json.loads(line), f"{path.name}:{n}")
            for n, line in enumerate(lines, 1)
            if line.strip()
        ]


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion: honest on small counts."""
    if n == 0:
        return (0.0, 1.0)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Tally:
    """How many cases of one group were flagged as at risk, out of how many."""

    flagged: int
    total: int

    @property
    def rate(self) -> float:
        return self.flagged / self.total if self.total else 0.0

    def cell(self) -> str:
        low, high = wilson(self.flagged, self.total)
        return f"{self.flagged}/{self.total} {self.rate:.2f} [{low:.2f}-{high:.2f}]"


Predict = Callable[[str], bool]


def tally(cases: Iterable[Case], flagged: Callable[[Case], bool]) -> Tally:
    chosen = list(cases)
    return Tally(sum(1 for c in chosen if flagged(c)), len(chosen))


@dataclass(frozen=True)
class Figures:
    """Recall on risk and false alarms on not-risk, overall and by language, kind and style."""

    recall: dict[str, Tally]
    false_alarms: dict[str, Tally]
    level_agreement: Tally  # risk cases flagged at the writer's level or above
    level_exact: Tally

    def table(self, levels: bool = True) -> str:
        rows = ["| scope | recall of risk | false alarms |", "|---|---|---|"]
        for scope in ("all", *LANGUAGES):
            rows.append(
                f"| {scope} | {self.recall[scope].cell()} | {self.false_alarms[scope].cell()} |"
            )
        rows += ["", "| risk kind | en | es | both |", "|---|---|---|---|"]
        for kind in risk_kinds():
            cells = [self.recall.get(f"{kind}/{lang}", Tally(0, 0)).cell() for lang in LANGUAGES]
            rows.append(
                f"| {kind} | {' | '.join(cells)} | {self.recall.get(kind, Tally(0, 0)).cell()} |"
            )
        rows += ["", "| not-risk kind | en | es | both |", "|---|---|---|---|"]
        for kind in safe_kinds():
            cells = [
                self.false_alarms.get(f"{kind}/{lang}", Tally(0, 0)).cell() for lang in LANGUAGES
            ]
            both = self.false_alarms.get(kind, Tally(0, 0)).cell()
            rows.append(f"| {kind} | {' | '.join(cells)} | {both} |")
        rows += ["", "| style | recall of risk | false alarms |", "|---|---|---|"]
        for style in STYLES:
            rows.append(
                f"| {style} | {self.recall[style].cell()} | {self.false_alarms[style].cell()} |"
            )
        if levels:
            rows += [
                "",
                f"Risk cases flagged at the writer's level or above: "
                f"{self.level_agreement.cell()}; at exactly the writer's level: "
                f"{self.level_exact.cell()}.",
            ]
        return "\n".join(rows)


def figures(cases: list[Case], assess: Callable[[str], tuple[bool, str | None]]) -> Figures:
    """Runs `assess` (text -> (risk, level)) over the cases and counts by every scope."""
    results = {id(c): assess(c.text) for c in cases}

    def scopes(c: Case) -> list[str]:
        return ["all", c.lang, c.kind, f"{c.kind}/{c.lang}", c.style]

    recall: dict[str, list[Case]] = {}
    false_alarms: dict[str, list[Case]] = {}
    for case in cases:
        groups = recall if case.risk else false_alarms
        for scope in scopes(case):
            groups.setdefault(scope, []).append(case)
    for groups in (recall, false_alarms):
        for scope in ("all", *LANGUAGES, *STYLES):
            groups.setdefault(scope, [])
    flagged = {key: results[key][0] for key in results}

    def rank(level: str | None) -> int:
        return LEVELS.index(level) if level in LEVELS else -1

    at_risk = [c for c in cases if c.risk]
    return Figures(
        recall={s: tally(cs, lambda c: flagged[id(c)]) for s, cs in recall.items()},
        false_alarms={s: tally(cs, lambda c: flagged[id(c)]) for s, cs in false_alarms.items()},
        level_agreement=tally(
            at_risk, lambda c: flagged[id(c)] and rank(results[id(c)][1]) >= rank(c.level)
        ),
        level_exact=tally(at_risk, lambda c: flagged[id(c)] and results[id(c)][1] == c.level),
    )


def detector() -> Callable[[str], tuple[bool, str | None]]:
    from kindred.safety import assess

    def run(text: str) -> tuple[bool, str | None]:
        result = assess(text)
        return result.risk, result.level

    return run


def _import(part: str, writer: str, source: Path) -> int:
    """Adds a writer's file to a part: each line gets the writer's name and is checked."""
    existing = load(part) if path_of(part).exists() else []
    seen = {c.text for c in existing}
    added = 0
    with source.open(encoding="utf-8") as lines, path_of(part).open("a", encoding="utf-8") as out:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            raw = json.loads(line)
            raw["writer"] = writer
            case = check(raw, f"{source.name}:{n}")
            if case.text in seen:
                continue
            seen.add(case.text)
            out.write(json.dumps(raw, ensure_ascii=False) + "\n")
            added += 1
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    report = sub.add_parser("report", help="figures by kind, language and style")
    report.add_argument("part", choices=PARTS)
    failures = sub.add_parser("failures", help="the development cases the detector gets wrong")
    failures.add_argument("part", choices=PARTS)
    add = sub.add_parser("import", help="add a writer's JSON Lines file to a part")
    add.add_argument("part", choices=PARTS)
    add.add_argument("writer")
    add.add_argument("file", type=Path)
    args = parser.parse_args(argv)

    if args.command == "import":
        print(f"added {_import(args.part, args.writer, args.file)} cases to {args.part}")
        return 0
    if args.command == "failures":
        if args.part != "dev":
            print(f"the {args.part} part is never read case by case: see its counts with `report`")
            return 2
        run = detector()
        for case in load("dev"):
            risk, _ = run(case.text)
            if risk != case.risk:
                label = "missed" if case.risk else "false alarm"
                print(f"{label:<11} {case.kind}/{case.lang}/{case.style} {case.text!r}")
        return 0
    print(figures(load(args.part), detector()).table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
