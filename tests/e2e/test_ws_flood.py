"""A flood on one connection over real WebSockets: what reaches the peer stays within the limit."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import E2EStack
from tests.e2e.test_websocket import Peer, matched_pair, open_peer  # noqa: F401  (a fixture)
from tests.e2e.ws import E2E_PARAMETERS

# The limit: the template's default of 30 actions, in a window of 60 s rather than 10 s. This
# machine relays about 50 frames a second, so a flood of 100 a second takes some 20 s to work
# through; in one window that outlasts it, every frame is judged against the same 30, and
# what reaches the peer can be held to the limit exactly, whatever the machine's speed.
LIMIT, WINDOW_S = 30, 60
RATE, SECONDS = 100, 10  # the flood: 100 frames a second for 10 s
SETTLE = 120  # seconds to wait, after the flood, for every frame's outcome
# The stage's own throttle (50 a second by default, which would refuse about 400 of the
# flood's frames at the gateway: test_ws_stage_throttle.py) raised out of the way: the
# per-connection guard must hold whatever the stage admits.
STACK_PARAMETERS = {
    **E2E_PARAMETERS,
    "RateLimitActions": str(LIMIT),
    "RateLimitWindowSeconds": str(WINDOW_S),
    "ThrottlingBurstLimit": "5000",
    "ThrottlingRateLimit": "1000",
}


def _collect(peer: Peer, wanted: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Frames of `peer` that `wanted` keeps, appended by a thread until the socket closes."""
    kept: list[dict[str, Any]] = []

    def read() -> None:
        try:
            while True:
                frame = json.loads(peer.ws.recv())
                if wanted(frame):
                    kept.append(frame)
        except (ConnectionClosed, RuntimeError):
            pass

    threading.Thread(target=read, name="flood-reader", daemon=True).start()
    return kept


def test_a_flood_of_100_frames_a_second_for_10_s_reaches_the_peer_within_the_limit(
    open_peer: Callable[..., Peer],  # noqa: F811
    local_stack: E2EStack,
) -> None:
    """Given a seeker in a chat on the local stack, allowed 30 actions in 60 s, who has sent
    one (`match`), when they send 1,000 messages at 100 a second for 10 s, then every message
    has one outcome: it reached the volunteer, or the seeker got `rate_limited` for it; and
    what reached the volunteer, with the `match`, is the limit: at least 30, at most 33
    (the limit plus 10%)."""
    seeker, volunteer, _ = matched_pair(open_peer, local_stack)
    counted_before = 1  # the seeker's `match`, inside the same window
    delivered = _collect(volunteer, lambda f: f.get("type") == "message")
    refused = _collect(seeker, lambda f: f.get("type") == "error")

    started = time.monotonic()
    for n in range(RATE * SECONDS):
        time.sleep(max(0.0, started + n / RATE - time.monotonic()))
        seeker.send({"action": "message", "text": "flood", "clientMsgId": f"f{n}"})
    sending = time.monotonic() - started

    deadline = time.monotonic() + SETTLE
    while len(delivered) + len(refused) < RATE * SECONDS and time.monotonic() < deadline:
        time.sleep(0.2)
    arrived = [f["clientMsgId"] for f in delivered]
    refusals = [(f["code"], f.get("clientMsgId")) for f in refused]
    assert {code for code, _ in refusals} <= {"rate_limited"}, refusals[:5]
    outcomes = sorted(arrived + [cid for _, cid in refusals], key=lambda c: int(c[1:]))
    assert outcomes == [f"f{n}" for n in range(RATE * SECONDS)], "a frame with no or two outcomes"
    counted = counted_before + len(arrived)
    settled = time.monotonic() - started
    assert LIMIT <= counted <= LIMIT * 1.1, (
        f"{len(arrived)} of {RATE * SECONDS} reached the peer (sent in {sending:.1f} s, all"
        f" answered in {settled:.1f} s)"
    )
