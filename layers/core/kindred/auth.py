"""Who may open a WebSocket: the $connect authorizer's rules (origin, Cognito ID token, role)."""

from __future__ import annotations

import http.client
import json
import threading
import time
import unicodedata
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import IO, Any, Final, Literal, Protocol

import jwt
from aws_lambda_powertools.metrics import MetricUnit
from jwt import PyJWK, PyJWKSet

from kindred.config import Settings
from kindred.observability import logger, metrics

Role = Literal["seeker", "volunteer", "supervisor", "trainee"]

Reason = Literal[
    "not_configured",  # no Cognito client id or issuer: no token can be checked
    "malformed_event",  # the event has no methodArn: not from API Gateway
    "ambiguous_token",  # two different `token` query parameters
    "malformed",  # not a JWT, or a claim of the wrong type
    "bad_algorithm",  # anything but RS256 (alg none, HS256 confusion, ...)
    "unknown_kid",  # no key of the pool's JWKS has the token's kid
    "jwks_unavailable",  # the pool's keys could not be fetched
    "bad_signature",
    "expired",
    "not_yet_valid",  # iat or nbf in the future
    "wrong_issuer",
    "wrong_audience",
    "not_id_token",  # an access token (token_use access) or another kind
    "missing_claim",
    "no_role",  # a valid token, but in none of the supervisors, volunteers, trainees groups
    "practice_without_token",  # `?practice=1` with no token: only a supervisor plays a seeker
    "not_supervisor",  # `?practice=1` with a valid token that is not a supervisor's
    "bad_origin",
]

# API Gateway answers 403 to a Deny policy and 401 to the exception "Unauthorized". A
# token that is not valid is 401; a valid caller who may not connect from here is 403.
FORBIDDEN_REASONS: Final[frozenset[Reason]] = frozenset({"no_role", "bad_origin", "not_supervisor"})

ALGORITHM: Final = "RS256"
LEEWAY_SECONDS: Final = 5
MAX_TOKEN_CHARS: Final = 16_384  # a Cognito ID token is 1-4 KB; more is not one
MAX_JWKS_BYTES: Final = 65_536
ALIAS_MAX_CHARS: Final = 40
DEFAULT_ALIAS: Final = "Volunteer"
ANONYMOUS_PRINCIPAL: Final = "anonymous"
DENIED_PRINCIPAL: Final = "denied"
_LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


class AuthError(Exception):
    """The caller may not connect; `reason` is a fixed code, safe to log and to count."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason

    @property
    def status(self) -> int:
        return 403 if self.reason in FORBIDDEN_REASONS else 401


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is connecting, as the `connect` function reads it from the authorizer context."""

    role: Role
    user_id: str = ""
    alias: str = ""
    expires_at: int = 0  # the token's `exp` (epoch seconds); 0 for an anonymous seeker
    # A supervisor playing the seeker of a practice chat (kindred.practice): role `seeker`.
    practice: bool = False
    coordinator: bool = False  # issue 13: a supervisor also in the `coordinators` group

    def context(self) -> dict[str, str]:
        context = {"role": self.role, "userId": self.user_id, "alias": self.alias}
        if self.expires_at:
            # A string: API Gateway passes context values on as strings anyway.
            context["expiresAt"] = str(self.expires_at)
        if self.practice:
            context["practice"] = "1"
        if self.coordinator:
            context["coordinator"] = "true"
        return context


ANONYMOUS_SEEKER: Final = Identity(role="seeker")


class JwksProvider(Protocol):
    """The signing keys of the user pool, by key id."""

    def key_for(self, kid: str) -> PyJWK:
        """The key with this kid; AuthError unknown_kid or jwks_unavailable otherwise."""
        ...


class JwksFetchError(Exception):
    """The JWKS could not be fetched or holds no usable RS256 signing key."""


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # Cognito never redirects its JWKS; following one could leave https or the pool's host.
    def redirect_request(  # noqa: PLR0917 - the stdlib's signature
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> None:
        return None


@cache
def _jwks_opener() -> urllib.request.OpenerDirector:
    # Built on the first fetch: from Python 3.12 on, building it makes its HTTPS handler's TLS
    # context, which reads the system's CA certificates (~200 million instructions on 3.13);
    # a seeker's handshake, most of the authorizer's, never fetches.
    return urllib.request.build_opener(_RefuseRedirects)


def fetch_jwks(url: str, *, timeout: float) -> dict[str, PyJWK]:
    """The RS256 signing keys published at `url`, by kid."""
    parts = urllib.parse.urlsplit(url)
    # Plain http only to a local Cognito (moto): a key set fetched in clear could be forged.
    if parts.scheme != "https" and not (
        parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
    ):
        raise JwksFetchError("insecure_url")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, headers={"Accept": "application/json", "User-Agent": "kindred-authorizer"}
    )
    try:
        with _jwks_opener().open(request, timeout=timeout) as response:
            if response.status != 200:
                raise JwksFetchError(f"http_{response.status}")
            body = response.read(MAX_JWKS_BYTES + 1)
    except (OSError, http.client.HTTPException) as exc:  # HTTPError (3xx too), timeouts, resets
        raise JwksFetchError(type(exc).__name__) from exc
    if len(body) > MAX_JWKS_BYTES:
        raise JwksFetchError("too_large")
    try:
        document = json.loads(body)
        if not isinstance(document, dict):
            raise JwksFetchError("not_a_jwks")
        key_set = PyJWKSet.from_dict(document)
    except (ValueError, jwt.PyJWTError) as exc:
        raise JwksFetchError(type(exc).__name__) from exc
    keys = {
        key.key_id: key
        for key in key_set
        if key.key_id
        and key.key_type == "RSA"
        and key.algorithm_name == ALGORITHM
        and key.public_key_use in (None, "sig")
    }
    if not keys:
        raise JwksFetchError("no_rs256_key")
    return keys


class CachedJwks:
    """The pool's JWKS, fetched on first use and kept for the life of the Lambda instance.

    An unknown kid refetches (the pool rotated its keys), at most once per
    `refetch_interval`, so a flood of forged kids cannot hammer Cognito; after a failed
    fetch the next try waits `retry_after_failure`. Keys older than `max_age` are
    refetched so a key the pool withdrew stops being trusted; if that refetch fails the
    cached keys stay in use.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 3.0,
        refetch_interval: float = 60.0,
        retry_after_failure: float = 5.0,
        max_age: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._timeout = timeout
        self._refetch_interval = refetch_interval
        self._retry_after_failure = retry_after_failure
        self._max_age = max_age
        self._clock = clock
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._last_attempt_failed = False
        # One fetch at a time when handlers run in threads (the local stack).
        self._lock = threading.Lock()

    def key_for(self, kid: str) -> PyJWK:
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self._max_age
            if (stale or kid not in self._keys) and self._may_fetch(now):
                self._refresh(now)
            key = self._keys.get(kid)
            ever_fetched = self._fetched_at is not None
        if key is not None:
            return key
        raise AuthError("unknown_kid" if ever_fetched else "jwks_unavailable")

    def _may_fetch(self, now: float) -> bool:
        if self._attempted_at is None:
            return True
        wait = self._retry_after_failure if self._last_attempt_failed else self._refetch_interval
        return now - self._attempted_at >= wait

    def _refresh(self, now: float) -> None:
        self._attempted_at = now
        try:
            keys = fetch_jwks(self.url, timeout=self._timeout)
        except JwksFetchError as exc:
            self._last_attempt_failed = True
            logger.error(
                "jwks fetch failed",
                extra={"jwks_url": self.url, "error": str(exc), "cached_keys": len(self._keys)},
            )
            return
        self._last_attempt_failed = False
        self._keys = keys
        self._fetched_at = now
        logger.info("jwks fetched", extra={"jwks_url": self.url, "kids": sorted(keys)})


@cache
def cached_jwks(url: str) -> CachedJwks:
    """The cached JWKS of this URL: module level, so warm invocations reuse it."""
    return CachedJwks(url)


# What PyJWT's errors mean for the caller: the first that matches, in this order; any other
# PyJWTError is `malformed`.
_DECODE_FAILURES: tuple[tuple[type[jwt.PyJWTError], Reason], ...] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.InvalidIssuerError, "wrong_issuer"),
    (jwt.InvalidAlgorithmError, "bad_algorithm"),
    (jwt.InvalidSignatureError, "bad_signature"),
    (jwt.MissingRequiredClaimError, "missing_claim"),
)


def _decode_failure(exc: jwt.PyJWTError) -> Reason:
    return next((reason for kind, reason in _DECODE_FAILURES if isinstance(exc, kind)), "malformed")


def verify_id_token(
    token: str,
    *,
    jwks_provider: JwksProvider,
    issuer: str,
    client_id: str,
    now: float | None = None,
) -> Identity:
    """The volunteer or supervisor this Cognito ID token names; AuthError if it is not valid."""
    if not issuer or not client_id:
        raise AuthError("not_configured")
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise AuthError("malformed")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise AuthError("malformed") from None
    # Checked before any key is looked up: `none` and HS256 never reach a verifier.
    if header.get("alg") != ALGORITHM:
        raise AuthError("bad_algorithm")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise AuthError("unknown_kid")
    key = jwks_provider.key_for(kid)
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[ALGORITHM],
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            # The audience is checked below, after token_use, so an access token (which has
            # client_id instead of aud) is reported as what it is.
            options={
                "verify_aud": False,
                "require": ["exp", "iat", "iss", "sub", "token_use"],
            },
        )
    except jwt.PyJWTError as exc:
        raise AuthError(_decode_failure(exc)) from None

    _check_times(claims, time.time() if now is None else now)
    if claims.get("token_use") != "id":
        raise AuthError("not_id_token")
    audience = claims.get("aud")
    if not isinstance(audience, str) or audience != client_id:
        raise AuthError("wrong_audience")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise AuthError("missing_claim")
    role = _role(claims)
    return Identity(
        role=role,
        user_id=subject,
        alias=_alias(claims),
        expires_at=int(claims["exp"]),
        coordinator=_coordinator(claims, role),
    )


class CognitoTokens:
    """Verifies ID tokens as the authorizer does (the pool's JWKS, issuer, client, expiry):
    kindred.ports.TokenVerifier for `reauth`."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def verify(self, token: str) -> Identity:
        settings = self._settings
        return verify_id_token(
            token,
            jwks_provider=cached_jwks(settings.jwks_url),
            issuer=settings.issuer,
            client_id=settings.cognito_client_id,
        )


def _check_times(claims: Mapping[str, Any], now: float) -> None:
    # PyJWT checked these against the wall clock; this repeats them against `now` so the
    # rule is explicit and testable with a fixed clock.
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise AuthError("malformed")
    if claims["exp"] <= now - LEEWAY_SECONDS:
        raise AuthError("expired")
    for name in ("iat", "nbf"):
        value = claims.get(name)
        if value is not None and value > now + LEEWAY_SECONDS:
            raise AuthError("not_yet_valid")


def _role(claims: Mapping[str, Any]) -> Role:
    groups = claims.get("cognito:groups")
    names = {g for g in groups if isinstance(g, str)} if isinstance(groups, list) else set()
    if "supervisors" in names:
        return "supervisor"
    if "volunteers" in names:
        return "volunteer"
    if "trainees" in names:
        return "trainee"  # practice chats only (kindred.practice)
    raise AuthError("no_role")


def _coordinator(claims: Mapping[str, Any], role: Role) -> bool:
    """A supervisor in the `coordinators` group (issue 13). The group alone is no role: a
    token in `coordinators` only was already refused as no_role."""
    groups = claims.get("cognito:groups")
    return role == "supervisor" and isinstance(groups, list) and "coordinators" in groups


def _alias(claims: Mapping[str, Any]) -> str:
    """The name a seeker sees: `name`, `given_name`, or Volunteer.

    Never the e-mail address or a part of it: it would tell a stranger who the volunteer is.
    """
    for claim in ("name", "given_name"):
        value = claims.get(claim)
        if isinstance(value, str) and (alias := _display_name(value)):
            return alias
    return DEFAULT_ALIAS


def _display_name(value: str) -> str:
    # Shown in another person's browser: no control or format characters (bidi overrides),
    # single spaces, bounded length.
    printable = "".join(
        " " if ch.isspace() else ch for ch in value if unicodedata.category(ch)[0] != "C"
    )
    return " ".join(printable.split())[:ALIAS_MAX_CHARS].strip()


def origin_allowed(origin: str, allowed_origins: Iterable[str]) -> bool:
    """Whether a browser page at `origin` may connect (exact match, trailing slash ignored)."""
    return origin.rstrip("/") in {o.rstrip("/") for o in allowed_origins}


def _header_values(event: Mapping[str, Any], name: str) -> list[str]:
    """Every value of header `name` (case-insensitive) in headers and multiValueHeaders."""
    wanted = name.lower()
    values: list[str] = []
    single = event.get("headers")
    if isinstance(single, Mapping):
        values += [v for k, v in single.items() if str(k).lower() == wanted and isinstance(v, str)]
    multi = event.get("multiValueHeaders")
    if isinstance(multi, Mapping):
        for k, vs in multi.items():
            if str(k).lower() == wanted and isinstance(vs, list):
                values += [v for v in vs if isinstance(v, str)]
    return values


def _query_values(event: Mapping[str, Any], name: str) -> set[str]:
    values: set[str] = set()
    single = event.get("queryStringParameters")
    if isinstance(single, Mapping) and isinstance(single.get(name), str):
        values.add(single[name])
    multi = event.get("multiValueQueryStringParameters")
    if isinstance(multi, Mapping) and isinstance(multi.get(name), list):
        values.update(v for v in multi[name] if isinstance(v, str))
    return values


def _policy(principal_id: str, effect: Literal["Allow", "Deny"], method_arn: str) -> dict[str, Any]:
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn}
            ],
        },
    }


def authorize(
    event: Mapping[str, Any], settings: Settings, jwks_provider: JwksProvider
) -> dict[str, Any]:
    """The authorizer's answer to a $connect request: an Allow policy with the caller's
    identity in `context`, a Deny policy (403), or AuthError with status 401."""
    request_context = event.get("requestContext")
    connection_id = (
        request_context.get("connectionId") if isinstance(request_context, Mapping) else None
    )
    log_keys = {"connection_id": connection_id if isinstance(connection_id, str) else ""}

    method_arn = event.get("methodArn")
    if not isinstance(method_arn, str) or not method_arn:
        raise _refused(AuthError("malformed_event"), log_keys)

    # Checked first: a page on another site gets nothing, whatever token it holds.
    for origin in _header_values(event, "origin"):
        if not origin_allowed(origin, settings.allowed_origins):
            _refused(AuthError("bad_origin"), {**log_keys, "origin": origin[:100]})
            return _policy(DENIED_PRINCIPAL, "Deny", method_arn)

    tokens = _query_values(event, "token")
    # Any `practice` parameter asks for a practice seeker's connection: never anonymous, and
    # never a plain seeker instead (who believed they practised would meet a real volunteer).
    practice = bool(_query_values(event, "practice"))
    if not tokens and not practice:
        identity = ANONYMOUS_SEEKER
    else:
        try:
            if not tokens:
                raise AuthError("practice_without_token")
            if len(tokens) > 1:
                raise AuthError("ambiguous_token")
            identity = verify_id_token(
                next(iter(tokens)),
                jwks_provider=jwks_provider,
                issuer=settings.issuer,
                client_id=settings.cognito_client_id,
            )
            if practice:
                identity = _practice_seeker(identity)
        except AuthError as exc:
            _refused(exc, log_keys)
            if exc.status == 403:
                return _policy(DENIED_PRINCIPAL, "Deny", method_arn)
            raise

    logger.info(
        "connect allowed", extra={**log_keys, "role": identity.role, "user_id": identity.user_id}
    )
    metrics.add_dimension(name="role", value="practice" if identity.practice else identity.role)
    metrics.add_metric(name="ConnectAllowed", unit=MetricUnit.Count, value=1)
    policy = _policy(identity.user_id or ANONYMOUS_PRINCIPAL, "Allow", method_arn)
    policy["context"] = identity.context()
    return policy


def _practice_seeker(staff: Identity) -> Identity:
    """A supervisor's connection that plays the seeker of a practice chat."""
    if staff.role != "supervisor":
        raise AuthError("not_supervisor")
    return Identity(role="seeker", user_id=staff.user_id, alias=staff.alias, practice=True)


def _refused(error: AuthError, log_keys: Mapping[str, str]) -> AuthError:
    """Log and count a refusal (never the token itself); returns the error for raising."""
    ours = error.reason in ("jwks_unavailable", "not_configured")  # an operator must act
    level = logger.error if ours else logger.warning
    level("connect refused", extra={**log_keys, "reason": error.reason, "status": error.status})
    metrics.add_dimension(name="reason", value=error.reason)
    metrics.add_metric(name="ConnectRefused", unit=MetricUnit.Count, value=1)
    return error
