"""Safety at the edges: what a seeker hears when closed, when nobody is on shift, or after long.

A seeker is never left waiting in silence or on a guess: while the service is closed `match`
is refused with the next opening and the crisis lines; with nobody on shift they wait without
an estimated wait and with the crisis lines; when the first volunteer who could take them (one
who speaks their language) comes on shift, or the last one leaves, they hear it; after
MaxWaitMinutes they hear it once, with the crisis lines, and keep their place (the sweeper
looks once a minute).

The crisis lines' module (and the detector it sits beside) is imported only when lines are
sent: the connect, disconnect and sweeper functions import this module, and most of their
runs send none.
"""

from __future__ import annotations

from datetime import UTC, datetime

from kindred.observability import metrics
from kindred.protocol import Position, ProtocolError, ResourcesReason, iso_time
from kindred.records import QueueEntry, VolunteerSlot
from kindred.services import Services

# When the count of volunteers on shift goes from none to some or back, at most this many
# waiting seekers (from the front) hear it: shift changes are rare, and a seeker further back
# hears their place when the queue moves.
SHIFT_NEWS_LIMIT = 100


def refuse_if_closed(svc: Services) -> None:
    """ProtocolError `closed` (with the next opening) and the crisis lines, while closed."""
    schedule = svc.settings.schedule
    if schedule is None:
        return
    now = datetime.fromtimestamp(svc.clock(), UTC)
    if schedule.is_open(now):
        return
    from kindred.hours import closed_message  # a deployment with hours has imported it

    opens = schedule.next_opening(now)
    metrics.add_metric(name="MatchWhileClosed", unit="Count", value=1)
    raise ProtocolError(
        "closed",
        closed_message(opens, schedule),
        action="match",
        opens_at=iso_time(opens.timestamp()) if opens else None,
    )


def can_take(slot: VolunteerSlot, entry: QueueEntry) -> bool:
    """Whether this volunteer on shift could ever take this seeker, whatever their topics and
    free slots: they speak the seeker's language, the seeker is not kept from them (a block,
    or the transfer that handed the seeker on), and both are in practice or neither is."""
    return (
        entry.language in slot.languages
        and slot.user_id not in entry.blocked_users
        and slot.practice == entry.practice
    )


def able_to_take(on_shift: list[VolunteerSlot], entry: QueueEntry) -> int:
    """How many of these volunteers on shift could take this seeker (`volunteersOnShift`)."""
    return sum(1 for slot in on_shift if can_take(slot, entry))


def after_shift_change(svc: Services, changed: list[VolunteerSlot], *, available: bool) -> None:
    """Staff came on shift (`available`) or left it (`changed`, their slots): the waiting
    seekers whom one of them could take, and for whom they were the first on shift who could,
    or the last, hear it (one Query of the pool; the queue is read only if someone's count
    may have gone from none to some or back)."""
    on_shift = svc.pool.slots_on_shift()
    speakers = {
        lang: sum(lang in s.languages for s in on_shift) for c in changed for lang in c.languages
    }
    if not any(n == (1 if available else 0) for n in speakers.values()):
        return
    for position, entry in enumerate(svc.queue.waiting(SHIFT_NEWS_LIMIT), start=1):
        if entry.away or not any(can_take(c, entry) for c in changed):
            continue
        count = able_to_take(on_shift, entry)
        if count != (1 if available else 0):
            continue  # others on shift could take them before and after: no news
        svc.notifier.send(entry.connection_id, Position(position=position, volunteersOnShift=count))
        if count == 0:
            _send_lines(svc, entry.connection_id, "unavailable")


def tell_long_waits(svc: Services, waiting: list[QueueEntry]) -> int:
    """Seekers (of the sweeper's view, still waiting) who have waited MaxWaitMinutes hear it
    once, with the crisis lines, and keep their place; the longest wait is recorded for the
    long-wait alarm. How many were told."""
    now_ms = svc.now_ms()
    if waiting:
        oldest = max(now_ms - e.enqueued_at_ms for e in waiting) / 1000
        metrics.add_metric(name="OldestWaitSeconds", unit="Seconds", value=max(0.0, oldest))
    limit_ms = svc.settings.max_wait_minutes * 60_000
    told = 0
    for entry in waiting:
        if entry.long_wait or entry.away or now_ms - entry.enqueued_at_ms < limit_ms:
            continue
        if not svc.queue.mark_long_wait(entry.queue_key):
            continue  # told already by a concurrent run, or the entry is gone
        # The place now, not in the run's view: the repairs before may have removed seekers
        # ahead (one Query, once in a seeker's wait).
        place = svc.queue.queue_position(entry.queue_key)
        svc.notifier.send(entry.connection_id, Position(position=place, longWait=True))
        _send_lines(svc, entry.connection_id, "long_wait")
        told += 1
    if told:
        metrics.add_metric(name="LongWaits", unit="Count", value=told)
    return told


def _send_lines(svc: Services, seeker_id: str, reason: ResourcesReason) -> None:
    from kindred.crisis import send_crisis_lines

    send_crisis_lines(svc, seeker_id, reason)
