"""Every differentiable operation of ``gradcli.autograd.ops`` against central differences.

Inputs are float64 and chosen inside each function's domain; every binary and ternary
operation is checked with broadcasting between shapes, every reduction with each axis
variant. The second half runs the same checks on first gradients built with
``create_graph=True``, which exercises each backward rule in its Variable mode.
"""

from __future__ import annotations

import numpy as np
import pytest
from autograd_support import (
    BROADCAST_PAIRS,
    SHAPES,
    away_from_zero,
    check,
    check_second_order,
    distinct,
    gradients,
    off_integers,
    uniform,
    variables,
    well_conditioned,
)
from test_gradients_more import COVERED as MORE_COVERED

from gradcli.autograd import Variable, grad, ops

# -- elementwise functions of one argument -------------------------------------------------

# name -> (input sampler, NumPy reference)
UNARY = {
    "abs": (away_from_zero, np.abs),
    "exp": (lambda s, seed=0: uniform(s, -2, 2, seed), np.exp),
    "expm1": (lambda s, seed=0: uniform(s, -2, 2, seed), np.expm1),
    "log": (lambda s, seed=0: uniform(s, 0.2, 3, seed), np.log),
    "log1p": (lambda s, seed=0: uniform(s, -0.6, 2, seed), np.log1p),
    "log2": (lambda s, seed=0: uniform(s, 0.2, 3, seed), np.log2),
    "log10": (lambda s, seed=0: uniform(s, 0.2, 3, seed), np.log10),
    "sqrt": (lambda s, seed=0: uniform(s, 0.2, 3, seed), np.sqrt),
    "cbrt": (away_from_zero, np.cbrt),
    "square": (lambda s, seed=0: uniform(s, -2, 2, seed), np.square),
    "reciprocal": (away_from_zero, np.reciprocal),
    "sin": (lambda s, seed=0: uniform(s, -3, 3, seed), np.sin),
    "cos": (lambda s, seed=0: uniform(s, -3, 3, seed), np.cos),
    "tan": (lambda s, seed=0: uniform(s, -1.2, 1.2, seed), np.tan),
    "arcsin": (lambda s, seed=0: uniform(s, -0.9, 0.9, seed), np.arcsin),
    "arccos": (lambda s, seed=0: uniform(s, -0.9, 0.9, seed), np.arccos),
    "arctan": (lambda s, seed=0: uniform(s, -3, 3, seed), np.arctan),
    "sinh": (lambda s, seed=0: uniform(s, -2, 2, seed), np.sinh),
    "cosh": (lambda s, seed=0: uniform(s, -2, 2, seed), np.cosh),
    "tanh": (lambda s, seed=0: uniform(s, -2, 2, seed), np.tanh),
    "arcsinh": (lambda s, seed=0: uniform(s, -3, 3, seed), np.arcsinh),
    "arccosh": (lambda s, seed=0: uniform(s, 1.2, 3, seed), np.arccosh),
    "arctanh": (lambda s, seed=0: uniform(s, -0.9, 0.9, seed), np.arctanh),
    "sigmoid": (lambda s, seed=0: uniform(s, -4, 4, seed), lambda x: 1 / (1 + np.exp(-x))),
    "relu": (away_from_zero, lambda x: np.maximum(x, 0)),
    "softplus": (lambda s, seed=0: uniform(s, -4, 4, seed), lambda x: np.log1p(np.exp(x))),
    "negative": (lambda s, seed=0: uniform(s, -2, 2, seed), np.negative),
    "positive": (lambda s, seed=0: uniform(s, -2, 2, seed), np.positive),
}

ZERO_GRADIENT = {
    "sign": (away_from_zero, np.sign),
    "floor": (off_integers, np.floor),
    "ceil": (off_integers, np.ceil),
    "round": (off_integers, np.round),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name, shape):
    sample, reference = UNARY[name]
    x = sample(shape)
    op = getattr(ops, name)
    np.testing.assert_allclose(op(Variable(x)).data, reference(x), rtol=1e-12)
    check(op, x)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(ZERO_GRADIENT))
def test_zero_gradient(name, shape):
    sample, reference = ZERO_GRADIENT[name]
    x = sample(shape)
    op = getattr(ops, name)
    (v,) = variables(x)
    out = op(v)
    np.testing.assert_array_equal(out.data, reference(x))
    (g,) = gradients(ops.sum(out * 3.0), [v])
    assert g.shape == x.shape
    assert not g.any()
    check(op, x)


@pytest.mark.parametrize("name", sorted(UNARY) + sorted(ZERO_GRADIENT))
def test_unary_on_arrays_returns_arrays(name):
    sample, reference = {**UNARY, **ZERO_GRADIENT}[name]
    x = sample((2, 3))
    out = getattr(ops, name)(x)
    assert type(out) is np.ndarray
    np.testing.assert_allclose(out, reference(x), rtol=1e-12)


_M = np.array([[2.0, 0.5], [0.3, 1.0]])
ARRAY_CALLS = {
    **{name: (lambda name=name: getattr(ops, name)(_M, _M)) for name in [
        "add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "arctan2",
        "hypot", "less", "less_equal", "greater", "greater_equal", "equal", "not_equal",
        "matmul", "dot", "outer", "solve"]},
    **{name: (lambda name=name: getattr(ops, name)(_M)) for name in [
        "sum", "mean", "prod", "max", "min", "var", "std", "logsumexp", "norm", "softmax",
        "log_softmax", "det", "inv", "trace", "flatten", "transpose", "detach", "squeeze"]},
    "clip": lambda: ops.clip(_M, 0.4, 1.0),
    "where": lambda: ops.where(_M > 1.0, _M, 0.0),
    "reshape": lambda: ops.reshape(_M, 4),
    "broadcast_to": lambda: ops.broadcast_to(_M[0], (3, 2)),
    "concatenate": lambda: ops.concatenate([_M, _M]),
    "stack": lambda: ops.stack([_M, _M]),
    "expand_dims": lambda: ops.expand_dims(_M, 0),
    "getitem": lambda: ops.getitem(_M, [0, 0]),
    "numbers": lambda: ops.add(1.0, 2),
}


@pytest.mark.parametrize("name", sorted(ARRAY_CALLS))
def test_operations_on_arrays_return_arrays(name):
    assert type(ARRAY_CALLS[name]()) is np.ndarray


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_in_float32(name):
    sample, _ = UNARY[name]
    x = Variable(sample((2, 3)).astype(np.float32), requires_grad=True)
    out = getattr(ops, name)(x)
    ops.sum(out).backward()
    assert out.data.dtype == np.float32
    assert x.grad.data.dtype == np.float32


# -- arithmetic and elementwise functions of two arguments ---------------------------------

# name -> (function, sampler of the two inputs given their shapes)
def _plain(a_shape, b_shape):
    return uniform(a_shape, -2, 2, 1), uniform(b_shape, -2, 2, 2)


def _denominator(a_shape, b_shape):
    return uniform(a_shape, -2, 2, 1), away_from_zero(b_shape, 0.5, 2, 2)


def _base_exponent(a_shape, b_shape):
    return uniform(a_shape, 0.5, 2, 1), uniform(b_shape, -2, 2, 2)


def _no_ties(a_shape, b_shape):
    a, b = uniform(a_shape, -2, 2, 1), uniform(b_shape, -2, 2, 2)
    gap = np.abs(np.subtract(a, b))
    b = b + 0.05 * (np.min(gap, initial=1.0) < 0.01)  # these seeds have no near-ties
    assert np.min(np.abs(np.subtract(a, b)), initial=1.0) > 1e-3
    return a, b


def _off_origin(a_shape, b_shape):
    return away_from_zero(a_shape, 0.3, 2, 1), away_from_zero(b_shape, 0.3, 2, 2)


BINARY = {
    "add": (ops.add, _plain),
    "subtract": (ops.subtract, _plain),
    "multiply": (ops.multiply, _plain),
    "divide": (ops.divide, _denominator),
    "power": (ops.power, _base_exponent),
    "maximum": (ops.maximum, _no_ties),
    "minimum": (ops.minimum, _no_ties),
    "arctan2": (ops.arctan2, _off_origin),
    "hypot": (ops.hypot, _off_origin),
}

BINARY_REFERENCE = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
    "power": np.power, "maximum": np.maximum, "minimum": np.minimum,
    "arctan2": np.arctan2, "hypot": np.hypot,
}


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_with_broadcasting(name, shapes):
    op, sample = BINARY[name]
    a, b = sample(*shapes)
    out = op(*variables(a, b))
    np.testing.assert_allclose(out.data, BINARY_REFERENCE[name](a, b), rtol=1e-12)
    check(op, a, b)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_with_one_constant_input(name):
    op, sample = BINARY[name]
    a, b = sample((3, 1), (4,))
    (va,) = variables(a)
    (vb,) = variables(b)
    check(lambda x: op(x, b), a)  # a raw array partner
    check(lambda y: op(a, y), b)
    check(lambda x: op(x, Variable(b)), a)  # a Variable partner that needs no gradient
    check(lambda y: op(Variable(a), y), b)
    assert va.grad is None and vb.grad is None


OPERATORS = {
    "x + 2": lambda x: x + 2,
    "2 + x": lambda x: 2 + x,
    "x - 1.5": lambda x: x - 1.5,
    "1.5 - x": lambda x: 1.5 - x,
    "x * 3": lambda x: x * 3,
    "3 * x": lambda x: 3 * x,
    "x / 3": lambda x: x / 3,
    "3 / x": lambda x: 3 / x,
    "x ** 3": lambda x: x**3,
    "x ** 2": lambda x: x**2,
    "x ** 1": lambda x: x**1,
    "x ** 0.5": lambda x: x**0.5,
    "x ** -1": lambda x: x**-1,
    "x ** -2.5": lambda x: x ** -2.5,
    "x ** 0": lambda x: x**0,
    "x ** Variable(3)": lambda x: x ** Variable(3.0),
    "2 ** x": lambda x: 2.0**x,
    "array ** x": lambda x: np.array([[1.5], [0.5], [2.0]]) ** x,
    "-x": lambda x: -x,
    "+x": lambda x: +x,
    "abs(x)": abs,
}


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_operators_with_constants(name):
    check(OPERATORS[name], uniform((3, 4), 0.5, 2))


def test_power_zero_at_zero_has_zero_gradient():
    (x,) = variables(np.array([0.0, 2.0, -1.0]))
    (g,) = gradients(ops.sum(x**0), [x])
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])
    (g,) = gradients(ops.sum(x**1 + x**2 + x**3), [x])
    np.testing.assert_array_equal(g, [1.0, 17.0, 2.0])
    (g,) = grad(ops.sum(x**0), x, create_graph=True)
    np.testing.assert_array_equal(g.data, [0.0, 0.0, 0.0])


def test_power_at_zero_base_has_a_finite_exponent_gradient():
    a, b = variables(np.array([0.0, 2.0]), np.array([2.0, 3.0]))
    ga, gb = gradients(ops.sum(ops.power(a, b)), [a, b])
    np.testing.assert_allclose(ga, [0.0, 12.0])
    np.testing.assert_allclose(gb, [0.0, 8.0 * np.log(2.0)])


# -- maximum/minimum and max/min: ties split the gradient evenly ---------------------------


@pytest.mark.parametrize("op", [ops.maximum, ops.minimum])
def test_elementwise_extremum_ties_split_evenly(op):
    a, b = variables(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0]))
    ga, gb = gradients(ops.sum(op(a, b)), [a, b])
    bigger = op is ops.maximum
    np.testing.assert_allclose(ga, [0.5, 1.0 if bigger else 0.0, 0.0 if bigger else 1.0])
    np.testing.assert_allclose(ga + gb, [1.0, 1.0, 1.0])


@pytest.mark.parametrize("reduction", [ops.max, ops.min])
def test_reduction_ties_split_evenly(reduction):
    sign = 1.0 if reduction is ops.max else -1.0
    x = Variable(sign * np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 2.0]]),
                 requires_grad=True)
    (g,) = gradients(reduction(x), [x])
    np.testing.assert_allclose(g, [[0, 0, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0]])
    (g,) = gradients(ops.sum(reduction(x, axis=1)), [x])
    np.testing.assert_allclose(g, [[0, 0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3, 0]])
    (g,) = gradients(ops.sum(reduction(x, axis=0, keepdims=True)), [x])
    np.testing.assert_allclose(g, [[0, 0, 0, 0.5], [1, 1, 1, 0.5]])
    (g,) = gradients(ops.sum(reduction(x, axis=[0, 1])), [x])
    np.testing.assert_allclose(g, [[0, 0, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0]])
    # The same through a recorded backward (create_graph=True).
    (g,) = grad(reduction(x), x, create_graph=True)
    np.testing.assert_allclose(g.data, [[0, 0, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0]])


# -- functions of three arguments ----------------------------------------------------------

CLIP_SHAPES = [((3, 4), (3, 1), (4,)), ((2, 3), (), ()), ((4,), (3, 1), (1,)), ((), (), ())]


@pytest.mark.parametrize("shapes", CLIP_SHAPES, ids=str)
def test_clip(shapes):
    x_shape, lo_shape, hi_shape = shapes
    x = off_integers(x_shape, 3) * 0.8  # fractional parts keep clear of the bounds
    lo = np.full(lo_shape, -0.5) + np.zeros(lo_shape)
    hi = np.full(hi_shape, 1.0) + np.zeros(hi_shape)
    out = ops.clip(*variables(x, lo, hi))
    np.testing.assert_allclose(out.data, np.clip(x, lo, hi))
    check(ops.clip, x, lo, hi)
    check(lambda v: ops.clip(v, -0.5, 1.0), x)


def test_clip_with_lower_bound_above_upper_follows_numpy():
    # NumPy gives hi everywhere when lo > hi; the gradient must follow the value.
    x, lo, hi = variables(np.array([-1.0, 0.0, 1.0]), np.array(0.5), np.array(-0.5))
    out = ops.clip(x, lo, hi)
    np.testing.assert_allclose(out.data, np.clip(x.data, 0.5, -0.5))
    gx, glo, ghi = gradients(ops.sum(out), [x, lo, hi])
    np.testing.assert_allclose(gx, [0, 0, 0])
    assert glo == 0 and ghi == 3
    check(ops.clip, x.data, lo.data, hi.data)


WHERE_SHAPES = [((3, 1), (4,), ()), ((2, 3), (2, 3), (2, 3)), ((), (3,), (2, 1)),
                ((2, 1, 3), (1, 3), (2, 1, 1))]


@pytest.mark.parametrize("shapes", WHERE_SHAPES, ids=str)
def test_where(shapes):
    c_shape, a_shape, b_shape = shapes
    cond = (uniform(c_shape, 0, 1, 5) > 0.5).astype(float)
    a, b = uniform(a_shape, -2, 2, 1), uniform(b_shape, -2, 2, 2)
    out = ops.where(cond, *variables(a, b))
    np.testing.assert_allclose(out.data, np.where(cond != 0, a, b))
    check(lambda a, b: ops.where(cond, a, b), a, b)
    # The condition carries no gradient, even when it is a Variable that wants one.
    c, va, vb = variables(cond, a, b)
    (gc,) = gradients(ops.sum(ops.where(c, va, vb)), [c])
    assert gc.shape == cond.shape and not gc.any()


# -- comparisons: values 0/1, no gradient --------------------------------------------------

COMPARISONS = {
    "less": np.less, "less_equal": np.less_equal, "greater": np.greater,
    "greater_equal": np.greater_equal, "equal": np.equal, "not_equal": np.not_equal,
}


@pytest.mark.parametrize("shapes", [((3, 1), (4,)), ((2, 3), ()), ((5,), (5,))], ids=str)
@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparisons_carry_no_gradient(name, shapes):
    a = np.round(uniform(shapes[0], -2, 2, 1))
    b = np.round(uniform(shapes[1], -2, 2, 2))
    va, vb = variables(a, b)
    out = getattr(ops, name)(va, vb)
    np.testing.assert_array_equal(out.data, COMPARISONS[name](a, b).astype(float))
    assert out.data.dtype == np.float64
    ga, gb = gradients(ops.sum(out * 2.0), [va, vb])
    assert ga.shape == a.shape and not ga.any()
    assert gb.shape == b.shape and not gb.any()
    # A mask times a value: the gradient is the mask.
    (gx,) = gradients(ops.sum(getattr(ops, name)(va, 0.0) * va), [va])
    np.testing.assert_array_equal(gx, COMPARISONS[name](a, 0.0).astype(float))


def test_comparison_operators():
    x, y = variables(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0]))
    for got, want in [(x < y, [1, 0, 0]), (x <= y, [1, 1, 0]), (x > y, [0, 0, 1]),
                      (x >= y, [0, 1, 1]), (x == y, [0, 1, 0]), (x != y, [1, 0, 1])]:
        np.testing.assert_array_equal(got.data, want)
        assert not grad(ops.sum(got), x)[0].data.any()


# -- the elementwise lazy-gradient path: scalar gradients meeting broadcasting -------------

LAZY = {
    "add": ops.add,
    "subtract": ops.subtract,
    "multiply": ops.multiply,
    "divide": lambda a, b: ops.divide(a, b + 3.0),
    "power": lambda a, b: ops.power(a + 3.0, b),
    "maximum": ops.maximum,
    "minimum": ops.minimum,
    "arctan2": lambda a, b: ops.arctan2(a, b + 3.0),
    "hypot": ops.hypot,
    "where": lambda a, b: ops.where(ops.greater(b, 0.0), a, b),
    "clip": lambda a, b: ops.clip(a, b - 2.0, b + 0.3),
    "clip_x": lambda a, b: ops.clip(b, a - 0.1, 0.6),
    "broadcast_to": lambda a, b: ops.broadcast_to(a, (3, 4)) * b,
}


@pytest.mark.parametrize("name", sorted(LAZY))
def test_lazy_scalar_gradient_meets_broadcasting(name):
    op = LAZY[name]
    x = distinct((3, 1), 1) + 0.1  # no zeros, no ties with y, clear of clip's bounds
    y = distinct((1, 4), 2) + 0.05
    check(lambda x, y: ops.mean(op(ops.sin(x), y) * y), x, y)
    check(lambda x, y: ops.mean(op(x, y)), x, y)
    check(lambda x, y: ops.sum(op(x, ops.exp(y)), axis=0).mean(), x, y)
    check(lambda x, y: ops.mean(op(x, y), axis=1, keepdims=True), x, y)
    check(lambda x, y: -ops.mean(op(y, x)), x, y)


def test_lazy_gradient_on_a_shared_node():
    x, y = variables(distinct((3, 1), 1), distinct((1, 4), 2))

    def f(x, y):
        z = x * y
        return ops.mean(z) + ops.sum(z, axis=0).mean() + ops.max(z) + ops.sum(z[1])

    check(f, x.data, y.data)


# -- reductions: every axis variant, with and without keepdims -----------------------------

AXES_3D = [None, 0, 1, 2, -1, -2, [0, 2], [-1, 0], (0, 1, 2), [1]]

REDUCTIONS = {
    "sum": (np.sum, lambda s: uniform(s, -2, 2, 3)),
    "mean": (np.mean, lambda s: uniform(s, -2, 2, 3)),
    "prod": (np.prod, lambda s: away_from_zero(s, 0.5, 1.5, 3)),
    "max": (np.max, lambda s: distinct(s, 3)),
    "min": (np.min, lambda s: distinct(s, 3)),
    "var": (np.var, lambda s: uniform(s, -2, 2, 3)),
    "std": (np.std, lambda s: distinct(s, 3)),
    "logsumexp": (lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis,
                                                            keepdims=keepdims)),
                  lambda s: uniform(s, -2, 2, 3)),
    "norm": (lambda x, axis, keepdims: np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims)),
             lambda s: uniform(s, -2, 2, 3)),
}


def _np_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES_3D, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_axes(name, axis, keepdims):
    reference, sample = REDUCTIONS[name]
    x = sample((2, 3, 4))
    op = getattr(ops, name)
    out = op(Variable(x), axis=axis, keepdims=keepdims)
    want = reference(x, axis=_np_axis(axis), keepdims=keepdims)
    assert out.shape == np.shape(want)
    np.testing.assert_allclose(out.data, want, rtol=1e-12)
    check(lambda v: op(v, axis=axis, keepdims=keepdims), x)
    # The same reduction written as a method.
    check(lambda v: getattr(v, name)(axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("shape", [(), (5,), (2, 3)], ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_small_shapes(name, shape):
    _, sample = REDUCTIONS[name]
    x = sample(shape)
    op = getattr(ops, name)
    check(op, x)
    for axis in range(-len(shape), len(shape)):
        check(lambda v, axis=axis: op(v, axis=axis), x)
        check(lambda v, axis=axis: op(v, axis=axis, keepdims=True), x)


def test_prod_with_zeros():
    x = np.array([[0.0, 2.0, 3.0], [1.0, 0.0, 0.0], [1.5, -2.0, 0.5]])
    for axis in [None, 0, 1, -1]:
        check(lambda v, axis=axis: ops.prod(v, axis=axis), x)
        check_second_order(lambda v, axis=axis: ops.prod(v, axis=axis), x)
    v = Variable(x[0], requires_grad=True)
    (g,) = gradients(ops.prod(v), [v])
    np.testing.assert_allclose(g, [6.0, 0.0, 0.0])


def test_norm_at_zero_takes_the_zero_subgradient():
    x = Variable(np.array([[0.0, 3.0], [0.0, 4.0]]), requires_grad=True)
    (g,) = gradients(ops.sum(ops.norm(x, axis=0)), [x])
    np.testing.assert_allclose(g, [[0.0, 0.6], [0.0, 0.8]])


SOFTMAX_AXES = [-1, 0, 1, 2, -2, [0, 2], None]


@pytest.mark.parametrize("axis", SOFTMAX_AXES, ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_axes(name, axis):
    x = uniform((2, 3, 4), -3, 3, 4)
    op = getattr(ops, name)
    out = op(Variable(x), axis=axis)
    np_axis = _np_axis(axis)
    log_s = x - np.log(np.sum(np.exp(x), axis=np_axis, keepdims=True))
    np.testing.assert_allclose(out.data, log_s if name == "log_softmax" else np.exp(log_s),
                               rtol=1e-12, atol=1e-15)
    check(lambda v: op(v, axis=axis), x)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp", "sigmoid",
                                  "softplus"])
def test_stable_forms_on_large_inputs(name):
    x = Variable(np.array([[1000.0, -1000.0, 0.0], [-800.0, 800.0, 1.0]]),
                 requires_grad=True)
    out = getattr(ops, name)(x)
    assert np.all(np.isfinite(out.data))
    (g,) = gradients(ops.sum(out), [x])
    assert np.all(np.isfinite(g))
    check(getattr(ops, name), uniform((2, 3), -30, 30, 6))


def test_softmax_default_axis_is_last():
    x = uniform((2, 3), -1, 1, 9)
    np.testing.assert_allclose(np.sum(ops.softmax(Variable(x)).data, axis=-1), [1.0, 1.0])
    check(ops.softmax, x)
    check(ops.log_softmax, x)
    check(ops.softmax, uniform((4,), -1, 1, 10))


# -- linear algebra ------------------------------------------------------------------------

MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((2, 2, 3), (3, 4)),
    ((3, 4), (2, 4, 2)),
    ((2, 1, 2, 3), (5, 3, 4)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
    ((1, 2, 3), (4, 3, 2)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    a, b = uniform(shapes[0], -1, 1, 1), uniform(shapes[1], -1, 1, 2)
    out = ops.matmul(*variables(a, b))
    np.testing.assert_allclose(out.data, np.matmul(a, b), rtol=1e-12)
    check(ops.matmul, a, b)
    check(lambda x, y: x @ y, a, b)
    check(lambda x: x @ b, a)
    check(lambda y: a @ y, b)


@pytest.mark.parametrize("shapes", [((), (3,)), ((2,), ()), ((3,), (3,)), ((2, 3), (3,)),
                                    ((3,), (3, 2)), ((2, 3), (3, 4))], ids=str)
def test_dot(shapes):
    a, b = uniform(shapes[0], -1, 1, 1), uniform(shapes[1], -1, 1, 2)
    np.testing.assert_allclose(ops.dot(*variables(a, b)).data, np.dot(a, b), rtol=1e-12)
    check(ops.dot, a, b)


@pytest.mark.parametrize("shapes", [((3,), (4,)), ((2, 2), (3,)), ((), (2,))], ids=str)
def test_outer(shapes):
    a, b = uniform(shapes[0], -1, 1, 1), uniform(shapes[1], -1, 1, 2)
    np.testing.assert_allclose(ops.outer(*variables(a, b)).data, np.outer(a, b))
    check(ops.outer, a, b)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2), (1, 1)], ids=str)
def test_trace(shape):
    x = uniform(shape, -1, 1, 1)
    assert ops.trace(Variable(x)).data == pytest.approx(np.trace(x))
    check(ops.trace, x)


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (3, 3), (2, 3, 3)], ids=str)
def test_det(shape):
    x = well_conditioned(shape)
    np.testing.assert_allclose(ops.det(Variable(x)).data, np.linalg.det(x), rtol=1e-12)
    check(ops.det, x)


def test_det_of_a_singular_matrix():
    for x in [np.array([[0.0]]), np.array([[1.0, 2.0], [2.0, 4.0]]),
              np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]),
              np.array([[[1.0, 2.0], [2.0, 4.0]], [[1.0, 0.0], [0.0, 0.0]]])]:
        check(ops.det, x)
        check_second_order(ops.det, x)  # det is a polynomial: smooth at singular x too


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 3, 3)], ids=str)
def test_inv(shape):
    x = well_conditioned(shape)
    np.testing.assert_allclose(ops.inv(Variable(x)).data, np.linalg.inv(x), rtol=1e-12)
    check(ops.inv, x)


SOLVE_SHAPES = [
    ((3, 3), (3,)),
    ((3, 3), (3, 2)),
    ((2, 3, 3), (2, 3, 2)),
    ((2, 3, 3), (3, 2)),
    ((2, 3, 3), (3,)),
    ((3, 3), (2, 3, 1)),
]


@pytest.mark.parametrize("shapes", SOLVE_SHAPES, ids=str)
def test_solve(shapes):
    a, b = well_conditioned(shapes[0], 1), uniform(shapes[1], -1, 1, 2)
    out = ops.solve(*variables(a, b))
    np.testing.assert_allclose(np.matmul(a, out.data[..., None] if b.ndim == 1 else out.data),
                               np.broadcast_to(b[..., None] if b.ndim == 1 else b,
                                               out.shape + ((1,) if b.ndim == 1 else ())),
                               atol=1e-12)
    check(ops.solve, a, b)
    check(lambda m: ops.solve(m, b), a)
    check(lambda v: ops.solve(a, v), b)


# -- shapes --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4, -1), (-1,), (3, 2, 4), (24,), (1, -1, 1)], ids=str)
def test_reshape(shape):
    x = uniform((2, 3, 4), -1, 1)
    assert ops.reshape(Variable(x), *shape).shape == x.reshape(shape).shape
    check(lambda v: ops.reshape(v, *shape), x)
    check(lambda v: ops.reshape(v, list(shape)), x)
    check(lambda v: v.reshape(shape) * 2.0, x)


def test_flatten():
    check(ops.flatten, uniform((2, 3, 2), -1, 1))
    check(lambda v: v.flatten(), uniform((2, 3), -1, 1))
    check(ops.flatten, np.array(1.5))


@pytest.mark.parametrize("axis", [None, 0, -1, [0, 2], 2], ids=str)
def test_squeeze(axis):
    x = uniform((1, 3, 1), -1, 1)
    want = np.squeeze(x, axis=_np_axis(axis))
    assert ops.squeeze(Variable(x), axis).shape == want.shape
    check(lambda v: ops.squeeze(v, axis), x)
    check(lambda v: v.squeeze(axis), x)


@pytest.mark.parametrize("axis", [0, 1, -1, [0, 2]], ids=str)
def test_expand_dims(axis):
    x = uniform((2, 3), -1, 1)
    assert ops.expand_dims(Variable(x), axis).shape == np.expand_dims(x, _np_axis(axis)).shape
    check(lambda v: ops.expand_dims(v, axis), x)


@pytest.mark.parametrize("axes", [None, (1, 0, 2), (2, 0, 1), [-1, 0, 1], (0, -1, -2)],
                         ids=str)
def test_transpose(axes):
    x = uniform((2, 3, 4), -1, 1)
    want = np.transpose(x, axes)
    got = ops.transpose(Variable(x)) if axes is None else ops.transpose(Variable(x), axes)
    np.testing.assert_array_equal(got.data, want)
    if axes is None:
        check(ops.transpose, x)
        check(lambda v: v.T, x)
    else:
        check(lambda v: ops.transpose(v, axes), x)
        check(lambda v: v.transpose(*axes), x)


@pytest.mark.parametrize("shapes", [((3, 1), (2, 3, 4)), ((), (2, 3)), ((4,), (3, 4)),
                                    ((1, 1), (2, 2)), ((2, 3), (2, 3))], ids=str)
def test_broadcast_to(shapes):
    x = uniform(shapes[0], -1, 1)
    assert ops.broadcast_to(Variable(x), shapes[1]).shape == shapes[1]
    check(lambda v: ops.broadcast_to(v, shapes[1]), x)
    check(lambda v: ops.broadcast_to(v, *shapes[1]) * 1.5, x)


@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_concatenate(axis):
    shapes = {0: [(2, 3), (1, 3), (3, 3)], 1: [(2, 1), (2, 3), (2, 2)]}[axis % 2]
    arrays = [uniform(s, -1, 1, k) for k, s in enumerate(shapes)]
    out = ops.concatenate(variables(*arrays), axis=axis)
    np.testing.assert_array_equal(out.data, np.concatenate(arrays, axis=axis))
    check(lambda *vs: ops.concatenate(list(vs), axis=axis), *arrays)
    # Only some parts want a gradient.
    check(lambda v: ops.concatenate([arrays[0], v, Variable(arrays[2])], axis=axis),
          arrays[1])


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack(axis):
    arrays = [uniform((2, 3), -1, 1, k) for k in range(3)]
    out = ops.stack(variables(*arrays), axis=axis)
    np.testing.assert_array_equal(out.data, np.stack(arrays, axis=axis))
    check(lambda *vs: ops.stack(list(vs), axis=axis), *arrays)
    check(lambda v: ops.stack([arrays[0], v], axis=axis), arrays[1])


def test_concatenate_and_stack_of_vectors():
    a, b = uniform((3,), -1, 1, 1), uniform((2,), -1, 1, 2)
    check(lambda x, y: ops.concatenate([x, y, x]), a, b)
    check(lambda x, y: ops.stack([x, y * 2.0]), a, uniform((3,), -1, 1, 2))
    check(lambda x, y: ops.stack([x, y]), np.array(1.0), np.array(2.0))


# -- indexing ------------------------------------------------------------------------------

INDICES = {
    "int": 1,
    "negative int": -1,
    "slice": slice(1, 3),
    "slice with step": slice(None, None, 2),
    "reversed": slice(None, None, -1),
    "negative step": slice(3, 0, -2),
    "row tail": (0, slice(1, None)),
    "column": (slice(None), 1),
    "element": (2, -1),
    "None": None,
    "None inside": (slice(None), None, 0),
    "ellipsis": (Ellipsis, 0),
    "list": [0, 2],
    "repeated list": [0, 0, 2, 0],
    "list and int": ([1, -1, 1], 0),
    "two lists": ([0, 1, 1], [2, 2, 2]),
    "list and slice": ([3, 3], slice(None, 2)),
    "nested list": [[0, 1], [1, 1]],
}


@pytest.mark.parametrize("name", sorted(INDICES))
def test_getitem(name):
    index = INDICES[name]
    x = uniform((4, 3), -1, 1)
    np.testing.assert_array_equal(Variable(x)[index].data, x[index])
    check(lambda v: v[index], x)
    check(lambda v: ops.getitem(v, index) * 2.0, x)


@pytest.mark.parametrize("index", [(0, slice(None), 1), (slice(None), [0, 0, 1], -1),
                                   (Ellipsis, [1, 1]), (1, None, slice(None, None, -1)),
                                   ([1, 0, 1], slice(1, 2), [2, 0, 2])], ids=str)
def test_getitem_3d(index):
    x = uniform((2, 3, 3), -1, 1)
    np.testing.assert_array_equal(Variable(x)[index].data, x[index])
    check(lambda v: v[index], x)


MASKS = {
    "rows": lambda x: np.array([True, False, True, True]),
    "elements": lambda x: x > 0,
    "none": lambda x: x > 10,
    "with ellipsis": lambda x: (Ellipsis, np.array([False, True, True])),
    "after an int": lambda x: (2, x[2] < 0.5),
}


@pytest.mark.parametrize("name", sorted(MASKS))
def test_boolean_masks_select_as_in_numpy(name):
    x = uniform((4, 3), -1, 1)
    index = MASKS[name](x)
    np.testing.assert_array_equal(Variable(x)[index].data, x[index])
    check(lambda v: v[index] * 3.0, x)


def test_a_comparison_is_a_mask_and_a_wrong_shaped_mask_is_refused():
    x = Variable(np.array([[1.0, -2.0], [3.0, -4.0]]), requires_grad=True)
    picked = x[x > 0]  # the comparison's result (0.0/1.0 values) selects, as in NumPy
    np.testing.assert_array_equal(picked.data, [1.0, 3.0])
    (g,) = gradients(ops.sum(picked * picked), [x])
    np.testing.assert_array_equal(g, [[2.0, 0.0], [6.0, 0.0]])
    both = (x > 0) * (x < 2)  # as NumPy's booleans: mask * mask, minimum, maximum are masks
    np.testing.assert_array_equal(x[both].data, [1.0])
    np.testing.assert_array_equal(x[ops.maximum(x < -3, x > 2)].data, [3.0, -4.0])
    np.testing.assert_array_equal(x[ops.detach(x > 2)].data, [3.0])
    ones_and_zeros = (x > 0) * 1.0  # other arithmetic gives numbers: integer positions
    np.testing.assert_array_equal(x[ones_and_zeros[0]].data, [[3.0, -4.0], [1.0, -2.0]])
    with pytest.raises(IndexError, match=r"mask of shape \(3,\) does not fit"):
        x[np.array([True, False, True])]


def test_repeated_indices_accumulate():
    x = Variable(np.arange(4.0), requires_grad=True)
    (g,) = gradients(ops.sum(x[[0, 0, 2, 0, 3]]), [x])
    np.testing.assert_array_equal(g, [3.0, 0.0, 1.0, 1.0])
    m = Variable(np.zeros((2, 2)), requires_grad=True)
    (g,) = gradients(ops.sum(m[[0, 0, 1], [1, 1, 0]] * np.array([1.0, 2.0, 4.0])), [m])
    np.testing.assert_array_equal(g, [[0.0, 3.0], [4.0, 0.0]])


def test_index_with_variables_and_whole_floats():
    x = uniform((4,), -1, 1)
    check(lambda v: v[Variable(np.array([1.0, 1.0, 3.0]))], x)
    check(lambda v: v[Variable(2.0)], x)
    check(lambda v: v[2.0], x)


def test_detach_cuts_the_graph():
    (x,) = variables(uniform((3,), 0.5, 1))
    (g,) = gradients(ops.sum(ops.detach(x) * x), [x])
    np.testing.assert_allclose(g, x.data)
    (g,) = gradients(ops.sum(x.detach() * x * x), [x])
    np.testing.assert_allclose(g, 2 * x.data * x.data)


# -- second order: the backward rules in Variable mode -------------------------------------

SECOND_ORDER_UNARY = sorted(UNARY)


@pytest.mark.parametrize("name", SECOND_ORDER_UNARY)
def test_second_order_unary(name):
    sample, _ = UNARY[name]
    check_second_order(getattr(ops, name), sample((2, 3)))


@pytest.mark.parametrize("name", sorted(ZERO_GRADIENT))
def test_second_order_zero_gradient(name):
    sample, _ = ZERO_GRADIENT[name]
    x = sample((2, 3))
    (v,) = variables(x)
    (g,) = grad(ops.sum(getattr(ops, name)(v) * v), v, create_graph=True)
    np.testing.assert_allclose(g.data, ZERO_GRADIENT[name][1](x))


@pytest.mark.parametrize("shapes", [((3, 1), (4,)), ((2, 3), ()), ((2, 3), (2, 3))], ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_second_order_binary(name, shapes):
    op, sample = BINARY[name]
    check_second_order(op, *sample(*shapes))


@pytest.mark.parametrize("name", sorted(LAZY))
def test_second_order_lazy_paths(name):
    op = LAZY[name]
    x = distinct((3, 1), 1) + 0.1  # no zeros, no ties with y, clear of clip's bounds
    y = distinct((1, 4), 2) + 0.05
    check_second_order(lambda x, y: ops.mean(op(ops.sin(x), y) * y), x, y)


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_second_order_operators(name):
    check_second_order(OPERATORS[name], uniform((3, 4), 0.5, 2))


@pytest.mark.parametrize("axis", [None, 1, -1, [0, 2]], ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_second_order_reductions(name, axis):
    reference, sample = REDUCTIONS[name]
    x = sample((2, 3, 2))
    op = getattr(ops, name)
    check_second_order(lambda v: op(v, axis=axis), x)
    check_second_order(lambda v: op(v, axis=axis, keepdims=True), x)


@pytest.mark.parametrize("axis", [-1, 0, [0, 1]], ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_second_order_softmax(name, axis):
    check_second_order(lambda v: getattr(ops, name)(v, axis=axis), uniform((2, 3), -2, 2))


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)),
                                    ((2, 2, 3), (3, 2)), ((2, 1, 2, 3), (2, 3, 2))], ids=str)
def test_second_order_matmul(shapes):
    a, b = uniform(shapes[0], -1, 1, 1), uniform(shapes[1], -1, 1, 2)
    check_second_order(ops.matmul, a, b)
    check_second_order(lambda x, y: ops.sum(ops.square(x @ y)), a, b)


@pytest.mark.parametrize("name", ["det", "inv", "trace"])
def test_second_order_matrix_functions(name):
    x = well_conditioned((3, 3))
    check_second_order(getattr(ops, name), x)
    check_second_order(lambda v: getattr(ops, name)(v * v), x)


@pytest.mark.parametrize("shapes", [((3, 3), (3,)), ((2, 3, 3), (3, 2))], ids=str)
def test_second_order_solve(shapes):
    a, b = well_conditioned(shapes[0], 1), uniform(shapes[1], -1, 1, 2)
    check_second_order(ops.solve, a, b)


def test_second_order_outer_and_dot():
    a, b = uniform((3,), -1, 1, 1), uniform((2,), -1, 1, 2)
    check_second_order(ops.outer, a, b)
    check_second_order(lambda x, y: ops.dot(x, ops.outer(x, y)), a, b)


@pytest.mark.parametrize("name", ["int", "slice with step", "row tail", "column",
                                  "repeated list", "two lists", "None inside"])
def test_second_order_indexing(name):
    index = INDICES[name]
    x = uniform((4, 3), -1, 1)
    check_second_order(lambda v: v[index], x)
    check_second_order(lambda v: ops.square(v[index]) * v[index], x)


def test_second_order_shapes():
    x = uniform((2, 3), -1, 1)
    check_second_order(lambda v: ops.square(ops.reshape(v, 3, -1)), x)
    check_second_order(lambda v: ops.square(ops.transpose(v)) * v.T, x)
    check_second_order(lambda v: ops.square(ops.broadcast_to(v, (4, 2, 3))), x)
    check_second_order(lambda v: ops.square(ops.expand_dims(v, 1)).squeeze(1), x)
    check_second_order(lambda v: ops.concatenate([v, ops.square(v)], axis=-1), x)
    check_second_order(lambda v: ops.stack([v, ops.square(v)], axis=1) * 2.0, x)
    check_second_order(lambda v: ops.flatten(ops.square(v)), x)


def test_third_order_prod_and_max():
    x = np.array([0.5, -1.5, 2.0])

    def second(v):
        (g,) = grad(ops.prod(v) * ops.max(v), v, create_graph=True)
        (h,) = grad(ops.sum(g * np.array([1.0, 2.0, 3.0])), v, create_graph=True)
        return h

    check(second, x)


# -- coverage: every operation of the catalogue is checked above ---------------------------

OTHERS = {
    "clip", "where", "matmul", "dot", "outer", "trace", "det", "inv", "solve", "reshape",
    "flatten", "squeeze", "expand_dims", "transpose", "broadcast_to", "concatenate", "stack",
    "getitem", "detach", "softmax", "log_softmax",
}


def test_every_operation_has_gradient_tests():
    covered = (set(UNARY) | set(ZERO_GRADIENT) | set(BINARY) | set(COMPARISONS)
               | set(REDUCTIONS) | OTHERS | MORE_COVERED)
    assert set(ops.__all__) - covered == set()
