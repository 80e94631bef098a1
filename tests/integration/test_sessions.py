"""Sessions that end (issue 11) on moto: real tokens, `reauth`, expiry, disabled accounts."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import jwt
import moto.cognitoidp
import pytest

from kindred.aws.wiring import reset_services
from kindred.config import settings
from tests.aws_calls import record_aws_calls
from tests.conftest import REGION

PASSWORD = "Kindred-Test-1!"


@pytest.fixture
def jwks(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's public signing keys served over HTTP, as the pool's JWKS: the chat function
    checks a `reauth` token against them exactly as the authorizer does at $connect."""
    keys = gzip.decompress(
        (Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json.gz").read_bytes()
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(keys)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    monkeypatch.setenv("COGNITO_JWKS_URL", url)
    settings.cache_clear()
    reset_services()
    yield url
    server.shutdown()


def _account(aws: dict[str, str], email: str, group: str = "volunteers") -> dict[str, Any]:
    """A confirmed account in the stack's pool, signed in: its tokens and its `sub`."""
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool, client = aws["COGNITO_USER_POOL_ID"], aws["COGNITO_CLIENT_ID"]
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "name", "Value": "Ana"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True
    )
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
    tokens = cognito.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    claims = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    return {**tokens, "sub": claims["sub"], "exp": claims["exp"], "email": email}


def _refreshed_id_token(aws: dict[str, str], refresh_token: str) -> str:
    """What the console does before its token expires: REFRESH_TOKEN_AUTH."""
    cognito = boto3.client("cognito-idp", region_name=REGION)
    result = cognito.initiate_auth(
        ClientId=aws["COGNITO_CLIENT_ID"],
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )["AuthenticationResult"]
    token: str = result["IdToken"]
    return token


def _item(aws: dict[str, str], cid: str) -> dict[str, Any] | None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    item: dict[str, Any] | None = dynamodb.get_item(
        TableName=aws["TABLE_NAME"], Key={"pk": {"S": f"CONN#{cid}"}, "sk": {"S": "CONN"}}
    ).get("Item")
    return item


def _posted(calls: list[tuple[str, str, dict[str, Any]]], cid: str) -> list[dict[str, Any]]:
    """The frames posted to `cid` during the recorded calls (moto forgets a deleted socket's)."""
    return [
        json.loads(params["Data"])
        for service, operation, params in calls
        if operation == "PostToConnection" and params["ConnectionId"] == cid
    ]


def _deleted(calls: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    return [p["ConnectionId"] for _, op, p in calls if op == "DeleteConnection"]


def test_reauth_with_a_refreshed_cognito_token_extends_the_connection(
    aws: dict[str, str], jwks: str, world: Any
) -> None:
    """Given a volunteer connected with a Cognito ID token that expires in a minute,
    When the console refreshes it (REFRESH_TOKEN_AUTH) and sends `reauth` with the new one,
    Then `reauthed` names the new token's expiry, the connection item keeps it
    (`tokenExpiresAt`), and two minutes later the volunteer's frames are still served."""
    ana = _account(aws, "ana@example.org")
    vol = world.connect(
        "volunteer", user_id=ana["sub"], alias="Ana", expires_at=int(time.time()) + 60
    )
    fresh = _refreshed_id_token(aws, ana["RefreshToken"])
    new_exp = jwt.decode(fresh, options={"verify_signature": False})["exp"]

    world.send(vol, {"action": "reauth", "token": fresh})

    (frame,) = world.frames(vol)
    assert frame["type"] == "reauthed", frame
    assert frame["expiresAt"].startswith(time.strftime("%Y-%m-%dT", time.gmtime(new_exp)))
    item = _item(aws, vol)
    assert item is not None and int(item["tokenExpiresAt"]["N"]) == new_exp
    world.advance(120)
    world.send(vol, {"action": "ping"})
    assert world.types(vol) == ["pong"]


def test_reauth_with_another_accounts_token_changes_nothing(
    aws: dict[str, str], jwks: str, world: Any
) -> None:
    """Given two volunteers, when one sends `reauth` with the other's valid token,
    then `reauth_failed`, and its connection keeps its own expiry."""
    ana, ben = _account(aws, "ana@example.org"), _account(aws, "ben@example.org")
    vol = world.connect("volunteer", user_id=ana["sub"], alias="Ana", expires_at=ana["exp"])

    world.send(vol, {"action": "reauth", "token": ben["IdToken"]})
    world.send(vol, {"action": "reauth", "token": ana["IdToken"][:-4] + "AAAA"})

    assert [(f["type"], f.get("code")) for f in world.frames(vol)] == [
        ("error", "reauth_failed"),
        ("error", "reauth_failed"),
    ]
    item = _item(aws, vol)
    assert item is not None and int(item["tokenExpiresAt"]["N"]) == ana["exp"]


def test_a_frame_past_the_expiry_closes_the_connection(aws: dict[str, str], world: Any) -> None:
    """Given a volunteer in a chat whose token expires in a minute and who never reauths,
    When a minute has passed and the console sends a message,
    Then it gets `session_expired`, the server deletes the socket (DeleteConnection), the
    seeker hears `ended` `peer_left`, and the connection item is gone."""
    vol = world.connect("volunteer", user_id="u-ana", alias="Ana", expires_at=int(time.time()) + 60)
    world.send(vol, {"action": "availability", "available": True})
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    world.run_matcher()
    world.frames(seeker)
    world.advance(61)

    with record_aws_calls() as calls:
        world.send(vol, {"action": "message", "text": "hello"})

    assert [(f["type"], f.get("code")) for f in _posted(calls, vol)] == [
        ("error", "session_expired")
    ]
    assert _deleted(calls) == [vol]
    assert [f["reason"] for f in world.frames(seeker) if f["type"] == "ended"] == ["peer_left"]
    assert _item(aws, vol) is None


def test_the_sweeper_closes_expired_and_disabled_staff_connections(
    aws: dict[str, str], world: Any
) -> None:
    """Given volunteers connected: one whose token has expired (silent), one whose account an
    operator disabled, one whose account was deleted, and one in good standing,
    When the sweeper runs (it asks Cognito, ListUsers by `sub`, about each account),
    Then the first two get `session_expired` and are deleted; the deleted account's connection
    is left to its token's expiry (only a positive "disabled" closes: a pool id set wrong must
    never close everyone), and the last stays."""
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = aws["COGNITO_USER_POOL_ID"]
    ana, ben, cat, dan = (
        _account(aws, f"{name}@example.org") for name in ("ana", "ben", "cat", "dan")
    )
    far = int(time.time()) + 3600
    silent = world.connect("volunteer", user_id=ana["sub"], expires_at=int(time.time()) + 30)
    disabled = world.connect("volunteer", user_id=ben["sub"], expires_at=far)
    deleted = world.connect("volunteer", user_id=cat["sub"], expires_at=far)
    good = world.connect("supervisor", user_id=dan["sub"], expires_at=far)
    cognito.admin_disable_user(UserPoolId=pool, Username=ben["email"])
    cognito.admin_delete_user(UserPoolId=pool, Username=cat["email"])
    world.advance(31)

    with record_aws_calls() as calls:
        done = world.sweep()

    assert done["sessions_expired"] == 1
    assert done["accounts_closed"] == 1
    assert sorted(_deleted(calls)) == sorted([silent, disabled])
    assert _item(aws, deleted) is not None
    for cid in (silent, disabled):
        assert [f.get("code") for f in _posted(calls, cid)] == ["session_expired"]
        assert _item(aws, cid) is None
    assert _item(aws, good) is not None
    asked = [p["Filter"] for _, op, p in calls if op == "ListUsers"]
    assert sorted(asked) == sorted(f'sub = "{a["sub"]}"' for a in (ben, cat, dan))
