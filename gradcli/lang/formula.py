"""Graphs back to formulas: a Variable's creator graph printed in gradcli's own syntax.

``derivative(output, wrt, names)`` builds d output / d wrt with ``create_graph`` (so the
gradient is itself a graph of Functions), turns that graph into an expression tree,
simplifies it (constant folding, ``x*1``, ``x+0``, ``0*x``, ``x^1``, like terms and
factors) and prints it — as a gradcli expression that evaluates to the gradient, or as
LaTeX. Where the output is a reduction the formula is elementwise: broadcasts of a
scalar coefficient are dropped where the other operand already has the full shape.

Every pass is iterative (post-order over an explicit stack), so deep graphs print.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradcli.autograd import Variable
from gradcli.autograd.function import valid_everywhere
from gradcli.autograd.functional import grad as take_grad


class FormulaError(ValueError):
    """The graph holds something gradcli's language cannot write down."""


# -- the expression tree ------------------------------------------------------------------


@dataclass(frozen=True)
class Expr:
    """One node: ``kind`` is num, name, array, neg, bin, call or index."""

    kind: str
    value: Any = None  # number, name, operator symbol, function name, or index text
    args: tuple[Expr, ...] = ()
    kwargs: tuple[tuple[str, str], ...] = ()
    shape: tuple[int, ...] | None = field(default=None, compare=False)

    def key(self) -> str:
        return to_source(self)


def num(value: float) -> Expr:
    return Expr("num", float(value), shape=())


def is_num(e: Expr, value: float | None = None) -> bool:
    return e.kind == "num" and (value is None or e.value == value)


# -- graph -> tree -------------------------------------------------------------------------

_CALLS = {
    "Maximum": "maximum", "Minimum": "minimum", "Arctan2": "arctan2", "Hypot": "hypot",
    "Clip": "clip", "Where": "where", "Outer": "outer", "Trace": "trace", "Det": "det",
    "Inv": "inv", "Solve": "solve", "LogSumExp": "logsumexp", "LogSoftmax": "log_softmax",
}
_OPERATORS = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Pow": "^", "MatMul": "@"}
_REDUCTIONS = {"Sum", "Mean", "Prod", "Max", "Min", "Var", "Std", "LogSumExp", "Norm"}


def _list_text(values: Any) -> str:
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def _index_text(index: Any, ndim: int) -> str:
    """The index as gradcli writes it, for an array of ``ndim`` dimensions (the language
    has no ``...``: it is written as the ``:`` it stands for)."""
    items = index if isinstance(index, tuple) else (index,)
    if any(item is Ellipsis for item in items):
        at = next(i for i, item in enumerate(items) if item is Ellipsis)
        rest = items[:at] + items[at + 1:]
        if any(item is Ellipsis or item is None for item in rest):
            raise FormulaError("this indexing has no form in gradcli's language")
        items = items[:at] + (slice(None),) * (ndim - len(rest)) + items[at + 1:]
        # (trailing ":"s dropped: x[0, :] is x[0])
        while items and isinstance(items[-1], slice) and items[-1] == slice(None):
            items = items[:-1]
        if not items:
            return ":"
    parts = []
    for item in items:
        if isinstance(item, slice):
            text = ":".join("" if part is None else str(part)
                            for part in (item.start, item.stop, item.step))
            parts.append(text[:-1] if text.endswith(":") and item.step is None else text)
        elif isinstance(item, np.ndarray):
            parts.append(_list_text(item.reshape(-1)))
        elif item is None:
            raise FormulaError("indexing with None has no form in gradcli's language")
        else:
            parts.append(str(int(item)))
    return ", ".join(parts)


def _constant(v: Variable) -> Expr:
    data = v.data
    if data.size == 1:  # a size-one array broadcasts like the number it holds
        return num(float(data.reshape(())))
    if data.ndim == 2 and data.shape[0] == data.shape[1]:
        eye = np.eye(data.shape[0])
        if np.array_equal(data, eye):
            return Expr("call", "eye", (num(data.shape[0]),), shape=data.shape)
        if np.array_equal(data, 1.0 - eye):
            identity = Expr("call", "eye", (num(data.shape[0]),), shape=data.shape)
            return Expr("bin", "-", (num(1.0), identity), shape=data.shape)
    flat = data.reshape(-1)
    if flat.size and np.all(flat == flat[0]):
        return Expr("call", "full", (Expr("array", _list_text(data.shape)),
                                     num(float(flat[0]))), shape=data.shape)
    if data.size > 256:
        raise FormulaError(f"a constant of shape {data.shape} is too large to print")
    text = np.array2string(data + 0.0, separator=", ", threshold=10**6,  # no "-0."
                           floatmode="unique")
    return Expr("array", " ".join(text.split()), shape=data.shape)


def _node(fn: Any, args: list[Expr], shape: tuple[int, ...]) -> Expr:
    name = fn.name
    if type(fn).__name__ == "PowConst":
        return Expr("bin", "^", (args[0], num(fn.exponent)), shape=shape)
    if name == "MatMul":  # a size-one constant is a number elsewhere, not beside "@"
        args = [_shaped(arg, u.shape) for arg, u in zip(args, fn.inputs, strict=True)]
    if name in _OPERATORS:
        return Expr("bin", _OPERATORS[name], tuple(args), shape=shape)
    if name == "Neg":
        return Expr("neg", None, tuple(args), shape=shape)
    if hasattr(fn, "symbol") and fn.symbol:
        return Expr("bin", fn.symbol, tuple(args), shape=shape)
    if name in _REDUCTIONS:
        call = _CALLS.get(name, name.lower())
        x = fn.inputs[0].data
        kwargs = []
        if tuple(fn.axes) != tuple(range(x.ndim)):
            kwargs.append(("axis", _list_text(fn.axes)))
        if fn.keepdims:
            kwargs.append(("keepdims", "true"))
        return Expr("call", call, (args[0],), tuple(kwargs), shape=shape)
    if name in ("Softmax", "LogSoftmax"):
        return Expr("call", name.lower() if name == "Softmax" else "log_softmax", (args[0],),
                    (("axis", _list_text(fn.axes)),), shape=shape)
    if name in ("Reshape", "Squeeze", "ExpandDims"):
        return Expr("call", "reshape", (args[0], Expr("array", _list_text(shape))),
                    shape=shape)
    if name == "BroadcastTo":
        return Expr("call", "broadcast_to", (args[0], Expr("array", _list_text(shape))),
                    shape=shape)
    if name == "Transpose":
        return Expr("call", "transpose", (args[0], Expr("array", _list_text(fn.axes))),
                    shape=shape)
    if name in ("Concatenate", "Stack"):
        listed = Expr("list", None, tuple(args))
        return Expr("call", name.lower(), (listed,), (("axis", str(fn.axis)),), shape=shape)
    if name == "GetItem":
        return Expr("index", _index_text(fn.index, fn.inputs[0].ndim), (args[0],),
                    shape=shape)
    if name == "ScatterAdd":
        raise FormulaError(
            "this derivative scatters values back through indexing, which has no formula "
            "in gradcli's language")
    if name in _CALLS:
        return Expr("call", _CALLS[name], tuple(args), shape=shape)
    call = name.lower()
    from gradcli.autograd.ops.elementwise import _Unary

    if isinstance(fn, _Unary):
        return Expr("call", call, tuple(args), shape=shape)
    raise FormulaError(f"the operation {name} has no formula in gradcli's language")


def _shaped(e: Expr, shape: tuple[int, ...] | None) -> Expr:
    """``e`` as an array of ``shape`` where it has become a scalar (a size-one constant,
    a dropped broadcast): "@" does not broadcast a scalar as the other operators do."""
    if e.shape != () or shape in ((), None):
        return e
    dims = Expr("array", _list_text(shape))
    if is_num(e):
        return Expr("call", "full", (dims, e), shape=shape)
    return Expr("call", "broadcast_to", (e, dims), shape=shape)


def to_expr(root: Variable, names: dict[int, str]) -> Expr:
    """The expression that computes ``root``; ``names`` maps id(leaf Variable) -> name."""
    done: dict[int, Expr] = {}
    stack: list[tuple[Variable, bool]] = [(root, False)]
    while stack:
        v, expanded = stack.pop()
        key = id(v)
        if key in done:
            continue
        if key in names:
            done[key] = Expr("name", names[key], shape=v.shape)
            continue
        fn = v.creator
        if fn is None:
            done[key] = _constant(v)
            continue
        if fn.inputs is None:
            raise FormulaError("the graph was freed")
        if not expanded:
            stack.append((v, True))
            stack.extend((u, False) for u in fn.inputs if id(u) not in done)
            continue
        done[key] = _node(fn, [done[id(u)] for u in fn.inputs], v.shape)
    return done[id(root)]


# -- simplification -----------------------------------------------------------------------

_FOLDABLE = {
    "exp": math.exp, "log": math.log, "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos,
    "tan": math.tan, "tanh": math.tanh, "sinh": math.sinh, "cosh": math.cosh,
    "abs": abs, "square": lambda v: v * v, "reciprocal": lambda v: 1.0 / v,
    "sign": lambda v: float(np.sign(v)),
}


def _children(e: Expr) -> tuple[Expr, ...]:
    return e.args


def _rebuild(e: Expr, args: tuple[Expr, ...]) -> Expr:
    return Expr(e.kind, e.value, args, e.kwargs, e.shape)


def _fold_numbers(op: str, a: float, b: float) -> float | None:
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b if b != 0 else None
        if op == "^":
            result = a**b
            return None if isinstance(result, complex) else float(result)
    except (OverflowError, ZeroDivisionError, ValueError):
        return None
    return None


def _factors(e: Expr) -> tuple[float, list[tuple[Expr, float]]]:
    """A product as (coefficient, [(base, exponent)])."""
    if is_num(e):
        return e.value, []
    if e.kind == "neg":
        coef, parts = _factors(e.args[0]) if e.args[0].kind in ("bin", "num") else (
            1.0, [(e.args[0], 1.0)])
        return -coef, parts
    if e.kind == "bin" and e.value == "*":
        c1, p1 = _factors(e.args[0])
        c2, p2 = _factors(e.args[1])
        return c1 * c2, p1 + p2
    if e.kind == "bin" and e.value == "/":
        c1, p1 = _factors(e.args[0])
        c2, p2 = _factors(e.args[1])
        if c2 != 0:
            return c1 / c2, p1 + [(base, -power) for base, power in p2]
    if e.kind == "bin" and e.value == "^" and is_num(e.args[1]):
        return 1.0, [(e.args[0], e.args[1].value)]
    return 1.0, [(e, 1.0)]


def _product(coef: float, parts: list[tuple[Expr, float]], shape: Any) -> Expr:
    """Rebuild a product: coefficient first, like bases merged, negative powers below."""
    merged: dict[str, list] = {}
    for base, power in parts:
        k = base.key()
        if k in merged:
            merged[k][1] += power
        else:
            merged[k] = [base, power]
    above = [(b, p) for b, p in merged.values() if p > 0]
    below = [(b, -p) for b, p in merged.values() if p < 0]
    if coef == 0 and all(b.shape in ((), None) or b.shape == shape for b, _ in above + below):
        return num(0.0)

    def chain(factors: list[tuple[Expr, float]], start: Expr | None) -> Expr | None:
        result = start
        for base, power in factors:
            f = base if power == 1 else Expr("bin", "^", (base, num(power)), shape=base.shape)
            result = f if result is None else Expr("bin", "*", (result, f), shape=shape)
        return result

    if coef == -1 and above:  # -x*y reads as (-x)*y: the sign rides on the first factor
        base, power = above[0]
        first = base if power == 1 else Expr("bin", "^", (base, num(power)), shape=base.shape)
        top = chain(above[1:], Expr("neg", None, (first,), shape=first.shape))
    else:
        top = chain(above, None if coef == 1 else num(coef)) or num(coef)
    bottom = chain(below, None)
    return top if bottom is None else Expr("bin", "/", (top, bottom), shape=shape)


def _terms(e: Expr) -> tuple[float, list[tuple[float, Expr]]]:
    """A sum as (constant, [(coefficient, term)])."""
    if is_num(e):
        return e.value, []
    if e.kind == "bin" and e.value in "+-" and len(e.value) == 1:
        c1, t1 = _terms(e.args[0])
        c2, t2 = _terms(e.args[1])
        if e.value == "-":
            c2, t2 = -c2, [(-c, t) for c, t in t2]
        return c1 + c2, t1 + t2
    if e.kind == "neg":
        c, t = _terms(e.args[0])
        return -c, [(-k, term) for k, term in t]
    coef, parts = _factors(e)
    if not parts:
        return coef, []
    return 0.0, [(coef, _product(1.0, parts, e.shape))]


def _sum(constant: float, terms: list[tuple[float, Expr]], shape: Any) -> Expr:
    """Rebuild a sum: like terms merged, positive terms first, the constant last."""
    merged: dict[str, list] = {}
    for coef, term in terms:
        k = term.key()
        if k in merged:
            merged[k][0] += coef
        else:
            merged[k] = [coef, term]
    pieces = []
    for coef, term in merged.values():
        if coef == 0:
            continue
        c, parts = _factors(term)
        pieces.append((coef * c, parts))
    pieces.sort(key=lambda piece: piece[0] < 0)  # stable: positive terms first
    if constant != 0 and (not pieces or pieces[0][0] < 0):
        pieces.insert(0, (constant, []))
        constant = 0.0
    result: Expr | None = None
    for coef, parts in pieces:
        if result is None:
            result = _product(coef, parts, shape)
        elif coef < 0:
            result = Expr("bin", "-", (result, _product(-coef, parts, shape)), shape=shape)
        else:
            result = Expr("bin", "+", (result, _product(coef, parts, shape)), shape=shape)
    if result is None:
        return num(constant)
    if constant > 0:
        result = Expr("bin", "+", (result, num(constant)), shape=shape)
    elif constant < 0:
        result = Expr("bin", "-", (result, num(-constant)), shape=shape)
    return result


def _simplify_one(e: Expr) -> Expr:
    """Simplify a node whose children are already simple."""
    a = e.args
    if e.kind == "neg":
        if is_num(a[0]):
            return num(-a[0].value)
        if a[0].kind == "neg":
            return a[0].args[0]
        return e
    if e.kind == "call":
        # A broadcast of a scalar inside an elementwise formula: keep only the scalar.
        if e.value == "broadcast_to" and a[0].shape == ():
            return a[0]
        if e.value in _FOLDABLE and len(a) == 1 and is_num(a[0]):
            try:
                return num(_FOLDABLE[e.value](a[0].value))
            except (ValueError, OverflowError, ZeroDivisionError):
                return e
        if e.value == "reshape" and a[0].shape == e.shape:
            return a[0]
        if e.value == "reshape" and e.shape == () and a[0].kind == "call" \
                and a[0].kwargs == (("keepdims", "true"),):
            # a whole-array reduction kept as (1, 1) and then made a scalar: the plain one
            inner = a[0]
            return Expr("call", inner.value, inner.args, (), shape=())
        return e
    if e.kind != "bin":
        return e
    op = e.value
    left, right = a
    # full(shape, c) beside an operand that already has that shape: the number will do
    if _is_full(left) and right.shape == left.shape and op != "@":
        left = num(left.args[1].value)
    if _is_full(right) and left.shape == right.shape and op != "@":
        right = num(right.args[1].value)
    if (left, right) != a:
        e = Expr("bin", op, (left, right), shape=e.shape)
    if is_num(left) and is_num(right):
        folded = _fold_numbers(op, left.value, right.value)
        if folded is not None:
            return num(folded)
    if op == "^":
        if is_num(right, 1.0):
            return left
        if is_num(right, 0.0):
            return num(1.0)
        if left.kind == "bin" and left.value == "^" and is_num(left.args[1]) and is_num(right):
            return Expr("bin", "^", (left.args[0], num(left.args[1].value * right.value)),
                        shape=e.shape)
        return e
    if op in ("*", "/"):
        if op == "/" and is_num(right, 0.0):
            return e
        coef, parts = _factors(e)
        return _product(coef, parts, e.shape)
    if op in ("+", "-"):
        constant, terms = _terms(e)
        return _sum(constant, terms, e.shape)
    return e


def _is_full(e: Expr) -> bool:
    return e.kind == "call" and e.value == "full" and len(e.args) == 2 and is_num(e.args[1])


def _fold(root: Expr, visit: Callable[[Expr, list], Any]) -> Any:
    """``visit(e, parts)`` for every node after its children (``parts`` are their
    results), iteratively so a deep tree cannot overflow the stack; a node shared by
    several parents is visited once."""
    done: dict[int, Any] = {}
    stack: list[tuple[Expr, bool]] = [(root, False)]
    while stack:
        e, expanded = stack.pop()
        if id(e) in done:
            continue
        if e.args and not expanded:
            stack.append((e, True))
            stack.extend((c, False) for c in e.args)
            continue
        done[id(e)] = visit(e, [done[id(c)] for c in e.args])
    return done[id(root)]


def simplify(root: Expr) -> Expr:
    """Bottom-up simplification, iterative over the tree."""
    return _fold(root, _simplify_node)


def _simplify_node(e: Expr, parts: list[Expr]) -> Expr:
    if not parts:
        return _simplify_one(e)
    # an operand simplified to a scalar keeps its shape where a scalar would not do: beside
    # "@", and under an operation along an axis (prod(full([1, 1], 1), axis=[1]))
    if (e.kind == "bin" and e.value == "@") or (
            e.kind == "call" and any(k == "axis" for k, _ in e.kwargs)):
        parts = [_shaped(part, child.shape) for part, child in zip(parts, e.args, strict=True)]
    return _simplify_one(_rebuild(e, tuple(parts)))


# -- printing -----------------------------------------------------------------------------

_LEVEL = {"<": 1, "<=": 1, ">": 1, ">=": 1, "==": 1, "!=": 1, "+": 2, "-": 2, "*": 3,
          "/": 3, "@": 3, "^": 5}


def _format_number(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _level(e: Expr) -> int:
    if e.kind == "bin":
        return _LEVEL[e.value]
    if e.kind == "neg" or (e.kind == "num" and (e.value < 0 or math.isinf(e.value))):
        return 4
    return 6


def to_source(root: Expr) -> str:
    """gradcli syntax with the fewest parentheses the precedence table allows."""
    return _fold(root, _print_one)


def _wrap(text: str, child: Expr, need: int, strict: bool = False) -> str:
    level = _level(child)
    if level < need or (strict and level == need):
        return f"({text})"
    return text


def _print_one(e: Expr, parts: list[str]) -> str:
    if e.kind == "num":
        return _format_number(e.value)
    if e.kind in ("name", "array"):
        return str(e.value)
    if e.kind == "neg":
        return "-" + _wrap(parts[0], e.args[0], 4 if e.args[0].kind != "num" else 5)
    if e.kind == "list":
        return "[" + ", ".join(parts) + "]"
    if e.kind == "call":
        args = parts + [f"{k}={v}" for k, v in e.kwargs]
        return f"{e.value}({', '.join(args)})"
    if e.kind == "index":
        return f"{_wrap(parts[0], e.args[0], 6)}[{e.value}]"
    op = e.value
    level = _LEVEL[op]
    left, right = e.args
    if op == "^":
        return f"{_wrap(parts[0], left, 6)}^{_wrap(parts[1], right, 5)}"
    if level == 1:
        return f"{_wrap(parts[0], left, 2)} {op} {_wrap(parts[1], right, 2)}"
    spaced = f" {op} " if level == 2 else op
    return f"{_wrap(parts[0], left, level)}{spaced}{_wrap(parts[1], right, level, True)}"


_LATEX_CALLS = {"exp": r"\exp", "log": r"\ln", "sin": r"\sin", "cos": r"\cos", "tan": r"\tan",
                "sinh": r"\sinh", "cosh": r"\cosh", "tanh": r"\tanh", "arcsin": r"\arcsin",
                "arccos": r"\arccos", "arctan": r"\arctan", "det": r"\det",
                "sigmoid": r"\sigma"}


def to_latex(root: Expr) -> str:
    """The same expression as LaTeX."""
    return _fold(root, _latex_one)


def _latex_one(e: Expr, parts: list[str]) -> str:
    if e.kind == "num":
        text = _format_number(e.value)
        return {"inf": r"\infty", "-inf": r"-\infty", "nan": r"\mathrm{NaN}"}.get(text, text)
    if e.kind == "name":
        name = str(e.value)
        return name if len(name) == 1 else rf"\mathrm{{{name}}}".replace("_", r"\_")
    if e.kind == "array":
        return rf"\mathtt{{{e.value}}}"
    if e.kind == "neg":
        return "-" + (rf"\left({parts[0]}\right)" if _level(e.args[0]) < 4 else parts[0])
    if e.kind == "list":
        return r"\left[" + ", ".join(parts) + r"\right]"
    if e.kind == "call":
        name = _LATEX_CALLS.get(e.value, rf"\operatorname{{{e.value}}}".replace("_", r"\_"))
        if e.value == "sqrt":
            return rf"\sqrt{{{parts[0]}}}"
        if e.value == "abs":
            return rf"\left|{parts[0]}\right|"
        return rf"{name}\left({', '.join(parts)}\right)"
    if e.kind == "index":
        return rf"{parts[0]}_{{[{e.value}]}}"
    op = e.value
    left, right = e.args
    if op == "/":
        return rf"\frac{{{parts[0]}}}{{{parts[1]}}}"
    if op == "^":
        base = parts[0] if _level(left) == 6 else rf"\left({parts[0]}\right)"
        return rf"{base}^{{{parts[1]}}}"
    symbol = {"*": r" \cdot ", "@": r" \, ", "+": " + ", "-": " - ", "<": " < ",
              "<=": r" \le ", ">": " > ", ">=": r" \ge ", "==": " = ", "!=": r" \ne "}[op]
    level = _LEVEL[op]
    lhs = parts[0] if _level(left) >= level else rf"\left({parts[0]}\right)"
    rhs = parts[1] if _level(right) > level or (
        _level(right) == level and op in "+*") else rf"\left({parts[1]}\right)"
    return f"{lhs}{symbol}{rhs}"


# -- the entry point ----------------------------------------------------------------------


def derivative(output: Variable, wrt: Variable, names: dict[str, Variable],
               latex: bool = False) -> str:
    """d output / d wrt as a formula over the named inputs.

    A scalar output gives the gradient; where it is a reduction the formula is written
    per element. Raises FormulaError where the graph cannot be written in the language.
    """
    if output.data.size != 1:
        raise FormulaError(
            f"a derivative formula needs a scalar output; this one has shape {output.shape}")
    with valid_everywhere():  # the formula must hold at every point, not only this one
        (gradient,) = take_grad(output, wrt, retain_graph=True, create_graph=True)
    leaf_names = {id(v): name for name, v in names.items() if v.creator is None}
    tree = simplify(to_expr(gradient, leaf_names))
    if _is_full(tree):  # a constant gradient: the same number for every element
        tree = num(tree.args[1].value)
    return to_latex(tree) if latex else to_source(tree)


def formula(value: Variable, names: dict[str, Variable], latex: bool = False) -> str:
    """The expression that computes ``value`` from the named inputs, simplified."""
    leaf_names = {id(v): name for name, v in names.items() if v.creator is None}
    tree = simplify(to_expr(value, leaf_names))
    return to_latex(tree) if latex else to_source(tree)
