"""The stage throttle, as API Gateway applies it: past the burst, frames and handshakes get 429."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from local.gateway import StageThrottle
from tests.e2e.conftest import E2EStack
from tests.e2e.test_websocket import Peer, open_peer  # noqa: F401  (a fixture)
from tests.e2e.ws import E2E_PARAMETERS

BURST, RATE = 5, 1.0  # template parameters ThrottlingBurstLimit and ThrottlingRateLimit
STACK_PARAMETERS = {
    **E2E_PARAMETERS,
    "ThrottlingBurstLimit": str(BURST),
    "ThrottlingRateLimit": str(RATE),
}
PINGS = 12
TOO_MANY = "Too Many Requests"


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_admits_its_burst_then_its_rate() -> None:
    """
    Given a stage throttle of burst 3 and rate 2 a second, full at first
    When requests come at once, then after half a second, then after ten seconds
    Then it admits 3 at once, then 1 (half a second refills one token), then 3 again (never
    more than the burst), and counts what it refused
    """
    clock = _Clock()
    throttle = StageThrottle(rate=2.0, burst=3, clock=clock)

    at_once = [throttle.admit() for _ in range(5)]
    clock.now += 0.5
    after_half_a_second = [throttle.admit() for _ in range(2)]
    clock.now += 10
    after_ten_seconds = [throttle.admit() for _ in range(4)]

    assert at_once == [True, True, True, False, False]
    assert after_half_a_second == [True, False]
    assert after_ten_seconds == [True, True, True, False]
    assert throttle.refused == 4


def test_the_template_sets_the_local_gateways_throttle(local_stack: E2EStack) -> None:
    """
    Given the local stack started with ThrottlingBurstLimit 5 and ThrottlingRateLimit 1
    When its gateway reads the template's DefaultRouteSettings
    Then its stage throttle has that burst and that rate
    """
    throttle = local_stack.stack.gateway.throttle

    assert throttle is not None
    assert (throttle.burst, throttle.rate) == (BURST, RATE)


def test_frames_past_the_burst_run_no_route_and_handshakes_get_429(
    open_peer: Callable[..., Peer],  # noqa: F811
    local_stack: E2EStack,
) -> None:
    """
    Given a stage that admits a burst of 5 requests, then 1 a second
    When a seeker sends 12 pings at once, and someone opens a socket right after
    Then at most the burst (and what one second refills) get a `pong`; every other ping is
    answered by the gateway itself, {"message": "Too Many Requests"}, and runs no function;
    the handshake is refused with HTTP 429; the seeker's socket stays open, and once the bucket
    has refilled a ping gets its `pong` again
    """
    time.sleep(BURST / RATE)  # the bucket full again, whatever the stack's start took
    seeker = open_peer("lang=en")  # one token

    started = time.monotonic()
    for n in range(PINGS):
        seeker.send({"action": "ping", "n": n})
    sent_in = time.monotonic() - started
    answers = [seeker.next() for _ in range(PINGS)]
    with pytest.raises(InvalidStatus) as refused:
        connect(local_stack.ws_url, origin=local_stack.origin, open_timeout=10)  # type: ignore[arg-type]
    time.sleep(2.5 / RATE)
    seeker.send({"action": "ping"})
    again = seeker.expect("pong")

    pongs = [a for a in answers if a.get("type") == "pong"]
    throttled = [a for a in answers if a.get("message") == TOO_MANY]
    assert len(pongs) + len(throttled) == PINGS, answers
    assert 1 <= len(pongs) <= BURST - 1 + int(sent_in * RATE) + 1, answers
    assert all(set(a) == {"message", "connectionId", "requestId"} for a in throttled)
    assert refused.value.response.status_code == 429
    assert again["type"] == "pong"
