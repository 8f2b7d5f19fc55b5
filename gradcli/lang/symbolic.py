"""Symbolic derivatives (SPEC §9): reverse mode on the syntax tree, with symbolic shapes.

How a derivative is formed:

1. The program's syntax tree (:mod:`gradcli.lang.syntax`) is read into *terms*: interned,
   immutable expression nodes (:class:`E`) that each carry a symbolic shape (a tuple of
   ints and size names). Interning makes equal terms the same object, so a shared
   subexpression is one node (a DAG, never expanded) and equality is identity.
2. Every term is built by a *smart constructor* (:func:`add`, :func:`mul`, :func:`power`,
   :func:`matmul`, :func:`transpose`, ...). These are the simplifier: each applies its
   rewrite rules when the node is made (flatten, fold exact numbers, merge like terms and
   like factors, cancel, push transposes to the leaves, drop identities, factor shared
   matrix operands), and keeps its arguments in one canonical order, so rewriting
   reaches its fixpoint as the tree is built (SymPy's automatic canonicalisation).
3. The derivative is reverse mode over the DAG: each node's adjoint is built by one rule
   per operation (:data:`_VJP` and :data:`ELEMENTWISE`), itself out of smart
   constructors, so it comes out simplified.
4. A term prints by turning into a syntax tree (:func:`to_syntax`) and printing that.

Numbers are exact (``fractions.Fraction``) while they can be; ``log(2)`` stays ``log(2)``.
"""

from __future__ import annotations

import bisect
import math
import sys
from fractions import Fraction
from typing import Any

from gradcli.lang import syntax as S

Dim = int | str
Shape = tuple[Dim, ...]


class SymbolicError(Exception):
    """No closed form (or a shape that cannot be proved): the message names the
    operation and why."""

    def __init__(self, message: str, span: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


# -- terms --------------------------------------------------------------------------------

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

    def __repr__(self) -> str:
        if weight(self) > 200:  # never print an exponential tree
            return f"E({self.op}, {len(_topological(self))} nodes, shape={self.shape})"
        return f"E({to_text(self)!r}, shape={self.shape})"

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
    if isinstance(value, Fraction) and value and not _FLOAT_TINY <= abs(value) <= _FLOAT_MAX:
        # past what a float holds, an exact number is what the engine computes: inf or 0
        value = (math.inf if value > 0 else -math.inf) if abs(value) > 1 else 0.0
    return make("num", (), value, ())


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


# -- shapes -------------------------------------------------------------------------------


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


def count(shape: Shape) -> E:
    return mul(*[size_term(d) for d in shape]) if shape else ONE


# -- smart constructors (the simplifier) ----------------------------------------------------


def _split_coeff(t: E) -> tuple[Any, E]:
    if t.op == "num":
        return t.data, ONE
    if t.op == "mul" and t.args[0].op == "num":
        rest = t.args[1:]
        return t.args[0].data, rest[0] if len(rest) == 1 else make(
            "mul", rest, None, broadcast(*[a.shape for a in rest]))
    return Fraction(1), t


def _times(a: Any, b: Any) -> Any:
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a * b
    return float(a) * float(b)


def _plus(a: Any, b: Any) -> Any:
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a + b
    return float(a) + float(b)


def add(*terms: E) -> E:
    flat: list[E] = []
    stack = list(reversed(terms))
    while stack:
        t = stack.pop()
        if t.op == "add":
            stack.extend(reversed(t.args))
        else:
            flat.append(t)
    shape = broadcast(*[t.shape for t in flat], what="add")
    coeffs: dict[E, Any] = {}
    for t in flat:
        c, rest = _split_coeff(t)
        coeffs[rest] = _plus(coeffs.get(rest, Fraction(0)), c)
    coeffs = _pythagoras(coeffs)
    coeffs = _factor_matmuls(coeffs)
    parts = [scale(c, rest) for rest, c in coeffs.items() if c != 0 and not is_zero(rest)]
    if not parts:
        return zeros(shape)  # x - x keeps x's shape: A @ (x - x) is still a vector
    if len(parts) == 1:
        return parts[0]
    parts.sort(key=_term_key)
    return make("add", tuple(parts), None, shape)


def scale(c: Any, e: E) -> E:
    if c == 1:
        return e
    if c == 0:
        return ZERO
    if e is ONE:
        return num(c)
    return mul(num(c), e)


def _degree(e: E) -> tuple[bool, float]:
    """(has a non-polynomial factor, polynomial degree) of a term without its number."""
    factors = e.args if e.op == "mul" else (e,)
    has, deg = False, 0.0
    for f in factors:
        base, ex = (f.args[0], f.args[1]) if f.op == "pow" else (f, ONE)
        if base.op in ("sym", "size", "const") and ex.op == "num":
            deg += float(ex.data)
        else:
            has = True
    return has, deg


def _term_key(t: E) -> tuple:
    c, rest = _split_coeff(t)
    if rest is ONE:
        return (2, 0.0, ())
    has, deg = _degree(rest)
    return (1 if has else 0, deg if has else -deg, rest.key)


def _pythagoras(coeffs: dict[E, Any]) -> dict[E, Any]:
    """c*sin(u)^2*R + c*cos(u)^2*R -> c*R, and c*cos(u)^2*R - c*sin(u)^2*R ->
    c*cos(2*u)*R."""
    for rest in list(coeffs):
        if rest not in coeffs:
            continue
        factors = rest.args if rest.op == "mul" else (rest,)
        for i, f in enumerate(factors):
            if f.op == "pow" and f.args[1].data == 2 and f.args[0].op == "fn" and \
                    f.args[0].data == "sin":
                partner = power(fn("cos", f.args[0].args[0]), num(2))
                others = factors[:i] + factors[i + 1:]
                other = mul(partner, *others)
                if other in coeffs and other is not rest:
                    c1, c2 = coeffs[rest], coeffs[other]
                    common = c1 if abs(float(c1)) <= abs(float(c2)) else c2
                    if c1 == -c2:  # c*cos(u)^2 - c*sin(u)^2 = c*cos(2*u)
                        coeffs[rest] = coeffs[other] = Fraction(0)
                        double = mul(fn("cos", mul(num(2), f.args[0].args[0])), *others)
                        coeffs[double] = _plus(coeffs.get(double, Fraction(0)), c2)
                        break
                    if (float(c1) > 0) != (float(c2) > 0):
                        break
                    coeffs[rest] = _plus(c1, -common if isinstance(common, Fraction)
                                         else -float(common))
                    coeffs[other] = _plus(c2, -common if isinstance(common, Fraction)
                                          else -float(common))
                    base = mul(*others) if others else ONE
                    coeffs[base] = _plus(coeffs.get(base, Fraction(0)), common)
                break
    return {k: v for k, v in coeffs.items() if v != 0}


def _factor_matmuls(coeffs: dict[E, Any]) -> dict[E, Any]:
    """a*L1 @ R + b*L2 @ R -> (a*L1 + b*L2) @ R, and likewise for a shared left operand."""
    for side in (1, 0):
        groups: dict[E, list[E]] = {}
        for rest in coeffs:
            if rest.op == "matmul":
                groups.setdefault(rest.args[side], []).append(rest)
        for shared, members in groups.items():
            if len(members) < 2 or any(m not in coeffs for m in members):
                continue
            others: list[E] = []
            for m in members:
                c, operand = coeffs.pop(m), m.args[1 - side]
                k, inner = _split_coeff(operand)
                if inner.op == "add" and inner.shape == operand.shape:
                    # c*k*(P + Q) opened, so that the sign test below sees P and Q
                    others.extend(scale(_times(c, k), t) for t in inner.args)
                else:
                    others.append(scale(c, operand))
            sign = -1 if all(_is_negative_term(o) for o in others) else 1
            combined = add(*[scale(sign, o) for o in others])  # -(A + A.T) @ x
            new = matmul(combined, shared) if side == 1 else matmul(shared, combined)
            new = scale(sign, new)
            c, r = _split_coeff(new)
            coeffs[r] = _plus(coeffs.get(r, Fraction(0)), c)
    return coeffs


def neg(e: E) -> E:
    return mul(num(-1), e)


def sub(a: E, b: E) -> E:
    return add(a, neg(b))


def mul(*factors: E) -> E:
    if len(factors) == 2:
        a, b = factors
        if a is ONE or b is ONE:
            return b if a is ONE else a  # g*others with g = 1
        joined = _joined(a, b) if a.op == "mul" else _joined(b, a) if b.op == "mul" else None
        if joined is not None:
            return joined
    flat: list[E] = []
    stack = list(reversed(factors))
    while stack:
        f = stack.pop()
        if f.op == "mul":
            stack.extend(reversed(f.args))
        else:
            flat.append(f)
    shape = broadcast(*[f.shape for f in flat], what="multiply")
    coeff: Any = Fraction(1)
    exps: dict[E, list[E]] = {}
    fills: list[E] = []
    for f in flat:
        if f.op == "num":
            coeff = _times(coeff, f.data)
            continue
        if f.op == "fill":
            coeff = _times(coeff, f.data)
            fills.append(f)
            continue
        base, ex = (f.args[0], f.args[1]) if f.op == "pow" else (f, ONE)
        exps.setdefault(base, []).append(ex)
    if coeff == 0:
        return zeros(shape)
    merged: list[E] = []
    for base, es in exps.items():
        if len(es) == 1 and es[0] is ONE and base.op != "num":
            merged.append(base)  # power(base, 1) is base: no call per factor of a long product
            continue
        p = power(base, add(*es)) if len(es) > 1 else power(base, es[0])
        if p.op == "num":
            coeff = _times(coeff, p.data)
        elif p.op == "mul":  # (c*y)^n opened up
            for q in p.args:
                if q.op == "num":
                    coeff = _times(coeff, q.data)
                else:
                    merged.append(q)
        else:
            merged.append(p)
    exps_ = [m for m in merged if m.op == "fn" and m.data == "exp"]
    if len(exps_) > 1:  # exp(a)*exp(b) = exp(a + b)
        merged = [m for m in merged if not (m.op == "fn" and m.data == "exp")]
        joined = fn("exp", add(*[m.args[0] for m in exps_]))
        if joined.op == "num":
            coeff = _times(coeff, joined.data)
        else:
            merged.append(joined)
    merged = _cofactor_rule(merged)
    merged = _logistic_rule(merged)
    # a fill keeps the shape only when nothing else gives it
    rest_shape = broadcast(*[m.shape for m in merged]) if merged else ()
    if fills and rest_shape != shape:
        merged.append(fill(1, shape))
    if not merged:
        return num(coeff)
    merged.sort(key=_factor_key)
    if coeff != 1:
        merged.insert(0, num(coeff))
    if len(merged) == 1:
        return merged[0]
    return make("mul", tuple(merged), None, shape)


def _joined(p: E, f: E) -> E | None:
    """The canonical product ``p`` times one factor ``f`` whose base it does not hold:
    ``f`` put in its place in the order, without sorting ``p`` again (the chain rule
    through a 300-deep composition multiplies the adjoint by one factor per level, and
    re-canonicalising the whole product at each was quadratic with a sort per step).
    None where mul()'s own rules might apply (numbers, fills, exp, cofactors, a power
    whose base p holds)."""
    if f.op in ("num", "fill", "mul", "cof") or f.op == "fn" and f.data == "exp":
        return None
    base = f.args[0] if f.op == "pow" else f
    if base.op in ("num", "mul") or base.op == "call" and base.data[0] == "det":
        return None
    args = p.args
    if any(q is base or q.op == "pow" and q.args[0] is base or q.op in ("fill", "cof")
           for q in args):
        return None
    start = 1 if args[0].op == "num" else 0
    at = bisect.bisect_right(args, _factor_key(f), lo=start, key=_factor_key)
    return make("mul", args[:at] + (f,) + args[at:], None,
                broadcast(p.shape, f.shape, what="multiply"))


def _factor_key(f: E) -> tuple:
    return (f.args[0].key, f.args[1].key) if f.op == "pow" else (f.key, ONE.key)


def _logistic_rule(factors: list[E]) -> list[E]:
    """exp(u)*sigmoid(-u) -> sigmoid(u) (e^u/(1 + e^u)): d/dx log(1 + exp(x))."""
    if not any(g.op == "fn" and g.data == "sigmoid" for g in factors):
        return factors
    for i, f in enumerate(factors):
        if f.op == "fn" and f.data == "exp":
            partner = fn("sigmoid", neg(f.args[0]))
            for j, g in enumerate(factors):
                if g is partner:
                    rest = [h for k, h in enumerate(factors) if k not in (i, j)]
                    return rest + [fn("sigmoid", f.args[0])]
    return factors


def _cofactor_rule(factors: list[E]) -> list[E]:
    """cof(X) * det(X)^-1 -> inv(X).T."""
    for i, f in enumerate(factors):
        if f.op == "cof":
            x = f.args[0]
            for j, g in enumerate(factors):
                if g.op == "pow" and g.args[0].op == "call" and g.args[0].data == ("det", ()) \
                        and g.args[0].args[0] is x and g.args[1].data == -1:
                    rest = [h for k, h in enumerate(factors) if k not in (i, j)]
                    return rest + [transpose(call("inv", x))]
    return factors


def div(a: E, b: E) -> E:
    return mul(a, power(b, num(-1)))


def power(b: E, e: E) -> E:
    if e.op == "num":
        if e.data == 0:
            return ONE
        if e.data == 1:
            return b
    if b.op == "num" and e.op == "num":
        bv, ev = b.data, e.data
        if isinstance(bv, Fraction) and isinstance(ev, Fraction) and ev.denominator == 1 and \
                (bv != 0 or ev > 0) and abs(ev) <= 64:
            return num(bv ** int(ev))
        if bv == 1:
            return ONE
    if b is ONE:
        return ONE
    integer = e.op == "num" and isinstance(e.data, Fraction) and e.data.denominator == 1
    if b.op == "pow" and integer:
        return power(b.args[0], mul(b.args[1], e))
    if b.op == "mul" and integer:
        return mul(*[power(f, e) for f in b.args])
    if b.op == "fn" and b.data == "exp":
        return fn("exp", mul(b.args[0], e))
    if e is MINUS_ONE and b.op == "add" and len(b.args) == 2 and ONE in b.args:
        other = b.args[0] if b.args[1] is ONE else b.args[1]
        if other.op == "fn" and other.data == "exp":  # 1/(1 + exp(-u)) is sigmoid(u)
            return fn("sigmoid", neg(other.args[0]))
    return make("pow", (b, e), None, broadcast(b.shape, e.shape, what="power"))


def zeros(shape: Shape) -> E:
    return fill(0, shape)


def is_zero(e: E) -> bool:
    return (e.op == "num" or e.op == "fill") and e.data == 0


def fill(value: Any, shape: Shape) -> E:
    if not shape:
        return num(value)
    return make("fill", (), Fraction(value) if isinstance(value, int) else value, tuple(shape))


_NUMERIC_FN = {"log": lambda v: 0 if v == 1 else None, "exp": lambda v: 1 if v == 0 else None,
               "sin": lambda v: 0 if v == 0 else None, "cos": lambda v: 1 if v == 0 else None,
               "tanh": lambda v: 0 if v == 0 else None,
               "sign": lambda v: (v > 0) - (v < 0) if isinstance(v, Fraction) else None,
               "abs": lambda v: abs(v) if isinstance(v, Fraction) else None}


def fn(name: str, x: E) -> E:
    """An elementwise function of one argument."""
    if name == "sqrt":
        return power(x, HALF)
    if name == "square":
        return power(x, num(2))
    if name == "reciprocal":
        return power(x, num(-1))
    if name == "exp2":
        return power(num(2), x)
    if name in ("deg2rad", "rad2deg"):
        return mul(x, ELEMENTWISE[name](x))
    if x.op in ("num", "fill") and name in _NUMERIC_FN:
        v = _NUMERIC_FN[name](x.data)
        if v is not None:
            return fill(v, x.shape)
    if name == "log" and x.op == "fn" and x.data == "exp":
        return x.args[0]
    if name == "log" and x.op == "const" and x.data == "e":
        return ONE
    if name == "exp" and x.op == "fn" and x.data == "log":
        return x.args[0]
    if name == "exp" and x.op == "add" and len(x.args) == 2:
        soft = _softmax_of(*x.args) or _softmax_of(*reversed(x.args))
        if soft is not None:
            return soft
    if name == "exp" and x.op == "mul" and any(f.op == "fn" and f.data == "log" for f in x.args):
        # exp(c*log(b)) = b^c
        logs = [f for f in x.args if f.op == "fn" and f.data == "log"]
        if len(logs) == 1:
            rest = [f for f in x.args if f is not logs[0]]
            return power(logs[0].args[0], mul(*rest))
    return make("fn", (x,), name, x.shape)


def _softmax_of(u: E, minus: E) -> E | None:
    """softmax(u) for exp(u - logsumexp(u)) along one axis (all of a vector's)."""
    c, lse = _split_coeff(minus)
    if c != -1 or lse.op != "call" or lse.data[0] != "logsumexp" or lse.args[0] is not u:
        return None
    kw = dict(lse.data[1])
    if kw.get("axis") is None and u.ndim == 1:
        return call("softmax", u)
    if isinstance(kw.get("axis"), int) and kw.get("keepdims") and u.ndim >= 1:
        return call("softmax", u, axis=kw["axis"] % u.ndim)
    return None


def compare(op: str, a: E, b: E) -> E:
    return make("cmp", (a, b), op, broadcast(a.shape, b.shape, what="comparison"))


_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def transpose(x: E) -> E:
    if x.ndim < 2:
        return x
    if x.ndim > 2:
        raise SymbolicError(f"transpose of a {x.ndim}-d array has no formula here "
                            "(only matrices and vectors)")
    if x.op == "T":
        return x.args[0]
    if x.op == "matmul":
        return matmul(transpose(x.args[1]), transpose(x.args[0]))
    if x.op == "add":
        return add(*[transpose(t) for t in x.args])
    if x.op == "mul" and all(f.ndim in (0, 2) for f in x.args):
        return mul(*[transpose(f) for f in x.args])
    if x.op in ("eye",) or (x.op == "fill" and x.shape[0] == x.shape[1]):
        return x
    if x.op == "fill":
        return fill(x.data, (x.shape[1], x.shape[0]))
    if x.op == "call" and x.data[0] == "outer":
        return call("outer", x.args[1], x.args[0])
    if x.op == "pow" and x.args[1].ndim == 0:
        return power(transpose(x.args[0]), x.args[1])
    if x.op == "fn":
        return fn(x.data, transpose(x.args[0]))
    if x.op == "call" and x.data[0] == "inv" and transpose(x.args[0]) is x.args[0]:
        return x  # the inverse of a symmetric matrix (X.T @ X, A + A.T) is symmetric
    return make("T", (x,), None, (x.shape[1], x.shape[0]))


def _matmul_shape(a: Shape, b: Shape) -> Shape:
    if not a or not b:
        raise SymbolicError("matmul: an operand is a scalar (use * to scale)")
    if len(a) > 2 or len(b) > 2:
        raise SymbolicError("matmul of stacks of matrices (more than 2 dimensions) has no "
                            "formula here")
    inner_a = a[-1]
    inner_b = b[0] if len(b) == 1 else b[-2]
    if inner_a != inner_b:
        raise SymbolicError(f"matmul: shapes {_shape_text(a)} and {_shape_text(b)} do not "
                            "match (or their sizes cannot be proved equal)")
    return a[:-1] + b[1:] if len(b) == 2 else a[:-1]


def matmul(a: E, b: E) -> E:
    shape = _matmul_shape(a.shape, b.shape)
    if is_zero(a) or is_zero(b):
        return zeros(shape)
    if a.op == "fill" and b.op == "fill":  # ones(1, 1) @ ones(1, 3) is ones(1, 3)
        return mul(size_term(a.shape[-1]), fill(_times(a.data, b.data), shape))
    if a.op == "eye":
        return b
    if b.op == "eye":
        return a
    # numbers and scalar factors come out: (c*A) @ B = c*(A @ B)
    for side, term in ((0, a), (1, b)):
        if term.op == "mul":
            scalars = [f for f in term.args if f.ndim == 0]
            if scalars:
                rest = [f for f in term.args if f.ndim != 0]
                inner = mul(*rest) if rest else ONE
                if inner.shape != term.shape:
                    break
                other = matmul(inner, b) if side == 0 else matmul(a, inner)
                return mul(*scalars, other)
    if a.ndim == 1 and b.ndim == 2:  # x @ A is A' @ x
        return matmul(transpose(b), a)
    if a.ndim == 1 and b.ndim == 1 and b.key < a.key:
        a, b = b, a
    if b.op == "fill" and b.ndim == 1 and b.shape == (1,) and a.ndim == 2:
        return mul(reshape(a, (a.shape[0],)), num(b.data))
    cancelled = _cancelled(a, b)
    if cancelled is not None:
        return cancelled
    return make("matmul", (a, b), None, shape)


def _factors_of(m: E) -> list[E]:
    """The operands of a chain of matrix products, left to right."""
    return _factors_of(m.args[0]) + _factors_of(m.args[1]) if m.op == "matmul" else [m]


def _chain_product(factors: list[E]) -> E:
    out = factors[0]
    for f in factors[1:]:
        out = matmul(out, f)
    return out


def _cancelled(a: E, b: E) -> E | None:
    """A square factor cancelled against the inverse (or cofactors) of a chain it starts
    or ends, M = F1 @ ... @ Fk, all square: F1' @ inv(M)' = inv(F2 @ ... @ Fk)' and
    inv(M)' @ Fk' = inv(F1 @ ... @ Fk-1)' (where M is invertible), and, with
    cof(M) = det(M)*inv(M)', F1' @ cof(M) = det(M)*inv(F2 @ ... @ Fk)' (exact wherever the
    rest is invertible: det(M) = det(F1)*det(rest)). So d/dX det(A @ X @ B) is
    det(A @ X @ B)*inv(X).T and d/dX log(det(A @ X @ B)) is inv(X).T, as in the Cookbook.
    Cofactors of a known size up to 3 print exactly (true at singular matrices): kept."""
    for side, outer, inner in ((0, a, b), (1, b, a)):
        kind = inner.op if inner.op == "cof" else "inv" if inner.op == "T" and \
            inner.args[0].op == "call" and inner.args[0].data[0] == "inv" else None
        if kind is None or outer.ndim != 2 or outer.shape[0] != outer.shape[1]:
            continue
        m = inner.args[0] if kind == "cof" else inner.args[0].args[0]
        if kind == "cof" and isinstance(m.shape[0], int) and m.shape[0] <= 3:
            continue
        factors = _factors_of(m)
        end = factors[0] if side == 0 else factors[-1]
        if len(factors) < 2 or transpose(end) is not outer or any(
                f.ndim != 2 or f.shape[0] != f.shape[1] for f in factors):
            continue
        rest = _chain_product(factors[1:] if side == 0 else factors[:-1])
        left = transpose(call("inv", rest))
        return left if kind == "inv" else mul(call("det", m), left)
    return None


def reshape(x: E, shape: Shape) -> E:
    shape = tuple(shape)
    if x.shape == shape:
        return x
    if x.op == "reshape":
        return reshape(x.args[0], shape)
    if x.op in ("num",):
        return x
    if x.op == "fill":
        return fill(x.data, shape)
    return make("reshape", (x,), shape, shape)


_ORDER["reshape"] = 9


def call(func: str, *args: E, **keywords: Any) -> E:
    """A call with static keywords (axis, keepdims), shaped by :func:`_call_shape`."""
    kw = tuple(sorted((k, v) for k, v in keywords.items() if v is not None))
    if func == "outer":
        a, b = args
        if is_zero(a) or is_zero(b):
            return zeros((*a.shape, *b.shape))
        if a.op == "fill" and b.op == "fill":
            return fill(_times(a.data, b.data), (*a.shape, *b.shape))
        if b.op == "fill" and b.shape == (1,):
            return mul(reshape(a, (a.shape[0], 1)), num(b.data))
    if func == "trace" and args[0].op == "eye":
        return size_term(args[0].shape[0])
    if func in ("sum", "mean") and not kw and args[0].op == "num":
        return args[0]
    if func == "sum" and not kw:
        c, rest = _split_coeff(args[0])
        if c != 1:
            return scale(c, call("sum", rest))
    if func in REDUCTIONS and dict(kw).get("keepdims") and args[0].ndim and \
            len(_axes(dict(kw).get("axis"), args[0].ndim)) == args[0].ndim and all(
                d == 1 for d in _call_shape(func, args, dict(kw))):
        # reduced to one number: it broadcasts as the scalar
        return call(func, args[0], **{k: v for k, v in kw if k not in ("axis", "keepdims")})
    if func in ("var", "std") and not dict(kw).get("ddof") and all(
            d == 1 for d in _reduced_dims(args[0], dict(kw))):
        return zeros(_call_shape(func, args, dict(kw)))  # the spread of one element
    if func in ("softmax", "log_softmax") and dict(kw).get("axis") == args[0].ndim - 1:
        kw = ()
    shape = _call_shape(func, args, dict(kw))
    return make("call", tuple(args), (func, kw), shape)


def _reduced_dims(x: E, kw: dict) -> list[Dim]:
    return [x.shape[k] for k in _axes(kw.get("axis"), x.ndim)]


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for a in items:
        a = int(a)
        if not -ndim <= a < ndim:
            raise SymbolicError(f"axis {a} is out of range for {ndim} dimensions")
        out.append(a % ndim)
    return tuple(sorted(set(out)))


def _call_shape(func: str, args: tuple[E, ...], kw: dict) -> Shape:
    x = args[0]
    if func in REDUCTIONS:
        axes = _axes(kw.get("axis"), x.ndim)
        if kw.get("keepdims"):
            return tuple(1 if k in axes else d for k, d in enumerate(x.shape))
        return tuple(d for k, d in enumerate(x.shape) if k not in axes)
    if func in ("softmax", "log_softmax", "detach", "cbrt"):
        return x.shape
    if func in ("trace", "det"):
        _square(func, x)
        return ()
    if func == "inv":
        _square(func, x)
        return x.shape
    if func == "outer":
        return (*args[0].shape, *args[1].shape)[:2] if all(a.ndim == 1 for a in args) else \
            _fail(f"outer: needs two vectors, got shapes {_shape_text(args[0].shape)} and "
                  f"{_shape_text(args[1].shape)}")
    if func in _FUNCTIONS_2 + ("clip", "where"):
        return broadcast(*[a.shape for a in args], what=func)
    if func == "pad":  # made by diff only: the adjoint of a slice
        return tuple(d if (b, a) == (0, 0) else int(d) + b + a
                     for d, (b, a) in zip(x.shape, _pad_widths(x, kw["pad_width"])))
    raise SymbolicError(f"{func}: no symbolic shape rule")


def _pad_widths(x: E, widths: tuple) -> tuple:
    return (widths,) if x.ndim == 1 else widths


def _fail(message: str) -> Any:
    raise SymbolicError(message)


def _square(func: str, x: E) -> None:
    if x.ndim != 2 or x.shape[0] != x.shape[1]:
        raise SymbolicError(f"{func}: needs a square matrix; this one has shape "
                            f"{_shape_text(x.shape)} (declare it square: --shape X=n,n)")


REDUCTIONS = ("sum", "mean", "prod", "max", "min", "var", "std", "logsumexp", "norm")


def eye(n: Dim) -> E:
    return make("eye", (), None, (n, n))


def arange(n: Dim) -> E:
    return make("arange", (), None, (n,))


# -- the derivative rules -----------------------------------------------------------------

# d f(x) / dx for each elementwise function of one argument, as a term in x
ELEMENTWISE: dict[str, Any] = {
    "abs": lambda x: fn("sign", x),
    "sign": lambda x: ZERO, "floor": lambda x: ZERO, "ceil": lambda x: ZERO,
    "round": lambda x: ZERO,
    "exp": lambda x: fn("exp", x),
    "expm1": lambda x: fn("exp", x),
    "log": lambda x: power(x, num(-1)),
    "log1p": lambda x: power(add(x, ONE), num(-1)),
    "log2": lambda x: power(mul(x, fn("log", num(2))), num(-1)),
    "log10": lambda x: power(mul(x, fn("log", num(10))), num(-1)),
    "cbrt": lambda x: div(ONE, mul(num(3), power(fn("cbrt", x), num(2)))),
    "sin": lambda x: fn("cos", x),
    "cos": lambda x: neg(fn("sin", x)),
    "tan": lambda x: add(power(fn("tan", x), num(2)), ONE),
    "arcsin": lambda x: power(sub(ONE, power(x, num(2))), num(Fraction(-1, 2))),
    "arccos": lambda x: neg(power(sub(ONE, power(x, num(2))), num(Fraction(-1, 2)))),
    "arctan": lambda x: power(add(power(x, num(2)), ONE), num(-1)),
    "sinh": lambda x: fn("cosh", x),
    "cosh": lambda x: fn("sinh", x),
    "tanh": lambda x: sub(ONE, power(fn("tanh", x), num(2))),
    "arcsinh": lambda x: power(add(power(x, num(2)), ONE), num(Fraction(-1, 2))),
    "arccosh": lambda x: power(sub(power(x, num(2)), ONE), num(Fraction(-1, 2))),
    "arctanh": lambda x: power(sub(ONE, power(x, num(2))), num(-1)),
    "sigmoid": lambda x: mul(fn("sigmoid", x), sub(ONE, fn("sigmoid", x))),
    "relu": lambda x: compare(">", x, ZERO),
    "softplus": lambda x: fn("sigmoid", x),
    "exp2": lambda x: mul(power(num(2), x), fn("log", num(2))),  # read as 2^x
    "logit": lambda x: power(mul(x, sub(ONE, x)), num(-1)),
    "erf": lambda x: mul(num(2), power(const("pi"), num(Fraction(-1, 2))),
                         fn("exp", neg(power(x, num(2))))),
    "erfc": lambda x: mul(num(-2), power(const("pi"), num(Fraction(-1, 2))),
                          fn("exp", neg(power(x, num(2))))),
    "deg2rad": lambda x: mul(const("pi"), num(Fraction(1, 180))),  # read as x*pi/180
    "rad2deg": lambda x: mul(num(180), power(const("pi"), num(-1))),
}


def _expand_to(g: E, shape: Shape) -> E:
    """``g`` (which stands for its broadcast to ``shape``) at exactly ``shape``."""
    if g.shape == tuple(shape):
        return g
    return mul(g, fill(1, shape))


def unbroadcast(g: E, nominal: Shape, target: Shape) -> E:
    """Sum an adjoint of shape ``nominal`` (written as ``g``, which may be broadcast) back
    to an operand of shape ``target``."""
    if tuple(nominal) == tuple(target):
        return g
    lead = len(nominal) - len(target)
    gshape = (1,) * (len(nominal) - g.ndim) + tuple(g.shape)
    sum_axes, factor = [], ONE
    for k, d in enumerate(nominal):
        t = target[k - lead] if k >= lead else None
        if t is None or (t == 1 and d != 1):
            if gshape[k] == 1:
                factor = mul(factor, size_term(d))
            else:
                sum_axes.append(k)
    out = g
    if sum_axes:
        keep = [k for k in sum_axes if k >= lead]
        dropped = [k for k in sum_axes if k < lead]
        real = g.ndim - len(nominal)
        if dropped and not keep:
            axes = tuple(k + real for k in dropped)
            out = call("sum", g, axis=_axis_value(axes, g.ndim))
        else:
            out = call("sum", g, axis=_axis_value(tuple(k + real for k in sum_axes), g.ndim),
                       keepdims=True)
            if dropped:
                out = reshape(out, tuple(target))
    out = mul(factor, out)
    if out.ndim > len(target):
        out = reshape(out, tuple(target))
    return out


def _axis_value(axes: tuple[int, ...], ndim: int) -> Any:
    if len(axes) == ndim:
        return None
    return axes[0] if len(axes) == 1 else axes


def _vjp(node: E, g: E, needed: list[bool]) -> list[E | None]:
    """The adjoint of each argument of ``node``, given ``node``'s adjoint ``g``."""
    op, args = node.op, node.args
    if op == "add":
        return [unbroadcast(g, node.shape, a.shape) if n else None for a, n in zip(args, needed)]
    if op == "mul":
        out: list[E | None] = []
        for i, (a, n) in enumerate(zip(args, needed)):
            if not n:
                out.append(None)
                continue
            out.append(unbroadcast(mul(g, _others_of(node, i)), node.shape, a.shape))
        return out
    if op == "pow":
        b, e = args
        gb = ge = None
        if needed[0]:
            gb = unbroadcast(mul(g, e, power(b, sub(e, ONE))), node.shape, b.shape)
        if needed[1]:
            # d/de b^e = b^e*log(b), taken as 0 where b == 0, as the engine does (the
            # limit for e > 0): log(b + (b == 0)). Not needed for a base that is never 0,
            # nor for x^x (at 0 the engine's d/dbase, x*x^(x - 1), is 0*inf already)
            safe = b if _positive(b) or e is b else add(b, compare("==", b, ZERO))
            ge = unbroadcast(mul(g, node, fn("log", safe)), node.shape, e.shape)
        return [gb, ge]
    if op == "fn":
        rule = ELEMENTWISE.get(node.data)
        if rule is None:
            raise SymbolicError(f"{node.data}: no derivative rule")
        return [mul(g, rule(args[0]))]
    if op in ("cmp",):
        return [ZERO if n else None for n in needed]
    if op == "T":
        return [transpose(_expand_to(g, node.shape))]
    if op == "matmul":
        return _vjp_matmul(node, _expand_to(g, node.shape), needed)
    if op == "reshape":
        return [reshape(_expand_to(g, node.shape), args[0].shape)]
    if op == "index":
        return [_vjp_index(node, g)]
    if op == "call":
        return _vjp_call(node, g, needed)
    raise SymbolicError(f"{op}: no derivative rule")


def _others_of(node: E, i: int) -> E:
    """The product ``node`` without its factor ``i``. A canonical product less one factor
    is still canonical (sorted, one factor per base, one exp, no cofactor pair), so it is
    made directly: the derivative of a product of k factors is k of these, and putting
    each through mul() again made it O(k^2 log k). A fill (a factor kept for its shape)
    goes through mul(), which decides whether it is still needed."""
    args = node.args
    rest = args[:i] + args[i + 1:]
    if not rest:
        return ONE
    if len(rest) == 1 or any(f.op == "fill" for f in rest):
        return mul(*rest)
    return make("mul", rest, None, broadcast(*[f.shape for f in rest]))


def _positive(e: E) -> bool:
    """Whether e is never 0 (nor negative): a positive number, pi, e, exp, cosh..."""
    if e.op == "num":
        return isinstance(e.data, Fraction) and e.data > 0
    if e.op == "fn":
        return e.data in ("exp", "cosh", "sigmoid", "softplus")
    return e.op == "const" or e.op == "pow" and _positive(e.args[0])


def _vjp_matmul(node: E, g: E, needed: list[bool]) -> list[E | None]:
    a, b = node.args
    if a.ndim == 2 and b.ndim == 2:
        ga, gb = matmul(g, transpose(b)), matmul(transpose(a), g)
    elif a.ndim == 2 and b.ndim == 1:
        ga, gb = call("outer", g, b), matmul(transpose(a), g)
    elif a.ndim == 1 and b.ndim == 2:
        ga, gb = matmul(b, g), call("outer", a, g)
    else:
        ga, gb = mul(g, b), mul(g, a)
    return [ga if needed[0] else None, gb if needed[1] else None]


def _vjp_index(node: E, g: E) -> E:
    x = node.args[0]
    subs = node.data
    g = _expand_to(g, node.shape)

    def hot(k: int, i: int) -> E:
        d = x.shape[k]
        if i < 0:
            where = add(size_term(d), num(i)) if isinstance(d, str) else num(i % d)
        else:
            where = num(i)
        return compare("==", arange(d), where)

    if any(isinstance(s, tuple) for s in subs):
        # a slice's adjoint is the gradient with zeros around it: pad(g, pad_width=...)
        if any(isinstance(s, int) for s in subs):
            raise SymbolicError("indexing: a slice beside an integer index has no derivative "
                                "formula here yet (slice, then index: x[1:][0])")
        widths = []
        for k, d in enumerate(x.shape):
            s = subs[k] if k < len(subs) else ALL
            if s == ALL:
                widths.append((0, 0))
            else:
                kept = _slice_range(s, d, k)
                widths.append((kept.start, int(d) - kept.stop))
        return call("pad", g, pad_width=widths[0] if len(widths) == 1 else tuple(widths))
    if x.ndim == 1 and len(subs) == 1 and isinstance(subs[0], int):
        return mul(g, hot(0, subs[0]))
    if x.ndim == 2 and len(subs) == 2 and all(isinstance(s, int) for s in subs):
        return mul(g, call("outer", hot(0, subs[0]), hot(1, subs[1])))
    if x.ndim == 2 and len(subs) == 1 and isinstance(subs[0], int):
        return call("outer", hot(0, subs[0]), g)
    if x.ndim == 2 and len(subs) == 2 and subs[0] == ALL and isinstance(subs[1], int):
        return call("outer", g, hot(1, subs[1]))
    raise SymbolicError("indexing: this subscript has no derivative formula here (integers "
                        "into vectors and matrices, and x[:, j], do)")


def _kept(g: E, node: E, x: E) -> E:
    """A reduction's adjoint put back beside the reduced axes, so it broadcasts to x."""
    kw = dict(node.data[1])
    axes = _axes(kw.get("axis"), x.ndim)
    if kw.get("keepdims") or g.ndim == 0 or all(k < len(axes) for k in axes) and \
            axes == tuple(range(len(axes))):
        return g
    g = _expand_to(g, node.shape)
    return reshape(g, tuple(1 if k in axes else d for k, d in enumerate(x.shape)))


def _same_reduction(func: str, node: E, x: E) -> E:
    kw = dict(node.data[1])
    ddof = kw.get("ddof") if func == node.data[0] else None  # std's own, not mean's
    if kw.get("axis") is None:
        return call(func, x, ddof=ddof)
    return call(func, x, axis=kw.get("axis"), keepdims=True, ddof=ddof)


def _vjp_call(node: E, g: E, needed: list[bool]) -> list[E | None]:
    func, kw = node.data[0], dict(node.data[1])
    args = node.args
    x = args[0]
    if func in REDUCTIONS:
        axes = _axes(kw.get("axis"), x.ndim)
        n = count(tuple(x.shape[k] for k in axes))
        gk = _kept(g, node, x)
        if func == "sum":
            return [gk]
        if func == "mean":
            return [div(gk, n)]
        if func in ("max", "min"):
            winners = compare("==", x, _same_reduction(func, node, x))
            return [mul(gk, winners, power(_same_reduction("sum", node, winners), num(-1)))]
        dof = sub(n, num(kw.get("ddof", 0)))  # var and std divide by n - ddof
        if func == "var":
            return [mul(gk, num(2), sub(x, _same_reduction("mean", node, x)),
                        power(dof, num(-1)))]
        if func == "std":
            return [mul(gk, sub(x, _same_reduction("mean", node, x)),
                        power(mul(dof, _same_reduction("std", node, x)), num(-1)))]
        if func == "logsumexp":
            return [mul(gk, fn("exp", sub(x, _same_reduction("logsumexp", node, x))))]
        if func == "norm":
            return [mul(gk, x, power(_same_reduction("norm", node, x), num(-1)))]
        if func == "prod":
            return [mul(gk, _others(node, x))]
    if func == "pad":  # its adjoint takes the padded part back out: a slice
        subs = tuple(ALL if (b, a) == (0, 0) else (SLICE, b or None, -a if a else None)
                     for b, a in _pad_widths(x, kw["pad_width"]))
        return [index(_expand_to(g, node.shape), subs)]
    if func in ("softmax", "log_softmax") and kw.get("axis") is None:
        kw["axis"] = x.ndim - 1
    if func == "softmax":
        s = node
        gg = _expand_to(g, node.shape)
        return [mul(s, sub(gg, call("sum", mul(gg, s), axis=kw.get("axis"), keepdims=True)))]
    if func == "log_softmax":
        gg = _expand_to(g, node.shape)
        return [sub(gg, mul(call("softmax", x, axis=kw.get("axis")),
                            call("sum", gg, axis=kw.get("axis"), keepdims=True)))]
    if func == "detach":
        return [None]
    if func == "trace":
        return [mul(g, eye(x.shape[0]))]
    if func == "det":
        return [mul(g, make("cof", (x,), None, x.shape))]
    if func == "inv":
        it = transpose(node)
        return [neg(matmul(matmul(it, _expand_to(g, node.shape)), it))]
    if func == "outer":
        a, b = args
        gg = _expand_to(g, node.shape)
        return [matmul(gg, b) if needed[0] else None,
                matmul(transpose(gg), a) if needed[1] else None]
    if func == "cbrt":
        return [mul(g, ELEMENTWISE["cbrt"](x))]
    shape = node.shape

    def back(term: E, a: E) -> E:
        return unbroadcast(mul(g, term), shape, a.shape)

    if func in ("maximum", "minimum"):
        a, b = args
        wins = add(compare(">" if func == "maximum" else "<", a, b),
                   mul(HALF, compare("==", a, b)))
        return [back(wins, a) if needed[0] else None,
                back(sub(ONE, wins), b) if needed[1] else None]
    if func == "arctan2":
        y, xx = args
        sc = power(add(power(xx, num(2)), power(y, num(2))), num(-1))
        return [back(mul(sc, xx), y) if needed[0] else None,
                back(neg(mul(sc, y)), xx) if needed[1] else None]
    if func == "hypot":
        a, b = args
        return [back(div(a, node), a) if needed[0] else None,
                back(div(b, node), b) if needed[1] else None]
    if func == "logaddexp":
        a, b = args
        return [back(fn("sigmoid", sub(a, b)), a) if needed[0] else None,
                back(fn("sigmoid", sub(b, a)), b) if needed[1] else None]
    if func == "logaddexp2":  # log2(2^a + 2^b): d/da = 2^a/(2^a + 2^b)
        a, b = args
        ln2 = fn("log", num(2))
        return [back(fn("sigmoid", mul(sub(a, b), ln2)), a) if needed[0] else None,
                back(fn("sigmoid", mul(sub(b, a), ln2)), b) if needed[1] else None]
    if func == "mod":  # between its jumps, as the engine: d/da = 1, d/db = -floor(a/b)
        a, b = args
        return [back(ONE, a) if needed[0] else None,
                back(neg(call("floor_divide", a, b)), b) if needed[1] else None]
    if func == "floor_divide":  # a step function
        return [ZERO if n else None for n in needed]
    if func == "clip":
        xx, lo, hi = args
        if lo.op == "num" and hi.op == "num" and lo.data <= hi.data:
            above, below = compare(">", xx, hi), compare("<", xx, lo)
            inside = mul(compare(">=", xx, lo), compare("<=", xx, hi))
        else:
            above = compare(">", call("maximum", xx, lo), hi)
            below = mul(compare("<", xx, lo), sub(ONE, above))
            inside = mul(sub(ONE, below), sub(ONE, above))
        return [back(inside, xx) if needed[0] else None,
                back(below, lo) if needed[1] else None,
                back(above, hi) if needed[2] else None]
    if func == "where":
        c, a, b = args
        chosen = c if c.op == "cmp" else compare("!=", c, ZERO)
        other = compare(_NEGATED[chosen.data], *chosen.args)
        return [None, back(chosen, a) if needed[1] else None,
                back(other, b) if needed[2] else None]
    raise SymbolicError(f"{func}: no derivative rule")


MAX_PROD_ELEMENTS = 64


def _others(node: E, x: E) -> E:
    """For prod(x): each element's product of the others along the reduced axes, written
    out element by element (true at zeros too, where prod(x)/x is not)."""
    import itertools

    axes = _axes(dict(node.data[1]).get("axis"), x.ndim)
    if not all(isinstance(d, int) for d in x.shape) or math.prod(x.shape) > MAX_PROD_ELEMENTS:
        raise SymbolicError("prod: its derivative (each element's product of the others, "
                            "true at zeros too) is written out element by element, so here "
                            f"only for a known shape of up to {MAX_PROD_ELEMENTS} elements")
    if x.ndim == 0:
        return ONE
    positions = list(itertools.product(*[range(d) for d in x.shape]))  # type: ignore[arg-type]
    parts = []
    for pos in positions:
        group = [q for q in positions if q != pos and all(
            q[k] == pos[k] for k in range(x.ndim) if k not in axes)]
        parts.append(mul(*[index(x, q) for q in group]))
    return make("others", tuple(parts), None, x.shape)


ALL = ":"  # a whole-axis subscript (slices are not hashable before Python 3.12)
SLICE = "lo:hi"  # (SLICE, lo, hi): a slice with ends (None: from the start, to the end)


def _slice_range(sub: tuple, d: Dim, k: int) -> range:
    """The indices a slice subscript keeps along an axis of size ``d`` (a number)."""
    if not isinstance(d, int):
        raise SymbolicError(f"slicing axis {k}, of symbolic size {d}: the slice's size is not "
                            f"a size diff can name; give {d} a number (--shape with sizes)")
    return range(d)[slice(sub[1], sub[2])]


def index(x: E, subs: tuple) -> E:
    shape = []
    if len(subs) > x.ndim:
        raise SymbolicError(f"indexing: {len(subs)} subscripts for {x.ndim} dimensions")
    for k, s in enumerate(subs):
        d = x.shape[k]
        if isinstance(s, int):
            if isinstance(d, int) and not -d <= s < d:
                raise SymbolicError(f"indexing: index {s} is out of range for size {d}")
            continue
        if s == ALL:
            shape.append(d)
        elif isinstance(s, tuple) and s[0] == SLICE:
            kept = _slice_range(s, d, k)
            if not kept:
                raise SymbolicError(f"indexing: the slice keeps no element of axis {k}")
            shape.append(len(kept))
        else:
            raise SymbolicError("indexing with slices other than ':' has no formula here")
    shape.extend(x.shape[len(subs):])
    return make("index", (x,), subs, tuple(shape))


# -- reverse mode -------------------------------------------------------------------------


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


def gradient(y: E, x: E) -> E:
    """dy/dx for a scalar y: a term of x's shape (or one that broadcasts to it)."""
    if y.ndim != 0:
        raise SymbolicError(f"diff needs a scalar result; this one has shape "
                            f"{_shape_text(y.shape)} (reduce it with sum(...) or mean(...))")
    order = _topological(y)
    live: set[int] = {id(x)}
    for node in order:
        if node is not x and node.op != "call" or node.op == "call":
            if any(id(a) in live for a in node.args) and not (
                    node.op == "call" and node.data[0] == "detach"):
                live.add(id(node))
    if id(y) not in live:
        return ZERO
    adjoint: dict[int, list[E]] = {id(y): [ONE]}
    for node in reversed(order):
        parts = adjoint.pop(id(node), None)
        if node is x:
            return add(*parts) if parts else ZERO
        if not parts or not node.args:
            continue
        g = add(*parts)
        if is_zero(g):
            continue
        needed = [id(a) in live for a in node.args]
        for a, ga in zip(node.args, _vjp(node, g, needed)):
            if ga is not None and id(a) in live:
                adjoint.setdefault(id(a), []).append(ga)
    return ZERO


# -- printing: terms as syntax trees ------------------------------------------------------


def _number_node(v: Any) -> S.Node:
    if isinstance(v, Fraction):
        if v.denominator == 1:
            return S.Number(float(v.numerator), str(v.numerator))
        d = v.denominator
        while d % 2 == 0:
            d //= 2
        while d % 5 == 0:
            d //= 5
        if d == 1 and len(str(float(v))) <= 10:
            return S.Number(float(v), repr(float(v)))
        top = S.Number(float(abs(v.numerator)), str(abs(v.numerator)))
        node = S.Binary("/", top, S.Number(float(v.denominator), str(v.denominator)))
        return S.Unary("-", node) if v < 0 else node
    text = S._number_text(float(v))
    return S.Number(float(v), text)


def _negative(v: Any) -> bool:
    try:
        return float(v) < 0
    except TypeError:
        return False


def _dims(shape: Shape) -> tuple[S.Node, ...]:
    return tuple(S.Name(d) if isinstance(d, str) else S.Number(float(d), str(d)) for d in shape)


class _ToSyntax:
    def __init__(self, names: dict[E, str] | None = None) -> None:
        self.names = {} if names is None else names
        self.memo: dict[int, S.Node] = {}

    def __call__(self, root: E) -> S.Node:
        # down to the terms already printed only: one() prints terms it makes (the
        # product of the other factors, a negated term), and walking each of those whole
        # again was quadratic in a deep chain rule's length
        for node in _topological(root, self.memo):
            self.memo[id(node)] = self.one(node)
        return self.memo[id(root)]

    def of(self, e: E) -> S.Node:
        return self.memo[id(e)] if id(e) in self.memo else self(e)

    def one(self, e: E) -> S.Node:
        if e in self.names:
            return S.Name(self.names[e])
        op = e.op
        if op == "num":
            return _number_node(e.data)
        if op in ("sym", "const", "size"):
            return S.Name(e.data)
        if op == "add":
            return self.sum(e.args)
        if op == "mul":
            eyes = [a for a in e.args if a.op == "eye"]
            rest = [a for a in e.args if a.op != "eye"]
            if len(eyes) == 1 and rest and broadcast(*[a.shape for a in rest]) == \
                    eyes[0].shape[:1]:
                return S.Call("diag", (self.of(mul(*rest)),))  # d*eye(n) is diag(d)
            return self.product(e.args)
        if op == "pow":
            return self.pow(e)
        if op == "fn":
            return S.Call(e.data, (self.of(e.args[0]),))
        if op == "cmp":
            return S.Compare(e.data, self.of(e.args[0]), self.of(e.args[1]))
        if op == "T":
            return S.Transpose(self.of(e.args[0]))
        if op == "matmul":
            return _matmul_chain(self.of(e.args[0]), self.of(e.args[1]))
        if op == "call":
            func, kw = e.data
            keywords = tuple((k, self.static(v)) for k, v in kw)
            return S.Call(func, tuple(self.of(a) for a in e.args), keywords)
        if op == "fill" and e.data == 0:
            return S.Call("zeros", _dims(e.shape))
        if op == "fill":
            ones = S.Call("ones", _dims(e.shape))
            return ones if e.data == 1 else S.Binary("*", _number_node(e.data), ones)
        if op == "eye":
            return S.Call("eye", _dims(e.shape[:1]))
        if op == "arange":
            return S.Call("arange", _dims(e.shape))
        if op == "reshape":
            return S.Call("reshape", (self.of(e.args[0]), *_dims(e.data)))
        if op == "index":
            subs = tuple(S.Slice() if s == ALL else S.Slice(*(
                None if v is None else _number_node(Fraction(v)) for v in s[1:]))
                if isinstance(s, tuple) else _number_node(Fraction(s)) for s in e.data)
            return S.Index(self.of(e.args[0]), subs)
        if op == _LITERAL:
            import numpy as np

            flat, shp = e.data
            values = np.array([float(v) for v in flat]).reshape(shp)
            return _array_node(values)
        if op == "others":
            import numpy as np

            cells = np.empty(len(e.args), dtype=object)
            cells[:] = [self.of(a) for a in e.args]
            return _nested(cells.reshape(e.shape))
        if op == "cof":
            return self.cofactor(e.args[0])
        raise SymbolicError(f"cannot print a {op} term")

    def static(self, v: Any) -> S.Node:
        if isinstance(v, bool):
            return S.Number(float(v), "true" if v else "false")
        if isinstance(v, tuple):
            return S.Array(tuple(self.static(a) for a in v))
        return S.Number(float(v), str(v))

    def cofactor(self, x: E) -> S.Node:
        n = x.shape[0]
        if isinstance(n, int) and n <= 3:
            def at(i: int, j: int) -> E:
                return index(x, (i, j))
            if n == 1:
                return S.Array((S.Array((S.Number(1.0, "1"),)),))
            if n == 2:
                rows = [[at(1, 1), neg(at(1, 0))], [neg(at(0, 1)), at(0, 0)]]
            else:
                rows = []
                for i in range(3):
                    row = []
                    for j in range(3):
                        r = [k for k in range(3) if k != i]
                        c = [k for k in range(3) if k != j]
                        plus = mul(at(r[0], c[0]), at(r[1], c[1]))
                        minus = mul(at(r[0], c[1]), at(r[1], c[0]))
                        row.append(sub(plus, minus) if (i + j) % 2 == 0 else sub(minus, plus))
                    rows.append(row)
            return S.Array(tuple(S.Array(tuple(self.of(t) for t in row)) for row in rows))
        return self.of(mul(call("det", x), transpose(call("inv", x))))

    def sum(self, terms: tuple[E, ...]) -> S.Node:
        items = list(terms)
        # lead with a positive term where there is one: b - a^2, not -a^2 + b
        if _is_negative_term(items[0]):
            for k, t in enumerate(items):
                if not _is_negative_term(t):
                    items.insert(0, items.pop(k))
                    break
        node = self.of(items[0])
        for t in items[1:]:
            if _is_negative_term(t):
                node = S.Binary("-", node, self.of(neg(t)))
            else:
                node = S.Binary("+", node, self.of(t))
        return node

    def product(self, factors: tuple[E, ...]) -> S.Node:
        coeff = factors[0].data if factors[0].op == "num" else None
        rest = factors[1:] if coeff is not None else factors
        top: list[S.Node] = []
        bottom: list[S.Node] = []
        for f in rest:
            if f.op == "pow" and f.args[1].op == "num" and _negative(f.args[1].data):
                bottom.append(self.of(power(f.args[0], num(-f.args[1].data)
                                            if isinstance(f.args[1].data, Fraction)
                                            else num(-float(f.args[1].data)))))
            else:
                top.append(self.of(f))
        sign = False
        if coeff is not None:
            if _negative(coeff):
                sign = True
                coeff = -coeff
            if isinstance(coeff, Fraction) and coeff.denominator != 1 and (
                    bottom or coeff.numerator == 1
                    or not isinstance(_number_node(coeff), S.Number)):
                # 2/(3*x), not 2/3/x; pi/180 and x^2/2, not 1/180*pi and 0.5*x^2 (but
                # 1.5*x: a short decimal stays one)
                if coeff.numerator != 1:
                    top.insert(0, _number_node(Fraction(coeff.numerator)))
                bottom.insert(0, _number_node(Fraction(coeff.denominator)))
            elif coeff != 1:
                top.insert(0, _number_node(coeff))
        if not top:
            top = [S.Number(1.0, "1")]
        if sign:  # -2*x, not -(2*x): the sign goes on the first factor
            first = top[0]
            top[0] = S.Number(-first.value, "-" + first.text) if isinstance(first, S.Number) \
                else S.Unary("-", first)
        if len(top) == 2 and isinstance(top[0], S.Number) and _is_matmul(top[1]):
            # 2*A.T @ r: the number joins the first operand ((2*A.T) @ r is the same);
            # 2*A.T @ r/m is ((2*A.T) @ r)/m
            chain = _onto_first(top[1], lambda first: S.Binary("*", top[0], first))
            return S.Binary("/", chain, _chain("*", bottom)) if bottom else chain
        if len(top) == 1 and isinstance(top[0], S.Unary) and _is_matmul(top[0].operand) \
                and not bottom:
            # -inv(X).T @ A, not -(inv(X).T @ A): (-P) @ Q is -(P @ Q)
            return _onto_first(top[0].operand, lambda first: S.Unary("-", first))
        node = _chain("*", top)
        if bottom:
            node = S.Binary("/", node, _chain("*", bottom))
        return node

    def pow(self, e: E) -> S.Node:
        b, x = e.args
        if x.op == "num" and x.data == HALF.data:
            return S.Call("sqrt", (self.of(b),))
        if x.op == "num" and _negative(x.data):
            return S.Binary("/", S.Number(1.0, "1"), self.of(power(b, num(-x.data))))
        return S.Binary("^", self.of(b), self.of(x))


def _is_matmul(node: S.Node) -> bool:
    return isinstance(node, S.Binary) and node.op == "@"


def _onto_first(chain: S.Node, change: Any) -> S.Node:
    """A left-nested ``@`` chain with its first operand changed (scaled or negated)."""
    if _is_matmul(chain):
        return S.Binary("@", _onto_first(chain.left, change), chain.right)
    return change(chain)


def _matmul_chain(left: S.Node, right: S.Node) -> S.Node:
    """``left @ right`` as one left-nested chain: C @ X @ B, not C @ (X @ B) (the
    product is associative; the chain is how the Cookbook writes it)."""
    if _is_matmul(right):
        return S.Binary("@", _matmul_chain(left, right.left), right.right)
    return S.Binary("@", left, right)


def _nested(cells: Any) -> S.Node:
    if cells.ndim == 1:
        return S.Array(tuple(cells))
    return S.Array(tuple(_nested(c) for c in cells))


def _array_node(values: Any) -> S.Node:
    if values.ndim == 0:
        return _number_node(num(float(values)).data)
    return S.Array(tuple(_array_node(v) for v in values))


def _chain(op: str, nodes: list[S.Node]) -> S.Node:
    node = nodes[0]
    for n in nodes[1:]:
        node = S.Binary(op, node, n)
    return node


def _is_negative_term(t: E) -> bool:
    c, _ = _split_coeff(t)
    return _negative(c)


def to_syntax(e: E, names: dict[E, str] | None = None) -> S.Node:
    return _ToSyntax(names)(e)


def to_text(e: E, transpose: str = "attribute") -> str:
    return S.to_text(to_syntax(e), transpose)


def size(e: E) -> int:
    """The number of nodes a reader sees: the printed tree's size."""
    return sum(1 for _ in S.postorder(to_syntax(e)))


# -- reading a program into terms ---------------------------------------------------------

_LITERAL = "lit"
_ORDER[_LITERAL] = 9
_FUNCTIONS_2 = ("maximum", "minimum", "arctan2", "hypot", "logaddexp", "logaddexp2", "mod",
                "floor_divide")
_JOINING = "joining or splitting arrays has no derivative formula here yet"
_MOVING = ("rearranging or copying elements has no formula here yet (its adjoint, the "
           "inverse rearrangement, is not written for symbolic sizes)")
_RUNNING = "running totals have no formula here yet (the adjoint is a reversed running total)"
_DECOMPOSITION = ("a matrix decomposition: its derivative needs the factors' own vectors "
                  "or a triangular solve, which matrix notation in the language cannot write")
# every built-in diff does not read, and why (a test holds this table to builtins.py: a
# new built-in needs a derivative rule or a line here)
_REFUSED_WHY = {
    "solve": None,  # read as inv(a) @ b
    "concatenate": _JOINING, "stack": _JOINING, "hstack": _JOINING, "vstack": _JOINING,
    "column_stack": _JOINING, "split": _JOINING, "hsplit": _JOINING, "vsplit": _JOINING,
    "squeeze": "shape changes other than reshape/flatten have no formula here yet",
    "expand_dims": "shape changes other than reshape/flatten have no formula here yet",
    "broadcast_to": "shape changes other than reshape/flatten have no formula here yet",
    "swapaxes": "axis permutations have no formula here (for a matrix, write X.T)",
    "moveaxis": "axis permutations have no formula here (for a matrix, write X.T)",
    "repeat": _MOVING, "tile": _MOVING, "flip": _MOVING, "roll": _MOVING, "pad": _MOVING,
    "cumsum": _RUNNING, "cumprod": _RUNNING, "differences": _RUNNING,
    "sort": "the permutation that sorts is not a term of the language",
    "einsum": "index contractions are not read into matrix notation here (write them with "
              "@, outer, sum and transpose)",
    "tensordot": "index contractions are not read into matrix notation here (write them "
                 "with @, outer, sum and transpose)",
    "kron": "the Kronecker product has no formula here (its adjoint sums over blocks, "
            "which the language cannot write for symbolic sizes)",
    "cross": "the cross product has no formula here yet",
    "tril": "triangular masks have no formula here yet",
    "triu": "triangular masks have no formula here yet",
    "cholesky": _DECOMPOSITION, "eigvalsh": _DECOMPOSITION, "svdvals": _DECOMPOSITION,
    "pinv": "the pseudo-inverse's derivative has no formula here (it holds only where the "
            "rank does not change)",
    "slogdet": "it returns a pair (sign, log|det|); write log(abs(det(X))), whose "
               "derivative is inv(X).T",
    "grad": "a derivative inside the program: use --order 2 instead",
    "jacobian": "a derivative inside the program: use --order 2 instead",
    "hessian": "a derivative inside the program: use --order 2 instead",
    "rand": "random values have no derivative formula",
    "randn": "random values have no derivative formula",
}


def literal(values: Any) -> E:
    import numpy as np

    array = np.asarray(values, dtype=float)
    if array.ndim == 0:
        return num(float(array))
    flat = tuple(num(float(v)).data for v in array.reshape(-1))
    return make(_LITERAL, (), (flat, array.shape), tuple(int(d) for d in array.shape))


class Reader:
    """Runs a program's statements on terms: names bind to terms, a name with no value
    is a symbol (its shape declared, or fixed by a value, else a scalar)."""

    def __init__(self, shapes: dict[str, Shape] | None = None,
                 values: dict[str, Any] | None = None) -> None:
        import numpy as np

        self.shapes = dict(shapes or {})
        self.values = {k: np.asarray(v) for k, v in (values or {}).items()}
        self.env: dict[str, E] = {}
        self.symbols: dict[str, E] = {}  # in order of first use
        self.made: dict[str, Any] = {}  # leaves the program makes from constants: values
        self.named: dict[E, str] = {}  # intermediate terms the program named
        self.last: E | None = None
        self.links: set[int] = set()  # inner links of a + b + c chains, read at the top

    def run(self, statements: list[S.Node]) -> E | None:
        for st in statements:
            if isinstance(st, S.Declare):
                self.shapes[st.name] = st.sizes
            elif isinstance(st, S.Assign):
                self.assign(st.name, st.value)
            elif isinstance(st, S.Augmented):
                self.assign(st.name, S.Binary(st.op, S.Name(st.name, span=st.span), st.value,
                                              span=st.span))
            else:
                self.last = self.term(st)
        return self.last

    def assign(self, name: str, value: S.Node) -> None:
        if not any(isinstance(n, S.Name) and n.id not in ("pi", "e", "inf", "nan")
                   for n in S.postorder(value)) and not _random(value):
            # made from constants: a leaf input (SPEC §4), a symbol of its value's shape
            import numpy as np

            from gradcli.lang.session import evaluate

            outcomes = evaluate(S.to_text(value))
            result = outcomes[-1]
            error = getattr(result, "error", None)
            if error is not None:
                raise SymbolicError(error.message, value.span)
            data = np.asarray(result.value, dtype=float)
            self.made[name] = data
            term = sym(name, tuple(int(d) for d in data.shape))
            self.symbols.setdefault(name, term)
        else:
            term = self.term(value)
        self.env[name] = term
        # a name stands for its term only while it is bound to it (f = f + 1 rebinds)
        self.named = {t: n for n, t in self.env.items() if t.op not in ("sym", "num", "const")}
        self.last = term

    def name(self, node: S.Name) -> E:
        n = node.id
        if n in self.env:
            return self.env[n]
        if n in ("pi", "e") and n not in self.values and n not in self.shapes:
            return const(n)
        if n in ("inf", "nan") and n not in self.values:
            return num(math.inf if n == "inf" else math.nan)
        from gradcli.lang.builtins import lookup

        if lookup(n) is not None:
            raise SymbolicError(f'"{n}" is a function: call it, as in {n}(x)', node.span)
        if n in self.values:
            shape: Shape = tuple(int(d) for d in self.values[n].shape)
        else:
            shape = tuple(self.shapes.get(n, ()))
        term = sym(n, shape)
        self.symbols.setdefault(n, term)
        self.env[n] = term
        return term

    def term(self, root: S.Node) -> E:
        from gradcli.lang.builtins import lookup

        for node in S.postorder(root):  # a refused call is named before its arguments fail
            if isinstance(node, S.Call):
                builtin = lookup(node.func)
                why = _REFUSED_WHY.get(builtin.name) if builtin else None
                if why:
                    raise SymbolicError(f"{builtin.name}: {why}", node.span)
        done: dict[int, E] = {}
        # a + b + c and a*b*c are built once from all their operands, not link by link
        # (a 250-factor product re-sorted its growing factor list 250 times)
        self.links = {id(n.left) for n in S.postorder(root) if _chain_of(n) and
                      _chain_of(n.left) == _chain_of(n)}
        for node in S.postorder(root):
            if isinstance(node, (S.Slice,)) or id(node) in self.links:
                continue
            try:
                done[id(node)] = self.one(node, done)
            except SymbolicError as error:
                if error.span is None:
                    error.span = node.span
                raise
        return done[id(root)]

    def one(self, node: S.Node, done: dict[int, E]) -> E:
        if isinstance(node, S.Number):
            return num(node.value) if node.text in ("true", "false") or not node.text else \
                num(_exact(node.text, node.value))
        if isinstance(node, S.Name):
            return self.name(node)
        if isinstance(node, S.Unary):
            x = done[id(node.operand)]
            return neg(x) if node.op == "-" else x
        if isinstance(node, S.Binary) and id(node.left) in self.links:
            operands, link = [], node
            while link is node or id(link) in self.links:
                b = done[id(link.right)]
                operands.append(neg(b) if link.op == "-" else b)
                link = link.left
            operands.append(done[id(link)])
            return (add if _chain_of(node) == "+" else mul)(*reversed(operands))
        if isinstance(node, S.Binary):
            a, b = done[id(node.left)], done[id(node.right)]
            return _binary(node.op, a, b)
        if isinstance(node, S.Compare):
            return compare(node.op, done[id(node.left)], done[id(node.right)])
        if isinstance(node, S.Transpose):
            return transpose(done[id(node.operand)])
        if isinstance(node, S.Index):
            return index(done[id(node.target)], tuple(_subscript(s) for s in node.subscripts))
        if isinstance(node, S.Array):
            parts = [done[id(e)] for e in node.elements]
            if all(p.op == "num" for p in parts):
                return literal([float(p.data) for p in parts])
            if all(p.op == _LITERAL for p in parts):
                return literal([_literal_values(p) for p in parts])
            raise SymbolicError("an array literal of expressions (stacking) has no "
                                "derivative formula here yet", node.span)
        if isinstance(node, S.Call):
            return self.call(node, done)
        raise SymbolicError(f"{type(node).__name__}: not read by diff", node.span)

    def call(self, node: S.Call, done: dict[int, E]) -> E:
        from gradcli.lang.builtins import lookup

        builtin = lookup(node.func)
        if builtin is None:
            raise SymbolicError(f'unknown function "{node.func}"', node.span)
        func = builtin.name
        from gradcli.lang.builtins import ArgumentError
        from gradcli.lang.evaluate import match_arguments

        try:  # the arguments fit the signature, as eval checks them
            match_arguments(builtin, len(node.args), tuple(k for k, _ in node.keywords))
        except ArgumentError as error:
            raise SymbolicError(f"{func}(): {error}; usage: {builtin.signature}",
                                node.span) from None
        args = [done[id(a)] for a in node.args]
        kw = {k: v for k, v in node.keywords}

        def static(name: str, position: int, default: Any = None) -> Any:
            value = kw.get(name)
            if value is None and len(node.args) > position:
                value = node.args[position]
            if value is None:
                return default
            return _static(value, f"{func}'s {name}")

        if func in _REFUSED_WHY and _REFUSED_WHY[func]:
            raise SymbolicError(f"{func}: {_REFUSED_WHY[func]}", node.span)
        if func in ELEMENTWISE or func in ("sqrt", "square", "reciprocal"):
            return fn(func, args[0])
        _refuse_unread(builtin, node, static)
        if func in REDUCTIONS:
            axis = static("axis", 1)
            keepdims = bool(static("keepdims", 2, False))
            axis = tuple(int(a) for a in axis) if isinstance(axis, list) else (
                None if axis is None else int(axis))
            ddof = static("ddof", 3, 0) if func in ("var", "std") else 0
            if func == "norm" and static("ord", 3) is not None and args[0].ndim > 1 and \
                    axis is None:
                raise SymbolicError("norm: ord=2 of a matrix is its largest singular value, "
                                    "which has no formula here", node.span)
            return call(func, args[0], axis=axis, keepdims=keepdims or None,
                        ddof=_exact(repr(float(ddof)), float(ddof)) or None)
        if func in ("softmax", "log_softmax"):
            axis = static("axis", 1, -1)
            axis = int(axis) % max(args[0].ndim, 1)
            return call(func, args[0], axis=None if axis == args[0].ndim - 1 else axis)
        if func in ("matmul", "dot"):
            return matmul(args[0], args[1])
        if func == "solve":
            return matmul(call("inv", args[0]), args[1])
        if func == "power":
            return power(args[0], args[1])
        if func == "transpose":
            if len(args) > 1:
                raise SymbolicError("transpose with axes has no formula here", node.span)
            return transpose(args[0])
        if func in ("outer", "trace", "det", "inv", "clip", "where", "detach") + _FUNCTIONS_2:
            return call(func, *args)
        if func == "inner":  # the sum over the last axes: a @ b.T
            if args[0].ndim == 0 or args[1].ndim == 0:
                return mul(args[0], args[1])
            return matmul(args[0], transpose(args[1]))
        if func in ("diag", "diagonal"):
            return _diagonal(func, args[0], node)
        if func == "flatten":
            return reshape(args[0], (_product_dims(args[0].shape),))
        if func == "reshape":
            dims = [_static(a, "reshape's size") for a in node.args[1:]]
            if len(dims) == 1 and isinstance(dims[0], list):
                dims = dims[0]
            return reshape(args[0], _reshaped(args[0].shape, [int(d) for d in dims]))
        if builtin.constructor:  # a constant: its value, or its structure where it has one
            sizes = [_static(a, f"{func}'s size") for a in node.args]
            if len(sizes) == 1 and isinstance(sizes[0], list):
                sizes = sizes[0]
            if func in ("ones", "zeros") and not kw:
                return fill(1 if func == "ones" else 0, tuple(int(d) for d in sizes))
            if func == "eye" and len(sizes) == 1 and not kw:
                return eye(int(sizes[0]))
            from gradcli.lang.session import evaluate

            [*_, result] = evaluate(S.to_text(node))
            if getattr(result, "error", None) is not None:
                raise SymbolicError(result.error.message, node.span)
            return literal(result.value)
        raise SymbolicError(f"{func}: no symbolic derivative rule", node.span)


# parameters diff does not read, by function: (the value that means the same as leaving
# it out, or None if any value is refused; why)
_UNREAD = {
    "logsumexp": {"b": (None, "the weights b= have no formula here (write "
                              "log(sum(b*exp(x))))")},
    "norm": {"ord": (2, "only the Euclidean norm (ord=2 of a vector, or none) has a "
                        "formula here")},
    "trace": {"offset": (0, "only the main diagonal (offset 0) has a formula here")},
}


def _refuse_unread(builtin: Any, node: S.Call, static: Any) -> None:
    """A SymbolicError for a parameter of the call that diff does not read, unless its
    value means the same as leaving it out (so no formula ever ignores an argument)."""
    params = [p.name for p in builtin.params]
    for name, (same, why) in _UNREAD.get(builtin.name, {}).items():
        position = params.index(name)
        given = any(k == name for k, _ in node.keywords) or len(node.args) > position
        if given and (same is None or static(name, position) != same):
            raise SymbolicError(f"{builtin.name}: {why}", node.span)


def _diagonal(func: str, x: E, node: S.Call) -> E:
    """diag of a vector (the matrix with it on the diagonal: x*eye(n)), diag or diagonal
    of a square matrix (its diagonal: sum(X*eye(n), axis=0)); other offsets, axes and
    shapes are refused."""
    if len(node.args) > 1 or node.keywords:
        raise SymbolicError(f"{func}: only the main diagonal (no offset or axes) has a "
                            "formula here", node.span)
    if func == "diag" and x.ndim == 1:
        return mul(x, eye(x.shape[0]))
    if x.ndim == 2 and x.shape[0] == x.shape[1]:
        return call("sum", mul(x, eye(x.shape[0])), axis=0)
    raise SymbolicError(f"{func}: the diagonal of a matrix of shape {_shape_text(x.shape)} "
                        "has a formula here only when the matrix is square (declare it "
                        "n,n)", node.span)


def _chain_of(node: S.Node) -> str | None:
    """"+" for a sum or difference, "*" for a product, else None."""
    if isinstance(node, S.Binary):
        return {"+": "+", "-": "+", "*": "*"}.get(node.op)
    return None


def _random(node: S.Node) -> bool:
    return any(isinstance(n, S.Call) and n.func in ("rand", "randn") for n in S.postorder(node))


def _exact(text: str, value: float) -> Any:
    """The literal as written, exactly, when the engine holds it as a finite float.
    One that overflows or underflows is what the engine computes with (inf, 0.0): an
    exact 10^400 would differentiate to a formula whose numbers no float can hold."""
    if not math.isfinite(value):
        return value
    try:
        if text[:2].lower() in ("0x", "0o", "0b"):
            exact = Fraction(int(text.replace("_", ""), 0))
        else:
            exact = Fraction(text.replace("_", ""))
    except (ValueError, ZeroDivisionError):
        return value
    return value if exact and not value else exact


def _literal_values(e: E) -> Any:
    import numpy as np

    flat, shape = e.data
    return np.array([float(v) for v in flat]).reshape(shape).tolist()


def _static(node: S.Node, what: str) -> Any:
    if isinstance(node, S.Number):
        return node.value
    if isinstance(node, S.Unary) and isinstance(node.operand, S.Number):
        return -node.operand.value if node.op == "-" else node.operand.value
    if isinstance(node, S.Array):
        return [_static(e, what) for e in node.elements]
    raise SymbolicError(f"{what} must be a number written in the program", node.span)


def _subscript(node: S.Node) -> Any:
    if isinstance(node, S.Slice):
        if node.lo is None and node.hi is None and node.step is None:
            return ALL
        ends = [None if part is None else _static(part, "a slice's end")
                for part in (node.lo, node.hi, node.step)]
        if any(v is not None and (isinstance(v, list) or v != int(v)) for v in ends):
            raise SymbolicError("a slice's ends must be whole numbers", node.span)
        lo, hi, step = (None if v is None else int(v) for v in ends)
        if step not in (None, 1):
            raise SymbolicError("a slice with a step has no derivative formula here yet "
                                "(its adjoint spreads the gradient with gaps)", node.span)
        return (SLICE, lo, hi)
    try:
        value = _static(node, "an index")
    except SymbolicError:
        raise SymbolicError("indexing by a mask or a computed index (like x[x > 0]) has no "
                            "derivative formula in the language; where(x > 0, x, 0) "
                            "writes the same with one", node.span) from None
    if isinstance(value, list) or value != int(value):
        raise SymbolicError("indexing with a list or a mask has no derivative formula here",
                            node.span)
    return int(value)


def _product_dims(shape: Shape) -> Dim:
    if all(isinstance(d, int) for d in shape):
        return math.prod(shape)  # type: ignore[arg-type]
    if len(shape) == 1:
        return shape[0]
    raise SymbolicError("flatten of a symbolic-size matrix has no formula here")


def _reshaped(shape: Shape, dims: list[int]) -> Shape:
    if not all(isinstance(d, int) for d in shape):
        raise SymbolicError("reshape of a symbolic-size array has no formula here")
    total = math.prod(shape)  # type: ignore[arg-type]
    if dims.count(-1) == 1:
        known = math.prod(d for d in dims if d != -1)
        dims = [total // known if d == -1 else d for d in dims]
    if math.prod(dims) != total:
        raise SymbolicError(f"reshape: cannot make {total} elements into shape {dims}")
    return tuple(dims)


def _binary(op: str, a: E, b: E) -> E:
    if op == "+":
        return add(a, b)
    if op == "-":
        return sub(a, b)
    if op == "*":
        return mul(a, b)
    if op == "/":
        return div(a, b)
    if op == "^":
        return power(a, b)
    if op == "@":
        return matmul(a, b)
    if op in ("%", "//"):
        return call(S.OPERATORS[op].name, a, b)
    raise SymbolicError(f"the {S.OPERATORS[op].name} operator ({op}) has no derivative "
                        "formula here yet")


# -- the derivative of a program ----------------------------------------------------------


class Formula:
    """One derivative: its term and its printed forms; calling it evaluates the formula
    with ``gradcli.evaluate`` (values by name, size names included)."""

    def __init__(self, wrt: str, shape: Shape, term: E, names: dict[E, str] | None = None,
                 order: int = 1) -> None:
        self.wrt, self.shape, self.term, self.order = wrt, tuple(shape), term, order
        # the program's own names for intermediates the formula holds (X.T @ (p - y)),
        # each defined on a "where" line, in the order the program made them
        inside = {id(n) for n in _topological(term)}
        used = {t: n for t, n in (names or {}).items() if id(t) in inside and weight(t) > 1}
        used.update(_shared_names(term, used, taken=set((names or {}).values())))
        self.where: list[tuple[str, str]] = []
        # one printer for every definition, its names growing: each definition reuses
        # the trees printed before it (a fresh printer per definition walked every
        # definition's whole subterm again: quadratic in a deep chain rule's names)
        defining = _ToSyntax({})
        for t, n in used.items():
            self.where.append((n, S.to_text(defining(t))))
            defining.names[t] = n
            defining.memo[id(t)] = S.Name(n)
        self.tree = _ToSyntax(used)(term) if used else to_syntax(term)

    @property
    def program(self) -> str:
        """The formula as a program that runs alone: the where lines, then the formula."""
        return "\n".join([f"{n} = {t}" for n, t in self.where] + [self.text])

    @property
    def text(self) -> str:
        return S.to_text(self.tree)

    @property
    def unicode(self) -> str:
        return S.to_unicode(self.tree)

    @property
    def latex(self) -> str:
        return S.to_latex(self.tree)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Formula(d/d{self.wrt} = {self.text})"

    def __call__(self, values: dict[str, Any] | None = None, **more: Any) -> Any:
        import numpy as np

        from gradcli.lang.session import evaluate

        point = {**(values or {}), **more}
        outcomes = evaluate(self.program, point)
        result = outcomes[-1]
        error = getattr(result, "error", None)
        if error is not None:
            raise SymbolicError(f"the formula {self.text} does not evaluate at this point: "
                                f"{error.message}")
        value = np.asarray(result.value, dtype=float)
        wanted = self._concrete(point)
        if wanted is not None:
            value = np.broadcast_to(value, wanted).copy()
        return value

    def _concrete(self, point: dict[str, Any]) -> tuple[int, ...] | None:
        out = []
        for d in self.shape:
            if isinstance(d, int):
                out.append(d)
            elif d in point:
                out.append(int(point[d]))
            else:
                return None
        return tuple(out)


def diff(program: str, wrt: str | list[str] | tuple[str, ...] | None = None,
         shapes: dict[str, Any] | None = None, values: dict[str, Any] | None = None,
         order: int = 1) -> Any:
    """``gradcli.diff``: the derivative of ``program``'s last result as a :class:`Formula`
    (``wrt`` one name), or a dict of them by name (several names, or every symbol).

    ``shapes`` declares symbols' shapes (``{"X": "n,m"}`` or ``{"X": ("n", "m")}``);
    ``values`` fixes shapes from arrays. A formula has ``.text``, ``.unicode``,
    ``.latex``, ``.where`` (intermediate names it uses) and is called with values:
    ``gradcli.diff("x^2*sin(x)", "x")({"x": 0.7})``."""
    names = [wrt] if isinstance(wrt, str) else list(wrt or ())
    found = differentiate(program, wrt=names, shapes=shapes, values=values, order=order)
    if isinstance(wrt, str):
        return found[0]
    return {f.wrt: f for f in found}


MAX_INLINE_WEIGHT = 400  # a formula larger than this as a tree names its shared parts


def _shared_names(term: E, named: dict[E, str], taken: set[str]) -> dict[E, str]:
    """Names (t1, t2, ...) for the shared subterms of a formula that would print far
    larger than its DAG, so that printing stays as small as the DAG (never exponential)."""
    memo: dict[int, int] = {}
    if weight(term, memo) <= MAX_INLINE_WEIGHT:
        return {}
    order = _topological(term)
    parents: dict[int, int] = {}
    for node in order:
        for a in node.args:
            parents[id(a)] = parents.get(id(a), 0) + 1
    taken = taken | {n.data for n in order if n.op in ("sym", "size")}
    out: dict[E, str] = {}
    k = 0
    for node in order:  # children first, so each definition uses the earlier names
        if node in named or parents.get(id(node), 0) < 2 or weight(node, memo) < 8:
            continue
        k += 1
        while f"t{k}" in taken:
            k += 1
        out[node] = f"t{k}"
    return out


def program_statements(text: str) -> list[S.Node]:
    parsed = S.parse(text)
    assert isinstance(parsed, list)
    return parsed


def differentiate(program: str | list[S.Node], wrt: Any = (), shapes: dict | None = None,
                  values: dict[str, Any] | None = None, order: int = 1) -> list[Formula]:
    """The derivatives of ``program``'s last result, one :class:`Formula` per name."""
    with _Scope():
        return _differentiate(program, wrt, shapes, values, order)


def _differentiate(program: str | list[S.Node], wrt: Any, shapes: dict | None,
                   values: dict[str, Any] | None, order: int) -> list[Formula]:
    statements = program_statements(program) if isinstance(program, str) else program
    reader = Reader({k: _parse_shape(v) for k, v in (shapes or {}).items()}, values)
    y = reader.run(statements)
    if y is None:
        raise SymbolicError("the program reports no result")
    names = [wrt] if isinstance(wrt, str) else list(dict.fromkeys(wrt))
    if not names:
        names = list(reader.symbols)
        if not names:
            raise SymbolicError("the result depends on no named input: there is nothing "
                                "to differentiate with respect to")
    out = []
    for name in names:
        x = reader.symbols.get(name)
        if x is None:
            raise KeyError(name)
        if y.ndim == 0:
            g = tidy(gradient(y, x))
            if order == 2:
                g = tidy(hessian_of(g, x))
            out.append(Formula(name, x.shape if order == 1 else x.shape * 2, g,
                               reader.named, order))
        else:
            try:
                if order != 1:
                    raise SymbolicError(f"--order 2 needs a scalar result; this one has "
                                        f"shape {_shape_text(y.shape)}")
                out.append(Formula(name, y.shape + x.shape, tidy(jacobian(y, x)),
                                   reader.named))
            except SymbolicError as error:
                raise SymbolicError(f"{error.message}. {_one_element(statements, y)}",
                                    error.span) from None
    differentiate.reader = reader  # type: ignore[attr-defined]
    return out


def _one_element(statements: list[S.Node], y: E) -> str:
    """Advice that works when followed: differentiate one element of the result, or its
    sum (both scalars, so both have gradients)."""
    last = statements[-1]
    text = last.name if isinstance(last, (S.Assign, S.Augmented)) else S.to_text(last)
    simple = isinstance(last, (S.Assign, S.Augmented, S.Name, S.Call, S.Index, S.Array))
    element = (text if simple else f"({text})") + "[" + ", ".join(["0"] * y.ndim) + "]"
    return (f"Pick one element or reduce the result to a number: differentiate {element} "
            f"or sum({text})")


def hessian_of(g: E, x: E) -> E:
    """The second derivative: d(dy/dx)/dx, from the gradient term ``g``."""
    if not depends(g, x):
        return ZERO
    if x.ndim == 0:
        return gradient(g, x)
    return jacobian(_expand_to(g, x.shape) if g.ndim < x.ndim else g, x)


def jacobian(f: E, x: E) -> E:
    """df/dx for a vector f of a vector (or scalar) x, by the rules of linear maps."""
    if f.ndim == 0:
        return gradient(f, x)
    if f.ndim != 1 or x.ndim > 1:
        raise SymbolicError(f"a Jacobian of a result of shape {_shape_text(f.shape)} with "
                            f"respect to shape {_shape_text(x.shape)} has no formula here "
                            "(vectors of vectors do)")
    if x.ndim == 1 and f.shape == x.shape and _elementwise_of(f, x, {}):
        # each f[i] depends on x[i] alone: the Jacobian is diagonal, and its diagonal is
        # the gradient of sum(f) (so every elementwise rule serves the Jacobian too)
        return mul(gradient(call("sum", f), x), eye(x.shape[0]))
    return _jac(f, x)


_ELEMENTWISE_CALLS = ("maximum", "minimum", "arctan2", "hypot", "logaddexp", "logaddexp2", "mod",
                      "floor_divide", "clip", "where")


def _elementwise_of(f: E, x: E, memo: dict[int, bool]) -> bool:
    """Whether f is built from x by elementwise operations only, every part that depends
    on x of x's shape (the rest broadcast to it)."""
    if f is x:
        return True
    if id(f) in memo:
        return memo[id(f)]
    if not depends(f, x):
        ok = True
    elif f.shape != x.shape or not (f.op in ("add", "mul", "pow", "fn", "cmp") or (
            f.op == "call" and f.data[0] in _ELEMENTWISE_CALLS)):
        ok = False
    else:
        ok = all(_elementwise_of(a, x, memo) for a in f.args)
    memo[id(f)] = ok
    return ok


def _jac(f: E, x: E) -> E:
    n = f.shape[0]
    if not depends(f, x):
        return ZERO
    if f is x:
        return eye(n) if x.ndim == 1 else fill(1, (n,))
    if f.op == "add":
        return add(*[_jac_broadcast(t, x, f.shape) for t in f.args])
    if f.op == "matmul" and f.args[0].ndim == 2 and not depends(f.args[0], x):
        return _matmul_jac(f.args[0], _jac(f.args[1], x))
    if f.op == "mul":
        vectors = [a for a in f.args if a.ndim == 1 and depends(a, x)]
        scalars_dep = [a for a in f.args if a.ndim == 0 and depends(a, x)]
        if len(vectors) == 1 and not scalars_dep:
            rest = mul(*[a for a in f.args if a is not vectors[0]])
            inner = _jac(vectors[0], x)
            if inner.op == "eye":
                return _diag(rest, n) if rest.ndim == 1 else mul(rest, inner)
            if rest.ndim == 0:
                return mul(rest, inner)
    if x.ndim == 1 and f.op == "mul" and all(a.ndim == 0 or a.shape == f.shape for a in f.args):
        # the product rule: diag(the other factors) times each factor's Jacobian, and for
        # a scalar factor s, outer(the others, the gradient of s) (x/norm(x) ->
        # eye(n)/norm(x) - outer(x, x)/norm(x)^3)
        return add(*[_outer(others, _expand_to(gradient(a, x), x.shape)) if a.ndim == 0 else
                     _diag_times(others, _jac(a, x), n)
                     for i, a in enumerate(f.args) if depends(a, x)
                     for others in (mul(*(f.args[:i] + f.args[i + 1:])),)])
    if x.ndim == 1 and f.op == "call" and f.data == ("softmax", ()) and \
            f.args[0].shape == f.shape:
        # d softmax(u) = (diag(s) - outer(s, s)) du, s = softmax(u)
        return _matmul_jac(sub(_diag(f, n), call("outer", f, f)), _jac(f.args[0], x))
    if x.ndim == 1 and f.op in ("fn", "pow") and f.args[0].shape == f.shape and (
            f.op == "fn" or not depends(f.args[1], x)):
        # the chain rule: diag(f'(u)) @ du/dx (tanh(A @ x) -> diag(1 - tanh(A @ x)^2) @ A)
        u = f.args[0]
        d = ELEMENTWISE[f.data](u) if f.op == "fn" else \
            mul(f.args[1], power(u, sub(f.args[1], ONE)))
        return _diag_times(d, _jac(u, x), n)
    raise SymbolicError("this Jacobian has no matrix formula here (linear maps, sums, "
                        "scaling and elementwise functions of the vector itself do)")


def _outer(a: E, b: E) -> E:
    """outer(a, b) with the scalar factors of both in front: -outer(x, x)/norm(x)^3."""
    scalars, vectors = [], []
    for v in (a, b):
        parts = v.args if v.op == "mul" else (v,)
        kept = [p for p in parts if p.ndim != 0]
        scalars += [p for p in parts if p.ndim == 0]
        vectors.append(mul(*kept) if kept else v)
    return mul(*scalars, call("outer", *vectors))


def _jac_broadcast(t: E, x: E, shape: Shape) -> E:
    if t.ndim == 0:
        if depends(t, x) and x.ndim == 1:  # the scalar broadcast: every row its gradient
            return _outer(fill(1, shape), _expand_to(gradient(t, x), x.shape))
        if depends(t, x):
            raise SymbolicError("a Jacobian through a scalar has no matrix formula here")
        return ZERO
    return _jac(t, x)


def _matmul_jac(m: E, inner: E) -> E:
    if inner.op == "eye":
        return m
    if inner.ndim == 2:
        return matmul(m, inner)
    return mul(m, inner)


def _diag_times(d: E, j: E, n: Dim) -> E:
    """diag(d) @ j for a Jacobian j (n×m): a product of diagonals stays one diagonal."""
    if is_zero(j) or d.ndim == 0:
        return mul(d, j)
    diagonal = j.op == "eye" or j.op == "mul" and any(a.op == "eye" for a in j.args)
    return mul(d, j) if diagonal else matmul(mul(d, eye(n)), j)


def _diag(d: E, n: Dim) -> E:
    if d.ndim == 0:
        return mul(d, eye(n))
    return mul(d, eye(n))  # d broadcast along rows: diag(d) applied to columns


def _parse_shape(value: Any) -> Shape:
    if isinstance(value, str):
        parts = [p.strip() for p in value.strip().strip("[]()").split(",") if p.strip()]
        return tuple(int(p) if p.isdigit() else p for p in parts)
    return tuple(value)


# -- the last pass: rewrites kept only where they make the formula shorter ---------------

MAX_EXPANDED_TERMS = 64
MAX_EXPAND_CHOICES = 16  # expand() tries products of sums with up to this many terms
MAX_REWRITE_WEIGHT = 120  # larger terms are not multiplied out (their parts already were)


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


_REWRITTEN: dict[tuple, Any] = {}  # (rewrite, term, its other arguments) -> result


def _memoised(rewrite: Any) -> Any:
    """``rewrite`` remembered for the length of one :func:`tidy` pass: the rewrites
    recurse into products that differ by one factor, and without the memo reached the
    same subproducts in every order (a product of 7 sums took 48 s; now milliseconds)."""
    import functools

    @functools.wraps(rewrite)
    def run(e: E, *more: Any) -> Any:
        k = (rewrite.__name__, e, more)
        if k not in _REWRITTEN:
            _REWRITTEN[k] = rewrite(e, *more)
        return _REWRITTEN[k]

    return run


@_memoised
def multiply_out(e: E) -> E | None:
    """A product with sums among its factors, multiplied out (None if too many terms)."""
    if e.op != "mul":
        return None
    sums = [f for f in e.args if f.op == "add" and f.ndim == e.ndim or (
        f.op == "pow" and f.args[0].op == "add" and f.args[1].op == "num"
        and isinstance(f.args[1].data, Fraction) and f.args[1].data.denominator == 1
        and 1 < f.args[1].data <= 3)]
    if not sums:
        return None
    opened: list[tuple[E, ...]] = []
    total = 1
    for f in sums:
        if f.op == "add":
            opened.append(f.args)
        else:
            opened.extend([f.args[0].args] * int(f.args[1].data))
    for terms in opened:
        total *= len(terms)
    if total > MAX_EXPANDED_TERMS:
        return None
    rest = [f for f in e.args if not any(f is g for g in sums)]
    products: list[list[E]] = [list(rest)]
    for terms in opened:
        products = [p + [t] for p in products for t in terms]
    out = []
    for p in products:
        term = mul(*p)
        again = multiply_out(term)
        out.append(again if again is not None else term)
    return add(*out)


@_memoised
def expand(e: E, depth: int = 0) -> E | None:
    """A product distributed over one of its sums, each new term shrunk the same way, for
    the choice of sum that comes out smallest (None where no choice is smaller): so
    s*(1 - s)*((1 - y)/(1 - s) - y/s) becomes s - y, and 2*h*(1 - h^2) stays."""
    if e.op != "mul" or depth > 4:
        return None
    if math.prod(len(f.args) for f in e.args if f.op == "add") > MAX_EXPAND_CHOICES:
        return None  # the choices grow as 3^(number of sums)
    memo: dict[int, int] = {}
    best, best_weight = None, weight(e, memo)
    for i, f in enumerate(e.args):
        if f.op != "add" or f.ndim != e.ndim or len(f.args) > 8:
            continue
        others = e.args[:i] + e.args[i + 1:]
        terms = []
        for t in f.args:
            term = mul(*others, t)
            smaller = expand(term, depth + 1)
            terms.append(smaller if smaller is not None else term)
        candidate = add(*terms)
        # and with each new term multiplied right out, so p*(1 - y) - y*(1 - p) is p - y
        parts = candidate.args if candidate.op == "add" else (candidate,)
        opened = add(*[multiply_out(t) or t for t in parts])
        for c in (candidate, opened):
            w = weight(c, memo)
            if w < best_weight:
                best, best_weight = c, w
    return best


def together(e: E) -> E | None:
    """A sum over the common denominator of its terms, numerator multiplied out."""
    if e.op != "add" or e.ndim != 0 and any(t.ndim != e.ndim for t in e.args):
        return None
    denominators: dict[E, Any] = {}
    for t in e.args:
        for f in (t.args if t.op == "mul" else (t,)):
            if f.op == "pow" and f.args[1].op == "num" and isinstance(f.args[1].data, Fraction) \
                    and f.args[1].data < 0 and f.args[1].data.denominator == 1:
                denominators[f.args[0]] = max(denominators.get(f.args[0], 0), -f.args[1].data)
    if not denominators:
        return None
    common = mul(*[power(b, num(k)) for b, k in denominators.items()])
    numerators = []
    for t in e.args:
        scaled = mul(t, common)
        opened = multiply_out(scaled)
        numerators.append(opened if opened is not None else scaled)
    top = add(*numerators)
    opened = multiply_out(top) if top.op == "mul" else None
    top = opened if opened is not None and weight(opened) < weight(top) else top
    return div(top, common)


def open_terms(e: E) -> E | None:
    """A sum with each product in it multiplied right out: like terms then merge, so
    2*x - 400*x*(2 - x^2) - 2 is 400*x^3 - 798*x - 2."""
    if e.op != "add":
        return None
    return add(*[multiply_out(t) or t for t in e.args])


def factor(e: E) -> E | None:
    """The factors every term of a sum shares, pulled out: exp(x) + x*exp(x) is
    exp(x)*(x + 1)."""
    if e.op != "add":
        return None
    common: dict[E, Any] | None = None
    for t in e.args:
        _, rest = _split_coeff(t)
        here: dict[E, Any] = {}
        for f in (rest.args if rest.op == "mul" else (rest,)):
            if f is ONE:
                continue
            base, ex = (f.args[0], f.args[1]) if f.op == "pow" else (f, ONE)
            if ex.op == "num" and isinstance(ex.data, Fraction) and ex.data > 0:
                here[base] = ex.data
        common = here if common is None else {
            b: min(k, here[b]) for b, k in common.items() if b in here}
        if not common:
            return None
    assert common is not None
    shared = mul(*[power(b, num(k)) for b, k in common.items()])
    if shared.ndim > e.ndim:
        return None
    return mul(shared, _collected(add(*[div(t, shared) for t in e.args])))


def _collected(e: E) -> E:
    """A sum with a factor that some of its terms (not all: that is factor()) share pulled
    out of those, where that prints shorter: log(x) + x*log(x) + 1 is
    (x + 1)*log(x) + 1, so d/dx x*exp(x)*log(x) is exp(x)*((x + 1)*log(x) + 1)."""
    if e.op != "add" or not 3 <= len(e.args) <= 8:
        return e
    holders: dict[E, list[E]] = {}
    for t in e.args:
        _, rest = _split_coeff(t)
        for f in (rest.args if rest.op == "mul" else (rest,)):
            if f.op not in ("num", "pow", "fill") and f.ndim == e.ndim:
                holders.setdefault(f, []).append(t)
    best, best_size = e, (weight(e), len(to_text(e)))
    for shared, group in holders.items():
        if 2 <= len(group) < len(e.args):
            others = [t for t in e.args if not any(t is g for g in group)]
            candidate = add(mul(shared, add(*[div(t, shared) for t in group])), *others)
            size = (weight(candidate), len(to_text(candidate)))
            if size < best_size:
                best, best_size = candidate, size
    return best


def tidy(root: E) -> E:
    """Bottom-up, each node replaced by a rewrite of it (multiplied out, or over a common
    denominator) when that is smaller; the rebuilt parents re-simplify themselves."""
    _REWRITTEN.clear()
    try:
        return _tidy(root)
    finally:
        _REWRITTEN.clear()


def _tidy(root: E) -> E:
    done: dict[int, E] = {}
    memo: dict[int, int] = {}
    for node in _topological(root):
        args = tuple(done[id(a)] for a in node.args)
        new = node if all(a is b for a, b in zip(args, node.args)) else rebuild(node, args)
        if weight(new, memo) <= MAX_REWRITE_WEIGHT:  # bounded work per node: no blow-up
            for rewrite, gain in ((expand, 1), (open_terms, 1), (together, 1), (factor, 2)):
                # a factor pulled out must save more than one token: 2*x*sin(x) +
                # x^2*cos(x) stays as textbooks write it
                candidate = rewrite(new)
                if candidate is not None and weight(candidate, memo) <= weight(new, memo) - gain:
                    new = candidate
        done[id(node)] = new
    return done[id(root)]


def rebuild(node: E, args: tuple[E, ...]) -> E:
    """``node`` with new arguments, through its smart constructor."""
    op = node.op
    if op == "add":
        return add(*args)
    if op == "mul":
        return mul(*args)
    if op == "pow":
        return power(*args)
    if op == "fn":
        return fn(node.data, args[0])
    if op == "cmp":
        return compare(node.data, *args)
    if op == "T":
        return transpose(args[0])
    if op == "matmul":
        return matmul(*args)
    if op == "reshape":
        return reshape(args[0], node.data)
    if op == "index":
        return index(args[0], node.data)
    if op == "call":
        return call(node.data[0], *args, **dict(node.data[1]))
    return make(op, args, node.data, node.shape)
