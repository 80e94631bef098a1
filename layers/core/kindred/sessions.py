"""Sessions that end: `reauth` extends a staff connection; past its token's expiry, it closes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kindred.connections import release
from kindred.observability import logger, metrics
from kindred.protocol import ErrorFrame, ProtocolError, Reauthed, iso_time
from kindred.records import Connection
from kindred.services import Services

if TYPE_CHECKING:  # client actions, for annotations only: kindred.protocol imports them on use
    from kindred.protocol import Reauth

EXPIRED_MESSAGE = "Your sign-in has expired: please sign in again."
INACTIVE_MESSAGE = "Your account is no longer active: please sign in again."


def is_expired(svc: Services, conn: Connection) -> bool:
    """A volunteer's or supervisor's connection whose token ran out and was not renewed."""
    return (
        conn.is_staff
        and conn.token_expires_at is not None
        and conn.token_expires_at <= int(svc.clock())
    )


def close_session(svc: Services, conn: Connection, message: str = EXPIRED_MESSAGE) -> None:
    """`error` `session_expired`, then what `$disconnect` does (each seeker in the volunteer's
    chats hears `ended` `peer_left`), then the server closes the socket."""
    svc.notifier.send(conn.connection_id, ErrorFrame(code="session_expired", message=message))
    release(svc, conn)
    svc.notifier.close(conn.connection_id)
    metrics.add_metric(name="SessionsExpired", unit="Count", value=1)
    logger.info("session closed", extra={"role": conn.role, "user_id": conn.user_id})


def reauth(svc: Services, conn: Connection, action: Reauth) -> None:
    """A fresh ID token of the same account extends the connection to the token's expiry."""
    from kindred.auth import AuthError  # PyJWT is imported by the first reauth only

    if not conn.is_staff:
        raise ProtocolError(
            "not_allowed", "Only a volunteer or supervisor signs in.", action="reauth"
        )
    try:
        identity = svc.tokens.verify(action.token)
    except AuthError as exc:
        logger.info("reauth refused", extra={"reason": exc.reason, "user_id": conn.user_id})
        raise ProtocolError(
            "reauth_failed", f"The token was refused ({exc.reason}).", action="reauth"
        ) from None
    if identity.user_id != conn.user_id or identity.role != conn.role:
        # Another account's token, or the account changed groups: a new connection is needed.
        logger.warning("reauth refused", extra={"reason": "other_account", "user_id": conn.user_id})
        raise ProtocolError(
            "reauth_failed",
            "The token is not this connection's account or role: please sign in again.",
            action="reauth",
        )
    if not svc.connections.extend_token(conn.connection_id, conn.user_id, identity.expires_at):
        raise ProtocolError(
            "internal", "This connection is not known; please reconnect.", action="reauth"
        )
    svc.notifier.send(conn.connection_id, Reauthed(expiresAt=iso_time(identity.expires_at)))
    metrics.add_metric(name="Reauths", unit="Count", value=1)
