"""The hot path's cost: relaying one chat message is one DynamoDB read and one post."""

from __future__ import annotations

from tests.aws_calls import count_aws_calls
from tests.world import World


def _pair(world: World) -> tuple[str, str]:
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    vol = world.connect("volunteer", user_id="v", alias="V")
    world.send(vol, {"action": "availability", "available": True, "capacity": 3})
    world.run_matcher()
    world.frames(seeker), world.frames(vol)
    return seeker, vol


def test_relaying_a_message_makes_one_get_item_and_one_post(world: World) -> None:
    """Given a chat, when either side sends a message, then exactly one DynamoDB GetItem and one
    PostToConnection are made: no scan, no query, no write."""
    seeker, vol = _pair(world)
    world.send(seeker, {"action": "ping"})  # warm: clients exist, as in a warm Lambda
    assert world.types(seeker) == ["pong"]
    for sender in (seeker, vol):
        with count_aws_calls() as calls:
            world.send(sender, {"action": "message", "text": "How are you feeling tonight?"})
        assert dict(calls) == {
            ("dynamodb", "GetItem"): 1,
            ("apigatewaymanagementapi", "PostToConnection"): 1,
        }
    assert [f["type"] for f in world.frames(vol)] == ["message"]
    assert [f["type"] for f in world.frames(seeker)] == ["message"]


def test_typing_and_ping_are_as_cheap(world: World) -> None:
    """Given a chat, when a side types or pings, then typing costs one read and one post, and ping
    costs one post and no read."""
    seeker, _ = _pair(world)
    with count_aws_calls() as typing_calls:
        world.send(seeker, {"action": "typing"})
    assert dict(typing_calls) == {
        ("dynamodb", "GetItem"): 1,
        ("apigatewaymanagementapi", "PostToConnection"): 1,
    }
    with count_aws_calls() as ping_calls:
        world.send(seeker, {"action": "ping"})
    assert dict(ping_calls) == {("apigatewaymanagementapi", "PostToConnection"): 1}
