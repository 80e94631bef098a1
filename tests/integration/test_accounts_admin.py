"""Accounts from the console (issue 13) on moto, IAM enforced: the admin function's every op,
its refusals, and what an invited, a disabled and a removed account can then do."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.outbox import LocalOutbox
from tests.aws_calls import record_aws_calls

REGION = "us-east-1"
PASSWORD = "Kindred-Test-Pass-1!"


@pytest.fixture
def outbox() -> Iterator[LocalOutbox]:
    """moto's AdminCreateUser as Cognito's: a temporary password "e-mailed" (local.outbox)."""
    with LocalOutbox().delivering() as box:
        yield box


def _cognito() -> Any:
    return boto3.client("cognito-idp", region_name=REGION)


def _staff(aws: dict[str, str], email: str, *groups: str) -> str:
    """A confirmed account in these groups (made by an operator): its `sub`."""
    cognito, pool = _cognito(), aws["COGNITO_USER_POOL_ID"]
    user = cognito.admin_create_user(
        UserPoolId=pool,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "name", "Value": "Cora"}],
        MessageAction="SUPPRESS",
    )["User"]
    cognito.admin_set_user_password(
        UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True
    )
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
    return next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")


def _sign_in(aws: dict[str, str], email: str, password: str) -> dict[str, Any]:
    return dict(
        _cognito().initiate_auth(
            ClientId=aws["COGNITO_CLIENT_ID"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
    )


def _accounts(world: Any, cid: str, **frame: Any) -> dict[str, Any]:
    world.send(cid, {"action": "accounts", **frame})
    (reply,) = world.frames(cid)
    return dict(reply)


def _coordinator(aws: dict[str, str], world: Any) -> tuple[str, str]:
    me = _staff(aws, "cora@example.org", "supervisors", "coordinators")
    cid = world.connect("supervisor", user_id=me, alias="Cora", coordinator=True)
    return me, cid


def test_a_coordinator_invites_a_volunteer_who_signs_in_for_the_first_time(
    aws: dict[str, str], world: Any, outbox: LocalOutbox
) -> None:
    """Given a coordinator, when they invite a volunteer, then Cognito makes the account
    (FORCE_CHANGE_PASSWORD) and e-mails a temporary password, which signs in to the new
    password challenge; once set, the volunteer's ID token is in `volunteers`."""
    me, cid = _coordinator(aws, world)
    with record_aws_calls() as calls:
        reply = _accounts(
            world, cid, op="invite", email="nia@example.org", name="Nia", group="volunteers"
        )

    assert reply["type"] == "accounts" and reply["op"] == "invite"
    new = next(a for a in reply["accounts"] if a["user"] == reply["user"])
    assert (new["email"], new["name"], new["group"]) == ("nia@example.org", "Nia", "volunteers")
    assert (new["status"], new["enabled"], new["coordinator"]) == (
        "FORCE_CHANGE_PASSWORD",
        True,
        False,
    )
    assert next(a for a in reply["accounts"] if a["user"] == me)["you"] is True
    (create,) = [p for _, op, p in calls if op == "AdminCreateUser"]
    assert create["DesiredDeliveryMediums"] == ["EMAIL"]
    assert "TemporaryPassword" not in create and "MessageAction" not in create

    challenge = _sign_in(aws, "nia@example.org", outbox.password_for("nia@example.org"))
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    then = _cognito().respond_to_auth_challenge(
        ClientId=aws["COGNITO_CLIENT_ID"],
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "nia@example.org", "NEW_PASSWORD": PASSWORD},
    )
    # VolunteerMfa ON (the template's default): the authenticator app is set up next (the
    # console does it: tests/e2e/test_browser_accounts.py).
    assert then["ChallengeName"] == "MFA_SETUP"
    groups = _cognito().admin_list_groups_for_user(
        UserPoolId=aws["COGNITO_USER_POOL_ID"], Username="nia@example.org"
    )["Groups"]
    assert [g["GroupName"] for g in groups] == ["volunteers"]


def test_every_op_changes_the_pool_and_answers_the_new_list(
    aws: dict[str, str], world: Any, outbox: LocalOutbox
) -> None:
    """Given a coordinator and a volunteer with an open connection, when the coordinator
    makes them a supervisor and coordinator, back to volunteer, signs them out, disables
    them, enables them, disables and removes them, then each answer lists the account as it
    now is; disabled, their sign-in fails and the sweeper closes their connection."""
    _, cid = _coordinator(aws, world)
    val = _staff(aws, "val@example.org", "volunteers")
    vol = world.connect("volunteer", user_id=val, alias="Val", expires_at=int(time.time()) + 3600)

    def account(reply: dict[str, Any]) -> dict[str, Any]:
        assert reply["type"] == "accounts", reply
        return next(a for a in reply["accounts"] if a["user"] == val)

    listed = account(_accounts(world, cid, op="list"))
    assert (listed["group"], listed["status"], listed["enabled"]) == (
        "volunteers",
        "CONFIRMED",
        True,
    )
    up = account(
        _accounts(world, cid, op="set_group", user=val, group="supervisors", coordinator=True)
    )
    assert (up["group"], up["coordinator"]) == ("supervisors", True)
    down = account(_accounts(world, cid, op="set_group", user=val, group="volunteers"))
    assert (down["group"], down["coordinator"]) == ("volunteers", False)
    assert _accounts(world, cid, op="sign_out", user=val)["user"] == val

    assert account(_accounts(world, cid, op="disable", user=val))["enabled"] is False
    with pytest.raises(ClientError) as refused:
        _sign_in(aws, "val@example.org", PASSWORD)
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    with record_aws_calls() as calls:
        done = world.sweep()
    assert done["accounts_closed"] == 1
    closed = [p["ConnectionId"] for _, op, p in calls if op == "DeleteConnection"]
    assert closed == [vol]

    assert account(_accounts(world, cid, op="enable", user=val))["enabled"] is True
    assert "ChallengeName" not in _sign_in(aws, "val@example.org", PASSWORD)
    refusal = _accounts(world, cid, op="remove", user=val)
    assert (refusal["code"], refusal["message"]) == (
        "invalid_request",
        "Disable the account first, then remove it.",
    )
    _accounts(world, cid, op="disable", user=val)
    gone = _accounts(world, cid, op="remove", user=val)
    assert val not in {a["user"] for a in gone["accounts"]}
    with pytest.raises(ClientError):
        _sign_in(aws, "val@example.org", PASSWORD)


def test_only_a_coordinator_may_and_never_on_themself(
    aws: dict[str, str], world: Any, outbox: LocalOutbox
) -> None:
    """Given a volunteer, a supervisor who is not a coordinator and a seeker, when each sends
    `accounts`, then `not_allowed` and Cognito is never called; a coordinator disabling or
    removing their own account is refused the same way."""
    me, cid = _coordinator(aws, world)
    others = [
        world.connect("volunteer", user_id="u-v", alias="V"),
        world.connect("supervisor", user_id="u-s", alias="S"),
        world.connect(),
    ]
    for other in others:
        with record_aws_calls() as calls:
            reply = _accounts(world, other, op="list")
        assert (reply["type"], reply["code"]) == ("error", "not_allowed")
        assert [op for service, op, _ in calls if service == "cognito-idp"] == []
    for op in ("disable", "remove", "sign_out"):
        assert _accounts(world, cid, op=op, user=me)["code"] == "not_allowed"
    assert _sign_in(aws, "cora@example.org", PASSWORD)["AuthenticationResult"]
