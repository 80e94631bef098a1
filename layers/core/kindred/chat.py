"""The chat actions: one entry point that turns a WebSocket frame into its effects or an error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from kindred import board, care, positions, practice, sessions, supervision
from kindred.chat_end import end_session, leave
from kindred.crisis import alert_report, crisis_lines, level_of, on_assessed, on_chat_signal
from kindred.observability import logger, metrics, unmetered
from kindred.ports import RateLimited
from kindred.protocol import (
    Assess,
    Assessed,
    Availability,
    Block,
    Board,
    Checkin,
    End,
    Ended,
    ErrorCode,
    ErrorFrame,
    Escalate,
    Feedback,
    Forget,
    Forgotten,
    Join,
    Leave,
    Match,
    Message,
    MessageOut,
    Ping,
    Pong,
    ProtocolError,
    Reauth,
    Referral,
    ReferralOut,
    Remember,
    Report,
    Reported,
    Resources,
    ResourcesOut,
    Resumed,
    SupervisorJoined,
    Thanks,
    Transfer,
    Typing,
    TypingOut,
    Whisper,
    now_iso,
    parse_action,
)
from kindred.records import (
    PRIORITY_URGENT,
    Connection,
    QueueEntry,
    Session,
    priority_for,
    queue_key,
)
from kindred.requests import MessageRequest
from kindred.resume_tickets import new_ticket
from kindred.services import Services

OK: dict[str, Any] = {"statusCode": 200}


def handle(svc: Services, req: MessageRequest, routes: frozenset[str]) -> dict[str, Any]:
    """Serve one client frame arriving on one of `routes` (those of the function serving it);
    an error becomes an `error` frame to the sender, nothing else."""
    action_name: str | None = None
    client_msg_id: str | None = None
    muted = False  # what a practice chat's sides do is never counted (kindred.practice)
    try:
        if req.route_key not in routes:
            raise ProtocolError("unknown_action", "This action is not served here.")
        action = parse_action(req.body)
        action_name = action.action
        client_msg_id = getattr(action, "clientMsgId", None)
        if action_name != req.route_key:
            # API Gateway routes each action to its own route; a known action on another
            # route ($default) is one the template does not route: refused, never served.
            raise ProtocolError("unknown_action", "This action is not served here.")
        if isinstance(action, Ping):  # not counted against the rate limit
            # One read: a connection that came with `?resume=` learns the outcome on its first
            # frame, and a client's first frame after reconnecting is usually a ping.
            pinger = svc.connections.get_connection(req.connection_id)
            if pinger is not None and sessions.is_expired(svc, pinger):
                sessions.close_session(svc, pinger)
                return OK
            if pinger is not None and (pinger.resumed or pinger.resume_failed):
                _tell_resume_outcome(svc, pinger, action_name)
            svc.notifier.send(req.connection_id, Pong())
            return OK
        conn = _counted_connection(svc, req.connection_id)
        if conn is None:
            raise ProtocolError("internal", "This connection is not known; please reconnect.")
        if sessions.is_expired(svc, conn):
            # Whatever the frame (`reauth` too: a token that ran out cannot be renewed here).
            sessions.close_session(svc, conn)
            return OK
        if conn.resumed or conn.resume_failed:
            # The first action of a connection that came with `?resume=`: its outcome first,
            # then the action is served as usual.
            conn = _tell_resume_outcome(svc, conn, action_name)
        muted = practice.in_practice(conn)
        with unmetered(muted):
            _HANDLERS[type(action)](svc, conn, action)
    except ProtocolError as exc:
        exc.action = exc.action or action_name
        exc.client_msg_id = exc.client_msg_id or client_msg_id
        with unmetered(muted):
            metrics.add_metric(name=f"Error_{exc.code}", unit="Count", value=1)
        logger.info("refused", extra={"code": exc.code, "action": exc.action})
        svc.notifier.send(req.connection_id, exc.frame())
    except Exception:
        # Never the stack trace to the client; the correlation id ties the log to the report.
        logger.exception("action failed", extra={"action": action_name})
        metrics.add_metric(name="Error_internal", unit="Count", value=1)
        _send_error(
            svc,
            req.connection_id,
            "internal",
            "Something went wrong on our side. Please try again.",
            action=action_name,
            client_msg_id=client_msg_id,
        )
    return OK


def _send_error(
    svc: Services,
    connection_id: str,
    code: ErrorCode,
    message: str,
    *,
    action: str | None,
    client_msg_id: str | None = None,
) -> None:
    """An `error` frame to this connection, for an error that is told rather than raised."""
    svc.notifier.send(
        connection_id,
        ErrorFrame(code=code, message=message, action=action, clientMsgId=client_msg_id),
    )


def _counted_connection(svc: Services, connection_id: str) -> Connection | None:
    """The sender's connection, its action counted against the rate limit: the one store call
    every action but `ping` makes before anything else (the relay's only one)."""
    try:
        return svc.connections.count_action(
            connection_id,
            now_ms=svc.now_ms(),
            limit=svc.settings.rate_limit_actions,
            window_ms=svc.settings.rate_limit_window_seconds * 1000,
        )
    except RateLimited:
        metrics.add_metric(name="RateLimited", unit="Count", value=1)
        raise ProtocolError(
            "rate_limited", "Too many actions at once: please wait a few seconds."
        ) from None


def _tell_resume_outcome(svc: Services, conn: Connection, action: str | None) -> Connection:
    """`resumed` with a new token (the one used is spent), or `error` `resume_failed`.

    Returns the connection as it now is, for the action served next (its resume ticket changed).
    """
    svc.connections.clear_resume_flags(conn.connection_id)
    failed = conn.resume_failed
    conn = replace(conn, resumed=False, resume_failed=False)
    if failed:
        _send_error(
            svc,
            conn.connection_id,
            "resume_failed",
            "We could not take you back to where you were: you start afresh.",
            action=action,
        )
        return conn
    token, ticket = new_ticket(svc)
    svc.tickets.put_resume(ticket, conn.connection_id, conn.seeker_key)
    position = (
        svc.queue.queue_position(conn.queue_key)
        if conn.state == "waiting" and conn.queue_key
        else None
    )
    svc.notifier.send(
        conn.connection_id,
        Resumed(
            resumeToken=token,
            state=conn.state,
            sessionId=conn.session_id if conn.state == "chatting" else None,
            position=position,
        ),
    )
    if conn.state == "chatting" and conn.session_id and conn.supervisor_id:
        # A supervisor is in the chat (they may have joined while the seeker was away).
        svc.notifier.send(conn.connection_id, SupervisorJoined(sessionId=conn.session_id))
    return replace(conn, resume_hash=ticket.resume_hash)


def _peer_is_away(svc: Services, peer: str) -> bool:
    """The peer is a seeker whose socket dropped and who may still come back."""
    other = svc.connections.get_connection(peer)
    return (
        other is not None and other.away_until is not None and other.away_until > int(svc.clock())
    )


# ---- finding the chat a frame is about --------------------------------------------------


def _chat_of(conn: Connection, session_id: str | None, action: str) -> tuple[str, str]:
    """The (session id, peer connection id) of the chat this frame is about."""
    if conn.role == "seeker":
        if not conn.session_id or not conn.peer_id:
            raise ProtocolError("not_in_chat", "You are not in a chat.", action=action)
        if session_id is not None and session_id != conn.session_id:
            raise ProtocolError("not_in_chat", "That chat is not yours.", action=action)
        return conn.session_id, conn.peer_id
    if session_id is None:
        if len(conn.chats) > 1:
            raise ProtocolError(
                "session_required", "You have several chats: say which one.", action=action
            )
        if not conn.chats:
            raise ProtocolError("not_in_chat", "You are not in a chat.", action=action)
        return next(iter(conn.chats.items()))
    peer = conn.chats.get(session_id)
    if peer is None:
        raise ProtocolError("not_in_chat", "That chat is not yours.", action=action)
    return session_id, peer


def _session(svc: Services, session_id: str, action: str) -> Session:
    session = svc.chats.get_session(session_id)
    if session is None or not session.active:
        raise ProtocolError("not_in_chat", "That chat has ended.", action=action)
    return session


# ---- the actions -----------------------------------------------------------------------------


# The modules of routes the chat function rarely or never serves (matching is the match
# function's, which imports it with its app) are imported by their route's first frame, not in
# every cold start (issue 14).


def _match(svc: Services, conn: Connection, action: Match) -> None:
    from kindred import matching

    matching.request_match(svc, conn, action)


def _availability(svc: Services, conn: Connection, action: Availability) -> None:
    from kindred import matching

    matching.set_availability(svc, conn, action)


def relay_message(svc: Services, conn: Connection, action: Message) -> None:
    """The hot path: one read (the sender's connection), one post per reader (the peer, and a
    supervisor who joined the chat; in a joined chat every message says who wrote it). A message
    with contact details is refused before anything is relayed."""
    chat = supervision.route(conn, action.sessionId, "message")
    if _refused_for_contact_details(svc, conn, chat.session_id, action):
        return
    joined = chat.supervisor is not None or chat.side == "supervisor"
    frame = MessageOut(
        sessionId=chat.session_id,
        text=action.text,
        sentAt=now_iso(),
        clientMsgId=action.clientMsgId,
        seq=action.seq,
        from_=chat.side if joined else None,
    )
    gone = [reader for reader in chat.readers() if not svc.notifier.send(reader, frame)]
    if conn.role == "seeker" and (level := level_of(action.text)) is not None:
        on_chat_signal(svc, chat.session_id, level)
    for reader in gone:
        if _reader_gone(
            svc, conn, chat, reader, action="message", client_msg_id=action.clientMsgId
        ):
            break


def _reader_gone(
    svc: Services,
    conn: Connection,
    chat: supervision.Route,
    reader: str,
    *,
    action: str,
    client_msg_id: str | None,
) -> bool:
    """A post to someone in the chat met a 410. A supervisor who is gone leaves the chat, which
    goes on for the others; for a seeker or volunteer, see _peer_gone. True when the sender
    was told (then nothing more is to be said of this frame)."""
    if reader == chat.supervisor:
        supervision.unlink(svc, chat.session_id, reader, chat.sides)
        return False
    _peer_gone(svc, conn, chat.session_id, reader, client_msg_id, action=action)
    return True


# What the refusal names, by kind (kindred.contact_details.KINDS).
_CONTACT_WORDS = {
    "phone": "a phone number",
    "email": "an e-mail address",
    "handle": "a social media username",
}


def _refused_for_contact_details(
    svc: Services, conn: Connection, session_id: str, action: Message
) -> bool:
    """Contact details in a message: refused from a volunteer or supervisor, and from a seeker
    unless they chose to share them (`share`); nothing is relayed or stored. A refused seeker's
    message is still read for risk: someone at risk who also wrote a number raises the signal."""
    if conn.role == "seeker" and action.share:
        return False
    # Its patterns compile on the first message a process reads, not in every cold start.
    from kindred.contact_details import contact_details_in

    kinds = contact_details_in(action.text)
    if not kinds:
        return False
    named = [_CONTACT_WORDS[kind] for kind in kinds]
    what = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    if conn.role == "seeker":
        words = (
            f"This message looks like it has {what} in it. Kindred is anonymous: contact "
            "details can let someone find out who you are, or reach you outside this chat."
        )
    else:
        words = f"This message has {what} in it: contact details are never shared with a seeker."
    metrics.add_metric(name="Error_contact_details", unit="Count", value=1)
    logger.info("refused", extra={"code": "contact_details", "action": "message", "kinds": kinds})
    _send_error(
        svc,
        conn.connection_id,
        "contact_details",
        words,
        action="message",
        client_msg_id=action.clientMsgId,
    )
    if conn.role == "seeker" and (level := level_of(action.text)) is not None:
        on_chat_signal(svc, session_id, level)
    return True


def _peer_gone(
    svc: Services,
    conn: Connection,
    session_id: str,
    peer: str,
    client_msg_id: str | None,
    *,
    action: str = "message",
) -> None:
    """The peer's socket is gone (410): end that chat cleanly and tell the sender; a seeker
    who is away (they may still come back) keeps the chat, and the sender hears `peer_away`."""
    if _peer_is_away(svc, peer):
        _send_error(
            svc,
            conn.connection_id,
            "peer_away",
            "The other person's connection dropped; they may come back shortly.",
            action=action,
            client_msg_id=client_msg_id,
        )
        return
    _send_error(
        svc,
        conn.connection_id,
        "peer_gone",
        "The other person has left the chat.",
        action=action,
        client_msg_id=client_msg_id,
    )
    session = svc.chats.get_session(session_id)
    if session is not None:
        end_session(svc, session, by=peer, reason_for_ender=None, reason_for_other="peer_left")


def _whisper(svc: Services, conn: Connection, action: Whisper) -> None:
    """Between a chat's volunteer and its joined supervisor only: one read, one post."""
    chat, reader, frame = supervision.whisper_to(conn, action)
    if not svc.notifier.send(reader, frame):
        _reader_gone(svc, conn, chat, reader, action="whisper", client_msg_id=None)


def _escalate(svc: Services, conn: Connection, action: Escalate) -> None:
    if not conn.is_staff:
        raise ProtocolError(
            "not_allowed", "Only the volunteer in a chat asks a supervisor.", action="escalate"
        )
    session_id, _ = _chat_of(conn, action.sessionId, "escalate")
    supervision.escalate(svc, conn, session_id, action.note)


def _typing(svc: Services, conn: Connection, action: Typing) -> None:
    session_id, peer = _chat_of(conn, action.sessionId, "typing")
    if not svc.notifier.send(peer, TypingOut(sessionId=session_id)) and not _peer_is_away(
        svc, peer
    ):
        session = svc.chats.get_session(session_id)
        if session is not None:
            end_session(svc, session, by=peer, reason_for_ender=None, reason_for_other="peer_left")


def _end(svc: Services, conn: Connection, action: End) -> None:
    if conn.role == "seeker" and conn.state == "waiting":
        # A waiting seeker leaves quietly (there was no chat); those behind move up.
        if svc.queue.leave_queue(conn) and conn.queue_key:
            positions.after_leaving(svc, conn.queue_key)
            board.changed(svc)
        return
    if conn.role == "seeker" and conn.state == "idle":
        return  # nothing to end; `end` twice is harmless
    session_id, _ = _chat_of(conn, action.sessionId, "end")
    session = _session(svc, session_id, "end")
    end_session(
        svc,
        session,
        by=conn.connection_id,
        reason_for_ender="ended_by_you",
        reason_for_other="ended_by_peer",
    )


def _report(svc: Services, conn: Connection, action: Report) -> None:
    session_id = action.sessionId or (
        conn.last_session_id if conn.role == "seeker" else _chat_of(conn, None, "report")[0]
    )
    session = svc.chats.get_session(session_id) if session_id else None
    if session is None or conn.connection_id not in (session.seeker_id, session.volunteer_id):
        raise ProtocolError("not_in_chat", "There is no chat of yours to report.", action="report")
    expires = int(svc.clock()) + svc.settings.report_retention_days * 86400
    side = "seeker" if conn.connection_id == session.seeker_id else "volunteer"
    if session.practice:
        # Answered as any report, but nothing is kept and nobody is alerted (kindred.practice).
        svc.notifier.send(conn.connection_id, Reported())
        return
    # One report per side and chat: a repeat is answered the same, and tells nobody again.
    first = svc.safeguards.put_report(session.session_id, side, action.reason, conn.role, expires)
    svc.notifier.send(conn.connection_id, Reported())
    if first:
        metrics.add_metric(name="Reports", unit="Count", value=1)
        alert_report(svc, session)


def _block(svc: Services, conn: Connection, action: Block) -> None:
    session_id, _ = _chat_of(conn, action.sessionId, "block")
    session = _session(svc, session_id, "block")
    # The block is an item of its own, for BLOCK_RETENTION_DAYS, keyed by what outlives a
    # connection (the volunteer's account, the seeker's key): the matcher checks it. The
    # seeker's connection also keeps it, so their next queue entry carries it.
    if session.volunteer_user_id and session.seeker_key and not session.practice:
        expires = int(svc.clock()) + svc.settings.block_retention_days * 86400
        svc.safeguards.put_block(session.volunteer_user_id, session.seeker_key, expires)
    svc.connections.add_blocked_user(session.seeker_id, session.volunteer_user_id)
    from kindred import return_keys

    return_keys.after_block(svc, conn, session)
    end_session(
        svc, session, by=conn.connection_id, reason_for_ender="blocked", reason_for_other="blocked"
    )


def _feedback(svc: Services, conn: Connection, action: Feedback) -> None:
    if conn.role != "seeker":
        raise ProtocolError("not_allowed", "Only a help-seeker gives feedback.", action="feedback")
    if action.sessionId != conn.last_session_id or conn.session_id == action.sessionId:
        raise ProtocolError(
            "not_in_chat", "Feedback is for a chat of yours that has ended.", action="feedback"
        )
    # The rating is kept only as a metric; the comment is not stored anywhere; distress only
    # in the month's totals of check-in answers (kindred.seeker_checkin), never with this chat.
    metrics.add_metric(name="FeedbackRating", unit="Count", value=action.rating)
    metrics.add_metric(name="FeedbackGiven", unit="Count", value=1)
    svc.notifier.send(conn.connection_id, Thanks())
    if not conn.practice:
        from kindred import seeker_checkin

        seeker_checkin.count(
            svc, seeker_checkin.after_tally(action.distress, action.distressBefore)
        )


def _resources(svc: Services, conn: Connection, action: Resources) -> None:
    """The crisis lines of the country; with a `topic`, then the directory's services for it
    (in the country, in the connection's language when any speaks it)."""
    country = action.country or svc.settings.default_country
    items = crisis_lines(country)
    if action.topic:
        from kindred import referrals

        found = referrals.for_topic(country, conn.language, action.topic)
        items += [referrals.as_resource(item) for item in found]
    svc.notifier.send(conn.connection_id, ResourcesOut(items=items, reason="requested"))


def _referral(svc: Services, conn: Connection, action: Referral) -> None:
    """A service of the directory to the seeker, as a card; the same frame back to the
    volunteer once delivered. No store call beyond the sender's counted connection: the chat
    and its seeker are on it."""
    if not conn.is_staff:
        raise ProtocolError(
            "not_allowed", "Only the volunteer in a chat can send a referral.", action="referral"
        )
    from kindred import referrals

    item = referrals.find(action.id)
    if item is None:
        raise ProtocolError(
            "invalid_request", "id: not a service of the referral directory", action="referral"
        )
    session_id, seeker = _chat_of(conn, action.sessionId, "referral")
    frame = ReferralOut(sessionId=session_id, item=item)
    if not svc.notifier.send(seeker, frame):
        _peer_gone(svc, conn, session_id, seeker, None, action="referral")
        return
    svc.notifier.send(conn.connection_id, frame)
    metrics.add_metric(name="Referrals", unit="Count", value=1)


def _transfer(svc: Services, conn: Connection, action: Transfer) -> None:
    if not conn.is_staff:
        raise ProtocolError(
            "not_allowed", "Only a volunteer can transfer a chat.", action="transfer"
        )
    session_id, seeker_id = _chat_of(conn, action.sessionId, "transfer")
    session = _session(svc, session_id, "transfer")
    seeker = svc.connections.get_connection(seeker_id)
    if seeker is None:
        raise ProtocolError("peer_gone", "The other person has left the chat.", action="transfer")
    now_ms = svc.now_ms()
    # Ahead of normal priority, and at the chat's risk level's place if it has one.
    priority = priority_for(session.level, otherwise=PRIORITY_URGENT)
    entry = QueueEntry(
        connection_id=seeker_id,
        queue_key=queue_key(priority, now_ms, seeker_id, practice=session.practice),
        priority=priority,
        enqueued_at_ms=now_ms,
        # What the seeker asked for in `match`, not their connection's default.
        language=session.language or seeker.language,
        topics=session.topics,
        seeker_key=session.seeker_key,
        seeker_alias=session.seeker_alias,
        # The next volunteer hears the chat's risk level (from the intro, the signals seen
        # during the chat, or the volunteer's own assessment).
        level=session.level,
        sealed_note=svc.sealer.seal(action.note) if action.note else None,
        reason="transfer",
        # Not back to the volunteer who handed them on.
        blocked_users=seeker.blocked_users | {session.volunteer_user_id},
        # A seeker whose socket dropped waits in the queue, unmatched, for their resume.
        away=seeker.away_until is not None,
        # A return key (issue 13) leads to the volunteer of the chat that comes next.
        return_hash=seeker.return_hash,
    )
    ended = svc.chats.end_chat(session, requeue=entry)
    if ended is None:
        raise ProtocolError("not_in_chat", "That chat has ended.", action="transfer")
    svc.notifier.send(conn.connection_id, Ended(sessionId=session_id, reason="transferred"))
    if ended.supervisor_id is not None:
        svc.notifier.send(ended.supervisor_id, Ended(sessionId=session_id, reason="transferred"))
    if practice.counted(session):
        care.after_chat(svc, session)  # a transferred risk chat pauses its volunteer too
    if seeker.away_until is None:
        from kindred import matching

        token, ticket = new_ticket(svc)
        delivered, head = matching.tell_queued(svc, seeker_id, entry, token, reason="transfer")
        # The new token replaces the one the seeker holds only if it reached them: a socket
        # that is gone before its $disconnect ran must not cost the seeker their way back.
        if delivered:
            svc.tickets.put_resume(ticket, seeker_id, seeker.seeker_key)
    else:
        # A seeker who is away keeps the token they hold, to come back with: their `resumed`
        # tells them where they are.
        _, head = positions.place_of(svc, entry.queue_key)
    positions.after_joining(svc, entry.queue_key, head)
    metrics.add_metric(name="Transfers", unit="Count", value=1)
    svc.work.nudge("transfer")
    board.changed(svc)


def _assess(svc: Services, conn: Connection, action: Assess) -> None:
    """The volunteer's own judgement of the chat's risk level: up, down, or `none`."""
    if not conn.is_staff:
        raise ProtocolError(
            "not_allowed", "Only the volunteer in a chat can assess its risk.", action="assess"
        )
    session_id, _ = _chat_of(conn, action.sessionId, "assess")
    level = None if action.level == "none" else action.level
    change = svc.chats.set_level(session_id, level, volunteer_id=conn.connection_id)
    if change is None:
        raise ProtocolError("not_in_chat", "That chat has ended.", action="assess")
    svc.notifier.send(conn.connection_id, Assessed(sessionId=session_id, level=action.level))
    metrics.add_metric(name="Assessments", unit="Count", value=1)
    logger.info(
        "assessed",
        extra={"session": session_id, "risk_level": action.level, "previous": change.previous},
    )
    on_assessed(svc, change)
    if change.session.level != change.previous:
        board.changed(svc)


def _forget(svc: Services, conn: Connection, action: Forget) -> None:
    if conn.role != "seeker":
        raise ProtocolError(
            "not_allowed", "Only a help-seeker can ask to be forgotten.", action="forget"
        )
    leave(svc, conn, [conn.session_id] if conn.session_id else [])
    # Every chat this connection had (a transfer or a second match makes more than one).
    session_ids = set(conn.session_ids)
    session_ids.update(s for s in (conn.session_id, conn.last_session_id) if s)
    # A block is made in a chat: the seeker's chats name every volunteer they could have
    # blocked or been blocked by, even if this connection item does not list the block.
    volunteers = set(conn.blocked_users)
    for session_id in sorted(session_ids):
        volunteers.add(svc.chats.delete_session(session_id) or "")
    # The only ticket left: issuing a new one deletes the one before.
    if conn.resume_hash:
        svc.tickets.delete_resume(conn.resume_hash)
    # The blocks go too: they bind the seeker's key, which dies with this connection (no
    # ticket is left to resume it), so they could keep no one apart any more.
    for user_id in sorted(volunteers - {""}):
        svc.safeguards.delete_block(user_id, conn.seeker_key)
    # A return key's link (issue 13): the one the connection holds, and the one it names.
    from kindred import return_keys

    return_keys.on_forget(svc, conn, action)
    svc.connections.delete_connection(conn.connection_id)
    svc.notifier.send(conn.connection_id, Forgotten())
    svc.notifier.close(conn.connection_id)


def _remember(svc: Services, conn: Connection, action: Remember) -> None:
    from kindred import return_keys

    return_keys.remember(svc, conn, action)


_HANDLERS: dict[type[Any], Callable[[Services, Connection, Any], None]] = {
    Match: _match,
    Availability: _availability,
    Message: relay_message,
    Typing: _typing,
    End: _end,
    Report: _report,
    Block: _block,
    Feedback: _feedback,
    Resources: _resources,
    Transfer: _transfer,
    Forget: _forget,
    Assess: _assess,
    Referral: _referral,
    Checkin: care.checkin,
    Reauth: sessions.reauth,
    Escalate: _escalate,
    Join: supervision.join,
    Whisper: _whisper,
    Leave: supervision.leave,
    Board: board.watch,
    Remember: _remember,
}
