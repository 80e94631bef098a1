"""Matching: seekers join the fair queue, volunteers offer slots, the matcher pairs them."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import TYPE_CHECKING

from kindred import board, care, edges, positions, practice, return_keys, seeker_checkin
from kindred.chat_end import end_session
from kindred.crisis import level_of, on_waiting_seeker_at_risk, send_crisis_lines
from kindred.observability import logger, metrics, unmetered
from kindred.ports import Conflict, Undelivered
from kindred.protocol import Ended, Matched, Peer, ProtocolError, Queued
from kindred.records import (
    PRIORITY_URGENT,
    Connection,
    Offer,
    Pairing,
    QueueEntry,
    Session,
    VolunteerSlot,
    is_urgent,
    level_rank,
    priority_for,
    queue_key,
)
from kindred.resume_tickets import new_ticket
from kindred.services import Services
from kindred.work_items import delay_until

if TYPE_CHECKING:  # client actions, for annotations only: kindred.protocol imports them on use
    from kindred.protocol import Availability, Match

ROUND_SEEKERS = 100  # how many waiting seekers one matching pass looks at
ROUND_PASSES = 5  # passes per run: a pass that lost a race re-reads and tries again
# A match undone because the gateway would not post `matched` now: the matcher looks again then.
UNDELIVERED_RETRY_SECONDS = 30
BLOCK_CHECKS = 3  # plans per pass checked against the blocks before only checked pairs go
# A seeker whose intro reads a risk joins ahead of normal priority: at most this many more
# times (after the first) in this window, per connection (issue 11, docs/protocol.md).
URGENT_REQUEUES = 3
URGENT_REQUEUE_WINDOW_SECONDS = 600

# How well a volunteer's topics fit a seeker's (lower is better; see topic_fit).
SHARES_A_TOPIC = 0
TAKES_ANY_TOPIC = 1
OTHER_TOPICS = 2


def request_match(svc: Services, conn: Connection, action: Match) -> None:
    """A seeker asks for a volunteer: `queued` first, always; the matcher sends `matched`."""
    if conn.role != "seeker":
        raise ProtocolError(
            "not_allowed", "Only a help-seeker can ask for a match.", action="match"
        )
    if conn.state == "waiting":
        raise ProtocolError("already_waiting", "You are already in the queue.", action="match")
    if conn.state == "chatting":
        raise ProtocolError("already_in_chat", "You are already in a chat.", action="match")
    try:
        if not conn.practice:  # practice needs no opening hours (kindred.practice)
            edges.refuse_if_closed(svc)
    except ProtocolError:
        send_crisis_lines(svc, conn.connection_id, "closed")
        raise

    # A check-in's `yes` is a `high` signal, exactly as one read in the intro (the higher wins).
    level = seeker_checkin.higher(
        level_of(action.intro), seeker_checkin.level_of_checkin(action.checkin)
    )
    now_ms = svc.now_ms()
    priority = priority_for(level)  # imminent, then high, then concern ahead of normal
    urgent_log = _urgent_log(svc, conn, now_ms) if level is not None else ()
    language = action.language or conn.language
    # A return key (issue 13): the volunteer asked for, if on shift; only read here.
    asked = return_keys.on_match(svc, conn, action, language)
    entry = QueueEntry(
        connection_id=conn.connection_id,
        queue_key=queue_key(priority, now_ms, conn.connection_id, practice=conn.practice),
        priority=priority,
        enqueued_at_ms=now_ms,
        language=language,
        topics=tuple(dict.fromkeys(action.topics)),
        seeker_key=conn.seeker_key,
        seeker_alias=conn.alias,
        level=level,
        sealed_intro=svc.sealer.seal(action.intro) if action.intro else None,
        blocked_users=conn.blocked_users,
        return_hash=asked.return_hash,
        preferred_user=asked.preferred_user,
    )
    token, ticket = new_ticket(svc)
    try:
        svc.queue.enqueue(entry, ticket, conn.resume_hash)
    except Conflict:
        raise ProtocolError(
            "already_waiting", "You are already in the queue or in a chat.", action="match"
        ) from None
    return_keys.after_queued(svc, conn, asked)
    # `queued` goes out before the matcher is woken, so it always arrives before `matched`.
    _, head = tell_queued(
        svc, conn.connection_id, entry, token, same_volunteer=asked.same_volunteer
    )
    metrics.add_metric(name="SeekersQueued", unit="Count", value=1)
    if level is not None:
        # Supervisors hear of a waiting seeker once per level rise, however often they queue;
        # never of a practice seeker (who is a supervisor).
        rose = level_rank(level) > level_rank(conn.alerted_level)
        svc.connections.note_urgent_queueing(
            conn.connection_id, urgent_log, level if rose else None
        )
        on_waiting_seeker_at_risk(svc, conn, level, alert_supervisors=rose and not conn.practice)
    positions.after_joining(svc, entry.queue_key, head)
    svc.work.nudge("seeker_waiting")
    board.changed(svc)
    # Counted once the seeker is in the queue: a refused `match` counts nothing; practice never.
    if not conn.practice:
        seeker_checkin.count(svc, seeker_checkin.before_tally(action.checkin))
    waits = waits_for_a_topic(entry) or return_keys.waits_for_the_same(entry)
    if waits and svc.settings.topic_fallback_seconds > 0:
        # If no volunteer with their topic (or the one they asked for) comes, nothing else
        # may happen to wake the matcher when the wait is over: this work item does (SQS
        # delays are never early).
        svc.work.nudge("topic_fallback", delay_seconds=svc.settings.topic_fallback_seconds)


def _urgent_log(svc: Services, conn: Connection, now_ms: int) -> tuple[int, ...]:
    """When this seeker joined the queue ahead of normal priority, this time included (newest
    first); past URGENT_REQUEUES re-queues in URGENT_REQUEUE_WINDOW_SECONDS, `rate_limited`
    after the crisis lines: a `match`/`end` loop cannot keep jumping the queue, and a seeker
    at risk is never left without the lines."""
    window_start = now_ms - URGENT_REQUEUE_WINDOW_SECONDS * 1000
    recent = tuple(t for t in conn.urgent_queued_ms if t > window_start)
    if len(recent) > URGENT_REQUEUES:
        send_crisis_lines(svc, conn.connection_id, "crisis")
        metrics.add_metric(name="UrgentRequeuesRefused", unit="Count", value=1)
        raise ProtocolError(
            "rate_limited",
            "You have joined the queue many times in a few minutes: please wait a few minutes"
            " before you ask again. If you are in danger now, call one of the lines shown.",
            action="match",
        )
    return (now_ms, *recent)[: URGENT_REQUEUES + 1]


def tell_queued(
    svc: Services,
    seeker_id: str,
    entry: QueueEntry,
    token: str,
    *,
    reason: str | None = None,
    same_volunteer: bool | None = None,
) -> tuple[bool, list[QueueEntry]]:
    """A seeker has just joined the queue (`match`, or a volunteer's `transfer`): `queued` with
    their place, their new resume token, the count of volunteers on shift and, only when
    someone is on shift, the estimated wait; with nobody on shift, the crisis lines at once.

    Whether `queued` reached them, and the head of the queue read to place them (for
    positions.after_joining, which the caller runs once it has said all it has to say).
    """
    position, head = positions.place_of(svc, entry.queue_key)
    # Those on shift who could take them (their language, not a volunteer they are kept from:
    # after a transfer, the one who handed them on); a practice seeker's are the trainees on
    # shift, and the pace of real matches is not theirs.
    on_shift = edges.able_to_take(svc.pool.slots_on_shift(practice=entry.practice), entry)
    # With nobody on shift there is no wait to estimate: none is guessed.
    wait = (
        positions.estimated_wait(svc.queue.match_pace(), position, svc.now_ms())
        if on_shift and not entry.practice
        else None
    )
    delivered = svc.notifier.send(
        seeker_id,
        Queued(
            position=position,
            resumeToken=token,
            estimatedWaitSeconds=wait,
            reason=reason,
            volunteersOnShift=on_shift,
            sameVolunteer=same_volunteer,
        ),
    )
    if delivered and not on_shift:
        metrics.add_metric(name="QueuedWithNobodyOnShift", unit="Count", value=1)
        send_crisis_lines(svc, seeker_id, "unavailable")
    return delivered, head


def set_availability(svc: Services, conn: Connection, action: Availability) -> None:
    """A volunteer or supervisor opens or closes their slots; chats in progress go on."""
    if not conn.is_staff:
        raise ProtocolError(
            "not_allowed",
            "Only volunteers and supervisors set availability.",
            action="availability",
        )
    before = svc.pool.get_slot(conn.connection_id)
    # The shift this availability starts or continues, and a pause still running (kindred.care).
    shift = care.on_availability(svc, conn, available=action.available, before=before)
    offer = Offer(
        available=action.available,
        capacity=action.capacity,
        languages=tuple(dict.fromkeys(action.languages or [conn.language])),
        topics=tuple(dict.fromkeys(action.topics or [])),
    )
    slot = svc.pool.set_availability(conn, offer, care=shift)
    was_available = before is not None and before.available
    if slot.available != was_available and not slot.practice:  # a trainee is no news to seekers
        edges.after_shift_change(svc, [slot], available=slot.available)
    # `status` last: when the volunteer hears it, the waiting seekers have heard the news.
    # Going off shift, the console asks how they are.
    ending = was_available and not slot.available
    svc.notifier.send(
        conn.connection_id, care.status_of(svc, slot, checkin="end_of_shift" if ending else None)
    )
    if slot.free_slots:
        paused = care.pause_reason(svc, slot)
        if paused is None:
            svc.work.nudge("volunteer_available")
        elif paused == "risk" and slot.paused_until is not None:
            # Nothing else may wake the matcher when the pause is over (a pause past SQS's
            # longest delay is the sweeper's); past the cap, only a new shift does.
            svc.work.nudge("pause_over", delay_seconds=delay_until(slot.paused_until, svc.clock()))
    board.changed(svc)


# ---- the matcher -----------------------------------------------------------------------------


def waits_for_a_topic(entry: QueueEntry) -> bool:
    """Whether this seeker waits at first for a volunteer who knows one of their topics.

    Not a seeker without topics, and not one ahead of normal priority (a risk level, a
    transfer, a match undone by a gone volunteer): they take the best volunteer free now.
    """
    return bool(entry.topics) and not is_urgent(entry.priority)


def topic_wait_over(entry: QueueEntry, *, now_ms: int, topic_wait_ms: int) -> bool:
    """Whether any volunteer who speaks the seeker's language will do by now."""
    return not waits_for_a_topic(entry) or now_ms - entry.enqueued_at_ms >= topic_wait_ms


def topic_fit(entry: QueueEntry, slot: VolunteerSlot) -> int:
    """SHARES_A_TOPIC, TAKES_ANY_TOPIC (a volunteer who lists none) or OTHER_TOPICS.

    For a seeker without topics every volunteer fits alike.
    """
    if not entry.topics:
        return SHARES_A_TOPIC
    if set(entry.topics) & set(slot.topics):
        return SHARES_A_TOPIC
    return TAKES_ANY_TOPIC if not slot.topics else OTHER_TOPICS


def _fits(entry: QueueEntry, slot: VolunteerSlot, any_topic: bool) -> bool:
    return (
        slot.free_slots > 0
        and practice.pairs_with(entry, slot)
        and entry.language in slot.languages
        and slot.user_id not in entry.blocked_users
        and (any_topic or topic_fit(entry, slot) != OTHER_TOPICS)
    )


def choose_volunteer(
    entry: QueueEntry, slots: list[VolunteerSlot], *, now_ms: int, topic_wait_ms: int
) -> VolunteerSlot | None:
    """The best volunteer for this seeker now, or None.

    Language must fit, and a blocked volunteer never fits. A seeker who asked for the
    volunteer their return key leads to (issue 13) waits for that account alone, whatever
    the topics, until `topic_wait_ms` after they queued. Until the seeker's topic wait is
    over (as long), only a volunteer who lists one of their topics or lists none fits. The
    best is the one asked for, then one who shares a topic, then one who takes any, then
    (after the wait) any other; among those, fewest active chats, then longest idle.
    """
    waited = now_ms - entry.enqueued_at_ms >= topic_wait_ms
    if return_keys.waits_for_the_same(entry) and not waited:
        candidates = [
            s for s in slots if s.user_id == entry.preferred_user and _fits(entry, s, True)
        ]
    else:
        any_topic = topic_wait_over(entry, now_ms=now_ms, topic_wait_ms=topic_wait_ms)
        candidates = [s for s in slots if _fits(entry, s, any_topic)]
    if not candidates:
        return None
    preferred = entry.preferred_user
    return min(
        candidates,
        key=lambda s: (
            preferred is not None and s.user_id != preferred,
            topic_fit(entry, s),
            s.active,
            s.idle_since_ms,
            s.connection_id,
        ),
    )


def plan_pairs(
    waiting: list[QueueEntry], slots: list[VolunteerSlot], *, now_ms: int, topic_wait_ms: int
) -> list[tuple[QueueEntry, VolunteerSlot]]:
    """Pair seekers in queue order (priority, then waiting time) with the volunteers' free slots."""
    free = {s.connection_id: s for s in slots if s.free_slots > 0}
    pairs: list[tuple[QueueEntry, VolunteerSlot]] = []
    for entry in waiting:
        if entry.away:
            continue  # their socket dropped: they keep their place, but nobody is there to match
        slot = choose_volunteer(
            entry, list(free.values()), now_ms=now_ms, topic_wait_ms=topic_wait_ms
        )
        if slot is None:
            continue
        pairs.append((entry, slot))
        free[slot.connection_id] = replace(slot, active=slot.active + 1)
    return pairs


Pair = tuple[str, str]  # (volunteer user id, seeker key): what a block is about


def _pair(entry: QueueEntry, slot: VolunteerSlot) -> Pair:
    return (slot.user_id, entry.seeker_key)


def plan_unblocked_pairs(
    svc: Services,
    waiting: list[QueueEntry],
    slots: list[VolunteerSlot],
    checked: dict[Pair, bool],
) -> list[tuple[QueueEntry, VolunteerSlot]]:
    """plan_pairs, without the pairs a block keeps apart.

    A block is an item of its own (it outlives the seeker's connection item), so the planned
    pairs are checked in one read of the store; a blocked pair is planned around, and the
    new plan checked again. Blocks are rare: one read per pass, as a rule. `checked` keeps
    what this run already knows (pair -> blocked).
    """
    now_ms = svc.now_ms()
    topic_wait_ms = svc.settings.topic_fallback_seconds * 1000
    pairs: list[tuple[QueueEntry, VolunteerSlot]] = []
    for _ in range(BLOCK_CHECKS):
        blocked_by_key: dict[str, set[str]] = {}
        for (user, key), is_blocked in checked.items():
            if is_blocked:
                blocked_by_key.setdefault(key, set()).add(user)
        entries = [
            replace(e, blocked_users=e.blocked_users | blocked_by_key[e.seeker_key])
            if e.seeker_key in blocked_by_key
            else e
            for e in waiting
        ]
        pairs = plan_pairs(entries, slots, now_ms=now_ms, topic_wait_ms=topic_wait_ms)
        unchecked = {_pair(e, s) for e, s in pairs} - checked.keys()
        for user, key in unchecked:
            if not (user and key):
                checked[(user, key)] = False  # no block can name it
        unchecked = {(user, key) for user, key in unchecked if user and key}
        if not unchecked:
            return pairs
        blocked = svc.safeguards.blocked_pairs(unchecked)
        checked.update((pair, pair in blocked) for pair in unchecked)
        if not blocked:
            return pairs
    # Still finding blocks after BLOCK_CHECKS plans: go with the pairs known to be free of
    # one; the others wait for the next pass.
    return [(e, s) for e, s in pairs if checked.get(_pair(e, s)) is False]


def run_matcher(svc: Services) -> int:
    """Match every waiting seeker that a free volunteer fits; returns how many chats started.

    Safe to run concurrently and repeatedly: each match is one conditional transaction, and a
    pass that loses a race reads the queue again. Afterwards the first waiting seekers whose
    place changed hear `position`.
    """
    started = attempted = 0
    first_read: list[QueueEntry] | None = None
    checked: dict[Pair, bool] = {}
    slots: list[VolunteerSlot] = []
    unreachable: set[str] = set()  # connections the gateway would not post to in this run
    for _ in range(ROUND_PASSES):
        waiting = svc.queue.waiting(ROUND_SEEKERS)
        if first_read is None:
            first_read = waiting
        # A paused volunteer, or one past the shift cap, is not planned for (and the match's
        # conditional write refuses them should they be paused meanwhile).
        slots = [
            s
            for s in svc.pool.available_volunteers()
            if care.takes_new_chats(svc, s) and s.connection_id not in unreachable
        ]
        reachable = [e for e in waiting if e.connection_id not in unreachable]
        pairs = plan_unblocked_pairs(svc, reachable, slots, checked)
        if not pairs:
            break
        attempted += len(pairs)
        lost = 0
        for entry, slot in pairs:
            if start_chat(svc, entry, slot, unreachable):
                started += 1
            else:
                lost += 1
        if lost == 0 and len(pairs) < ROUND_SEEKERS:
            break
    pace = svc.queue.record_matches(started, svc.now_ms()) if started else None
    if first_read is not None:
        # How many were waiting when the matcher looked (at most one page of the queue): the
        # operator's view of the queue, and what the long-wait alarm cannot see on its own.
        metrics.add_metric(
            name="SeekersWaiting", unit="Count", value=max(0, len(first_read) - started)
        )
    if first_read and attempted:
        # Only an attempted match moves anyone (a match undone by a gone volunteer sends its
        # seeker to the front); a pass that found no pair costs no more than before.
        positions.after_matching(svc, first_read, ROUND_SEEKERS, pace)
    if attempted:
        board.changed(svc)
    if any(s.practice for s in slots):
        with unmetered():
            run_practice_matcher(svc)
    return started


def run_practice_matcher(svc: Services) -> int:
    """Match waiting practice seekers with trainees' free slots (kindred.practice): as the
    real matcher does, but on the practice queue, with no pace, positions or blocks."""
    started = 0
    topic_wait_ms = svc.settings.topic_fallback_seconds * 1000
    for _ in range(ROUND_PASSES):
        waiting = svc.queue.waiting(ROUND_SEEKERS, practice=True)
        slots = [
            s
            for s in svc.pool.available_volunteers()
            if s.practice and care.takes_new_chats(svc, s)
        ]
        pairs = plan_pairs(waiting, slots, now_ms=svc.now_ms(), topic_wait_ms=topic_wait_ms)
        won = sum(1 for entry, slot in pairs if start_chat(svc, entry, slot))
        started += won
        if won == len(pairs) and len(pairs) < ROUND_SEEKERS:
            break
    if started:
        board.changed(svc)
    return started


def start_chat(
    svc: Services, entry: QueueEntry, slot: VolunteerSlot, unreachable: set[str] | None = None
) -> bool:
    """Commit one match and tell both sides; False if the match lost a race or one side was
    gone or unreachable when told (then the chat never started, and is not counted; the side
    the gateway would not post to is added to `unreachable`)."""
    session = Session(
        session_id=secrets.token_urlsafe(12),
        seeker_id=entry.connection_id,
        volunteer_id=slot.connection_id,
        seeker_key=entry.seeker_key,
        volunteer_user_id=slot.user_id,
        volunteer_alias=slot.alias,
        seeker_alias=entry.seeker_alias,
        topics=entry.topics,
        started_at_ms=svc.now_ms(),
        language=entry.language,
        level=entry.level,
        practice=entry.practice,
    )
    try:
        svc.chats.create_chat(Pairing(entry, slot, session, care.shift_since_after_ms(svc)))
    except Conflict:
        return False
    with unmetered(session.practice):
        if not _announce(svc, entry, session, slot, set() if unreachable is None else unreachable):
            return False
        waited = max(0, session.started_at_ms - entry.enqueued_at_ms) / 1000
        metrics.add_metric(name="ChatsStarted", unit="Count", value=1)
        metrics.add_metric(name="WaitSeconds", unit="Seconds", value=waited)
    if not session.practice:
        return_keys.after_chat_started(svc, entry, slot)
    logger.info(
        "matched",
        extra={
            "session": session.session_id,
            "waited_s": round(waited, 1),
            "practice": session.practice,
        },
    )
    return True


def _unseal(svc: Services, sealed: str | None) -> str | None:
    if not sealed:
        return None
    try:
        return svc.sealer.unseal(sealed)
    except Exception:  # a rotated secret must not cost the seeker their chat
        logger.warning("could not unseal a queued text")
        return None


def _front(entry: QueueEntry) -> QueueEntry:
    """The entry again, at the front of the queue (a seeker at risk keeps their level's place,
    which is further ahead still)."""
    priority = min(entry.priority, PRIORITY_URGENT)
    key = queue_key(priority, entry.enqueued_at_ms, entry.connection_id, practice=entry.practice)
    return replace(entry, priority=priority, queue_key=key)


def _announce(
    svc: Services, entry: QueueEntry, session: Session, slot: VolunteerSlot, unreachable: set[str]
) -> bool:
    """Tell both sides of a committed match; False if one was gone or could not be told now,
    and the chat was undone. (`slot`: the volunteer's, as the matcher read it: on shift.)"""
    to_volunteer = Matched(
        sessionId=session.session_id,
        peer=Peer(alias=session.seeker_alias, role="seeker"),
        topics=list(session.topics),
        intro=_unseal(svc, entry.sealed_intro),
        note=_unseal(svc, entry.sealed_note),
        risk=entry.level,
    )
    try:
        told = svc.notifier.send(session.volunteer_id, to_volunteer)
    except Undelivered:
        # The gateway would not post to the volunteer now (throttled, their buffer full): the
        # seeker, who never saw this chat, goes back to the front; the volunteer keeps their
        # slot, is not tried again in this run, and the matcher looks again in a while.
        unreachable.add(session.volunteer_id)
        _undo_unannounced(svc, session, entry, tell=None)
        return False
    if not told:
        # The volunteer vanished at the moment of the match: the seeker never saw this chat,
        # so they go back to the front of the queue instead of hearing `ended`.
        if svc.chats.end_chat(session, requeue=_front(entry)):
            svc.pool.remove_slot(session.volunteer_id)
            care.left_shift(svc, slot)
            edges.after_shift_change(svc, [slot], available=False)
            svc.work.nudge("volunteer_gone")
        return False
    to_seeker = Matched(
        sessionId=session.session_id,
        peer=Peer(alias=session.volunteer_alias, role="volunteer"),
        topics=list(session.topics),
    )
    try:
        told = svc.notifier.send(session.seeker_id, to_seeker)
    except Undelivered:
        # Not told now, though there: back to the front of the queue, which their page still
        # shows, not tried again in this run; the volunteer, told already, hears it ended.
        unreachable.add(session.seeker_id)
        _undo_unannounced(svc, session, entry, tell=session.volunteer_id)
        return False
    if not told:
        end_session(
            svc, session, by=session.seeker_id, reason_for_ender=None, reason_for_other="peer_left"
        )
        return False
    return True


def _undo_unannounced(
    svc: Services, session: Session, entry: QueueEntry, *, tell: str | None
) -> None:
    """A match one side could not be told of now: the chat is undone, the seeker goes back to
    the front of the queue, `tell` (the side told already) hears `ended` peer_left, and the
    matcher looks again in UNDELIVERED_RETRY_SECONDS."""
    metrics.add_metric(name="MatchUndelivered", unit="Count", value=1)
    logger.warning("match not announced", extra={"session": session.session_id})
    if not svc.chats.end_chat(session, requeue=_front(entry)):
        return
    if tell is not None:
        svc.notifier.send(tell, Ended(sessionId=session.session_id, reason="peer_left"))
    svc.work.nudge("volunteer_gone", UNDELIVERED_RETRY_SECONDS)
