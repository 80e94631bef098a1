"""kindred.aws.attributes (issue 14: no boto3 in a cold start) types values exactly as boto3's
TypeSerializer and TypeDeserializer do, errors included."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

from kindred.aws.attributes import deserialize, serialize

VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -7,
    2**53 + 1,
    10**37,
    Decimal("1.5"),
    Decimal("-0.000001"),
    "",
    "text with ünïcode",
    b"\x00\x01",
    bytearray(b"ab"),
    Binary(b"xy"),
    {1, 2, 3},
    {Decimal("2.5")},
    set(),
    {"a", "b"},
    frozenset({"c"}),
    {b"a", b"b"},
    [],
    [1, "a", None, [True, {"k": Decimal(3)}]],
    ("t", 1),
    {},
    {"pk": "CONN#x", "n": 3, "m": {"l": [1, 2], "ss": {"x"}}, "none": None},
]

REFUSED: list[Any] = [
    1.5,
    {1.5},
    [float("nan")],
    10**38 + 1,  # 39 digits: DynamoDB's context refuses to round it
    Decimal("Infinity"),
    Decimal("NaN"),
    object(),
    {1, "a"},
]


def _id(value: Any) -> str:
    """A test id the same in every process: sets sorted, objects by their type's name."""
    if isinstance(value, (set, frozenset)):
        return f"{type(value).__name__}{sorted(map(repr, value))}"
    return repr(value) if type(value).__repr__ is not object.__repr__ else type(value).__name__


@pytest.mark.parametrize("value", VALUES, ids=_id)
def test_a_value_is_typed_as_boto3_types_it_and_read_back_alike(value: Any) -> None:
    typed = serialize(value)
    assert typed == TypeSerializer().serialize(value)
    plain = deserialize(typed)
    expected = TypeDeserializer().deserialize(typed)
    assert plain == expected
    assert type(plain) is type(expected)


@pytest.mark.parametrize("value", REFUSED, ids=_id)
def test_a_value_boto3_refuses_is_refused_with_its_error(value: Any) -> None:
    with pytest.raises(Exception) as theirs:
        TypeSerializer().serialize(value)
    with pytest.raises(type(theirs.value)) as ours:
        serialize(value)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize(
    "typed",
    [
        {"S": "x"},
        {"N": "12.50"},
        {"N": "-1E+3"},
        {"BOOL": False},
        {"NULL": True},
        {"SS": ["a", "b"]},
        {"NS": ["1", "2.5"]},
        {"B": b"x"},
        {"BS": [b"x", b"y"]},
        {"L": [{"S": "a"}, {"N": "1"}]},
        {"M": {"a": {"M": {"b": {"L": []}}}}},
    ],
    ids=repr,
)
def test_an_attribute_read_back_is_what_boto3_reads(typed: dict[str, Any]) -> None:
    plain = deserialize(typed)
    expected = TypeDeserializer().deserialize(typed)
    assert plain == expected
    assert type(plain) is type(expected)


@pytest.mark.parametrize("typed", [{}, {"X": 1}], ids=repr)
def test_an_attribute_boto3_cannot_read_is_refused_alike(typed: dict[str, Any]) -> None:
    with pytest.raises(TypeError) as theirs:
        TypeDeserializer().deserialize(typed)
    with pytest.raises(TypeError) as ours:
        deserialize(typed)
    assert str(ours.value) == str(theirs.value)
