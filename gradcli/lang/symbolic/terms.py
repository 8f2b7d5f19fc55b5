"""Terms: the expression nodes symbolic derivatives are made of, and their shapes.

A term (:class:`E`) is an interned, immutable expression node that carries a symbolic
shape (a tuple of ints and size names). Interning makes equal terms the same object, so a
shared subexpression is one node (a DAG, never expanded) and equality is identity. One
derivative is one :class:`_Scope`: the terms it made are forgotten when it returns.

Numbers are exact (``fractions.Fraction``) while they can be; ``log(2)`` stays ``log(2)``.
Also here: broadcasting of symbolic shapes, and the walks over a DAG (its nodes in order,
its size as a tree, whether it depends on a leaf).
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from typing import Any

Dim = int | str
Shape = tuple[Dim, ...]


class SymbolicError(Exception):
    """No closed form (or a shape that cannot be proved): the message names the
    operation and why."""

    def __init__(self, message: str, span: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.term: E | None = None  # the term whose derivative rule refused, if any


class TooLong(SymbolicError):
    """A formula whose text (or a where line's) is longer than one statement can be: it
    cannot be read back, so it cannot be run or checked at a point."""


_ORDER = {"num": 0, "const": 1, "size": 1, "sym": 2, "pow": 3, "fn": 4, "call": 5, "T": 6,
          "matmul": 7, "cmp": 8, "index": 2, "mul": 10, "add": 11, "fill": 12, "eye": 12,
          "cof": 13, "arange": 14, "others": 15}


class E:
    __slots__ = ("op", "args", "data", "shape", "key", "height", "__weakref__")

    def __init__(self, op: str, args: tuple[E, ...], data: Any, shape: Shape) -> None:
        self.op, self.args, self.data, self.shape = op, args, data, shape
        self.height = 1 + max((a.height for a in args), default=0)
        # the canonical order: by kind, then data, then height, then the arguments. The
        # height comes before the (nested) arguments so that comparing two deep terms of
        # different depth is one step, not a walk down both (sorting the factors of a
        # 300-deep chain rule was cubic)
        self.key = (_ORDER[op], _data_key(data), self.height, tuple(a.key for a in args))

    # its __repr__ (the term as text) is set by gradcli.lang.symbolic.printing

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def is_num(self) -> bool:
        return self.op == "num"


_FIRST = {"exp": " exp", "log": " log"}  # exp(x)*sin(x), as textbooks write it


def _data_key(data: Any) -> Any:
    if isinstance(data, (Fraction, float, int)):
        return (0, float(data), "")
    return (1, 0.0, _FIRST.get(data, data) if isinstance(data, str) else repr(data))


# equal terms are one object. Held strongly: the passes below key their memos by id(),
# which is only sound while no term dies and lends its id to another. One derivative
# (differentiate) is one scope: the terms it made are forgotten when it returns, so a
# session that asks for a thousand derivatives keeps its memory flat
_INTERNED: dict[tuple, E] = {}


class _Scope:
    """Terms interned inside the ``with`` block are dropped from the table at its end
    (the formulas keep theirs, as plain objects)."""

    def __enter__(self) -> None:
        self.mark = len(_INTERNED)

    def __exit__(self, *exc: Any) -> None:
        for _ in range(len(_INTERNED) - self.mark):
            _INTERNED.popitem()  # the newest first: a dict pops in reverse insertion order


def make(op: str, args: tuple[E, ...], data: Any, shape: Shape) -> E:
    k = (op, tuple(id(a) for a in args), type(data).__name__, data, shape)
    found = _INTERNED.get(k)
    if found is None:
        found = _INTERNED[k] = E(op, args, data, shape)
    return found


def num(value: Any) -> E:
    if isinstance(value, float):
        if value == value and value not in (math.inf, -math.inf):
            f = Fraction(value)
            if f.denominator <= 10**6 or f == Fraction(repr(value)):
                value = Fraction(repr(value)) if "e" not in repr(value) else f
    if isinstance(value, int):
        value = Fraction(value)
    return make("num", (), clamped(value), ())


def clamped(value: Any) -> Any:
    """An exact number past what a float holds as what the engine computes: inf or 0
    (so that every number a term holds converts to a float)."""
    if isinstance(value, Fraction) and value and not _FLOAT_TINY <= abs(value) <= _FLOAT_MAX:
        return (math.inf if value > 0 else -math.inf) if abs(value) > 1 else 0.0
    return value


_FLOAT_MAX, _FLOAT_TINY = Fraction(sys.float_info.max), Fraction(5e-324)


ZERO, ONE, HALF, MINUS_ONE = num(0), num(1), num(Fraction(1, 2)), num(-1)


def sym(name: str, shape: Shape = ()) -> E:
    return make("sym", (), name, tuple(shape))


def const(name: str) -> E:
    return make("const", (), name, ())


def size_term(d: Dim) -> E:
    return num(d) if isinstance(d, int) else make("size", (), d, ())


def _numval(e: E) -> Any:
    return e.data if e.op == "num" else None


def broadcast(*shapes: Shape, what: str = "elementwise operation") -> Shape:
    ndim = max((len(s) for s in shapes), default=0)
    out: list[Dim] = []
    for k in range(ndim):
        dims = [s[k - ndim + len(s)] for s in shapes if k - ndim + len(s) >= 0]
        dims = [d for d in dims if d != 1]
        if not dims:
            out.append(1)
        elif all(d == dims[0] for d in dims):
            out.append(dims[0])
        else:
            raise SymbolicError(f"{what}: shapes {' and '.join(map(_shape_text, shapes))} "
                                "do not broadcast (or their sizes cannot be proved equal)")
    return tuple(out)


def _shape_text(shape: Shape) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def _topological(root: E, known: Any = ()) -> list[E]:
    """The terms under ``root``, arguments first, each once; not those in ``known`` (ids)
    nor below them."""
    order: list[E] = []
    seen: set[int] = set()
    stack: list[tuple[E, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen or id(node) in known:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for a in node.args:
            if id(a) not in seen:
                stack.append((a, False))
    return order


def depends(root: E, leaf: E) -> bool:
    return any(n is leaf for n in _topological(root))


_LITERAL = "lit"
_ORDER[_LITERAL] = 9


def weight(e: E, memo: dict[int, int] | None = None) -> int:
    """The size of the term as a tree (shared parts counted each time they print)."""
    memo = {} if memo is None else memo
    stack: list[tuple[E, bool]] = [(e, False)]
    while stack:  # down to the nodes already weighed only (tidy asks once per node)
        node, ready = stack.pop()
        if id(node) in memo:
            continue
        if ready:  # a -1 coefficient prints as a sign, not a token
            own = 0 if node.op == "num" and node.data == -1 else 1
            memo[id(node)] = own + sum(memo[id(a)] for a in node.args)
            continue
        stack.append((node, True))
        stack.extend((a, False) for a in node.args if id(a) not in memo)
    return memo[id(e)]
