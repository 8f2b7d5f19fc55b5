"""Small record classes in place of ``@dataclass``: a dataclass writes and ``exec``s its
methods when its class is made (~0.4 ms a class), and every command's start-up paid for
the ~20 the evaluator imports. A record's fields are its class's ``__match_args__``; its
``__init__`` is written by hand (as fast as a dataclass's); equality goes by type and
fields, and it prints as ``Name(field=value, ...)``, as a dataclass did."""

from __future__ import annotations

from typing import Any

set_field = object.__setattr__  # how a frozen record's __init__ sets its fields


class Record:
    """A mutable record: equal to a record of the same type with equal fields; unhashable
    (as a dataclass with ``eq`` and without ``frozen``)."""

    __slots__ = ()
    __match_args__: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, f) for f in self.__match_args__])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __ne__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() != other._values()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.__match_args__)
        return f"{type(self).__name__}({fields})"


class Frozen(Record):
    """An immutable, hashable record with ``__slots__``: its fields are its slots, less
    ``span`` (a syntax node's place, kept out of equality). ``__init__`` sets them with
    :data:`set_field`."""

    __slots__ = ()

    def __init_subclass__(cls) -> None:
        cls.__match_args__ = tuple(f for f in cls.__dict__.get("__slots__", ()) if f != "span")

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._values())

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to {name!r}: a {type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete {name!r}: a {type(self).__name__} is immutable")

