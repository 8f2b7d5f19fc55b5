"""The last pass of the simplifier: rewrites kept only where they make the formula shorter.

The smart constructors (:mod:`gradcli.lang.symbolic.constructors`) simplify as a term is
built; :func:`tidy` then tries multiplying out, expanding, putting over one denominator
and factoring, and keeps a rewrite only where the printed formula comes out shorter.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from gradcli.lang.symbolic.constructors import (
    _split_coeff,
    add,
    call,
    compare,
    div,
    fn,
    index,
    matmul,
    mul,
    power,
    reshape,
    transpose,
)
from gradcli.lang.symbolic.printing import to_text
from gradcli.lang.symbolic.terms import ONE, E, _topological, make, num, weight

MAX_EXPANDED_TERMS = 64
MAX_EXPAND_CHOICES = 16  # expand() tries products of sums with up to this many terms
MAX_REWRITE_WEIGHT = 120  # larger terms are not multiplied out (their parts already were)


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
