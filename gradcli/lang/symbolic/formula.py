"""The derivative of a program (SPEC §9): :func:`differentiate` and ``gradcli.diff``,
each derivative a :class:`Formula` (its term and its printed forms).

How a derivative is formed: the program is read into terms
(:mod:`gradcli.lang.symbolic.reading`), differentiated in reverse mode
(:mod:`gradcli.lang.symbolic.derivatives`) out of smart constructors that simplify as
they build (:mod:`gradcli.lang.symbolic.constructors`), tidied by a last pass
(:mod:`gradcli.lang.symbolic.simplify`), and printed through a syntax tree
(:mod:`gradcli.lang.symbolic.printing`).
"""

from __future__ import annotations

from typing import Any

from gradcli.lang import syntax as S
from gradcli.lang.symbolic.derivatives import gradient, hessian_of, jacobian
from gradcli.lang.symbolic.printing import _ToSyntax, to_syntax
from gradcli.lang.symbolic.reading import Reader, _parse_shape
from gradcli.lang.symbolic.simplify import tidy
from gradcli.lang.symbolic.terms import (
    E,
    Shape,
    SymbolicError,
    TooLong,
    _Scope,
    _shape_text,
    _topological,
    weight,
)


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

        from gradcli.lang.reader import MAX_STATEMENT_CHARS
        from gradcli.lang.session import evaluate

        point = {**(values or {}), **more}
        program = self.program
        longest = max(map(len, program.split("\n")))
        if longest > MAX_STATEMENT_CHARS:
            raise TooLong(f"the formula d/d{self.wrt} prints {longest:,} characters on one "
                          f"line, more than a statement can hold ({MAX_STATEMENT_CHARS:,}), "
                          "so it cannot be run, nor checked at the point given")
        outcomes = evaluate(program, point)
        result = outcomes[-1]
        error = getattr(result, "error", None)
        if error is not None:
            raise SymbolicError(f"the formula {abridged(self.text)} does not evaluate at "
                                f"this point: {error.message}")
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


def abridged(text: str, most: int = 300) -> str:
    """A formula's text for a message: a long one's start and end, not megabytes."""
    return text if len(text) <= most else f"{text[:most // 2]} ... {text[-most // 2:]}"


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
            try:
                g = tidy(gradient(y, x))
            except SymbolicError as error:
                error.span = reader.span_of(error)
                raise
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
                                    reader.span_of(error)) from None
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
