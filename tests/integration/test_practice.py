"""Practice chats through the deployed handlers on moto, IAM enforced (issue 13).

A trainee takes a chat whose seeker a supervisor plays (a connection the authorizer marked
practice); practice seekers wait in a partition of their own, and nothing of it is real.
"""

from __future__ import annotations

import os
from typing import Any

import boto3

from kindred.aws import layout
from tests.world import World

TEXT = "Practising the first words of a hard conversation"


def _items() -> list[dict[str, Any]]:
    db = boto3.client("dynamodb")
    items: list[dict[str, Any]] = db.scan(TableName=os.environ["TABLE_NAME"])["Items"]
    return [layout.from_item(i) for i in items]


def _partition(pk: str) -> list[dict[str, Any]]:
    return [i for i in _items() if i["pk"] == pk]


def _available(world: World, role: str, user: str, alias: str) -> str:
    cid = world.connect(role, user_id=user, alias=alias)
    world.send(cid, {"action": "availability", "available": True})
    world.frames(cid)
    return cid


def test_practice_and_real_chats_side_by_side(world: World) -> None:
    """Given a trainee and a volunteer on shift, a practice seeker who queued first and then
    a real seeker
    When the matcher runs, the two practice sides talk (a risk included) and the practice
    seeker ends and reports
    Then while waiting the practice seeker is in the PRACTICE partition, not the QUEUE; the
    real seeker was told place 1 with one volunteer on shift; each is matched across its own
    line only; the practice chat is marked practice on its item and board row; no text, no
    report is stored."""
    trainee = _available(world, "trainee", "t", "Tia")
    vol = _available(world, "volunteer", "v", "Vic")
    sup = world.connect("supervisor", user_id="boss", alias="Robin")
    world.frames(sup)
    practice = world.connect(practice=True, user_id="boss", alias="Robin")
    world.send(practice, {"action": "match", "intro": TEXT})
    assert [i["connectionId"] for i in _partition(layout.PRACTICE_QUEUE_PK)] == [practice]
    assert _partition(layout.QUEUE_PK) == []

    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    queued = world.frames(seeker)[0]
    assert (queued["type"], queued["position"], queued["volunteersOnShift"]) == ("queued", 1, 1)

    world.run_matcher()
    [to_trainee] = [f for f in world.frames(trainee) if f["type"] == "matched"]
    [to_vol] = [f for f in world.frames(vol) if f["type"] == "matched"]
    assert to_trainee["intro"] == TEXT and "intro" not in to_vol
    assert [f["type"] for f in world.frames(practice)] == ["queued", "matched"]
    assert world.types(seeker) == ["matched"]
    session = to_trainee["sessionId"]
    assert _partition(layout.PRACTICE_QUEUE_PK) == []

    sessions = {i["pk"]: i for i in _items() if i["sk"] == "SESSION"}
    assert sessions[f"SESSION#{session}"]["practice"] is True
    assert "practice" not in sessions[f"SESSION#{to_vol['sessionId']}"]
    rows = {i["sk"]: i for i in _partition(layout.BOARD_PK) if layout.is_chat_row(i["sk"])}
    assert rows[f"CHAT#{session}"]["practice"] is True

    world.send(practice, {"action": "message", "text": "I want to end my life " + TEXT})
    assert [f["type"] for f in world.frames(trainee)] == ["message", "alert"]
    assert [f for f in world.frames(sup) if f["type"] == "alert"] == []
    world.send(trainee, {"action": "message", "sessionId": session, "text": TEXT})
    world.send(practice, {"action": "end"})
    world.send(practice, {"action": "report", "sessionId": session, "reason": "other"})
    # (After a chat in which a risk was seen, the seeker leaves with the crisis lines.)
    assert [f["type"] for f in world.frames(practice)][-3:] == ["ended", "resources", "reported"]
    assert [f["type"] for f in world.frames(trainee)][:1] == ["ended"]

    items = _items()
    assert not [i for i in items if str(i["pk"]).startswith("REPORT#")]
    assert TEXT not in repr(items)
    slot = next(i for i in _partition(layout.POOL_PK) if i["sk"] == trainee)
    assert "pausedUntil" not in slot  # no risk pause after practice


def test_a_practice_seeker_gone_for_good_leaves_nothing_in_the_practice_queue(
    world: World,
) -> None:
    """Given a practice seeker waiting with no trainee on shift
    When their socket closes, and another's entry is orphaned (its connection item gone)
    Then $disconnect takes them out of the practice queue at once (no grace period), and the
    sweeper removes the orphan."""
    practice = world.connect(practice=True, user_id="boss", alias="Robin")
    world.send(practice, {"action": "match"})
    world.disconnect(practice)
    assert _partition(layout.PRACTICE_QUEUE_PK) == []
    assert not [i for i in _items() if i["pk"] == f"CONN#{practice}"]

    orphan = world.connect(practice=True, user_id="boss", alias="Robin")
    world.send(orphan, {"action": "match"})
    boto3.client("dynamodb").delete_item(
        TableName=os.environ["TABLE_NAME"], Key=layout.conn_key(orphan)
    )
    world.sweep()
    assert _partition(layout.PRACTICE_QUEUE_PK) == []
