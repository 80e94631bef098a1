"""Matching and the queue through the deployed handlers on moto: topic preference with its
fallback (a delayed work item)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from kindred.config import settings
from kindred.services import services
from tests.aws_calls import record_aws_calls
from tests.world import World


def _configure(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    """Deploy-time parameters, as the template passes them to every function."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    services.cache_clear()


def _volunteer(world: World, user: str, **availability: Any) -> str:
    vid = world.connect("volunteer", user_id=user, alias=user.title())
    world.send(vid, {"action": "availability", "available": True, **availability})
    assert world.types(vid) == ["status"]
    return vid


# ---- topic preference with fallback ----------------------------------------------------------


def test_a_seeker_waits_for_their_topic_then_a_delayed_work_item_matches_them(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a deployment whose topic wait is 1 s and a free volunteer who lists only anxiety,
    when a seeker asks about grief, then `match` sends a work item delayed by 1 s; the matcher
    run on what is queued now leaves the seeker waiting; once the delayed item is delivered,
    the matcher gives them that volunteer."""
    _configure(monkeypatch, TOPIC_FALLBACK_SECONDS="1")
    vol = _volunteer(world, "anxious", topics=["anxiety"])
    seeker = world.connect()
    with record_aws_calls() as calls:
        world.send(seeker, {"action": "match", "topics": ["grief"]})
    sent = [params for service, op, params in calls if (service, op) == ("sqs", "SendMessage")]
    assert [p.get("DelaySeconds") for p in sent] == [None, 1]

    world.run_matcher()
    assert world.types(seeker) == ["queued"]
    assert world.frames(vol) == []

    time.sleep(1.2)
    assert world.run_matcher() == 1  # one batch: the delayed work item
    assert world.types(seeker) == ["matched"]
    assert world.types(vol) == ["matched"]


def test_a_volunteer_with_the_topic_is_preferred_and_one_with_none_takes_anyone(
    world: World,
) -> None:
    """Given three free volunteers (grief, no topic, anxiety), when a seeker asks about grief,
    then the grief volunteer gets them; when a second seeker asks about grief, the volunteer
    with no topic does, at once; the anxiety volunteer gets nobody."""
    grief = _volunteer(world, "grief", topics=["grief"])
    anything = _volunteer(world, "anything")
    anxiety = _volunteer(world, "anxiety", topics=["anxiety"])
    first, second = world.connect(), world.connect()
    world.send(first, {"action": "match", "topics": ["grief"]})
    world.run_matcher()
    world.send(second, {"action": "match", "topics": ["grief", "debt"]})
    world.run_matcher()
    assert world.frames(first)[-1]["peer"]["alias"] == "Grief"
    assert world.frames(second)[-1]["peer"]["alias"] == "Anything"
    assert world.types(grief) == ["matched"]
    assert world.types(anything) == ["matched"]
    assert world.frames(anxiety) == []
