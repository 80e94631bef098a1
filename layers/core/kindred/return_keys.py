"""Return keys (issue 13): a seeker's opt-in way back to the volunteer they talked with.

The seeker's page makes the key (at least 128 random bits) and keeps it; the table keeps only
its SHA-256 with the volunteer's account id, for ReturnKeyDays (docs/privacy.md, "Coming
back"). A seeker who never opted in sends no key, and nothing of this module writes anything.

- `remember` (the opt-in, during or just after a chat) points the key at that chat's volunteer.
- A `match` with the key: the chat that starts re-points it at its volunteer; with
  `sameVolunteer`, if that account is on shift the matcher waits for it alone for up to
  TopicFallbackSeconds (kindred.matching), else anyone takes the seeker at once.
- A block (either side) unlinks the key from that volunteer; `forget` unlinks it whole.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from kindred.frozen import Frozen
from kindred.observability import metrics
from kindred.protocol import ProtocolError, Remembered
from kindred.records import Connection, QueueEntry, Session, VolunteerSlot, is_urgent
from kindred.services import Services

if TYPE_CHECKING:  # client actions, for annotations only: kindred.protocol imports them on use
    from kindred.protocol import Forget, Match, Remember

DAY_SECONDS = 86400


def return_hash(key: str) -> str:
    """What the table keeps of a return key. No salt: the key is 128 random bits or more, so
    no list of likely keys exists to try; a salt kept beside the hash would add nothing."""
    return hashlib.sha256(key.encode()).hexdigest()


def enabled(svc: Services) -> bool:
    """ReturnKeyDays 0 turns return keys off: keys are ignored and nothing is linked."""
    return svc.settings.return_key_days > 0


def _expiry(svc: Services) -> int:
    return int(svc.clock()) + svc.settings.return_key_days * DAY_SECONDS


class Asked(Frozen):
    """What a `match` asks of the queue with its return key: the key's hash, the volunteer
    account to wait for (on shift now), and what `queued.sameVolunteer` says (None: not asked)."""

    return_hash: str | None = None
    preferred_user: str | None = None
    same_volunteer: bool | None = None


def on_match(svc: Services, conn: Connection, action: Match, language: str) -> Asked:
    """What the seeker's return key asks for; reads only (nothing is written for a `match`
    that is refused). The volunteer is asked for only if their account has a slot on shift
    in the seeker's language and this seeker has not blocked them."""
    if not action.returnKey or not enabled(svc) or conn.practice:  # practice leads nowhere
        return Asked(same_volunteer=False if action.sameVolunteer else None)
    hashed = return_hash(action.returnKey)
    if not action.sameVolunteer:
        return Asked(return_hash=hashed)
    user = svc.returns.linked_user(hashed)
    on_shift = (
        user is not None
        and user not in conn.blocked_users
        and any(s.available and language in s.languages for s in svc.pool.account_slots(user))
    )
    metrics.add_metric(
        name="SameVolunteerOnShift" if on_shift else "SameVolunteerAway", unit="Count", value=1
    )
    return Asked(hashed, user if on_shift else None, on_shift)


def after_queued(svc: Services, conn: Connection, asked: Asked) -> None:
    """The seeker is in the queue: their connection keeps their key's hash (for `forget`)."""
    if asked.return_hash and asked.return_hash != conn.return_hash:
        svc.returns.hold(conn.connection_id, asked.return_hash)


def waits_for_the_same(entry: QueueEntry) -> bool:
    """Whether this seeker waits at first for the volunteer they asked for. Not a seeker
    ahead of normal priority (kindred.records.is_urgent): they take the best volunteer free
    now (the one they asked for first, if free)."""
    return entry.preferred_user is not None and not is_urgent(entry.priority)


def after_chat_started(svc: Services, entry: QueueEntry, slot: VolunteerSlot) -> None:
    """A chat started with a return key: the key now leads to its volunteer, for
    ReturnKeyDays from now (the latest volunteer, whoever the seeker asked for)."""
    if entry.return_hash and slot.user_id and enabled(svc):
        svc.returns.link(entry.return_hash, slot.user_id, _expiry(svc))


def remember(svc: Services, conn: Connection, action: Remember) -> None:
    """The opt-in: the key leads to the volunteer of this seeker's chat (in progress, or
    ended within SessionRetentionHours); `remembered`."""
    if conn.role != "seeker":
        raise ProtocolError(
            "not_allowed", "Only a help-seeker can keep a return key.", action="remember"
        )
    if not enabled(svc):
        raise ProtocolError(
            "not_allowed", "Return keys are turned off on this service.", action="remember"
        )
    if conn.practice:
        raise ProtocolError(
            "not_allowed", "A practice chat keeps no return key.", action="remember"
        )
    session_id = action.sessionId or conn.session_id or conn.last_session_id or ""
    mine = {conn.session_id, conn.last_session_id, *conn.session_ids} - {None}
    session = svc.chats.get_session(session_id) if session_id in mine else None
    if session is None or not session.volunteer_user_id:
        raise ProtocolError(
            "not_in_chat", "A return key is for a chat of yours.", action="remember"
        )
    if session.volunteer_user_id in conn.blocked_users:
        raise ProtocolError(
            "not_allowed",
            "A volunteer who was blocked cannot be asked for again.",
            action="remember",
        )
    hashed = return_hash(action.returnKey)
    svc.returns.link(hashed, session.volunteer_user_id, _expiry(svc))
    if hashed != conn.return_hash:
        svc.returns.hold(conn.connection_id, hashed)
    metrics.add_metric(name="ReturnKeysKept", unit="Count", value=1)
    svc.notifier.send(
        conn.connection_id,
        Remembered(sessionId=session_id, days=svc.settings.return_key_days),
    )


def after_block(svc: Services, conn: Connection, session: Session) -> None:
    """A block, by either side of the chat: the seeker's key never leads to that volunteer
    again (a later link, to another volunteer, is left alone)."""
    if not session.volunteer_user_id:
        return
    if conn.connection_id == session.seeker_id:
        hashed = conn.return_hash
    else:
        seeker = svc.connections.get_connection(session.seeker_id)
        hashed = seeker.return_hash if seeker is not None else None
    if hashed:
        svc.returns.unlink(hashed, session.volunteer_user_id)


def on_forget(svc: Services, conn: Connection, action: Forget) -> None:
    """`forget`: the link of the key the connection holds, and of the key the frame carries."""
    hashes = {conn.return_hash, return_hash(action.returnKey) if action.returnKey else None}
    for hashed in sorted(h for h in hashes if h):
        svc.returns.unlink(hashed)
