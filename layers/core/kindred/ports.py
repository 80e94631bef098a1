"""The ports the domain is written against: the store, the notifier, the work queue, the sealer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

from kindred.frozen import Frozen
from kindred.impact import CheckinTally
from kindred.protocol import Level, ServerFrame
from kindred.records import (
    CareRecord,
    ChatRow,
    Connection,
    Escalation,
    JoinedChat,
    LevelChange,
    MatchPace,
    Offer,
    Pairing,
    QueueEntry,
    Session,
    Ticket,
    VolunteerSlot,
)
from kindred.work_items import WorkReason

if TYPE_CHECKING:  # kindred.auth imports PyJWT: only `reauth` pays for it, not every cold start
    from kindred.auth import Identity


class TableView(Frozen):
    """Everything the sweeper looks at: what is open, read once a run (kindred.aws.census)."""

    connections: list[Connection]
    queue: list[QueueEntry]  # practice seekers' too (QueueEntry.practice)
    slots: list[VolunteerSlot]
    shift: list[str]
    active_sessions: list[Session]


class BoardView(Frozen):
    """What the supervisors' board shows, read in a few Queries (never a Scan)."""

    queue: list[QueueEntry]
    slots: list[VolunteerSlot]
    chats: list[ChatRow]


class PushStart(Frozen):
    """What starting a push of the board found: the subscribers to push to now (none: no
    push), or a push claimed too recently to start yet (since `pending_since_ms`)."""

    subscribers: list[str]
    pending_since_ms: int | None = None


class Conflict(Exception):
    """A conditional write lost a race or found the state changed; nothing was written."""


class RateLimited(Exception):
    """The connection has used up its actions for now; nothing was written."""


class Undelivered(Exception):
    """A frame the gateway refused past the SDK's retries (throttled, the client's buffer full,
    a fault on its side): not delivered now, and the connection not known to be gone."""


class Connections(Protocol):
    """One record per open WebSocket, with its rate log."""

    def get_connection(self, connection_id: str) -> Connection | None: ...

    def put_connection(self, conn: Connection) -> None: ...

    def delete_connection(self, connection_id: str) -> None: ...

    def count_action(
        self, connection_id: str, *, now_ms: int, limit: int, window_ms: int
    ) -> Connection | None:
        """The connection, once its action is counted: one conditional write, no read.

        Raises RateLimited (and writes nothing) if `limit` actions were already counted in
        the `window_ms` before `now_ms`; None if the connection is gone (no write).
        """

    def add_blocked_user(self, connection_id: str, user_id: str) -> bool:
        """Add a volunteer to a seeker's blocks; False if the connection is gone (no write)."""

    def mark_away(self, conn: Connection, away_until: int) -> bool:
        """A seeker's socket closed: mark their connection (and their queue entry, in the same
        transaction) away until `away_until`; False if the state changed meanwhile."""

    def clear_resume_flags(self, connection_id: str) -> None:
        """The outcome of a resume has been told: `resumed` and `resumeFailed` go."""

    def extend_token(self, connection_id: str, user_id: str, expires_at: int) -> bool:
        """A `reauth`: the staff connection of account `user_id` now lasts until `expires_at`
        (epoch seconds); False (no write) if the connection is gone or is another account's."""

    def note_urgent_queueing(
        self, connection_id: str, queued_ms: tuple[int, ...], alerted_level: Level | None
    ) -> None:
        """A seeker joined the queue ahead of normal priority: keep when (`queued_ms`, newest
        first) and, unless None, the level supervisors have now been alerted of."""


class ResumeTickets(Protocol):
    """The tickets that let a dropped seeker take their place back."""

    def put_resume(self, ticket: Ticket, connection_id: str, seeker_key: str) -> None:
        """Issue a new resume ticket for a connection and delete the one it held before."""

    def get_resume(self, resume_hash: str) -> tuple[str, str] | None:
        """The (connection id, seeker key) a live resume ticket names; None if unknown."""

    def delete_resume(self, resume_hash: str) -> None: ...

    def resume(self, old: Connection, new: Connection, resume_hash: str) -> bool:
        """In one transaction the new connection takes the old one's place: the ticket is
        used up, the old connection item goes, the new one gets its state, the queue entry or
        the session and the volunteer's chat are re-pointed. False (nothing written) if the
        ticket, the old connection or its state changed meanwhile."""


class WaitingQueue(Protocol):
    """The seekers waiting for a volunteer, and the pace at which they are matched."""

    def enqueue(self, entry: QueueEntry, ticket: Ticket, replaces: str | None = None) -> None:
        """Put an idle seeker in the queue with a new resume ticket, in one transaction.

        The connection's previous ticket (`replaces`, which must be the one it
        holds) is deleted, so a seeker has one valid resume token. Conflict if the connection
        is no longer idle or holds another ticket.
        """

    def leave_queue(self, conn: Connection) -> bool:
        """Take a waiting seeker out of the queue; False if it was not waiting."""

    def queue_position(self, entry_key: str) -> int:
        """1 + how many waiting seekers are ahead of this queue key."""

    def waiting(self, limit: int, *, practice: bool = False) -> list[QueueEntry]:
        """The waiting seekers in serving order (priority, then time); with `practice`, the
        practice seekers instead, who wait apart (kindred.practice)."""

    def delete_queue_entry(self, entry_key: str) -> None:
        """Remove a queue entry whose connection is gone."""

    def mark_long_wait(self, entry_key: str) -> bool:
        """Note that the seeker has been told of their long wait; False if they already were
        (or the entry is gone)."""

    def record_matches(self, count: int, now_ms: int) -> MatchPace:
        """Count matches that just started; returns the pace including them."""

    def match_pace(self) -> MatchPace | None:
        """The recent pace of matches; None if nobody was matched lately."""


class VolunteerPool(Protocol):
    """Volunteers on shift with their free slots, supervisors on shift, and each staff
    account's shift and pause (its care record, kindred.care)."""

    def set_availability(
        self, conn: Connection, offer: Offer, care: CareRecord | None = None
    ) -> VolunteerSlot:
        """Write the connection's slot; with `care`, the slot takes the shift's start from it,
        and its pause if it has one (a pause the slot has is never cleared here)."""

    def get_slot(self, connection_id: str) -> VolunteerSlot | None: ...

    def available_volunteers(self) -> list[VolunteerSlot]: ...

    def slots_on_shift(self, *, practice: bool = False) -> list[VolunteerSlot]:
        """The slots of volunteers and supervisors available now, whatever their free slots;
        with `practice`, the trainees' instead (kindred.practice)."""

    def remove_slot(self, connection_id: str) -> None: ...

    def on_shift_supervisors(self) -> list[str]: ...

    def join_shift(self, connection_id: str) -> None: ...

    def leave_shift(self, connection_id: str) -> None: ...

    def account_slots(self, user_id: str) -> list[VolunteerSlot]:
        """The slots of every connection of this staff account (one read of the pool)."""

    def get_care(self, user_id: str) -> CareRecord | None: ...

    def put_care(self, record: CareRecord) -> None:
        """Write the account's care record whole; every write of it keeps it a while longer
        (kindred.care.care_kept_seconds)."""

    def note_off_shift(self, user_id: str, at_ms: int) -> None:
        """The account went off shift at `at_ms`: one conditional write, none if it was
        noted already or the account has no care record."""

    def pause(self, user_id: str, until: int) -> list[VolunteerSlot]:
        """No new chat for this account until `until` (epoch seconds): its care record and each
        of its slots, each by a write that keeps a later pause already set. Returns the
        account's slots as they now are."""

    def note_cap_told(self, user_id: str, on_shift_since_ms: int, stage: int) -> bool:
        """The shift that began at `on_shift_since_ms` is told `stage` of its cap (1 the
        reminder, 2 reached): True only for the first to note it (one conditional write)."""


class Chats(Protocol):
    """The chats between a seeker and a volunteer: who, since when, at what level."""

    def create_chat(self, pairing: Pairing) -> None:
        """Match atomically: the entry leaves the queue, both sides join the session.

        Raises Conflict if the seeker is no longer waiting there, the volunteer has no free
        slot or is gone, or the session exists: a seeker is never matched twice and a
        volunteer never exceeds their capacity. Also if the volunteer's slot is paused now,
        or (given `shift_since_after_ms`) its shift began at or before then (the shift cap):
        conditions on the slot's item, so no race hands a paused volunteer a chat.
        """

    def end_chat(self, session: Session, *, requeue: QueueEntry | None = None) -> Session | None:
        """End an active session and free the volunteer's slot; None if it had already ended.

        Returns the chat as it was when it ended (read again if it changed meanwhile: a
        supervisor who joined it, whose links end with it, issue 12). With `requeue`, the
        seeker goes back into the queue in the same transaction (transfer).
        """

    def get_session(self, session_id: str) -> Session | None: ...

    def mark_crisis_notified(self, session_id: str) -> bool:
        """True only for the first caller: crisis resources go out once per chat."""

    def raise_level(self, session_id: str, level: Level) -> LevelChange | None:
        """A detected signal: an active chat's level becomes `level` only if that is higher.

        One conditional write. Returns the chat as it now is with its level before (the level
        rose exactly when the write was made); None if there is no active chat (no write).
        """

    def set_level(
        self, session_id: str, level: Level | None, *, volunteer_id: str
    ) -> LevelChange | None:
        """The volunteer's judgement: an active chat's level becomes `level` (higher, lower, or
        None for no risk noted), if `volunteer_id` is the chat's volunteer connection.

        One conditional write. Returns the chat as it now is with its level before; None (no
        write) if the chat is not active or not that volunteer's.
        """

    def delete_session(self, session_id: str) -> str | None:
        """Delete a chat's record; returns its volunteer's account id (None if it was gone)."""

    def escalate(
        self, session_id: str, *, volunteer_id: str, now_ms: int, again_after_ms: int
    ) -> Escalation | None:
        """The chat's volunteer asks for help: one conditional write notes it at `now_ms`,
        unless it was noted less than `again_after_ms` before (then nothing is written and
        `alert` is False). None (no write) if the chat is not active or not `volunteer_id`'s."""

    def join_chat(self, session: Session, supervisor_id: str, supervisor_alias: str) -> bool:
        """One transaction: the supervisor joins this active chat; the chat, both sides'
        connections and the supervisor's own name each other. False (nothing written) if the
        chat ended or has a supervisor, or a side moved on or is gone."""

    def leave_chat(self, session_id: str, supervisor_id: str, sides: JoinedChat) -> bool:
        """The supervisor leaves the chat: every link that is still there goes, in one
        transaction. False if the supervisor was not joined to it (nothing to undo)."""


class BoardState(Protocol):
    """The supervisors' board (issue 12): who receives it, whether a push is due, the chats."""

    def subscribe(self, connection_id: str) -> None: ...

    def unsubscribe(self, connection_id: str) -> None: ...

    def claim_push(self, now_ms: int, stale_before_ms: int) -> bool:
        """Something the board shows changed: True for the one caller that must have a push
        sent (someone subscribes and no push is pending since `stale_before_ms` or later);
        one conditional write, nothing written otherwise."""

    def start_push(self, claimed_by_ms: int) -> PushStart:
        """A push begins if one was claimed at `claimed_by_ms` or before: from then on none is
        pending, and the subscribers are returned (one conditional write). A push claimed
        later is left pending (its own work item is on its way)."""

    def board_view(self) -> BoardView:
        """The waiting queue, every volunteer's slot and every active chat."""


class Safeguards(Protocol):
    """Blocks that outlive a connection, and reports."""

    def put_block(self, volunteer_user_id: str, seeker_key: str, expires_at: int) -> None:
        """This volunteer and this seeker are never matched again until `expires_at`."""

    def blocked_pairs(self, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (volunteer user id, seeker key) pairs are blocked, in one read."""

    def delete_block(self, volunteer_user_id: str, seeker_key: str) -> None: ...

    def put_report(
        self, session_id: str, reporter: str, reason: str, reporter_role: str, expires_at: int
    ) -> bool:
        """Keep a report of a chat by one of its sides (`reporter`, "seeker" or "volunteer");
        False (nothing written) if that side has reported that chat already."""


class ReturnLinks(Protocol):
    """Return keys (issue 13, kindred.return_keys): the volunteer account a key's hash leads
    to, until it expires. Only the hash, the account id and the expiry are kept."""

    def link(self, return_hash: str, user_id: str, expires_at: int) -> None:
        """The key now leads to this volunteer account until `expires_at` (one write; a link
        the key had before is replaced)."""

    def linked_user(self, return_hash: str) -> str | None:
        """The volunteer account the key leads to; None if it leads nowhere (or expired)."""

    def unlink(self, return_hash: str, user_id: str | None = None) -> None:
        """The key leads nowhere any more; with `user_id`, only if it led to that account."""

    def hold(self, connection_id: str, return_hash: str) -> None:
        """The seeker's connection keeps the hash of its return key (for `forget` and blocks);
        nothing is written if the connection is gone."""


class Admissions(Protocol):
    """The per-source connection budget: counters of new seeker connections per minute."""

    def count_connection(self, source_key: str, *, minute: int, limit: int) -> bool:
        """Count one more connection from this source (a keyed hash, never an address) in
        this minute (epoch seconds // 60); False (nothing written) if `limit` were counted."""


class Salts(Protocol):
    """Salts derived from the deployment's secret, for keying what must not be reversible."""

    def daily_salt(self, day: str) -> bytes:
        """The salt of a UTC day ("YYYY-MM-DD"): the same all day, unguessable without the
        secret, and unrelated to any other day's."""


class Impact(Protocol):
    """The seekers' check-in answers as monthly totals: counts only, never whose or when."""

    def add_checkins(self, month: str, tally: CheckinTally) -> None:
        """Add these counts to the month's ("2025-05") totals: one write, no read."""

    def checkin_totals(self, month: str) -> CheckinTally:
        """The month's totals; all zero if nothing was counted."""


class Census(Protocol):
    """The sweeper's one read of everything open."""

    def table_view(self) -> TableView:
        """Every live connection, queue entry, volunteer slot, shift and active session."""


class Store(
    Connections,
    ResumeTickets,
    WaitingQueue,
    VolunteerPool,
    Chats,
    BoardState,
    Safeguards,
    ReturnLinks,
    Admissions,
    Impact,
    Census,
    Protocol,
):
    """Every port on the one table: what an adapter of the whole table (or a fake) implements."""


class TokenVerifier(Protocol):
    """Checks a Cognito ID token exactly as the $connect authorizer does (for `reauth`)."""

    def verify(self, token: str) -> Identity:
        """Who the token names; kindred.auth.AuthError if it is not a valid staff token."""


class Accounts(Protocol):
    """The staff accounts of the user pool (Cognito), as the sweeper asks after them."""

    def inactive(self, user_ids: list[str]) -> set[str]:
        """Which of these accounts (Cognito `sub`s) are disabled (not merely not found)."""


class Notifier(Protocol):
    """Posts frames to connections (API Gateway's @connections API in the cloud)."""

    def send(self, connection_id: str, frame: ServerFrame) -> bool:
        """Deliver one frame; False if the connection is gone (410); Undelivered if the
        gateway refused it otherwise."""

    def close(self, connection_id: str) -> None: ...

    def exists(self, connection_id: str) -> bool:
        """Whether the socket is still open (GetConnection; False on 410)."""


class WorkQueue(Protocol):
    """Asks the matcher to run (SQS in the cloud). Work items carry no text."""

    def nudge(self, reason: WorkReason, delay_seconds: int = 0) -> None:
        """Ask the matcher to run now, or not before `delay_seconds` (at most 900) from now."""

    def grace_over(self, connection_id: str, delay_seconds: int) -> None:
        """Ask the matcher to end this away seeker's grace period, not before `delay_seconds`
        (at most 900) from now."""


class Sealer(Protocol):
    """Seals short texts (a seeker's intro, a transfer note) while they wait in the queue."""

    def seal(self, text: str) -> str: ...
    def unseal(self, sealed: str) -> str: ...


# ---- accounts from the console (issue 13) --------------------------------------------------

AccountRefusal = Literal["exists", "not_found", "no_group", "invalid", "throttled"]


class StaffMember(Frozen):
    """One account of the user pool, as a coordinator manages it. `handle` is the pool's own
    name for it (the adapter's business); `user_id` is its `sub`, the only id on the wire."""

    user_id: str
    handle: str
    email: str
    name: str
    groups: frozenset[str]
    enabled: bool
    status: str  # Cognito's: FORCE_CHANGE_PASSWORD until the first sign-in, then CONFIRMED


class AccountRefused(Exception):
    """The user pool refused a change; `reason` says why, `message` may be shown to the
    coordinator (never logged: it can hold an address)."""

    def __init__(self, reason: AccountRefusal, message: str = "") -> None:
        super().__init__(reason)
        self.reason: AccountRefusal = reason
        self.message = message


class StaffDirectory(Protocol):
    """The user pool's admin side (Cognito): only the admin function calls it."""

    def list_members(self) -> list[StaffMember]:
        """Every account of the pool, with its groups."""

    def find(self, user_id: str) -> StaffMember | None:
        """The account whose `sub` is `user_id`, with its groups; None if there is none."""

    def create(self, email: str, name: str) -> StaffMember:
        """A new account that must set its password at its first sign-in; the pool e-mails
        it a temporary password. AccountRefused `exists` if the address has one already."""

    def add_to_group(self, member: StaffMember, group: str) -> None: ...

    def remove_from_group(self, member: StaffMember, group: str) -> None: ...

    def disable(self, member: StaffMember) -> None: ...

    def enable(self, member: StaffMember) -> None: ...

    def delete(self, member: StaffMember) -> None: ...

    def sign_out(self, member: StaffMember) -> None:
        """Revoke the account's refresh tokens: no new ID token, so no `reauth`."""
