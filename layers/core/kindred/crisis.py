"""What a crisis signal sets off: crisis lines for the seeker, alerts for those who can help.

A chat has a risk level (concern, high, imminent; None when no risk is noted). Supervisors on
shift and the chat's volunteer hear of a chat's level each time it rises, and only then: a
signal at or below the level already known alerts nobody again. The seeker gets crisis lines
at the first signal of each chat (or the first rise the volunteer sets), at most once per chat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kindred import board
from kindred.observability import logger, metrics
from kindred.practice import counted
from kindred.protocol import (
    Alert,
    AlertKind,
    Level,
    ResourceItem,
    ResourcesOut,
    ResourcesReason,
    iso_time,
)
from kindred.records import Connection, LevelChange, Session
from kindred.services import Services

if TYPE_CHECKING:
    from kindred.safety import Assessment


# The detector (kindred.safety: its rules, its net, their regular expressions) is imported by
# the first text read or crisis lines sent, not in every cold start (issue 14): the functions
# that never read a seeker's words import this module only to alert.
def assess(text: str | None) -> Assessment:
    """kindred.safety.assess: the detector's reading of a text."""
    from kindred.safety import assess as detect

    return detect(text)


def crisis_lines(country: str | None) -> list[ResourceItem]:
    """kindred.safety.crisis_lines: the crisis lines of a country."""
    from kindred.safety import crisis_lines as lines

    return lines(country)


def level_of(text: str | None) -> Level | None:
    """The risk level the detector reads in what a seeker wrote; None when it reads none."""
    found = assess(text)
    return found.level if found.risk else None


def _count_level(level: Level) -> None:
    """A seeker queued at a level, or a chat's level rose to it: the operator's counts."""
    metrics.add_metric(name="RiskRises", unit="Count", value=1)
    if level == "imminent":
        metrics.add_metric(name="ImminentRisks", unit="Count", value=1)


def _alert_supervisors(svc: Services, alert: Alert, skip: str | None = None) -> None:
    for supervisor in svc.pool.on_shift_supervisors():
        if supervisor != skip:
            svc.notifier.send(supervisor, alert)


def chat_alert(svc: Services, kind: AlertKind, session: Session) -> Alert:
    """An alert about a chat, naming who is in it and since when (never what was said)."""
    return Alert(
        kind=kind,
        sessionId=session.session_id,
        at=iso_time(svc.clock()),
        level=session.level if kind == "risk" else None,
        volunteer=session.volunteer_alias or None,
        seeker=session.seeker_alias or None,
        startedAt=iso_time(session.started_at_ms / 1000) if session.started_at_ms else None,
        practice=True if session.practice else None,
    )


def send_crisis_lines(svc: Services, seeker_id: str, reason: ResourcesReason) -> None:
    """The crisis lines of the deployment's country (the page may show another's: it has the
    whole directory and never tells the server where the seeker is)."""
    svc.notifier.send(
        seeker_id,
        ResourcesOut(items=crisis_lines(svc.settings.default_country), reason=reason),
    )


def on_waiting_seeker_at_risk(
    svc: Services, seeker: Connection, level: Level, *, alert_supervisors: bool = True
) -> None:
    """A waiting seeker at risk sees crisis lines at once, every time; supervisors hear of it
    (if `alert_supervisors`: once per level rise of this seeker), with the level and the
    seeker's alias (there is no chat yet: `sessionId` is "")."""
    metrics.add_metric(name="CrisisSignals", unit="Count", value=1)
    logger.info(
        "crisis signal while waiting", extra={"risk_level": level, "alerted": alert_supervisors}
    )
    send_crisis_lines(svc, seeker.connection_id, "crisis")
    if not alert_supervisors:
        return
    _count_level(level)
    alert = Alert(
        kind="risk", sessionId="", at=iso_time(svc.clock()), level=level, seeker=seeker.alias
    )
    _alert_supervisors(svc, alert)


def on_chat_signal(svc: Services, session_id: str, level: Level) -> None:
    """The detector read a risk in a seeker's message: crisis lines for the seeker (once per
    chat), and if the chat's level rises (one conditional write), alerts to the volunteer and
    the supervisors on shift."""
    change = svc.chats.raise_level(session_id, level)
    if change is None:
        return  # the chat ended meanwhile; the message was delivered all the same
    metrics.add_metric(name="CrisisSignals", unit="Count", value=1)
    logger.info(
        "crisis signal in chat",
        extra={"session": session_id, "risk_level": level, "rose": change.rose},
    )
    _crisis_lines_once(svc, change.session)
    if change.rose:
        _alert_rise(svc, change.session, alert_volunteer=True)
        board.changed(svc)


def on_assessed(svc: Services, change: LevelChange) -> None:
    """The volunteer set the chat's level: a rise has the effects of a detected signal (crisis
    lines if the seeker has not had them in this chat, alerts to the supervisors on shift);
    the volunteer, whose judgement it was, has their `assessed`. A lower level or the same
    one tells nobody else."""
    if change.rose:
        _crisis_lines_once(svc, change.session)
        _alert_rise(svc, change.session, alert_volunteer=False)


def _crisis_lines_once(svc: Services, session: Session) -> None:
    if not session.crisis_notified and svc.chats.mark_crisis_notified(session.session_id):
        send_crisis_lines(svc, session.seeker_id, "crisis")


def _alert_rise(svc: Services, session: Session, *, alert_volunteer: bool) -> None:
    """A chat's level rose: a `risk` alert at the new level to the supervisors on shift and,
    if asked, the chat's volunteer (a supervisor who is the chat's volunteer hears it once)."""
    if session.level is not None:
        _count_level(session.level)
    alert = chat_alert(svc, "risk", session)
    if alert_volunteer:
        svc.notifier.send(session.volunteer_id, alert)
    if counted(session):  # a practice chat's trainee hears it as in a real one; nobody else
        _alert_supervisors(svc, alert, skip=session.volunteer_id)


def alert_report(svc: Services, session: Session) -> None:
    if not counted(session):
        return
    _alert_supervisors(svc, chat_alert(svc, "report", session))
