"""Reading a program into terms: the syntax tree (:mod:`gradcli.lang.syntax`) becomes
terms (:class:`Reader`), symbols taking their declared shapes.

Also the table of built-ins that are not read, and why (:data:`_REFUSED_WHY`).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from gradcli.lang import syntax as S
from gradcli.lang.symbolic.constructors import (
    _FUNCTIONS_2,
    ALL,
    ELEMENTWISE,
    REDUCTIONS,
    SLICE,
    add,
    call,
    compare,
    div,
    eye,
    fill,
    fn,
    index,
    literal,
    matmul,
    mul,
    neg,
    power,
    reshape,
    sub,
    transpose,
)
from gradcli.lang.symbolic.terms import (
    _LITERAL,
    Dim,
    E,
    Shape,
    SymbolicError,
    _shape_text,
    const,
    num,
    sym,
)

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
        # each term's first source node's span (by id; the term kept, so the id is its)
        self.spans: dict[int, tuple[E, Any]] = {}

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
                made = done[id(node)] = self.one(node, done)
            except SymbolicError as error:
                if error.span is None:
                    error.span = node.span
                raise
            if id(made) not in self.spans:
                self.spans[id(made)] = (made, node.span)
        return done[id(root)]

    def span_of(self, error: SymbolicError) -> Any:
        """The span of the source of the term a derivative rule refused (the backward
        pass knows terms, not source), or the error's own."""
        if error.span is None and error.term is not None:
            made, span = self.spans.get(id(error.term), (None, None))
            if made is error.term:
                return span
        return error.span

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
            axis = tuple(_whole(a, "axis", node) for a in axis) if isinstance(axis, list) \
                else None if axis is None else _whole(axis, "axis", node)
            ddof = static("ddof", 3, 0) if func in ("var", "std") else 0
            if func == "norm" and static("ord", 3) is not None and args[0].ndim > 1 and \
                    axis is None:
                raise SymbolicError("norm: ord=2 of a matrix is its largest singular value, "
                                    "which has no formula here", node.span)
            return call(func, args[0], axis=axis, keepdims=keepdims or None,
                        ddof=_exact(repr(float(ddof)), float(ddof)) or None)
        if func in ("softmax", "log_softmax"):
            axis = static("axis", 1, -1)
            axis = _whole(axis, "axis", node) % max(args[0].ndim, 1)
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
            return reshape(args[0], _reshaped(args[0].shape,
                                              [_whole(d, "a size", node) for d in dims]))
        if builtin.constructor:  # a constant: its value, or its structure where it has one
            sizes = [_static(a, f"{func}'s size") for a in node.args]
            if len(sizes) == 1 and isinstance(sizes[0], list):
                sizes = sizes[0]
            if func in ("ones", "zeros") and not kw:
                return fill(1 if func == "ones" else 0,
                            tuple(_whole(d, "a size", node) for d in sizes))
            if func == "eye" and len(sizes) == 1 and not kw:
                return eye(_whole(sizes[0], "a size", node))
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
        lo, hi, step = (None if v is None else _whole(v, "a slice's end", node)
                        for v in ends)
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
    if isinstance(value, list):
        raise SymbolicError("indexing with a list or a mask has no derivative formula here",
                            node.span)
    return _whole(value, "an index", node)


def _whole(value: Any, what: str, node: S.Node) -> int:
    """A number written in the program where a whole one is wanted (an axis, a size, an
    index), refused as eval refuses it: 2.5, 1e400 (inf) and lists are not."""
    if isinstance(value, list) or not math.isfinite(value) or value != int(value):
        raise SymbolicError(f"{what} must be a whole number, got {value!r}", node.span)
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


# the operators with a term constructor of their own; % and // are calls of mod and
# floor_divide (their rules are the functions')
_OPERATOR_TERMS = {"+": add, "-": sub, "*": mul, "/": div, "^": power, "@": matmul}


def _binary(op: str, a: E, b: E) -> E:
    make = _OPERATOR_TERMS.get(op)
    if make is not None:
        return make(a, b)
    if op in ("%", "//"):
        return call(S.OPERATORS[op].name, a, b)
    raise SymbolicError(f"the {S.OPERATORS[op].name} operator ({op}) has no derivative "
                        "formula here yet")


def _parse_shape(value: Any) -> Shape:
    if isinstance(value, str):
        parts = [p.strip() for p in value.strip().strip("[]()").split(",") if p.strip()]
        return tuple(int(p) if p.isdigit() else p for p in parts)
    return tuple(value)
