"""Frozen records whose methods are compiled with the layer, not generated per class at import.

`@dataclass(frozen=True)` writes each class's `__init__`, `__repr__`, `__eq__`, `__hash__`,
`__setattr__` and `__delattr__` as source text and compiles it when its module is imported:
on Python 3.11, 14 million instructions for a class of 30 fields; kindred.records took 68
million, paid by every cold start (8 million as Frozen subclasses). A `Frozen` subclass is
still a dataclass (`dataclasses.fields`, `replace` and `asdict` work; mypy checks it as a frozen
dataclass), and behaves as one (tests/unit/test_frozen.py), with these methods written once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from typing import Any, ClassVar, dataclass_transform

_MISSING: Any = dataclasses.MISSING


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
class Frozen:
    """Base of a frozen record: declare its fields as a dataclass's, and no decorator (a
    subclass is processed as it is made; a record below another is one too)."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
    _names: ClassVar[tuple[str, ...]]
    _defaults: ClassVar[dict[str, Any]]
    _factories: ClassVar[dict[str, Callable[[], Any]]]
    _values: ClassVar[Any]  # a record's field values, in order (a staticmethod)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__doc__ is None:  # else dataclass() computes one with inspect.signature
            cls.__doc__ = cls.__name__
        # Below another Frozen class, dataclasses asks for frozen=True (and then writes its
        # own two frozen methods, as these); else nothing is written but the fields.
        below = any(getattr(base, "__dataclass_params__", None) for base in cls.__mro__[1:])
        dataclasses.dataclass(cls, init=False, repr=False, eq=False, frozen=below)
        # Frozen it is (by the methods below): so the class tells dataclasses, which then
        # refuses a non-frozen dataclass below it, as below any frozen one.
        cls.__dataclass_params__.frozen = True  # type: ignore[attr-defined]
        fields = dataclasses.fields(cls)
        cls._names = tuple(f.name for f in fields)
        cls._defaults = {f.name: f.default for f in fields if f.default is not _MISSING}
        made: dict[str, Any] = {f.name: f.default_factory for f in fields}
        cls._factories = {name: make for name, make in made.items() if make is not _MISSING}
        names = cls._names
        several = attrgetter(*names) if len(names) > 1 else None
        cls._values = staticmethod(
            several or (lambda record: tuple(getattr(record, n) for n in names))
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names, put = self._names, object.__setattr__
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}() takes {len(names)} arguments")
        for name, value in zip(names, args, strict=False):
            put(self, name, value)
        for name in names[len(args) :]:
            if name in kwargs:
                put(self, name, kwargs.pop(name))
            elif name in self._defaults:
                put(self, name, self._defaults[name])
            elif name in self._factories:
                put(self, name, self._factories[name]())
            else:
                raise TypeError(f"{type(self).__name__}() missing argument {name!r}")
        if kwargs:  # a name given twice, or no field's
            raise TypeError(f"{type(self).__name__}() got unexpected arguments {[*kwargs]}")

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._names)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._values(self) == other._values(other))

    def __hash__(self) -> int:
        return hash(self._values(self))

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
