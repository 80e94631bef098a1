"""The $connect authorizer: who may open a WebSocket, and as whom."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import importlib.util
import io
import json
import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from kindred import auth
from kindred.auth import AuthError, CachedJwks, authorize, verify_id_token
from kindred.config import settings
from kindred.observability import logger, metrics
from local.http_server import BackgroundHTTPServer, QuietHandler

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
POOL_ID = "eu-west-1_TestPool1"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL_ID}"
CLIENT_ID = "4kindredclient0000000000000"
KID = "pool-key-1"
SEEKER_PAGE = "https://help.example.org"
CONSOLE_PAGE = "https://volunteers.example.org"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/$connect"


# ---------------------------------------------------------------- keys and tokens


@pytest.fixture(scope="module")
def pool_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def attacker_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


def id_claims(**overrides: Any) -> dict[str, Any]:
    """The claims of a Cognito ID token of this pool and client, valid for an hour."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "7c1e4a52-0d6b-4c8e-9f00-2a1b3c4d5e6f",
        "aud": CLIENT_ID,
        "iss": ISSUER,
        "token_use": "id",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "jti": str(uuid.uuid4()),
        "cognito:username": "ana",
        "cognito:groups": ["volunteers"],
        "email": "ana.lopez@example.org",
        "name": "Ana",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def sign(claims: dict[str, Any], key: rsa.RSAPrivateKey, kid: str = KID) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made_token(
    header: dict[str, Any], claims: dict[str, Any], signer: Callable[[bytes], bytes]
) -> str:
    """A token built without PyJWT, which refuses to make the forgeries below."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64url(signer(signing_input.encode()))}"


# ---------------------------------------------------------------- the pool's JWKS endpoint


class JwksServer:
    """A real HTTP server on 127.0.0.1 playing Cognito's /.well-known/jwks.json."""

    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self.keys = keys
        self.status = 200
        self.body: bytes | None = None  # served instead of the keys when set
        self.redirect: str | None = None  # a path to redirect to, when set
        self.requests = 0
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                server.requests += 1
                if server.redirect and self.path != server.redirect:
                    self.send_response(302)
                    self.send_header("Location", server.redirect)
                    self.end_headers()
                    return
                body = server.body or json.dumps({"keys": server.keys}).encode()
                self.answer(server.status, body, "application/json")

        self._httpd = BackgroundHTTPServer(
            ("127.0.0.1", 0), Handler, name="jwks", poll_interval=0.02
        ).start()
        self.url = f"{self._httpd.origin}/{POOL_ID}/.well-known/jwks.json"

    def stop(self) -> None:
        self._httpd.stop()


@pytest.fixture
def jwks_server(pool_key: rsa.RSAPrivateKey) -> Iterator[JwksServer]:
    server = JwksServer([public_jwk(pool_key, KID)])
    yield server
    server.stop()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/{POOL_ID}/.well-known/jwks.json"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ---------------------------------------------------------------- settings, events, handler


def set_env(monkeypatch: pytest.MonkeyPatch, jwks_url: str, **extra: str) -> None:
    env = {
        "TABLE_NAME": "kindred-test",
        "MATCH_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/kindred-match",
        "WEBSOCKET_ENDPOINT": "https://abcdef1234.execute-api.eu-west-1.amazonaws.com/prod",
        "SEALING_KEY_PARAMETER": "/kindred/sealing-key",
        "AWS_REGION": REGION,
        "COGNITO_USER_POOL_ID": POOL_ID,
        "COGNITO_CLIENT_ID": CLIENT_ID,
        "ALLOWED_ORIGINS": f"{SEEKER_PAGE}, {CONSOLE_PAGE}/",
        "COGNITO_JWKS_URL": jwks_url,
        "NO_PROXY": "127.0.0.1,localhost",
        **extra,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()


@pytest.fixture(autouse=True)
def clean_state() -> Iterator[None]:
    settings.cache_clear()
    auth.cached_jwks.cache_clear()
    metrics.clear_metrics()
    yield
    settings.cache_clear()
    auth.cached_jwks.cache_clear()
    metrics.clear_metrics()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, jwks_server: JwksServer) -> JwksServer:
    set_env(monkeypatch, jwks_server.url)
    return jwks_server


def connect_event(token: str | None = None, origin: str | None = SEEKER_PAGE) -> dict[str, Any]:
    """The sample $connect event, with this token and Origin (None: without)."""
    event: dict[str, Any] = copy.deepcopy(
        json.loads((ROOT / "events" / "authorizer.json").read_text())
    )
    for headers in (event["headers"], event["multiValueHeaders"]):
        headers.pop("Origin", None)
    if origin is not None:
        event["headers"]["origin"] = origin  # lower case, as HTTP/2 clients send it
        event["multiValueHeaders"]["origin"] = [origin]
    if token is not None:
        event["queryStringParameters"]["token"] = token
        event["multiValueQueryStringParameters"]["token"] = [token]
    return event


@dataclass
class FakeLambdaContext:
    function_name: str = "kindred-authorizer"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:kindred-authorizer"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"


@pytest.fixture(scope="module")
def handler_module() -> ModuleType:
    path = ROOT / "functions" / "authorizer" / "app.py"
    spec = importlib.util.spec_from_file_location("kindred_authorizer_app", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def invoke(handler_module: ModuleType) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def call(event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = handler_module.lambda_handler(event, FakeLambdaContext())
        return result

    return call


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything the Powertools logger writes, formatted as in CloudWatch."""
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logger.registered_handler.formatter)
    underlying = logging.getLogger(logger.name)
    underlying.addHandler(capture)
    yield stream
    underlying.removeHandler(capture)


def check(event: dict[str, Any]) -> dict[str, Any]:
    """The authorizer's answer, with this process's settings and cached JWKS."""
    config = settings()
    return authorize(event, config, auth.cached_jwks(config.jwks_url))


def refusal(event: dict[str, Any]) -> AuthError:
    with pytest.raises(AuthError) as caught:
        check(event)
    return caught.value


def effect(policy: dict[str, Any]) -> str:
    statement = policy["policyDocument"]["Statement"][0]
    assert statement["Resource"] == METHOD_ARN
    assert statement["Action"] == "execute-api:Invoke"
    return str(statement["Effect"])


# ---------------------------------------------------------------- who gets in, as whom


def test_seeker_without_token_is_admitted_anonymously(env: JwksServer, invoke: Any) -> None:
    """Given a person in distress opening the help page with no account,
    When the browser connects without a token,
    Then the connection is allowed as an anonymous seeker, and no key is fetched."""
    policy = invoke(connect_event())

    assert effect(policy) == "Allow"
    assert policy["principalId"] == "anonymous"
    assert policy["context"] == {"role": "seeker", "userId": "", "alias": ""}
    assert env.requests == 0


def test_volunteer_token_admits_a_volunteer_named_by_the_token(
    env: JwksServer, invoke: Any, pool_key: rsa.RSAPrivateKey
) -> None:
    """Given a volunteer signed in to the console (group volunteers, name Ana),
    When the console connects with the ID token,
    Then the connection is allowed as that volunteer, under the alias Ana, until the token
    expires (the connection item keeps `expiresAt`; `reauth` extends it)."""
    claims = id_claims()
    token = sign(claims, pool_key)

    policy = invoke(connect_event(token, origin=CONSOLE_PAGE))

    assert effect(policy) == "Allow"
    assert policy["principalId"] == "7c1e4a52-0d6b-4c8e-9f00-2a1b3c4d5e6f"
    assert policy["context"] == {
        "role": "volunteer",
        "userId": "7c1e4a52-0d6b-4c8e-9f00-2a1b3c4d5e6f",
        "alias": "Ana",
        "expiresAt": str(claims["exp"]),
    }


def test_supervisor_group_wins_over_volunteers(
    env: JwksServer, pool_key: rsa.RSAPrivateKey
) -> None:
    """Given a user in both the volunteers and the supervisors groups,
    When they connect,
    Then they are a supervisor (and so get every chat's alerts)."""
    token = sign(id_claims(**{"cognito:groups": ["volunteers", "supervisors"]}), pool_key)

    assert check(connect_event(token))["context"]["role"] == "supervisor"


@pytest.mark.parametrize(
    ("groups", "coordinator"),
    [
        (["supervisors", "coordinators"], "true"),
        (["supervisors"], None),
        (["volunteers", "coordinators"], None),  # only a supervisor coordinates
    ],
)
def test_a_coordinator_is_a_supervisor_in_coordinators(
    env: JwksServer, pool_key: rsa.RSAPrivateKey, groups: list[str], coordinator: str | None
) -> None:
    """Given a token's groups (issue 13), when its holder connects, then the context says
    `coordinator` only for a supervisor also in `coordinators`."""
    token = sign(id_claims(**{"cognito:groups": groups}), pool_key)

    assert check(connect_event(token))["context"].get("coordinator") == coordinator


def test_coordinators_alone_is_no_role(
    env: JwksServer, invoke: Any, pool_key: rsa.RSAPrivateKey
) -> None:
    """Given a pool user only in `coordinators`, when they connect, then 403 as no_role: the
    group is a flag of supervisors, not a role."""
    token = sign(id_claims(**{"cognito:groups": ["coordinators"]}), pool_key)

    policy = invoke(connect_event(token))

    assert effect(policy) == "Deny"
    assert "context" not in policy


@pytest.mark.parametrize(
    ("names", "alias"),
    [
        ({"name": None, "given_name": "Bea"}, "Bea"),
        ({"name": None}, "Volunteer"),
        ({"name": "  ", "email": None}, "Volunteer"),
        ({"name": "Eve\u202e\n  Admin\x00"}, "Eve Admin"),
        ({"name": "x" * 200}, "x" * 40),
    ],
)
def test_alias_seekers_see(
    env: JwksServer, pool_key: rsa.RSAPrivateKey, names: dict[str, Any], alias: str
) -> None:
    """Given a volunteer whose account has these name attributes,
    When they connect,
    Then seekers see them under a short, printable alias: name, given name, or
    "Volunteer" (never any part of their e-mail address)."""
    token = sign(id_claims(**names), pool_key)

    assert check(connect_event(token))["context"]["alias"] == alias


# ---------------------------------------------------------------- tokens that are refused


def test_expired_token_is_refused_with_401_by_the_handler(
    env: JwksServer, invoke: Any, pool_key: rsa.RSAPrivateKey
) -> None:
    """Given a volunteer whose ID token expired a minute ago,
    When the console connects with it,
    Then the handler raises exactly Exception("Unauthorized"), which API Gateway turns into 401."""
    token = sign(id_claims(exp=int(time.time()) - 60, iat=int(time.time()) - 3660), pool_key)

    with pytest.raises(Exception, match=r"^Unauthorized$") as caught:
        invoke(connect_event(token))

    assert type(caught.value) is Exception
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


@pytest.mark.parametrize(
    ("make_claims", "reason"),
    [
        (
            lambda: id_claims(
                iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_OtherPool"
            ),
            "wrong_issuer",
        ),
        (lambda: id_claims(aud="another-app-client"), "wrong_audience"),
        (lambda: id_claims(aud=[CLIENT_ID, "another-app-client"]), "wrong_audience"),
        (lambda: id_claims(token_use="access", aud=None, client_id=CLIENT_ID), "not_id_token"),
        (lambda: id_claims(exp=int(time.time()) - 60), "expired"),
        (lambda: id_claims(iat=int(time.time()) + 600), "not_yet_valid"),
        (lambda: id_claims(nbf=int(time.time()) + 600), "not_yet_valid"),
        (lambda: id_claims(sub=None), "missing_claim"),
        (lambda: id_claims(token_use=None), "missing_claim"),
    ],
    ids=[
        "other-pool",
        "other-client",
        "several-audiences",
        "access-token",
        "expired",
        "issued-in-future",
        "not-before-future",
        "no-sub",
        "no-token-use",
    ],
)
def test_token_with_wrong_claims_is_refused_with_401(
    env: JwksServer,
    pool_key: rsa.RSAPrivateKey,
    make_claims: Callable[[], dict[str, Any]],
    reason: str,
) -> None:
    """Given a token correctly signed by the pool's key but issued by another pool, for
    another client, as an access token, expired or not yet valid,
    When someone connects with it,
    Then the handshake is refused with 401 and never falls back to seeker.
    (The claims are made when the test runs: a time fixed at collection would drift.)"""
    error = refusal(connect_event(sign(make_claims(), pool_key)))

    assert (error.reason, error.status) == (reason, 401)


def test_token_signed_by_another_key_with_the_pool_kid_is_refused(
    env: JwksServer, pool_key: rsa.RSAPrivateKey, attacker_key: rsa.RSAPrivateKey
) -> None:
    """Given an attacker who signs supervisor claims with their own key under the pool's kid,
    When they connect,
    Then the signature does not verify and the handshake is refused with 401."""
    forged = sign(id_claims(**{"cognito:groups": ["supervisors"]}), attacker_key)

    error = refusal(connect_event(forged))

    assert (error.reason, error.status) == ("bad_signature", 401)


def test_tampered_claims_are_refused(env: JwksServer, pool_key: rsa.RSAPrivateKey) -> None:
    """Given a genuine volunteer token whose payload was edited to add the supervisors group,
    When it is used to connect,
    Then the handshake is refused with 401."""
    header, _, signature = sign(id_claims(), pool_key).split(".")
    payload = b64url(json.dumps(id_claims(**{"cognito:groups": ["supervisors"]})).encode())

    error = refusal(connect_event(f"{header}.{payload}.{signature}"))

    assert (error.reason, error.status) == ("bad_signature", 401)


def test_unsigned_alg_none_token_is_refused(env: JwksServer) -> None:
    """Given a token with `alg: none` and no signature,
    When someone connects with it,
    Then it is refused with 401 before any key is even fetched."""
    token = hand_made_token({"alg": "none", "kid": KID, "typ": "JWT"}, id_claims(), lambda _: b"")

    error = refusal(connect_event(token))

    assert (error.reason, error.status) == ("bad_algorithm", 401)
    assert env.requests == 0


def test_hs256_token_keyed_with_the_public_key_is_refused(
    env: JwksServer, pool_key: rsa.RSAPrivateKey
) -> None:
    """Given the classic confusion attack: an HS256 token whose HMAC secret is the pool's
    public key (which anyone can download),
    When someone connects with it,
    Then it is refused with 401."""
    public_pem = pool_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = hand_made_token(
        {"alg": "HS256", "kid": KID, "typ": "JWT"},
        id_claims(**{"cognito:groups": ["supervisors"]}),
        lambda data: hmac.new(public_pem, data, hashlib.sha256).digest(),
    )

    error = refusal(connect_event(token))

    assert (error.reason, error.status) == ("bad_algorithm", 401)


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "x" * 20_000])
def test_garbage_token_is_refused_never_downgraded_to_seeker(env: JwksServer, token: str) -> None:
    """Given a `token` query parameter that is empty or not a JWT,
    When someone connects with it,
    Then the handshake is refused with 401: a bad token never becomes a seeker."""
    error = refusal(connect_event(token))

    assert error.status == 401


def test_two_different_tokens_are_refused(env: JwksServer, pool_key: rsa.RSAPrivateKey) -> None:
    """Given a URL carrying two different `token` parameters,
    When someone connects with it,
    Then the handshake is refused with 401 rather than guessing which one counts."""
    event = connect_event(sign(id_claims(), pool_key))
    event["multiValueQueryStringParameters"]["token"].append(sign(id_claims(sub="other"), pool_key))

    assert refusal(event).reason == "ambiguous_token"


def test_valid_token_without_group_is_denied_with_403(
    env: JwksServer, invoke: Any, pool_key: rsa.RSAPrivateKey
) -> None:
    """Given a pool user who is in neither the volunteers nor the supervisors group,
    When they connect with their valid ID token,
    Then the authorizer returns a Deny policy (403) and grants no role."""
    token = sign(id_claims(**{"cognito:groups": None}), pool_key)

    policy = invoke(connect_event(token))

    assert effect(policy) == "Deny"
    assert "context" not in policy


def test_clock_skew_of_a_few_seconds_is_tolerated(
    env: JwksServer, pool_key: rsa.RSAPrivateKey
) -> None:
    """Given a token that expires at time T,
    When it is checked 4 seconds after T, then 6 seconds after T,
    Then the first passes (small clock skew) and the second is expired."""
    token = sign(id_claims(), pool_key)
    expiry = id_claims()["exp"]
    provider = auth.cached_jwks(env.url)

    def verify(at: float) -> auth.Identity:
        return verify_id_token(
            token, jwks_provider=provider, issuer=ISSUER, client_id=CLIENT_ID, now=at
        )

    assert verify(expiry + 4).role == "volunteer"
    with pytest.raises(AuthError, match="expired"):
        verify(expiry + 6)


def test_without_cognito_settings_tokens_are_refused_but_seekers_connect(
    monkeypatch: pytest.MonkeyPatch, jwks_server: JwksServer, pool_key: rsa.RSAPrivateKey
) -> None:
    """Given a deployment with no Cognito app client configured,
    When a volunteer connects with a token, and a seeker without,
    Then the volunteer is refused with 401 and the seeker is admitted."""
    set_env(monkeypatch, jwks_server.url)
    monkeypatch.delenv("COGNITO_CLIENT_ID")
    settings.cache_clear()

    assert refusal(connect_event(sign(id_claims(), pool_key))).reason == "not_configured"
    assert effect(check(connect_event())) == "Allow"


# ---------------------------------------------------------------- the pool's keys


def test_jwks_is_fetched_once_across_many_connections(
    env: JwksServer, invoke: Any, pool_key: rsa.RSAPrivateKey
) -> None:
    """Given a warm authorizer,
    When twenty volunteers connect one after another,
    Then the pool's JWKS was downloaded once."""
    for n in range(20):
        policy = invoke(connect_event(sign(id_claims(sub=f"user-{n}"), pool_key)))
        assert effect(policy) == "Allow"

    assert env.requests == 1


def test_rotated_key_is_picked_up_with_one_refetch(
    jwks_server: JwksServer, pool_key: rsa.RSAPrivateKey, attacker_key: rsa.RSAPrivateKey
) -> None:
    """Given keys cached more than a minute ago, and then the pool rotating to a new key,
    When a volunteer connects with a token signed by the new key,
    Then the JWKS is fetched again once and the volunteer is admitted."""
    clock = FakeClock()
    provider = CachedJwks(jwks_server.url, clock=clock)
    provider.key_for(KID)
    new_key = attacker_key  # any other key pair will do as the pool's next key
    jwks_server.keys = [public_jwk(pool_key, KID), public_jwk(new_key, "pool-key-2")]
    clock.now += 61

    identity = verify_id_token(
        sign(id_claims(), new_key, kid="pool-key-2"),
        jwks_provider=provider,
        issuer=ISSUER,
        client_id=CLIENT_ID,
    )

    assert identity.role == "volunteer"
    assert jwks_server.requests == 2


def test_flood_of_unknown_kids_refetches_at_most_once_a_minute(
    jwks_server: JwksServer, attacker_key: rsa.RSAPrivateKey
) -> None:
    """Given keys cached more than a minute ago,
    When a hundred tokens with made-up kids arrive within the next minute,
    Then all are refused with 401 and Cognito is asked once; once more a minute later."""
    clock = FakeClock()
    provider = CachedJwks(jwks_server.url, clock=clock)
    provider.key_for(KID)
    clock.now += 61

    for n in range(100):
        token = sign(id_claims(), attacker_key, kid=f"made-up-{n}")
        with pytest.raises(AuthError) as caught:
            verify_id_token(token, jwks_provider=provider, issuer=ISSUER, client_id=CLIENT_ID)
        assert (caught.value.reason, caught.value.status) == ("unknown_kid", 401)
        clock.now += 0.5
    assert jwks_server.requests == 2

    clock.now += 11
    with pytest.raises(AuthError):
        provider.key_for("made-up-again")
    assert jwks_server.requests == 3


def test_unknown_kid_right_after_a_fetch_does_not_refetch(
    env: JwksServer, pool_key: rsa.RSAPrivateKey, attacker_key: rsa.RSAPrivateKey
) -> None:
    """Given the pool's keys fetched moments ago by a volunteer's connection,
    When tokens with an unknown kid follow,
    Then they are refused with 401 without asking Cognito again."""
    assert effect(check(connect_event(sign(id_claims(), pool_key)))) == "Allow"

    for n in range(10):
        error = refusal(connect_event(sign(id_claims(), attacker_key, kid=f"x{n}")))
        assert (error.reason, error.status) == ("unknown_kid", 401)

    assert env.requests == 1


def test_jwks_endpoint_down_refuses_volunteers_and_is_not_hammered(
    monkeypatch: pytest.MonkeyPatch, pool_key: rsa.RSAPrivateKey
) -> None:
    """Given Cognito's JWKS endpoint is unreachable,
    When volunteers connect with valid tokens,
    Then they are refused with 401 (never admitted unchecked), and seekers still connect."""
    set_env(monkeypatch, closed_port_url())
    token = sign(id_claims(), pool_key)

    for _ in range(3):
        error = refusal(connect_event(token))
        assert (error.reason, error.status) == ("jwks_unavailable", 401)
    assert effect(check(connect_event())) == "Allow"


@pytest.mark.parametrize(
    "breakage", ["http_500", "redirect", "not_json", "no_keys", "only_hs_key"], ids=str
)
def test_broken_jwks_answer_refuses_volunteers(
    env: JwksServer, pool_key: rsa.RSAPrivateKey, breakage: str
) -> None:
    """Given the JWKS endpoint answers an error, a redirect (even to the right keys),
    garbage, or no usable RS256 key,
    When a volunteer connects,
    Then they are refused with 401."""
    if breakage == "http_500":
        env.status = 500
    elif breakage == "redirect":
        env.redirect = "/elsewhere/jwks.json"
    elif breakage == "not_json":
        env.body = b"<html><body>Service Unavailable</body></html>"
    elif breakage == "no_keys":
        env.keys = []
    else:
        env.keys = [{"kty": "oct", "k": b64url(b"secret"), "kid": KID, "alg": "HS256"}]

    error = refusal(connect_event(sign(id_claims(), pool_key)))

    assert (error.reason, error.status) == ("jwks_unavailable", 401)


def test_retry_after_a_failed_fetch_waits_a_few_seconds(jwks_server: JwksServer) -> None:
    """Given the JWKS endpoint failed once,
    When connections keep coming in the next seconds,
    Then it is not asked again until the back-off has passed, and then it is."""
    clock = FakeClock()
    provider = CachedJwks(jwks_server.url, clock=clock)
    jwks_server.status = 503
    for _ in range(10):
        with pytest.raises(AuthError, match="jwks_unavailable"):
            provider.key_for(KID)
        clock.now += 0.4
    assert jwks_server.requests == 1

    jwks_server.status = 200
    clock.now += 2
    assert provider.key_for(KID).key_id == KID
    assert jwks_server.requests == 2


def test_withdrawn_key_stops_being_trusted_after_an_hour(
    jwks_server: JwksServer, pool_key: rsa.RSAPrivateKey, attacker_key: rsa.RSAPrivateKey
) -> None:
    """Given a cached key that the pool later withdrew from its JWKS,
    When a token signed with it arrives more than an hour after the cache was filled,
    Then the JWKS is fetched again and the token is refused with 401."""
    clock = FakeClock()
    provider = CachedJwks(jwks_server.url, clock=clock)
    provider.key_for(KID)
    jwks_server.keys = [public_jwk(attacker_key, "pool-key-2")]
    clock.now += 3601

    with pytest.raises(AuthError, match="unknown_kid"):
        verify_id_token(
            sign(id_claims(), pool_key),
            jwks_provider=provider,
            issuer=ISSUER,
            client_id=CLIENT_ID,
        )


def test_stale_keys_keep_working_while_cognito_is_briefly_down(
    jwks_server: JwksServer, pool_key: rsa.RSAPrivateKey
) -> None:
    """Given keys cached over an hour ago, and the JWKS endpoint failing right now,
    When a volunteer connects,
    Then the cached key still admits them."""
    clock = FakeClock()
    provider = CachedJwks(jwks_server.url, clock=clock)
    provider.key_for(KID)
    jwks_server.status = 500
    clock.now += 3601

    identity = verify_id_token(
        sign(id_claims(), pool_key), jwks_provider=provider, issuer=ISSUER, client_id=CLIENT_ID
    )

    assert identity.role == "volunteer"
    assert jwks_server.requests == 2


def test_jwks_over_plain_http_to_a_remote_host_is_never_fetched() -> None:
    """Given a JWKS URL over plain http to a host that is not this machine,
    When the keys are needed,
    Then they are not fetched (they could be forged in transit) and tokens are refused."""
    provider = CachedJwks(f"http://cognito.example.org/{POOL_ID}/.well-known/jwks.json")

    with pytest.raises(AuthError, match="jwks_unavailable"):
        provider.key_for(KID)


# ---------------------------------------------------------------- Origin


def test_page_on_another_site_is_denied_even_with_a_valid_token(
    env: JwksServer, invoke: Any, pool_key: rsa.RSAPrivateKey
) -> None:
    """Given a page on another site holding a valid volunteer token,
    When it opens the WebSocket (the browser sends that site's Origin),
    Then the authorizer returns Deny (403), without even checking the token."""
    policy = invoke(connect_event(sign(id_claims(), pool_key), origin="https://evil.example.com"))

    assert effect(policy) == "Deny"
    assert "context" not in policy
    assert env.requests == 0


@pytest.mark.parametrize(
    "origin", ["https://help.example.org.evil.com", "http://help.example.org", "null", ""]
)
def test_lookalike_origins_are_denied(env: JwksServer, origin: str) -> None:
    """Given an Origin that only resembles an allowed one (or the opaque "null"),
    When a seeker page there connects,
    Then it is denied with 403."""
    assert effect(check(connect_event(origin=origin))) == "Deny"


@pytest.mark.parametrize(
    ("origin", "header_name"),
    [(SEEKER_PAGE, "Origin"), (f"{SEEKER_PAGE}/", "ORIGIN"), (CONSOLE_PAGE, "origin")],
)
def test_allowed_origin_connects(env: JwksServer, origin: str, header_name: str) -> None:
    """Given a page served from an allowed origin (any header case, trailing slash or not),
    When it connects,
    Then it is allowed."""
    event = connect_event(origin=None)
    event["headers"][header_name] = origin
    event["multiValueHeaders"][header_name] = [origin]

    assert effect(check(event)) == "Allow"


def test_second_origin_value_that_is_not_allowed_is_denied(env: JwksServer) -> None:
    """Given a request carrying an allowed Origin and a second, foreign one,
    When it connects,
    Then it is denied with 403."""
    event = connect_event()
    event["multiValueHeaders"]["origin"].append("https://evil.example.com")

    assert effect(check(event)) == "Deny"


def test_client_without_origin_connects(
    env: JwksServer, invoke: Any, pool_key: rsa.RSAPrivateKey
) -> None:
    """Given a non-browser client (a mobile app, a test script) that sends no Origin,
    When it connects as a seeker and as a volunteer,
    Then both are allowed."""
    assert effect(invoke(connect_event(origin=None))) == "Allow"
    assert effect(invoke(connect_event(sign(id_claims(), pool_key), origin=None))) == "Allow"


# ---------------------------------------------------------------- logs and metrics


def test_token_never_appears_in_logs(
    env: JwksServer,
    invoke: Any,
    pool_key: rsa.RSAPrivateKey,
    log_output: io.StringIO,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Given one accepted and one expired volunteer token,
    When both connect through the Lambda handler,
    Then the logs record each decision and its reason, and no part of either token."""
    accepted = sign(id_claims(), pool_key)
    expired = sign(id_claims(exp=int(time.time()) - 60, sub="someone-else"), pool_key)

    invoke(connect_event(accepted))
    with pytest.raises(Exception, match="Unauthorized"):
        invoke(connect_event(expired))

    logs = log_output.getvalue()
    printed = "".join(capsys.readouterr())
    records = [json.loads(line) for line in logs.splitlines()]
    decisions = [(r["message"], r.get("role"), r.get("reason")) for r in records]
    assert ("connect allowed", "volunteer", None) in decisions
    assert ("connect refused", None, "expired") in decisions
    for token in (accepted, expired):
        for part in token.split("."):
            assert part not in logs
            assert part not in printed


def test_each_refusal_is_counted_by_reason(
    env: JwksServer, invoke: Any, pool_key: rsa.RSAPrivateKey, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given an operator watching CloudWatch metrics,
    When an expired token and a foreign Origin are refused,
    Then a ConnectRefused metric is published for each, with its reason as a dimension."""
    with pytest.raises(Exception, match="Unauthorized"):
        invoke(connect_event(sign(id_claims(exp=int(time.time()) - 60), pool_key)))
    invoke(connect_event(origin="https://evil.example.com"))

    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    refused = [b for b in blobs if "ConnectRefused" in b]
    assert [b["reason"] for b in refused] == ["expired", "bad_origin"]
    for blob in refused:
        assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Kindred"
        assert [set(d) for d in blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"]] == [
            {"service", "reason"}
        ]
