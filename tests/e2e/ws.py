"""What the WebSocket end-to-end tests share: their own local stack, reading frames, waiting."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from local.stack import LocalStack, Ports

FREE_PORTS = Ports(web=0, ws=0, aws=0, connections=0)
WAIT = 10  # seconds a test waits for a frame it expects
# What the end-to-end stacks run with unless a test says otherwise: the tests of a module share
# the two demo accounts, and a risk chat ending in one test would pause the volunteer's account
# for the next (issue 12); tests/e2e/test_browser_care.py runs with the pause.
E2E_PARAMETERS: dict[str, str] = {"RiskPauseMinutes": "0"}


@contextmanager
def running_stack(
    parameters: Mapping[str, str], *, schedule_time_scale: float = 1.0
) -> Iterator[LocalStack]:
    """The local stack on free ports with these template parameters (the scheduled functions
    sped up by `schedule_time_scale`: 0.02 runs the sweeper's rate(1 minute) every 1.2 s)."""
    stack = LocalStack(
        ports=FREE_PORTS,
        parameters={**E2E_PARAMETERS, **parameters},
        schedule_time_scale=schedule_time_scale,
    ).start()
    try:
        yield stack
    finally:
        stack.stop()


def wait_for(condition: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll `condition` until it is truthy (for effects no socket tells of)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def frames_until(ws: ClientConnection, wanted: str, timeout: float = WAIT) -> list[dict[str, Any]]:
    """Every frame up to and including the first whose type (or `type:reason`) is `wanted`,
    or all that came before the timeout."""
    frames: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            frame = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            frames.append(frame)
            if wanted in (frame["type"], f"{frame['type']}:{frame.get('reason')}"):
                break
    except (TimeoutError, ConnectionClosed):
        pass
    return frames
