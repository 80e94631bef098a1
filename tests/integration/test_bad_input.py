"""Bad frames: each gets the protocol's `error` frame, and nothing else changes."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest

from tests.world import World


def is_rate_log(attribute: str) -> bool:
    """Whether a connection item's attribute is part of its rate log (rl0, rl1, ...)."""
    return attribute.startswith("rl") and attribute[2:].isdigit()


def _table_state() -> list[dict[str, Any]]:
    """Every item, but for the connections' rate logs: every action but `ping` is counted in
    the sender's, refused or not (the count is the one call made before anything is known)."""
    items = boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])["Items"]
    kept = [{k: v for k, v in item.items() if not is_rate_log(k)} for item in items]
    return sorted(kept, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


@pytest.fixture
def chat(world: World) -> tuple[World, str, str]:
    seeker = world.connect()
    world.send(seeker, {"action": "match", "topics": ["anxiety"]})
    vol = world.connect("volunteer", user_id="v1", alias="Vee")
    world.send(vol, {"action": "availability", "available": True})
    world.run_matcher()
    world.frames(seeker), world.frames(vol)
    return world, seeker, vol


BAD_FRAMES = [
    ("not json at all", "invalid_json"),
    ("[1, 2, 3]", "invalid_json"),
    ('"a string"', "invalid_json"),
    ("null", "invalid_json"),
    ("{}", "unknown_action"),
    ('{"action": "dance"}', "unknown_action"),
    ('{"action": 42}', "unknown_action"),
    ('{"action": "message"}', "invalid_request"),
    ('{"action": "message", "text": ""}', "invalid_request"),
    (json.dumps({"action": "message", "text": "x" * 4001}), "invalid_request"),
    ('{"action": "message", "text": "hi", "seq": -1}', "invalid_request"),
    # Hardening (issue 11): seq past 2^53-1, types that are not the protocol's, and a text
    # that is nothing once control and bidirectional characters are removed.
    ('{"action": "message", "text": "hi", "seq": 9007199254740992}', "invalid_request"),
    ('{"action": "message", "text": "hi", "seq": "5"}', "invalid_request"),
    ('{"action": "message", "text": "hi", "seq": 1.0}', "invalid_request"),
    (json.dumps({"action": "message", "text": "\u202e\u2066\x00"}), "invalid_request"),
    ('{"action": "availability", "available": 1}', "invalid_request"),
    ('{"action": "availability", "available": true, "capacity": "2"}', "invalid_request"),
    ('{"action": "match", "topics": "anxiety"}', "invalid_request"),
    ('{"action": "match", "topics": ["a","b","c","d","e","f"]}', "invalid_request"),
    (json.dumps({"action": "match", "intro": "y" * 501}), "invalid_request"),
    ('{"action": "availability", "available": true, "capacity": 4}', "invalid_request"),
    ('{"action": "report", "reason": "boredom"}', "invalid_request"),
    ('{"action": "feedback", "sessionId": "s", "rating": 6}', "invalid_request"),
    (json.dumps({"action": "message", "text": "z" * 33_000}), "too_large"),
]


@pytest.mark.parametrize(("frame", "code"), BAD_FRAMES)
def test_a_bad_frame_gets_its_error_and_changes_nothing(
    chat: tuple[World, str, str], frame: str, code: str
) -> None:
    """Given a seeker in a chat, when they send a malformed frame, then they get `error` with the
    protocol's code, the volunteer gets nothing, and the table is exactly as it was."""
    world, seeker, vol = chat
    before = _table_state()
    result = world.send(seeker, frame)
    assert result == {"statusCode": 200}  # the socket stays open
    got = world.frames(seeker)
    assert [(f["type"], f["code"]) for f in got] == [("error", code)]
    assert got[0]["message"]
    assert world.frames(vol) == []
    assert _table_state() == before
    # and the chat still works
    world.send(seeker, {"action": "message", "text": "still here"})
    assert [f["text"] for f in world.frames(vol)] == ["still here"]


def test_an_error_message_names_the_field_but_never_echoes_the_text(
    chat: tuple[World, str, str],
) -> None:
    """Given a message over 4000 characters, when it is refused, then the error names `text` and
    does not contain what the seeker wrote."""
    world, seeker, _ = chat
    world.send(seeker, json.dumps({"action": "message", "text": "secretword " * 400}))
    (err,) = world.frames(seeker)
    assert "text" in err["message"]
    assert "secretword" not in json.dumps(err)


WRONG_ROLE = [
    ("seeker", {"action": "availability", "available": True}, "not_allowed"),
    ("seeker", {"action": "transfer", "sessionId": "abc"}, "not_allowed"),
    ("volunteer", {"action": "match"}, "not_allowed"),
    ("volunteer", {"action": "forget"}, "not_allowed"),
    ("volunteer", {"action": "feedback", "sessionId": "abc", "rating": 5}, "not_allowed"),
    ("seeker", {"action": "message", "text": "anyone?"}, "not_in_chat"),
    ("seeker", {"action": "typing"}, "not_in_chat"),
    ("volunteer", {"action": "message", "text": "hello"}, "not_in_chat"),
    ("volunteer", {"action": "block"}, "not_in_chat"),
    ("seeker", {"action": "report", "reason": "spam"}, "not_in_chat"),
    ("seeker", {"action": "feedback", "sessionId": "nope", "rating": 4}, "not_in_chat"),
    ("seeker", {"action": "assess", "level": "high"}, "not_allowed"),
    ("volunteer", {"action": "assess", "level": "imminent"}, "not_in_chat"),
    ("supervisor", {"action": "assess", "sessionId": "abc", "level": "concern"}, "not_in_chat"),
]


@pytest.mark.parametrize(("role", "frame", "code"), WRONG_ROLE)
def test_an_action_from_the_wrong_role_or_outside_a_chat_is_refused(
    world: World, role: str, frame: dict[str, Any], code: str
) -> None:
    """Given a fresh connection, when it sends an action its role or state does not allow, then it
    gets the protocol's error with the action named, and the table does not change."""
    cid = world.connect(role, user_id="u1" if role != "seeker" else "", alias="A")
    before = _table_state()
    world.send(cid, frame)
    got = world.frames(cid)
    assert [(f["type"], f["code"], f.get("action")) for f in got] == [
        ("error", code, frame["action"])
    ]
    assert _table_state() == before


def test_asking_twice_for_a_match_is_already_waiting_then_already_in_chat(world: World) -> None:
    """Given a waiting seeker, when they ask again, then `already_waiting`; once matched,
    `already_in_chat`; their place and chat are kept."""
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    world.send(seeker, {"action": "match"})
    # (Nobody is on shift yet: the crisis lines, reason `unavailable`, come with `queued`.)
    assert [(f["type"], f.get("code")) for f in world.frames(seeker)] == [
        ("queued", None),
        ("resources", None),
        ("error", "already_waiting"),
    ]
    vol = world.connect("volunteer", user_id="v", alias="V")
    world.send(vol, {"action": "availability", "available": True})
    world.run_matcher()
    world.frames(seeker)
    world.send(seeker, {"action": "match"})
    assert [f.get("code") for f in world.frames(seeker)] == ["already_in_chat"]
    world.send(seeker, {"action": "message", "text": "ok"})
    assert [f["type"] for f in world.frames(vol)][-1] == "message"


def test_ping_is_answered_with_pong(world: World) -> None:
    """Given any connection, when it pings, then it gets `pong`."""
    cid = world.connect()
    world.send(cid, {"action": "ping"})
    assert world.frames(cid) == [{"type": "pong"}]
