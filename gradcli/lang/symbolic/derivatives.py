"""The derivative rules and reverse mode over terms; Jacobians and Hessians.

The derivative is reverse mode over the DAG (:func:`gradient`): each node's adjoint is
built by one rule per operation (:func:`_vjp` and
:data:`gradcli.lang.symbolic.constructors.ELEMENTWISE`), itself out of smart
constructors, so it comes out simplified. A non-scalar result's derivative is a
Jacobian (:func:`jacobian`); ``--order 2`` is the Hessian (:func:`hessian_of`).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from gradcli.lang.symbolic.constructors import (
    _NEGATED,
    ALL,
    ELEMENTWISE,
    REDUCTIONS,
    SLICE,
    _axes,
    _pad_widths,
    _slice_range,
    add,
    arange,
    call,
    compare,
    count,
    div,
    eye,
    fill,
    fn,
    index,
    is_zero,
    matmul,
    mul,
    neg,
    power,
    reshape,
    sub,
    transpose,
)
from gradcli.lang.symbolic.terms import (
    HALF,
    ONE,
    ZERO,
    Dim,
    E,
    Shape,
    SymbolicError,
    _shape_text,
    _topological,
    broadcast,
    depends,
    make,
    num,
    size_term,
)


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
                                "formula here yet (one after the other has: X[0][1:])")
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
        try:
            grads = _vjp(node, g, needed)
        except SymbolicError as error:
            if error.span is None and error.term is None:
                error.term = node  # (the reader knows where in the source it came from)
            raise
        for a, ga in zip(node.args, grads):
            if ga is not None and id(a) in live:
                adjoint.setdefault(id(a), []).append(ga)
    return ZERO


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
