"""Operator tools run from a checkout (never deployed): building the web frontend for the cloud."""

import sys
from pathlib import Path

# The tools use the kindred package as the functions do: from the core layer.
_CORE = str(Path(__file__).resolve().parents[1] / "layers" / "core")
if _CORE not in sys.path:
    sys.path.insert(0, _CORE)
