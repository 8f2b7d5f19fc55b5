"""Elementwise operations: arithmetic, powers, transcendental functions, comparisons.

Each Function's forward and backward sit together. All of them are ``elementwise``: the
gradient they receive may be smaller than their output and broadcast to it, and they
sum back to each input's shape with ``sum_to``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradcli.autograd.function import GRAD_MODE, Function
from gradcli.autograd.ops.broadcasting import sum_to
from gradcli.autograd.ops.masks import MASKS, carry_mask, mark_mask
from gradcli.autograd.variable import Variable

# -- the functions users call: ``exp(x)`` is ``Exp()(x)`` -------------------------------


def _function(cls: type[Function], name: str | None = None) -> Any:
    """The function users call for ``cls``: ``exp(x)`` is ``Exp()(x)``; its name is the
    Function's, lower case (as builtins.operation_name reads it back), unless given."""
    name = name or cls.__name__.lower()

    def call(*args: Any) -> Variable:
        return cls()(*args)

    if issubclass(cls, _Unary):
        ufunc = cls.ufunc

        def call(*args: Any) -> Variable:  # noqa: F811 (the one-argument kind)
            if len(args) == 1 and type(args[0]) is np.ndarray:
                # an array, as backward rules pass (cos in sin's): nothing to record, so
                # the function itself, without a Function's bookkeeping
                out = ufunc(args[0])
                return out if type(out) is np.ndarray else np.asarray(out)
            return cls()(*args)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = cls.__doc__
    return call


def _masked(cls: type[Function], name: str | None = None) -> Any:
    """Like :func:`_function`, for an operation whose result is a mask when all its
    inputs are (``multiply``: and; ``minimum``: and; ``maximum``: or), as with NumPy's
    booleans. The check costs nothing while no mask is alive."""
    name = name or cls.__name__.lower()

    def call(a: Any, b: Any) -> Variable:
        out = cls()(a, b)
        return carry_mask(out, (a, b)) if MASKS else out

    call.__name__ = call.__qualname__ = name
    call.__doc__ = cls.__doc__
    return call


# -- arithmetic -----------------------------------------------------------------------


class _Binary(Function):
    """A two-argument elementwise function, declared with :func:`_binary`."""

    __slots__ = ()
    elementwise = True


def _binary(name: str, ufunc: Any, da: Any, db: Any, doc: str,
            shared: Any = None) -> type[_Binary]:
    """Declare a binary op, as :func:`_unary` declares a unary one: ``da(g, a, b)`` and
    ``db(g, a, b)`` are the gradients to a and b at the output's shape (None: ``g``
    itself), where ``g`` is first replaced by ``shared(g, a, b)`` if given: what both
    start from, computed once (``g / b`` for division). Broadcasting is handled here,
    once: each is summed back to its input's shape (HIPS autograd's ``unbroadcast_f``)."""

    # whether a rule reads the operands (Add and Sub read only shapes: no operands())
    reads = any(getattr(rule, "reads", True) for rule in (da, db, shared) if rule is not None)

    def backward(self, g):
        # the hot path of Add, Sub, Mul...: operands() and sum_to's shape test inlined
        a, b = self.inputs
        na, nb = self.needs_input_grad
        out = self.out_shape
        sa = a._data.shape
        sb = b._data.shape
        if reads and not GRAD_MODE.enabled:
            a = a._data
            b = b._data
        if shared is not None:
            g = shared(g, a, b)
        ga = gb = None
        if na:
            ga = g if da is None else da(g, a, b)
            if sa != out:
                ga = sum_to(ga, sa, out)
        if nb:
            gb = g if db is None else db(g, a, b)
            if sb != out:
                gb = sum_to(gb, sb, out)
        return ga, gb

    # forward is the ufunc itself (no Python frame between the engine and NumPy)
    return type(name, (_Binary,), {"__slots__": (), "forward": staticmethod(ufunc),
                                   "backward": backward, "__doc__": doc})


def _negated(g, a, b):
    return -g


def _zero(g, a, b):
    return np.zeros((), dtype=g.dtype)


_negated.reads = _zero.reads = False  # (only g)


def _pow_exponent(g, a, b):
    # d/db a^b = a^b log a; taken as 0 where a == 0 (the limit for b > 0).
    return g * power(a, b) * log(where(equal(a, 0.0), 1.0, a))


Add = _binary("Add", np.add, None, None, "a + b")
Sub = _binary("Sub", np.subtract, None, _negated, "a - b")
Mul = _binary("Mul", np.multiply, lambda g, a, b: g * b, lambda g, a, b: g * a, "a * b")
Div = _binary("Div", np.divide, None, lambda g, a, b: -g * a / b, "a / b",
              shared=lambda g, a, b: g / b)
Mod = _binary("Mod", np.mod, None, lambda g, a, b: -g * floor_divide(a, b),
              "a % b with NumPy's (and Python's) sign convention: the result takes the "
              "sign of b. Between its jumps, d/da = 1 and d/db = -floor(a / b).")
FloorDivide = _binary("FloorDivide", np.floor_divide, _zero, _zero,
                      "a // b: floor(a / b), NumPy's floor division; a step function, so "
                      "its gradient is zero (as floor's).")
Pow = _binary("Pow", np.power, lambda g, a, b: g * b * a ** (b - 1.0), _pow_exponent,
              "a ** b where the exponent is itself differentiable.")


class Neg(Function):
    __slots__ = ()
    elementwise = True

    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class PowConst(Function):
    """``x ** c`` for a constant number ``c`` (the common case, with a cheaper backward)."""

    __slots__ = ("exponent",)
    elementwise = True

    def __init__(self, exponent: float) -> None:
        self.exponent = exponent

    @property
    def name(self) -> str:
        return "Pow"

    @property
    def detail(self) -> str:
        return f"^{self.exponent:g}"

    def forward(self, a):
        c = self.exponent
        if c == 2.0:
            return np.square(a)
        return np.power(a, c)

    def backward(self, g):
        a = self.inputs[0]
        if not GRAD_MODE.enabled:  # operands(), inlined: the array
            a = a._data
        c = self.exponent
        if c == 0.0:  # x ** 0 is 1 everywhere, also at x = 0 (where a ** -1 is inf)
            return g * 0.0
        if c == 1.0:
            return g
        if c == 2.0:
            return (g * 2.0) * a
        return (g * c) * a ** (c - 1.0)


# -- elementwise functions of one argument ----------------------------------------------


class _Unary(Function):
    """A one-argument elementwise function; subclasses give ``ufunc`` and ``backward``."""

    __slots__ = ()
    elementwise = True
    ufunc: Any = None

    def forward(self, x):
        out = type(self).ufunc(x)
        self.saved = out
        return out

    def output(self) -> Variable:
        """The forward result (see Function.saved_output)."""
        return self.saved_output(type(self).apply, self.inputs[0])


def _zero_gradient(self, g):
    return np.zeros((), dtype=g.dtype)


def _unary(name: str, ufunc: Any, rule: Any, doc: str) -> type[_Unary]:
    """Declare a unary op: ``rule(fn, g, x)`` returns the input's gradient."""

    def backward(self, g):
        return rule(self, g, self.operands()[0])

    cls = type(name, (_Unary,), {"__slots__": (), "ufunc": staticmethod(ufunc),
                                 "backward": backward, "__doc__": doc})
    return cls


def _stable_sigmoid(x):
    # 1 / (1 + e^-x) written as e^(-log(1 + e^-x)): no overflow for large |x|.
    return np.exp(-np.logaddexp(0.0, -x))


def _softplus(x):
    return np.logaddexp(0.0, x)


def _relu(x):
    return np.maximum(x, 0.0)


def _cbrt(x):
    return np.cbrt(x)


def _reciprocal(x):
    return 1.0 / x


LN2 = math.log(2.0)
LN10 = math.log(10.0)
SQRT_PI = math.sqrt(math.pi)
TWO_OVER_SQRT_PI = 2.0 / SQRT_PI
DEGREE = math.pi / 180.0


def _exp2(x):
    return np.exp2(x)


def _logit(x):
    return np.log(x) - np.log1p(-x)  # log(x / (1 - x)), without rounding x / (1 - x)


def _deg2rad(x):
    return x * DEGREE


def _rad2deg(x):
    return x / DEGREE


# -- erf and erfc with NumPy alone (no SciPy), to ~1e-15 relative ------------------------
#
# erf(a) for a < 2.5 by its series with positive terms (no cancellation):
#     erf(a) = 2/sqrt(pi) exp(-a^2) sum_n 2^n a^(2n+1) / (1 3 5 ... (2n+1));
# erfc(a) for a >= 0.75 by its continued fraction (evaluated from the tail, with more
# terms nearer 0.75, where it converges slowest):
#     erfc(a) = exp(-a^2) / sqrt(pi) / (a + (1/2) / (a + 1 / (a + (3/2) / (a + ...))));
# the other one is 1 minus it (erfc = 1 - erf for a < 0.75, erf = 1 - erfc for a >= 2.5),
# then erf(-a) = -erf(a) and erfc(-a) = 2 - erfc(a). exp(-a^2) is exp(-h^2) exp(-(a-h)(a+h))
# with h = a to 1/16 (h^2 exact), as in W. J. Cody's erf: the rounding of a^2 would cost
# up to 7e-14 near a = 26. Checked against math.erf/erfc: within 2e-15 relative.

_ERF_TERMS = 64  # enough below 2.5 (the series converges once 2n + 1 > 2a^2)
_ERFC_BANDS = ((0.75, 320), (1.0, 240), (1.5, 100), (2.5, 40), (4.0, 24))  # (from, terms)


def _exp_minus_square(a: np.ndarray) -> np.ndarray:
    h = np.round(a * 16.0) / 16.0
    return np.exp(-h * h) * np.exp(-(a - h) * (a + h))


def _erf_series(a: np.ndarray) -> np.ndarray:
    a2 = a * a
    term = a.copy()
    total = a.copy()
    for n in range(1, _ERF_TERMS):
        term *= (2.0 / (2 * n + 1)) * a2
        total += term
    return TWO_OVER_SQRT_PI * _exp_minus_square(a) * total


def _erfc_fraction(a: np.ndarray) -> np.ndarray:
    a = np.minimum(a, 27.5)  # erfc(27.5) is 0 in float64 (and inf - inf is not)
    out = np.full_like(a, np.nan)
    starts = [lo for lo, _ in _ERFC_BANDS]
    for (lo, terms), hi in zip(_ERFC_BANDS, [*starts[1:], np.inf]):
        band = (a >= lo) & (a < hi) if hi != np.inf else a >= lo
        if not band.any():
            continue
        x = a[band]
        t = x.copy()
        for k in range(terms, 0, -1):
            t = x + (0.5 * k) / t
        out[band] = _exp_minus_square(x) / (SQRT_PI * t)
    return out


def _erf(x):
    x = np.asarray(x)
    a = np.abs(x).astype(np.float64)
    out = np.full_like(a, np.nan)
    series = a < 2.5
    out[series] = _erf_series(a[series])
    rest = a >= 2.5
    out[rest] = 1.0 - _erfc_fraction(a[rest])
    return np.copysign(out, x).astype(x.dtype if x.dtype.kind == "f" else np.float64,
                                       copy=False)


def _erfc(x):
    x = np.asarray(x)
    a = np.abs(x).astype(np.float64)
    out = np.full_like(a, np.nan)
    series = a < 0.75
    out[series] = 1.0 - _erf_series(a[series])
    rest = a >= 0.75
    out[rest] = _erfc_fraction(a[rest])
    negative = x < 0
    out[negative] = 2.0 - out[negative]
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)

Abs = _unary("Abs", np.abs, lambda f, g, x: g * sign(x), "|x|")
Sign = _unary("Sign", np.sign, lambda f, g, x: _zero_gradient(f, g), "sign of x")
Floor = _unary("Floor", np.floor, lambda f, g, x: _zero_gradient(f, g), "floor")
Ceil = _unary("Ceil", np.ceil, lambda f, g, x: _zero_gradient(f, g), "ceil")
Round = _unary("Round", np.round, lambda f, g, x: _zero_gradient(f, g), "round half to even")
Exp = _unary("Exp", np.exp, lambda f, g, x: g * f.output(), "e^x")
Expm1 = _unary("Expm1", np.expm1, lambda f, g, x: g * (f.output() + 1.0), "e^x - 1")
Log = _unary("Log", np.log, lambda f, g, x: g / x, "natural logarithm")
Log1p = _unary("Log1p", np.log1p, lambda f, g, x: g / (x + 1.0), "log(1 + x)")
Log2 = _unary("Log2", np.log2, lambda f, g, x: g / (x * LN2), "base-2 logarithm")
Log10 = _unary("Log10", np.log10, lambda f, g, x: g / (x * LN10), "base-10 logarithm")
Sqrt = _unary("Sqrt", np.sqrt, lambda f, g, x: g / (f.output() * 2.0), "square root")
Cbrt = _unary("Cbrt", _cbrt, lambda f, g, x: g / (square(f.output()) * 3.0), "cube root")
Square = _unary("Square", np.square, lambda f, g, x: (g * 2.0) * x, "x^2")
Reciprocal = _unary("Reciprocal", _reciprocal, lambda f, g, x: -g / square(x), "1/x")
Sin = _unary("Sin", np.sin, lambda f, g, x: g * cos(x), "sine")
Cos = _unary("Cos", np.cos, lambda f, g, x: -g * sin(x), "cosine")
Tan = _unary("Tan", np.tan, lambda f, g, x: g / square(cos(x)), "tangent")
Arcsin = _unary("Arcsin", np.arcsin, lambda f, g, x: g / sqrt(1.0 - square(x)), "inverse sine")
Arccos = _unary("Arccos", np.arccos, lambda f, g, x: -g / sqrt(1.0 - square(x)),
                "inverse cosine")
Arctan = _unary("Arctan", np.arctan, lambda f, g, x: g / (square(x) + 1.0), "inverse tangent")
Sinh = _unary("Sinh", np.sinh, lambda f, g, x: g * cosh(x), "hyperbolic sine")
Cosh = _unary("Cosh", np.cosh, lambda f, g, x: g * sinh(x), "hyperbolic cosine")
Tanh = _unary("Tanh", np.tanh, lambda f, g, x: g * (1.0 - square(f.output())),
              "hyperbolic tangent")
Arcsinh = _unary("Arcsinh", np.arcsinh, lambda f, g, x: g / sqrt(square(x) + 1.0),
                 "inverse hyperbolic sine")
Arccosh = _unary("Arccosh", np.arccosh, lambda f, g, x: g / sqrt(square(x) - 1.0),
                 "inverse hyperbolic cosine")
Arctanh = _unary("Arctanh", np.arctanh, lambda f, g, x: g / (1.0 - square(x)),
                 "inverse hyperbolic tangent")
Sigmoid = _unary("Sigmoid", _stable_sigmoid,
                 lambda f, g, x: g * (f.output() * (1.0 - f.output())), "1 / (1 + e^-x)")
def _relu_gradient(f, g, x):
    if type(x) is np.ndarray:  # no graph: greater's mask, without a Function call
        return g * np.greater(x, 0.0).astype(x.dtype if x.dtype.kind == "f" else "d")
    return g * greater(x, 0.0)


Relu = _unary("Relu", _relu, _relu_gradient, "max(x, 0)")
Softplus = _unary("Softplus", _softplus, lambda f, g, x: g * sigmoid(x), "log(1 + e^x)")
Exp2 = _unary("Exp2", _exp2, lambda f, g, x: g * (f.output() * LN2), "2^x")
Logit = _unary("Logit", _logit, lambda f, g, x: g / (x * (1.0 - x)),
               "log(x / (1 - x)), the inverse of sigmoid")
Erf = _unary("Erf", _erf, lambda f, g, x: g * (exp(-square(x)) * TWO_OVER_SQRT_PI),
             "the error function")
Erfc = _unary("Erfc", _erfc, lambda f, g, x: g * (exp(-square(x)) * -TWO_OVER_SQRT_PI),
              "1 - erf(x), accurate where erf(x) is near 1")
Deg2rad = _unary("Deg2rad", _deg2rad, lambda f, g, x: g * DEGREE, "degrees to radians")
Rad2deg = _unary("Rad2deg", _rad2deg, lambda f, g, x: g * (1.0 / DEGREE), "radians to degrees")


# -- elementwise functions of two or three arguments -------------------------------------


def _split(name: str, ufunc: Any, share: Any, doc: str) -> type[_Binary]:
    """A binary op that splits its gradient: ``share(a, b)`` of it to a, the rest to b."""
    return _binary(name, ufunc, lambda s, a, b: s[0] * s[1], lambda s, a, b: s[0] * (1.0 - s[1]),
                   doc, shared=lambda g, a, b: (g, share(a, b)))


def _ties_halved(pick: Any) -> Any:
    """maximum's (minimum's) share for a: 1 where ``pick(a, b)`` (a is the larger, the
    smaller), a half on ties."""
    return lambda a, b: pick(a, b) + equal(a, b) * 0.5


Maximum = _split("Maximum", np.maximum, _ties_halved(lambda a, b: greater(a, b)),
                 "maximum: the gradient goes to the larger input, split on ties")
Minimum = _split("Minimum", np.minimum, _ties_halved(lambda a, b: less(a, b)),
                 "minimum: the gradient goes to the smaller input, split on ties")
LogAddExp = _split("LogAddExp", np.logaddexp, lambda a, b: sigmoid(a - b),  # exp(a) / (..)
                   "log(exp(a) + exp(b)), computed without overflow; its gradient is "
                   "softmax's.")
LogAddExp2 = _split("LogAddExp2", np.logaddexp2, lambda a, b: sigmoid((a - b) * LN2),
                    "log2(2^a + 2^b), computed without overflow.")
Arctan2 = _binary("Arctan2", np.arctan2, lambda s, y, x: s * x, lambda s, y, x: -s * y,
                  "the angle of the point (x, y)",
                  shared=lambda g, y, x: g / (square(x) + square(y)))


def _hypot_shared(g, a, b):
    h = hypot(a, b)
    # At the origin, as the norm (ops.norm) does: the zero subgradient, not 0 / 0.
    return g / where(equal(h, 0.0), 1.0, h)


Hypot = _binary("Hypot", np.hypot, lambda s, a, b: s * a, lambda s, a, b: s * b,
                "sqrt(a^2 + b^2) without overflow", shared=_hypot_shared)


class Clip(Function):
    """``clip(x, lo, hi)``: x inside the bounds, else the bound it crossed."""

    __slots__ = ()
    elementwise = True

    def forward(self, x, lo, hi):
        return np.minimum(np.maximum(x, lo), hi)

    def backward(self, g):
        x, lo, hi = self.operands()
        nx, nlo, nhi = self.needs_input_grad
        out = self.out_shape
        above = greater(maximum(x, lo), hi)  # the result is hi (always, when lo > hi)
        below = less(x, lo) * (1.0 - above)
        inside = (1.0 - below) * (1.0 - above)
        return (
            sum_to(g * inside, x.shape, out) if nx else None,
            sum_to(g * below, lo.shape, out) if nlo else None,
            sum_to(g * above, hi.shape, out) if nhi else None,
        )


class Where(Function):
    """``where(cond, a, b)``: a where cond is nonzero, else b; cond carries no gradient."""

    __slots__ = ()
    elementwise = True

    def forward(self, cond, a, b):
        return np.where(cond != 0, a, b)

    def backward(self, g):
        cond, a, b = self.operands()
        _, na, nb = self.needs_input_grad
        out = self.out_shape
        chosen = not_equal(cond, 0.0)
        return (
            None,
            sum_to(g * chosen, a.shape, out) if na else None,
            sum_to(g * (1.0 - chosen), b.shape, out) if nb else None,
        )


# -- comparisons: values of 0.0 and 1.0 with no gradient ----------------------------------


class _Comparison(Function):
    """A comparison: 1.0 where it holds, else 0.0. It has no gradient, but it is kept in
    the graph, so a derivative printed as a formula can say ``(x > 0)`` and not a mask."""

    __slots__ = ()
    elementwise = True
    ufunc: Any = None
    symbol = ""

    def __call__(self, *inputs: Any) -> Variable:
        return mark_mask(Function.__call__(self, *inputs))  # x[x > 0] selects, as in NumPy

    def forward(self, a, b):
        dtype = a.dtype if a.dtype.kind == "f" else b.dtype if b.dtype.kind == "f" else "d"
        return type(self).ufunc(a, b).astype(dtype)

    def backward(self, g):
        return None, None


def _comparison(name: str, ufunc: Any, symbol: str) -> type[_Comparison]:
    return type(name, (_Comparison,), {"__slots__": (), "ufunc": staticmethod(ufunc),
                                       "symbol": symbol})


Less = _comparison("Less", np.less, "<")
LessEqual = _comparison("LessEqual", np.less_equal, "<=")
Greater = _comparison("Greater", np.greater, ">")
GreaterEqual = _comparison("GreaterEqual", np.greater_equal, ">=")
Equal = _comparison("Equal", np.equal, "==")
NotEqual = _comparison("NotEqual", np.not_equal, "!=")


less = _function(Less)
less_equal = _function(LessEqual, "less_equal")
greater = _function(Greater)
greater_equal = _function(GreaterEqual, "greater_equal")
equal = _function(Equal)
not_equal = _function(NotEqual, "not_equal")


# -- the functions users call ------------------------------------------------------------


def positive(a: Any) -> Variable:
    return a if isinstance(a, Variable) else np.asarray(a)  # arrays in, arrays out


def power(a: Any, b: Any) -> Variable:
    """``a ** b``; a constant scalar exponent takes the cheaper PowConst path."""
    tb = type(b)
    if tb is Variable:
        if not b.requires_grad and not b._data.ndim:  # (the language's x^2)
            return PowConst(float(b._data))(a)
    elif tb is float or tb is int or isinstance(b, int | float) and tb is not bool:
        return PowConst(float(b))(a)
    return Pow()(a, b)


add = _function(Add)
subtract = _function(Sub, "subtract")
multiply = _masked(Mul, "multiply")
divide = _function(Div, "divide")
mod = _function(Mod)
floor_divide = _function(FloorDivide, "floor_divide")
negative = _function(Neg, "negative")
abs = _function(Abs)
sign = _function(Sign)
floor = _function(Floor)
ceil = _function(Ceil)
round = _function(Round)
exp = _function(Exp)
expm1 = _function(Expm1)
log = _function(Log)
log1p = _function(Log1p)
log2 = _function(Log2)
log10 = _function(Log10)
sqrt = _function(Sqrt)
cbrt = _function(Cbrt)
square = _function(Square)
reciprocal = _function(Reciprocal)
sin = _function(Sin)
cos = _function(Cos)
tan = _function(Tan)
arcsin = _function(Arcsin)
arccos = _function(Arccos)
arctan = _function(Arctan)
sinh = _function(Sinh)
cosh = _function(Cosh)
tanh = _function(Tanh)
arcsinh = _function(Arcsinh)
arccosh = _function(Arccosh)
arctanh = _function(Arctanh)
sigmoid = _function(Sigmoid)
relu = _function(Relu)
softplus = _function(Softplus)
maximum = _masked(Maximum)
minimum = _masked(Minimum)
arctan2 = _function(Arctan2)
logaddexp = _function(LogAddExp)
logaddexp2 = _function(LogAddExp2)
exp2 = _function(Exp2)
logit = _function(Logit)
erf = _function(Erf)
erfc = _function(Erfc)
deg2rad = _function(Deg2rad)
rad2deg = _function(Rad2deg)
hypot = _function(Hypot)
clip = _function(Clip)
where = _function(Where)
