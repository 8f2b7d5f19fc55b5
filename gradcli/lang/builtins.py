"""The table of callable names: one row per built-in (SPEC §3).

``gradcli functions``, the REPL's completion, the "did you mean" hints, the evaluator
and the formula printers all read :data:`BUILTINS` (canonical names) through
:func:`lookup` (which also resolves aliases). A row says how a call's arguments are
bound and converted (``params``), what the user reads (``signature``, ``doc``,
``category``), what runs (``call``; the engine Function is named after the row, see
:func:`operation_name`) and how a formula writes it (``latex``, ``unicode``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradcli.autograd import Variable, ops
from gradcli.autograd.functional import grad as autograd_grad
from gradcli.autograd.functional import hessian as autograd_hessian
from gradcli.autograd.functional import jacobian as autograd_jacobian
from gradcli.autograd.limits import check_shape
from gradcli.autograd.ops.reductions import normalize_axes

# -- parameter kinds: how an argument value is converted before the call ------------------

ARRAY = "array"  # any value; a list literal becomes an array
AXIS = "axis"  # an int, or a list of ints
BOOL = "bool"  # true/false (or a number)
INT = "int"  # a whole number
NUMBER = "number"  # a single number
SHAPE = "shape"  # a size or a list of sizes
ARRAYS = "arrays"  # a list of arrays (or an array, split along its first axis)
SIZES = "*sizes"  # the rest of the positional arguments: sizes, or one list of them
AXES = "*axes"  # the rest of the positional arguments: axes, or one list of them
VALUES = "*values"  # the rest of the positional arguments, as written (arrays or lists)

REQUIRED: Any = object()
MAX_DIMENSIONS = 64 if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else 32  # NumPy's limit


@dataclass(frozen=True)
class Param:
    name: str
    kind: str = ARRAY
    default: Any = REQUIRED

    @property
    def variadic(self) -> bool:
        return self.kind.startswith("*")


@dataclass(frozen=True)
class Builtin:
    """One callable name: what the user reads and what runs."""

    name: str
    params: tuple[Param, ...]
    doc: str
    category: str
    call: Callable[..., Any]
    aliases: tuple[str, ...] = ()
    constructor: bool = False  # called as call(context, ...): makes a constant, no gradient
    usage: str | None = None  # a hand-written signature, where the generated one misleads
    # How formulas write a call: a LaTeX command (r"\exp": \exp\left(x\right); default
    # \operatorname{name}), or, for either style, a form of the one argument "{x}" (r"|{x}|";
    # one that starts with "{x}" is postfix: the argument is parenthesized as a base).
    latex: str = ""
    unicode: str = ""
    param_names: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def signature(self) -> str:
        """How the call is written: ``sum(x[, axis], keepdims=false)``."""
        if self.usage:
            return self.usage
        text = ""
        for p in self.params:
            if p.variadic:
                part = f"{p.name}0, {p.name}1, ..."
            elif p.default is REQUIRED:
                part = p.name
            elif p.default is None:  # optional, with no value a user could write
                text += f"[, {p.name}]" if text else f"[{p.name}]"
                continue
            else:
                part = f"{p.name}={_show_default(p.default)}"
            text = f"{text}, {part}" if text else part
        return f"{self.name}({text})"


def _show_default(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- list literals: kept as lists where a function wants a list, else made arrays ---------


class Literal(list):
    """The value of a list literal ``[a, b, ...]`` before it is made an array.

    Functions that take a list of arrays (``concatenate``, ``stack``) or a list of sizes
    read it as a list; everywhere else it becomes one array (``materialize``). Elements
    are Variables (nested literals are made arrays when the outer list is built).
    """

    __slots__ = ("span",)

    def __init__(self, items: list, span: Any) -> None:
        super().__init__(items)
        self.span = span


class ArgumentError(ValueError):
    """An argument of the wrong kind; the evaluator adds the place and the signature."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index  # which argument (position in the call), when known


class ElementShapeError(ValueError):
    """A list literal whose elements differ in shape."""


def materialize(value: Any, dtype: Any = None) -> Variable:
    """A list literal as one array: a constant if no element needs a gradient, else Stack."""
    if type(value) is Variable:
        return value
    if not isinstance(value, Literal):
        return value if isinstance(value, Variable) else Variable(np.asarray(value, dtype=dtype))
    items = list(value)
    if not items:
        return Variable(np.zeros((0,), dtype=dtype or np.float64))
    first = items[0].shape
    for k, item in enumerate(items):
        if item.shape != first:
            raise ElementShapeError(
                f"list elements must have the same shape: element 1 has shape {first}, "
                f"element {k + 1} has shape {item.shape}"
            )
    if len(first) >= MAX_DIMENSIONS:
        raise ElementShapeError(
            f"list: an array has at most {MAX_DIMENSIONS} dimensions; these lists are nested "
            "deeper"
        )
    check_shape("list", (len(items), *first))
    for item in items:
        if item.requires_grad:
            return ops.stack(items, 0)
    if not first:
        return Variable(np.array([item.data for item in items]))
    return Variable(np.stack([item.data for item in items]))


# -- argument conversion -------------------------------------------------------------------


def _number(value: Any, what: str) -> float:
    if isinstance(value, Literal):
        raise ArgumentError(f"{what} must be a single number, not a list")
    data = value.data
    if data.size != 1:
        raise ArgumentError(f"{what} must be a single number, got an array of shape {data.shape}")
    return float(data.reshape(()))


def _whole(value: Any, what: str) -> int:
    number = _number(value, what)
    if not math.isfinite(number) or not number.is_integer():
        raise ArgumentError(f"{what} must be a whole number, got {_fmt(number)}")
    return int(number)


def _fmt(number: float) -> str:
    return str(int(number)) if number.is_integer() and math.isfinite(number) else repr(number)


def _whole_list(value: Any, what: str) -> list[int]:
    if isinstance(value, Literal):
        return [_whole(v, what) for v in value]
    data = value.data
    if data.ndim > 1:
        raise ArgumentError(f"{what} must be a whole number or a list of them")
    return [_whole(Variable(d), what) for d in data.reshape(-1)] if data.ndim else [
        _whole(value, what)
    ]


def convert(kind: str, value: Any, name: str) -> Any:
    """An argument value (Variable or Literal) in the form the engine call wants."""
    if kind == ARRAY:
        return value if type(value) is Variable else materialize(value)
    if kind == AXIS:
        if isinstance(value, Literal) or value.data.ndim:
            return _whole_list(value, name)
        return _whole(value, name)
    if kind == BOOL:
        return _number(value, name) != 0
    if kind == INT:
        return _whole(value, name)
    if kind == NUMBER:
        return _number(value, name)
    if kind == SHAPE:
        return tuple(_whole_list(value, "a size"))
    if kind == ARRAYS:
        if isinstance(value, Literal):
            return list(value)
        if value.data.ndim == 0:
            raise ArgumentError(f"{name} must be a list of arrays, as in [a, b]")
        return [value[i] for i in range(value.shape[0])]
    raise AssertionError(kind)


def convert_variadic(kind: str, values: list) -> tuple:
    """``ones(2, 3)`` and ``ones([2, 3])`` alike: the sizes (or axes) as ints; for
    VALUES, the arguments as they are."""
    if kind == VALUES:
        return tuple(values)
    what = "a size" if kind == SIZES else "an axis"
    if len(values) == 1 and (isinstance(values[0], Literal) or values[0].data.ndim == 1):
        return tuple(_whole_list(values[0], what))
    return tuple(_whole(v, what) for v in values)


# -- constructors (no gradient) -------------------------------------------------------------


def _sizes(name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    for d in shape:
        if d < 0:
            raise ArgumentError(f"sizes must not be negative, got {d}")
    check_shape(name, shape)
    return shape


def _ones(ctx: Any, shape: tuple[int, ...]) -> Variable:
    return Variable(np.ones(_sizes("ones", shape), dtype=ctx.dtype))


def _zeros(ctx: Any, shape: tuple[int, ...]) -> Variable:
    return Variable(np.zeros(_sizes("zeros", shape), dtype=ctx.dtype))


def _full(ctx: Any, shape: tuple[int, ...], value: Variable) -> Variable:
    shape = _sizes("full", shape)
    try:
        data = np.broadcast_to(value.data, shape)
    except ValueError:
        raise ArgumentError(
            f"the value of shape {value.shape} does not fit the shape {shape}", 1
        ) from None
    return Variable(np.array(data, dtype=ctx.dtype))


def _eye(ctx: Any, n: int) -> Variable:
    _sizes("eye", (n, n))
    return Variable(np.eye(n, dtype=ctx.dtype))


def _arange(ctx: Any, start: float, stop: float | None, step: float | None) -> Variable:
    if stop is None:
        start, stop = 0.0, start
    step = 1.0 if step is None else step
    if step == 0:
        raise ArgumentError("step must not be zero", 2)
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise ArgumentError("start, stop and step must be finite")
    count = max(math.ceil((stop - start) / step), 0)
    check_shape("arange", (count,))
    return Variable(np.arange(start, stop, step, dtype=ctx.dtype))


def _linspace(ctx: Any, start: float, stop: float, num: int) -> Variable:
    if num < 0:
        raise ArgumentError(f"num must not be negative, got {num}", 2)
    check_shape("linspace", (num,))
    return Variable(np.linspace(start, stop, num, dtype=ctx.dtype))


def _rand(ctx: Any, shape: tuple[int, ...]) -> Variable:
    return Variable(ctx.rng.random(_sizes("rand", shape)).astype(ctx.dtype, copy=False))


def _randn(ctx: Any, shape: tuple[int, ...]) -> Variable:
    return Variable(ctx.rng.standard_normal(_sizes("randn", shape)).astype(ctx.dtype, copy=False))


# -- the table ------------------------------------------------------------------------------

X = (Param("x"),)
AB = (Param("a"), Param("b"))
REDUCE = (Param("x"), Param("axis", AXIS, None), Param("keepdims", BOOL, False))

_ROWS: list[Builtin] = []


def _row(name: str, params: tuple[Param, ...], call: Callable[..., Any], doc: str, category: str,
         aliases: tuple[str, ...] = (), **extra: Any) -> None:
    _ROWS.append(Builtin(name, params, doc, category, call, aliases,
                         param_names=frozenset(p.name for p in params), **extra))


CONSTRUCTOR = "constructors"
_row("ones", (Param("d", SIZES),), _ones, "an array of ones of the given shape", CONSTRUCTOR,
     constructor=True)
_row("zeros", (Param("d", SIZES),), _zeros, "an array of zeros of the given shape",
     CONSTRUCTOR, constructor=True)
_row("full", (Param("shape", SHAPE), Param("value")), _full,
     "an array of the given shape filled with value", CONSTRUCTOR, constructor=True)
_row("eye", (Param("n", INT),), _eye, "the n-by-n identity matrix", CONSTRUCTOR,
     constructor=True)
_row("arange", (Param("start", NUMBER), Param("stop", NUMBER, None), Param("step", NUMBER, None)),
     _arange, "evenly spaced values in [start, stop) with the given step", CONSTRUCTOR,
     constructor=True, usage="arange([start, ]stop[, step])")
_row("linspace", (Param("start", NUMBER), Param("stop", NUMBER), Param("num", INT, 50.0)),
     _linspace, "num evenly spaced values from start to stop inclusive", CONSTRUCTOR,
     constructor=True)
_row("rand", (Param("d", SIZES),), _rand, "uniform random values in [0, 1) (seeded by --seed)",
     CONSTRUCTOR, constructor=True)
_row("randn", (Param("d", SIZES),), _randn,
     "standard normal random values (seeded by --seed)", CONSTRUCTOR, constructor=True)

ELEMENTWISE = "elementwise"
for _name, _doc, _aliases, *_forms in [
    ("abs", "absolute value |x|", (), {"latex": r"\left|{x}\right|", "unicode": "|{x}|"}),
    ("sign", "-1, 0 or 1 by the sign of x (zero gradient)", ()),
    ("exp", "e to the power x", (), {"latex": r"\exp"}),
    ("expm1", "exp(x) - 1, accurate for small x", ()),
    ("log", "natural logarithm", ("ln",), {"latex": r"\log"}),
    ("log1p", "log(1 + x), accurate for small x", ()),
    ("log2", "base-2 logarithm", ()),
    ("log10", "base-10 logarithm", ()),
    ("sqrt", "square root", (), {"latex": r"\sqrt{{x}}"}),
    ("cbrt", "cube root", ()),
    ("square", "x squared", ()),
    ("reciprocal", "1 / x", ()),
    ("sin", "sine (radians)", (), {"latex": r"\sin"}),
    ("cos", "cosine (radians)", (), {"latex": r"\cos"}),
    ("tan", "tangent (radians)", (), {"latex": r"\tan"}),
    ("arcsin", "inverse sine", ("asin",), {"latex": r"\arcsin"}),
    ("arccos", "inverse cosine", ("acos",), {"latex": r"\arccos"}),
    ("arctan", "inverse tangent", ("atan",), {"latex": r"\arctan"}),
    ("sinh", "hyperbolic sine", (), {"latex": r"\sinh"}),
    ("cosh", "hyperbolic cosine", (), {"latex": r"\cosh"}),
    ("tanh", "hyperbolic tangent", (), {"latex": r"\tanh"}),
    ("arcsinh", "inverse hyperbolic sine", ("asinh",)),
    ("arccosh", "inverse hyperbolic cosine", ("acosh",)),
    ("arctanh", "inverse hyperbolic tangent", ("atanh",)),
    ("sigmoid", "the logistic function 1 / (1 + exp(-x))", (), {"latex": r"\sigma"}),
    ("relu", "max(x, 0)", ()),
    ("softplus", "log(1 + exp(x)), a smooth relu", ()),
    ("floor", "round down (zero gradient)", ()),
    ("ceil", "round up (zero gradient)", ()),
    ("round", "round half to even (zero gradient)", ()),
    ("exp2", "2 to the power x", ()),
    ("logit", "log(x / (1 - x)), the inverse of sigmoid", ()),
    ("erf", "the error function 2/sqrt(pi) * integral of exp(-t^2) from 0 to x", ()),
    ("erfc", "1 - erf(x), accurate where erf(x) is near 1", ()),
    ("deg2rad", "degrees to radians", ("radians",)),
    ("rad2deg", "radians to degrees", ("degrees",)),
]:
    _row(_name, X, getattr(ops, _name), _doc, ELEMENTWISE, _aliases,
         **(_forms[0] if _forms else {}))

_row("maximum", AB, ops.maximum, "elementwise larger of a and b (ties share the gradient)",
     ELEMENTWISE)
_row("minimum", AB, ops.minimum, "elementwise smaller of a and b (ties share the gradient)",
     ELEMENTWISE)
_row("power", AB, ops.power, "a to the power b, the same as a ^ b", ELEMENTWISE)
_row("arctan2", (Param("y"), Param("x")), ops.arctan2, "the angle of the point (x, y)",
     ELEMENTWISE, ("atan2",))
_row("hypot", AB, ops.hypot, "sqrt(a^2 + b^2) without overflow", ELEMENTWISE)
_row("logaddexp", AB, ops.logaddexp, "log(exp(a) + exp(b)) without overflow", ELEMENTWISE)
_row("logaddexp2", AB, ops.logaddexp2, "log2(2^a + 2^b) without overflow", ELEMENTWISE)
_row("mod", AB, ops.mod,
     "the remainder a % b, with the sign of b (NumPy's mod); d/db = -floor(a/b)",
     ELEMENTWISE, ("remainder",))
_row("floor_divide", AB, ops.floor_divide, "floor(a / b), the same as a // b (zero gradient)",
     ELEMENTWISE)
_row("clip", (Param("x"), Param("lo"), Param("hi")), ops.clip, "x limited to [lo, hi]",
     ELEMENTWISE)
_row("where", (Param("cond"), Param("a"), Param("b")), ops.where,
     "a where cond is nonzero, else b (no gradient to cond)", ELEMENTWISE)

REDUCTION = "reductions"


def _axis_first(name: str, hint: str) -> Callable[..., Any]:
    """The reduction ``name`` with NumPy's meaning (its second argument is an axis), and,
    where that argument cannot be an axis (``max(1, 2)``, ``norm(v, 1)`` of a vector),
    an error pointing at it that adds ``hint`` (what the user more likely meant), never a
    bare "axis out of range"."""
    reduce = getattr(ops, name)

    def call(x: Variable, axis: Any, keepdims: bool, *rest: Any) -> Variable:
        if axis is not None:
            try:
                axis = convert(AXIS, axis, "axis")
                normalize_axes(axis, x.data.ndim)
            except ValueError as exc:  # (ArgumentError is one)
                raise ArgumentError(f"{exc}: {hint}", 1) from None
        return reduce(x, axis, keepdims, *rest)

    return call


for _name, _doc in [
    ("sum", "sum of the elements (along axis)"),
    ("mean", "mean of the elements (along axis)"),
    ("prod", "product of the elements (along axis)"),
]:
    _row(_name, REDUCE, getattr(ops, _name), _doc, REDUCTION)
for _name, _doc in [
    ("var", "variance: mean square deviation over n - ddof (along axis)"),
    ("std", "standard deviation: sqrt(var) with the same ddof (along axis)"),
]:
    _row(_name, (*REDUCE, Param("ddof", NUMBER, 0.0)), getattr(ops, _name), _doc, REDUCTION)
_row("logsumexp", (*REDUCE, Param("b", ARRAY, None)), ops.logsumexp,
     "log(sum(exp(x))) computed stably (along axis); with b, log(sum(b * exp(x)))",
     REDUCTION)
_row("norm", (Param("x"), Param("axis", ARRAY, None), Param("keepdims", BOOL, False),
             Param("ord", NUMBER, None)),
     _axis_first("norm", "the second argument of norm is an axis; for NumPy's "
                 "norm(x, ord), write norm(x, ord=...)"),
     "Euclidean norm (along axis); ord=p: NumPy's vector or matrix p-norm (1, 2, inf...)",
     REDUCTION)
for _name, _pair, _word in [("max", "maximum", "largest"), ("min", "minimum", "smallest")]:
    _row(_name, (Param("x"), Param("axis", ARRAY, None), Param("keepdims", BOOL, False)),
         _axis_first(_name, f"{_name}(x, axis) is the {_word} element along an axis; for "
                     f"the {_word} of two values, elementwise, write {_pair}(a, b)"),
         f"{_word} element (along axis); ties share the gradient; of two values: {_pair}",
         REDUCTION, latex=rf"\{_name}")
_row("softmax", (Param("x"), Param("axis", AXIS, -1.0)), ops.softmax,
     "exp(x) / sum(exp(x)) along axis, computed stably", REDUCTION)
_row("log_softmax", (Param("x"), Param("axis", AXIS, -1.0)), ops.log_softmax,
     "log(softmax(x)) along axis, computed stably", REDUCTION)

LINALG = "linear algebra"
_row("matmul", AB, ops.matmul, "matrix product, the same as a @ b (NumPy's 1-d and batch rules)",
     LINALG)
_row("dot", AB, ops.dot, "dot product of vectors, or matrix product", LINALG)
_row("outer", AB, ops.outer, "outer product of two vectors", LINALG)
_row("transpose", (Param("x"), Param("axes", AXES)), lambda x, axes: ops.transpose(x, *axes),
     "reverse the axes, or permute them as given", LINALG, usage="transpose(x[, axes])")
_row("trace", (Param("x"), Param("offset", INT, 0.0)), ops.trace,
     "sum of the diagonal of a matrix (or of the diagonal offset above it, below if < 0)",
     LINALG, latex=r"\operatorname{tr}")
_row("det", X, ops.det, "determinant of a square matrix", LINALG, latex=r"\det")
_row("inv", X, ops.inv, "inverse of a square matrix", LINALG, latex="{x}^{-1}",
     unicode="{x}⁻¹")
_row("solve", AB, ops.solve, "x such that a @ x = b", LINALG)

def _einsum(values: tuple) -> Variable:
    """einsum(a, [0, 1], b, [1, 2], [0, 2]): NumPy's sublist form (the language has no
    strings for "ij,jk->ik"); the lists of axis labels stay lists."""
    if len(values) < 2:
        raise ArgumentError("takes operands each followed by a list of its axis labels, "
                            "as in einsum(a, [0, 1], b, [1, 2], [0, 2])")
    items: list = []
    for k, v in enumerate(values):
        if k % 2 == 1 or k == len(values) - 1 and len(values) % 2:  # a list of labels
            data = materialize(v).data
            if data.ndim > 1:
                raise ArgumentError("a list of axis labels must be flat, as [0, 1]", k)
            items.append([float(d) for d in data.reshape(-1)])
        else:
            items.append(materialize(v))
    return ops.einsum(*items)


def _tensordot(a: Variable, b: Variable, axes: Variable) -> Variable:
    data = materialize(axes).data
    if data.ndim == 0:
        return ops.tensordot(a, b, float(data))
    if data.ndim == 1 and data.size == 2:
        return ops.tensordot(a, b, ([data[0]], [data[1]]))
    if data.ndim == 2 and data.shape[0] == 2:
        return ops.tensordot(a, b, (list(data[0]), list(data[1])))
    raise ArgumentError("axes is a number n, or two lists of axes, as [[1, 2], [0, 1]]", 2)


_row("einsum", (Param("operands", VALUES),), _einsum,
     "sums of products over named axes: each operand is followed by its axis labels, then "
     "the output's (NumPy's sublist form)", LINALG,
     usage="einsum(a, [0, 1], b, [1, 2][, [0, 2]])")
_row("tensordot", (Param("a"), Param("b"), Param("axes", ARRAY, 2.0)), _tensordot,
     "sum of products over the last n axes of a and the first n of b (or the axes named)",
     LINALG)
_row("inner", AB, ops.inner, "sum of products over the last axes of a and b", LINALG)
_row("kron", AB, ops.kron, "the Kronecker product: b scaled by each element of a", LINALG)
_row("cross", AB, ops.cross, "the cross product of 3-vectors (along the last axis)", LINALG)
_row("diag", (Param("x"), Param("k", INT, 0.0)), ops.diag,
     "of a vector: the matrix with it on diagonal k; of a matrix: its diagonal k", LINALG)
_row("diagonal", (Param("x"), Param("offset", INT, 0.0), Param("axis1", INT, 0.0),
                  Param("axis2", INT, 1.0)), ops.diagonal,
     "the diagonal of axes axis1 and axis2, as the last axis", LINALG)
_row("tril", (Param("x"), Param("k", INT, 0.0)), ops.tril,
     "the lower triangle (on and below diagonal k); the rest zero", LINALG)
_row("triu", (Param("x"), Param("k", INT, 0.0)), ops.triu,
     "the upper triangle (on and above diagonal k); the rest zero", LINALG)

_row("cholesky", X, ops.cholesky,
     "L, lower triangular, with L @ L' = x (x symmetric positive definite)", LINALG)
_row("slogdet", X, ops.slogdet,
     "[sign, log|det|] of a square matrix, stacked: slogdet(x)[1] is log|det x|", LINALG)
_row("pinv", X, ops.pinv, "the Moore-Penrose pseudo-inverse", LINALG)
_row("eigvalsh", X, ops.eigvalsh, "eigenvalues of a symmetric matrix, ascending", LINALG)
_row("svdvals", X, ops.svdvals, "singular values of a matrix, descending", LINALG)

SHAPE_OPS = "shape"
_row("reshape", (Param("x"), Param("d", SIZES)), lambda x, shape: ops.reshape(x, shape),
     "the same elements in a new shape (one size may be -1)", SHAPE_OPS)
_row("flatten", X, ops.flatten, "the elements as a 1-d array", SHAPE_OPS, ("ravel",))
_row("squeeze", (Param("x"), Param("axis", AXIS, None)),
     lambda x, axis: ops.squeeze(x, tuple(axis) if isinstance(axis, list) else axis),
     "drop axes of size one (all, or the ones named)", SHAPE_OPS)
_row("expand_dims", (Param("x"), Param("axis", AXIS)),
     lambda x, axis: ops.expand_dims(x, tuple(axis) if isinstance(axis, list) else axis),
     "insert an axis of size one at axis", SHAPE_OPS)
_row("concatenate", (Param("arrays", ARRAYS), Param("axis", INT, 0.0)), ops.concatenate,
     "join arrays along an existing axis", SHAPE_OPS)
_row("stack", (Param("arrays", ARRAYS), Param("axis", INT, 0.0)), ops.stack,
     "join arrays of equal shape along a new axis", SHAPE_OPS)
_row("swapaxes", (Param("x"), Param("axis1", INT), Param("axis2", INT)), ops.swapaxes,
     "the array with two axes exchanged", SHAPE_OPS)
_row("moveaxis", (Param("x"), Param("source", AXIS), Param("destination", AXIS)),
     ops.moveaxis, "the array with axes moved to new places (the rest keep their order)",
     SHAPE_OPS)
_row("repeat", (Param("x"), Param("repeats"), Param("axis", INT, None)), ops.repeat,
     "each element repeated (repeats: a number, or one per element along axis); without "
     "axis, of the flattened array", SHAPE_OPS)
_row("tile", (Param("x"), Param("reps", SHAPE)), ops.tile,
     "the array repeated reps times along each axis", SHAPE_OPS)
_row("flip", (Param("x"), Param("axis", AXIS, None)), ops.flip,
     "the elements in reverse order along axis (every axis without it)", SHAPE_OPS)
_row("roll", (Param("x"), Param("shift", AXIS), Param("axis", AXIS, None)), ops.roll,
     "elements shifted along axis, coming round at the end (flattened without axis)",
     SHAPE_OPS)
_row("pad", (Param("x"), Param("pad_width"), Param("value", NUMBER, 0.0)), ops.pad,
     "value added around the array: pad_width n, [before, after], or one pair per axis",
     SHAPE_OPS)
_row("hstack", (Param("arrays", ARRAYS),), ops.hstack,
     "join arrays along their second axis (vectors end to end)", SHAPE_OPS)
_row("vstack", (Param("arrays", ARRAYS),), ops.vstack,
     "join arrays along their first axis (vectors as rows)", SHAPE_OPS)
_row("column_stack", (Param("arrays", ARRAYS),), ops.column_stack,
     "join vectors as the columns of a matrix", SHAPE_OPS)
_row("split", (Param("x"), Param("sections", INT), Param("axis", INT, 0.0)), ops.split,
     "equal pieces along axis, stacked on a new first axis: split(x, 2)[0] is the first",
     SHAPE_OPS)
_row("hsplit", (Param("x"), Param("sections", INT)), ops.hsplit,
     "split along the second axis (the first, for a vector)", SHAPE_OPS)
_row("vsplit", (Param("x"), Param("sections", INT)), ops.vsplit,
     "split along the first axis", SHAPE_OPS)
_row("broadcast_to", (Param("x"), Param("shape", SHAPE)),
     lambda x, shape: ops.broadcast_to(x, shape), "x repeated to the given shape", SHAPE_OPS)

CUMULATIVE = "running totals and order"
_row("cumsum", (Param("x"), Param("axis", INT, None)), ops.cumsum,
     "running sums along axis (of the flattened array without axis)", CUMULATIVE)
_row("cumprod", (Param("x"), Param("axis", INT, None)), ops.cumprod,
     "running products along axis (of the flattened array without axis)", CUMULATIVE)
_row("sort", (Param("x"), Param("axis", INT, -1.0)), ops.sort,
     "the elements in ascending order along axis; the gradient follows the permutation",
     CUMULATIVE)
_row("differences", (Param("x"), Param("n", INT, 1.0), Param("axis", INT, -1.0)),
     ops.differences,
     "x[i+1] - x[i] along axis, n times over (NumPy's np.diff; diff is the command)",
     CUMULATIVE)

GRAPH = "graph"
_row("detach", X, ops.detach, "the same value, cut from the graph (no gradient flows)", GRAPH)


# -- derivatives as values (differentiable, so they nest: grad(grad(y, x), x)) ------------


def _scalar_output(y: Variable, what: str) -> None:
    if y.data.size != 1:
        raise ArgumentError(f"y must be a scalar; this y has shape {y.shape}", 0)


def _grad_value(y: Variable, x: Variable) -> Variable:
    _scalar_output(y, "grad")
    if not (y.requires_grad and x.requires_grad):  # y does not depend on x: zeros
        return Variable(np.zeros(x.shape, dtype=x.dtype))
    return autograd_grad(y, x, retain_graph=True, create_graph=True)[0]


def _jacobian_value(y: Variable, x: Variable) -> Variable:
    check_shape("jacobian", (*y.shape, *x.shape))
    if not (y.requires_grad and x.requires_grad):
        return Variable(np.zeros((*y.shape, *x.shape), dtype=x.dtype))
    return autograd_jacobian(y, x, create_graph=True)


def _hessian_value(y: Variable, x: Variable) -> Variable:
    _scalar_output(y, "hessian")
    check_shape("hessian", (*x.shape, *x.shape))
    if not (y.requires_grad and x.requires_grad):
        return Variable(np.zeros((*x.shape, *x.shape), dtype=x.dtype))
    return autograd_hessian(y, x, create_graph=True)


CALCULUS = "derivatives"
_row("grad", (Param("y"), Param("x")), _grad_value,
     "dy/dx for a scalar y, as a value you can differentiate again", CALCULUS)
_row("jacobian", (Param("y"), Param("x")), _jacobian_value,
     "every dy_i/dx_j, shape y.shape + x.shape (for small arrays)", CALCULUS)
_row("hessian", (Param("y"), Param("x")), _hessian_value,
     "second derivatives of a scalar y, shape x.shape + x.shape", CALCULUS)

BUILTINS: dict[str, Builtin] = {row.name: row for row in _ROWS}
_BY_ANY_NAME: dict[str, Builtin] = {}
for _b in _ROWS:
    _BY_ANY_NAME[_b.name] = _b
    for _alias in _b.aliases:
        _BY_ANY_NAME[_alias] = _b

CATEGORIES: tuple[str, ...] = (
    CONSTRUCTOR, ELEMENTWISE, REDUCTION, LINALG, SHAPE_OPS, CUMULATIVE, GRAPH, CALCULUS,
)

CONSTANTS: dict[str, float] = {
    "pi": math.pi,
    "e": math.e,
    "inf": math.inf,
    "nan": math.nan,
    "true": 1.0,
    "false": 0.0,
}
CONSTANT_DOCS: dict[str, str] = {
    "pi": "3.14159..., the ratio of a circle's circumference to its diameter",
    "e": "2.71828..., the base of the natural logarithm",
    "inf": "positive infinity",
    "nan": "not a number",
    "true": "1 (as from a comparison)",
    "false": "0 (as from a comparison)",
}


def lookup(name: str) -> Builtin | None:
    """The built-in called ``name`` (canonical or alias), or None."""
    return _BY_ANY_NAME.get(name)


_BY_OPERATION: dict[str, str] = {b.name.replace("_", ""): b.name for b in _ROWS}


def operation_name(fn: Any) -> str | None:
    """The built-in that runs the engine Function ``fn`` (``Exp`` -> ``exp``,
    ``LogSoftmax`` -> ``log_softmax``): each Function is named after its built-in."""
    return _BY_OPERATION.get(fn.name.lower())


def callable_names() -> list[str]:
    """Every name that can be called: canonical names and aliases, sorted."""
    return sorted(_BY_ANY_NAME)


def all_names() -> list[str]:
    """Built-ins, aliases and constants: what completion offers besides the user's names."""
    return sorted({*_BY_ANY_NAME, *CONSTANTS})
