"""The whole chat path through the deployed handlers, on moto: connect, match, relay, end."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.integration.chats import next_seeker_types
from tests.world import World

INTRO = "I have not slept properly for days and my thoughts keep racing"


def _volunteer(
    world: World,
    *,
    capacity: int = 1,
    languages: list[str] | None = None,
    topics: list[str] | None = None,
    user: str = "vol-1",
    alias: str = "Sam",
) -> str:
    vid = world.connect("volunteer", user_id=user, alias=alias)
    world.send(
        vid,
        {
            "action": "availability",
            "available": True,
            "capacity": capacity,
            "languages": languages or ["en"],
            "topics": topics or [],
        },
    )
    status = world.frames(vid)
    assert status[-1]["type"] == "status" and status[-1]["available"] is True
    return vid


def _chatting_pair(world: World) -> tuple[str, str, str]:
    seeker = world.connect()
    world.send(seeker, {"action": "match", "topics": ["anxiety"], "intro": INTRO})
    vol = _volunteer(world)
    world.run_matcher()
    session = world.frames(vol)[-1]["sessionId"]
    world.frames(seeker)
    return seeker, vol, session


def test_a_seeker_and_a_volunteer_are_matched_and_talk(world: World) -> None:
    """Given a volunteer who is available, when a seeker asks for a match, then the seeker is
    queued first, both get `matched`, and their messages reach each other with seq and ids."""
    vol = _volunteer(world, topics=["anxiety"])
    seeker = world.connect()

    world.send(seeker, {"action": "match", "topics": ["anxiety"], "intro": INTRO})
    queued = world.frames(seeker)
    assert [f["type"] for f in queued] == ["queued"]
    assert queued[0]["position"] == 1 and len(queued[0]["resumeToken"]) >= 32

    world.run_matcher()
    to_seeker, to_vol = world.frames(seeker), world.frames(vol)
    assert [f["type"] for f in to_seeker] == ["matched"]
    assert [f["type"] for f in to_vol] == ["matched"]
    assert to_vol[0]["intro"] == INTRO and to_vol[0]["peer"]["role"] == "seeker"
    assert "intro" not in to_seeker[0] and to_seeker[0]["peer"] == {
        "alias": "Sam",
        "role": "volunteer",
    }
    assert to_seeker[0]["sessionId"] == to_vol[0]["sessionId"]
    assert to_vol[0]["topics"] == ["anxiety"]

    world.send(seeker, {"action": "message", "text": "hi", "clientMsgId": "c1", "seq": 0})
    world.send(vol, {"action": "message", "text": "Hello, I'm here.", "seq": 0})
    world.send(vol, {"action": "typing"})
    got = world.frames(vol)
    assert got == [
        {
            "type": "message",
            "sessionId": to_vol[0]["sessionId"],
            "text": "hi",
            "sentAt": got[0]["sentAt"],
            "clientMsgId": "c1",
            "seq": 0,
        }
    ]
    assert got[0]["sentAt"].endswith("Z")
    seeker_got = world.frames(seeker)
    assert [(f["type"], f.get("text")) for f in seeker_got] == [
        ("message", "Hello, I'm here."),
        ("typing", None),
    ]


def test_end_tells_both_sides_and_frees_the_volunteer(world: World) -> None:
    """Given a chat, when the seeker ends it, then the seeker hears `ended_by_you`, the volunteer
    `ended_by_peer`, and the volunteer is matched with the next seeker."""
    seeker, vol, session = _chatting_pair(world)
    next_seeker = world.connect()
    world.send(next_seeker, {"action": "match"})
    world.run_matcher()
    assert world.types(next_seeker) == ["queued"]  # the volunteer's one slot is taken

    world.send(seeker, {"action": "end"})
    assert world.frames(seeker) == [
        {"type": "ended", "sessionId": session, "reason": "ended_by_you"}
    ]
    assert world.frames(vol) == [{"type": "ended", "sessionId": session, "reason": "ended_by_peer"}]

    world.run_matcher()
    assert world.types(next_seeker) == ["matched"]
    assert world.types(vol) == ["matched"]


def test_a_waiting_seeker_who_ends_just_leaves_the_queue(world: World) -> None:
    """Given a waiting seeker, when they send `end`, then they get no `ended` (there was no
    chat) and a volunteer who comes later is not matched with them."""
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    world.frames(seeker)
    world.send(seeker, {"action": "end"})
    vol = _volunteer(world)
    world.run_matcher()
    assert world.frames(seeker) == []
    assert world.frames(vol) == []


def test_capacity_is_respected_and_fewest_chats_wins(world: World) -> None:
    """Given a volunteer with capacity 2 and another with capacity 1, when four seekers wait,
    then three are matched (two and one) and the fourth waits."""
    a = _volunteer(world, capacity=2, user="a", alias="A")
    b = _volunteer(world, capacity=1, user="b", alias="B")
    seekers = [world.connect() for _ in range(4)]
    for s in seekers:
        world.send(s, {"action": "match"})
    world.run_matcher()
    matched = [s for s in seekers if "matched" in world.types(s)]
    assert len(matched) == 3
    assert seekers[3] not in matched  # the queue is first come, first served
    assert len([f for f in world.frames(a) if f["type"] == "matched"]) == 2
    assert len([f for f in world.frames(b) if f["type"] == "matched"]) == 1


def test_language_must_fit_and_a_shared_topic_is_preferred(world: World) -> None:
    """Given an English volunteer and two Spanish-speaking ones, one of whom knows the topic,
    when a Spanish-speaking seeker asks about that topic, then the one with the topic gets them."""
    _volunteer(world, languages=["en"], topics=["grief"], user="en", alias="En")
    es_plain = _volunteer(world, languages=["es"], user="es1", alias="Es1")
    es_topic = _volunteer(world, languages=["es", "en"], topics=["grief"], user="es2", alias="Es2")
    seeker = world.connect(lang="es")
    world.send(seeker, {"action": "match", "topics": ["grief"]})
    world.run_matcher()
    assert world.types(es_topic) == ["matched"]
    assert world.frames(es_plain) == []
    assert world.frames(seeker)[-1]["peer"]["alias"] == "Es2"


def test_a_volunteer_who_disconnects_frees_the_seeker(world: World) -> None:
    """Given a chat, when the volunteer's connection closes, then the seeker hears `peer_left`
    and can ask for a new match."""
    seeker, vol, session = _chatting_pair(world)
    world.disconnect(vol)
    assert world.frames(seeker) == [{"type": "ended", "sessionId": session, "reason": "peer_left"}]
    world.send(seeker, {"action": "match"})
    # Their volunteer was the only one on shift: they wait with the crisis lines, no estimate.
    queued, lines = world.frames(seeker)
    assert queued["type"] == "queued" and queued["volunteersOnShift"] == 0
    assert (lines["type"], lines["reason"]) == ("resources", "unavailable")


def test_a_seeker_who_disconnects_frees_the_volunteer(world: World) -> None:
    """Given a chat, when the seeker's connection closes, then the volunteer hears `peer_away`;
    when the grace period passes without a resume and the sweeper runs, they hear `peer_left`
    and their slot serves the next seeker."""
    seeker, vol, session = _chatting_pair(world)
    world.disconnect(seeker)
    assert world.frames(vol) == [{"type": "peer_away", "sessionId": session}]
    world.advance(121)
    world.sweep()
    assert world.frames(vol) == [{"type": "ended", "sessionId": session, "reason": "peer_left"}]
    assert next_seeker_types(world) == ["queued", "matched"]


def test_a_waiting_seeker_who_disconnects_leaves_the_queue(world: World) -> None:
    """Given a waiting seeker, when their connection closes, then no volunteer is matched with
    them, and once the grace period is over and the sweeper ran, nothing of theirs is left in
    the table."""
    seeker = world.connect()
    world.send(seeker, {"action": "match", "intro": INTRO})
    world.disconnect(seeker)
    vol = _volunteer(world)
    world.run_matcher()
    assert world.frames(vol) == []  # away: kept in the queue, never matched
    world.advance(121)
    world.sweep()
    world.run_matcher()
    assert world.frames(vol) == []
    items = boto3.client("dynamodb").scan(TableName=_table())["Items"]
    assert not [i for i in items if seeker in str(i)]


def test_a_volunteer_with_several_chats_names_the_session(world: World) -> None:
    """Given a volunteer in two chats, when they send a message without `sessionId`, then they get
    `session_required`; with it, the right seeker gets the message."""
    vol = _volunteer(world, capacity=2)
    s1, s2 = world.connect(), world.connect()
    for s in (s1, s2):
        world.send(s, {"action": "match"})
    world.run_matcher()
    sessions = {f["sessionId"] for f in world.frames(vol) if f["type"] == "matched"}
    world.frames(s1), world.frames(s2)
    world.send(vol, {"action": "message", "text": "hello", "clientMsgId": "v1"})
    err = world.frames(vol)
    assert err[0]["type"] == "error" and err[0]["code"] == "session_required"
    assert err[0]["clientMsgId"] == "v1"
    s2_session = next(s for s in sessions if s == _session_of(world, s2))
    world.send(vol, {"action": "message", "text": "hello two", "sessionId": s2_session})
    assert world.frames(s1) == []
    assert [f["text"] for f in world.frames(s2)] == ["hello two"]


def test_a_transfer_keeps_the_seekers_language_and_risk(world: World) -> None:
    """Given a seeker who asked for Spanish (their connection says en) and signalled risk during
    the chat, when the volunteer transfers them with a note, then an English-only volunteer is
    not given them, and the next Spanish-speaking volunteer's `matched` carries the note and
    `risk`."""
    seeker = world.connect(lang="en")
    world.send(seeker, {"action": "match", "language": "es"})
    first = _volunteer(world, languages=["es"], user="es1", alias="Es1")
    world.run_matcher()
    session = world.frames(first)[-1]["sessionId"]
    world.send(
        seeker, {"action": "message", "text": "ya tengo las pastillas guardadas para hacerlo"}
    )
    assert "alert" in world.types(first)
    world.send(first, {"action": "transfer", "sessionId": session, "note": "habla despacio"})
    world.send(first, {"action": "availability", "available": False})
    # Handed back, and told at once that nobody on shift can take them (the one on shift
    # handed them on); that volunteer's break is then no news to them.
    assert [(f["type"], f.get("reason")) for f in world.frames(seeker)][-2:] == [
        ("queued", "transfer"),
        ("resources", "unavailable"),
    ]

    english = _volunteer(world, languages=["en"], user="en1", alias="En1")
    world.run_matcher()
    assert world.frames(english) == []
    spanish = _volunteer(world, languages=["es"], user="es2", alias="Es2")
    world.run_matcher()
    [matched] = world.frames(spanish)
    assert (matched["type"], matched["note"], matched["risk"]) == (
        "matched",
        "habla despacio",
        "high",
    )
    assert world.frames(seeker)[-1]["peer"]["alias"] == "Es2"


def _session_of(world: World, cid: str) -> str:
    return next(f["sessionId"] for f in world.all_frames(cid) if f["type"] == "matched")


def _table() -> str:
    import os

    return os.environ["TABLE_NAME"]


def _dump_table() -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=_table())["Items"]
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def test_the_matcher_publishes_how_many_are_waiting(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given three waiting seekers and one free volunteer, when the matcher runs, then it
    publishes the metric SeekersWaiting = 2 (the ones still waiting), for the operator's
    dashboard."""
    for _ in range(3):
        world.send(world.connect(), {"action": "match"})
    _volunteer(world)
    capsys.readouterr()
    world.run_matcher()
    published = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and "SeekersWaiting" in line
    ]
    assert [p["SeekersWaiting"] for p in published] == [[2.0]]  # EMF keeps a list per metric
