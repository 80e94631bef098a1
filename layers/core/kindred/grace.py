"""The end of a dropped seeker's grace period: a delayed work item, with the sweeper as repair.

A seeker's `$disconnect` marks them away until `away_until` and sends the match queue a
`grace_over` work item delayed until then (kindred.connections.disconnect). The matcher
function hands it here; the sweeper ends, through the same `end_if_over`, any grace period
whose work item was lost. Either may run first, twice, or after a resume: only an away
connection past its grace is released, and releasing is conditional all the way down
(leaving the queue, ending the chat), so nobody is told twice.
"""

from __future__ import annotations

from typing import Literal

from kindred.connections import release
from kindred.observability import logger, metrics
from kindred.records import Connection
from kindred.services import Services
from kindred.work_items import delay_until

GraceOutcome = Literal["ended", "not_yet", "nothing"]


def end_if_over(svc: Services, conn: Connection) -> bool:
    """Release an away seeker whose grace period has passed: their chat ends (`ended`
    `peer_left` to the volunteer) or they leave the queue (those behind hear `position`).
    False, and nothing done, for anyone else."""
    if conn.away_until is None or conn.away_until > int(svc.clock()):
        return False
    release(svc, conn)
    metrics.add_metric(name="GracesEnded", unit="Count", value=1)
    logger.info("grace over", extra={"state": conn.state})
    return True


def on_grace_over(svc: Services, connection_id: str) -> GraceOutcome:
    """The `grace_over` work item: end the grace period of this connection if it is over;
    if it is not over yet (a grace longer than SQS's longest delay, or clocks a second
    apart), send the work item on until it is. Nothing for a connection that resumed (its
    item is gone) or was released already."""
    conn = svc.connections.get_connection(connection_id)
    if conn is None or conn.away_until is None:
        return "nothing"
    if end_if_over(svc, conn):
        return "ended"
    svc.work.grace_over(connection_id, delay_until(conn.away_until, svc.clock()))
    return "not_yet"
