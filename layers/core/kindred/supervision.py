"""Supervision: a volunteer asks for help, a supervisor steps into a chat, whispers, leaves.

A supervisor who joins a chat is linked to it on every item a relay reads: the seeker's
connection and the volunteer's name the supervisor, the supervisor's own names both sides.
So a message in a joined chat still costs one DynamoDB call (the sender's connection item,
which the rate limit updates anyway) and one post per reader; a whisper, one call and one post.
Nothing anyone writes (a message, a whisper, an escalation's note) is stored or logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kindred import board
from kindred.crisis import chat_alert
from kindred.frozen import Frozen
from kindred.observability import logger, metrics
from kindred.practice import counted
from kindred.protocol import (
    Escalated,
    Joined,
    ProtocolError,
    Role,
    SupervisorJoined,
    SupervisorLeft,
    WhisperOut,
    iso_time,
    now_iso,
)
from kindred.records import Connection, JoinedChat, Session
from kindred.services import Services

if TYPE_CHECKING:  # client actions, for annotations only: kindred.protocol imports them on use
    from kindred.protocol import Join, Leave, Whisper

# A volunteer's `escalate` of the same chat alerts the supervisors again only this long after
# the last alert: they cannot be flooded, and the volunteer always hears when they were told.
ESCALATE_AGAIN_AFTER_SECONDS = 120


class Route(Frozen):
    """Where a frame about one chat goes, read off the sender's own connection item alone.

    `side` is the sender's place in the chat; `seeker` and `volunteer` are the chat's two
    connections, and `supervisor` the one joined to it (None when nobody is).
    """

    session_id: str
    side: Role
    seeker: str
    volunteer: str
    supervisor: str | None

    @property
    def sides(self) -> JoinedChat:
        return JoinedChat(self.seeker, self.volunteer)

    def readers(self) -> list[str]:
        """Who reads a message of the sender's: everyone in the chat but the sender."""
        every = [self.seeker, self.volunteer, *([self.supervisor] if self.supervisor else [])]
        mine = {"seeker": self.seeker, "volunteer": self.volunteer}.get(self.side, self.supervisor)
        return [cid for cid in every if cid != mine]


def route(conn: Connection, session_id: str | None, action: str) -> Route:
    """The chat a `message` or `whisper` is about: the seeker's one chat, or for staff the chat
    named (their own, or one they joined; either may be left out when they have only one)."""
    if conn.role == "seeker":
        if not conn.session_id or not conn.peer_id:
            raise ProtocolError("not_in_chat", "You are not in a chat.", action=action)
        if session_id is not None and session_id != conn.session_id:
            raise ProtocolError("not_in_chat", "That chat is not yours.", action=action)
        return Route(
            conn.session_id, "seeker", conn.connection_id, conn.peer_id, conn.supervisor_id
        )
    if session_id is None:
        every = [*conn.chats, *conn.joined]
        if len(every) > 1:
            raise ProtocolError(
                "session_required", "You have several chats: say which one.", action=action
            )
        if not every:
            raise ProtocolError("not_in_chat", "You are not in a chat.", action=action)
        session_id = every[0]
    if session_id in conn.chats:
        return Route(
            session_id,
            "volunteer",
            conn.chats[session_id],
            conn.connection_id,
            conn.supervisors.get(session_id),
        )
    sides = conn.joined.get(session_id)
    if sides is None:
        raise ProtocolError("not_in_chat", "That chat is not yours.", action=action)
    return Route(session_id, "supervisor", sides.seeker_id, sides.volunteer_id, None)


# ---- escalate ------------------------------------------------------------------------------


def escalate(svc: Services, conn: Connection, session_id: str, note: str | None) -> None:
    """The volunteer asks for help: the supervisors on shift get `alert` kind `escalation`
    (with the note, relayed), at most once every ESCALATE_AGAIN_AFTER_SECONDS per chat; the
    volunteer hears `escalated` either way."""
    now_ms = svc.now_ms()
    found = svc.chats.escalate(
        session_id,
        volunteer_id=conn.connection_id,
        now_ms=now_ms,
        again_after_ms=ESCALATE_AGAIN_AFTER_SECONDS * 1000,
    )
    if found is None:
        raise ProtocolError("not_in_chat", "That chat has ended.", action="escalate")
    if not found.alert:
        alerted_ms = found.session.escalated_at_ms or now_ms
        svc.notifier.send(
            conn.connection_id,
            Escalated(sessionId=session_id, sent=False, alertedAt=iso_time(alerted_ms / 1000)),
        )
        logger.info("escalation repeated", extra={"session": session_id})
        return
    alert = chat_alert(svc, "escalation", found.session).model_copy(update={"note": note})
    # A supervisor taking chats who escalates their own chat is not alerted by it.
    supervisors = [s for s in svc.pool.on_shift_supervisors() if s != conn.connection_id]
    if not counted(found.session):
        supervisors = _players(svc, found.session, supervisors)
    for supervisor in supervisors:
        svc.notifier.send(supervisor, alert)
    svc.notifier.send(
        conn.connection_id,
        Escalated(
            sessionId=session_id,
            sent=True,
            alertedAt=iso_time(now_ms / 1000),
            supervisorsOnShift=len(supervisors),
        ),
    )
    if counted(found.session):
        metrics.add_metric(name="Escalations", unit="Count", value=1)
    # The note is never logged: only that it came, and to how many.
    logger.info(
        "escalated",
        extra={"session": session_id, "supervisors": len(supervisors), "note": note is not None},
    )
    board.changed(svc)


def _players(svc: Services, session: Session, supervisors: list[str]) -> list[str]:
    """Of these supervisors' connections, those of the account playing a practice chat's
    seeker: a trainee's practice escalation reaches them, never another supervisor."""
    player = svc.connections.get_connection(session.seeker_id)
    if player is None or not player.user_id:
        return []
    return [
        cid
        for cid in supervisors
        if (staff := svc.connections.get_connection(cid)) and staff.user_id == player.user_id
    ]


# ---- join and leave ------------------------------------------------------------------------


def join(svc: Services, conn: Connection, action: Join) -> None:
    """A supervisor steps into a chat: `joined` to them, `supervisor_joined` to both sides.
    One supervisor per chat at a time."""
    if conn.role != "supervisor":
        raise ProtocolError("not_allowed", "Only a supervisor joins a chat.", action="join")
    session_id = action.sessionId
    if session_id in conn.joined:
        raise ProtocolError("already_in_chat", "You have already joined that chat.", action="join")
    if session_id in conn.chats:
        raise ProtocolError("not_allowed", "That chat is your own.", action="join")
    for _ in range(2):
        session = svc.chats.get_session(session_id)
        if session is None or not session.active:
            raise ProtocolError("not_in_chat", "That chat has ended.", action="join")
        if session.supervisor_id is not None:
            raise ProtocolError(
                "already_in_chat", "Another supervisor has joined that chat.", action="join"
            )
        if svc.chats.join_chat(session, conn.connection_id, conn.alias):
            break
        # The chat changed as it was read (a seeker came back on a new connection, a side
        # left, another supervisor joined): read it again.
    else:
        raise ProtocolError("not_in_chat", "That chat has just changed: try again.", action="join")
    svc.notifier.send(
        conn.connection_id,
        Joined(
            sessionId=session_id,
            volunteer=session.volunteer_alias,
            seeker=session.seeker_alias,
            startedAt=iso_time(session.started_at_ms / 1000),
            level=session.level,
        ),
    )
    # A side whose socket is gone misses it; its own $disconnect (or the next relay) sees to it.
    svc.notifier.send(
        session.volunteer_id, SupervisorJoined(sessionId=session_id, supervisor=conn.alias)
    )
    svc.notifier.send(session.seeker_id, SupervisorJoined(sessionId=session_id))
    metrics.add_metric(name="SupervisorJoins", unit="Count", value=1)
    logger.info("supervisor joined", extra={"session": session_id})
    board.changed(svc)


def leave(svc: Services, conn: Connection, action: Leave) -> None:
    """The joined supervisor leaves: `supervisor_left` to both sides and to them."""
    if conn.role != "supervisor":
        raise ProtocolError("not_allowed", "Only a supervisor leaves a chat.", action="leave")
    sides = conn.joined.get(action.sessionId)
    if sides is None:
        raise ProtocolError("not_in_chat", "You have not joined that chat.", action="leave")
    if not unlink(svc, action.sessionId, conn.connection_id, sides):
        raise ProtocolError("not_in_chat", "That chat has ended.", action="leave")
    svc.notifier.send(conn.connection_id, SupervisorLeft(sessionId=action.sessionId))


def unlink(svc: Services, session_id: str, supervisor_id: str, sides: JoinedChat) -> bool:
    """The supervisor is no longer joined to the chat (they left, their socket is gone, their
    connection closed): both sides hear `supervisor_left`. False if they were not joined."""
    if not svc.chats.leave_chat(session_id, supervisor_id, sides):
        return False
    for side in (sides.volunteer_id, sides.seeker_id):
        svc.notifier.send(side, SupervisorLeft(sessionId=session_id))
    metrics.add_metric(name="SupervisorLeaves", unit="Count", value=1)
    logger.info("supervisor left", extra={"session": session_id})
    board.changed(svc)
    return True


def leave_every_chat(svc: Services, conn: Connection) -> None:
    """A supervisor's connection closes: they leave every chat they joined."""
    for session_id, sides in sorted(conn.joined.items()):
        unlink(svc, session_id, conn.connection_id, sides)


# ---- whisper -------------------------------------------------------------------------------


def whisper_to(conn: Connection, action: Whisper) -> tuple[Route, str, WhisperOut]:
    """Where a whisper goes: from the chat's volunteer to its joined supervisor, or back;
    never to the seeker. The chat, the reader and the frame."""
    if conn.role == "seeker":
        raise ProtocolError(
            "not_allowed", "Whispers are between a volunteer and a supervisor.", action="whisper"
        )
    chat = route(conn, action.sessionId, "whisper")
    if chat.side == "volunteer":
        if chat.supervisor is None:
            raise ProtocolError(
                "not_in_chat", "No supervisor has joined that chat.", action="whisper"
            )
        frame = WhisperOut(
            sessionId=chat.session_id, text=action.text, sentAt=now_iso(), from_="volunteer"
        )
        return chat, chat.supervisor, frame
    frame = WhisperOut(
        sessionId=chat.session_id, text=action.text, sentAt=now_iso(), from_="supervisor"
    )
    return chat, chat.volunteer, frame
