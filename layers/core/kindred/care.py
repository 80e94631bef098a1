"""Care for volunteers: a pause after a risk chat, the shift cap, and the check-ins.

- **The pause.** When a chat whose level is `high` or `imminent` ends, for whatever reason
  (kindred.chat_end.end_session and a transfer both come here), its volunteer's account takes
  no new chat for `RiskPauseMinutes`, and that volunteer's console is asked to check in. The
  pause is kept on the account's care record and on each of its slots; the match's
  conditional write refuses a paused slot (kindred.ports.Chats.create_chat), so a matcher that
  read the slot before the pause cannot hand the volunteer a chat. The volunteer's other chats
  go on. The pause ends by itself; a check-in does not shorten it (a volunteer who says `ok`
  still gets a few minutes before the next person in distress).
- **The shift cap.** A shift begins with the `availability` that puts an account on shift and
  ends when it has been off shift for `SHIFT_BREAK_MINUTES`: going off and on again sooner,
  or on a new connection, continues it. `CAP_REMINDER_MINUTES` before `ShiftCapHours` the
  volunteer is reminded; at the cap no new chat comes (the same conditional write), until a
  break. The sweeper tells both, once each.
- **Check-ins.** `checkin` {`state`: `ok` | `debrief`}: `debrief` alerts the supervisors on
  shift (`alert` kind `debrief`, with the volunteer's name). Nothing of it is stored.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from kindred.config import Settings
from kindred.observability import logger, metrics
from kindred.ports import TableView
from kindred.protocol import (
    Alert,
    CheckedIn,
    CheckinAsked,
    PauseReason,
    ProtocolError,
    Status,
    iso_time,
)
from kindred.records import CareRecord, Connection, Session, VolunteerSlot
from kindred.services import Services
from kindred.work_items import delay_until

if TYPE_CHECKING:  # client actions, for annotations only: kindred.protocol imports them on use
    from kindred.protocol import Checkin

PAUSE_LEVELS = ("high", "imminent")
# A shift ends only after this long off shift: going off and on sooner continues it, so the
# cap cannot be dodged by toggling (or by reconnecting).
SHIFT_BREAK_MINUTES = 30
# The reminder comes this long before the cap (a quarter of the cap, if that is shorter).
CAP_REMINDER_MINUTES = 15
REMINDED, CAP_REACHED = 1, 2  # what a shift was told of its cap (CareRecord.cap_told)


def care_kept_seconds(settings: Settings) -> int:
    """How long a care record is kept after its last write (each write of it renews this):
    past the shift cap (12 hours without one) and a pause, then a break, and an hour more.
    A shift near its cap is written to by the sweeper's reminder, a break by its start."""
    cap = round(settings.shift_cap_hours * 3600) or 12 * 3600
    return cap + math.ceil(settings.risk_pause_minutes * 60) + SHIFT_BREAK_MINUTES * 60 + 3600


def account_of(user_id: str, connection_id: str) -> str:
    """The key of a staff member's care record: their account (their connection, without one)."""
    return user_id or connection_id


def cap_ms(svc: Services) -> int:
    """The shift cap in milliseconds; 0 for none."""
    return round(svc.settings.shift_cap_hours * 3_600_000)


def reminder_ms(svc: Services) -> int:
    return min(CAP_REMINDER_MINUTES * 60_000, cap_ms(svc) // 4)


def shift_since_after_ms(svc: Services) -> int | None:
    """For the match's condition: a shift that began at or before this is past the cap."""
    cap = cap_ms(svc)
    return svc.now_ms() - cap if cap else None


def pause_reason(svc: Services, slot: VolunteerSlot) -> PauseReason | None:
    """Why this slot takes no new chat now, whatever its free places: past the shift cap (it
    lasts until a break), or paused after a risk chat; None if neither."""
    now_ms, cap = svc.now_ms(), cap_ms(svc)
    if cap and slot.on_shift_since_ms and now_ms - slot.on_shift_since_ms >= cap:
        return "shift_cap"
    if slot.paused_until is not None and slot.paused_until > now_ms // 1000:
        return "risk"
    return None


def takes_new_chats(svc: Services, slot: VolunteerSlot) -> bool:
    """Neither paused nor past the cap: what the match's conditional write also requires."""
    return pause_reason(svc, slot) is None


def status_of(
    svc: Services,
    slot: VolunteerSlot,
    *,
    checkin: CheckinAsked | None = None,
    reminder: bool = False,
) -> Status:
    """The volunteer's `status`, with their shift and pause as the slot has them."""
    now_s = svc.now_ms() // 1000
    on_shift = slot.available and bool(slot.on_shift_since_ms)
    cap = cap_ms(svc)
    paused = slot.paused_until if slot.paused_until and slot.paused_until > now_s else None
    return Status(
        available=slot.available,
        capacity=slot.capacity,
        activeChats=slot.active,
        onShiftSince=iso_time(slot.on_shift_since_ms / 1000) if on_shift else None,
        pausedUntil=iso_time(paused) if paused else None,
        paused=pause_reason(svc, slot) if slot.available else None,
        shiftCapAt=iso_time((slot.on_shift_since_ms + cap) / 1000) if on_shift and cap else None,
        checkin=checkin,
        reminder="shift_cap" if reminder else None,
    )


# ---- the shift ---------------------------------------------------------------------------


def on_availability(
    svc: Services, conn: Connection, *, available: bool, before: VolunteerSlot | None
) -> CareRecord | None:
    """The account's care record for an `availability`, written if it changed: on shift, a
    new shift unless the last one had a break shorter than SHIFT_BREAK_MINUTES (a pause still
    running is kept either way); off shift, the break starts (kindred.care.left_shift)."""
    account = account_of(conn.user_id, conn.connection_id)
    record = svc.pool.get_care(account)
    if not available:
        left_shift(svc, before)
        return record
    now_ms = svc.now_ms()
    off = record.off_shift_since_ms if record is not None else None
    if (
        record is None
        or not record.on_shift_since_ms
        or (off is not None and now_ms - off >= SHIFT_BREAK_MINUTES * 60_000)
    ):
        pause = record.paused_until if record is not None else None
        live_pause = pause if pause is not None and pause > now_ms // 1000 else None
        fresh = CareRecord(account, on_shift_since_ms=now_ms, paused_until=live_pause)
        metrics.add_metric(name="ShiftsStarted", unit="Count", value=1)
    else:
        fresh = replace(record, off_shift_since_ms=None)
    if fresh != record:
        svc.pool.put_care(fresh)
    return fresh


def left_shift(svc: Services, slot: VolunteerSlot | None) -> None:
    """A slot that was on shift went off (`availability` false, or its connection closed): the
    account's break starts now, unless another of its connections is still on shift."""
    if slot is None or not slot.available:
        return
    account = account_of(slot.user_id, slot.connection_id)
    others = svc.pool.account_slots(account) if slot.user_id else []
    if any(s.available for s in others if s.connection_id != slot.connection_id):
        return
    svc.pool.note_off_shift(account, svc.now_ms())


def tell_shift_caps(svc: Services, view: TableView, skip: set[str]) -> int:
    """The sweeper's part (once a minute): each volunteer on shift near the cap hears it, once
    (`status` with `reminder`), and once past it, once more (`status` `paused` `shift_cap`).
    How many were told. `skip`: connections this run has seen to already."""
    cap = cap_ms(svc)
    if not cap:
        return 0
    now_ms, told = svc.now_ms(), 0
    for slot in view.slots:
        if not slot.available or not slot.on_shift_since_ms or slot.connection_id in skip:
            continue
        elapsed = now_ms - slot.on_shift_since_ms
        stage = (
            CAP_REACHED if elapsed >= cap else REMINDED if elapsed >= cap - reminder_ms(svc) else 0
        )
        account = account_of(slot.user_id, slot.connection_id)
        if stage and svc.pool.note_cap_told(account, slot.on_shift_since_ms, stage):
            status = status_of(svc, slot, reminder=stage == REMINDED)
            svc.notifier.send(slot.connection_id, status)
            metrics.add_metric(
                name="ShiftCapsReached" if stage == CAP_REACHED else "ShiftCapReminders",
                unit="Count",
                value=1,
            )
            told += 1
    return told


# ---- the pause after a risk chat ---------------------------------------------------------


def after_chat(svc: Services, session: Session) -> None:
    """A chat has just ended (once): at `high` or `imminent` its volunteer's account takes no
    new chat for RiskPauseMinutes, each of its consoles hears `status` with `pausedUntil`, and
    the chat's own is asked to check in. The matcher is woken when the pause is over."""
    minutes = svc.settings.risk_pause_minutes
    if session.level not in PAUSE_LEVELS or minutes <= 0:
        return
    until = math.ceil(svc.clock()) + math.ceil(minutes * 60)
    slots = svc.pool.pause(account_of(session.volunteer_user_id, session.volunteer_id), until)
    metrics.add_metric(name="RiskPauses", unit="Count", value=1)
    logger.info("risk pause", extra={"session": session.session_id, "risk_level": session.level})
    for slot in sorted(slots, key=lambda s: s.connection_id != session.volunteer_id):
        asked: CheckinAsked | None = (
            "after_risk" if slot.connection_id == session.volunteer_id else None
        )
        svc.notifier.send(slot.connection_id, status_of(svc, slot, checkin=asked))
    if slots:
        # A seeker may be waiting for exactly this volunteer: nothing else would wake the
        # matcher when the pause is over (a pause past SQS's longest delay is the sweeper's;
        # a slot that comes on shift during the pause asks for its own, kindred.matching).
        svc.work.nudge("pause_over", delay_seconds=delay_until(until, svc.clock()))


# ---- check-ins -----------------------------------------------------------------------------


def checkin(svc: Services, conn: Connection, action: Checkin) -> None:
    """`ok`: thanks, nothing else. `debrief`: the supervisors on shift (but the sender) get
    `alert` kind `debrief` with the volunteer's name; the answer says how many."""
    if not conn.is_staff:
        raise ProtocolError(
            "not_allowed", "Only a volunteer or supervisor checks in.", action="checkin"
        )
    if action.state == "ok":
        metrics.add_metric(name="CheckinsOk", unit="Count", value=1)
        svc.notifier.send(conn.connection_id, CheckedIn(state="ok"))
        return
    alert = Alert(
        kind="debrief", sessionId="", at=iso_time(svc.clock()), volunteer=conn.alias or None
    )
    told = sum(
        svc.notifier.send(supervisor, alert)
        for supervisor in svc.pool.on_shift_supervisors()
        if supervisor != conn.connection_id
    )
    metrics.add_metric(name="DebriefsAsked", unit="Count", value=1)
    logger.info("debrief asked", extra={"supervisors_told": told})
    svc.notifier.send(conn.connection_id, CheckedIn(state="debrief", supervisorsTold=told))
