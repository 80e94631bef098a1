"""Matching and the queue through the deployed handlers on moto: topic preference with its
fallback (a delayed work item), `position` frames and the estimated wait, blocks as items."""

from __future__ import annotations

import os
import time
from typing import Any

import boto3
import pytest

from kindred.aws.wiring import reset_services
from kindred.config import settings
from tests.aws_calls import count_aws_calls, record_aws_calls
from tests.world import World


def _configure(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    """Deploy-time parameters, as the template passes them to every function."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    reset_services()


def _volunteer(world: World, user: str, **availability: Any) -> str:
    vid = world.connect("volunteer", user_id=user, alias=user.title())
    world.send(vid, {"action": "availability", "available": True, **availability})
    assert world.types(vid) == ["status"]
    return vid


def _items(prefix: str) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])["Items"]
    return [i for i in items if i["pk"]["S"].startswith(prefix)]


# ---- topic preference with fallback ----------------------------------------------------------


def test_a_seeker_waits_for_their_topic_then_a_delayed_work_item_matches_them(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a deployment whose topic wait is 3 s (long enough that a loaded machine runs the
    matcher inside it) and a free volunteer who lists only anxiety,
    when a seeker asks about grief, then `match` sends a work item delayed by 3 s; the matcher
    run on what is queued now leaves the seeker waiting; once the delayed item is delivered,
    the matcher gives them that volunteer."""
    _configure(monkeypatch, TOPIC_FALLBACK_SECONDS="3")
    vol = _volunteer(world, "anxious", topics=["anxiety"])
    seeker = world.connect()
    with record_aws_calls() as calls:
        world.send(seeker, {"action": "match", "topics": ["grief"]})
    sent = [params for service, op, params in calls if (service, op) == ("sqs", "SendMessage")]
    assert [p.get("DelaySeconds") for p in sent] == [None, 3]

    world.run_matcher()
    assert world.types(seeker) == ["queued"]
    assert world.frames(vol) == []

    time.sleep(3.2)
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


# ---- position frames and the estimated wait --------------------------------------------------


def test_waiting_seekers_hear_their_new_position_and_an_estimated_wait(world: World) -> None:
    """Given a volunteer who has just had three chats, and three seekers waiting, when the
    first of them is matched, then the second hears position 1 and the third position 2, each
    with a wait estimated from the recent pace of matches (four in the last minutes)."""
    vol = _volunteer(world, "vol")
    for _ in range(3):
        earlier = world.connect()
        world.send(earlier, {"action": "match"})
        world.run_matcher()
        world.send(earlier, {"action": "end"})
    world.frames(vol)
    waiting = [world.connect() for _ in range(3)]
    for seeker in waiting:
        world.send(seeker, {"action": "match"})
    world.send(vol, {"action": "end"})  # nobody to end: the volunteer is free
    queued = [world.frames(s) for s in waiting]
    assert [q[-1]["position"] for q in queued] == [1, 2, 3]
    assert [q[-1]["estimatedWaitSeconds"] for q in queued] == [300, 600, 900]

    world.run_matcher()
    assert world.types(waiting[0]) == ["matched"]
    assert [world.frames(s) for s in waiting[1:]] == [
        [{"type": "position", "position": 1, "estimatedWaitSeconds": 225}],
        [{"type": "position", "position": 2, "estimatedWaitSeconds": 450}],
    ]
    [pace] = _items("STATS")  # one item of two counters, whatever the traffic
    assert set(pace) == {"pk", "sk", "windowStart", "matches", "previousMatches", "expiresAt"}
    assert int(pace["expiresAt"]["N"]) <= time.time() + 1800 + 1


def test_when_a_waiting_seeker_leaves_those_behind_move_up(world: World) -> None:
    """Given three seekers waiting, when the first ends and the second's connection closes and
    is not resumed within the grace period, then the third hears position 2, then (after the
    sweeper) 1."""
    s1, s2, s3 = (world.connect() for _ in range(3))
    for seeker in (s1, s2, s3):
        world.send(seeker, {"action": "match"})
    world.frames(s3)
    world.send(s1, {"action": "end"})
    world.disconnect(s2)
    world.advance(121)
    world.sweep()
    assert [(f["type"], f["position"]) for f in world.frames(s3)] == [
        ("position", 2),
        ("position", 1),
    ]


# ---- blocks ------------------------------------------------------------------------------------


def test_a_block_is_an_item_the_matcher_respects_and_forget_removes(world: World) -> None:
    """Given a chat, when the seeker blocks the volunteer, then a block item (volunteer account,
    seeker key, 90-day expiry) is stored; when the seeker's connection item no longer lists the
    block and they wait again, the matcher, in one BatchGetItem, keeps them from that
    volunteer and gives them the next; when the seeker asks to be forgotten, the block item
    goes too."""
    ddb = boto3.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    first = _volunteer(world, "first")
    world.run_matcher()
    world.send(seeker, {"action": "block"})
    assert [f["reason"] for f in world.frames(first) if f["type"] == "ended"] == ["blocked"]
    [block] = _items("BLOCK#")
    key = ddb.get_item(TableName=table, Key={"pk": {"S": f"CONN#{seeker}"}, "sk": {"S": "CONN"}})[
        "Item"
    ]["seekerKey"]["S"]
    assert (block["pk"]["S"], block["sk"]["S"]) == ("BLOCK#first", f"SEEKER#{key}")
    assert abs(int(block["expiresAt"]["N"]) - (time.time() + 90 * 86400)) < 60

    # What a resumed connection's new item would look like: the block is not on it.
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": f"CONN#{seeker}"}, "sk": {"S": "CONN"}},
        UpdateExpression="REMOVE blockedUsers",
    )
    world.send(seeker, {"action": "match"})
    world.frames(seeker)
    with count_aws_calls() as calls:
        world.run_matcher()
    assert calls[("dynamodb", "BatchGetItem")] == 1
    assert world.frames(first) == [] and world.frames(seeker) == []
    second = _volunteer(world, "second")
    world.run_matcher()
    assert world.types(second) == ["matched"]
    assert world.frames(seeker)[-1]["peer"]["alias"] == "Second"

    world.send(seeker, {"action": "forget"})
    assert _items("BLOCK#") == []


class _Throttled:
    """A DynamoDB client whose BatchGetItem leaves every key unread `times` times over."""

    def __init__(self, times: int) -> None:
        self.times, self.calls = times, 0

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.times:
            return {"Responses": {}, "UnprocessedKeys": RequestItems}
        [(table, request)] = RequestItems.items()
        return {"Responses": {table: request["Keys"]}, "UnprocessedKeys": {}}


def test_blocks_left_unread_are_read_again_and_never_taken_for_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given DynamoDB leaving the block lookup unprocessed (throttled), when the matcher asks
    which pairs are blocked, then the keys are asked for again until read; if they never are,
    the lookup fails rather than answer "not blocked"."""
    from kindred.aws import safeguards, table
    from kindred.aws.table import Table

    def adapter(client: _Throttled) -> safeguards.DynamoSafeguards:
        return safeguards.DynamoSafeguards(Table(client, "t", connection_ttl=600, session_ttl=600))

    monkeypatch.setattr(table.time, "sleep", lambda _: None)  # the back-off of Table.batch_get
    pair = {("volunteer-sub", "seeker-key")}
    twice = _Throttled(times=2)
    store = adapter(twice)
    assert store.blocked_pairs(pair) == pair
    assert twice.calls == 3
    never = adapter(_Throttled(times=99))
    with pytest.raises(RuntimeError):
        never.blocked_pairs(pair)
