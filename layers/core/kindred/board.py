"""The supervisors' board: the queue, the volunteers and the chats, pushed on change, at most
every 2 s, whatever the traffic.

What it costs is bounded by design (docs/operations.md, "The supervisors' board"):
- a change the board shows (a seeker joins or leaves the queue, a chat starts or ends, a
  chat's level changes, an escalation, a supervisor joins or leaves, a volunteer's
  availability) makes one conditional write, `claim_push`, that succeeds only if someone
  subscribes and no push is pending; its one winner sends one work item, delayed
  PUSH_DELAY_SECONDS, to the matcher. Messages and typing never touch the board.
- the matcher, given that work item, starts the push (from then on a change claims the next
  one), reads the board in three Queries and posts it to each subscriber.
So there is at most one build and one post per subscriber every PUSH_DELAY_SECONDS, however
many changes come in between; with nobody subscribed, a change costs its one refused write.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from kindred import care
from kindred.observability import logger, metrics
from kindred.ports import BoardView
from kindred.protocol import (
    MAX_FRAME_BYTES,
    BoardChat,
    BoardLeftOut,
    BoardOut,
    BoardQueue,
    BoardVolunteer,
    ProtocolError,
    iso_time,
)
from kindred.records import Connection, VolunteerSlot, level_rank
from kindred.services import Services

PUSH_DELAY_SECONDS = 2
# A push claimed this long ago and never started was lost (its work item dead-lettered): the
# next change claims a new one rather than leaving the board still for good.
STALE_PUSH_MS = 30_000
# A board frame stays this far under the 32 KB frame limit; rows past it are left out (and
# counted in `leftOut`), the chats that matter most kept first.
FRAME_BUDGET_BYTES = MAX_FRAME_BYTES - 2048

if TYPE_CHECKING:  # client actions, for annotations only: kindred.protocol imports them on use
    from kindred.protocol import Board


def changed(svc: Services) -> None:
    """Something the board shows has changed: claim the next push (one conditional write);
    the one caller that wins sends the matcher a work item delayed PUSH_DELAY_SECONDS."""
    now_ms = svc.now_ms()
    if svc.board.claim_push(now_ms, now_ms - STALE_PUSH_MS):
        svc.work.nudge("board", delay_seconds=PUSH_DELAY_SECONDS)


def watch(svc: Services, conn: Connection, action: Board) -> None:
    """`board` {`subscribe`}: a supervisor starts receiving the board (and gets it at once), or
    stops."""
    if conn.role != "supervisor":
        raise ProtocolError("not_allowed", "Only a supervisor sees the board.", action="board")
    if not action.subscribe:
        svc.board.unsubscribe(conn.connection_id)
        return
    svc.board.subscribe(conn.connection_id)
    svc.notifier.send(conn.connection_id, board_frame(svc, svc.board.board_view()))
    metrics.add_metric(name="BoardSubscriptions", unit="Count", value=1)


def push(svc: Services) -> int:
    """The matcher's `board` work item: the board, read once, to every subscriber; a gone
    subscriber (410) is unsubscribed. How many it reached.

    Only a push claimed PUSH_DELAY_SECONDS ago or more starts: pushes are that far apart
    however late a work item comes. An item that finds a younger claim (an item left over
    from a claim that had gone stale) leaves it to that claim's own item, and as a safeguard
    sends one more, due when the claim is old enough."""
    now_ms = svc.now_ms()
    start = svc.board.start_push(now_ms - PUSH_DELAY_SECONDS * 1000)
    if start.pending_since_ms is not None:
        wait_ms = start.pending_since_ms + PUSH_DELAY_SECONDS * 1000 - now_ms
        svc.work.nudge("board", delay_seconds=max(1, math.ceil(wait_ms / 1000)))
        return 0
    if not start.subscribers:
        return 0
    frame = board_frame(svc, svc.board.board_view())
    reached = 0
    for connection_id in start.subscribers:
        if svc.notifier.send(connection_id, frame):
            reached += 1
        else:
            svc.board.unsubscribe(connection_id)
    metrics.add_metric(name="BoardPushes", unit="Count", value=1)
    logger.info("board pushed", extra={"subscribers": len(start.subscribers), "reached": reached})
    return reached


def _volunteer_row(svc: Services, slot: VolunteerSlot) -> BoardVolunteer:
    """A volunteer on shift as the board shows them: their chats and places, since when they are
    on shift, and why no new chat comes (a risk pause, until when, or the shift cap)."""
    status = care.status_of(svc, slot)
    return BoardVolunteer(
        name=slot.alias,
        role=slot.role,
        available=slot.available,
        activeChats=slot.active,
        capacity=slot.capacity,
        onShiftSince=status.onShiftSince,
        pausedUntil=status.pausedUntil,
        paused=status.paused,
        practice=True if slot.practice else None,
    )


def board_frame(svc: Services, view: BoardView) -> BoardOut:
    """The board as supervisors see it: counts, names and aliases, times and levels; no text."""
    now_ms = svc.now_ms()
    by_language: dict[str, int] = {}
    for entry in view.queue:
        by_language[entry.language] = by_language.get(entry.language, 0) + 1
    oldest = min((e.enqueued_at_ms for e in view.queue), default=now_ms)
    queue = BoardQueue(
        waiting=len(view.queue),
        longestWaitSeconds=max(0, (now_ms - oldest) // 1000),
        atRisk=sum(1 for e in view.queue if e.level is not None),
        byLanguage=dict(sorted(by_language.items())),
    )
    # Volunteers on shift: available, or still in chats after they stopped taking new ones.
    slots = sorted(
        (s for s in view.slots if s.available or s.active),
        key=lambda s: (s.alias.casefold(), s.connection_id),
    )
    volunteers = [_volunteer_row(svc, s) for s in slots]
    # The chats that need a supervisor most come first: the highest level, escalated and not
    # joined yet, then the longest running.
    rows = sorted(
        view.chats,
        key=lambda c: (
            -level_rank(c.level),
            not (c.escalated and not c.supervisor_alias),
            c.started_at_ms,
            c.session_id,
        ),
    )
    chats = [
        BoardChat(
            sessionId=c.session_id,
            volunteer=c.volunteer_alias,
            seeker=c.seeker_alias,
            startedAt=iso_time(c.started_at_ms / 1000),
            level=c.level,
            escalated=c.escalated,
            supervisor=c.supervisor_alias or None,
            practice=True if c.practice else None,
        )
        for c in rows
    ]
    frame = BoardOut(at=iso_time(now_ms / 1000), queue=queue, volunteers=volunteers, chats=chats)
    return _within_frame(frame)


def _within_frame(frame: BoardOut) -> BoardOut:
    """The frame, or if it is too large, its first volunteers (in at most half the room)
    and then its first chats, with how many of each were left out."""
    if len(frame.wire()) <= FRAME_BUDGET_BYTES:
        return frame
    most = BoardLeftOut(volunteers=len(frame.volunteers), chats=len(frame.chats))
    empty = frame.model_copy(update={"chats": [], "volunteers": [], "leftOut": most})
    room = FRAME_BUDGET_BYTES - len(empty.wire())
    volunteers = _fitting(frame.volunteers, room // 2)
    chats = _fitting(frame.chats, room - sum(map(_size, volunteers)))
    left_out = BoardLeftOut(
        volunteers=len(frame.volunteers) - len(volunteers), chats=len(frame.chats) - len(chats)
    )
    return frame.model_copy(update={"chats": chats, "volunteers": volunteers, "leftOut": left_out})


Row = TypeVar("Row", BoardChat, BoardVolunteer)


def _size(row: BaseModel) -> int:
    """A row's bytes in the frame, with the comma after it."""
    return len(row.model_dump_json(exclude_none=True)) + 1


def _fitting(rows: list[Row], room: int) -> list[Row]:
    """The first rows that fit in `room` bytes."""
    kept: list[Row] = []
    for row in rows:
        room -= _size(row)
        if room < 0:
            break
        kept.append(row)
    return kept
