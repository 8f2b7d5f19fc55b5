"""The smart constructors: every term is built simplified.

Every term is built by a *smart constructor* (:func:`add`, :func:`mul`, :func:`power`,
:func:`matmul`, :func:`transpose`, :func:`call`, :func:`index`, ...). These are the
simplifier: each applies its rewrite rules when the node is made (flatten, fold exact
numbers, merge like terms and like factors, cancel, push transposes to the leaves, drop
identities, factor shared matrix operands), and keeps its arguments in one canonical
order, so rewriting reaches its fixpoint as the tree is built (SymPy's automatic
canonicalisation). The shapes of calls are worked out here too.

:data:`ELEMENTWISE`, the derivative of each elementwise function of one argument, sits
beside :func:`fn`, which reads it (deg2rad's factor is its derivative).
"""

from __future__ import annotations

import bisect
from fractions import Fraction
from typing import Any

from gradcli.lang.symbolic.terms import (
    _LITERAL,
    _ORDER,
    HALF,
    MINUS_ONE,
    ONE,
    ZERO,
    Dim,
    E,
    Shape,
    SymbolicError,
    _shape_text,
    broadcast,
    clamped,
    const,
    make,
    num,
    size_term,
)


def count(shape: Shape) -> E:
    return mul(*[size_term(d) for d in shape]) if shape else ONE


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
        return clamped(a * b)  # (a running product or sum stays within a float's range)
    return float(a) * float(b)


def _plus(a: Any, b: Any) -> Any:
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return clamped(a + b)
    return float(a) + float(b)


def _flattened(op: str, items: tuple[E, ...]) -> list[E]:
    """The operands of a chain of ``op`` (add or mul) nested in any way, in order."""
    flat: list[E] = []
    stack = list(reversed(items))
    while stack:
        t = stack.pop()
        if t.op == op:
            stack.extend(reversed(t.args))
        else:
            flat.append(t)
    return flat


def add(*terms: E) -> E:
    flat = _flattened("add", terms)
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
    flat = _flattened("mul", factors)
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


def _negative(v: Any) -> bool:
    try:
        return float(v) < 0
    except TypeError:
        return False


def _is_negative_term(t: E) -> bool:
    c, _ = _split_coeff(t)
    return _negative(c)
_FUNCTIONS_2 = ("maximum", "minimum", "arctan2", "hypot", "logaddexp", "logaddexp2", "mod",
                "floor_divide")


def literal(values: Any) -> E:
    import numpy as np

    array = np.asarray(values, dtype=float)
    if array.ndim == 0:
        return num(float(array))
    flat = tuple(num(float(v)).data for v in array.reshape(-1))
    return make(_LITERAL, (), (flat, array.shape), tuple(int(d) for d in array.shape))
