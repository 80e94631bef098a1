"""A handler module's import ends by freezing what it made, once per process (issue 14)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kindred import cold_start

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
DEPLOY_ONLY = {"sealing_key"}  # run at deploy, never on a request


def test_the_import_is_frozen_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Given a process whose handler modules are imported again and again (the local stack, the
    tests)
    When each import ends with cold_start.imported()
    Then gc.freeze() runs once, at the first
    """
    freezes: list[None] = []
    monkeypatch.setattr(cold_start.gc, "freeze", lambda: freezes.append(None))
    cold_start.imported.cache_clear()
    try:
        for _ in range(3):
            cold_start.imported()
    finally:
        cold_start.imported.cache_clear()

    assert freezes == [None]


@pytest.mark.parametrize(
    "app", sorted(p for p in FUNCTIONS.glob("*/app.py") if p.parent.name not in DEPLOY_ONLY)
)
def test_every_handler_module_ends_with_it(app: Path) -> None:
    """
    Given a function's app.py
    When Lambda imports it
    Then its last statement is cold_start.imported(): everything above is imported by then
    """
    last = ast.parse(app.read_text(encoding="utf-8")).body[-1]

    assert ast.unparse(last) == "cold_start.imported()", app
