"""The per-connection rate limit through the deployed handlers on moto."""

from __future__ import annotations

import os
import time

import boto3
import pytest

from kindred.aws.wiring import reset_services
from kindred.config import settings
from tests.integration.chats import start_chat
from tests.world import World


def test_a_flood_is_refused_with_rate_limited_and_the_window_passes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a deployment allowing 5 actions in 1 s, and a seeker in a chat, when they send 6
    messages at once, then 5 reach the volunteer and the 6th gets `rate_limited` (the
    volunteer sees nothing of it), a ping is still answered; a second later, their messages go
    through again."""
    monkeypatch.setenv("RATE_LIMIT_ACTIONS", "5")
    monkeypatch.setenv("RATE_LIMIT_WINDOW_SECONDS", "1")
    settings.cache_clear()
    reset_services()
    seeker, vol, _ = start_chat(world)
    time.sleep(1.05)  # the setup's own actions leave the window

    for n in range(6):
        world.send(seeker, {"action": "message", "text": f"n{n}", "clientMsgId": f"c{n}"})
    world.send(seeker, {"action": "ping"})
    assert [f["text"] for f in world.frames(vol)] == ["n0", "n1", "n2", "n3", "n4"]
    assert [(f["type"], f.get("code"), f.get("clientMsgId")) for f in world.frames(seeker)] == [
        ("error", "rate_limited", "c5"),
        ("pong", None, None),
    ]

    time.sleep(1.05)
    world.send(seeker, {"action": "message", "text": "calmer now"})
    assert [f["text"] for f in world.frames(vol)] == ["calmer now"]


def test_the_smallest_limit_the_template_allows_counts_too(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a deployment allowing 1 action a second (RateLimitActions' MinValue), when a
    seeker in a chat sends two messages at once, then the first reaches the volunteer and the
    second gets `rate_limited` (DynamoDB refuses an update that sends a value its expressions
    do not use: the log of one entry shifts nothing)."""
    monkeypatch.setenv("RATE_LIMIT_ACTIONS", "1")
    monkeypatch.setenv("RATE_LIMIT_WINDOW_SECONDS", "1")
    settings.cache_clear()
    reset_services()
    seeker, vol, _ = start_chat(world)
    time.sleep(1.05)

    world.send(seeker, {"action": "message", "text": "one", "clientMsgId": "c1"})
    world.send(seeker, {"action": "message", "text": "two", "clientMsgId": "c2"})
    assert [f["text"] for f in world.frames(vol)] == ["one"]
    assert [(f["type"], f.get("code"), f.get("clientMsgId")) for f in world.frames(seeker)] == [
        ("error", "rate_limited", "c2")
    ]


def test_the_rate_log_on_the_connection_item_stays_the_size_of_the_limit(world: World) -> None:
    """Given a seeker who has sent many actions, when their connection item is read, then it
    holds 30 times (the default limit), no more, each an epoch-millisecond number."""
    seeker, _, _ = start_chat(world)
    for _ in range(40):
        world.send(seeker, {"action": "typing"})
    item = boto3.client("dynamodb").get_item(
        TableName=os.environ["TABLE_NAME"],
        Key={"pk": {"S": f"CONN#{seeker}"}, "sk": {"S": "CONN"}},
    )["Item"]
    log = {k: int(v["N"]) for k, v in item.items() if k.startswith("rl")}
    assert sorted(log) == sorted(f"rl{i}" for i in range(30))
    assert all(t == 0 or abs(t / 1000 - time.time()) < 60 for t in log.values())
