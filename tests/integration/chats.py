"""What the integration tests set up again and again: a chat under way, and the next seeker."""

from __future__ import annotations

from typing import Any

from tests.world import World


def start_chat(world: World, **availability: Any) -> tuple[str, str, str]:
    """A seeker matched with volunteer V (user "v"), every frame of getting there read:
    (seeker, volunteer, session id). `availability` adds to the volunteer's frame."""
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    vol = world.connect("volunteer", user_id="v", alias="V")
    world.send(vol, {"action": "availability", "available": True, **availability})
    world.run_matcher()
    session: str = world.frames(seeker)[-1]["sessionId"]
    world.frames(vol)
    return seeker, vol, session


def next_seeker_types(world: World) -> list[str]:
    """The types of the frames a new seeker gets for `match`, once the matcher has run:
    ["queued", "matched"] when a volunteer's slot is free for them."""
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    world.run_matcher()
    return world.types(seeker)
