"""Connecting and disconnecting: the connection record, and what a closed socket leaves behind."""

from __future__ import annotations

import secrets

from pydantic import TypeAdapter, ValidationError

from kindred.chat_end import leave
from kindred.events import ConnectRequest, DisconnectRequest
from kindred.observability import logger, metrics
from kindred.protocol import LanguageTag, Role
from kindred.records import Connection
from kindred.services import Services

_ADJECTIVES = (
    "Quiet", "Gentle", "Bright", "Calm", "Kind", "Brave", "Warm", "Steady",
    "Hopeful", "Patient", "Soft", "Clear", "Open", "Still", "Golden", "Silver",
)  # fmt: skip
_NOUNS = (
    "River", "Meadow", "Harbor", "Willow", "Sparrow", "Lantern", "Cedar", "Pebble",
    "Morning", "Garden", "Island", "Brook", "Maple", "Comet", "Valley", "Heron",
)  # fmt: skip
_STAFF_ROLES: tuple[Role, ...] = ("volunteer", "supervisor")
_language = TypeAdapter(LanguageTag)


def seeker_alias() -> str:
    """A friendly, random, meaningless name for an anonymous seeker."""
    return f"{secrets.choice(_ADJECTIVES)} {secrets.choice(_NOUNS)}"


def _language_of(query: dict[str, str], default: str) -> str:
    try:
        return _language.validate_python(query.get("lang", default))
    except ValidationError:
        return default


def connect(svc: Services, req: ConnectRequest) -> None:
    """Record the new connection; the authorizer has already decided who it is."""
    language = _language_of(req.query, svc.settings.default_language)
    if req.role in _STAFF_ROLES:
        role: Role = "supervisor" if req.role == "supervisor" else "volunteer"
        conn = Connection(
            connection_id=req.connection_id,
            role=role,
            alias=req.alias or "Volunteer",
            language=language,
            user_id=req.user_id,
        )
    else:
        conn = Connection(
            connection_id=req.connection_id,
            role="seeker",
            alias=seeker_alias(),
            language=language,
            seeker_key=secrets.token_urlsafe(16),
        )
    svc.store.put_connection(conn)
    if conn.role == "supervisor":
        svc.store.join_shift(conn.connection_id)
    metrics.add_metric(name="Connections", unit="Count", value=1)
    logger.info("connected", extra={"role": conn.role})


def disconnect(svc: Services, req: DisconnectRequest) -> None:
    """Free what the connection held: its queue place, its chats, its volunteer slot."""
    conn = svc.store.get_connection(req.connection_id)
    if conn is None:
        return
    if conn.is_staff:
        # Remove the slot first: from then on no match can give this volunteer a new chat,
        # so the chats read next are all the chats there will ever be.
        svc.store.remove_slot(conn.connection_id)
        if conn.role == "supervisor":
            svc.store.leave_shift(conn.connection_id)
        current = svc.store.get_connection(conn.connection_id) or conn
        leave(svc, conn, list(current.chats))
    else:
        leave(svc, conn, [conn.session_id] if conn.session_id else [])
    if conn.resume_hash:
        svc.store.delete_resume(conn.resume_hash)
    svc.store.delete_connection(conn.connection_id)
    logger.info("disconnected", extra={"role": conn.role, "status": req.status_code})
