"""Clients on first use (issue 14): each function's first request builds the clients it calls,
and only those; bench.coldstart's FIRST_REQUESTS times exactly these."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bench.coldstart import FIRST_REQUESTS
from kindred.aws.clients import LazyClient
from tests.world import FUNCTION_OF_DIR, World


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The services of the clients built (in any function) since the list was last cleared."""
    made: list[str] = []
    get = LazyClient.get

    def recording(self: LazyClient) -> object:
        new = not self.built
        client = get(self)
        if new:
            made.append(self.service)
        return client

    monkeypatch.setattr(LazyClient, "get", recording)
    return made


def _first(world: World, directory: str, built: list[str], request: Callable[[], object]) -> None:
    """`request`, `directory`'s function's first, builds FIRST_REQUESTS' clients, no more."""
    built.clear()
    request()
    assert sorted(built) == sorted(FIRST_REQUESTS[FUNCTION_OF_DIR[directory]][1])


def _volunteer(world: World) -> str:
    vid = world.connect("volunteer", user_id="vol-1", alias="Sam")
    world.send(vid, {"action": "availability", "available": True, "languages": ["en"]})
    return vid


def test_a_seekers_connect_builds_the_table_and_key_clients(world: World, built: list[str]) -> None:
    _first(world, "connect", built, world.connect)


def test_a_match_with_an_intro_and_the_pass_that_starts_the_chat(
    world: World, built: list[str]
) -> None:
    seeker = world.connect()
    _first(
        world,
        "match",
        built,
        lambda: world.send(seeker, {"action": "match", "topics": ["anxiety"], "intro": "hi"}),
    )
    _volunteer(world)
    _first(world, "matcher", built, world.run_matcher)
    assert world.types(seeker)[-1] == "matched"


def test_a_message_in_a_chat_builds_the_table_and_gateway_clients(
    world: World, built: list[str]
) -> None:
    seeker = world.connect()
    world.send(seeker, {"action": "match", "topics": ["anxiety"], "intro": "hi"})
    vol = _volunteer(world)
    world.run_matcher()
    session = world.frames(vol)[-1]["sessionId"]
    _first(
        world,
        "chat",
        built,
        lambda: world.send(seeker, {"action": "message", "text": "hello", "sessionId": session}),
    )
    assert world.frames(vol)[-1]["text"] == "hello"


def test_an_idle_disconnect_and_a_quiet_sweep(world: World, built: list[str]) -> None:
    seeker = world.connect()
    _first(world, "disconnect", built, lambda: world.disconnect(seeker))
    _first(world, "sweeper", built, world.sweep)
