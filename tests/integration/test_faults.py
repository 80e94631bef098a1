"""AWS faults moto cannot produce, injected below the SDK: each has a defined outcome."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

import boto3
import pytest

from local.poller import sqs_record
from tests.aws_calls import count_aws_calls, throttled
from tests.integration.chats import start_chat
from tests.world import World

MATCH_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:MatchQueue"


def test_a_throttled_post_is_retried_and_the_message_arrives_once(world: World) -> None:
    """Given a chat, when API Gateway throttles the first two posts (429), then the SDK retries,
    the volunteer gets the message exactly once and the seeker hears no error."""
    seeker, vol, _ = start_chat(world)
    with throttled(
        "apigatewaymanagementapi", "PostToConnection", 2, "LimitExceededException", 429
    ) as faults:
        world.send(seeker, {"action": "message", "text": "still there?", "clientMsgId": "t1"})
    assert len(faults) == 2
    assert [(f["type"], f.get("text")) for f in world.frames(vol)] == [("message", "still there?")]
    assert world.frames(seeker) == []


@pytest.mark.parametrize(
    "fault",
    [
        "ProvisionedThroughputExceededException",  # the SDK retries it
        # A transaction in flight on the same connection item (a join, an end): the SDK does
        # not retry it, kindred.aws.table does.
        "TransactionConflictException",
    ],
)
def test_a_throttled_table_is_retried_and_the_message_arrives(world: World, fault: str) -> None:
    """Given a chat, when DynamoDB refuses the relay's one call twice (throttled, or another
    request's transaction on the item), then it is tried again and the message arrives."""
    seeker, vol, _ = start_chat(world)
    with count_aws_calls() as calls:
        world.send(seeker, {"action": "message", "text": "one"})
    (relay_op,) = [op for (svc, op) in calls if svc == "dynamodb"]
    world.frames(vol)
    with throttled("dynamodb", relay_op, 2, fault) as faults:
        world.send(seeker, {"action": "message", "text": "two"})
    assert len(faults) == 2
    assert [f.get("text") for f in world.frames(vol)] == ["two"]
    assert world.frames(seeker) == []


def test_a_table_throttled_past_the_retries_tells_the_seeker_and_changes_nothing(
    world: World,
) -> None:
    """Given a seeker, when DynamoDB throttles the queue transaction past every retry, then the
    seeker is told (`internal`, never a stack trace), is not half-queued, and a later `match`
    queues them normally: nobody is lost."""
    seeker = world.connect()
    with throttled("dynamodb", "TransactWriteItems", 100, "ThrottlingException") as faults:
        world.send(seeker, {"action": "match", "clientMsgId": "x"})
    assert len(faults) >= 2  # the SDK retried before giving up
    (err,) = world.frames(seeker)
    assert err["type"] == "error" and err["code"] == "internal" and err["action"] == "match"
    assert "Traceback" not in json.dumps(err)
    table = boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])["Items"]
    assert not [i for i in table if i["pk"]["S"] == "QUEUE"]
    world.send(seeker, {"action": "match"})
    assert world.types(seeker) == ["queued", "resources"]  # nobody is on shift in this test


def test_a_transaction_another_write_cancels_is_tried_again_and_never_read_as_a_refusal(
    world: World,
) -> None:
    """Given two seekers, when the first's `match` transaction is cancelled twice because
    another request was writing one of its items (TransactionConflict: the SDK does not retry
    it, moto cannot produce it), then it is tried again and they are queued; when the second's
    is cancelled so past every try, they are told `internal` (try again), not `already_waiting`
    (a refusal only a failed condition makes), and a later `match` queues them."""
    conflict = ("None", "TransactionConflict", "None")
    tries, seekers = [], []
    for times in (2, 100):
        seeker = world.connect()
        seekers.append(seeker)
        with throttled(
            "dynamodb",
            "TransactWriteItems",
            times,
            "TransactionCanceledException",
            reasons=conflict,
        ) as faults:
            world.send(seeker, {"action": "match"})
        tries.append(len(faults))
    assert tries == [2, 4]  # kindred.aws.table.WRITE_TRIES
    assert world.types(seekers[0])[0] == "queued"
    assert [(f["type"], f.get("code")) for f in world.frames(seeker)] == [("error", "internal")]
    world.send(seeker, {"action": "match"})
    assert world.types(seeker)[0] == "queued"


def test_a_matcher_throttled_past_the_retries_leaves_the_seeker_waiting_for_the_redelivery(
    world: World,
) -> None:
    """Given a waiting seeker and a free volunteer, when the matcher's transaction is throttled
    past every retry, then the work items stay on the queue (the batch fails), the seeker still
    waits, and the redelivered work item matches them."""
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    vol = world.connect("volunteer", user_id="v", alias="V")
    world.send(vol, {"action": "availability", "available": True})
    world.frames(seeker), world.frames(vol)
    sqs = boto3.client("sqs")
    queue_url = os.environ["MATCH_QUEUE_URL"]
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    event = _sqs_event(messages)
    with throttled("dynamodb", "TransactWriteItems", 100, "ThrottlingException"):
        try:
            world.handlers["matcher"].lambda_handler(event, _context())
            failed = False
        except Exception:
            failed = True
    assert failed  # Lambda retries the whole batch: nothing is deleted from the queue
    assert world.frames(seeker) == []
    # SQS delivers the same work items again: this time the match is made, once.
    world.handlers["matcher"].lambda_handler(event, _context())
    world.handlers["matcher"].lambda_handler(event, _context())
    assert world.types(seeker) == ["matched"]
    assert world.types(vol) == ["matched"]


def test_a_match_the_gateway_will_not_post_is_undone_and_made_on_the_next_run(
    world: World,
) -> None:
    """Given a waiting seeker and a free volunteer, when API Gateway refuses the matcher's post
    of `matched` to the volunteer past every retry (429 LimitExceededException: the client's
    buffer full, which moto cannot produce), then the match is undone, not left committed and
    untold: the seeker still waits and the volunteer's slot is free; the work item the
    matcher sent itself, 30 s later, makes the match, each side told once."""
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    vol = world.connect("volunteer", user_id="v", alias="V")
    world.send(vol, {"action": "availability", "available": True})
    world.frames(seeker), world.frames(vol)
    with throttled(
        "apigatewaymanagementapi",
        "PostToConnection",
        1000,
        "LimitExceededException",
        429,
        url_has=quote(vol, safe=""),
    ) as faults:
        world.run_matcher()
    assert len(faults) >= 3  # every try of the SDK, in each run
    world.send(seeker, {"action": "match"})
    assert [f.get("code") for f in world.frames(seeker)] == ["already_waiting"]
    world.send(vol, {"action": "availability", "available": True})
    assert [(f["type"], f.get("activeChats")) for f in world.frames(vol)] == [("status", 0)]
    world.advance(31)
    world.run_matcher()
    assert world.types(seeker) == ["matched"] and world.types(vol) == ["matched"]


def test_the_same_work_item_delivered_twice_matches_once(world: World) -> None:
    """Given a seeker and two free volunteers, when SQS delivers the same work item twice, then
    the seeker is matched exactly once."""
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    for n in (1, 2):
        vol = world.connect("volunteer", user_id=f"v{n}", alias=f"V{n}")
        world.send(vol, {"action": "availability", "available": True})
    world.frames(seeker)
    messages = boto3.client("sqs").receive_message(
        QueueUrl=os.environ["MATCH_QUEUE_URL"], MaxNumberOfMessages=1
    )["Messages"]
    for _ in range(2):
        world.handlers["matcher"].lambda_handler(_sqs_event(messages), _context())
    assert world.types(seeker) == ["matched"]


def test_a_poison_work_item_fails_alone(world: World) -> None:
    """Given a batch with a malformed work item beside a good one, when the matcher runs, then
    only the malformed one is reported failed (so it alone returns, and after maxReceiveCount
    lands in the DLQ), and the matching still happens."""
    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    vol = world.connect("volunteer", user_id="v", alias="V")
    world.send(vol, {"action": "availability", "available": True})
    world.frames(seeker)
    good = {
        "MessageId": "good",
        "ReceiptHandle": "r1",
        "Body": '{"reason": "sweep"}',
        "MD5OfBody": "x",
    }
    poison = {"MessageId": "poison", "ReceiptHandle": "r2", "Body": "{not json", "MD5OfBody": "y"}
    result = world.handlers["matcher"].lambda_handler(_sqs_event([good, poison]), _context())
    assert result == {"batchItemFailures": [{"itemIdentifier": "poison"}]}
    assert world.types(seeker) == ["matched"]


def _sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The matcher's event for these messages, each on its first delivery."""
    first = {"ApproximateReceiveCount": "1"}
    return {
        "Records": [
            sqs_record({**m, "Attributes": first}, MATCH_QUEUE_ARN, "us-east-1") for m in messages
        ]
    }


def _context() -> Any:
    from tests.world import FakeContext

    return FakeContext()


def test_a_match_whose_answer_was_lost_still_tells_both_sides(world: World) -> None:
    """Given a waiting seeker and a free volunteer, when the match transaction commits but its
    answer is lost (a timeout) and the SDK's retry then fails its conditions, then the matcher
    knows the match was made: both sides get `matched`, exactly once."""
    from tests.aws_calls import answer_lost

    seeker = world.connect()
    world.send(seeker, {"action": "match"})
    vol = world.connect("volunteer", user_id="v", alias="V")
    world.send(vol, {"action": "availability", "available": True})
    world.frames(seeker), world.frames(vol)
    with answer_lost("dynamodb", "TransactWriteItems") as lost:
        world.run_matcher()
    assert lost == ["TransactWriteItems"]
    assert world.types(seeker) == ["matched"]
    assert world.types(vol) == ["matched"]
