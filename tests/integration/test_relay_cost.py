"""The hot path's cost: relaying one chat message is one DynamoDB call and one post per reader.

That one call is a conditional UpdateItem on the sender's connection item: it counts the
message against the rate limit and returns the connection (the session and the peer), in place
of the GetItem it replaced. In a chat a supervisor joined (issue 12) every item a relay reads
names the others, so a message is still that one call, and one post to each of two readers.
"""

from __future__ import annotations

from tests.aws_calls import count_aws_calls, record_aws_calls
from tests.integration.chats import start_chat
from tests.world import World


def _joined_chat(world: World) -> tuple[str, str, str, str]:
    """A chat (seeker, volunteer) that a supervisor joined; every frame so far read."""
    seeker, vol, session = start_chat(world, capacity=3)
    sup = world.connect("supervisor", user_id="boss", alias="Robin")
    world.send(sup, {"action": "join", "sessionId": session})
    for cid in (seeker, vol, sup):
        world.frames(cid)
    return seeker, vol, sup, session


def test_relaying_a_message_makes_one_update_item_and_one_post(world: World) -> None:
    """Given a chat, when either side sends a message, then exactly one DynamoDB call (an
    UpdateItem of the sender's own connection item) and one PostToConnection are made: no
    read besides, no scan, no query, no other write."""
    seeker, vol, _ = start_chat(world, capacity=3)
    world.send(seeker, {"action": "ping"})  # warm: clients exist, as in a warm Lambda
    assert world.types(seeker) == ["pong"]
    for sender in (seeker, vol):
        with record_aws_calls() as recorded:
            world.send(sender, {"action": "message", "text": "How are you feeling tonight?"})
        assert [(service, op) for service, op, _ in recorded] == [
            ("dynamodb", "UpdateItem"),
            ("apigatewaymanagementapi", "PostToConnection"),
        ]
        update = recorded[0][2]
        assert update["Key"] == {"pk": {"S": f"CONN#{sender}"}, "sk": {"S": "CONN"}}
        assert update["ReturnValues"] == "ALL_NEW"
        assert "ConditionExpression" in update
    assert [f["type"] for f in world.frames(vol)] == ["message"]
    assert [f["type"] for f in world.frames(seeker)] == ["message"]


def test_typing_and_ping_are_as_cheap(world: World) -> None:
    """Given a chat, when a side types or pings, then typing costs one UpdateItem and one post,
    and ping costs one read (a resumed connection learns its outcome from its first ping) and one
    post."""
    seeker, _, _ = start_chat(world, capacity=3)
    with count_aws_calls() as typing_calls:
        world.send(seeker, {"action": "typing"})
    assert dict(typing_calls) == {
        ("dynamodb", "UpdateItem"): 1,
        ("apigatewaymanagementapi", "PostToConnection"): 1,
    }
    with count_aws_calls() as ping_calls:
        world.send(seeker, {"action": "ping"})
    assert dict(ping_calls) == {
        ("dynamodb", "GetItem"): 1,
        ("apigatewaymanagementapi", "PostToConnection"): 1,
    }


def test_a_message_over_the_rate_limit_costs_the_same_and_reaches_nobody(world: World) -> None:
    """Given a seeker who has used up their actions for now, when they send one more message,
    then it costs the same one UpdateItem (refused by its condition) and one post: the
    `rate_limited` error to the sender, nothing to the volunteer."""
    seeker, vol, _ = start_chat(world, capacity=3)
    for _ in range(29):  # `match` was the first of the 30 allowed
        world.send(seeker, {"action": "typing"})
    world.frames(seeker), world.frames(vol)
    with count_aws_calls() as calls:
        world.send(seeker, {"action": "message", "text": "one too many", "clientMsgId": "x"})
    assert dict(calls) == {
        ("dynamodb", "UpdateItem"): 1,
        ("apigatewaymanagementapi", "PostToConnection"): 1,
    }
    [refused] = world.frames(seeker)
    assert (refused["code"], refused["action"], refused["clientMsgId"]) == (
        "rate_limited",
        "message",
        "x",
    )
    assert world.frames(vol) == []


def test_a_message_in_a_joined_chat_costs_one_update_item_and_a_post_per_reader(
    world: World,
) -> None:
    """Given a chat a supervisor joined, When each of the three writes, Then each message is
    one UpdateItem (the sender's own connection item, the rate log) and two posts; a whisper
    is one UpdateItem and one post. No read, no query, no other write."""
    seeker, vol, sup, session = _joined_chat(world)
    world.send(seeker, {"action": "ping"})  # warm clients
    for sender in (seeker, vol, sup):
        frame = {"action": "message", "text": "hello", "sessionId": session}
        if sender == seeker:
            del frame["sessionId"]
        with count_aws_calls() as calls:
            world.send(sender, frame)
        assert dict(calls) == {
            ("dynamodb", "UpdateItem"): 1,
            ("apigatewaymanagementapi", "PostToConnection"): 2,
        }
    for sender in (vol, sup):
        with count_aws_calls() as calls:
            world.send(sender, {"action": "whisper", "sessionId": session, "text": "psst"})
        assert dict(calls) == {
            ("dynamodb", "UpdateItem"): 1,
            ("apigatewaymanagementapi", "PostToConnection"): 1,
        }
    assert [f["type"] for f in world.frames(seeker)] == ["pong", "message", "message"]
