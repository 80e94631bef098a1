"""IAM as AWS enforces it, on moto: each function on its own role, no call outside it, no
grant that no call uses (local.iam)."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from kindred.aws.sealing import create_key, delete_key
from local.iam import LocalIam
from tests.integration.chats import start_chat
from tests.world import World


def _volunteer(world: World, user: str) -> str:
    vid = world.connect("volunteer", user_id=user, alias=user.title())
    world.send(vid, {"action": "availability", "available": True})
    return vid


def _every_path(world: World) -> None:
    """Every route, the matcher and the sweeper, along each path that calls something new."""
    # A chat, with every chat action; an intro (sealed) and a transfer note (sealed).
    seeker, vol, session = start_chat(world)
    world.send(seeker, {"action": "ping"})
    world.send(seeker, {"action": "typing"})
    world.send(seeker, {"action": "message", "text": "hello", "seq": 1})
    world.send(vol, {"action": "message", "text": "hi there"})
    world.send(seeker, {"action": "message", "text": "I want to end my life tonight"})
    world.send(vol, {"action": "assess", "level": "high"})
    world.send(vol, {"action": "resources", "country": "GB", "topic": "grief"})
    world.send(vol, {"action": "referral", "id": "gb-cruse"})
    assert world.frames(seeker)[-1]["type"] == "referral"
    world.send(seeker, {"action": "Unknown"})  # $default
    world.send(vol, {"action": "transfer", "sessionId": session, "note": "gentle, please"})
    other = _volunteer(world, "w")
    world.run_matcher()
    world.send(other, {"action": "report", "reason": "unsafe"})
    world.send(other, {"action": "block"})
    # Feedback on the chat just ended, with distress after, and a check-in before the next
    # `match`: both added to the month's totals (issue 12).
    ended = [f["sessionId"] for f in world.frames(seeker) if f["type"] == "ended"][-1]
    world.send(
        seeker,
        {
            "action": "feedback",
            "sessionId": ended,
            "rating": 5,
            "distress": 4,
            "distressBefore": 6,
        },
    )
    assert world.frames(seeker) == [{"type": "thanks"}]
    # The seeker asks again: the finished chat's resume ticket is replaced by a new one.
    world.send(seeker, {"action": "match", "checkin": {"distress": 5, "suicidalNow": "no"}})
    assert world.frames(seeker)[-1]["type"] == "queued"
    world.send(seeker, {"action": "forget"})
    # Both volunteers of that risk chat are paused for 5 minutes (issue 12): let it pass.
    world.advance(301)

    # A seeker with an intro who waits, drops, and resumes while the old socket still seems
    # open (the old one is closed by the server), then drops again and is swept.
    waiting = world.connect()
    world.send(waiting, {"action": "end"})
    world.send(waiting, {"action": "match", "intro": "I feel so alone", "topics": ["grief"]})
    token = world.frames(waiting)[0]["resumeToken"]
    back = world.connect(resume=token)
    world.send(back, {"action": "ping"})
    world.disconnect(waiting)
    token = next(f for f in world.frames(back) if f["type"] == "resumed")["resumeToken"]
    world.disconnect(back)
    again = world.connect(resume=token)
    world.send(again, {"action": "ping"})

    _supervision_paths(world)

    # A seeker who drops mid-chat and comes back; a volunteer who goes off shift.
    s2, v2, _ = start_chat(world)
    t2 = world.frames(s2)
    world.disconnect(s2)
    world.advance(10)
    s2b = world.connect(resume=_token_of(world, s2, t2))
    world.send(s2b, {"action": "ping"})
    world.send(v2, {"action": "availability", "available": False})
    world.disconnect(s2b)
    world.disconnect(v2)
    world.disconnect(vol)
    world.disconnect(other)
    world.advance(600)  # every grace over (the matcher ends them)
    world.run_matcher()
    _sweeper_paths(world)


def _supervision_paths(world: World) -> None:
    """Issue 12: the board (subscribed, pushed by the matcher), an escalation, a supervisor
    who joins, writes, whispers and leaves, joins again and whose connection closes (they
    leave every chat), and a seeker who resumes in a joined chat."""
    sup = world.connect("supervisor", user_id="boss", alias="Boss")
    world.send(sup, {"action": "board", "subscribe": True})
    seeker, vol, session = start_chat(world)
    world.send(vol, {"action": "escalate", "sessionId": session, "note": "please"})
    world.send(sup, {"action": "join", "sessionId": session})
    world.send(sup, {"action": "message", "sessionId": session, "text": "hello both"})
    world.send(vol, {"action": "whisper", "sessionId": session, "text": "psst"})
    world.send(sup, {"action": "whisper", "sessionId": session, "text": "ok"})
    world.send(sup, {"action": "leave", "sessionId": session})
    world.send(sup, {"action": "join", "sessionId": session})
    token = [f for f in world.all_frames(seeker) if "resumeToken" in f][-1]["resumeToken"]
    world.disconnect(seeker)
    back = world.connect(resume=token)
    world.send(back, {"action": "ping"})
    world.advance(2)
    world.run_matcher()  # the board's push
    world.send(sup, {"action": "board", "subscribe": False})
    world.disconnect(sup)
    world.send(back, {"action": "end"})


def _sweeper_paths(world: World) -> None:
    """What the sweeper repairs: open sockets it asks after, staff accounts it asks Cognito
    about, a seeker past the topic wait while a slot is free (a nudge), sockets past API
    Gateway's two hours whose $disconnect was lost (a chat's seeker gets the grace period),
    and then that grace running out with its work item lost."""
    import time

    start_chat(world)  # each $disconnect will be lost
    # A volunteer whose sign-in runs out with no `reauth`: the sweeper closes the socket.
    world.connect("volunteer", user_id="x", alias="X", expires_at=int(time.time()) + 30)
    # Another sends `availability` after it ran out: the match function closes the socket.
    late = world.connect("volunteer", user_id="y", alias="Y", expires_at=int(time.time()) + 30)
    world.advance(31)
    world.send(late, {"action": "availability", "available": True})
    closed = [c for c in world.iam.checks() if c.resource.endswith(f"/DELETE/@connections/{late}")]
    assert [(c.function, c.allowed) for c in closed] == [("MatchFunction", True)]
    waiting = world.connect()
    world.send(waiting, {"action": "match", "topics": ["grief"]})
    anxious = world.connect("volunteer", user_id="a", alias="A")
    world.send(anxious, {"action": "availability", "available": True, "topics": ["anxiety"]})
    world.advance(90)  # past the topic wait; its delayed work item is lost, not delivered
    world.sweep()
    world.advance(2 * 3600)
    world.sweep()
    world.advance(600)
    world.sweep()


def _return_key_paths(world: World) -> None:
    """Coming back (issue 13): an opt-in (`remember`: the chat function reads the chat, links
    the key, the connection holds its hash), a visit that asks for the same volunteer (the
    match function reads the link and the pool; the matcher re-points the link), a block by
    the volunteer (the seeker's connection read, the link deleted on a condition), and
    `forget` with the key."""
    key = "aXNzdWUxM2lzc3VlMTNpc3N1ZTEz"
    vol = _volunteer(world, "again")
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    world.run_matcher()
    world.send(seeker, {"action": "remember", "returnKey": key})
    assert world.frames(seeker)[-1]["type"] == "remembered"
    world.send(seeker, {"action": "end"})
    back = world.connect()
    world.send(back, {"action": "match", "returnKey": key, "sameVolunteer": True})
    world.run_matcher()
    assert world.frames(back)[-1]["type"] == "matched"
    world.send(vol, {"action": "block"})
    visit = world.connect()
    world.send(visit, {"action": "forget", "returnKey": key})
    world.disconnect(vol)


def _a_grace_longer_than_sqs_can_delay(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 1,000 s grace: its work item comes after SQS's longest delay (900 s), early, and the
    matcher sends it on until the grace is over."""
    from kindred.aws.wiring import reset_services
    from kindred.config import settings

    monkeypatch.setenv("RESUME_GRACE_SECONDS", "1000")
    settings.cache_clear()
    reset_services()
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    world.disconnect(seeker)
    world.advance(901)
    world.run_matcher()
    world.advance(100)
    world.run_matcher()


def _care_paths(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Care for volunteers (issue 12): a check-in both ways (a debrief alerts a supervisor), a
    risk chat's end pausing its volunteer on another connection of the account too, and the
    sweeper's reminder and cap of a half-hour shift (the pause's and the shift's items are
    written by every function that ends chats or takes slots, each already driven above)."""
    from kindred.aws.wiring import reset_services
    from kindred.config import settings

    monkeypatch.setenv("SHIFT_CAP_HOURS", "0.5")
    settings.cache_clear()
    reset_services()
    world.connect("supervisor", user_id="boss", alias="Boss")
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    vol = _volunteer(world, "carer")  # an account of its own: "v" has been on shift for hours
    world.run_matcher()
    assert world.frames(seeker)[-1]["type"] == "matched"
    tab = _volunteer(world, "carer")
    world.send(seeker, {"action": "message", "text": "I want to end my life tonight"})
    world.send(seeker, {"action": "end"})
    world.send(vol, {"action": "checkin", "state": "ok"})
    world.send(tab, {"action": "checkin", "state": "debrief"})
    world.advance(20 * 60)
    world.sweep()  # the reminder
    world.advance(10 * 60)
    world.sweep()  # the cap


def _admin_paths(world: World) -> None:
    """Accounts from the console (issue 13): a coordinator lists, invites, regroups (in and
    out of a group), signs out, disables, enables, disables and removes an account."""
    coordinator = world.connect("supervisor", user_id="coord", alias="C", coordinator=True)

    def accounts(**frame: Any) -> dict[str, Any]:
        world.send(coordinator, {"action": "accounts", **frame})
        (reply,) = world.frames(coordinator)
        assert reply["type"] == "accounts", reply
        return dict(reply)

    accounts(op="list")
    user = accounts(op="invite", email="iam@example.org", name="Ima", group="volunteers")["user"]
    accounts(op="set_group", user=user, group="supervisors", coordinator=True)
    accounts(op="sign_out", user=user)
    accounts(op="disable", user=user)
    accounts(op="enable", user=user)
    accounts(op="disable", user=user)
    accounts(op="remove", user=user)


def _sealing_key_paths(iam: LocalIam) -> None:
    """The SealingKey custom resource's calls at deploy, on its function's role: the stack's
    delete removes the key, its create makes one (both what functions/sealing_key does)."""
    ssm = iam.session("SealingKeyFunction").client("ssm")
    name = os.environ["SEALING_KEY_PARAMETER"]
    delete_key(ssm, name)
    create_key(ssm, name)


def _token_of(world: World, cid: str, seen: list[dict[str, Any]]) -> str:
    frames = world.all_frames(cid)
    return str([f for f in frames if "resumeToken" in f][-1]["resumeToken"])


def test_no_role_grants_an_action_its_function_never_calls(
    world: World, aws_iam: tuple[dict[str, str], LocalIam], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given every function on its own role with IAM enforced, when every route, the matcher
    and the sweeper run along each of their paths, then no call was refused, and every grant
    of every role (action and resource) was used by a call of that function."""
    _, iam = aws_iam
    _every_path(world)
    _admin_paths(world)
    _return_key_paths(world)
    _care_paths(world, monkeypatch)
    _a_grace_longer_than_sqs_can_delay(world, monkeypatch)
    _sealing_key_paths(iam)
    refused = [c for c in iam.checks() if not c.allowed]
    assert refused == []
    unused = iam.unused_grants()
    for g in unused:
        print("UNUSED", g)
    assert unused == []


def test_a_call_outside_the_role_fails_as_access_denied(
    world: World, aws_iam: tuple[dict[str, str], LocalIam]
) -> None:
    """Given the connect function's role without its sqs:SendMessage grant (the drift this
    issue found: a waiting seeker's resume nudges the matcher), when a waiting seeker resumes,
    then the handshake fails with AccessDenied, as it would in AWS; and a function's call
    outside its role (the chat function scanning the table, a GET of a connection) is refused
    the same way."""
    _, iam = aws_iam
    admin = boto3.client("iam")
    name = "kindred-local-ConnectFunction"
    policy = json.loads(
        json.dumps(admin.get_role_policy(RoleName=name, PolicyName="inline")["PolicyDocument"])
    )
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != "MatchWork"]
    admin.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(policy))

    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    token = world.frames(seeker)[0]["resumeToken"]
    world.disconnect(seeker)
    with pytest.raises(ClientError) as denied:
        world.connect(resume=token)
    # moto answers SQS's JSON protocol with an XML body, which botocore reads as code "403".
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "AccessDenied" in str(denied.value)
    assert "not authorized to perform: sqs:SendMessage" in str(denied.value)

    chat_role = iam.session("ChatFunction")
    with pytest.raises(ClientError) as scan:
        chat_role.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])
    assert "AccessDenied" in str(scan.value)
    assert "not authorized to perform: dynamodb:Scan" in str(scan.value)
    with pytest.raises(ClientError) as get:
        chat_role.client(
            "apigatewaymanagementapi", endpoint_url=os.environ["WEBSOCKET_ENDPOINT"]
        ).get_connection(ConnectionId=seeker)
    assert get.value.response["Error"]["Code"] == "ForbiddenException"
