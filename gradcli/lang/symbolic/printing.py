"""Printing: a term turns into a syntax tree (:func:`to_syntax`), which
:mod:`gradcli.lang.syntax`'s printers print (source, LaTeX, Unicode).

Also :func:`to_text` and :func:`size` (a formula's size, in tokens, as a reader sees it).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from gradcli.lang import syntax as S
from gradcli.lang.symbolic.constructors import (
    ALL,
    _is_negative_term,
    _negative,
    call,
    index,
    mul,
    neg,
    power,
    sub,
    transpose,
)
from gradcli.lang.symbolic.terms import (
    _LITERAL,
    HALF,
    E,
    Shape,
    SymbolicError,
    _topological,
    broadcast,
    num,
    weight,
)


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


def to_syntax(e: E, names: dict[E, str] | None = None) -> S.Node:
    return _ToSyntax(names)(e)


def to_text(e: E, transpose: str = "attribute") -> str:
    return S.to_text(to_syntax(e), transpose)


def size(e: E) -> int:
    """The number of nodes a reader sees: the printed tree's size."""
    return sum(1 for _ in S.postorder(to_syntax(e)))


# a term shows as its text, so its repr is set here, where text is made (terms.py is below)
def _term_repr(self: E) -> str:
    if weight(self) > 200:  # never print an exponential tree
        return f"E({self.op}, {len(_topological(self))} nodes, shape={self.shape})"
    return f"E({to_text(self)!r}, shape={self.shape})"


E.__repr__ = _term_repr  # type: ignore[method-assign]
