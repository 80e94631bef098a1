"""Abuse limits (issue 11) through the real handlers on moto: the connection budget at $connect,
a waiting seeker's alert once per level rise, the urgent re-queue cap, one report per side."""

from __future__ import annotations

from typing import Any

import boto3

from kindred.matching import URGENT_REQUEUES
from tests.integration.chats import start_chat
from tests.world import World

ADDRESS = "203.0.113.77"
HIGH = "I have written a letter to say goodbye and given my things away."


def _items(table: str) -> list[dict[str, Any]]:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    return dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]


def _to_next_minute(world: World) -> None:
    """Move the handlers' clock to the start of the next minute (a counter's whole minute)."""
    from kindred.aws.wiring import services

    world.advance(60 - services().clock() % 60)


def test_the_31st_connection_from_one_address_in_a_minute_is_refused_and_the_next_minute_admitted(
    world: World, aws: dict[str, str]
) -> None:
    """Given the template's default budget (30 new seeker connections per source and minute),
    When one address opens 31 seeker connections in a minute,
    Then the first 30 are admitted, the 31st is refused with 429 and writes no connection;
    a volunteer from that address is still admitted; the next minute a seeker is admitted
    again; and the address is nowhere in the table, only a keyed hash under a short TTL."""
    assert aws["MAX_CONNECTIONS_PER_SOURCE_PER_MINUTE"] == "30"
    _to_next_minute(world)
    for _ in range(30):
        world.connect(source_ip=ADDRESS)
    connections = [i for i in _items(aws["TABLE_NAME"]) if i["pk"]["S"].startswith("CONN#")]

    refused = world.connect(source_ip=ADDRESS, expect=429)
    after = _items(aws["TABLE_NAME"])
    assert not any(refused in str(item) for item in after)
    assert len([i for i in after if i["pk"]["S"].startswith("CONN#")]) == len(connections) == 30
    world.connect("volunteer", user_id="v", alias="V", source_ip=ADDRESS)

    world.advance(60)
    world.connect(source_ip=ADDRESS)

    items = _items(aws["TABLE_NAME"])
    assert ADDRESS not in str(items) and "203.0.113" not in str(items)
    counters = [i for i in items if i["pk"]["S"].startswith("SOURCE#")]
    assert len(counters) == 2  # one per minute, the same source key
    assert len({c["pk"]["S"] for c in counters}) == 1
    assert sorted(int(c["connections"]["N"]) for c in counters) == [1, 30]
    from kindred.aws.wiring import services

    for counter in counters:
        assert 0 < int(counter["expiresAt"]["N"]) - services().clock() <= 4 * 60


def test_a_match_end_loop_at_risk_alerts_once_and_is_capped(world: World) -> None:
    """Given a supervisor on shift and no volunteer,
    When a seeker whose intro reads a risk asks for a chat and leaves the queue in a loop,
    Then the supervisor gets one `risk` alert; the seeker is queued 1 + URGENT_REQUEUES
    times, gets the crisis lines every time, and then `rate_limited` after them."""
    boss = world.connect("supervisor", user_id="boss", alias="Boss")
    seeker = world.connect()
    for _ in range(1 + URGENT_REQUEUES):
        world.send(seeker, {"action": "match", "intro": HIGH})
        frames = world.frames(seeker)
        assert frames[0]["type"] == "queued"
        assert ("resources", "crisis") in [(f["type"], f.get("reason")) for f in frames]
        world.send(seeker, {"action": "end"})
    world.send(seeker, {"action": "match", "intro": HIGH})
    assert [(f["type"], f.get("reason") or f.get("code")) for f in world.frames(seeker)] == [
        ("resources", "crisis"),
        ("error", "rate_limited"),
    ]
    alerts = [f for f in world.frames(boss) if f["type"] == "alert"]
    assert [(a["kind"], a["level"]) for a in alerts] == [("risk", "high")]


def test_ten_reports_of_one_chat_make_one_item_and_one_alert(
    world: World, aws: dict[str, str]
) -> None:
    """Given a chat and a supervisor on shift, when the seeker reports it ten times, then
    they hear `reported` ten times, the table holds one report, the supervisor one alert."""
    boss = world.connect("supervisor", user_id="boss", alias="Boss")
    seeker, _, session = start_chat(world)
    world.frames(boss)
    for _ in range(10):
        world.send(seeker, {"action": "report", "reason": "harassment"})
    assert world.types(seeker) == ["reported"] * 10
    assert [f["kind"] for f in world.frames(boss) if f["type"] == "alert"] == ["report"]
    reports = [i for i in _items(aws["TABLE_NAME"]) if i["pk"]["S"].startswith("REPORT#")]
    assert [(r["pk"]["S"], r["sk"]["S"]) for r in reports] == [(f"REPORT#{session}", "BY#seeker")]
