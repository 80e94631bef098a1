"""The wire format: pydantic models of every client action and server frame (PROTOCOL.md v1).

The client actions and the parse of a client frame are in kindred.protocol.actions, and every
name of it is one of this module's too, imported on first use (`from kindred.protocol import
Match` imports it then): a function that parses no client frame never builds their models.
"""

import importlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
)

from kindred.relayed_text import relayable

MAX_FRAME_BYTES = 32 * 1024

Role = Literal["seeker", "volunteer", "supervisor", "trainee"]
ReportReason = Literal["harassment", "unsafe", "spam", "other"]
EndReason = Literal[
    "ended_by_you", "ended_by_peer", "peer_left", "blocked", "transferred", "timed_out"
]
ErrorCode = Literal[
    "invalid_json",
    "unknown_action",
    "invalid_request",
    "not_allowed",
    "not_in_chat",
    "session_required",
    "already_waiting",
    "already_in_chat",
    "rate_limited",
    "too_large",
    "peer_gone",
    "resume_failed",
    "peer_away",
    "closed",
    "session_expired",  # Addition (v2, issue 11): the sign-in ran out; the server closes
    "reauth_failed",  # Addition (v2, issue 11): a `reauth` token was refused; nothing changed
    "contact_details",  # Addition (v2, issue 12): a message with contact details, not relayed
    "internal",
]

TopicId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$")]
LanguageTag = Annotated[
    str, Field(min_length=2, max_length=35, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
]
SessionId = Annotated[str, Field(min_length=1, max_length=64)]
# A seeker's return key (v2, issue 13): made on their device, at least 128 random bits in
# base64url (22 characters); the server keeps only its hash (kindred.return_keys).
ReturnKey = Annotated[str, Field(min_length=22, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
# An entry of the organisation's referral directory (kindred/data/referrals.json).
ReferralId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
# Risk levels, lowest to highest, as kindred.safety.LEVELS has them (a unit test keeps the two
# the same; safety imports this module, so it cannot be the other way round).
Level = Literal["concern", "high", "imminent"]
# What a volunteer may set with `assess`: a level, or `none` (no risk noted).
AssessLevel = Literal["imminent", "high", "concern", "none"]
AlertKind = Literal["risk", "report", "escalation", "debrief"]
# Care for volunteers (v2, issue 12, kindred.care): a volunteer's check-in, why no new chat
# comes, and what the console is asked to do.
CheckinState = Literal["ok", "debrief"]
PauseReason = Literal["risk", "shift_cap"]
CheckinAsked = Literal["after_risk", "end_of_shift"]
# The seeker's check-in (v2, issue 12): distress on a scale of 0 (none) to 10 (the worst), and
# "Are you thinking about suicide right now?" (`unsure`: "not sure").
Distress = Annotated[int, Field(ge=0, le=10)]
SuicidalNow = Literal["yes", "no", "unsure"]
# Why crisis lines were sent (shared PROTOCOL.md, version 2 "Safety at the edges").
ResourcesReason = Literal["crisis", "requested", "ended", "unavailable", "closed", "long_wait"]


def iso_time(epoch_seconds: float) -> str:
    """A time as the protocol writes it: ISO 8601 UTC with milliseconds."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    """The current time as the protocol writes it: ISO 8601 UTC with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# JavaScript's largest safe integer: a `seq` above it cannot round-trip through a browser.
MAX_SEQ = 2**53 - 1


def _relayed(text: str) -> str:
    return relayable(text)


def _relayed_not_empty(text: str) -> str:
    cleaned = relayable(text)
    if not cleaned.strip():  # blank: a peer would see an empty message
        raise ValueError("nothing is left once control characters and blanks are removed")
    return cleaned


def _no_hidden_characters(value: str) -> str:
    if relayable(value) != value:
        raise ValueError("must not contain control or bidirectional characters")
    return value


# Text the server relays to another person, cleaned on the way in (kindred.relayed_text).
RelayedText = Annotated[str, AfterValidator(_relayed)]
RequiredRelayedText = Annotated[str, AfterValidator(_relayed_not_empty)]
# An id the peer receives as sent: refused, not changed, so that the sender's errors match it.
RelayedId = Annotated[str, AfterValidator(_no_hidden_characters)]


# Accounts (v2, issue 13): what a coordinator may do to a staff account, and the groups an
# account may be in (`trainees` is issue 13's practice group; a pool without it refuses it).
AccountOp = Literal["list", "invite", "set_group", "disable", "enable", "remove", "sign_out"]
AccountGroup = Literal["volunteers", "supervisors", "trainees"]
# A Cognito `sub` (a UUID): nothing else names an account on the wire.
AccountId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[0-9A-Za-z-]+$")]
# An address Cognito will write to: one @, no spaces, a dot in the domain.
EmailAddress = Annotated[
    str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]
# The name colleagues know a new account by (`name`, the console's alias); never relayed raw.
StaffName = Annotated[
    str, Field(min_length=1, max_length=80), AfterValidator(_no_hidden_characters)
]


class ProtocolError(Exception):
    """A frame the client sent cannot be served; becomes an `error` frame, changes nothing."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        action: str | None = None,
        client_msg_id: str | None = None,
        opens_at: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.action = action
        self.client_msg_id = client_msg_id
        self.opens_at = opens_at  # `closed`: when the service opens next (ISO 8601)

    def frame(self) -> "ErrorFrame":
        return ErrorFrame(
            code=self.code,
            message=self.message,
            action=self.action,
            clientMsgId=self.client_msg_id,
            opensAt=self.opens_at,
        )


# ---- server frames -------------------------------------------------------------------------


class _Part(BaseModel):
    """A server frame, or a piece of one: never changed once made."""

    model_config = ConfigDict(frozen=True, defer_build=True)


class _Frame(_Part):
    """A frame the server sends."""

    def wire(self) -> bytes:
        """The frame as sent: JSON without the optional fields that are not set."""
        return self.model_dump_json(exclude_none=True, by_alias=True).encode()


class Queued(_Frame):
    """`estimatedWaitSeconds` is left out when nobody is on shift (`volunteersOnShift` 0): a
    wait is never guessed."""

    type: Literal["queued"] = "queued"
    position: int
    resumeToken: str
    estimatedWaitSeconds: int | None = None
    reason: str | None = None
    volunteersOnShift: int | None = None
    # Addition (v2, issue 13): to a `match` with `sameVolunteer`, whether the volunteer the
    # return key leads to is on shift and asked for (else anyone, at once).
    sameVolunteer: bool | None = None


class Position(_Frame):
    """A waiting seeker's place; `volunteersOnShift` when the count of volunteers on shift went
    from none to some or back, `longWait` once they have waited MaxWaitMinutes."""

    type: Literal["position"] = "position"
    position: int
    estimatedWaitSeconds: int | None = None
    volunteersOnShift: int | None = None
    longWait: bool | None = None


class Peer(_Part):
    alias: str
    role: Role


class Matched(_Frame):
    type: Literal["matched"] = "matched"
    sessionId: str
    peer: Peer
    topics: list[str]
    intro: str | None = None
    note: str | None = None
    risk: Level | None = None


class MessageOut(_Frame):
    type: Literal["message"] = "message"
    sessionId: str
    text: str
    sentAt: str
    clientMsgId: str | None = None
    seq: int | None = None
    # Addition (v2, issue 12): who wrote it, in a chat a supervisor has joined (only there).
    from_: Role | None = Field(default=None, serialization_alias="from")


class _ChatFrame(_Frame):
    """A frame about one chat, which it names."""

    type: str
    sessionId: str


class TypingOut(_ChatFrame):
    type: Literal["typing"] = "typing"


class Ended(_ChatFrame):
    type: Literal["ended"] = "ended"
    reason: EndReason


class PeerAway(_ChatFrame):
    type: Literal["peer_away"] = "peer_away"


class PeerBack(_ChatFrame):
    type: Literal["peer_back"] = "peer_back"


class Status(_Frame):
    """To a volunteer. Issue 12 (kindred.care): while on shift, `onShiftSince` and (with a cap)
    `shiftCapAt`; `pausedUntil` while a risk pause runs; `paused` why no new chat comes now;
    `checkin` asks the console to ask how they are; `reminder` once, before the cap."""

    type: Literal["status"] = "status"
    available: bool
    capacity: int
    activeChats: int
    onShiftSince: str | None = None
    pausedUntil: str | None = None
    paused: PauseReason | None = None
    shiftCapAt: str | None = None
    checkin: CheckinAsked | None = None
    reminder: Literal["shift_cap"] | None = None


class Alert(_Frame):
    """To the volunteer in the chat and supervisors on shift. `sessionId` is "" for a seeker
    still waiting; `volunteer`, `startedAt` are left out then (there is no chat yet)."""

    type: Literal["alert"] = "alert"
    kind: AlertKind
    sessionId: str
    at: str
    level: Level | None = None
    volunteer: str | None = None  # the volunteer's display name (what the seeker sees)
    seeker: str | None = None  # the seeker's alias
    startedAt: str | None = None  # when the chat started
    note: str | None = None  # kind `escalation`: the volunteer's note, relayed, never stored
    practice: bool | None = None  # a practice chat's (issue 13): only its player is told


class Assessed(_Frame):
    """Addition (v2): the answer to `assess`, to the volunteer who sent it."""

    type: Literal["assessed"] = "assessed"
    sessionId: str
    level: AssessLevel


class Escalated(_Frame):
    """Addition (v2, issue 12): the answer to `escalate`. `sent`: the supervisors on shift were
    alerted now; false: they were alerted of this chat at `alertedAt`, too recently to be again.
    `supervisorsOnShift` (when sent): how many were alerted (0: nobody is on shift)."""

    type: Literal["escalated"] = "escalated"
    sessionId: str
    sent: bool
    alertedAt: str
    supervisorsOnShift: int | None = None


class Joined(_Frame):
    """Addition (v2, issue 12): the answer to `join`, to the supervisor."""

    type: Literal["joined"] = "joined"
    sessionId: str
    volunteer: str
    seeker: str
    startedAt: str
    level: Level | None = None


class SupervisorJoined(_ChatFrame):
    """Addition (v2, issue 12): to the chat's volunteer (with the supervisor's display name)
    and seeker (without)."""

    type: Literal["supervisor_joined"] = "supervisor_joined"
    supervisor: str | None = None


class SupervisorLeft(_ChatFrame):
    """Addition (v2, issue 12): to the chat's volunteer, seeker and the supervisor who left."""

    type: Literal["supervisor_left"] = "supervisor_left"


class WhisperOut(_Frame):
    """Addition (v2, issue 12): from the volunteer to the joined supervisor or back; never to
    the seeker."""

    type: Literal["whisper"] = "whisper"
    sessionId: str
    text: str
    sentAt: str
    from_: Literal["volunteer", "supervisor"] = Field(serialization_alias="from")


class BoardQueue(_Part):
    waiting: int
    longestWaitSeconds: int
    atRisk: int
    byLanguage: dict[str, int]


class BoardVolunteer(_Part):
    name: str
    role: Role
    available: bool
    activeChats: int
    capacity: int
    onShiftSince: str | None = None  # while on shift (kindred.care)
    pausedUntil: str | None = None  # while a risk pause runs
    paused: PauseReason | None = None  # why no new chat comes now: `risk` or `shift_cap`
    practice: Literal[True] | None = None  # a trainee: takes practice chats only (issue 13)


class BoardChat(_Part):
    sessionId: str
    volunteer: str
    seeker: str
    startedAt: str
    level: Level | None = None
    escalated: bool
    supervisor: str | None = None
    practice: Literal[True] | None = None  # a practice chat (issue 13)


class BoardLeftOut(_Part):
    """How many rows a board too large for one frame leaves out (the last in its order)."""

    volunteers: int
    chats: int


class BoardOut(_Frame):
    """Addition (v2, issue 12): the supervisors' board; no message text, ever."""

    type: Literal["board"] = "board"
    at: str
    queue: BoardQueue
    volunteers: list[BoardVolunteer]
    chats: list[BoardChat]
    leftOut: BoardLeftOut | None = None


class ResourceItem(_Part):
    name: str
    description: str
    country: str
    phone: str | None = None
    sms: str | None = None
    url: str | None = None
    hours: str | None = None


class ReferralItem(_Part):
    """A service of the organisation's referral directory, as the pages are given it."""

    id: str
    name: str
    description: str
    country: str
    languages: list[str]
    topics: list[str]
    phone: str | None = None
    sms: str | None = None
    url: str | None = None
    hours: str | None = None


class ReferralOut(_Frame):
    """Addition (v2, issue 12): a service the volunteer sent, to the seeker; echoed to the
    volunteer once it was delivered."""

    type: Literal["referral"] = "referral"
    sessionId: str
    item: ReferralItem


class ResourcesOut(_Frame):
    type: Literal["resources"] = "resources"
    items: list[ResourceItem]
    reason: ResourcesReason


class ErrorFrame(_Frame):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    action: str | None = None
    clientMsgId: str | None = None
    opensAt: str | None = None  # `closed`: when the service opens next (ISO 8601)


class Resumed(_Frame):
    """Addition: a resumed connection's first answer; a new resume token and where it is."""

    type: Literal["resumed"] = "resumed"
    resumeToken: str
    state: Literal["idle", "waiting", "chatting"]
    sessionId: str | None = None
    position: int | None = None


class Reauthed(_Frame):
    """Addition (v2, issue 11): the answer to `reauth`; the connection lasts until `expiresAt`."""

    type: Literal["reauthed"] = "reauthed"
    expiresAt: str


class CheckedIn(_Frame):
    """Addition (v2, issue 12): the answer to `checkin`; for `debrief`, how many supervisors
    on shift were alerted (0: none is on shift)."""

    type: Literal["checked_in"] = "checked_in"
    state: CheckinState
    supervisorsTold: int | None = None


class StaffAccount(_Part):
    """Addition (v2, issue 13): one staff account as a coordinator sees it. `group` is its
    highest role group (none: in no group, so it cannot sign in to the console); `status` is
    Cognito's (FORCE_CHANGE_PASSWORD until the first sign-in, then CONFIRMED)."""

    user: str
    email: str
    name: str
    group: AccountGroup | None = None
    coordinator: bool = False
    enabled: bool
    status: str
    you: bool | None = None


class AccountsOut(_Frame):
    """Addition (v2, issue 13): the answer to `accounts`: what was done (`op`, to `user`),
    and the pool's staff accounts as they now are."""

    type: Literal["accounts"] = "accounts"
    op: AccountOp
    user: str | None = None
    accounts: list[StaffAccount]


class Pong(_Frame):
    type: Literal["pong"] = "pong"


class Reported(_Frame):
    type: Literal["reported"] = "reported"


class Thanks(_Frame):
    type: Literal["thanks"] = "thanks"


class Forgotten(_Frame):
    type: Literal["forgotten"] = "forgotten"


class Remembered(_Frame):
    """Addition (v2, issue 13): the answer to `remember`; the key leads to that chat's
    volunteer for `days` days (renewed by each chat that starts with it)."""

    type: Literal["remembered"] = "remembered"
    sessionId: str
    days: int


ServerFrame = (
    Queued
    | Position
    | Matched
    | MessageOut
    | TypingOut
    | Ended
    | PeerAway
    | PeerBack
    | Status
    | Alert
    | Assessed
    | ReferralOut
    | Escalated
    | Joined
    | SupervisorJoined
    | SupervisorLeft
    | WhisperOut
    | BoardOut
    | ResourcesOut
    | ErrorFrame
    | Resumed
    | Reauthed
    | CheckedIn
    | AccountsOut
    | Pong
    | Reported
    | Thanks
    | Forgotten
    | Remembered
)


# ---- client actions, imported on first use ---------------------------------------------------

if TYPE_CHECKING:
    from kindred.protocol.actions import (
        ACTION_TYPES as ACTION_TYPES,
    )
    from kindred.protocol.actions import (
        ACTIONS as ACTIONS,
    )
    from kindred.protocol.actions import (
        Accounts as Accounts,
    )
    from kindred.protocol.actions import (
        Assess as Assess,
    )
    from kindred.protocol.actions import (
        Availability as Availability,
    )
    from kindred.protocol.actions import (
        Block as Block,
    )
    from kindred.protocol.actions import (
        Board as Board,
    )
    from kindred.protocol.actions import (
        Checkin as Checkin,
    )
    from kindred.protocol.actions import (
        ClientAction as ClientAction,
    )
    from kindred.protocol.actions import (
        End as End,
    )
    from kindred.protocol.actions import (
        Escalate as Escalate,
    )
    from kindred.protocol.actions import (
        Feedback as Feedback,
    )
    from kindred.protocol.actions import (
        Forget as Forget,
    )
    from kindred.protocol.actions import (
        Join as Join,
    )
    from kindred.protocol.actions import (
        Leave as Leave,
    )
    from kindred.protocol.actions import (
        Match as Match,
    )
    from kindred.protocol.actions import (
        Message as Message,
    )
    from kindred.protocol.actions import (
        Ping as Ping,
    )
    from kindred.protocol.actions import (
        Reauth as Reauth,
    )
    from kindred.protocol.actions import (
        Referral as Referral,
    )
    from kindred.protocol.actions import (
        Remember as Remember,
    )
    from kindred.protocol.actions import (
        Report as Report,
    )
    from kindred.protocol.actions import (
        Resources as Resources,
    )
    from kindred.protocol.actions import (
        SeekerCheckin as SeekerCheckin,
    )
    from kindred.protocol.actions import (
        Transfer as Transfer,
    )
    from kindred.protocol.actions import (
        Typing as Typing,
    )
    from kindred.protocol.actions import (
        Whisper as Whisper,
    )
    from kindred.protocol.actions import (
        parse_action as parse_action,
    )


def __getattr__(name: str) -> Any:
    """A name of kindred.protocol.actions (a client action, the parse), imported on first use."""
    if name.startswith("__"):  # the import system's own questions (__path__, __file__, ...)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    actions = importlib.import_module("kindred.protocol.actions")
    try:
        return getattr(actions, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
