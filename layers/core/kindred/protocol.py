"""The wire format: pydantic models of every client action and server frame (PROTOCOL.md v1)."""

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
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
    if not cleaned:
        raise ValueError("nothing is left once control characters are removed")
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


class _Action(BaseModel):
    # strict: JSON types as the protocol gives them; "5" is not 5, 1 is not true, 1.0 not 1.
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True, defer_build=True)


class SeekerCheckin(BaseModel):
    """Addition (v2, issue 12): a seeker's answers before a chat, each optional (a `yes` must
    never be lost for want of the other answer; `{}` is a check-in skipped). Kept only as
    monthly totals (kindred.seeker_checkin); `suicidalNow: yes` is a `high` risk signal."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True, defer_build=True)

    distress: Distress | None = None
    suicidalNow: SuicidalNow | None = None


class Match(_Action):
    action: Literal["match"]
    topics: list[TopicId] = Field(default_factory=list, max_length=5)
    language: LanguageTag | None = None
    intro: RelayedText | None = Field(default=None, max_length=500)
    checkin: SeekerCheckin | None = None  # Addition (v2, issue 12)
    # Addition (v2, issue 13): the seeker's opt-in return key, and whether they ask for the
    # volunteer it leads to (kindred.return_keys).
    returnKey: ReturnKey | None = None
    sameVolunteer: bool | None = None


class Availability(_Action):
    action: Literal["availability"]
    available: bool
    topics: list[TopicId] | None = Field(default=None, max_length=50)
    languages: list[LanguageTag] | None = Field(default=None, min_length=1, max_length=20)
    capacity: int = Field(default=1, ge=1, le=3)


class Message(_Action):
    action: Literal["message"]
    text: RequiredRelayedText = Field(min_length=1, max_length=4000)
    sessionId: SessionId | None = None
    clientMsgId: RelayedId | None = Field(default=None, max_length=64)
    seq: int | None = Field(default=None, ge=0, le=MAX_SEQ)
    # Addition (v2, issue 12): a seeker who chose to send contact details anyway.
    share: bool = False


class _ChatAction(_Action):
    """An action about one chat: `sessionId` names it (a seeker's only chat when left out)."""

    action: str
    sessionId: SessionId | None = None


class Typing(_ChatAction):
    action: Literal["typing"]


class End(_ChatAction):
    action: Literal["end"]


class Report(_ChatAction):
    action: Literal["report"]
    reason: ReportReason
    details: str | None = Field(default=None, max_length=1000)


class Block(_ChatAction):
    action: Literal["block"]


class Feedback(_Action):
    action: Literal["feedback"]
    sessionId: SessionId
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=1000)
    # Addition (v2, issue 12): distress after the chat, and the page's own copy of the answer
    # it gave before (for the change: the server keeps nothing to pair them with).
    distress: Distress | None = None
    distressBefore: Distress | None = None


class Resources(_Action):
    action: Literal["resources"]
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")
    topic: TopicId | None = None


class Transfer(_Action):
    action: Literal["transfer"]
    sessionId: SessionId
    note: RelayedText | None = Field(default=None, max_length=500)


class Forget(_Action):
    action: Literal["forget"]
    # Addition (v2, issue 13): the return key kept on the device, whose link goes too.
    returnKey: ReturnKey | None = None


class Remember(_ChatAction):
    """Addition (v2, issue 13): the seeker opts in to a return key for the volunteer of this
    chat (in progress or just ended); the server keeps only the key's hash."""

    action: Literal["remember"]
    returnKey: ReturnKey


class Assess(_ChatAction):
    """Addition (v2): the volunteer's own judgement of the chat's risk level."""

    action: Literal["assess"]
    level: AssessLevel


class Referral(_ChatAction):
    """Addition (v2, issue 12): the volunteer sends the seeker an entry of the directory."""

    action: Literal["referral"]
    id: ReferralId


class Checkin(_Action):
    """Addition (v2, issue 12): how a volunteer is, after a risk chat or a shift."""

    action: Literal["checkin"]
    state: CheckinState


class Escalate(_ChatAction):
    """Addition (v2, issue 12): the volunteer asks the supervisors on shift for help; the note
    is relayed in their alert and never stored."""

    action: Literal["escalate"]
    note: RelayedText | None = Field(default=None, max_length=500)


class Join(_Action):
    """Addition (v2, issue 12): a supervisor steps into a chat."""

    action: Literal["join"]
    sessionId: SessionId


class Whisper(_ChatAction):
    """Addition (v2, issue 12): between a chat's volunteer and its joined supervisor only."""

    action: Literal["whisper"]
    text: RequiredRelayedText = Field(min_length=1, max_length=4000)


class Leave(_Action):
    """Addition (v2, issue 12): the joined supervisor leaves the chat."""

    action: Literal["leave"]
    sessionId: SessionId


class Board(_Action):
    """Addition (v2, issue 12): a supervisor starts or stops receiving the board."""

    action: Literal["board"]
    subscribe: bool


class Ping(_Action):
    action: Literal["ping"]


class Reauth(_Action):
    """Addition (v2, issue 11): a fresh Cognito ID token extends a volunteer's connection."""

    action: Literal["reauth"]
    token: str = Field(min_length=1, max_length=16_384)  # kindred.auth.MAX_TOKEN_CHARS


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
_OP_NEEDS: dict[str, tuple[str, ...]] = {
    "invite": ("email", "name", "group"),
    "set_group": ("user", "group"),
    "disable": ("user",),
    "enable": ("user",),
    "remove": ("user",),
    "sign_out": ("user",),
}


class Accounts(_Action):
    """Addition (v2, issue 13): a coordinator lists, invites and manages staff accounts."""

    action: Literal["accounts"]
    op: AccountOp
    user: AccountId | None = None
    email: EmailAddress | None = None
    name: StaffName | None = None
    group: AccountGroup | None = None
    coordinator: bool | None = None

    @model_validator(mode="after")
    def _fields_of_the_op(self) -> "Accounts":
        missing = [name for name in _OP_NEEDS.get(self.op, ()) if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.op} needs {' and '.join(missing)}")
        if self.coordinator and self.group != "supervisors":
            raise ValueError("only a supervisor can be a coordinator")
        return self


ClientAction = Annotated[
    Match
    | Availability
    | Message
    | Typing
    | End
    | Report
    | Block
    | Feedback
    | Resources
    | Transfer
    | Forget
    | Assess
    | Referral
    | Checkin
    | Escalate
    | Join
    | Whisper
    | Leave
    | Board
    | Ping
    | Reauth
    | Accounts
    | Remember,
    Field(discriminator="action"),
]
# Every client action's model, and its name (the `action` each accepts), read off the union.
ACTION_TYPES: tuple[type[_Action], ...] = get_args(get_args(ClientAction)[0])
# Each action's model by its name: a frame is validated by its own model alone (the union's
# discriminator, done by hand), so a process builds a model's validator when it first parses
# that action, not the whole union's at import (the cold start).
_MODEL_OF: dict[str, type[_Action]] = {
    name: model
    for model in ACTION_TYPES
    for name in get_args(model.model_fields["action"].annotation)
}
ACTIONS: frozenset[str] = frozenset(_MODEL_OF)


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


def _describe(exc: ValidationError, action: str) -> str:
    """Name the failing fields without echoing their values (they may be what a seeker wrote)."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        # Located as the discriminated union locates it: the action's tag, then the fields.
        at = (action, *err["loc"])
        loc = [str(p) for p in at if not str(p).isdigit() or len(at) > 1]
        # The discriminator's own tag is the first loc element; it is not a field.
        field = ".".join(loc[1:] if len(loc) > 1 else loc) or "frame"
        parts.append(f"{field}: {err['msg']}")
    return "; ".join(parts[:3])


def parse_action(body: str | None) -> ClientAction:
    """Parse one client frame; a bad one raises ProtocolError with the protocol's error code."""
    if body is None or len(body.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
        if body is None:
            raise ProtocolError("invalid_json", "The frame is empty.")
        raise ProtocolError("too_large", "The frame is larger than 32 KB.")
    try:
        data: Any = json.loads(body)
    except ValueError:
        raise ProtocolError("invalid_json", "The frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ProtocolError("invalid_json", "The frame must be a JSON object.")
    action = data.get("action")
    client_msg_id = data.get("clientMsgId") if isinstance(data.get("clientMsgId"), str) else None
    if not isinstance(action, str) or action not in ACTIONS:
        raise ProtocolError(
            "unknown_action",
            "Unknown action." if action is not None else "The frame has no action.",
            action=action if isinstance(action, str) and len(action) <= 40 else None,
            client_msg_id=client_msg_id,
        )
    try:
        parsed = _MODEL_OF[action].model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(
            "invalid_request", _describe(exc, action), action=action, client_msg_id=client_msg_id
        ) from None
    return cast(ClientAction, parsed)


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
