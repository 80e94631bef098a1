"""What a crisis signal sets off: crisis lines for the seeker, alerts for those who can help."""

from __future__ import annotations

from kindred.observability import logger, metrics
from kindred.protocol import Alert, ResourcesOut
from kindred.records import Connection, Session
from kindred.safety import crisis_lines
from kindred.services import Services


def _alert_supervisors(svc: Services, alert: Alert, skip: str | None = None) -> None:
    for supervisor in svc.store.on_shift_supervisors():
        if supervisor != skip:
            svc.notifier.send(supervisor, alert)


def on_waiting_seeker_at_risk(svc: Services, seeker: Connection) -> None:
    """A waiting seeker at risk sees crisis lines at once; supervisors hear of it."""
    metrics.add_metric(name="CrisisSignals", unit="Count", value=1)
    logger.info("crisis signal while waiting")
    svc.notifier.send(
        seeker.connection_id,
        ResourcesOut(items=crisis_lines(svc.settings.default_country), reason="crisis"),
    )
    _alert_supervisors(svc, Alert(kind="risk", sessionId="", level="high"))


def on_chat_risk(svc: Services, session: Session) -> None:
    """Crisis lines for the seeker and alerts for the volunteer and supervisors, once per chat."""
    if not svc.store.mark_crisis_notified(session.session_id):
        return
    metrics.add_metric(name="CrisisSignals", unit="Count", value=1)
    logger.info("crisis signal in chat", extra={"session": session.session_id})
    svc.notifier.send(
        session.seeker_id,
        ResourcesOut(items=crisis_lines(svc.settings.default_country), reason="crisis"),
    )
    alert = Alert(kind="risk", sessionId=session.session_id, level="high")
    svc.notifier.send(session.volunteer_id, alert)
    _alert_supervisors(svc, alert, skip=session.volunteer_id)


def alert_report(svc: Services, session_id: str) -> None:
    _alert_supervisors(svc, Alert(kind="report", sessionId=session_id))
