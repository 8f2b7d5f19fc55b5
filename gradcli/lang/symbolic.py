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

import math
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
          "matmul": 7, "cmp": 8, "index": 9, "mul": 10, "add": 11, "fill": 12, "eye": 12,
          "cof": 13, "arange": 14, "others": 15}


class E:
    __slots__ = ("op", "args", "data", "shape", "key", "__weakref__")

    def __init__(self, op: str, args: tuple[E, ...], data: Any, shape: Shape) -> None:
        self.op, self.args, self.data, self.shape = op, args, data, shape
        self.key = (_ORDER[op], _data_key(data), tuple(a.key for a in args))

    def __repr__(self) -> str:
        return f"E({to_text(self)!r}, shape={self.shape})"

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def is_num(self) -> bool:
        return self.op == "num"


def _data_key(data: Any) -> Any:
    if isinstance(data, (Fraction, float, int)):
        return (0, float(data), "")
    return (1, 0.0, repr(data))


_INTERNED: dict[tuple, E] = {}


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
    return make("num", (), value, ())


ZERO, ONE, HALF = num(0), num(1), num(Fraction(1, 2))


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
    parts = [scale(c, rest) for rest, c in coeffs.items() if c != 0]
    if not parts:
        return ZERO
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
    """c*sin(u)^2*R + c*cos(u)^2*R -> c*R."""
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
            others = [scale(coeffs.pop(m), m.args[1 - side]) for m in members]
            combined = add(*others)
            new = matmul(combined, shared) if side == 1 else matmul(shared, combined)
            c, r = _split_coeff(new)
            coeffs[r] = _plus(coeffs.get(r, Fraction(0)), c)
    return coeffs


def neg(e: E) -> E:
    return mul(num(-1), e)


def sub(a: E, b: E) -> E:
    return add(a, neg(b))


def mul(*factors: E) -> E:
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
        return ZERO
    merged: list[E] = []
    for base, es in exps.items():
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
    merged = _cofactor_rule(merged)
    # a fill keeps the shape only when nothing else gives it
    rest_shape = broadcast(*[m.shape for m in merged]) if merged else ()
    if fills and rest_shape != shape:
        merged.append(fill(1, shape))
    if not merged:
        return num(coeff)
    merged.sort(key=lambda m: m.key if m.op != "pow" else (m.args[0].key, 1))
    if coeff != 1:
        merged.insert(0, num(coeff))
    if len(merged) == 1:
        return merged[0]
    return make("mul", tuple(merged), None, shape)


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
    return make("pow", (b, e), None, broadcast(b.shape, e.shape, what="power"))


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
    if name == "ln":
        name = "log"
    if x.op == "num" and name in _NUMERIC_FN:
        v = _NUMERIC_FN[name](x.data)
        if v is not None:
            return num(v)
    if name == "log" and x.op == "fn" and x.data == "exp":
        return x.args[0]
    if name == "log" and x.op == "const" and x.data == "e":
        return ONE
    if name == "exp" and x.op == "fn" and x.data == "log":
        return x.args[0]
    if name == "exp" and x.op == "mul" and any(f.op == "fn" and f.data == "log" for f in x.args):
        # exp(c*log(b)) = b^c
        logs = [f for f in x.args if f.op == "fn" and f.data == "log"]
        if len(logs) == 1:
            rest = [f for f in x.args if f is not logs[0]]
            return power(logs[0].args[0], mul(*rest))
    return make("fn", (x,), name, x.shape)


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
    if a is ZERO or b is ZERO:
        return ZERO
    shape = _matmul_shape(a.shape, b.shape)
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
    return make("matmul", (a, b), None, shape)


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
        if a is ZERO or b is ZERO:
            return ZERO
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
    shape = _call_shape(func, args, dict(kw))
    return make("call", tuple(args), (func, kw), shape)


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
    if func in ("maximum", "minimum", "arctan2", "hypot", "clip", "where"):
        return broadcast(*[a.shape for a in args], what=func)
    raise SymbolicError(f"{func}: no symbolic shape rule")


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
}
_ALIASES = {"ln": "log", "asin": "arcsin", "acos": "arccos", "atan": "arctan",
            "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh", "atan2": "arctan2"}


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
            others = mul(*(args[:i] + args[i + 1:])) if len(args) > 1 else ONE
            out.append(unbroadcast(mul(g, others), node.shape, a.shape))
        return out
    if op == "pow":
        b, e = args
        gb = ge = None
        if needed[0]:
            gb = unbroadcast(mul(g, e, power(b, sub(e, ONE))), node.shape, b.shape)
        if needed[1]:
            ge = unbroadcast(mul(g, node, fn("log", b)), node.shape, e.shape)
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

    if x.ndim == 1 and len(subs) == 1 and isinstance(subs[0], int):
        return mul(g, hot(0, subs[0]))
    if x.ndim == 2 and len(subs) == 2 and all(isinstance(s, int) for s in subs):
        return mul(g, call("outer", hot(0, subs[0]), hot(1, subs[1])))
    if x.ndim == 2 and len(subs) == 1 and isinstance(subs[0], int):
        return call("outer", hot(0, subs[0]), g)
    if x.ndim == 2 and len(subs) == 2 and subs[0] == slice(None) and isinstance(subs[1], int):
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
    if kw.get("axis") is None:
        return call(func, x)
    return call(func, x, axis=kw.get("axis"), keepdims=True)


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
        if func == "var":
            return [mul(gk, num(2), sub(x, _same_reduction("mean", node, x)), power(n, num(-1)))]
        if func == "std":
            return [mul(gk, sub(x, _same_reduction("mean", node, x)),
                        power(mul(n, _same_reduction("std", node, x)), num(-1)))]
        if func == "logsumexp":
            return [mul(gk, fn("exp", sub(x, _same_reduction("logsumexp", node, x))))]
        if func == "norm":
            return [mul(gk, x, power(_same_reduction("norm", node, x), num(-1)))]
        if func == "prod":
            return [mul(gk, _others(node, x))]
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


def _others(node: E, x: E) -> E:
    """For prod(x): each element's product of the others, zeros allowed."""
    if dict(node.data[1]).get("axis") is not None or x.ndim != 1 or not isinstance(
            x.shape[0], int) or x.shape[0] > 16:
        raise SymbolicError("prod: the derivative (each element's product of the others, "
                            "true at zeros too) has a formula here only for a vector of a "
                            "known size up to 16, without axis")
    n = x.shape[0]
    parts = [mul(*[index(x, (j,)) for j in range(n) if j != i]) for i in range(n)]
    return make("others", tuple(parts), None, (n,))


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
        if s == slice(None):
            shape.append(d)
        else:
            raise SymbolicError("indexing with slices other than ':' has no formula here")
    shape.extend(x.shape[len(subs):])
    return make("index", (x,), subs, tuple(shape))


# -- reverse mode -------------------------------------------------------------------------


def _topological(root: E) -> list[E]:
    order: list[E] = []
    seen: set[int] = set()
    stack: list[tuple[E, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
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
        if g is ZERO:
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
        self.names = names or {}
        self.memo: dict[int, S.Node] = {}

    def __call__(self, root: E) -> S.Node:
        for node in _topological(root):
            if id(node) not in self.memo:
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
            return S.Binary("@", self.of(e.args[0]), self.of(e.args[1]))
        if op == "call":
            func, kw = e.data
            keywords = tuple((k, self.static(v)) for k, v in kw)
            return S.Call(func, tuple(self.of(a) for a in e.args), keywords)
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
            subs = tuple(S.Slice() if isinstance(s, slice) else _number_node(Fraction(s))
                         for s in e.data)
            return S.Index(self.of(e.args[0]), subs)
        if op == "others":
            return S.Array(tuple(self.of(a) for a in e.args))
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
                        minor = sub(mul(at(r[0], c[0]), at(r[1], c[1])),
                                    mul(at(r[0], c[1]), at(r[1], c[0])))
                        row.append(minor if (i + j) % 2 == 0 else neg(minor))
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
            if isinstance(coeff, Fraction) and coeff.denominator != 1 and bottom and \
                    _number_node(coeff).__class__ is S.Binary:
                # 2/(3*x), not 2/3/x
                if coeff.numerator != 1:
                    top.insert(0, _number_node(Fraction(coeff.numerator)))
                bottom.insert(0, _number_node(Fraction(coeff.denominator)))
            elif coeff != 1:
                top.insert(0, _number_node(coeff))
        node = _chain("*", top) if top else S.Number(1.0, "1")
        if bottom:
            node = S.Binary("/", node, _chain("*", bottom))
        return S.Unary("-", node) if sign else node

    def pow(self, e: E) -> S.Node:
        b, x = e.args
        if x.op == "num" and x.data == HALF.data:
            return S.Call("sqrt", (self.of(b),))
        if x.op == "num" and _negative(x.data):
            return S.Binary("/", S.Number(1.0, "1"), self.of(power(b, num(-x.data))))
        return S.Binary("^", self.of(b), self.of(x))


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


def to_text(e: E, transpose: str = "call") -> str:
    return S.to_text(to_syntax(e), transpose)


def size(e: E) -> int:
    """The number of nodes a reader sees: the printed tree's size."""
    return sum(1 for _ in S.postorder(to_syntax(e)))
