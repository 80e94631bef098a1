"""What one sweeper run reads (issue 14): what is open, never the whole table."""

from __future__ import annotations

from typing import Any

import pytest

from kindred.aws import layout
from tests.aws_calls import record_aws_calls
from tests.integration.chats import start_chat
from tests.world import World

OPEN_PARTITIONS = {
    layout.QUEUE_PK,
    layout.PRACTICE_QUEUE_PK,
    layout.POOL_PK,
    layout.SHIFT_PK,
    layout.BOARD_PK,
}


def _reads(calls: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    return [(op, params) for service, op, params in calls if service == "dynamodb"]


def _partition_of(params: dict[str, Any]) -> str:
    return str(params["ExpressionAttributeValues"][":pk"]["S"])


def test_an_idle_run_is_six_queries_of_empty_partitions_and_logs_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """
    Given a deployment nobody is using
    When the sweeper runs
    Then it reads the connections' index and the five open partitions, one Query each,
    makes no other call, repairs nothing and writes no log line
    """
    capsys.readouterr()
    with record_aws_calls() as calls:
        done = world.sweep()

    reads = _reads(calls)
    assert done == {}
    assert [service for service, _, _ in calls] == ["dynamodb"] * 6
    assert [op for op, _ in reads] == ["Query"] * 6
    (index,) = [p for _, p in reads if p.get("IndexName")]
    assert index["IndexName"] == layout.CENSUS_INDEX
    assert {_partition_of(p) for _, p in reads if not p.get("IndexName")} == OPEN_PARTITIONS
    assert all(p.get("ConsistentRead") is not True for _, p in reads)
    assert "swept" not in capsys.readouterr().out


def test_a_run_reads_what_is_open_and_never_an_ended_chat(world: World) -> None:
    """
    Given a chat that ended (its item is kept SessionRetentionHours) and one going on
    When the sweeper runs
    Then it makes no Scan; it reads the open connections' items and the active chat's item,
    and not the ended chat's, nor any report, block or care item
    """
    seeker, vol, ended = start_chat(world)
    world.send(seeker, {"action": "end"})
    world.send(vol, {"action": "report", "reason": "unsafe"})
    other, vol2, active = start_chat(world)

    with record_aws_calls() as calls:
        world.sweep()

    reads = _reads(calls)
    assert "Scan" not in {op for op, _ in reads}
    got = [
        (key["pk"]["S"], key["sk"]["S"])
        for op, params in reads
        if op == "BatchGetItem"
        for request in params["RequestItems"].values()
        for key in request["Keys"]
    ]
    assert (f"SESSION#{active}", layout.SESSION_SK) in got
    assert (f"SESSION#{ended}", layout.SESSION_SK) not in got
    open_ids = {seeker, vol, other, vol2}
    assert {(f"CONN#{cid}", layout.CONN_SK) for cid in open_ids} <= set(got)
    assert {pk.split("#")[0] for pk, _ in got} == {"CONN", "SESSION"}
    queried = {_partition_of(p) for op, p in reads if op == "Query" and not p.get("IndexName")}
    assert queried >= OPEN_PARTITIONS
    assert not {q for q in queried if q.startswith(("REPORT#", "BLOCK#", "CARE#", "SESSION#"))}


def _writes(
    calls: list[tuple[str, str, dict[str, Any]]],
) -> list[tuple[str, dict[str, Any]]]:
    """Every item write in these calls as (Put, Update or Delete, its parameters)."""
    writes: list[tuple[str, dict[str, Any]]] = []
    for service, op, params in calls:
        if service != "dynamodb":
            continue
        if op == "TransactWriteItems":
            writes += [next(iter(item.items())) for item in params["TransactItems"]]
        elif op == "BatchWriteItem":
            for requests in params["RequestItems"].values():
                for request in requests:
                    kind, body = next(iter(request.items()))
                    writes.append((kind.removesuffix("Request"), body))
        elif op in ("PutItem", "UpdateItem", "DeleteItem"):
            writes.append((op.removesuffix("Item"), params))
    return writes


def test_a_conversation_writes_the_census_index_only_when_a_connection_comes_and_goes(
    world: World,
) -> None:
    """
    Given a seeker and a volunteer in a chat: messages, typing, a ping, the end, both gone
    When every write they cause is looked at
    Then `census` (the key of the sweeper's keys-only index) is set only by the Put of a
    connection item, and no update of any item names it: so only a connection's creation
    and deletion write to the index (what bench-cost counts, $0.0025 per 1,000)
    """
    with record_aws_calls() as calls:
        seeker, vol, _ = start_chat(world)
        for n in range(3):
            world.send(seeker, {"action": "typing"})
            world.send(seeker, {"action": "message", "text": f"hello {n}"})
            world.send(vol, {"action": "message", "text": f"hi {n}"})
        world.send(vol, {"action": "ping"})
        world.send(seeker, {"action": "end"})
        world.disconnect(seeker)
        world.disconnect(vol)
        world.sweep()

    writes = _writes(calls)
    puts = [body["Item"] for kind, body in writes if kind == "Put"]
    census_puts = [item for item in puts if layout.CENSUS_ATTR in item]
    assert len(census_puts) == 2  # the two connections, on $connect
    assert all(item["sk"]["S"] == layout.CONN_SK for item in census_puts)
    assert all(item["pk"]["S"].startswith("CONN#") for item in census_puts)
    updates = [body for kind, body in writes if kind == "Update"]
    assert any(body["Key"]["pk"]["S"].startswith("CONN#") for body in updates)
    for body in updates:
        names = set(body.get("ExpressionAttributeNames", {}).values())
        assert layout.CENSUS_ATTR not in names
        assert layout.CENSUS_ATTR not in body.get("UpdateExpression", "")
    deleted = [body["Key"]["pk"]["S"] for kind, body in writes if kind == "Delete"]
    assert {f"CONN#{seeker}", f"CONN#{vol}"} <= set(deleted)
