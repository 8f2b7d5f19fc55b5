"""The operations added with issue 14 against central differences, as test_gradients.py
checks the first ones: float64 inputs inside each function's domain (away from the
jumps of the piecewise ones), several shapes, broadcasting for the binary ones, every
axis variant for the ones that take an axis, and the first gradients built with
``create_graph=True`` differentiated again.

``COVERED`` names the operations checked here; test_gradients.py's coverage test adds it
to its own list, so an operation of the catalogue that neither file checks fails there.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from autograd_support import (
    BROADCAST_PAIRS,
    SHAPES,
    check,
    check_second_order,
    rng,
    variables,
)

from gradcli.autograd import OperationError, Variable, ops

COVERED: set[str] = set()


def covers(*names: str):
    """Mark a test as checking ``names`` (each must be an operation of the catalogue)."""
    for name in names:
        assert name in ops.__all__, name
    COVERED.update(names)
    return lambda test: test


# -- mod and floor_divide: piecewise, checked away from their jumps ------------------------


def _dividend_divisor(a_shape, b_shape, seed=0):
    """Divisors in ±{0.5, 1, 2} and dividends whose quotient by each is >= 0.05 away from
    every integer (so a central difference never straddles a jump)."""
    r = rng(seed)
    a = r.integers(-3, 3, size=a_shape) + r.uniform(0.1, 0.4, size=a_shape)
    b = r.choice([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0], size=b_shape)
    return np.asarray(a, dtype=float), np.asarray(b, dtype=float)


@covers("mod", "floor_divide")
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_mod_and_floor_divide(shapes):
    a, b = _dividend_divisor(*shapes)
    va, vb = variables(a, b)
    np.testing.assert_array_equal(ops.mod(va, vb).data, np.mod(a, b))
    np.testing.assert_array_equal(ops.floor_divide(va, vb).data, np.floor_divide(a, b))
    assert np.min(np.abs(a / b - np.round(a / b))) >= 0.05
    check(ops.mod, a, b)
    check(ops.floor_divide, a, b)
    # the rule itself: d/da = 1, d/db = -floor(a/b), summed back over broadcasting
    out = ops.sum(ops.mod(va, vb))
    out.backward()
    full = np.broadcast_shapes(a.shape, b.shape)
    np.testing.assert_allclose(va.grad.data, _sum_to(np.ones(full), a.shape), rtol=1e-12)
    np.testing.assert_allclose(
        vb.grad.data,
        _sum_to(-np.floor_divide(np.broadcast_to(a, full), np.broadcast_to(b, full)), b.shape),
        rtol=1e-12,
    )


def _sum_to(x: np.ndarray, shape: tuple) -> np.ndarray:
    lead = x.ndim - len(shape)
    x = x.sum(axis=tuple(range(lead)))
    return x.sum(axis=tuple(k for k, n in enumerate(shape) if n == 1), keepdims=True)


def test_mod_and_floor_divide_second_order():
    a, b = _dividend_divisor((3, 1), (4,), seed=1)
    check_second_order(ops.mod, a, b)
    check_second_order(lambda x, y: ops.floor_divide(x, y) * x, a, b)


# -- elementwise functions of one argument -------------------------------------------------


def _uniform(lo, hi):
    return lambda shape, seed=0: rng(seed).uniform(lo, hi, size=shape)


# name -> (input sampler, NumPy reference)
UNARY_MORE = {
    "exp2": (_uniform(-3, 3), np.exp2),
    "logit": (_uniform(0.05, 0.95), lambda x: np.log(x / (1 - x))),
    "erf": (_uniform(-3, 3), np.vectorize(math.erf)),
    "erfc": (_uniform(-3, 3), np.vectorize(math.erfc)),
    "deg2rad": (_uniform(-360, 360), np.deg2rad),
    "rad2deg": (_uniform(-4, 4), np.rad2deg),
}


@covers(*UNARY_MORE)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(UNARY_MORE))
def test_unary_more(name, shape):
    sample, reference = UNARY_MORE[name]
    x = sample(shape)
    op = getattr(ops, name)
    np.testing.assert_allclose(op(Variable(x)).data, reference(x), rtol=1e-13, atol=1e-300)
    check(op, x)
    check_second_order(op, x)


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_erf_and_erfc_match_math_to_2e_15(name):
    """No SciPy: the series and the continued fraction, checked at 64,000 points from
    -27 to 27 (erfc(27) is 5e-319) and at tiny arguments, against the C library's."""
    reference = getattr(math, name)
    x = np.concatenate([np.linspace(-6, 6, 48_001), np.linspace(-27, 27, 12_001),
                        np.geomspace(1e-300, 1e-3, 2000), -np.geomspace(1e-300, 1e-3, 2000)])
    want = np.array([reference(v) for v in x])
    got = getattr(ops, name)(Variable(x)).data
    normal = np.abs(want) > 1e-300  # (below that, subnormal numbers have fewer digits)
    np.testing.assert_allclose(got[normal], want[normal], rtol=2e-15, atol=0)
    np.testing.assert_allclose(got[~normal], want[~normal], rtol=0, atol=1e-310)
    special = getattr(ops, name)(Variable(np.array([np.inf, -np.inf, 0.0, np.nan]))).data
    expected = [1.0, -1.0, 0.0] if name == "erf" else [0.0, 2.0, 1.0]
    np.testing.assert_array_equal(special[:3], expected)
    assert np.isnan(special[3])
    assert getattr(ops, name)(Variable(np.float32([0.5]))).data.dtype == np.float32


# -- elementwise functions of two arguments ------------------------------------------------


@covers("logaddexp", "logaddexp2")
@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_logaddexp(name, shapes):
    a, b = rng(1).uniform(-3, 3, size=shapes[0]), rng(2).uniform(-3, 3, size=shapes[1])
    np.testing.assert_allclose(getattr(ops, name)(*variables(a, b)).data,
                               getattr(np, name)(a, b), rtol=1e-14)
    check(getattr(ops, name), a, b)


def test_logaddexp2_is_stable_and_twice_differentiable():
    big = ops.logaddexp2(*variables(np.array([1000.0, -1000.0]), np.array([1000.0, -999.0])))
    np.testing.assert_allclose(big.data, [1001.0, -999 + math.log2(1.5)])
    check_second_order(ops.logaddexp2, rng(7).uniform(-2, 2, (3, 1)), rng(8).uniform(-2, 2, 4))


def test_logaddexp_is_stable_and_twice_differentiable():
    big = ops.logaddexp(*variables(np.array([1000.0, -1000.0]), np.array([1000.0, -999.0])))
    np.testing.assert_allclose(big.data, [1000 + math.log(2), -999 + math.log1p(math.exp(-1))])
    check_second_order(ops.logaddexp, rng(3).uniform(-2, 2, (3, 1)), rng(4).uniform(-2, 2, 4))


# -- einsum and the contractions written with it -------------------------------------------

EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output: ik
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ii->i", [(3, 3)]),  # a diagonal
    ("ii", [(3, 3)]),  # the trace
    ("iij->ij", [(2, 2, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("ijk,k->", [(2, 3, 4), (4,)]),
    ("i,ij,j", [(2,), (2, 3), (3,)]),
    (",ij->ij", [(), (2, 2)]),
    ("ij,ij->i", [(3, 2), (3, 2)]),
]


@covers("einsum")
@pytest.mark.parametrize(("spec", "shapes"), EINSUMS, ids=[s for s, _ in EINSUMS])
def test_einsum(spec, shapes):
    arrays = [rng(k).uniform(-1, 1, size=s) for k, s in enumerate(shapes)]
    np.testing.assert_allclose(ops.einsum(spec, *variables(*arrays)).data,
                               np.einsum(spec, *arrays), rtol=1e-13)
    check(lambda *xs: ops.einsum(spec, *xs), *arrays)
    check_second_order(lambda *xs: ops.einsum(spec, *xs), *arrays)


def test_einsum_sublists_and_errors():
    a, b = rng(0).uniform(-1, 1, (2, 3)), rng(1).uniform(-1, 1, (3, 4))
    np.testing.assert_allclose(ops.einsum(Variable(a), [0, 1], Variable(b), [1, 2], [0, 2]).data,
                               a @ b)
    np.testing.assert_allclose(ops.einsum(Variable(a), [1, 0]).data, a.T)  # implicit: sorted
    np.testing.assert_allclose(ops.einsum(Variable(a), [30, 1]).data, np.einsum(a, [30, 1]))
    check(lambda x, y: ops.einsum(x, [0, 1], y, [1, 2]), a, b)
    for bad, words in [(("ij,jk->ik", a, a), "axis 'j' has sizes 3 and 2"),
                       (("ijk,jk", a, b), "3 axis labels \\('ijk'\\) for an operand with 2"),
                       (("ij->ix", a), "must be distinct letters of the inputs"),
                       (("...j->j", a), "not supported"),
                       (("ij,jk", a), "2 subscripts for 1 operands")]:
        with pytest.raises((ValueError, OperationError), match=words):
            ops.einsum(*bad)


@covers("tensordot")
@pytest.mark.parametrize(("shapes", "axes"), [
    (((2, 3), (3, 4)), 1), (((2, 3, 4), (3, 4, 2)), 2), (((2, 3), (4,)), 0),
    (((2, 3, 4), (4, 3)), ([1, 2], [1, 0])), (((3, 2), (3, 4)), ([0], [0])),
    (((2, 3), (2, 3)), 2),
], ids=str)
def test_tensordot(shapes, axes):
    a, b = (rng(k).uniform(-1, 1, size=s) for k, s in enumerate(shapes))
    np.testing.assert_allclose(ops.tensordot(*variables(a, b), axes).data,
                               np.tensordot(a, b, axes), rtol=1e-13)
    check(lambda x, y: ops.tensordot(x, y, axes), a, b)


@covers("inner", "kron")
@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (4, 3)), ((), (2, 2)),
                                    ((2, 2), (3,)), ((2, 1, 3), (3,))], ids=str)
def test_inner_and_kron(shapes):
    a, b = (rng(k).uniform(-1, 1, size=s) for k, s in enumerate(shapes))
    if shapes[0][-1:] == shapes[1][-1:] or not shapes[0] or not shapes[1]:
        np.testing.assert_allclose(ops.inner(*variables(a, b)).data, np.inner(a, b))
        check(ops.inner, a, b)
    np.testing.assert_allclose(ops.kron(*variables(a, b)).data, np.kron(a, b), rtol=1e-13)
    check(ops.kron, a, b)
    check_second_order(ops.kron, a, b)


@covers("cross")
@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((4, 1, 3), (2, 3))],
                         ids=str)
def test_cross(shapes):
    a, b = (rng(k).uniform(-1, 1, size=s) for k, s in enumerate(shapes))
    np.testing.assert_allclose(ops.cross(*variables(a, b)).data, np.cross(a, b), rtol=1e-13)
    check(ops.cross, a, b)
    with pytest.raises(OperationError, match="3 elements along the last axis"):
        ops.cross(Variable(np.ones(2)), Variable(np.ones(2)))


# -- diagonals, triangles, the trace with an offset ----------------------------------------


@covers("diag", "diagonal")
@pytest.mark.parametrize("k", [0, 1, -1, 2])
def test_diag_and_diagonal(k):
    v, m = rng(0).uniform(-1, 1, 3), rng(1).uniform(-1, 1, (3, 4))
    t = rng(2).uniform(-1, 1, (2, 3, 4))
    np.testing.assert_array_equal(ops.diag(Variable(v), k).data, np.diag(v, k))
    np.testing.assert_array_equal(ops.diag(Variable(m), k).data, np.diag(m, k))
    check(lambda x: ops.diag(x, k), v)
    check(lambda x: ops.diag(x, k), m)
    check_second_order(lambda x: ops.diag(x, k) ** 2, m)
    for axes in [(0, 1), (1, 2), (2, 0), (-1, -2)]:
        np.testing.assert_array_equal(ops.diagonal(Variable(t), k, *axes).data,
                                      np.diagonal(t, k, *axes))
        check(lambda x, axes=axes: ops.diagonal(x, k, *axes), t)


@covers("tril", "triu")
@pytest.mark.parametrize("k", [0, 1, -1])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (2, 3, 2)], ids=str)
def test_triangles(shape, k):
    x = rng(0).uniform(-1, 1, shape)
    for name in ("tril", "triu"):
        op = getattr(ops, name)
        np.testing.assert_array_equal(op(Variable(x), k).data, getattr(np, name)(x, k))
        check(lambda v, op=op: op(v, k), x)
        check_second_order(lambda v, op=op: op(v, k) ** 2, x)


@pytest.mark.parametrize("offset", [0, 1, -1, 2, -3])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)], ids=str)
def test_trace_with_an_offset(shape, offset):
    x = rng(0).uniform(-1, 1, shape)
    assert float(ops.trace(Variable(x), offset).data) == pytest.approx(np.trace(x, offset))
    check(lambda v: ops.trace(v, offset), x)
    check_second_order(lambda v: ops.trace(v * v, offset), x)


@covers("swapaxes", "moveaxis")
def test_swapaxes_and_moveaxis():
    x = rng(0).uniform(-1, 1, (2, 3, 4))
    for args in [(0, 1), (0, 2), (-1, 0), (1, 1)]:
        np.testing.assert_array_equal(ops.swapaxes(Variable(x), *args).data, np.swapaxes(x, *args))
        check(lambda v, args=args: ops.swapaxes(v, *args), x)
    for args in [(0, -1), (2, 0), ([0, 1], [-1, -2]), ([2], [0])]:
        np.testing.assert_array_equal(ops.moveaxis(Variable(x), *args).data, np.moveaxis(x, *args))
        check(lambda v, args=args: ops.moveaxis(v, *args), x)
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        ops.swapaxes(Variable(x), 0, 3)


# -- decompositions ------------------------------------------------------------------------


def _spd(shape, seed=0):
    m = rng(seed).uniform(-1, 1, shape)
    return m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])


def _symmetric(shape, seed=0):
    """A symmetric matrix with well separated eigenvalues (no near-degeneracy)."""
    q, _ = np.linalg.qr(rng(seed).normal(size=shape))
    values = np.arange(1, shape[-1] + 1) * 1.5 - 2.0
    return (q * values[..., None, :]) @ np.swapaxes(q, -1, -2)


@covers("cholesky")
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4)], ids=str)
def test_cholesky(shape):
    a = _spd(shape)
    L = ops.cholesky(Variable(a)).data
    np.testing.assert_allclose(L, np.linalg.cholesky(a), rtol=1e-12)
    np.testing.assert_allclose(L @ np.swapaxes(L, -1, -2), a, rtol=1e-12)
    check(ops.cholesky, a)  # every element perturbed: it reads (a + aᵀ)/2
    check(lambda x: ops.cholesky(x + ops.transpose(x, *range(x.ndim - 2), -1, -2)), a)
    check_second_order(ops.cholesky, a)


def test_cholesky_refuses_what_is_not_positive_definite():
    with pytest.raises(OperationError, match="symmetric positive definite"):
        ops.cholesky(Variable(np.array([[1.0, 2.0], [2.0, 1.0]])))


@covers("slogdet")
@pytest.mark.parametrize("shape", [(3, 3), (2, 2, 2)], ids=str)
def test_slogdet(shape):
    a = rng(0).uniform(-1, 1, shape) + 1.5 * np.eye(shape[-1])
    a[..., 0, :] *= -1  # a negative determinant
    out = ops.slogdet(Variable(a))
    sign, logdet = np.linalg.slogdet(a)
    np.testing.assert_allclose(out.data, np.stack([sign, logdet]), rtol=1e-12)
    s, ld = out  # unpacks as NumPy's pair
    assert s.shape == ld.shape == shape[:-2]
    check(ops.slogdet, a)
    check(lambda x: ops.slogdet(x)[1], a)
    check_second_order(lambda x: ops.slogdet(x)[1], a)


@covers("pinv")
@pytest.mark.parametrize("shape", [(3, 3), (3, 2), (2, 4), (2, 3, 2)], ids=str)
def test_pinv(shape):
    a = rng(0).uniform(-1, 1, shape)
    np.testing.assert_allclose(ops.pinv(Variable(a)).data, np.linalg.pinv(a), rtol=1e-10)
    check(ops.pinv, a)
    check_second_order(ops.pinv, a)


@covers("eigvalsh")
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4)], ids=str)
def test_eigvalsh(shape):
    a = _symmetric(shape)
    np.testing.assert_allclose(ops.eigvalsh(Variable(a)).data, np.linalg.eigvalsh(a),
                               atol=1e-12)
    check(ops.eigvalsh, a)
    check(ops.eigvalsh, a + rng(1).uniform(-0.1, 0.1, shape))  # not symmetric: its sym part
    check_second_order(ops.eigvalsh, a)


def test_eigvalsh_at_a_repeated_eigenvalue():
    """The gradient of a function of the eigenvalues that does not tell the repeated ones
    apart (their sum, here the trace) is exact; one of them alone has no derivative."""
    a = np.diag([1.0, 1.0, 3.0])
    (v,) = variables(a)
    ops.sum(ops.eigvalsh(v)).backward()
    np.testing.assert_allclose(v.grad.data, np.eye(3), atol=1e-12)
    check(lambda x: ops.sum(ops.eigvalsh(x) ** 2), a)


def test_eigenvectors_for_higher_derivatives():
    from gradcli.autograd.ops.decompositions import eigvecsh

    a = _symmetric((3, 3), seed=2)
    # sign-invariant functions of the eigenvectors (each column's outer product)
    check(lambda x: ops.sum(eigvecsh(x) ** 2 * np.array([1.0, 2.0, 3.0])), a)
    check(lambda x: ops.einsum("ij,kj,j->ik", eigvecsh(x), eigvecsh(x), np.array([1., 2, 4])), a)


@covers("svdvals")
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2)], ids=str)
def test_svdvals(shape):
    a = rng(0).uniform(-1, 1, shape)
    np.testing.assert_allclose(ops.svdvals(Variable(a)).data,
                               np.linalg.svd(a, compute_uv=False), rtol=1e-12)
    check(ops.svdvals, a)
    check_second_order(ops.svdvals, a, atol=1e-3)


# -- reductions with their NumPy options ---------------------------------------------------


@pytest.mark.parametrize("ddof", [0, 1, 2, 0.5])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, [0, 2]], ids=str)
def test_var_and_std_with_ddof(axis, ddof):
    x = rng(0).uniform(-2, 2, (3, 4, 3))
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    for name in ("var", "std"):
        op = getattr(ops, name)
        np.testing.assert_allclose(op(Variable(x), axis, ddof=ddof).data,
                                   getattr(np, name)(x, axis=np_axis, ddof=ddof), rtol=1e-12)
        check(lambda v, op=op: op(v, axis, ddof=ddof), x)
        check(lambda v, op=op: op(v, axis, keepdims=True, ddof=ddof), x)
    check_second_order(lambda v: ops.std(v, axis, ddof=ddof), x)


@pytest.mark.parametrize("ord", [1, 2, 3, 0.5, math.inf, -math.inf])
@pytest.mark.parametrize("axis", [None, 0, 1, -1], ids=str)
def test_vector_norms(ord, axis):
    x = rng(0).uniform(0.2, 2, (3, 4)) * np.sign(rng(1).uniform(-1, 1, (3, 4)))
    x[0, 0] = 2.5  # one largest and (below) one smallest |x|: no ties for inf, -inf
    x[1, 2] = 0.1
    if axis is None:
        x = x.reshape(-1)
    np.testing.assert_allclose(ops.norm(Variable(x), axis, ord=ord).data,
                               np.linalg.norm(x, ord, axis), rtol=1e-12)
    check(lambda v: ops.norm(v, axis, ord=ord), x)
    check(lambda v: ops.norm(v, axis, keepdims=True, ord=ord), x)


@pytest.mark.parametrize("ord", [1, -1, 2, -2, math.inf, -math.inf])
@pytest.mark.parametrize("axis", [None, [0, 1], [1, 0], [2, 0]], ids=str)
def test_matrix_norms(ord, axis):
    x = rng(0).uniform(-2, 2, (3, 4) if axis is None else (3, 2, 4))
    np_axis = tuple(axis) if axis else None
    np.testing.assert_allclose(ops.norm(Variable(x), axis, ord=ord).data,
                               np.linalg.norm(x, ord, np_axis), rtol=1e-12)
    np.testing.assert_allclose(ops.norm(Variable(x), axis, keepdims=True, ord=ord).data,
                               np.linalg.norm(x, ord, np_axis, keepdims=True), rtol=1e-12)
    check(lambda v: ops.norm(v, axis, ord=ord), x)


def test_norm_of_zero_counts_and_refusals():
    x = np.array([0.0, 1.5, 0.0, -2.0])
    assert float(ops.norm(Variable(x), ord=0).data) == 2.0
    with pytest.raises(ValueError, match="matrix takes ord 1, -1, 2"):
        ops.norm(Variable(np.ones((2, 2))), ord=3)
    with pytest.raises(ValueError, match="a vector or a matrix"):
        ops.norm(Variable(np.ones((2, 2, 2))), ord=1)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, [0, 1]], ids=str)
@pytest.mark.parametrize("b_shape", [(2, 3), (3,), ()], ids=str)
def test_logsumexp_with_weights(axis, keepdims, b_shape):
    x = rng(0).uniform(-2, 2, (2, 3))
    b = rng(1).uniform(0.2, 2, b_shape)
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    want = np.log(np.sum(b * np.exp(x), axis=np_axis, keepdims=keepdims))
    got = ops.logsumexp(Variable(x), axis, keepdims, b=Variable(b))
    np.testing.assert_allclose(got.data, want, rtol=1e-12)
    check(lambda v, w: ops.logsumexp(v, axis, keepdims, b=w), x, b)
    check_second_order(lambda v, w: ops.logsumexp(v, axis, keepdims, b=w), x, b)


def test_logsumexp_with_weights_is_stable():
    out = ops.logsumexp(Variable(np.array([1000.0, 1000.0])), b=Variable(np.array([1.0, 3.0])))
    assert float(out.data) == pytest.approx(1000 + math.log(4))


# -- shape: repeating, reversing, rolling, padding, stacking, splitting --------------------

SHAPE_CASES = [
    ("repeat", lambda x: ops.repeat(x, 2), lambda x: np.repeat(x, 2), (2, 3)),
    ("repeat", lambda x: ops.repeat(x, 3, 1), lambda x: np.repeat(x, 3, 1), (2, 3)),
    ("repeat", lambda x: ops.repeat(x, [2, 0, 1], -1), lambda x: np.repeat(x, [2, 0, 1], -1),
     (2, 3)),
    ("repeat", lambda x: ops.repeat(x, 2, 0), lambda x: np.repeat(x, 2, 0), (4,)),
    ("tile", lambda x: ops.tile(x, 2), lambda x: np.tile(x, 2), (2, 3)),
    ("tile", lambda x: ops.tile(x, [2, 1, 3]), lambda x: np.tile(x, (2, 1, 3)), (2, 3)),
    ("tile", lambda x: ops.tile(x, [2, 2]), lambda x: np.tile(x, (2, 2)), (3,)),
    ("tile", lambda x: ops.tile(x, [3]), lambda x: np.tile(x, 3), ()),
    ("flip", ops.flip, np.flip, (2, 3, 2)),
    ("flip", lambda x: ops.flip(x, 1), lambda x: np.flip(x, 1), (2, 3, 2)),
    ("flip", lambda x: ops.flip(x, [0, -1]), lambda x: np.flip(x, (0, -1)), (2, 3, 2)),
    ("roll", lambda x: ops.roll(x, 2), lambda x: np.roll(x, 2), (2, 3)),
    ("roll", lambda x: ops.roll(x, -1, 1), lambda x: np.roll(x, -1, 1), (2, 3)),
    ("roll", lambda x: ops.roll(x, [1, 4], [0, 1]), lambda x: np.roll(x, (1, 4), (0, 1)),
     (2, 3)),
    ("pad", lambda x: ops.pad(x, 1), lambda x: np.pad(x, 1), (2, 3)),
    ("pad", lambda x: ops.pad(x, [2, 0], 1.5), lambda x: np.pad(x, (2, 0), constant_values=1.5),
     (2, 3)),
    ("pad", lambda x: ops.pad(x, [[0, 1], [2, 1]]), lambda x: np.pad(x, ((0, 1), (2, 1))),
     (2, 3)),
    ("pad", lambda x: ops.pad(x, [1, 2]), lambda x: np.pad(x, (1, 2)), (3,)),
    ("split", lambda x: ops.split(x, 3, 1), lambda x: np.stack(np.split(x, 3, 1)), (2, 3)),
    ("split", lambda x: ops.split(x, 2), lambda x: np.stack(np.split(x, 2)), (4, 3)),
    ("split", lambda x: ops.split(x, 2, -1), lambda x: np.stack(np.split(x, 2, -1)), (3, 2, 4)),
    ("hsplit", lambda x: ops.hsplit(x, 3), lambda x: np.stack(np.hsplit(x, 3)), (2, 3)),
    ("hsplit", lambda x: ops.hsplit(x, 2), lambda x: np.stack(np.hsplit(x, 2)), (4,)),
    ("vsplit", lambda x: ops.vsplit(x, 2), lambda x: np.stack(np.vsplit(x, 2)), (4, 3)),
]


@covers(*{name for name, *_ in SHAPE_CASES})
@pytest.mark.parametrize(("name", "op", "reference", "shape"), SHAPE_CASES,
                         ids=[f"{c[0]}-{k}" for k, c in enumerate(SHAPE_CASES)])
def test_shape_operations(name, op, reference, shape):
    x = rng(0).uniform(-1, 1, shape)
    np.testing.assert_array_equal(op(Variable(x)).data, reference(x))
    check(op, x)
    check_second_order(lambda v: op(v) ** 2, x)


def test_split_unpacks_as_pieces_and_refuses_unequal_ones():
    x = rng(0).uniform(-1, 1, (4, 2))
    first, second = ops.split(Variable(x), 2)
    np.testing.assert_array_equal(second.data, x[2:])
    with pytest.raises(ValueError, match="do not divide into 3 equal pieces"):
        ops.split(Variable(x), 3)


@covers("hstack", "vstack", "column_stack")
@pytest.mark.parametrize("shapes", [[(3,), (2,)], [(2, 3), (2, 1)], [(), (2,)]], ids=str)
def test_hstack(shapes):
    arrays = [rng(k).uniform(-1, 1, s) for k, s in enumerate(shapes)]
    np.testing.assert_array_equal(ops.hstack(variables(*arrays)).data, np.hstack(arrays))
    check(lambda *xs: ops.hstack(list(xs)), *arrays)


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(2, 3), (3,)], [(1, 2), (2, 2)]], ids=str)
def test_vstack_and_column_stack(shapes):
    arrays = [rng(k).uniform(-1, 1, s) for k, s in enumerate(shapes)]
    np.testing.assert_array_equal(ops.vstack(variables(*arrays)).data, np.vstack(arrays))
    check(lambda *xs: ops.vstack(list(xs)), *arrays)
    columns = [np.ascontiguousarray(a.T) if a.ndim == 2 else a for a in arrays]
    np.testing.assert_array_equal(ops.column_stack(variables(*columns)).data,
                                  np.column_stack(columns))
    check(lambda *xs: ops.column_stack(list(xs)), *columns)


# -- running totals and orderings ----------------------------------------------------------


@covers("cumsum", "cumprod", "sort")
@pytest.mark.parametrize(("shape", "axis"), [
    ((5,), None), ((5,), 0), ((5,), -1), ((3, 4), None), ((3, 4), 0), ((3, 4), 1),
    ((3, 4), -1), ((2, 3, 2), None), ((2, 3, 2), 1), ((2, 3, 2), -1),
], ids=str)
def test_cumsum_cumprod_and_sort(shape, axis):
    x = rng(0).permutation(np.linspace(-2, 2, int(np.prod(shape)))).reshape(shape)  # no ties
    for name in ("cumsum", "cumprod", "sort"):
        op = getattr(ops, name)
        want = getattr(np, name)(x, axis) if name != "sort" or axis is not None else np.sort(
            x, None)
        np.testing.assert_allclose(op(Variable(x), axis).data, want, rtol=1e-13)
        check(lambda v, op=op: op(v, axis), x)
        check_second_order(lambda v, op=op: op(v, axis) ** 2, x)


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_cumprod_with_zeros_is_exact(axis):
    x = rng(1).uniform(0.5, 1.5, (3, 4))
    x[0, 1] = x[2, 0] = x[2, 3] = x[1, 1] = 0.0
    x[2, 2] = 0.0  # two zeros in one row
    np.testing.assert_allclose(ops.cumprod(Variable(x), axis).data, np.cumprod(x, axis))
    check(lambda v: ops.cumprod(v, axis), x)
    check_second_order(lambda v: ops.cumprod(v, axis), x)


def test_sort_puts_nan_last_and_keeps_ties_in_order():
    np.testing.assert_array_equal(ops.sort(Variable(np.array([3.0, np.nan, 1.0]))).data,
                                  [1.0, 3.0, np.nan])
    (v,) = variables(np.array([2.0, 1.0, 2.0]))
    ops.sum(ops.sort(v) * np.array([1.0, 10.0, 100.0])).backward()
    np.testing.assert_array_equal(v.grad.data, [10.0, 1.0, 100.0])


@covers("differences")
@pytest.mark.parametrize("n", [0, 1, 2, 3])
@pytest.mark.parametrize("axis", [0, -1, 1], ids=str)
def test_differences(n, axis):
    x = rng(0).uniform(-2, 2, (4, 5))
    np.testing.assert_allclose(ops.differences(Variable(x), n, axis).data, np.diff(x, n, axis))
    check(lambda v: ops.differences(v, n, axis), x)


def test_numpy_functions_on_variables_reach_the_new_operations():
    """NumPy's own functions called on Variables run these operations (the catalogue's
    names are NumPy's), gradients included."""
    x = rng(0).permutation(np.linspace(-1, 1, 6)).reshape(2, 3)
    s = _spd((3, 3))
    check(lambda v: np.cumsum(v, axis=1), x)
    check(lambda v: np.sort(v, axis=0), x)
    check(lambda v: np.std(v, ddof=1), x)
    check(np.exp2, x)
    check(lambda v: np.logaddexp(v, 0.7) + np.floor_divide(v, 0.7), x)
    check(lambda v: np.linalg.cholesky(v), s)
    check(lambda v: np.linalg.eigvalsh(v), s)
    check(lambda v: np.einsum("ij,kj->ik", v, v), x)
    check(lambda v: np.roll(np.flip(v, 1), 1), x)
