"""Practice chats (issue 13): a trainee and a supervisor playing the seeker, never real.

A supervisor's console opens a second WebSocket with their token and `?practice=1`: the
authorizer admits it as a seeker marked practice (kindred.auth), whose `match` joins a queue of
its own (the partition PRACTICE, kindred.aws.layout). The matcher pairs a practice seeker only
with a trainee's slot, and a real seeker never with one. What a practice chat does is never
counted (no metric, no check-in total), alerts no supervisor, pauses no trainee and leaves
no report or block behind; to the trainee it looks like any chat.
"""

from __future__ import annotations

from kindred.records import Connection, QueueEntry, Session, VolunteerSlot

# The query parameter that asks for a practice seeker's connection.
QUERY_PARAMETER = "practice"


def in_practice(conn: Connection) -> bool:
    """Everything this connection does is practice: a trainee's, or a practice seeker's."""
    return conn.practice or conn.role == "trainee"


def pairs_with(entry: QueueEntry, slot: VolunteerSlot) -> bool:
    """A practice seeker only with a trainee; a real seeker never with one."""
    return entry.practice == slot.practice


def counted(session: Session) -> bool:
    """Whether a chat counts (metrics, alerts, pauses, reports): never a practice chat."""
    return not session.practice
