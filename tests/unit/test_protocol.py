"""The wire format: every client action parses, every bad frame gets the protocol's error code."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kindred.protocol import (
    ACTIONS,
    Accounts,
    Alert,
    Assess,
    Assessed,
    Availability,
    Block,
    Board,
    Checkin,
    End,
    Ended,
    ErrorFrame,
    Escalate,
    Feedback,
    Forget,
    Forgotten,
    Join,
    Leave,
    Match,
    Matched,
    Message,
    MessageOut,
    Peer,
    Ping,
    Pong,
    Position,
    ProtocolError,
    Queued,
    Reauth,
    Referral,
    Remember,
    Report,
    Reported,
    ResourceItem,
    Resources,
    ResourcesOut,
    Status,
    Thanks,
    Transfer,
    Typing,
    TypingOut,
    Whisper,
    parse_action,
)

LIMIT = 32 * 1024  # the protocol's frame limit, written out: not the code's own constant


def _refused(frame: dict[str, Any] | str | None) -> ProtocolError:
    body = frame if frame is None or isinstance(frame, str) else json.dumps(frame)
    with pytest.raises(ProtocolError) as caught:
        parse_action(body)
    return caught.value


# ---- every action, minimal and full --------------------------------------------------------

MINIMAL: list[tuple[dict[str, Any], type]] = [
    ({"action": "match"}, Match),
    ({"action": "availability", "available": False}, Availability),
    ({"action": "message", "text": "h"}, Message),
    ({"action": "typing"}, Typing),
    ({"action": "end"}, End),
    ({"action": "report", "reason": "other"}, Report),
    ({"action": "block"}, Block),
    ({"action": "feedback", "sessionId": "s1", "rating": 1}, Feedback),
    ({"action": "resources"}, Resources),
    ({"action": "transfer", "sessionId": "s1"}, Transfer),
    ({"action": "forget"}, Forget),
    ({"action": "assess", "level": "none"}, Assess),
    ({"action": "referral", "id": "gb-cruse"}, Referral),
    ({"action": "checkin", "state": "ok"}, Checkin),
    ({"action": "ping"}, Ping),
    ({"action": "reauth", "token": "t"}, Reauth),
    ({"action": "escalate"}, Escalate),
    ({"action": "join", "sessionId": "s1"}, Join),
    ({"action": "whisper", "text": "w"}, Whisper),
    ({"action": "leave", "sessionId": "s1"}, Leave),
    ({"action": "board", "subscribe": False}, Board),
    ({"action": "accounts", "op": "list"}, Accounts),
    ({"action": "remember", "returnKey": "k" * 22}, Remember),
]

FULL: list[dict[str, Any]] = [
    {"action": "match", "topics": ["anxiety", "grief"], "language": "es-MX", "intro": "i" * 500},
    {
        "action": "availability",
        "available": True,
        "topics": ["anxiety"],
        "languages": ["en", "es"],
        "capacity": 3,
    },
    {
        "action": "message",
        "text": "t" * 4000,
        "sessionId": "s1",
        "clientMsgId": "c" * 64,
        "seq": 7,
        "share": True,
    },
    {"action": "typing", "sessionId": "s1"},
    {"action": "end", "sessionId": "s1"},
    {"action": "report", "sessionId": "s1", "reason": "harassment", "details": "d" * 1000},
    {"action": "block", "sessionId": "s1"},
    {"action": "feedback", "sessionId": "s1", "rating": 5, "comment": "c" * 1000},
    {"action": "resources", "country": "US", "topic": "anxiety"},
    {"action": "transfer", "sessionId": "s1", "note": "n" * 500},
    {"action": "forget"},
    {"action": "assess", "sessionId": "s1", "level": "imminent"},
    {"action": "referral", "sessionId": "s1", "id": "a" * 64},
    {"action": "checkin", "state": "debrief"},
    {"action": "ping"},
    {"action": "reauth", "token": "t" * 16_384},
    {"action": "escalate", "sessionId": "s1", "note": "n" * 500},
    {"action": "join", "sessionId": "s1"},
    {"action": "whisper", "sessionId": "s1", "text": "w" * 4000},
    {"action": "leave", "sessionId": "s1"},
    {"action": "board", "subscribe": True},
    {
        "action": "accounts",
        "op": "set_group",
        "user": "0a1b2c3d-aaaa-bbbb-cccc-000000000000",
        "email": "e" * 60 + "@example.org",
        "name": "n" * 80,
        "group": "supervisors",
        "coordinator": True,
    },
    {"action": "remember", "sessionId": "s1", "returnKey": "K-_9" * 32},
    {"action": "match", "topics": ["grief"], "returnKey": "k" * 128, "sameVolunteer": True},
    {"action": "forget", "returnKey": "k" * 22},
]


def test_every_action_of_the_protocol_is_covered_here() -> None:
    """Given the protocol's actions, when this module lists its frames, then none is missing."""
    assert {f["action"] for f, _ in MINIMAL} == set(ACTIONS)
    assert {f["action"] for f in FULL} == set(ACTIONS)


@pytest.mark.parametrize(("frame", "model"), MINIMAL, ids=[f["action"] for f, _ in MINIMAL])
def test_a_minimal_frame_of_each_action_parses(frame: dict[str, Any], model: type) -> None:
    """Given a frame with only the required fields, when it is parsed, then it is that action
    with the protocol's defaults."""
    action = parse_action(json.dumps(frame))
    assert isinstance(action, model)
    assert action.action == frame["action"]


def test_the_defaults_are_the_protocols() -> None:
    """Given minimal match and availability frames, when parsed, then a match has no topics and
    the connection's language, and availability has capacity 1."""
    match = parse_action('{"action": "match"}')
    assert isinstance(match, Match)
    assert (match.topics, match.language, match.intro) == ([], None, None)
    availability = parse_action('{"action": "availability", "available": true}')
    assert isinstance(availability, Availability)
    assert availability.capacity == 1 and availability.languages is None


@pytest.mark.parametrize("frame", FULL, ids=[f["action"] for f in FULL])
def test_a_full_frame_of_each_action_parses_with_every_field(frame: dict[str, Any]) -> None:
    """Given a frame with every field at its limit, when it is parsed, then every field keeps
    the value the client sent."""
    action = parse_action(json.dumps(frame))
    assert action.model_dump(exclude_none=True) == frame


def test_unknown_extra_fields_are_ignored() -> None:
    """Given a frame with a field the protocol does not know, when parsed, then it is accepted
    (additions are allowed) and the field is dropped."""
    action = parse_action('{"action": "ping", "extra": 1}')
    assert isinstance(action, Ping)
    assert "extra" not in action.model_dump()


# ---- invalid_json, unknown_action, too_large ------------------------------------------------


@pytest.mark.parametrize("body", ["not json", "{", "{'action': 'ping'}", ""])
def test_a_frame_that_is_not_json_is_invalid_json(body: str) -> None:
    """Given a frame that is not JSON, when parsed, then the error is `invalid_json`."""
    assert _refused(body).code == "invalid_json"


@pytest.mark.parametrize("body", ['[{"action": "ping"}]', '"ping"', "42", "null", "true"])
def test_a_json_value_that_is_not_an_object_is_invalid_json(body: str) -> None:
    """Given a JSON array, string, number, null or boolean, when parsed, then `invalid_json`."""
    assert _refused(body).code == "invalid_json"


def test_an_empty_body_is_invalid_json() -> None:
    """Given a frame with no body (a binary frame), when parsed, then `invalid_json`."""
    assert _refused(None).code == "invalid_json"


@pytest.mark.parametrize(
    "frame",
    [{}, {"text": "hi"}, {"action": "shout"}, {"action": 5}, {"action": None}, {"action": "PING"}],
)
def test_an_object_without_a_known_action_is_unknown_action(frame: dict[str, Any]) -> None:
    """Given a JSON object whose action is missing or not one of the protocol's, when parsed,
    then the error is `unknown_action`."""
    assert _refused(frame).code == "unknown_action"


def test_unknown_action_keeps_the_client_msg_id() -> None:
    """Given an unknown action carrying a clientMsgId, when refused, then the error frame names
    that clientMsgId so the client can tell which frame failed."""
    err = _refused({"action": "shout", "clientMsgId": "c9"})
    assert err.frame().clientMsgId == "c9"


def test_a_frame_over_32_kb_is_too_large() -> None:
    """Given a frame of more than 32 KB, when parsed, then the error is `too_large`."""
    body = json.dumps({"action": "message", "text": "x" * LIMIT})
    assert _refused(body).code == "too_large"


def test_a_frame_over_32_kb_counts_bytes_not_characters() -> None:
    """Given a frame under 32 K characters but over 32 KB in UTF-8, when parsed, then
    `too_large`."""
    body = '{"action": "message", "text": "' + "é" * 20_000 + '"}'
    assert len(body) < LIMIT < len(body.encode())
    assert _refused(body).code == "too_large"


def test_a_frame_of_exactly_32_kb_is_not_too_large() -> None:
    """Given a frame of exactly 32 KB, when parsed, then it is not refused for its size."""
    head, tail = '{"action": "ping", "pad": "', '"}'
    body = head + "p" * (LIMIT - len(head) - len(tail)) + tail
    assert len(body.encode()) == LIMIT
    assert isinstance(parse_action(body), Ping)


# ---- invalid_request names the failing field ------------------------------------------------

INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("text too long", {"action": "message", "text": "x" * 4001}, "text"),
    ("text empty", {"action": "message", "text": ""}, "text"),
    ("text missing", {"action": "message"}, "text"),
    ("capacity 0", {"action": "availability", "available": True, "capacity": 0}, "capacity"),
    ("capacity 4", {"action": "availability", "available": True, "capacity": 4}, "capacity"),
    ("six topics", {"action": "match", "topics": ["a", "b", "c", "d", "e", "f"]}, "topics"),
    ("bad topic id", {"action": "match", "topics": ["Not A Topic"]}, "topics"),
    ("rating 0", {"action": "feedback", "sessionId": "s", "rating": 0}, "rating"),
    ("rating 6", {"action": "feedback", "sessionId": "s", "rating": 6}, "rating"),
    ("rating 2.5", {"action": "feedback", "sessionId": "s", "rating": 2.5}, "rating"),
    ("bad reason", {"action": "report", "reason": "rude"}, "reason"),
    ("intro 501", {"action": "match", "intro": "x" * 501}, "intro"),
    ("note 501", {"action": "transfer", "sessionId": "s", "note": "x" * 501}, "note"),
    ("details 1001", {"action": "report", "reason": "spam", "details": "x" * 1001}, "details"),
    ("clientMsgId 65", {"action": "message", "text": "hi", "clientMsgId": "c" * 65}, "clientMsgId"),
    ("negative seq", {"action": "message", "text": "hi", "seq": -1}, "seq"),
    ("bad language", {"action": "match", "language": "english!"}, "language"),
    ("bad country", {"action": "resources", "country": "USA"}, "country"),
    ("no sessionId", {"action": "feedback", "rating": 3}, "sessionId"),
    ("no available", {"action": "availability"}, "available"),
    ("no token", {"action": "reauth"}, "token"),
    ("empty token", {"action": "reauth", "token": ""}, "token"),
    ("token 16385", {"action": "reauth", "token": "t" * 16_385}, "token"),
]


@pytest.mark.parametrize(("frame", "field"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_an_invalid_field_is_invalid_request_naming_the_field(
    frame: dict[str, Any], field: str
) -> None:
    """Given a frame whose one field breaks the protocol's rule, when parsed, then the error is
    `invalid_request`, its message names the field and its action is the frame's."""
    err = _refused(frame)
    assert err.code == "invalid_request"
    assert err.message.startswith(field)
    assert err.frame().action == frame["action"]


def test_an_error_never_echoes_what_the_user_wrote() -> None:
    """Given a 4001-character message made of one unique word, when refused, then the error
    message does not contain that word (it may be what a seeker wrote)."""
    marker = "zebrapancake"
    text = (marker * 400)[:4001]
    err = _refused({"action": "message", "text": text, "clientMsgId": "c1"})
    assert err.code == "invalid_request"
    assert marker not in err.message
    assert marker not in err.frame().wire().decode()


def test_an_error_on_a_long_intro_never_echoes_it() -> None:
    """Given an intro over 500 characters, when refused, then the intro is not in the error."""
    marker = "quietlighthouse"
    err = _refused({"action": "match", "intro": marker * 40})
    assert marker not in err.frame().wire().decode()


_texty = st.text(alphabet="abc ", max_size=3).map(lambda s: f"MRK{s}MRK")
_value = st.recursive(
    st.none() | st.booleans() | st.integers(-9, 9) | st.floats(allow_nan=False) | _texty,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(_texty, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    action=st.sampled_from(sorted(ACTIONS)),
    fields=st.dictionaries(
        st.sampled_from(
            [
                "text",
                "intro",
                "note",
                "details",
                "comment",
                "topics",
                "languages",
                "language",
                "capacity",
                "available",
                "rating",
                "reason",
                "sessionId",
                "seq",
                "country",
                "topic",
            ]
        ),
        _value,
        max_size=4,
    ),
)
def test_no_refused_frame_echoes_a_value_in_its_message(
    action: str, fields: dict[str, Any]
) -> None:
    """Given any frame of a known action with arbitrary field values, when it is refused, then
    no value it carried appears in the error message."""
    refused: ProtocolError | None = None
    try:
        parse_action(json.dumps({"action": action, **fields}))
    except ProtocolError as err:
        refused = err
    if refused is not None:
        assert refused.code == "invalid_request"
        assert "MRK" not in refused.message


# ---- server frames -----------------------------------------------------------------------


def _wire(frame: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(frame.wire())
    return data


def test_a_server_frame_on_the_wire_omits_unset_optional_fields() -> None:
    """Given server frames with optional fields left unset, when serialised, then those fields
    are absent (not null)."""
    assert _wire(Queued(position=1, resumeToken="r")) == {
        "type": "queued",
        "position": 1,
        "resumeToken": "r",
    }
    assert _wire(Position(position=2)) == {"type": "position", "position": 2}
    assert _wire(MessageOut(sessionId="s", text="hi", sentAt="2025-01-01T00:00:00.000Z")) == {
        "type": "message",
        "sessionId": "s",
        "text": "hi",
        "sentAt": "2025-01-01T00:00:00.000Z",
    }
    assert _wire(Matched(sessionId="s", peer=Peer(alias="Sam", role="volunteer"), topics=[])) == {
        "type": "matched",
        "sessionId": "s",
        "peer": {"alias": "Sam", "role": "volunteer"},
        "topics": [],
    }
    assert _wire(Alert(kind="report", sessionId="s", at="2025-01-01T00:00:00.000Z")) == {
        "type": "alert",
        "kind": "report",
        "sessionId": "s",
        "at": "2025-01-01T00:00:00.000Z",
    }
    assert _wire(ErrorFrame(code="internal", message="m")) == {
        "type": "error",
        "code": "internal",
        "message": "m",
    }
    item = ResourceItem(name="n", description="d", country="INTL", url="https://u")
    assert _wire(ResourcesOut(items=[item], reason="requested")) == {
        "type": "resources",
        "items": [{"name": "n", "description": "d", "country": "INTL", "url": "https://u"}],
        "reason": "requested",
    }


def test_a_server_frame_on_the_wire_keeps_set_optional_fields_and_falsy_values() -> None:
    """Given frames whose optional fields are set, some to 0 or an empty string, when
    serialised, then they are all present."""
    assert _wire(MessageOut(sessionId="s", text="hi", sentAt="t", clientMsgId="c1", seq=0)) == {
        "type": "message",
        "sessionId": "s",
        "text": "hi",
        "sentAt": "t",
        "clientMsgId": "c1",
        "seq": 0,
    }
    assert (
        _wire(Queued(position=1, resumeToken="r", estimatedWaitSeconds=0, reason="transfer"))[
            "reason"
        ]
        == "transfer"
    )
    assert _wire(Alert(kind="risk", sessionId="", at="t", level="high")) == {
        "type": "alert",
        "kind": "risk",
        "sessionId": "",
        "at": "t",
        "level": "high",
    }
    assert _wire(Status(available=False, capacity=1, activeChats=0)) == {
        "type": "status",
        "available": False,
        "capacity": 1,
        "activeChats": 0,
    }


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (Pong(), "pong"),
        (Reported(), "reported"),
        (Thanks(), "thanks"),
        (Forgotten(), "forgotten"),
        (TypingOut(sessionId="s"), "typing"),
        (Ended(sessionId="s", reason="peer_left"), "ended"),
    ],
)
def test_every_server_frame_carries_its_type(frame: Any, kind: str) -> None:
    """Given a server frame, when serialised, then it is one JSON object with its `type`."""
    assert _wire(frame)["type"] == kind


def test_a_protocol_error_becomes_an_error_frame() -> None:
    """Given a ProtocolError with an action and a clientMsgId, when turned into a frame, then
    the client sees the code, the message, the action and the clientMsgId."""
    frame = ProtocolError("peer_gone", "gone", action="message", client_msg_id="c1").frame()
    assert _wire(frame) == {
        "type": "error",
        "code": "peer_gone",
        "message": "gone",
        "action": "message",
        "clientMsgId": "c1",
    }


# ---- risk levels (issue 8) ---------------------------------------------------------------------


def test_the_protocols_levels_are_the_detectors() -> None:
    """Given the levels the wire carries (`matched.risk`, `alert.level`) and the levels the
    crisis detector gives, when compared, then they are the same three, lowest first."""
    from typing import get_args

    from kindred.protocol import AssessLevel, Level
    from kindred.records import LEVELS
    from kindred.safety import LEVELS as DETECTOR_LEVELS

    assert get_args(Level) == DETECTOR_LEVELS == LEVELS == ("concern", "high", "imminent")
    assert set(get_args(AssessLevel)) == {*LEVELS, "none"}


@pytest.mark.parametrize("level", ["IMMINENT", "low", "", None, 3, ["high"]])
def test_assess_takes_only_a_level_or_none(level: Any) -> None:
    """Given an `assess` frame whose level is not imminent, high, concern or none, when parsed,
    then it is refused as `invalid_request` naming the field `level`."""
    error = _refused({"action": "assess", "level": level})
    assert (error.code, error.action) == ("invalid_request", "assess")
    assert error.message.startswith("level")


def test_assess_needs_a_level() -> None:
    """Given an `assess` frame without a level, when parsed, then `invalid_request` (level)."""
    error = _refused({"action": "assess", "sessionId": "s1"})
    assert (error.code, error.message.split(":")[0]) == ("invalid_request", "level")


def test_a_risk_alert_carries_who_and_when_and_the_level() -> None:
    """Given a risk alert about a chat, when serialised, then it carries the kind, the chat, the
    time, the level, the volunteer's name, the seeker's alias and when the chat started."""
    alert = Alert(
        kind="risk",
        sessionId="s",
        at="2025-01-01T00:05:00.000Z",
        level="imminent",
        volunteer="Ana",
        seeker="Quiet River",
        startedAt="2025-01-01T00:00:00.000Z",
    )
    assert _wire(alert) == {
        "type": "alert",
        "kind": "risk",
        "sessionId": "s",
        "at": "2025-01-01T00:05:00.000Z",
        "level": "imminent",
        "volunteer": "Ana",
        "seeker": "Quiet River",
        "startedAt": "2025-01-01T00:00:00.000Z",
    }
    assert _wire(Assessed(sessionId="s", level="none")) == {
        "type": "assessed",
        "sessionId": "s",
        "level": "none",
    }


def test_a_level_outside_the_three_cannot_be_sent() -> None:
    """Given a server frame built with a level that is not one of the three, when it is made,
    then it is refused: no client ever sees a level it cannot show."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Alert.model_validate({"kind": "risk", "sessionId": "s", "at": "t", "level": "severe"})
    with pytest.raises(ValidationError):
        Matched.model_validate(
            {"sessionId": "s", "peer": {"alias": "a", "role": "seeker"}, "topics": [], "risk": True}
        )


def test_the_action_names_are_those_of_the_union_and_each_has_a_handler() -> None:
    """The action names are read off ClientAction (not listed by hand), and the chat function
    serves every action but `ping` (answered before any handler) with a handler of its own."""
    from kindred import chat
    from kindred.protocol import ACTION_TYPES, Accounts, Ping

    assert len(ACTIONS) == len(ACTION_TYPES) == 23
    assert {"match", "assess", "ping", "reauth", "checkin", "accounts", "remember"} <= ACTIONS
    # `accounts` is the admin function's alone (kindred.accounts_admin, issue 13).
    assert set(chat._HANDLERS) == set(ACTION_TYPES) - {Ping, Accounts}


# ---- hardening (issue 11): strict types, the seq bound, relayed text cleaned ----------------

# Each a value of the wrong JSON type that lax parsing would coerce (or a list for a string).
COERCIONS: list[tuple[str, dict[str, Any], str]] = [
    ("seq as a string", {"action": "message", "text": "hi", "seq": "5"}, "seq"),
    ("seq as a float", {"action": "message", "text": "hi", "seq": 1.0}, "seq"),
    ("seq as a bool", {"action": "message", "text": "hi", "seq": True}, "seq"),
    (
        "capacity as a string",
        {"action": "availability", "available": True, "capacity": "2"},
        "capacity",
    ),
    (
        "capacity as a float",
        {"action": "availability", "available": True, "capacity": 2.0},
        "capacity",
    ),
    (
        "capacity as a bool",
        {"action": "availability", "available": True, "capacity": True},
        "capacity",
    ),
    ("rating as a string", {"action": "feedback", "sessionId": "s", "rating": "5"}, "rating"),
    ("rating as a float", {"action": "feedback", "sessionId": "s", "rating": 5.0}, "rating"),
    ("rating as a bool", {"action": "feedback", "sessionId": "s", "rating": True}, "rating"),
    ("available as 1", {"action": "availability", "available": 1}, "available"),
    ("available as 0", {"action": "availability", "available": 0}, "available"),
    ("available as 'true'", {"action": "availability", "available": "true"}, "available"),
    ("text as a number", {"action": "message", "text": 5}, "text"),
    ("text as a list", {"action": "message", "text": ["hi"]}, "text"),
    (
        "clientMsgId as a number",
        {"action": "message", "text": "hi", "clientMsgId": 7},
        "clientMsgId",
    ),
    ("sessionId as a number", {"action": "typing", "sessionId": 12}, "sessionId"),
    ("topics as a string", {"action": "match", "topics": "anxiety"}, "topics"),
    ("a topic as a number", {"action": "match", "topics": [1]}, "topics"),
    (
        "languages as a string",
        {"action": "availability", "available": True, "languages": "en"},
        "languages",
    ),
    ("language as a list", {"action": "match", "language": ["en"]}, "language"),
    ("intro as a number", {"action": "match", "intro": 5}, "intro"),
    ("note as a bool", {"action": "transfer", "sessionId": "s", "note": True}, "note"),
    ("reason as a list", {"action": "report", "reason": ["spam"]}, "reason"),
    ("details as a dict", {"action": "report", "reason": "spam", "details": {"a": 1}}, "details"),
    (
        "comment as a number",
        {"action": "feedback", "sessionId": "s", "rating": 5, "comment": 1},
        "comment",
    ),
    ("country as a number", {"action": "resources", "country": 44}, "country"),
    ("level as a list", {"action": "assess", "level": ["high"]}, "level"),
    ("id as a number", {"action": "referral", "id": 12}, "id"),
]


@pytest.mark.parametrize(
    ("frame", "field"), [c[1:] for c in COERCIONS], ids=[c[0] for c in COERCIONS]
)
def test_a_field_of_the_wrong_json_type_is_refused_not_coerced(
    frame: dict[str, Any], field: str
) -> None:
    """Given a frame whose one field has the wrong JSON type ("5" for 5, 1 for true, 1.0 for
    an integer, a string for a list, a list for a string), when parsed, then it is
    `invalid_request` naming that field: the models are strict, nothing is coerced."""
    err = _refused(frame)
    assert err.code == "invalid_request"
    assert err.message.startswith(field), err.message
    assert err.frame().action == frame["action"]


def test_the_right_json_types_still_parse() -> None:
    """Given the same fields with the types the protocol gives them, then they parse as sent."""
    message = parse_action(json.dumps({"action": "message", "text": "hi", "seq": 0}))
    assert isinstance(message, Message) and message.seq == 0
    availability = parse_action(
        json.dumps(
            {"action": "availability", "available": False, "capacity": 3, "languages": ["en"]}
        )
    )
    assert isinstance(availability, Availability)
    assert (availability.available, availability.capacity) == (False, 3)
    feedback = parse_action(json.dumps({"action": "feedback", "sessionId": "s", "rating": 1}))
    assert isinstance(feedback, Feedback) and feedback.rating == 1


JS_MAX_SAFE_INTEGER = 9_007_199_254_740_991  # Number.MAX_SAFE_INTEGER, written out


def test_seq_goes_up_to_javascripts_largest_safe_integer() -> None:
    """Given `seq` at 2^53-1, then it parses; at 2^53 or far beyond, it is `invalid_request`
    naming `seq` (a browser could not read it back exactly)."""
    top = parse_action(json.dumps({"action": "message", "text": "hi", "seq": JS_MAX_SAFE_INTEGER}))
    assert isinstance(top, Message) and top.seq == JS_MAX_SAFE_INTEGER
    for too_big in (JS_MAX_SAFE_INTEGER + 1, 10**30):
        err = _refused({"action": "message", "text": "hi", "seq": too_big, "clientMsgId": "c"})
        assert err.code == "invalid_request"
        assert err.message.startswith("seq")
        assert err.client_msg_id == "c"


HIDDEN = "\u202e\u2066\u200f\x00\x1b\x7f\u0085\r"


def test_relayed_texts_arrive_without_control_or_bidirectional_characters() -> None:
    """Given a message, an intro and a transfer note laced with control characters and bidi
    overrides, when parsed, then each is the text without them, newline and tab kept."""
    message = parse_action(json.dumps({"action": "message", "text": f"a{HIDDEN}b\n\tc"}))
    assert isinstance(message, Message) and message.text == "ab\n\tc"
    match = parse_action(json.dumps({"action": "match", "intro": f"my{HIDDEN} story\n"}))
    assert isinstance(match, Match) and match.intro == "my story\n"
    transfer = parse_action(
        json.dumps({"action": "transfer", "sessionId": "s", "note": f"\u202eknows{HIDDEN}\tit"})
    )
    assert isinstance(transfer, Transfer) and transfer.note == "knows\tit"


@pytest.mark.parametrize("text", [HIDDEN, "   ", " \n\u3000 ", f" {HIDDEN}\n"])
def test_a_message_of_only_hidden_characters_or_blanks_is_refused_as_empty(text: str) -> None:
    """Given a message whose text is only control and bidi characters, or blanks (spaces, new
    lines), then it is `invalid_request` naming `text`, as an empty text is: the peer would see
    an empty message."""
    err = _refused({"action": "message", "text": text, "clientMsgId": "c1"})
    assert err.code == "invalid_request"
    assert err.message.startswith("text")
    assert err.client_msg_id == "c1"


def test_an_intro_or_note_of_only_hidden_characters_is_taken_as_empty() -> None:
    """Given an intro or a note that is only hidden characters, then it parses as an empty one
    would (an empty intro or note is allowed and relays nothing)."""
    match = parse_action(json.dumps({"action": "match", "intro": HIDDEN}))
    assert isinstance(match, Match) and match.intro == ""
    transfer = parse_action(json.dumps({"action": "transfer", "sessionId": "s", "note": HIDDEN}))
    assert isinstance(transfer, Transfer) and transfer.note == ""


def test_a_client_msg_id_with_hidden_characters_is_refused_not_changed() -> None:
    """Given a `clientMsgId` (relayed to the peer, and how the sender matches an error to its
    message) with a bidi override, then it is `invalid_request` naming it: changing it would
    break that match."""
    err = _refused({"action": "message", "text": "hi", "clientMsgId": "c\u202e1"})
    assert err.code == "invalid_request"
    assert err.message.startswith("clientMsgId")
