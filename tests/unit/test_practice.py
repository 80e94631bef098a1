"""Practice chats (issue 13): trainees, the supervisor who plays the seeker, never real."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWK
from jwt.algorithms import RSAAlgorithm

from kindred import auth
from kindred.auth import AuthError, authorize
from kindred.board import board_frame
from kindred.connections import connect as on_connect
from kindred.matching import run_matcher
from kindred.observability import metrics
from kindred.requests import ConnectRequest
from tests.unit.harness import (
    FakeServices,
    connect,
    drop,
    literal_settings,
    send,
    store_unchanged,
    volunteer,
    waiting,
)

pytestmark = pytest.mark.usefixtures("tagged_detector")

HIGH = "[high] I have a plan"
ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Test"
CLIENT_ID = "console-client"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc/prod/$connect"


@pytest.fixture(autouse=True)
def no_metrics_yet() -> Iterator[None]:
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def practice_seeker(svc: FakeServices, cid: str, supervisor_sub: str = "sup-1") -> str:
    """A supervisor's practice connection, as $connect records it after the authorizer."""
    on_connect(
        svc,
        ConnectRequest(cid, "seeker", supervisor_sub, "Robin", {"lang": "en"}, practice=True),
    )
    return cid


def trainee(svc: FakeServices, cid: str = "t1", **availability: Any) -> str:
    return volunteer(svc, cid, "trainee", **availability)


def matched(svc: FakeServices, cid: str) -> dict[str, Any] | None:
    return next((f for f in svc.notifier.take(cid) if f["type"] == "matched"), None)


def practice_chat(svc: FakeServices, intro: str | None = None) -> str:
    """Trainee t1 in a practice chat with p1 (a supervisor playing the seeker); the session."""
    trainee(svc)
    practice_seeker(svc, "p1")
    send(svc, "p1", {"action": "match", **({"intro": intro} if intro else {})})
    run_matcher(svc)
    frame = matched(svc, "t1")
    assert frame is not None
    svc.notifier.forget_all()
    return str(frame["sessionId"])


# ---------------------------------------------------------------- who is matched with whom


def test_a_practice_seeker_is_matched_with_a_trainee_only(svc: FakeServices) -> None:
    """Given a real volunteer and a trainee on shift, a practice seeker and a real seeker waiting
    When the matcher runs
    Then the practice seeker gets the trainee and the real seeker the volunteer, never the
    other way round, whoever queued first."""
    volunteer(svc, "v1")
    trainee(svc)
    practice_seeker(svc, "p1")
    send(svc, "p1", {"action": "match"})
    svc.clock.advance(1)
    waiting(svc, "s1")

    assert run_matcher(svc) == 1  # the real chats it started

    to_trainee, to_volunteer = matched(svc, "t1"), matched(svc, "v1")
    assert to_trainee is not None and to_volunteer is not None
    assert svc.store.sessions.live(to_trainee["sessionId"]).seeker_id == "p1"
    assert svc.store.sessions.live(to_volunteer["sessionId"]).seeker_id == "s1"
    assert svc.store.sessions.live(to_trainee["sessionId"]).practice
    assert not svc.store.sessions.live(to_volunteer["sessionId"]).practice


def test_nobody_crosses_over_when_only_the_other_kind_is_on_shift(svc: FakeServices) -> None:
    """Given only a trainee on shift and a real seeker waiting, then only a volunteer on
    shift and a practice seeker waiting
    When the matcher runs
    Then nobody is matched: a trainee never gets a real seeker, a volunteer never a practice one."""
    trainee(svc)
    waiting(svc, "s1")
    assert run_matcher(svc) == 0
    assert matched(svc, "t1") is None and matched(svc, "s1") is None

    send(svc, "t1", {"action": "availability", "available": False})
    send(svc, "s1", {"action": "end"})
    volunteer(svc, "v1")
    practice_seeker(svc, "p1")
    send(svc, "p1", {"action": "match"})
    run_matcher(svc)
    assert matched(svc, "v1") is None and matched(svc, "p1") is None


def test_the_trainee_sees_a_practice_chat_as_any_chat(svc: FakeServices) -> None:
    """Given a trainee on shift and a supervisor playing a seeker with an intro
    When they are matched and talk
    Then the trainee's frames are those of a real chat: `matched` with the intro, the
    seeker's messages, `ended`; nothing says practice."""
    trainee(svc)
    practice_seeker(svc, "p1")
    send(svc, "p1", {"action": "match", "intro": "I cannot sleep", "topics": ["anxiety"]})
    run_matcher(svc)
    to_trainee = svc.notifier.take("t1")
    session = to_trainee[-1]["sessionId"]
    send(svc, "p1", {"action": "message", "sessionId": session, "text": "hello"})
    send(svc, "p1", {"action": "end"})

    assert to_trainee[-1] == {
        "type": "matched",
        "sessionId": session,
        "peer": {"alias": svc.conn("p1").alias, "role": "seeker"},
        "topics": ["anxiety"],
        "intro": "I cannot sleep",
    }
    later = svc.notifier.take("t1")
    assert [f["type"] for f in later] == ["message", "ended"]
    assert "practice" not in str(to_trainee + later)


def test_real_seekers_never_count_practice_seekers_or_trainees(svc: FakeServices) -> None:
    """Given two practice seekers waiting and a trainee on shift (busy with another)
    When a real seeker asks for a chat
    Then their place is 1 and nobody is on shift for them (the crisis lines come, as with
    nobody on shift); the practice seekers hear their own places among practice seekers."""
    trainee(svc, capacity=1)
    practice_seeker(svc, "p0")
    send(svc, "p0", {"action": "match"})
    run_matcher(svc)  # the trainee is busy now
    for cid in ("p1", "p2"):
        practice_seeker(svc, cid)
        send(svc, cid, {"action": "match"})
    svc.notifier.forget_all()

    waiting(svc, "s1")

    queued, *rest = svc.notifier.take("s1")
    assert queued["type"] == "queued"
    assert queued["position"] == 1 and queued["volunteersOnShift"] == 0
    assert [f["type"] for f in rest] == ["resources"]
    practice_seeker(svc, "p3")
    send(svc, "p3", {"action": "match"})
    practice_queued = svc.notifier.take("p3")[0]
    assert practice_queued["position"] == 3 and practice_queued["volunteersOnShift"] == 1
    assert "estimatedWaitSeconds" not in practice_queued


# ---------------------------------------------------------------- never counted


def test_a_practice_chat_adds_no_metric_no_checkin_and_alerts_no_supervisor(
    svc: FakeServices,
) -> None:
    """Given a supervisor on shift, and another playing a seeker who queues with a check-in
    and an intro at high risk
    When the trainee takes the chat, the seeker writes a risk, ends it and gives feedback
    Then the trainee hears the risk alert as in a real chat, but no metric of it is added,
    the month's check-in totals stay empty, no supervisor on shift is alerted and the
    trainee is not paused."""
    connect(svc, "sup", "supervisor", user_id="sup-2", alias="Kim")
    checkin = {"distress": 8}
    trainee(svc)
    practice_seeker(svc, "p1")
    metrics.clear_metrics()  # (connecting the staff counts, as it always does)

    send(svc, "p1", {"action": "match", "intro": "hi", "checkin": checkin})
    run_matcher(svc)
    session = svc.notifier.take("t1")[-1]["sessionId"]
    send(svc, "p1", {"action": "message", "sessionId": session, "text": HIGH})
    alert = [f for f in svc.notifier.take("t1") if f["type"] == "alert"]
    send(svc, "p1", {"action": "end"})
    send(svc, "p1", {"action": "feedback", "sessionId": session, "rating": 5, "distress": 2})

    assert [(a["kind"], a["level"]) for a in alert] == [("risk", "high")]
    # Only the matcher's look at the real queue, which is right: nobody real waits.
    recorded = dict(metrics.metric_set)
    assert recorded.keys() <= {"SeekersWaiting"}
    assert all(v["Value"] == [0.0] for v in recorded.values())
    assert svc.store.impact.alive() == []
    assert [f for f in svc.notifier.take("sup") if f["type"] == "alert"] == []
    assert svc.slot("t1").paused_until is None


def test_the_same_chat_for_real_is_counted(svc: FakeServices) -> None:
    """Given the same steps with a real seeker and a volunteer (the test above can fail)
    Then ChatsStarted is counted, the supervisor alerted and the volunteer paused."""
    connect(svc, "sup", "supervisor", user_id="sup-2", alias="Kim")
    volunteer(svc, "v1")
    connect(svc, "s1")
    send(svc, "s1", {"action": "match", "intro": "hi"})
    run_matcher(svc)
    session = svc.notifier.take("v1")[-1]["sessionId"]
    send(svc, "s1", {"action": "message", "sessionId": session, "text": HIGH})
    send(svc, "s1", {"action": "end"})

    assert "ChatsStarted" in metrics.metric_set
    assert [f["kind"] for f in svc.notifier.take("sup") if f["type"] == "alert"] == ["risk"]
    assert svc.slot("v1").paused_until is not None


def test_a_report_or_block_in_practice_keeps_nothing(svc: FakeServices) -> None:
    """Given a practice chat
    When the practice seeker reports the trainee, and in another practice chat blocks them
    Then each hears the same answer as in a real chat, but no report or block is kept and
    no supervisor is alerted."""
    connect(svc, "sup", "supervisor", user_id="sup-2", alias="Kim")
    session = practice_chat(svc)
    send(svc, "p1", {"action": "report", "sessionId": session, "reason": "harassment"})
    assert [f["type"] for f in svc.notifier.take("p1")] == ["reported"]
    send(svc, "p1", {"action": "block", "sessionId": session})

    assert svc.store.reports.alive() == [] and svc.store.blocks.alive() == []
    assert [f for f in svc.notifier.take("sup") if f["type"] == "alert"] == []
    assert [f["reason"] for f in svc.notifier.take("t1") if f["type"] == "ended"] == ["blocked"]


# ---------------------------------------------------------------- the practice connection


def test_a_practice_seeker_who_drops_ends_the_chat_at_once_and_never_resumes(
    svc: FakeServices,
) -> None:
    """Given a practice chat, and the practice seeker's resume token
    When their socket drops, and someone connects with that token
    Then the trainee hears `ended` `peer_left` at once (no grace period), and the new
    connection is a plain new seeker who took over nothing."""
    trainee(svc)
    practice_seeker(svc, "p1")
    send(svc, "p1", {"action": "match"})
    token = svc.notifier.take("p1")[0]["resumeToken"]
    run_matcher(svc)
    svc.notifier.forget_all()

    drop(svc, "p1")
    on_connect(svc, ConnectRequest("s9", "seeker", "", "", {"resume": token}))

    assert [(f["type"], f.get("reason")) for f in svc.notifier.take("t1")][:1] == [
        ("ended", "peer_left")
    ]
    assert svc.conn("s9").state == "idle" and not svc.conn("s9").practice


def test_the_board_marks_practice_chats_and_trainees_and_leaves_them_out_of_the_queue(
    svc: FakeServices,
) -> None:
    """Given a practice chat, another practice seeker waiting and a real chat
    When the board is built
    Then the practice chat's row and the trainee's have `practice: true`, the real ones none,
    and the queue counts nobody."""
    practice_chat(svc)
    practice_seeker(svc, "p2")
    send(svc, "p2", {"action": "match"})
    volunteer(svc, "v1")
    waiting(svc, "s1")
    run_matcher(svc)

    frame = board_frame(svc, svc.store.board_view()).model_dump(exclude_none=True)

    assert frame["queue"]["waiting"] == 0
    assert {c["volunteer"]: c.get("practice") for c in frame["chats"]} == {
        "Vol t1": True,
        "Vol v1": None,
    }
    assert {(v["name"], v["role"], v.get("practice")) for v in frame["volunteers"]} == {
        ("Vol t1", "trainee", True),
        ("Vol v1", "volunteer", None),
    }


def test_a_trainee_sets_availability_but_cannot_watch_the_board(svc: FakeServices) -> None:
    """Given a trainee's console
    When it says it is available, and asks for the board
    Then it hears its `status`, and `not_allowed` for the board."""
    connect(svc, "t1", "trainee", user_id="user-t1", alias="Tia")
    send(svc, "t1", {"action": "availability", "available": True})
    send(svc, "t1", {"action": "board", "subscribe": True})

    frames = svc.notifier.take("t1")
    assert frames[0]["type"] == "status" and frames[0]["available"] is True
    assert (frames[1]["type"], frames[1]["code"]) == ("error", "not_allowed")


# ---------------------------------------------------------------- the authorizer


@pytest.fixture(scope="module")
def pool_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class _Keys:
    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self._jwk = PyJWK.from_json(RSAAlgorithm.to_jwk(key.public_key()), algorithm="RS256")

    def key_for(self, kid: str) -> PyJWK:
        return self._jwk


def _token(key: rsa.RSAPrivateKey, groups: list[str] | None) -> str:
    now = int(time.time())
    claims = {
        "sub": "sup-sub",
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
        "name": "Robin",
        "cognito:groups": groups,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def _authorize(key: rsa.RSAPrivateKey, query: dict[str, str]) -> dict[str, Any]:
    event = {
        "methodArn": METHOD_ARN,
        "requestContext": {"connectionId": "c1"},
        "queryStringParameters": query,
    }
    settings = literal_settings(
        cognito_client_id=CLIENT_ID, cognito_issuer=ISSUER, allowed_origins="*"
    )
    return authorize(event, settings, _Keys(key))


def test_a_supervisor_token_with_practice_is_a_practice_seeker(
    pool_key: rsa.RSAPrivateKey,
) -> None:
    """Given a supervisor signed in to the console
    When the console connects with `?practice=1&token=...`
    Then the connection is allowed as a seeker marked practice, of that account."""
    token = _token(pool_key, ["supervisors"])
    policy = _authorize(pool_key, {"practice": "1", "token": token})
    assert policy["context"] == {
        "role": "seeker",
        "userId": "sup-sub",
        "alias": "Robin",
        "practice": "1",
    }


@pytest.mark.parametrize("groups", [["volunteers"], ["trainees"], ["volunteers", "trainees"]])
def test_practice_with_a_token_that_is_not_a_supervisors_is_denied(
    pool_key: rsa.RSAPrivateKey, groups: list[str]
) -> None:
    """Given a volunteer's or a trainee's token
    When it asks for a practice connection
    Then the answer is Deny (403), and no role is granted."""
    policy = _authorize(pool_key, {"practice": "1", "token": _token(pool_key, groups)})
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "context" not in policy


def test_practice_without_a_token_is_refused_never_a_plain_seeker(
    pool_key: rsa.RSAPrivateKey,
) -> None:
    """Given an anonymous page (or a supervisor whose token was lost)
    When it connects with `?practice=1` and no token
    Then it is refused with 401: never admitted as a seeker who could reach a real volunteer."""
    with pytest.raises(AuthError) as refused:
        _authorize(pool_key, {"practice": "1"})
    assert (refused.value.reason, refused.value.status) == ("practice_without_token", 401)


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        (["trainees"], "trainee"),
        (["trainees", "volunteers"], "volunteer"),
        (["trainees", "supervisors"], "supervisor"),
    ],
)
def test_a_trainee_token_is_a_trainee_below_volunteers(
    pool_key: rsa.RSAPrivateKey, groups: list[str], role: str
) -> None:
    """Given a token in the trainees group (and maybe another)
    When it connects
    Then its role is trainee, unless a volunteers or supervisors group wins."""
    policy = _authorize(pool_key, {"token": _token(pool_key, groups)})
    assert policy["context"]["role"] == role
    assert "practice" not in policy["context"]


def test_the_authorizer_role_and_the_protocol_role_agree() -> None:
    """The authorizer's roles are the connection's (kindred.protocol.Role)."""
    from typing import get_args

    from kindred.protocol import Role

    assert set(get_args(auth.Role)) == set(get_args(Role))


def test_a_practice_chat_keeps_no_return_key(svc: FakeServices) -> None:
    """Given a supervisor playing a seeker who sends a return key with `match` and then asks
    to `remember` it, when the practice chat runs, then no link is written, `remember` is
    refused `not_allowed`, and nothing else changes: a played seeker leads back to nobody."""
    key = "K" * 43
    trainee(svc)
    practice_seeker(svc, "p1")
    send(svc, "p1", {"action": "match", "returnKey": key, "sameVolunteer": True})
    run_matcher(svc)
    assert matched(svc, "t1") is not None
    queued = [f for f in svc.notifier.take("p1") if f["type"] == "queued"]
    assert queued and queued[0].get("sameVolunteer") is False
    with store_unchanged(svc):
        send(svc, "p1", {"action": "remember", "returnKey": key})
    [refusal] = svc.notifier.take("p1")
    assert (refusal["type"], refusal["code"]) == ("error", "not_allowed")
    assert dict(svc.store.return_links) == {}
    assert svc.conn("p1").return_hash is None


def test_a_practice_escalation_reaches_only_the_supervisor_playing_the_seeker(
    svc: FakeServices,
) -> None:
    """Given two supervisors on shift, one of whom plays the seeker of a trainee's practice
    chat, when the trainee asks a supervisor for help, then only the player's console gets
    the `escalation` alert, marked practice, the trainee hears `escalated` as in a real chat,
    and no Escalations metric is counted."""
    connect(svc, "boss", "supervisor", user_id="sup-1", alias="Sam")
    connect(svc, "other", "supervisor", user_id="sup-2", alias="Ola")
    session = practice_chat(svc)
    metrics.clear_metrics()

    send(svc, "t1", {"action": "escalate", "sessionId": session, "note": "Practising"})

    [alert] = [f for f in svc.notifier.take("boss") if f["type"] == "alert"]
    assert (alert["kind"], alert["practice"], alert["note"]) == ("escalation", True, "Practising")
    assert [f for f in svc.notifier.take("other") if f["type"] == "alert"] == []
    [answer] = svc.notifier.take("t1")
    assert (answer["type"], answer["sent"]) == ("escalated", True)
    assert "Escalations" not in metrics.metric_set
