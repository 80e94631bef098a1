"""Where waiting seekers stand: `position` frames to the head of the queue, the estimated wait.

The cost of telling stays bounded whatever the queue's length: after a change, one read of
the first `position_updates` waiting seekers, and a `position` only to those among them whose
place changed. A seeker further back heard their place in `queued` and hears again once they
are among the first `position_updates`, where every change reaches them.
"""

from __future__ import annotations

from collections.abc import Callable

from kindred.protocol import Position
from kindred.records import MatchPace, QueueEntry, is_practice_key
from kindred.services import Services

# (entry, its position now) -> its position before the change; None when unknown (not told).
Before = Callable[[QueueEntry, int], int | None]


def estimated_wait(pace: MatchPace | None, position: int, now_ms: int) -> int | None:
    return pace.estimated_wait_seconds(position, now_ms) if pace is not None else None


def tell_changed_positions(
    svc: Services,
    before: Before,
    pace: MatchPace | None = None,
    head: list[QueueEntry] | None = None,
) -> int:
    """Send `position` to each of the first waiting seekers whose place changed; how many.

    `head` is the first `position_updates` waiting seekers if the caller has just read them.
    """
    limit = svc.settings.position_updates
    if limit <= 0:
        return 0
    if head is None:
        head = svc.queue.waiting(limit)
    moved = [
        (position, entry)
        for position, entry in enumerate(head, start=1)
        if (was := before(entry, position)) is not None and was != position
    ]
    if not moved:
        return 0
    now_ms = svc.now_ms()
    pace = pace if pace is not None else svc.queue.match_pace()
    for position, entry in moved:
        # A gone socket (410) is left to $disconnect and the sweeper, as everywhere.
        svc.notifier.send(
            entry.connection_id,
            Position(
                position=position, estimatedWaitSeconds=estimated_wait(pace, position, now_ms)
            ),
        )
    return len(moved)


def after_matching(
    svc: Services, read_before: list[QueueEntry], read_limit: int, pace: MatchPace | None
) -> int:
    """The matcher started chats (or sent a seeker back to the front): the places it read
    before are compared with the places now."""
    was = {e.connection_id: p for p, e in enumerate(read_before, start=1)}
    # A seeker behind a full read was somewhere past it: their place is news to them.
    past_the_read = read_before[-1].queue_key if len(read_before) >= read_limit else None

    def before(entry: QueueEntry, position: int) -> int | None:
        if entry.connection_id in was:
            return was[entry.connection_id]
        if past_the_read is not None and entry.queue_key > past_the_read:
            return 0
        return None  # queued after the matcher's read: `queued` told them

    return tell_changed_positions(svc, before, pace)


def after_leaving(svc: Services, left_key: str) -> int:
    """A seeker left the queue: everyone who was behind them moved up one place."""
    if is_practice_key(left_key):
        return 0  # practice seekers are not told their place again (kindred.practice)
    return tell_changed_positions(svc, lambda e, p: p + 1 if e.queue_key > left_key else p)


def place_of(svc: Services, new_key: str) -> tuple[int, list[QueueEntry]]:
    """A seeker just queued: their position, and the head of the queue read to find it.

    One Query either way: the head (first `position_updates`) if they are in it, else a count
    of those ahead.
    """
    if is_practice_key(new_key):  # their own queue's count; the real queue is never read
        return svc.queue.queue_position(new_key), []
    limit = svc.settings.position_updates
    head = svc.queue.waiting(limit) if limit > 0 else []
    for position, entry in enumerate(head, start=1):
        if entry.queue_key == new_key:
            return position, head
    return svc.queue.queue_position(new_key), head


def after_joining(svc: Services, new_key: str, head: list[QueueEntry]) -> int:
    """A seeker just queued, as `head` shows: those behind them moved back one place.

    Usually nobody (a new seeker queues last), but a crisis or a transfer goes ahead of
    normal priority, and two seekers queued in the same millisecond are ordered by
    connection id.
    """
    if not any(e.queue_key > new_key for e in head):
        return 0
    return tell_changed_positions(
        svc, lambda e, p: p - 1 if e.queue_key > new_key else p, head=head
    )
