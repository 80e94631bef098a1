"""Return keys (issue 13): a seeker who opted in meets the same volunteer again, on the fakes."""

from __future__ import annotations

import hashlib
from typing import Any

from kindred.connections import connect as on_connect
from kindred.matching import run_matcher
from kindred.requests import ConnectRequest
from tests.unit.harness import (
    FakeServices,
    connect,
    drop,
    make_services,
    send,
    store_unchanged,
    volunteer,
)

KEY = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4"  # what a page makes: 24 random bytes, base64url
OTHER_KEY = "b3RoZXJvdGhlcm90aGVyb3RoZXJvdGhl"
DAY = 86400
# Self-injury now: `high` in the taxonomy (kindred/data/crisis_taxonomy.json).
RISKY_INTRO = "I started cutting again last night and I can't stop"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _frames(svc: FakeServices, cid: str) -> list[dict[str, Any]]:
    return svc.notifier.take(cid)


def _matched_with(svc: FakeServices, seeker: str) -> str:
    """The alias of the volunteer the seeker was matched with (the last `matched`)."""
    matched = [f for f in _frames(svc, seeker) if f["type"] == "matched"]
    assert matched, "the seeker was not matched"
    return str(matched[-1]["peer"]["alias"])


def _chat_and_opt_in(svc: FakeServices, seeker: str = "s1", vol: str = "v1") -> str:
    """`seeker` chats with `vol` (account user-<vol>), ends it, and opts in with KEY on the
    feedback screen; the session id."""
    connect(svc, seeker)
    send(svc, seeker, {"action": "match"})
    svc.clock.advance(1)
    run_matcher(svc)
    session = [f for f in _frames(svc, seeker) if f["type"] == "matched"][-1]["sessionId"]
    send(svc, seeker, {"action": "end"})
    _frames(svc, seeker)
    send(svc, seeker, {"action": "remember", "sessionId": session, "returnKey": KEY})
    return str(session)


def _come_back(svc: FakeServices, seeker: str, **match: Any) -> dict[str, Any]:
    """A new visit: a new connection that asks for a chat; its `queued` frame."""
    connect(svc, seeker)
    send(svc, seeker, {"action": "match", **match})
    [queued] = [f for f in svc.notifier.wire[seeker] if f["type"] == "queued"]
    return queued


def _two_volunteers(svc: FakeServices) -> None:
    """v1 (account user-v1, "Vol v1") and v2 (user-v2, "Vol v2"), both on shift."""
    volunteer(svc, "v1")
    svc.clock.advance(1)
    volunteer(svc, "v2")


# ---- the opt-in ----------------------------------------------------------------------------


def test_opting_in_after_a_chat_links_only_the_hash_of_the_key_to_the_volunteer() -> None:
    """Given a seeker whose chat with a volunteer has ended, when they opt in with a key made
    on their device, then the store links only the key's SHA-256 to the volunteer's account
    for ReturnKeyDays (14 by default), never the key itself, and the seeker hears
    `remembered`."""
    svc = make_services()
    volunteer(svc, "v1")
    session = _chat_and_opt_in(svc)

    assert _frames(svc, "s1") == [{"type": "remembered", "sessionId": session, "days": 14}]
    assert dict(svc.store.return_links) == {_hash(KEY): "user-v1"}
    assert svc.store.return_links.expires[_hash(KEY)] == int(svc.clock()) + 14 * DAY
    assert svc.conn("s1").return_hash == _hash(KEY)
    assert svc.store.mentioning(KEY) == []


def test_a_seeker_who_sends_no_key_is_never_linked() -> None:
    """Given a seeker who never opts in, when they chat, end and come back on a new
    connection, then no return link was ever written or held, and no return-key call made."""
    svc = make_services()
    _two_volunteers(svc)
    connect(svc, "s1")
    send(svc, "s1", {"action": "match", "sameVolunteer": True})
    run_matcher(svc)
    send(svc, "s1", {"action": "end"})
    queued = _come_back(svc, "s2", sameVolunteer=True)

    assert queued["sameVolunteer"] is False
    assert dict(svc.store.return_links) == {}
    assert all(c.return_hash is None for c in svc.store.conns.values())
    assert not {"link", "hold", "unlink"} & set(svc.store.calls)


def test_remember_is_refused_for_a_chat_that_is_not_the_seekers_and_changes_nothing() -> None:
    """Given a seeker with no chat, and a volunteer, when either sends `remember`, then an
    `error` frame answers and nothing is stored."""
    svc = make_services()
    volunteer(svc, "v1")
    connect(svc, "s1")
    with store_unchanged(svc):
        send(svc, "s1", {"action": "remember", "returnKey": KEY})
        send(svc, "s1", {"action": "remember", "sessionId": "not-mine", "returnKey": KEY})
        send(svc, "v1", {"action": "remember", "returnKey": KEY})
        send(svc, "s1", {"action": "remember", "returnKey": "short"})
    assert [f["code"] for f in _frames(svc, "s1")] == [
        "not_in_chat",
        "not_in_chat",
        "invalid_request",
    ]
    assert [f["code"] for f in _frames(svc, "v1")] == ["not_allowed"]


# ---- coming back ---------------------------------------------------------------------------


def test_coming_back_with_the_key_meets_the_same_volunteer_even_when_another_is_free() -> None:
    """Given a seeker who opted in after a chat with v1, and v2 free and idle for longer, when
    they come back on a new connection and ask for the same volunteer, then `queued` says
    sameVolunteer true and they are matched with v1, not v2."""
    svc = make_services()
    _two_volunteers(svc)
    _chat_and_opt_in(svc, vol="v1")  # v1 is idle since this chat: v2 would come first
    svc.clock.advance(3600)

    queued = _come_back(svc, "s2", returnKey=KEY, sameVolunteer=True)
    run_matcher(svc)

    assert queued["sameVolunteer"] is True
    assert _matched_with(svc, "s2") == "Vol v1"


def test_without_asking_for_the_same_the_best_free_volunteer_comes_and_the_key_follows() -> None:
    """Given a seeker with a key linked to v1, when they come back asking for anyone, then the
    matcher's usual choice (v2, idle longer) takes them, and the key now leads to v2 (each
    chat re-points it to the latest volunteer, for ReturnKeyDays from now)."""
    svc = make_services()
    _two_volunteers(svc)
    _chat_and_opt_in(svc, vol="v1")
    svc.clock.advance(3600)

    queued = _come_back(svc, "s2", returnKey=KEY)
    run_matcher(svc)

    assert "sameVolunteer" not in queued
    assert _matched_with(svc, "s2") == "Vol v2"
    assert dict(svc.store.return_links) == {_hash(KEY): "user-v2"}
    assert svc.store.return_links.expires[_hash(KEY)] == int(svc.clock()) + 14 * DAY


def test_the_same_volunteer_busy_is_waited_for_until_the_topic_fallback_then_anyone() -> None:
    """Given a seeker linked to v1, v1 on shift but in another chat and v2 free, when they ask
    for the same volunteer, then nobody takes them before TopicFallbackSeconds (a work item
    wakes the matcher then), and after it v2 does."""
    svc = make_services(topic_fallback_seconds=60)
    _two_volunteers(svc)
    _chat_and_opt_in(svc, vol="v1")
    send(svc, "v2", {"action": "availability", "available": False})
    connect(svc, "busy")
    send(svc, "busy", {"action": "match"})
    run_matcher(svc)  # v1 takes `busy`
    send(svc, "v2", {"action": "availability", "available": True})

    queued = _come_back(svc, "s2", returnKey=KEY, sameVolunteer=True)
    run_matcher(svc)
    svc.clock.advance(59)
    run_matcher(svc)
    assert queued["sameVolunteer"] is True
    assert [f["type"] for f in svc.notifier.wire["s2"]] == ["queued"]
    assert ("topic_fallback", 1) in svc.work.delayed  # due when the wait is over

    svc.clock.advance(1)
    run_matcher(svc)
    assert _matched_with(svc, "s2") == "Vol v2"


def test_the_same_volunteer_off_shift_means_anyone_at_once() -> None:
    """Given a seeker linked to v1, and v1 off shift, when they ask for the same volunteer,
    then `queued` says sameVolunteer false and v2 takes them at once."""
    svc = make_services()
    _two_volunteers(svc)
    _chat_and_opt_in(svc, vol="v1")
    send(svc, "v1", {"action": "availability", "available": False})

    queued = _come_back(svc, "s2", returnKey=KEY, sameVolunteer=True)
    run_matcher(svc)

    assert queued["sameVolunteer"] is False
    assert _matched_with(svc, "s2") == "Vol v2"


def test_a_seeker_at_risk_does_not_wait_for_the_same_volunteer() -> None:
    """Given a seeker linked to v1, v1 busy and v2 free, when they come back with an intro
    that reads a risk and ask for the same volunteer, then v2 takes them at once: a seeker
    ahead of normal priority never waits for one volunteer."""
    svc = make_services()
    _two_volunteers(svc)
    _chat_and_opt_in(svc, vol="v1")
    send(svc, "v2", {"action": "availability", "available": False})
    connect(svc, "busy")
    send(svc, "busy", {"action": "match"})
    run_matcher(svc)
    send(svc, "v2", {"action": "availability", "available": True})

    _come_back(svc, "s2", returnKey=KEY, sameVolunteer=True, intro=RISKY_INTRO)
    run_matcher(svc)

    assert _matched_with(svc, "s2") == "Vol v2"


def test_a_key_past_return_key_days_leads_nowhere() -> None:
    """Given a seeker who opted in with v1, when they come back 15 days later, then their key
    leads nowhere: sameVolunteer false, and the usual choice takes them."""
    svc = make_services()
    _two_volunteers(svc)
    _chat_and_opt_in(svc, vol="v1")
    svc.clock.advance(15 * DAY)
    for vid in ("v1", "v2"):  # their connections of two weeks ago are long gone
        connect(svc, vid, "volunteer", user_id=f"user-{vid}", alias=f"Vol {vid}")
    volunteer(svc, "v2")
    svc.clock.advance(1)
    volunteer(svc, "v1")

    queued = _come_back(svc, "s2", returnKey=KEY, sameVolunteer=True)
    run_matcher(svc)

    assert queued["sameVolunteer"] is False
    assert _matched_with(svc, "s2") == "Vol v2"


def test_return_key_days_zero_turns_the_feature_off() -> None:
    """Given ReturnKeyDays 0, when a seeker opts in and later asks with a key, then `remember`
    is refused and nothing is ever linked or held."""
    svc = make_services(return_key_days=0)
    volunteer(svc, "v1")
    _chat_and_opt_in(svc)
    assert [f["code"] for f in _frames(svc, "s1")] == ["not_allowed"]

    queued = _come_back(svc, "s2", returnKey=KEY, sameVolunteer=True)
    run_matcher(svc)
    assert queued["sameVolunteer"] is False
    assert dict(svc.store.return_links) == {}
    assert all(c.return_hash is None for c in svc.store.conns.values())


# ---- blocks and forget ---------------------------------------------------------------------


def test_a_block_by_either_side_unlinks_the_key_from_that_volunteer() -> None:
    """Given a seeker who came back with their key and is in a chat with v1, when the seeker
    (or, another time, v1) blocks the other, then the key leads nowhere: a blocked volunteer
    is never asked for again."""
    for blocker in ("s2", "v1"):
        svc = make_services()
        volunteer(svc, "v1")
        _chat_and_opt_in(svc, vol="v1")
        _come_back(svc, "s2", returnKey=KEY, sameVolunteer=True)
        run_matcher(svc)
        assert _matched_with(svc, "s2") == "Vol v1"

        send(svc, blocker, {"action": "block"})

        assert dict(svc.store.return_links) == {}, blocker


def test_remember_is_refused_for_a_chat_ended_by_a_block() -> None:
    """Given a seeker who blocked their volunteer, when they try to opt in for that chat, then
    `not_allowed` and nothing is linked."""
    svc = make_services()
    volunteer(svc, "v1")
    connect(svc, "s1")
    send(svc, "s1", {"action": "match"})
    run_matcher(svc)
    send(svc, "s1", {"action": "block"})
    _frames(svc, "s1")
    with store_unchanged(svc):
        send(svc, "s1", {"action": "remember", "returnKey": KEY})
    assert [f["code"] for f in _frames(svc, "s1")] == ["not_allowed"]


def test_forget_deletes_the_link_the_connection_holds_or_the_key_names() -> None:
    """Given a seeker who opted in, when they ask to be forgotten on that connection, then the
    link is gone; and given another who opted in, when they come back on a new connection
    and send `forget` with the key (the page's "Forget me"), then theirs is gone too."""
    svc = make_services()
    volunteer(svc, "v1")
    _chat_and_opt_in(svc, vol="v1")
    send(svc, "s1", {"action": "forget"})
    assert dict(svc.store.return_links) == {}

    svc.store.link(_hash(OTHER_KEY), "user-v1", int(svc.clock()) + DAY)
    connect(svc, "s3")
    send(svc, "s3", {"action": "forget", "returnKey": OTHER_KEY})
    assert dict(svc.store.return_links) == {}
    assert _frames(svc, "s3") == [{"type": "forgotten"}]


def test_the_key_held_survives_a_resume() -> None:
    """Given a seeker who came back with their key and is waiting, when their socket drops and
    they resume, then the new connection holds the key's hash (so `forget` still finds it)."""
    svc = make_services()
    volunteer(svc, "v1")
    _chat_and_opt_in(svc, vol="v1")
    send(svc, "v1", {"action": "availability", "available": False})
    queued = _come_back(svc, "s2", returnKey=KEY)
    drop(svc, "s2")
    on_connect(svc, ConnectRequest("s2b", "seeker", "", "", {"resume": queued["resumeToken"]}))
    assert svc.conn("s2b").return_hash == _hash(KEY)
    send(svc, "s2b", {"action": "forget"})
    assert dict(svc.store.return_links) == {}
