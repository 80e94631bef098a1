"""How fast the crisis detector is: microseconds per message, and the one-off cost of building it.

    .venv/bin/python bench/detector.py

Messages are the labelled corpus (tests/data/crisis/, both parts), then long messages (about
2,000 characters, the signal in the middle). The first call builds the rules (reads the term
files, compiles the regular expressions) and reads the statistical net's weights; every later
call reuses them. Speed is printed, never asserted in the tests: it depends on the machine.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core"))

from kindred import crisis_text, safety  # noqa: E402
from kindred.safety import assess  # noqa: E402


def _per_message_us(texts: list[str], rounds: int) -> list[float]:
    """Microseconds per message, one figure per round over all the texts."""
    figures = []
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            assess(text)
        figures.append((time.perf_counter() - start) / len(texts) * 1e6)
    return figures


def main() -> None:
    corpus = ROOT / "tests" / "data" / "crisis"
    texts = [
        json.loads(line)["text"]
        for part in ("dev", "heldout")
        for line in (corpus / f"{part}.jsonl").open(encoding="utf-8")
    ]

    safety.reload()
    start = time.perf_counter()
    assess("first message")
    build_ms = (time.perf_counter() - start) * 1e3

    filler = "work has been a lot lately and my flatmate keeps leaving dishes everywhere. "
    long_texts = [filler * 13 + t + " " + filler * 13 for t in texts[:50]]

    crisis_text.forget_words()
    cold = _per_message_us(texts, 1)[0]  # words not yet seen: each is normalised afresh
    warm = _per_message_us(texts, 5)
    long = _per_message_us(long_texts, 20)

    print(f"build the rules and read the net once (first call): {build_ms:.1f} ms")
    mean_chars = statistics.mean(len(t) for t in texts)
    print(f"labelled set, {len(texts)} messages, {mean_chars:.0f} chars on average")
    print(f"  first pass (new words):          {cold:.1f} us/message")
    print(f"  later passes (median of 5):    {statistics.median(warm):.1f} us/message")
    print(f"long messages, {len(long_texts[0])} chars")
    print(f"  median of 20 passes:             {statistics.median(long):.1f} us/message")


if __name__ == "__main__":
    main()
