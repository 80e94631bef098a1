"""The benches' price arithmetic: what each AWS service bills for what a call carried."""

from __future__ import annotations

import pytest

from bench import prices
from bench.common import Call, dynamo_units, item_bytes, percentile


def _call(operation: str, params: dict | None = None, response: dict | None = None) -> Call:
    return Call("dynamodb", operation, params or {}, response or {}, None, 0.0, 0.0)


def test_a_websocket_message_is_billed_per_started_32_kb() -> None:
    """Given frames of 1 byte, 32 KB and 33 KB, then API Gateway bills 1, 1 and 2 messages."""
    assert prices.apigw_messages(1) == 1
    assert prices.apigw_messages(32 * 1024) == 1
    assert prices.apigw_messages(33 * 1024) == 2


def test_an_sqs_request_is_billed_per_started_64_kb() -> None:
    """Given a 100-byte and a 65 KB body, then SQS bills 1 and 2 requests."""
    assert prices.sqs_requests(100) == 1
    assert prices.sqs_requests(65 * 1024) == 2


def test_a_transactional_write_costs_twice_a_standard_one() -> None:
    """Given a 900-byte item, when written alone it is 1 WRU, in a transaction 2; a 1.5 KB item
    is 2 and 4."""
    assert prices.write_units(900) == 1
    assert prices.write_units(900, transactional=True) == 2
    assert prices.write_units(1536) == 2
    assert prices.write_units(1536, transactional=True) == 4


def test_reads_are_billed_per_started_4_kb_by_consistency() -> None:
    """Given 3 KB read strongly, eventually and in a transaction, then 1, 0.5 and 2 RRU;
    5 KB read strongly is 2 RRU; a read that finds nothing still costs the minimum."""
    assert prices.read_units(3 * 1024) == 1.0
    assert prices.read_units(3 * 1024, consistent=False) == 0.5
    assert prices.read_units(3 * 1024, transactional=True) == 2.0
    assert prices.read_units(5 * 1024) == 2.0
    assert prices.read_units(0) == 1.0


def test_lambda_bills_rounded_up_milliseconds_at_its_memory() -> None:
    """Given 12.1 ms at 256 MB, then 13 ms are billed: 0.013 s x 0.25 GB."""
    assert prices.billed_ms(12.1) == 13
    assert prices.lambda_gb_seconds(12.1, 256) == pytest.approx(0.013 * 0.25)
    assert prices.lambda_cpu_share(256) == pytest.approx(256 / 1769)
    assert prices.lambda_cpu_share(4096) == 1.0


def test_a_price_is_per_its_unit_count() -> None:
    """Given $1 per million messages, then 160,000 messages cost $0.16."""
    assert prices.APIGW_MESSAGE.cost(160_000) == pytest.approx(0.16)
    assert prices.DDB_WRITE_UNIT.cost(1_000_000) == pytest.approx(0.625)


def test_item_size_counts_names_and_values() -> None:
    """Given an item with a string, a number and a boolean, then its size is the names plus
    the UTF-8 string, the number's digits and one byte for the boolean."""
    item = {"pk": {"S": "CONN#abc"}, "n": {"N": "1234"}, "ok": {"BOOL": True}}
    assert item_bytes(item) == (2 + 8) + (1 + 3) + (2 + 1)


def test_dynamodb_units_follow_the_operation() -> None:
    """Given a consistent GetItem, an UpdateItem and a 5-item transaction on items under 1 KB,
    then they cost 1 RRU, 1 WRU and 10 WRU; a COUNT query reads every item it counted."""
    get = _call("GetItem", {"ConsistentRead": True}, {"Item": {"pk": {"S": "x"}}})
    assert dynamo_units(get, 700) == (1.0, 0.0)
    assert dynamo_units(_call("UpdateItem"), 700) == (0.0, 1.0)
    transact = _call("TransactWriteItems", {"TransactItems": [{}] * 5})
    assert dynamo_units(transact, 700) == (0.0, 10.0)
    count = _call(
        "Query", {"ConsistentRead": True, "Select": "COUNT"}, {"Count": 10, "ScannedCount": 10}
    )
    assert dynamo_units(count, 700) == (2.0, 0.0)  # 7,000 bytes read: 2 x 4 KB


def test_percentile_is_nearest_rank() -> None:
    """Given 1..100, then p50 is 50 and p99 is 99."""
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
