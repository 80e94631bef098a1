"""Relayed text on the deployed handlers: what reaches the other person is cleaned (issue 11)."""

from __future__ import annotations

from tests.world import World

# A right-to-left override (the text after it is shown reversed), an isolate, a direction mark,
# NUL, ESC, DEL, a C1 control and a carriage return: all invisible, all removed.
HIDDEN = "\u202e\u2066\u200f\x00\x1b\x7f\u0085\r"


def test_a_message_an_intro_and_a_note_arrive_cleaned(world: World) -> None:
    """Given a seeker whose intro and message, and a volunteer whose transfer note, carry
    control and bidirectional-override characters beside newlines and tabs, when they are
    relayed, then the volunteer's `matched.intro`, the volunteer's `message.text` and the next
    volunteer's `matched.note` are the texts without them, newlines and tabs kept; a message
    of nothing but such characters is refused like an empty one, and the peer gets nothing."""
    seeker = world.connect()
    world.send(seeker, {"action": "match", "intro": f"first{HIDDEN} time\nhere"})
    vol = world.connect("volunteer", user_id="v1", alias="Vee")
    world.send(vol, {"action": "availability", "available": True})
    world.run_matcher()
    [matched] = [f for f in world.frames(vol) if f["type"] == "matched"]
    assert matched["intro"] == "first time\nhere"
    session = matched["sessionId"]
    world.frames(seeker)

    world.send(seeker, {"action": "message", "text": f"call{HIDDEN} 555\n\t0199", "seq": 0})
    [message] = world.frames(vol)
    assert (message["type"], message["text"], message["seq"]) == ("message", "call 555\n\t0199", 0)

    world.send(seeker, {"action": "message", "text": HIDDEN, "clientMsgId": "m2", "seq": 1})
    [error] = world.frames(seeker)
    assert (error["type"], error["code"], error["clientMsgId"]) == (
        "error",
        "invalid_request",
        "m2",
    )
    assert error["message"].startswith("text")
    assert world.frames(vol) == []

    world.send(vol, {"action": "transfer", "sessionId": session, "note": f"\u202agentle{HIDDEN}"})
    vol2 = world.connect("volunteer", user_id="v2", alias="Wim")
    world.send(vol2, {"action": "availability", "available": True})
    world.run_matcher()
    [matched2] = [f for f in world.frames(vol2) if f["type"] == "matched"]
    assert matched2["note"] == "gentle"
