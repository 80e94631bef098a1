"""Referrals and `resources` by topic through the deployed handlers on moto (issue 12).

The chat function runs on its own role with IAM enforced (tests/world.py): `referral` needs no
grant the function did not have, because it makes no call a `message` does not make.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from kindred.referrals import find
from kindred.safety import crisis_lines
from tests.aws_calls import record_aws_calls
from tests.integration.chats import start_chat
from tests.integration.test_bad_input import _table_state
from tests.world import World


def _card(referral_id: str) -> dict[str, Any]:
    item = find(referral_id)
    assert item is not None
    return item.model_dump(exclude_none=True)


def test_a_referral_reaches_the_seeker_as_a_card_for_one_update_and_two_posts(
    world: World, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a chat, when the volunteer sends the referral `us-nami-helpline`, then the seeker
    gets `referral` with the session and the service, the volunteer the same frame back; the
    calls are one UpdateItem of the volunteer's own connection item and two posts; nothing
    changes in the table, and no log line names the service."""
    caplog.set_level(logging.DEBUG)
    seeker, vol, session = start_chat(world, capacity=2)
    world.send(vol, {"action": "ping"})  # warm
    world.frames(vol)
    before = _table_state()
    with record_aws_calls() as recorded:
        world.send(vol, {"action": "referral", "sessionId": session, "id": "us-nami-helpline"})
    expected = {"type": "referral", "sessionId": session, "item": _card("us-nami-helpline")}
    assert world.frames(seeker) == [expected]
    assert world.frames(vol) == [expected]
    assert [(service, op) for service, op, _ in recorded] == [
        ("dynamodb", "UpdateItem"),
        ("apigatewaymanagementapi", "PostToConnection"),
        ("apigatewaymanagementapi", "PostToConnection"),
    ]
    assert recorded[0][2]["Key"] == {"pk": {"S": f"CONN#{vol}"}, "sk": {"S": "CONN"}}
    assert [params["ConnectionId"] for _, _, params in recorded[1:]] == [seeker, vol]
    assert _table_state() == before
    logged = caplog.text + capsys.readouterr().out
    assert session in logged  # the logs are read here (the chat's matching was logged)...
    assert "us-nami-helpline" not in logged and "NAMI" not in logged  # ...not the service


@pytest.mark.parametrize(
    ("who", "frame", "code"),
    [
        ("seeker", {"action": "referral", "id": "gb-cruse"}, "not_allowed"),
        ("volunteer", {"action": "referral", "id": "gb-nothing-here"}, "invalid_request"),
        ("volunteer", {"action": "referral", "id": "<b>"}, "invalid_request"),
        (
            "volunteer",
            {"action": "referral", "sessionId": "not-mine", "id": "gb-cruse"},
            "not_in_chat",
        ),
    ],
    ids=["from the seeker", "unknown id", "malformed id", "another chat"],
)
def test_a_referral_that_cannot_be_served_is_an_error_and_nothing_is_sent(
    world: World, who: str, frame: dict[str, Any], code: str
) -> None:
    """Given a chat, when the seeker sends `referral`, or the volunteer names a service the
    directory does not have or a chat that is not theirs, then the sender gets that `error`
    with the action, the other side gets nothing, and the table does not change."""
    seeker, vol, _ = start_chat(world)
    sender, other = (seeker, vol) if who == "seeker" else (vol, seeker)
    before = _table_state()
    world.send(sender, frame)
    assert [(f["type"], f["code"], f["action"]) for f in world.frames(sender)] == [
        ("error", code, "referral")
    ]
    assert world.frames(other) == []
    assert _table_state() == before


def test_resources_with_a_topic_lists_the_topics_services_after_the_crisis_lines(
    world: World,
) -> None:
    """Given a seeker who connected in Spanish, when they ask for resources in Spain about
    their family, then the crisis lines of Spain and the international ones come first, then
    the Spanish-speaking services of the directory for family, as lines; in English about the
    same topic, the one that answers in English."""
    spanish = world.connect(lang="es")
    english = world.connect()
    lines = [line.model_dump(exclude_none=True) for line in crisis_lines("ES")]
    for cid, ids in (
        (spanish, ["es-telefono-esperanza", "es-anar", "es-016"]),
        (english, ["es-016"]),
    ):
        world.send(cid, {"action": "resources", "country": "ES", "topic": "family"})
        [frame] = world.frames(cid)
        assert frame["reason"] == "requested"
        assert frame["items"][: len(lines)] == lines
        assert frame["items"][len(lines) :] == [
            {k: v for k, v in _card(i).items() if k not in ("id", "languages", "topics")}
            for i in ids
        ]
