"""Sessions that end (issue 11): `reauth`, expiry, and disabled accounts, on the fakes."""

from __future__ import annotations

import pytest

from kindred.matching import run_matcher
from kindred.sweeper import MAX_ACCOUNT_CHECKS, sweep
from tests.unit.harness import FakeServices, connect, send, store_unchanged


def _signed_in(
    svc: FakeServices, cid: str = "v1", role: str = "volunteer", lifetime: int = 3600
) -> str:
    """A staff connection opened with a token of account `u-<cid>` valid `lifetime` seconds."""
    connect(
        svc,
        cid,
        role,
        user_id=f"u-{cid}",
        alias="Sam",
        token_expires_at=int(svc.clock()) + lifetime,
    )
    return cid


def _in_chat(svc: FakeServices, volunteer: str) -> str:
    """A seeker s1 in a chat with `volunteer` (available first); frames so far taken."""
    send(svc, volunteer, {"action": "availability", "available": True})
    connect(svc, "s1")
    send(svc, "s1", {"action": "match"})
    run_matcher(svc)
    svc.notifier.forget_all()
    return "s1"


def test_reauth_extends_the_connection_to_the_new_tokens_expiry(svc: FakeServices) -> None:
    """Given a volunteer whose token expires in 10 minutes,
    When the console sends `reauth` with a fresh token of the same account,
    Then it hears `reauthed` with the new expiry, and past the old one its frames are served."""
    _signed_in(svc, lifetime=600)
    fresh = svc.tokens.issue("u-v1", lifetime=3600)

    send(svc, "v1", {"action": "reauth", "token": fresh})

    (frame,) = svc.notifier.take("v1")
    assert frame["type"] == "reauthed"
    assert frame["expiresAt"].endswith("Z")
    assert svc.conn("v1").token_expires_at == int(svc.clock()) + 3600
    svc.clock.advance(1200)
    send(svc, "v1", {"action": "availability", "available": True})
    assert svc.notifier.types("v1") == ["status"]


@pytest.mark.parametrize(
    ("token_of", "role", "why"),
    [
        ("u-other", "volunteer", "another account's token"),
        ("u-v1", "supervisor", "the account changed role"),
    ],
)
def test_reauth_with_another_accounts_token_is_refused_and_changes_nothing(
    svc: FakeServices, token_of: str, role: str, why: str
) -> None:
    """Given a volunteer's connection,
    When `reauth` carries a valid token of another account (or of another role),
    Then `error` `reauth_failed`, and the connection keeps its expiry."""
    _signed_in(svc, lifetime=600)
    token = svc.tokens.issue(token_of, role=role)

    with store_unchanged(svc):
        send(svc, "v1", {"action": "reauth", "token": token})

    (frame,) = svc.notifier.take("v1")
    assert (frame["type"], frame["code"], frame["action"]) == ("error", "reauth_failed", "reauth")
    assert svc.conn("v1").token_expires_at == int(svc.clock()) + 600, why


def test_reauth_with_a_bad_or_expired_token_is_refused(svc: FakeServices) -> None:
    """Given a volunteer's connection,
    When `reauth` carries a token nobody issued, or one that has expired,
    Then `reauth_failed` naming the reason, and nothing changes."""
    _signed_in(svc)
    stale = svc.tokens.issue("u-v1", lifetime=10)
    svc.clock.advance(20)

    with store_unchanged(svc):
        send(svc, "v1", {"action": "reauth", "token": "forged"})
        send(svc, "v1", {"action": "reauth", "token": stale})

    frames = svc.notifier.take("v1")
    assert [f["code"] for f in frames] == ["reauth_failed", "reauth_failed"]
    assert "malformed" in frames[0]["message"]
    assert "expired" in frames[1]["message"]


def test_a_seeker_may_not_reauth(svc: FakeServices) -> None:
    """Given a seeker, when it sends `reauth`, then `not_allowed` and nothing changes."""
    connect(svc, "s1")
    token = svc.tokens.issue("u-v1")

    with store_unchanged(svc):
        send(svc, "s1", {"action": "reauth", "token": token})

    (frame,) = svc.notifier.take("s1")
    assert (frame["code"], frame["action"]) == ("not_allowed", "reauth")


@pytest.mark.parametrize(
    "frame",
    [
        {"action": "ping"},
        {"action": "message", "text": "still there?"},
        {"action": "availability", "available": True},
        {"action": "reauth", "token": "placeholder"},
    ],
)
def test_any_frame_past_the_expiry_gets_session_expired_and_the_socket_closes(
    svc: FakeServices, frame: dict[str, object]
) -> None:
    """Given a volunteer in a chat whose token expired a second ago, with no `reauth`,
    When the console sends any frame (`ping` and a too-late `reauth` included),
    Then `error` `session_expired`, the server closes the socket, the seeker hears `ended`
    `peer_left` as after any `$disconnect`, and the connection and its slot are gone."""
    _signed_in(svc, lifetime=60)
    seeker = _in_chat(svc, "v1")
    if frame["action"] == "reauth":
        frame = {"action": "reauth", "token": svc.tokens.issue("u-v1")}
    svc.clock.advance(61)

    send(svc, "v1", frame)

    (error,) = svc.notifier.take("v1")
    assert (error["type"], error["code"]) == ("error", "session_expired")
    assert svc.notifier.closed == ["v1"]
    assert svc.connections.get_connection("v1") is None
    assert svc.pool.get_slot("v1") is None
    ended = [f for f in svc.notifier.take(seeker) if f["type"] == "ended"]
    assert [f["reason"] for f in ended] == ["peer_left"]


def test_a_frame_just_before_the_expiry_is_served(svc: FakeServices) -> None:
    """Given a volunteer whose token expires in 60 s, when it pings at 59 s, then `pong`."""
    _signed_in(svc, lifetime=60)
    svc.clock.advance(59)

    send(svc, "v1", {"action": "ping"})

    assert svc.notifier.types("v1") == ["pong"]
    assert svc.notifier.closed == []


def test_the_sweeper_closes_an_expired_connection_that_sends_nothing(svc: FakeServices) -> None:
    """Given a supervisor whose token expired and who sends nothing, and one whose did not,
    When the sweeper runs,
    Then the first gets `session_expired` and is closed (off shift); the second stays."""
    _signed_in(svc, "sup1", "supervisor", lifetime=60)
    _signed_in(svc, "sup2", "supervisor", lifetime=3600)
    svc.clock.advance(120)

    done = sweep(svc)

    assert done["sessions_expired"] == 1
    assert [f["code"] for f in svc.notifier.take("sup1")] == ["session_expired"]
    assert svc.notifier.closed == ["sup1"]
    assert svc.pool.on_shift_supervisors() == ["sup2"]
    assert svc.connections.get_connection("sup2") is not None


def test_the_sweeper_closes_the_connections_of_a_disabled_account(svc: FakeServices) -> None:
    """Given a volunteer in a chat, signed in with a token still valid for an hour,
    When an operator disables the account and the sweeper runs,
    Then the volunteer gets `session_expired` and is closed, and the seeker hears `peer_left`."""
    _signed_in(svc, "v1")
    _signed_in(svc, "v2")
    seeker = _in_chat(svc, "v1")
    svc.accounts.disabled.add("u-v1")

    done = sweep(svc)

    assert done["accounts_closed"] == 1
    assert svc.accounts.asked == [["u-v1", "u-v2"]]
    (error,) = svc.notifier.take("v1")
    assert error["code"] == "session_expired"
    assert "no longer active" in error["message"]
    assert svc.notifier.closed == ["v1"]
    assert [f["reason"] for f in svc.notifier.take(seeker) if f["type"] == "ended"] == ["peer_left"]
    assert svc.connections.get_connection("v2") is not None


def test_the_sweeper_asks_after_at_most_a_bounded_number_of_accounts_a_run(
    svc: FakeServices,
) -> None:
    """Given more staff accounts connected than one run asks after,
    When the sweeper runs minute after minute,
    Then each run asks after at most MAX_ACCOUNT_CHECKS, and within a few runs every one."""
    count = MAX_ACCOUNT_CHECKS + 30
    for i in range(count):
        _signed_in(svc, f"v{i:03d}", lifetime=7200)

    for _ in range(2):
        sweep(svc)
        svc.clock.advance(60)

    assert all(len(asked) == MAX_ACCOUNT_CHECKS for asked in svc.accounts.asked)
    assert len({u for asked in svc.accounts.asked for u in asked}) == count
