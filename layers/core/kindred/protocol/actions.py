"""The client actions of the wire format, and the parse of a client frame (PROTOCOL.md v1).

kindred.protocol re-exports every name here, imported on first use: a function that parses
no client frame (connect, disconnect, the matcher, the sweeper) never builds these models.
"""

import json
from typing import Annotated, Any, Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kindred.protocol import (
    MAX_FRAME_BYTES,
    MAX_SEQ,
    AccountGroup,
    AccountId,
    AccountOp,
    AssessLevel,
    CheckinState,
    Distress,
    EmailAddress,
    LanguageTag,
    ProtocolError,
    ReferralId,
    RelayedId,
    RelayedText,
    ReportReason,
    RequiredRelayedText,
    ReturnKey,
    SessionId,
    StaffName,
    SuicidalNow,
    TopicId,
)


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


# What each op of `accounts` needs.
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
