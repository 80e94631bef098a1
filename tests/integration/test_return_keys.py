"""Return keys on moto (issue 13): what the table keeps of an opted-in key, and of no key."""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any

import boto3

from tests.world import World

KEY = "cmV0dXJua2V5cmV0dXJua2V5cmV0dXJua2V5cmV0"  # as a page makes it: base64url, 30 bytes
DAY = 86400


def _items() -> list[dict[str, Any]]:
    return list(boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])["Items"])


def _return_items() -> list[dict[str, Any]]:
    return [i for i in _items() if i["pk"]["S"].startswith("RETURN#")]


def _volunteer(world: World, user: str) -> str:
    vid = world.connect("volunteer", user_id=user, alias=user.title())
    world.send(vid, {"action": "availability", "available": True})
    world.frames(vid)
    return vid


def _chat(world: World, **match: Any) -> tuple[str, str]:
    """A seeker asks (with `match`'s fields) and is matched: (seeker, session id)."""
    seeker = world.connect()
    world.send(seeker, {"action": "match", **match})
    world.run_matcher()
    matched = [f for f in world.frames(seeker) if f["type"] == "matched"]
    assert matched, "not matched"
    return seeker, str(matched[-1]["sessionId"])


def test_an_opted_in_key_is_stored_as_its_hash_the_volunteer_and_a_ttl_only(
    world: World,
) -> None:
    """Given a seeker whose chat with "first" ended, when they opt in with a key, then the
    table holds one RETURN item: the key's SHA-256, "first"'s account id and an expiry 14
    days on; the key itself is in no item. When they come back on a new connection and ask
    for the same volunteer while "second" (idle longer) is free too, "first" takes them."""
    _volunteer(world, "second")
    _volunteer(world, "first")
    world.send(world.connect(), {"action": "ping"})  # nothing but a connection
    seeker, session = _chat(world)  # "second" has been idle longest: give them a chat first
    world.send(seeker, {"action": "end"})
    seeker, session = _chat(world)
    assert [f for f in world.all_frames(seeker) if f["type"] == "matched"][-1]["peer"][
        "alias"
    ] == "First"
    world.send(seeker, {"action": "end"})
    world.frames(seeker)

    world.send(seeker, {"action": "remember", "sessionId": session, "returnKey": KEY})

    assert world.frames(seeker) == [{"type": "remembered", "sessionId": session, "days": 14}]
    [item] = _return_items()
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    assert set(item) == {"pk", "sk", "userId", "expiresAt"}
    assert item["pk"]["S"] == f"RETURN#{digest}"
    assert item["userId"]["S"] == "first"
    assert abs(int(item["expiresAt"]["N"]) - (time.time() + 14 * DAY)) < 60
    assert KEY not in str(_items())

    back, _ = _chat(world, returnKey=KEY, sameVolunteer=True)
    frames = world.all_frames(back)
    assert frames[0]["type"] == "queued" and frames[0]["sameVolunteer"] is True
    assert [f for f in frames if f["type"] == "matched"][-1]["peer"]["alias"] == "First"
    assert KEY not in str(_items())


def test_no_key_stores_no_link_and_nothing_else_differs(world: World) -> None:
    """Given two seekers waiting side by side (nobody on shift), one who sent a return key and
    one who did not, then no RETURN item exists for the one without, and their connection
    and queue items have the same attributes but the key's two (its hash, and the volunteer
    asked for: none here): a seeker who sends no key leaves no trace of the feature."""
    with_key, without = world.connect(), world.connect()
    world.send(with_key, {"action": "match", "returnKey": KEY, "sameVolunteer": True})
    world.send(without, {"action": "match", "sameVolunteer": True})
    assert world.frames(without)[0]["sameVolunteer"] is False

    def attributes(cid: str) -> tuple[set[str], set[str]]:
        items = [i for i in _items() if cid in str(i)]
        conn = next(i for i in items if i["pk"]["S"] == f"CONN#{cid}")
        entry = next(i for i in items if i["pk"]["S"] == "QUEUE")
        return set(conn), set(entry)

    keyed_conn, keyed_entry = attributes(with_key)
    plain_conn, plain_entry = attributes(without)
    assert keyed_conn - plain_conn == {"returnHash"}
    assert keyed_entry - plain_entry == {"returnHash"}
    assert plain_conn <= keyed_conn and plain_entry <= keyed_entry
    assert _return_items() == []  # not linked until a chat starts


def test_forget_and_a_block_delete_the_link(world: World) -> None:
    """Given a seeker who opted in, when they come back, are matched with the volunteer and
    that volunteer blocks them, then the link is gone; given one who opted in again, when
    they send `forget` from a new visit with the key, then it is gone too."""
    vol = _volunteer(world, "first")
    seeker, _ = _chat(world)
    world.send(seeker, {"action": "remember", "returnKey": KEY})
    assert len(_return_items()) == 1
    world.send(seeker, {"action": "end"})

    _chat(world, returnKey=KEY, sameVolunteer=True)
    world.send(vol, {"action": "block"})
    assert _return_items() == []

    seeker, _ = _chat(world)
    world.send(seeker, {"action": "remember", "returnKey": KEY})
    assert len(_return_items()) == 1
    visit = world.connect()
    world.send(visit, {"action": "forget", "returnKey": KEY})
    assert _return_items() == []
