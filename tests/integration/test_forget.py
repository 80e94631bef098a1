"""`forget` and resume tickets on moto: nothing about a seeker is left, one valid token each."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import boto3
import pytest

from kindred.ports import Conflict
from kindred.records import PRIORITY_NORMAL, Connection, QueueEntry, Ticket, queue_key
from kindred.services import Services
from tests.world import World


def _table() -> str:
    return os.environ["TABLE_NAME"]


def _items() -> list[dict[str, Any]]:
    return list(boto3.client("dynamodb").scan(TableName=_table())["Items"])


def _seeker_key(seeker: str) -> str:
    item = boto3.client("dynamodb").get_item(
        TableName=_table(), Key={"pk": {"S": f"CONN#{seeker}"}, "sk": {"S": "CONN"}}
    )["Item"]
    return str(item["seekerKey"]["S"])


def _about(seeker: str, seeker_key: str) -> list[dict[str, Any]]:
    return [i for i in _items() if seeker in str(i) or seeker_key in str(i)]


def _tickets(seeker: str) -> list[str]:
    return [
        i["pk"]["S"].removeprefix("RESUME#")
        for i in _items()
        if i["pk"]["S"].startswith("RESUME#") and i["connectionId"]["S"] == seeker
    ]


def _volunteer(world: World, user: str) -> str:
    vid = world.connect("volunteer", user_id=user, alias=user.title())
    world.send(vid, {"action": "availability", "available": True})
    world.frames(vid)
    return vid


def _token_hash(queued: list[dict[str, Any]]) -> str:
    [frame] = [f for f in queued if f["type"] == "queued"]
    return hashlib.sha256(frame["resumeToken"].encode()).hexdigest()


def test_forget_after_a_transfer_leaves_nothing_about_the_seeker(world: World) -> None:
    """Given a seeker who was transferred to a second volunteer, when they ask to be forgotten,
    then no item in the table mentions their connection or their seeker key (neither chat's
    session, nor any resume ticket)."""
    seeker = world.connect()
    key = _seeker_key(seeker)
    world.send(seeker, {"action": "match", "intro": "I need to talk"})
    first = _volunteer(world, "first")
    world.run_matcher()
    session = world.frames(first)[-1]["sessionId"]
    world.send(first, {"action": "transfer", "sessionId": session, "note": "be gentle"})
    world.send(first, {"action": "availability", "available": False})
    _volunteer(world, "second")
    world.run_matcher()
    # Handed back with nobody on shift who could take them (the first handed them on), then
    # the second came on shift and took them.
    assert [f["type"] for f in world.frames(seeker)][-4:] == [
        "queued",
        "resources",
        "position",
        "matched",
    ]

    world.send(seeker, {"action": "forget"})
    assert _about(seeker, key) == []


def test_forget_after_two_chats_leaves_nothing_about_the_seeker(world: World) -> None:
    """Given a seeker who had a chat, ended it and had a second one, when they ask to be
    forgotten, then no item in the table mentions them."""
    seeker = world.connect()
    key = _seeker_key(seeker)
    _volunteer(world, "vol")
    for _ in range(2):
        world.send(seeker, {"action": "match"})
        world.run_matcher()
        assert world.types(seeker)[-1] == "matched"
        world.send(seeker, {"action": "end"})
    world.send(seeker, {"action": "match"})
    world.run_matcher()
    world.send(seeker, {"action": "forget"})
    assert _about(seeker, key) == []


def test_only_the_latest_resume_token_has_a_ticket(world: World) -> None:
    """Given a seeker who queues, chats, ends, queues again and is transferred, when each
    `queued` brings a new resume token, then only the latest token's ticket is in the table."""
    seeker = world.connect()
    vol = _volunteer(world, "vol")
    world.send(seeker, {"action": "match"})
    assert _tickets(seeker) == [_token_hash(world.frames(seeker))]
    world.run_matcher()
    world.send(seeker, {"action": "end"})
    world.send(seeker, {"action": "match"})
    assert _tickets(seeker) == [_token_hash(world.frames(seeker))]
    world.run_matcher()
    session = world.frames(vol)[-1]["sessionId"]
    world.send(vol, {"action": "transfer", "sessionId": session})
    assert _tickets(seeker) == [_token_hash(world.frames(seeker))]


def _ticket_hashes(svc: Services) -> set[str]:
    from tests.unit.harness import FakeServices

    if isinstance(svc, FakeServices):
        return set(svc.store.tickets)
    keys = [i["pk"]["S"] for i in _items()]
    return {k.removeprefix("RESUME#") for k in keys if k.startswith("RESUME#")}


@pytest.fixture(params=["fake", "dynamo"])
def svc(request: pytest.FixtureRequest) -> Services:
    if request.param == "fake":
        from tests.unit.harness import make_services

        return make_services()
    request.getfixturevalue("aws")
    from kindred.aws.wiring import aws_services
    from kindred.config import load_settings

    return aws_services(load_settings())


def test_a_ticket_is_replaced_only_when_it_is_the_one_the_connection_holds(svc: Services) -> None:
    """Given an idle seeker holding ticket A, when enqueue names another ticket as the one to
    replace, then Conflict and nothing is written; when it names A, the seeker waits holding
    ticket B only; and put_resume's ticket C replaces B (the same on DynamoDB and the fake)."""
    conn = Connection("s1", "seeker", "Calm River", "en", seeker_key="k1")
    svc.connections.put_connection(conn)
    svc.tickets.put_resume(Ticket("hash-a", 2_000_000_000), "s1", "k1")

    def entry(at: int) -> QueueEntry:
        return QueueEntry(
            connection_id="s1",
            queue_key=queue_key(PRIORITY_NORMAL, at, "s1"),
            priority=PRIORITY_NORMAL,
            enqueued_at_ms=at,
            language="en",
            topics=(),
            seeker_key="k1",
            seeker_alias="Calm River",
        )

    with pytest.raises(Conflict):
        svc.queue.enqueue(entry(1), Ticket("hash-b", 2_000_000_000), "hash-other")
    with pytest.raises(Conflict):
        svc.queue.enqueue(entry(1), Ticket("hash-b", 2_000_000_000), None)
    assert svc.queue.waiting(10) == []
    held = svc.connections.get_connection("s1")
    assert held is not None and (held.state, held.resume_hash) == ("idle", "hash-a")
    assert _ticket_hashes(svc) == {"hash-a"}

    svc.queue.enqueue(entry(2), Ticket("hash-b", 2_000_000_000), "hash-a")
    held = svc.connections.get_connection("s1")
    assert held is not None and (held.state, held.resume_hash) == ("waiting", "hash-b")
    assert [e.connection_id for e in svc.queue.waiting(10)] == ["s1"]
    assert _ticket_hashes(svc) == {"hash-b"}

    svc.tickets.put_resume(Ticket("hash-c", 2_000_000_000), "s1", "k1")
    held = svc.connections.get_connection("s1")
    assert held is not None and held.resume_hash == "hash-c"
    assert _ticket_hashes(svc) == {"hash-c"}
