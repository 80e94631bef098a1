"""DynamoDB's typed attribute values to and from plain values, as boto3's TypeSerializer does.

boto3.dynamodb.types' TypeSerializer and TypeDeserializer, written out so that a cold start
builds its clients with botocore alone and never imports boto3 for them (issue 14): the same
types both ways, numbers in DynamoDB's decimal context (an int or a Decimal; a float is
refused), the same errors. Binary values, which Kindred never writes, still come back as
boto3's `Binary` (boto3 is imported then, and only then).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

# boto3.dynamodb.types.DYNAMODB_CONTEXT: 38 digits, and any rounding is an error.
DYNAMODB_CONTEXT = Context(
    Emin=-128,
    Emax=126,
    prec=38,
    traps=[Clamped, Overflow, Inexact, Rounded, Underflow],
)


def _is_number(value: Any) -> bool:
    if isinstance(value, (int, Decimal)):
        return True
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    return False


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _is_binary(value: Any) -> bool:
    if isinstance(value, (bytearray, bytes)):
        return True
    # boto3's Binary: only once boto3's types are imported can a value be one.
    types = sys.modules.get("boto3.dynamodb.types")
    return types is not None and isinstance(value, types.Binary)


def _number(value: Any) -> str:
    number = str(DYNAMODB_CONTEXT.create_decimal(value))
    if number in ("Infinity", "NaN"):
        raise TypeError("Infinity and NaN not supported")
    return number


def _binary(value: Any) -> Any:
    return value if isinstance(value, (bytearray, bytes)) else value.value


def _is_set_of(value: Any, member: Any) -> bool:
    return isinstance(value, AbstractSet) and all(map(member, value))


def serialize(value: Any) -> dict[str, Any]:
    """`value` as DynamoDB's typed form, e.g. {"S": "x"}, {"N": "3"}, {"M": {...}}."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if _is_number(value):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if _is_binary(value):
        return {"B": _binary(value)}
    if _is_set_of(value, _is_number):
        return {"NS": [_number(n) for n in value]}
    if _is_set_of(value, _is_string):
        return {"SS": list(value)}
    if _is_set_of(value, _is_binary):
        return {"BS": [_binary(b) for b in value]}
    if isinstance(value, Mapping):
        return {"M": {k: serialize(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [serialize(v) for v in value]}
    raise TypeError(f'Unsupported type "{type(value)}" for value "{value}"')


def _as_binary(value: Any) -> Any:
    from boto3.dynamodb.types import Binary  # never for Kindred's own items

    return Binary(value)


def deserialize(value: Mapping[str, Any]) -> Any:
    """A typed value as a plain one: N as a Decimal, SS and NS as sets, M as a dict."""
    if not value:
        raise TypeError("Value must be a nonempty dictionary whose key is a valid dynamodb type.")
    kind = next(iter(value.keys()))
    data = value[kind]
    match kind.lower():
        case "s":
            return data
        case "n":
            return DYNAMODB_CONTEXT.create_decimal(data)
        case "bool":
            return data
        case "null":
            return None
        case "m":
            return {k: deserialize(v) for k, v in data.items()}
        case "l":
            return [deserialize(v) for v in data]
        case "ss":
            return set(data)
        case "ns":
            return set(map(DYNAMODB_CONTEXT.create_decimal, data))
        case "b":
            return _as_binary(data)
        case "bs":
            return set(map(_as_binary, data))
    raise TypeError(f"Dynamodb type {kind} is not supported")
