"""The end of a Lambda process's cold start: what its import made, out of the collector's way."""

from __future__ import annotations

import gc
from functools import cache


@cache
def imported() -> None:
    """Called by each handler module as its import's last step. The objects the import made
    (modules, classes, functions, models) live as long as the process: gc.freeze() puts them
    out of the cyclic collector's sight, so the first request's full collection, and every
    later one, need not walk them (a `match` frame's first request: ~30 ms of CPU less).

    Once per process only (cached): the local stack and the tests import handler modules again
    and again, and a freeze keeps whatever garbage exists at that moment for good."""
    gc.freeze()
