"""Care for volunteers (issue 12) through the deployed handlers on moto, each on its own role:
the pause after a risk chat as the table holds it, the race the match's conditional write
settles, the shift across connections, the cap's reminder, and the debrief alert."""

from __future__ import annotations

import os
import secrets
from typing import Any

import boto3
import pytest

from kindred.aws.wiring import reset_services
from kindred.config import settings
from kindred.matching import start_chat
from kindred.ports import Conflict
from kindred.protocol import iso_time
from kindred.records import Pairing, Session
from tests.integration.chats import start_chat as chat_under_way
from tests.world import World

RISKY = "I want to end my life tonight"  # imminent, as the detector reads it
PAUSE = 5 * 60


def _item(pk: str, sk: str) -> dict[str, Any] | None:
    item = boto3.client("dynamodb").get_item(
        TableName=os.environ["TABLE_NAME"], Key={"pk": {"S": pk}, "sk": {"S": sk}}
    )
    return item.get("Item")


def _waiting_seeker(world: World) -> str:
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    world.frames(seeker)
    return seeker


def _risk_chat_ended(world: World) -> tuple[str, str, str]:
    """A chat of volunteer V (account "v") that reached `imminent`, ended by its seeker:
    (seeker, volunteer, session id), their frames read up to the end."""
    seeker, vol, session = chat_under_way(world)
    world.send(seeker, {"action": "message", "text": RISKY})
    world.frames(vol)
    world.send(seeker, {"action": "end"})
    return seeker, vol, session


def test_a_risk_chat_ends_and_the_table_keeps_the_volunteers_pause(world: World) -> None:
    """Given a chat that reached `imminent` and another seeker waiting,
    When the seeker ends it,
    Then the volunteer hears `ended`, then `status` paused with the check-in; the slot and the
    account's care item hold the pause; the waiting seeker is not matched with them until the
    pause is over, and is then by the work item delayed until it (no other nudge)."""
    _, vol, _ = _risk_chat_ended(world)
    other = _waiting_seeker(world)
    world.run_matcher()
    ended, status = world.frames(vol)
    assert ended["type"] == "ended"
    assert status["type"] == "status"
    assert (status["paused"], status["checkin"]) == ("risk", "after_risk")
    slot = _item("POOL", vol)
    care = _item("CARE#v", "CARE")
    assert slot is not None and care is not None
    until = int(slot["pausedUntil"]["N"])
    assert care["pausedUntil"] == slot["pausedUntil"]
    assert status["pausedUntil"] == iso_time(until)
    assert world.types(other) == []

    world.advance(PAUSE - 5)
    world.run_matcher()
    assert world.types(other) == []
    world.advance(6)
    world.run_matcher()
    assert world.types(other) == ["matched"]


def test_the_matchers_conditional_write_refuses_a_volunteer_paused_after_it_read_them(
    world: World,
) -> None:
    """Given the matcher's read of a free volunteer (capacity 2) and of a waiting seeker,
    When the volunteer's risk chat ends (their pause) before the matcher commits the match,
    Then the match's transaction is refused on the slot's item: the seeker still waits, the
    slot counts no new chat, nobody is told; once the pause is over the same match commits."""
    seeker, vol, _ = chat_under_way(world, capacity=2)
    world.send(seeker, {"action": "message", "text": RISKY})
    other = _waiting_seeker(world)
    matcher = world.iam.services_of("MatcherFunction")
    with world.iam.acting_as("MatcherFunction"):
        [entry] = [e for e in matcher.queue.waiting(10) if e.connection_id == other]
        read = matcher.pool.get_slot(vol)
    assert read is not None and read.paused_until is None and read.active == 1

    world.send(seeker, {"action": "end"})  # the pause, between the read and the write
    world.frames(vol)
    with world.iam.acting_as("MatcherFunction"):
        assert start_chat(matcher, entry, read) is False
    assert _item("POOL", vol)["active"] == {"N": "0"}  # type: ignore[index]
    assert _item(f"CONN#{other}", "CONN")["state"] == {"S": "waiting"}  # type: ignore[index]
    assert world.frames(other) == [] and world.frames(vol) == []

    world.advance(PAUSE + 1)  # (the pause runs to the whole second after it began)
    with world.iam.acting_as("MatcherFunction"):
        assert start_chat(matcher, entry, read) is True
    assert world.types(other) == ["matched"]


def test_the_match_refuses_a_slot_whose_shift_began_before_the_cap_limit(world: World) -> None:
    """Given a free volunteer and a waiting seeker, when the match is committed with a cap
    limit at the moment the volunteer's shift began (the shift is exactly ShiftCapHours old),
    then DynamoDB refuses it (Conflict); a millisecond earlier limit lets it commit."""
    vol = world.connect("volunteer", user_id="v", alias="V")
    world.send(vol, {"action": "availability", "available": True})
    seeker = _waiting_seeker(world)
    chats = world.iam.services_of("MatcherFunction").chats
    pool = world.iam.services_of("MatcherFunction").pool
    queue = world.iam.services_of("MatcherFunction").queue
    with world.iam.acting_as("MatcherFunction"):
        [entry] = queue.waiting(10)
        slot = pool.get_slot(vol)
        assert slot is not None and slot.on_shift_since_ms > 0
        session = Session(
            session_id=secrets.token_urlsafe(12),
            seeker_id=seeker,
            volunteer_id=vol,
            seeker_key=entry.seeker_key,
            volunteer_user_id="v",
            volunteer_alias="V",
            seeker_alias=entry.seeker_alias,
            topics=(),
            started_at_ms=slot.on_shift_since_ms,
        )
        with pytest.raises(Conflict):
            chats.create_chat(Pairing(entry, slot, session, slot.on_shift_since_ms))
        chats.create_chat(Pairing(entry, slot, session, slot.on_shift_since_ms - 1))
    assert _item(f"CONN#{seeker}", "CONN")["state"] == {"S": "chatting"}  # type: ignore[index]


def test_a_shift_survives_a_reconnection_and_is_reminded_before_the_cap(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given ShiftCapHours 1 and a volunteer on shift, when their console reconnects 30
    minutes in (a new connection of the same account), then `status` names the same shift;
    the sweeper reminds them once 15 minutes before the cap and tells them once at it, after
    which no seeker is matched with them."""
    monkeypatch.setenv("SHIFT_CAP_HOURS", "1")
    settings.cache_clear()
    reset_services()
    first = world.connect("volunteer", user_id="v", alias="V")
    world.send(first, {"action": "availability", "available": True})
    [status] = world.frames(first)
    began = status["onShiftSince"]
    world.advance(30 * 60)
    world.disconnect(first)
    vol = world.connect("volunteer", user_id="v", alias="V")
    world.send(vol, {"action": "availability", "available": True})
    [status] = world.frames(vol)
    assert (status["onShiftSince"], "paused" in status) == (began, False)

    world.sweep()
    assert world.frames(vol) == []
    world.advance(20 * 60)  # 50 minutes in: 5 minutes past the reminder
    world.sweep()
    world.sweep()
    assert [(f["type"], f.get("reminder")) for f in world.frames(vol)] == [("status", "shift_cap")]
    world.advance(10 * 60)
    world.sweep()
    world.sweep()
    assert [(f["type"], f.get("paused")) for f in world.frames(vol)] == [("status", "shift_cap")]
    seeker = _waiting_seeker(world)
    world.run_matcher()
    assert world.frames(seeker) == []


def test_going_off_shift_and_signing_out_asks_the_check_in_and_debrief_alerts_supervisors(
    world: World,
) -> None:
    """Given a supervisor on shift and a volunteer on shift, when the volunteer stops taking
    chats, then `status` asks for the check-in; when they answer `debrief`, the supervisor
    gets `alert` kind `debrief` with the volunteer's name and no chat, and the volunteer
    hears that one supervisor was told; nothing of it is in the table."""
    boss = world.connect("supervisor", user_id="boss", alias="Boss")
    vol = world.connect("volunteer", user_id="v", alias="Vale")
    world.send(vol, {"action": "availability", "available": True})
    world.frames(vol)
    world.send(vol, {"action": "availability", "available": False})
    [status] = world.frames(vol)
    assert status["checkin"] == "end_of_shift"
    world.send(vol, {"action": "checkin", "state": "debrief"})
    [alert] = world.frames(boss)
    assert {k: alert[k] for k in ("type", "kind", "sessionId", "volunteer")} == {
        "type": "alert",
        "kind": "debrief",
        "sessionId": "",
        "volunteer": "Vale",
    }
    assert world.frames(vol) == [{"type": "checked_in", "state": "debrief", "supervisorsTold": 1}]
    items = boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])["Items"]
    assert not [i for i in items if "debrief" in str(i)]
