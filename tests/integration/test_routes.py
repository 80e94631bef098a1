"""Route discipline on moto: a function serves only its template routes, as each role allows."""

from __future__ import annotations

import json
from typing import Any

from tests.world import World, event


def _on_route(world: World, directory: str, cid: str, route: str, frame: dict[str, Any]) -> None:
    """A frame delivered to functions/<directory> on `route`, whatever API Gateway would do."""
    e = event("message")
    e["requestContext"]["connectionId"] = cid
    e["requestContext"]["routeKey"] = route
    e["body"] = json.dumps(frame)
    assert world.invoke(directory, e) == {"statusCode": 200}


def test_a_function_refuses_a_route_it_does_not_serve(world: World) -> None:
    """Given a waiting seeker and a seeker who has not asked yet, when a `match` reaches the
    chat function (on the match route, or on $default), and a `message` reaches the match
    function, then each is answered `unknown_action` and nothing is served: the seeker is not
    queued and nothing is relayed."""
    seeker = world.connect()
    _on_route(world, "chat", seeker, "match", {"action": "match"})
    _on_route(world, "chat", seeker, "$default", {"action": "match"})
    _on_route(world, "match", seeker, "message", {"action": "message", "text": "hi"})
    frames = world.frames(seeker)
    assert [(f["type"], f.get("code")) for f in frames] == [("error", "unknown_action")] * 3

    world.send(seeker, {"action": "match"})  # through the template's routing: served
    assert world.types(seeker)[0] == "queued"
