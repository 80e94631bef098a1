"""Contact details in a chat message (issue 12), through kindred.chat.handle on the fakes.

A volunteer's are refused; a seeker's are refused unless the frame says `"share": true`. A
refusal relays nothing and stores nothing, and a seeker's refused message is still read for risk.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.harness import (
    FakeServices,
    connect,
    in_chat,
    send,
    store_unchanged,
)

PHONE = "my number is 07700 900123, text me"
RISKY_WITH_PHONE = "I want to kill myself tonight. my mum is on 07700 900123"


def _chat(svc: FakeServices, seeker: str = "s1", vol: str = "v1", role: str = "volunteer") -> str:
    """A seeker and a volunteer (or a supervisor taking chats) in a chat; the session id."""
    return in_chat(svc, seeker, vol, role)


def _refusal(frames: list[dict[str, Any]]) -> dict[str, Any]:
    [frame] = frames
    assert (frame["type"], frame["code"], frame["action"]) == (
        "error",
        "contact_details",
        "message",
    )
    return frame


def test_a_seekers_phone_number_is_refused_and_nothing_is_relayed_or_kept(
    svc: FakeServices,
) -> None:
    """Given a chat, when the seeker writes a phone number, then they get `error`
    `contact_details` with their clientMsgId and a message naming a phone number; the volunteer
    gets nothing; one store call was made (the rate count) and the text is kept nowhere."""
    _chat(svc)
    svc.store.calls.clear()
    with store_unchanged(svc):
        send(svc, "s1", {"action": "message", "text": PHONE, "clientMsgId": "c1", "seq": 0})
    refusal = _refusal(svc.notifier.take("s1"))
    assert refusal["clientMsgId"] == "c1"
    assert "a phone number" in refusal["message"]
    assert "07700" not in refusal["message"]
    assert svc.notifier.take("v1") == []
    assert svc.store.calls == ["count_action"]
    assert svc.store.mentioning("07700", "900123", "text me") == []


def test_a_seeker_who_chooses_to_share_is_relayed(svc: FakeServices) -> None:
    """Given a seeker whose message was refused, when they send it again with `share: true`,
    then the volunteer gets it unchanged (without `share`), the seeker nothing, and the relay
    still makes one store call."""
    session = _chat(svc)
    send(svc, "s1", {"action": "message", "text": PHONE, "clientMsgId": "c1", "seq": 0})
    _refusal(svc.notifier.take("s1"))
    svc.store.calls.clear()
    send(
        svc,
        "s1",
        {"action": "message", "text": PHONE, "clientMsgId": "c2", "seq": 1, "share": True},
    )
    [got] = svc.notifier.take("v1")
    assert {k: v for k, v in got.items() if k != "sentAt"} == {
        "type": "message",
        "sessionId": session,
        "text": PHONE,
        "clientMsgId": "c2",
        "seq": 1,
    }
    assert svc.notifier.take("s1") == []
    assert svc.store.calls == ["count_action"]


@pytest.mark.parametrize("share", [False, True])
@pytest.mark.parametrize("role", ["volunteer", "supervisor"])
def test_a_volunteers_contact_details_are_refused_even_with_share(
    svc: FakeServices, role: str, share: bool
) -> None:
    """Given a chat with a volunteer (or a supervisor taking chats), when they write an e-mail
    address, with or without `share: true`, then they get `contact_details` naming it and the
    seeker gets nothing; nothing is stored."""
    _chat(svc, role=role)
    frame = {"action": "message", "text": "write to me at sam@example.org", "clientMsgId": "v-1"}
    with store_unchanged(svc):
        send(svc, "v1", frame | ({"share": True} if share else {}))
    refusal = _refusal(svc.notifier.take("v1"))
    assert refusal["clientMsgId"] == "v-1"
    assert "an e-mail address" in refusal["message"]
    assert svc.notifier.take("s1") == []
    assert svc.store.mentioning("sam@example.org") == []


def test_the_refusal_names_every_kind_found(svc: FakeServices) -> None:
    """Given a chat, when the seeker writes a number, an address and a handle, then the refusal
    names all three, in the order phone, e-mail, handle."""
    _chat(svc)
    text = "insta @sam_92, sam@example.org or 07700 900123"
    send(svc, "s1", {"action": "message", "text": text})
    message = _refusal(svc.notifier.take("s1"))["message"]
    assert "a phone number, an e-mail address and a social media username" in message


def test_a_refused_seeker_message_is_still_read_for_risk(svc: FakeServices) -> None:
    """Given a chat and a supervisor on shift, when the seeker writes of taking their life
    tonight together with a phone number, then the message is refused and not relayed, but the
    seeker gets crisis lines, and the volunteer and the supervisor a `risk` alert, as for any
    message at risk; the text is kept nowhere."""
    connect(svc, "boss", "supervisor", user_id="u-boss", alias="Boss")
    session = _chat(svc)
    send(svc, "s1", {"action": "message", "text": RISKY_WITH_PHONE, "clientMsgId": "c9"})
    to_seeker = svc.notifier.take("s1")
    assert [(f["type"], f.get("code") or f.get("reason")) for f in to_seeker] == [
        ("error", "contact_details"),
        ("resources", "crisis"),
    ]
    to_volunteer = svc.notifier.take("v1")
    assert [(f["type"], f.get("kind")) for f in to_volunteer] == [("alert", "risk")]
    assert to_volunteer[0]["sessionId"] == session
    assert to_volunteer[0]["level"] in ("high", "imminent")
    assert [(f["type"], f["kind"]) for f in svc.notifier.take("boss")] == [("alert", "risk")]
    assert svc.store.mentioning("kill", "07700") == []


def test_a_message_without_contact_details_is_relayed_as_before(svc: FakeServices) -> None:
    """Given a chat, when the seeker writes times, prices, dates and a crisis line's number,
    then the message is relayed: none of them is a contact detail."""
    _chat(svc)
    text = "at 10:30 on 12/03/2024 I paid $1,500, then called 116 123"
    send(svc, "s1", {"action": "message", "text": text})
    assert [f["text"] for f in svc.notifier.take("v1")] == [text]
    assert svc.notifier.take("s1") == []


@pytest.mark.parametrize("share", ["true", 1, None])
def test_share_must_be_a_boolean(svc: FakeServices, share: object) -> None:
    """Given a chat, when the seeker sends `share` that is not true or false, then
    `invalid_request` naming `share`, and nothing is relayed."""
    _chat(svc)
    with store_unchanged(svc):
        send(svc, "s1", {"action": "message", "text": PHONE, "share": share})
    [err] = svc.notifier.take("s1")
    assert (err["code"], err["action"]) == ("invalid_request", "message")
    assert err["message"].startswith("share")
    assert svc.notifier.take("v1") == []
