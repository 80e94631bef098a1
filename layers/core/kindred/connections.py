"""Connecting and disconnecting: the connection record, and what a closed socket leaves behind."""

from __future__ import annotations

import math
import secrets
from functools import cache

from pydantic import TypeAdapter, ValidationError

from kindred import board, care, edges, supervision
from kindred.chat_end import leave
from kindred.observability import logger, metrics, unmetered
from kindred.practice import in_practice
from kindred.protocol import LanguageTag, PeerAway, PeerBack, Role
from kindred.records import Connection, queue_key
from kindred.requests import ConnectRequest, DisconnectRequest
from kindred.resume_tickets import resume_hash
from kindred.services import Services
from kindred.work_items import delay_until

_ADJECTIVES = (
    "Quiet", "Gentle", "Bright", "Calm", "Kind", "Brave", "Warm", "Steady",
    "Hopeful", "Patient", "Soft", "Clear", "Open", "Still", "Golden", "Silver",
)  # fmt: skip
_NOUNS = (
    "River", "Meadow", "Harbor", "Willow", "Sparrow", "Lantern", "Cedar", "Pebble",
    "Morning", "Garden", "Island", "Brook", "Maple", "Comet", "Valley", "Heron",
)  # fmt: skip
_STAFF_ROLES: dict[str, Role] = {
    "volunteer": "volunteer",
    "supervisor": "supervisor",
    "trainee": "trainee",
}


@cache
def _language() -> TypeAdapter[str]:
    """The `lang` query's validator, built on a process's first $connect (only the connect
    function reads it; the others import this module for `release` and `disconnect`)."""
    return TypeAdapter(LanguageTag)


def seeker_alias() -> str:
    """A friendly, random, meaningless name for an anonymous seeker."""
    return f"{secrets.choice(_ADJECTIVES)} {secrets.choice(_NOUNS)}"


def _language_of(query: dict[str, str], default: str) -> str:
    try:
        return _language().validate_python(query.get("lang", default))
    except ValidationError:
        return default


def connect(svc: Services, req: ConnectRequest) -> None:
    """Record the new connection; the authorizer has already decided who it is."""
    language = _language_of(req.query, svc.settings.default_language)
    if (role := _STAFF_ROLES.get(req.role)) is not None:
        conn = Connection(
            connection_id=req.connection_id,
            role=role,
            alias=req.alias or "Volunteer",
            language=language,
            user_id=req.user_id,
            token_expires_at=req.token_expires_at,
            # Only a supervisor can be a coordinator (issue 13), whatever the context says.
            coordinator=req.coordinator and role == "supervisor",
        )
    elif req.practice:
        # A supervisor playing the seeker of a practice chat (kindred.practice): a new seeker
        # each time (no resume), whose every action is practice.
        conn = Connection(
            connection_id=req.connection_id,
            role="seeker",
            alias=seeker_alias(),
            language=language,
            user_id=req.user_id,
            seeker_key=secrets.token_urlsafe(16),
            practice=True,
        )
    else:
        token = req.query.get("resume", "")
        if token and _resume(svc, req.connection_id, token):
            return
        conn = Connection(
            connection_id=req.connection_id,
            role="seeker",
            alias=seeker_alias(),
            language=language,
            seeker_key=secrets.token_urlsafe(16),
            # An unknown or expired token: a plain new seeker, told on the first action.
            resume_failed=bool(token),
        )
        if token:
            metrics.add_metric(name="ResumeFailed", unit="Count", value=1)
    svc.connections.put_connection(conn)
    if conn.role == "supervisor":
        svc.pool.join_shift(conn.connection_id)
    with unmetered(conn.practice):
        metrics.add_metric(name="Connections", unit="Count", value=1)
    logger.info("connected", extra={"role": conn.role, "practice": conn.practice})


def _resume(svc: Services, connection_id: str, token: str) -> bool:
    """Take a dropped seeker's place with their resume token, in one transaction; False if
    the token is unknown, used up or past the grace period (nothing was written)."""
    token_hash = resume_hash(token)
    found = svc.tickets.get_resume(token_hash)
    if found is None:
        return False
    old = svc.connections.get_connection(found[0])
    if (
        old is None
        or old.role != "seeker"
        or old.practice  # a practice seeker's place is never taken over by a real one
        or old.seeker_key != found[1]
        or old.resume_hash != token_hash
        or (old.away_until is not None and old.away_until <= int(svc.clock()))
    ):
        return False
    new_key = None
    if old.state == "waiting" and old.queue_key:
        # The queue key ends in the connection id: same priority and time, so the same place.
        priority, enqueued_at, _ = old.queue_key.split("#", 2)
        new_key = queue_key(int(priority), int(enqueued_at), connection_id)
    new = Connection(
        connection_id=connection_id,
        role="seeker",
        alias=old.alias,
        language=old.language,
        seeker_key=old.seeker_key,
        queue_key=new_key,
    )
    if not svc.tickets.resume(old, new, token_hash):
        return False
    if old.away_until is None:
        # Back before API Gateway noticed the old socket had dropped: close it, so that it
        # can never speak for this seeker again (its $disconnect then finds nothing).
        svc.notifier.close(old.connection_id)
    elif old.state == "chatting" and old.peer_id and old.session_id:
        svc.notifier.send(old.peer_id, PeerBack(sessionId=old.session_id))
        if old.supervisor_id:
            # Still joined (they may have left while the seeker was away)?
            taken = svc.connections.get_connection(connection_id)
            if taken is not None and taken.supervisor_id:
                svc.notifier.send(taken.supervisor_id, PeerBack(sessionId=old.session_id))
    if new_key is not None:
        # The matcher passed over this seeker while they were away: wake it for them now.
        svc.work.nudge("seeker_waiting")
    metrics.add_metric(name="Resumed", unit="Count", value=1)
    logger.info("resumed", extra={"state": old.state})
    return True


def disconnect(svc: Services, req: DisconnectRequest) -> None:
    """A seeker in the queue or a chat goes away for the grace period; anyone else leaves."""
    for _ in range(3):
        conn = svc.connections.get_connection(req.connection_id)
        if conn is None or conn.away_until is not None:
            return
        if not _keeps_a_place(conn):
            break
        # Rounded up: the grace is never a fraction of a second shorter than promised.
        away_until = math.ceil(svc.clock()) + svc.settings.resume_grace_seconds
        if svc.connections.mark_away(conn, away_until):
            # Due when the grace is over: the matcher ends it then (kindred.grace), within
            # seconds; the sweeper is the repair if this work item is lost.
            svc.work.grace_over(conn.connection_id, delay_until(away_until, svc.clock()))
            if conn.state == "chatting" and conn.peer_id and conn.session_id:
                # A 410 here is the volunteer's own $disconnect's or the sweeper's to handle.
                svc.notifier.send(conn.peer_id, PeerAway(sessionId=conn.session_id))
                if conn.supervisor_id:
                    svc.notifier.send(conn.supervisor_id, PeerAway(sessionId=conn.session_id))
            metrics.add_metric(name="SeekersAway", unit="Count", value=1)
            logger.info("away", extra={"state": conn.state, "status": req.status_code})
            return
        # The state changed under us (matched, ended): read it again.
    else:
        return
    with unmetered(in_practice(conn)):
        release(svc, conn)
    logger.info("disconnected", extra={"role": conn.role, "status": req.status_code})


def _keeps_a_place(conn: Connection) -> bool:
    """A seeker waiting or in a chat, holding a resume token, may come back to it."""
    return (
        conn.role == "seeker"
        and not conn.practice  # a practice seeker never resumes: their chat ends at once
        and conn.state in ("waiting", "chatting")
        and conn.resume_hash is not None
    )


def release(svc: Services, conn: Connection) -> None:
    """Free what the connection held, for good: its queue place, its chats, its volunteer
    slot, its resume ticket and its item."""
    if conn.is_staff:
        # Remove the slot first: from then on no match can give this volunteer a new chat,
        # so the chats read next are all the chats there will ever be.
        slot = svc.pool.get_slot(conn.connection_id)
        svc.pool.remove_slot(conn.connection_id)
        if conn.role == "supervisor":
            svc.pool.leave_shift(conn.connection_id)
            svc.board.unsubscribe(conn.connection_id)
        current = svc.connections.get_connection(conn.connection_id) or conn
        # A supervisor leaves the chats they joined (the chats go on); then their own end.
        supervision.leave_every_chat(svc, current)
        leave(svc, conn, list(current.chats))
        care.left_shift(svc, slot)  # the account's break starts (kindred.care)
        if slot is not None and slot.available:
            edges.after_shift_change(svc, [slot], available=False)
        if slot is not None:
            board.changed(svc)
    else:
        leave(svc, conn, [conn.session_id] if conn.session_id else [])
    if conn.resume_hash:
        svc.tickets.delete_resume(conn.resume_hash)
    svc.connections.delete_connection(conn.connection_id)
