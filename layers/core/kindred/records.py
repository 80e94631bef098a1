"""The records kept while a chat lives: connections, queue entries, volunteer slots, sessions."""

from __future__ import annotations

from dataclasses import field
from typing import Literal, get_args

from kindred.frozen import Frozen
from kindred.protocol import Level, Role

SeekerState = Literal["idle", "waiting", "chatting"]
Tags = tuple[str, ...]  # language tags, or topics

# Risk levels from lowest to highest (kindred.safety.LEVELS). No level (None) is below them all.
LEVELS: tuple[Level, ...] = get_args(Level)

# Queue priorities: lower is served first. A seeker at risk goes ahead by level (imminent,
# then high, then concern); a transfer, or a seeker sent back to the front because their
# volunteer vanished at the match, goes ahead of normal priority (and keeps any level's place).
PRIORITY_IMMINENT = 0
PRIORITY_HIGH = 1
PRIORITY_CONCERN = 2
PRIORITY_URGENT = 3
PRIORITY_NORMAL = 4
_LEVEL_PRIORITY: dict[Level, int] = {
    "imminent": PRIORITY_IMMINENT,
    "high": PRIORITY_HIGH,
    "concern": PRIORITY_CONCERN,
}


def level_rank(level: Level | None) -> int:
    """0 for no level, then 1, 2, 3 from concern to imminent: compare levels with this."""
    return 0 if level is None else LEVELS.index(level) + 1


def priority_for(level: Level | None, otherwise: int = PRIORITY_NORMAL) -> int:
    """The queue priority of a seeker at this level; `otherwise` when there is no level."""
    return otherwise if level is None else min(_LEVEL_PRIORITY[level], otherwise)


def is_urgent(priority: int) -> bool:
    """Ahead of normal priority: a risk level, a transfer, a match undone."""
    return priority < PRIORITY_NORMAL


class JoinedChat(Frozen):
    """A chat a supervisor joined (issue 12): its two sides' connections, kept on the
    supervisor's connection so that what they write reaches both with no read."""

    seeker_id: str
    volunteer_id: str


class Connection(Frozen):
    """One open WebSocket. No name, e-mail, IP address or device id is ever kept."""

    connection_id: str
    role: Role
    alias: str
    language: str
    user_id: str = ""  # staff only: the Cognito `sub`
    seeker_key: str = ""  # seekers only: an anonymous id that survives a resume
    state: SeekerState = "idle"
    session_id: str | None = None  # seeker: the chat in progress
    peer_id: str | None = None  # seeker: the volunteer's connection id
    queue_key: str | None = None  # seeker: the queue entry while waiting
    last_session_id: str | None = None  # seeker: for feedback and reports after the chat
    chats: dict[str, str] = field(default_factory=dict)  # staff: session id -> seeker connection
    blocked_users: frozenset[str] = frozenset()  # seeker: volunteers never to be matched again
    resume_hash: str | None = None  # seeker: the hash of the latest resume token
    session_ids: frozenset[str] = frozenset()  # seeker: every chat of this connection, for forget
    # Resume (issue 5): a seeker whose socket closed keeps their place until `away_until`
    # (epoch seconds); a new connection with their token takes it over.
    away_until: int | None = None
    resumed: bool = False  # took over a dropped connection; its first action hears `resumed`
    resume_failed: bool = False  # came with an unknown or expired token: told on first action
    connected_at_ms: int = 0
    # Staff (issue 11): when the ID token they signed in with (or their latest `reauth`)
    # expires, epoch seconds; past it, the connection is closed with `session_expired`.
    token_expires_at: int | None = None
    # Abuse limits (issue 11), kept across resumes like the seeker key: the highest level
    # supervisors were alerted of while this seeker waited, and when they last joined the
    # queue ahead of normal priority (epoch ms, newest first, a few at most).
    alerted_level: Level | None = None
    urgent_queued_ms: tuple[int, ...] = ()
    # Supervision (issue 12): a relay reads only the sender's item, so each side of a joined
    # chat keeps the supervisor's connection, and the supervisor keeps the chat's two sides.
    supervisor_id: str | None = None  # seeker: the supervisor joined to their chat
    supervisors: dict[str, str] = field(default_factory=dict)  # staff: session -> supervisor
    joined: dict[str, JoinedChat] = field(default_factory=dict)  # supervisor: chats joined
    # Practice (issue 13, kindred.practice): a supervisor playing the seeker of a practice
    # chat (role seeker, user_id the supervisor's); matched only with a trainee.
    practice: bool = False
    # Accounts (issue 13): a supervisor also in the `coordinators` group, who may use `accounts`.
    coordinator: bool = False
    # Coming back (issue 13): the hash of the return key this seeker opted in to (kept across
    # resumes), so that `forget` and a block can delete its link (kindred.return_keys).
    return_hash: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in ("volunteer", "supervisor", "trainee")


class QueueEntry(Frozen):
    """A seeker waiting for a volunteer; holds no text but a sealed intro or transfer note."""

    connection_id: str
    queue_key: str
    priority: int
    enqueued_at_ms: int
    language: str
    topics: tuple[str, ...]
    seeker_key: str
    seeker_alias: str
    level: Level | None = None  # the intro's risk level, or that of the chat transferred from
    sealed_intro: str | None = None
    sealed_note: str | None = None
    reason: str | None = None  # "transfer" when a volunteer handed the seeker back
    # Volunteers never to be matched with this entry: the seeker's blocks, and after a
    # transfer the volunteer who handed them on.
    blocked_users: frozenset[str] = frozenset()
    away: bool = False  # the seeker's socket dropped: they keep their place but are not matched
    long_wait: bool = False  # told they have waited MaxWaitMinutes (told once)
    # Coming back (issue 13, kindred.return_keys): the hash of the seeker's return key (the
    # chat that starts points it at its volunteer), and the volunteer account they asked for
    # with `sameVolunteer`, waited for until the topic fallback is over.
    return_hash: str | None = None
    preferred_user: str | None = None

    @property
    def practice(self) -> bool:
        """A practice seeker's entry (kindred.practice): its key says so."""
        return is_practice_key(self.queue_key)


class Ticket(Frozen):
    """A new resume ticket: the hash of its token, and the epoch second it expires."""

    resume_hash: str
    expires_at: int


class Offer(Frozen):
    """What a staff connection offers with `availability`: on shift or not, and what it takes."""

    available: bool
    capacity: int
    languages: Tags
    topics: Tags


class VolunteerSlot(Frozen):
    """A staff member's availability: how many chats they take and how many they have."""

    connection_id: str
    user_id: str
    role: Role
    alias: str
    available: bool
    capacity: int
    active: int
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    idle_since_ms: int
    # Care for volunteers (issue 12, kindred.care): when the shift this slot belongs to began
    # (epoch ms; 0: not known), and until when (epoch seconds) no new chat comes after a chat
    # at high or imminent risk. The match's conditional write refuses a paused slot, and one
    # whose shift is past the cap.
    on_shift_since_ms: int = 0
    paused_until: int | None = None

    @property
    def free_slots(self) -> int:
        return max(0, self.capacity - self.active) if self.available else 0

    @property
    def practice(self) -> bool:
        """A trainee's slot: it takes practice chats only (kindred.practice)."""
        return self.role == "trainee"


class CareRecord(Frozen):
    """A staff account's shift, kept across its connections (a reload keeps it): since when it
    is on shift, since when it is off (None while on), and until when it is paused."""

    user_id: str
    on_shift_since_ms: int = 0
    off_shift_since_ms: int | None = None
    paused_until: int | None = None  # epoch seconds
    # What this shift was told of its cap: 0 nothing, 1 the reminder, 2 that it was reached.
    cap_told: int = 0


class Session(Frozen):
    """One chat between a seeker and a volunteer: who, since when, never what was said."""

    session_id: str
    seeker_id: str  # connection id
    volunteer_id: str  # connection id
    seeker_key: str
    volunteer_user_id: str
    volunteer_alias: str
    seeker_alias: str
    topics: tuple[str, ...]
    started_at_ms: int
    active: bool = True
    language: str = ""  # the language the seeker asked for in `match` ("" on older items)
    # The chat's risk level: the queue entry's at the start, raised by each higher signal the
    # detector sees, and set (up or down) by the volunteer's `assess`. None: no risk noted.
    level: Level | None = None
    crisis_notified: bool = False  # the seeker got crisis lines in this chat (once per chat)
    # Supervision (issue 12): the supervisor joined to it (one at a time), and when its
    # volunteer last alerted the supervisors (`escalate`), epoch ms.
    supervisor_id: str | None = None
    supervisor_alias: str = ""
    escalated_at_ms: int | None = None
    practice: bool = False  # a practice chat: a trainee and a supervisor playing the seeker


class Pairing(Frozen):
    """A match to commit: the seeker's entry, the volunteer's slot as read, the new chat, and
    (under the shift cap, kindred.care) the shift start the slot's must be later than."""

    entry: QueueEntry
    slot: VolunteerSlot
    session: Session
    shift_since_after_ms: int | None = None


class LevelChange(Frozen):
    """What one write of a chat's level found: the chat as it now is, and its level before."""

    session: Session
    previous: Level | None

    @property
    def rose(self) -> bool:
        return level_rank(self.session.level) > level_rank(self.previous)


class Escalation(Frozen):
    """What one `escalate` found: the chat as it now is, and whether the supervisors are to be
    alerted now (False: they were at `session.escalated_at_ms`, too recently to be again)."""

    session: Session
    alert: bool


class ChatRow(Frozen):
    """An active chat as the supervisors' board shows it (issue 12): who, since when, its
    level, whether its volunteer asked for help, and who joined; never what was said."""

    session_id: str
    volunteer_alias: str
    seeker_alias: str
    started_at_ms: int
    level: Level | None = None
    escalated: bool = False
    supervisor_alias: str = ""
    practice: bool = False


# A practice seeker's queue key starts with this (kindred.practice): the key alone tells which
# queue the entry is in, wherever it is held (a connection's `queue_key`).
PRACTICE_KEY_PREFIX = "practice#"


def queue_key(
    priority: int, enqueued_at_ms: int, connection_id: str, *, practice: bool = False
) -> str:
    """The sort key that orders the waiting queue: priority, then time, then connection."""
    key = f"{priority}#{enqueued_at_ms:015d}#{connection_id}"
    return PRACTICE_KEY_PREFIX + key if practice else key


def is_practice_key(key: str) -> bool:
    """Whether a queue key is a practice seeker's (kept apart from the real queue)."""
    return key.startswith(PRACTICE_KEY_PREFIX)


# The pace of matches is counted in fixed windows of this length (see MatchPace).
PACE_WINDOW_MS = 15 * 60 * 1000
# Fewer matches than this in the last window give no estimate rather than a wild one.
PACE_MIN_MATCHES = 2


class MatchPace(Frozen):
    """How many seekers were matched lately, for the estimated wait; no one is identified.

    Matches are counted in back-to-back fixed windows of PACE_WINDOW_MS: `count` since
    `window_start_ms`, `previous` in the window just before. Weighting the previous window by
    how much of it still lies within the last PACE_WINDOW_MS approximates a sliding count with
    two numbers instead of a timestamp per match.
    """

    window_start_ms: int
    count: int
    previous: int = 0

    def recent_matches(self, now_ms: int) -> float:
        """About how many matches started in the last PACE_WINDOW_MS."""
        elapsed = max(0, now_ms - self.window_start_ms)
        if elapsed >= 2 * PACE_WINDOW_MS:
            return 0.0
        if elapsed >= PACE_WINDOW_MS:  # no match since this window closed
            return self.count * (2 * PACE_WINDOW_MS - elapsed) / PACE_WINDOW_MS
        return self.previous * (PACE_WINDOW_MS - elapsed) / PACE_WINDOW_MS + self.count

    def estimated_wait_seconds(self, position: int, now_ms: int) -> int | None:
        """The wait of the seeker at `position` if matches go on at the recent pace."""
        recent = self.recent_matches(now_ms)
        if recent < PACE_MIN_MATCHES:
            return None
        return max(1, round(position * PACE_WINDOW_MS / 1000 / recent))
