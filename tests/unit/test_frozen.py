"""kindred.frozen.Frozen behaves as @dataclass(frozen=True) does, for what kindred uses of it."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field

import pytest

from kindred.frozen import Frozen


class Made(Frozen):
    """A record with a required field, plain defaults and a factory."""

    name: str
    count: int = 0
    tags: frozenset[str] = frozenset()
    links: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reference:
    """The same fields, as dataclasses generates them."""

    name: str
    count: int = 0
    tags: frozenset[str] = frozenset()
    links: dict[str, str] = field(default_factory=dict)


def test_is_a_dataclass_with_the_same_fields() -> None:
    assert dataclasses.is_dataclass(Made)
    made = [(f.name, f.type, f.default) for f in dataclasses.fields(Made)]
    assert made == [(f.name, f.type, f.default) for f in dataclasses.fields(Reference)]
    assert Made.__match_args__ == Reference.__match_args__


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("a",), {}),
        (("a", 2), {"tags": frozenset({"x"})}),
        ((), {"name": "a", "links": {"k": "v"}}),
        (("a", 2, frozenset(), {"k": "v"}), {}),
    ],
)
def test_constructs_compares_and_shows_as_the_dataclass(args: tuple, kwargs: dict) -> None:
    made, reference = Made(*args, **kwargs), Reference(*args, **kwargs)
    assert dataclasses.asdict(made) == dataclasses.asdict(reference)
    assert repr(made) == repr(reference).replace("Reference", "Made")
    assert made == Made(*args, **kwargs)
    assert made != Made("other") and made != reference


def test_each_instance_gets_its_own_default_from_a_factory() -> None:
    one, two = Made("a"), Made("b")
    assert one.links == {} and one.links is not two.links


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((), {}),  # the required field missing
        (("a",), {"name": "b"}),  # given twice
        (("a",), {"colour": "red"}),  # no such field
        (("a", 1, frozenset(), {}, "extra"), {}),  # one argument too many
    ],
)
def test_refuses_the_calls_the_dataclass_refuses(args: tuple, kwargs: dict) -> None:
    with pytest.raises(TypeError):
        Reference(*args, **kwargs)
    with pytest.raises(TypeError):
        Made(*args, **kwargs)


def test_is_frozen() -> None:
    made = Made("a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.name = "b"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del made.count  # type: ignore[misc]
    assert made.name == "a" and made.count == 0


class Point(Frozen):
    """A record of hashable fields."""

    x: int
    y: int = 0


@dataclass(frozen=True)
class ReferencePoint:
    x: int
    y: int = 0


def test_hashes_like_the_dataclass_and_refuses_an_unhashable_field() -> None:
    assert hash(Point(1, 2)) == hash(ReferencePoint(1, 2)) == hash(Point(1, 2))
    assert len({Point(1), Point(1), Point(2)}) == 2
    with pytest.raises(TypeError):
        hash(Made("a"))  # a dict field: unhashable, as in the dataclass
    with pytest.raises(TypeError):
        hash(Reference("a"))


def test_replace_and_copies_keep_the_class_and_the_values() -> None:
    made = Made("a", 1, frozenset({"x"}), {"k": "v"})
    changed = dataclasses.replace(made, count=2)
    assert type(changed) is Made and (changed.name, changed.count, changed.tags) == ("a", 2, {"x"})
    assert copy.deepcopy(made) == made and copy.copy(made) == made


class Longer(Made):
    """A record below another, as tests/unit/harness.py's FakeServices."""

    extra: int = 0


def test_a_record_below_another_is_one_too_and_no_dataclass_decorator_is_taken() -> None:
    assert Made.__dataclass_params__.frozen  # type: ignore[attr-defined]
    longer = Longer("a", 1, extra=2)
    names = [f.name for f in dataclasses.fields(longer)]
    assert names == ["name", "count", "tags", "links", "extra"]
    assert (longer.count, longer.extra) == (1, 2) and longer == Longer("a", 1, extra=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        longer.extra = 3  # type: ignore[misc]
    # A subclass is a record by itself: a decorator on it is refused, frozen or not.
    for decorate in (dataclass, dataclass(frozen=True)):
        with pytest.raises(TypeError):
            decorate(type("Decorated", (Made,), {"__annotations__": {"x": "int"}, "x": 0}))
