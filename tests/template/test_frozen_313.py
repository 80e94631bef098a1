"""kindred.frozen on Python 3.13, Lambda's runtime (Pyodide, as the layer's bytecode is built)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BYTECODE = ROOT / "layers" / "core" / "bytecode"

# Run in CPython 3.13: a record as kindred declares one, beside the dataclass it stands for.
CHECK = r"""
from __future__ import annotations
import copy, dataclasses, json, sys
from dataclasses import field
from kindred.frozen import Frozen

class Made(Frozen):
    name: str
    count: int = 0
    links: dict[str, str] = field(default_factory=dict)

@dataclasses.dataclass(frozen=True)
class Reference:
    name: str
    count: int = 0
    links: dict[str, str] = field(default_factory=dict)

class Point(Frozen):
    x: int
    y: int = 0

class Longer(Made):
    extra: int = 0

def refused(call, error):
    try:
        call()
    except error:
        return True
    return False

made = Made("a", links={"k": "v"})
def assign():
    made.count = 2
print(json.dumps({
    "version": f"{sys.version_info[0]}.{sys.version_info[1]}",
    "fields": [f.name for f in dataclasses.fields(made)],
    "asdict": dataclasses.asdict(made) == dataclasses.asdict(Reference("a", links={"k": "v"})),
    "repr": repr(made) == repr(Reference("a", links={"k": "v"})).replace("Reference", "Made"),
    "equal": made == Made("a", links={"k": "v"}) and made != Made("b"),
    "hash": hash(Point(1, 2)) == hash(Point(1, 2)) and len({Point(1), Point(1), Point(2)}) == 2,
    "replace": dataclasses.replace(made, count=3).count,
    "copy_replace": copy.replace(made, count=4).count,
    "deepcopy": copy.deepcopy(made) == made,
    "own_factory": Made("b").links is not Made("c").links,
    "frozen": refused(assign, dataclasses.FrozenInstanceError),
    "missing": refused(lambda: Made(), TypeError),
    "unknown": refused(lambda: Made("a", colour="red"), TypeError),
    "below": [f.name for f in dataclasses.fields(Longer)] == ["name", "count", "links", "extra"]
    and Longer("a", extra=2).extra == 2 and Longer.__dataclass_params__.frozen
    and refused(lambda: setattr(Longer("a"), "extra", 1), dataclasses.FrozenInstanceError),
}))
"""

RUNNER = r"""
import { loadPyodide } from "pyodide";
try {
  const python = await loadPyodide({ stdout: (line) => console.log(line) });
  python.mountNodeFS("/layer", process.argv[1]);
  python.runPython("import sys; sys.path.insert(0, '/layer')");
  python.runPython(process.argv[2]);
} catch (error) {
  console.error(String(error.message));  // a Python traceback, not Pyodide's minified source
  process.exit(1);
}
"""


def test_a_frozen_record_behaves_as_a_frozen_dataclass_on_python_3_13(tmp_path: Path) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("this test runs Python 3.13 in Pyodide: it needs Node.js and npm")
    subprocess.run(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=BYTECODE, check=True)
    # Only kindred.frozen: the rest of the layer needs packages Pyodide does not bring here.
    layer = tmp_path
    (layer / "kindred").mkdir()
    (layer / "kindred" / "__init__.py").write_text("")
    shutil.copy(ROOT / "layers" / "core" / "kindred" / "frozen.py", layer / "kindred")
    done = subprocess.run(
        ["node", "--input-type=module", "-e", RUNNER, str(layer), CHECK],
        cwd=BYTECODE,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {
        "version": "3.13",
        "fields": ["name", "count", "links"],
        "asdict": True,
        "repr": True,
        "equal": True,
        "hash": True,
        "replace": 3,
        "copy_replace": 4,
        "deepcopy": True,
        "own_factory": True,
        "frozen": True,
        "missing": True,
        "unknown": True,
        "below": True,
    }
