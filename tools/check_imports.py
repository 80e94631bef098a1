"""Checks the import graph: no module of the domain imports an adapter.

    .venv/bin/python -m tools.check_imports      # exit 1 and one line a breach; `make lint` runs it

Only `kindred/aws/` (the adapters and the composition root, `kindred.aws.wiring`) may import
`kindred.aws` or boto3; every other module of `layers/core/kindred/` runs against the ports.
Imports inside functions count too: they are read from the syntax tree, not by importing.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "layers" / "core" / "kindred"
FORBIDDEN = ("kindred.aws", "boto3", "botocore")


def imported(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in the tree, absolute names only (the package uses no
    relative imports)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            if _forbidden(node.module):
                yield node.lineno, node.module
                continue
            for alias in node.names:  # `from kindred import aws`
                yield node.lineno, f"{node.module}.{alias.name}"


def _forbidden(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in FORBIDDEN)


def breaches(package: Path = PACKAGE, root: Path = ROOT) -> list[str]:
    """One line per import of an adapter (or boto3) from outside kindred/aws/, named from
    `root`."""
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.is_relative_to(package / "aws"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, module in imported(tree):
            if _forbidden(module):
                found.append(f"{path.relative_to(root)}:{line}: imports {module}")
    return sorted(set(found))


def main() -> int:
    found = breaches()
    for line in found:
        print(line)
    if found:
        print("only kindred/aws/ may import the adapters and boto3 (docs: README, layout)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
