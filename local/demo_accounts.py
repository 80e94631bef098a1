"""The demo accounts (volunteer, supervisor, trainee) in the local Cognito (moto); signing in."""

from __future__ import annotations

import contextlib
import json
import urllib.request
from dataclasses import dataclass
from typing import Any

DEMO_PASSWORD = "Kindred-Local-1"  # noqa: S105 - a published demo login, local only


@dataclass(frozen=True)
class DemoAccount:
    email: str
    group: str
    name: str
    coordinator: bool = False  # also in `coordinators`: manages accounts (issue 13)


DEMO_ACCOUNTS = (
    DemoAccount("volunteer@example.org", "volunteers", "Demo Volunteer"),
    DemoAccount("supervisor@example.org", "supervisors", "Demo Supervisor", coordinator=True),
    DemoAccount("trainee@example.org", "trainees", "Demo Trainee"),
)


def create_demo_accounts(cognito: Any, user_pool_id: str) -> None:
    """Each demo account, confirmed with its permanent password and in its group (idempotent)."""
    for account in DEMO_ACCOUNTS:
        with contextlib.suppress(cognito.exceptions.UsernameExistsException):
            cognito.admin_create_user(
                UserPoolId=user_pool_id,
                Username=account.email,
                UserAttributes=[
                    {"Name": "email", "Value": account.email},
                    {"Name": "email_verified", "Value": "true"},
                    {"Name": "name", "Value": account.name},
                ],
                MessageAction="SUPPRESS",
            )
        cognito.admin_set_user_password(
            UserPoolId=user_pool_id, Username=account.email, Password=DEMO_PASSWORD, Permanent=True
        )
        for group in (account.group, *(["coordinators"] if account.coordinator else [])):
            cognito.admin_add_user_to_group(
                UserPoolId=user_pool_id, Username=account.email, GroupName=group
            )


def give_id_tokens_every_attribute(cognito: Any, user_pool_id: str, client_id: str) -> None:
    """Make moto's ID tokens carry the user's attributes, as Cognito's do by default.

    An app client without ReadAttributes may read every attribute in Cognito, so its ID
    tokens hold `name`; moto puts in only the attributes ReadAttributes lists. Listing
    the pool's attributes makes the local token what the cloud gives (the volunteer's
    alias comes from `name`). A client that lists its own ReadAttributes is left alone.
    """
    client = cognito.describe_user_pool_client(UserPoolId=user_pool_id, ClientId=client_id)
    if client["UserPoolClient"].get("ReadAttributes"):
        return
    pool = cognito.describe_user_pool(UserPoolId=user_pool_id)["UserPool"]
    names = [a["Name"] for a in pool.get("SchemaAttributes", []) if a.get("Name") != "sub"]
    cognito.update_user_pool_client(
        UserPoolId=user_pool_id, ClientId=client_id, ReadAttributes=names
    )


class SignInError(RuntimeError):
    """Cognito refused the sign-in (wrong password, unknown user ...)."""


def sign_in(endpoint: str, client_id: str, username: str, password: str) -> dict[str, Any]:
    """InitiateAuth USER_PASSWORD_AUTH by plain HTTP, as the web console does: the tokens.

    No AWS signature and no SDK: the request a browser's fetch() makes, so a test that
    uses it proves what the page relies on.
    """
    request = urllib.request.Request(  # noqa: S310 - the configured Cognito endpoint
        endpoint.rstrip("/") + "/",
        data=json.dumps(
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": client_id,
                "AuthParameters": {"USERNAME": username, "PASSWORD": password},
            }
        ).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise SignInError(f"sign-in of {username} refused ({exc.code}): {detail}") from None
    result = answer.get("AuthenticationResult")
    if not isinstance(result, dict):
        raise SignInError(
            f"sign-in of {username} answered a challenge: {answer.get('ChallengeName')}"
        )
    return result
