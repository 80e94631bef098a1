"""The per-connection rate limit on chat actions, on the fakes: what a flooding client sees."""

from __future__ import annotations

from typing import Any

from kindred.matching import run_matcher
from tests.unit.harness import FakeServices, connect, make_services, send, store_unchanged


def _chat(svc: FakeServices) -> None:
    """s1 and v1 in a chat; s1 has used one action (`match`), v1 one (`availability`)."""
    connect(svc, "v1", "volunteer", user_id="user-v1", alias="Vee")
    send(svc, "v1", {"action": "availability", "available": True})
    connect(svc, "s1")
    send(svc, "s1", {"action": "match"})
    run_matcher(svc)
    svc.notifier.forget_all()


def _codes(frames: list[dict[str, Any]]) -> list[str | None]:
    return [f.get("code") for f in frames]


def test_the_31st_action_in_10_seconds_is_refused_and_not_delivered(svc: FakeServices) -> None:
    """Given a seeker in a chat who has sent 30 actions within 10 seconds (`match` among them),
    when they send one more message, then they get `rate_limited` naming the action and their
    clientMsgId, the volunteer gets nothing, and nothing is stored or changed."""
    _chat(svc)
    for n in range(29):
        send(svc, "s1", {"action": "message", "text": f"line {n}"})
    assert len(svc.notifier.take("v1")) == 29
    assert svc.notifier.take("s1") == []

    before = svc.store.snapshot()
    send(svc, "s1", {"action": "message", "text": "one more", "clientMsgId": "c31"})
    [refused] = svc.notifier.take("s1")
    assert (refused["type"], refused["code"], refused["action"], refused["clientMsgId"]) == (
        "error",
        "rate_limited",
        "message",
        "c31",
    )
    assert svc.notifier.take("v1") == []
    assert svc.store.snapshot() == before  # a refused action is not even counted


def test_the_window_slides(svc: FakeServices) -> None:
    """Given a seeker who sent one action, then 29 more 5 seconds later, when they send again
    just under 10 seconds after the first, then it is refused; at 10 seconds the first has
    left the window and one more goes through, but not two."""
    _chat(svc)  # `match` at t = 0
    svc.clock.advance(5)
    for _ in range(29):
        send(svc, "s1", {"action": "typing"})
    svc.clock.advance(4.999)
    send(svc, "s1", {"action": "typing"})
    assert _codes(svc.notifier.take("s1")) == ["rate_limited"]
    svc.clock.advance(0.001)
    send(svc, "s1", {"action": "typing"})
    send(svc, "s1", {"action": "typing"})
    assert _codes(svc.notifier.take("s1")) == ["rate_limited"]
    assert len(svc.notifier.take("v1")) == 30


def test_every_action_but_ping_counts(svc: FakeServices) -> None:
    """Given a seeker who sends 30 actions of every kind (and any number of pings), when they
    send one more, then it is refused; their pings are still answered with `pong`."""
    _chat(svc)
    frames: list[dict[str, Any]] = [
        {"action": "typing"},
        {"action": "resources", "country": "GB"},
        {"action": "message", "text": "hi"},
        {"action": "report", "reason": "spam"},
        {"action": "match"},  # refused (already in a chat), and counted
    ]
    for n in range(29):
        send(svc, "s1", frames[n % len(frames)])
        send(svc, "s1", {"action": "ping"})
    svc.notifier.take("s1")
    send(svc, "s1", {"action": "end"})
    send(svc, "s1", {"action": "ping"})
    assert [(f["type"], f.get("code")) for f in svc.notifier.take("s1")] == [
        ("error", "rate_limited"),
        ("pong", None),
    ]


def test_the_limit_is_per_connection(svc: FakeServices) -> None:
    """Given a seeker who used up their actions, when the volunteer writes, then the message
    reaches the seeker: one side's flood never silences the other."""
    _chat(svc)
    for _ in range(29):
        send(svc, "s1", {"action": "typing"})
    send(svc, "s1", {"action": "typing"})
    assert _codes(svc.notifier.take("s1")) == ["rate_limited"]
    send(svc, "v1", {"action": "message", "text": "take your time"})
    assert [f["text"] for f in svc.notifier.take("s1")] == ["take your time"]


def test_the_limit_and_window_are_the_deployments_settings() -> None:
    """Given a deployment that allows 3 actions a minute, when a seeker sends a 4th within the
    minute, then it is refused; a minute after the first, allowed."""
    svc = make_services(rate_limit_actions=3, rate_limit_window_seconds=60)
    connect(svc, "s1")
    for _ in range(4):
        send(svc, "s1", {"action": "resources"})
        svc.clock.advance(1)
    assert [f["type"] for f in svc.notifier.take("s1")] == ["resources"] * 3 + ["error"]
    svc.clock.advance(56)
    send(svc, "s1", {"action": "resources"})
    assert [f["type"] for f in svc.notifier.take("s1")] == ["resources"]


def test_a_limited_action_changes_nothing(svc: FakeServices) -> None:
    """Given a seeker in a chat who used up their actions, when they try to end the chat, then
    `rate_limited`, and the chat goes on (no `ended` to anyone, nothing stored changes)."""
    _chat(svc)
    for _ in range(29):
        send(svc, "s1", {"action": "typing"})
    svc.notifier.forget_all()
    with store_unchanged(svc):
        send(svc, "s1", {"action": "end"})
    assert _codes(svc.notifier.take("s1")) == ["rate_limited"]
    assert svc.notifier.take("v1") == []


def test_the_rate_log_is_bounded_by_the_limit(svc: FakeServices) -> None:
    """Given a seeker who sent hundreds of actions over an hour, when their rate log is looked
    at, then it holds one time per allowed action of the window, never more."""
    connect(svc, "s1")
    for _ in range(400):
        send(svc, "s1", {"action": "resources"})
        svc.clock.advance(7)
    assert len(svc.store.rate_logs["s1"]) == 30
