"""Accounts from the console (issue 13): the rules of kindred.accounts_admin, on the fakes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kindred import accounts_admin
from kindred.ports import AccountRefused
from kindred.requests import MessageRequest
from tests.unit.harness import FakeServices, connect, make_services

ROUTES = frozenset({"accounts"})


@pytest.fixture
def svc() -> FakeServices:
    return make_services()


def _coordinator(svc: FakeServices, cid: str = "c1") -> str:
    """A coordinator's connection; their own account is in the directory."""
    user = svc.staff.add("coord@example.org", "Cora", "supervisors", "coordinators")
    connect(svc, cid, "supervisor", user_id=user, alias="Cora", coordinator=True)
    return user


def _send(svc: FakeServices, cid: str, frame: dict[str, Any] | str) -> dict[str, Any]:
    body = frame if isinstance(frame, str) else json.dumps({"action": "accounts", **frame})
    answer = accounts_admin.handle(svc, MessageRequest(cid, "accounts", body), ROUTES)
    assert answer == {"statusCode": 200}
    (reply,) = svc.notifier.take(cid)
    return reply


def _listed(reply: dict[str, Any], user: str) -> dict[str, Any]:
    return next(a for a in reply["accounts"] if a["user"] == user)


def test_a_coordinator_lists_the_accounts_with_their_groups(svc: FakeServices) -> None:
    """Given a coordinator and two colleagues, when they list the accounts, then each shows
    its role group, coordinator flag, enabled flag and status, and their own is marked."""
    me = _coordinator(svc)
    vol = svc.staff.add("v@example.org", "Val", "volunteers")
    svc.staff.add("s@example.org", "Sam", "supervisors", enabled=False)

    reply = _send(svc, "c1", {"op": "list"})

    assert reply["type"] == "accounts" and reply["op"] == "list"
    assert [a["name"] for a in reply["accounts"]] == ["Cora", "Sam", "Val"]
    assert _listed(reply, me) == {
        "user": me,
        "email": "coord@example.org",
        "name": "Cora",
        "group": "supervisors",
        "coordinator": True,
        "enabled": True,
        "status": "CONFIRMED",
        "you": True,
    }
    assert _listed(reply, vol)["group"] == "volunteers"
    assert "you" not in _listed(reply, vol)
    assert [a["enabled"] for a in reply["accounts"]] == [True, False, True]


@pytest.mark.parametrize("coordinator", [False, True])
def test_anyone_but_a_coordinator_is_refused_and_nothing_changes(
    svc: FakeServices, coordinator: bool
) -> None:
    """Given a supervisor not in `coordinators`, a volunteer, and a seeker (whatever the
    context says, only a supervisor can be a coordinator), when they send `accounts`, then
    `not_allowed`, and the directory was never asked."""
    connect(svc, "s", "supervisor", user_id="u-s", coordinator=False)
    connect(svc, "v", "volunteer", user_id="u-v", coordinator=coordinator)
    connect(svc, "k", "seeker", coordinator=coordinator)
    for cid in ("s", "v", "k"):
        reply = _send(svc, cid, {"op": "invite", "email": "x@example.org", "name": "X",
                                  "group": "volunteers"})  # fmt: skip
        assert reply["type"] == "error" and reply["code"] == "not_allowed", cid
    assert svc.staff.calls == []
    assert svc.staff.members == {}


def test_an_invitation_creates_the_account_in_its_group(svc: FakeServices) -> None:
    """Given a coordinator, when they invite a volunteer, then the account is created (the
    pool e-mails the temporary password) and put in the group; the answer names it."""
    _coordinator(svc)
    reply = _send(
        svc,
        "c1",
        {"op": "invite", "email": "new@example.org", "name": "Nia", "group": "volunteers"},
    )
    assert reply["op"] == "invite"
    new = _listed(reply, reply["user"])
    assert new["email"] == "new@example.org"
    assert new["group"] == "volunteers" and new["coordinator"] is False
    assert new["status"] == "FORCE_CHANGE_PASSWORD"

    again = _send(
        svc,
        "c1",
        {"op": "invite", "email": "new@example.org", "name": "Nia", "group": "volunteers"},
    )
    assert again["code"] == "invalid_request"
    assert "already exists" in again["message"]


def test_set_group_moves_an_account_and_only_a_supervisor_coordinates(svc: FakeServices) -> None:
    """Given a volunteer, when a coordinator makes them a supervisor and coordinator, then
    both groups; back to volunteer, then neither (a volunteer cannot coordinate)."""
    _coordinator(svc)
    vol = svc.staff.add("v@example.org", "Val", "volunteers")

    up = _send(
        svc, "c1", {"op": "set_group", "user": vol, "group": "supervisors", "coordinator": True}
    )
    assert svc.staff.members[vol].groups == {"supervisors", "coordinators"}
    assert _listed(up, vol)["coordinator"] is True

    _send(svc, "c1", {"op": "set_group", "user": vol, "group": "volunteers"})
    assert svc.staff.members[vol].groups == {"volunteers"}

    bad = _send(
        svc, "c1", {"op": "set_group", "user": vol, "group": "volunteers", "coordinator": True}
    )
    assert bad["code"] == "invalid_request"
    assert svc.staff.members[vol].groups == {"volunteers"}


def test_a_group_the_pool_lacks_is_a_clear_error(svc: FakeServices) -> None:
    """Given a pool without `trainees` (issue 13's part B not deployed), when a coordinator
    moves someone there, then a clear `invalid_request`, and they keep their group."""
    _coordinator(svc)
    vol = svc.staff.add("v@example.org", "Val", "volunteers")
    reply = _send(svc, "c1", {"op": "set_group", "user": vol, "group": "trainees"})
    assert reply["code"] == "invalid_request"
    assert "group does not exist" in reply["message"]
    assert "volunteers" in svc.staff.members[vol].groups


def test_disable_signs_out_and_remove_needs_a_disabled_account(svc: FakeServices) -> None:
    """Given a volunteer, when a coordinator removes them while enabled, then refused; once
    disabled (and signed out), removed; enable brings a disabled account back."""
    _coordinator(svc)
    vol = svc.staff.add("v@example.org", "Val", "volunteers")
    other = svc.staff.add("o@example.org", "Oli", "volunteers", enabled=False)

    assert _send(svc, "c1", {"op": "remove", "user": vol})["message"].startswith("Disable")
    assert vol in svc.staff.members

    _send(svc, "c1", {"op": "disable", "user": vol})
    assert svc.staff.members[vol].enabled is False
    assert ("sign_out", vol) in svc.staff.calls
    reply = _send(svc, "c1", {"op": "remove", "user": vol})
    assert vol not in svc.staff.members
    assert vol not in {a["user"] for a in reply["accounts"]}

    _send(svc, "c1", {"op": "enable", "user": other})
    assert svc.staff.members[other].enabled is True


@pytest.mark.parametrize("op", ["disable", "remove", "sign_out", "set_group"])
def test_a_coordinator_cannot_lock_themself_out(svc: FakeServices, op: str) -> None:
    """Given a coordinator, when they disable, remove, sign out or regroup their own account,
    then `not_allowed`, and nothing was asked of the pool."""
    me = _coordinator(svc)
    reply = _send(svc, "c1", {"op": op, "user": me, "group": "volunteers"})
    assert reply["code"] == "not_allowed"
    assert [c for c in svc.staff.calls if c[0] != "list"] == []
    assert svc.staff.members[me].enabled is True


def test_an_unknown_account_and_a_busy_pool_are_told_clearly(svc: FakeServices) -> None:
    """Given an account id the pool does not have, then `invalid_request`; given Cognito's
    e-mail limit, then `rate_limited`, with words a coordinator understands."""
    _coordinator(svc)
    assert _send(svc, "c1", {"op": "sign_out", "user": "nobody"})["code"] == "invalid_request"
    svc.staff.refuse["create"] = AccountRefused("throttled")
    busy = _send(
        svc, "c1", {"op": "invite", "email": "n@example.org", "name": "N", "group": "volunteers"}
    )
    assert busy["code"] == "rate_limited"


def test_bad_frames_change_nothing(svc: FakeServices) -> None:
    """Given a coordinator, when a frame lacks what its op needs, or has a bad address or an
    unknown group, then `invalid_request` and no call to the pool."""
    _coordinator(svc)
    for frame in (
        {"op": "invite", "email": "new@example.org", "group": "volunteers"},
        {"op": "invite", "email": "not an address", "name": "N", "group": "volunteers"},
        {"op": "invite", "email": "n@example.org", "name": "N", "group": "admins"},
        {"op": "disable"},
        {"op": "explode"},
    ):
        reply = _send(svc, "c1", frame)
        assert reply["code"] == "invalid_request", frame
    assert svc.staff.calls == []


def test_the_log_names_accounts_by_id_only(
    svc: FakeServices, caplog: pytest.LogCaptureFixture
) -> None:
    """Given an invitation, when it is logged, then with the acting and the new account's
    ids, never the address or the name."""
    me = _coordinator(svc)
    reply = _send(
        svc,
        "c1",
        {"op": "invite", "email": "secret@example.org", "name": "Zed", "group": "volunteers"},
    )
    (record,) = [r for r in caplog.records if r.getMessage() == "account changed"]
    logged = {k: v for k, v in vars(record).items() if k not in ("args", "msg")}
    assert (logged["op"], logged["by"], logged["user"]) == ("invite", me, reply["user"])
    every = json.dumps([vars(r) for r in caplog.records], default=str)
    assert "secret@example.org" not in every and "Zed" not in every
