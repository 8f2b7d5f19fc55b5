"""Linear algebra: matmul (NumPy's 1-d and batch rules), dot, outer, trace, det, inv, solve."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradcli.autograd.errors import OperationError
from gradcli.autograd.function import GRAD_MODE, Function
from gradcli.autograd.limits import check_cost, check_elements, check_shape
from gradcli.autograd.ops.broadcasting import sum_to
from gradcli.autograd.ops.shape import expand_dims, stack, swap_last_axes
from gradcli.autograd.variable import Variable


def _matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    """The result shape of matmul, or None when NumPy should report the mismatch."""
    if not a or not b:
        return None
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        return None
    try:
        batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    except ValueError:
        return None
    shape = batch + (a2[-2], b2[-1])
    if len(a) == 1:
        shape = shape[:-2] + shape[-1:]
    if len(b) == 1:
        shape = shape[:-1]
    return shape


class MatMul(Function):
    __slots__ = ()

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul needs arrays of at least one dimension; use * for scalars")
        shape = _matmul_shape(a.shape, b.shape)
        if shape is None:
            return np.matmul(a, b)
        check_shape("matmul", shape)
        flops = 2.0 * math.prod(shape) * a.shape[-1]
        check_cost("matmul", flops)
        if flops > BLOCK_FLOPS and a.ndim == 2 and b.ndim == 2:
            return _blocked_matmul(a, b, shape, flops)
        return np.matmul(a, b)

    def backward(self, g):
        a, b = self.operands()
        na, nb = self.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if na else None, g * a if nb else None)
        A = a if a.ndim > 1 else a.reshape(1, -1)
        B = b if b.ndim > 1 else b.reshape(-1, 1)
        G = g
        if a.ndim == 1:
            G = expand_dims(G, -2)
        if b.ndim == 1:
            G = expand_dims(G, -1)
        ga = gb = None
        if na:
            full = matmul(G, swap_last_axes(B))
            ga = sum_to(full, A.shape, full.shape).reshape(a.shape)
        if nb:
            full = matmul(swap_last_axes(A), G)
            gb = sum_to(full, B.shape, full.shape).reshape(b.shape)
        return ga, gb


class Outer(Function):
    """The outer product of two arrays, flattened first (as NumPy's outer)."""

    __slots__ = ()

    def forward(self, a, b):
        check_shape("outer", (a.size, b.size))
        return np.outer(a, b)

    def backward(self, g):
        a, b = self.operands()
        na, nb = self.needs_input_grad
        return (
            matmul(g, b.reshape(-1)).reshape(a.shape) if na else None,
            matmul(a.reshape(-1), g).reshape(b.shape) if nb else None,
        )


class Trace(Function):
    """The sum of the main diagonal of a matrix."""

    __slots__ = ()

    def forward(self, x):
        if x.ndim != 2:
            raise ValueError(f"trace needs a matrix (2 dimensions), got {x.ndim}")
        return np.trace(x)

    def backward(self, g):
        (x,) = self.operands()
        n, m = x.shape
        return g * np.eye(n, m, dtype=x.dtype)


def _square_matrices(x: np.ndarray, op: str) -> None:
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{op} needs square matrices, got shape {x.shape}")
    check_cost(op, float(math.prod(x.shape[:-2])) * x.shape[-1] ** 3)


# a product of more floating-point operations than this runs in blocks of rows, so that
# Ctrl-C and --timeout act between blocks instead of after one long BLAS call
BLOCK_FLOPS = 2e9


def _blocked_matmul(a: np.ndarray, b: np.ndarray, shape: tuple, flops: float) -> np.ndarray:
    out = np.empty(shape, dtype=np.result_type(a, b))
    rows = max(1, int(a.shape[0] * BLOCK_FLOPS / flops))
    for start in range(0, a.shape[0], rows):
        np.matmul(a[start:start + rows], b, out=out[start:start + rows])
    return out


class Det(Function):
    """The determinant (of each matrix in a stack)."""

    __slots__ = ()

    def forward(self, x):
        _square_matrices(x, "det")
        out = np.linalg.det(x)
        self.saved = out
        return out

    def backward(self, g):
        (x,) = self.operands()
        g = expand_dims(expand_dims(g, -1), -1)
        try:
            inverse_t = swap_last_axes(inv(x))
        except Exception:  # singular: d det / dX is the transposed adjugate
            if GRAD_MODE.enabled:  # built from minors' determinants, so differentiable
                return g * _adjugate_t_graph(x)
            return g * _adjugate_t(np.asarray(x))
        out = det(x) if GRAD_MODE.enabled else self.saved
        return g * expand_dims(expand_dims(out, -1), -1) * inverse_t


def _adjugate_t(x: np.ndarray) -> np.ndarray:
    """The cofactor matrix (the adjugate transposed), for singular inputs too: from the SVD
    x = U diag(s) V^T it is det(U) det(V) U diag(prod of the other s) V^T, in O(n^3)
    (minor by minor would be O(n^5): minutes for a 300 x 300 matrix)."""
    n = x.shape[-1]
    if n == 0:
        return np.empty_like(x)
    u, s, vt = np.linalg.svd(x)
    ones = np.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    left = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    sign = np.linalg.det(u) * np.linalg.det(vt)
    cof = (u * (left * right)[..., None, :]) @ vt
    return (cof * sign[..., None, None]).astype(x.dtype, copy=False)


def _adjugate_t_graph(x: Variable) -> Variable:
    """``_adjugate_t`` from differentiable operations (higher derivatives at singular x)."""
    n = x.shape[-1]
    if n == 1:
        return x * 0.0 + 1.0
    # n^2 minors of (n-1)^2 elements each are kept for the backward pass
    check_elements("det", math.prod(x.shape[:-2]) * n * n * (n - 1) * (n - 1))
    rows = []
    for i in range(n):
        without_row = x[..., [k for k in range(n) if k != i], :]
        rows.append(stack([
            det(without_row[..., [k for k in range(n) if k != j]]) * (-1.0) ** (i + j)
            for j in range(n)
        ], axis=-1))
    return stack(rows, axis=-2)


class Inv(Function):
    """The matrix inverse (of each matrix in a stack)."""

    __slots__ = ()

    def forward(self, x):
        _square_matrices(x, "inv")
        out = np.linalg.inv(x)
        self.saved = out
        return out

    def backward(self, g):
        (x,) = self.operands()
        out = inv(x) if GRAD_MODE.enabled else self.saved
        out_t = swap_last_axes(out)
        return -matmul(matmul(out_t, g), out_t)


class Solve(Function):
    """x with a @ x = b; b is a vector or a matrix (or stacks of them)."""

    __slots__ = ()

    def forward(self, a, b):
        _square_matrices(a, "solve")
        if b.ndim == 1:
            out = np.linalg.solve(a, b[:, None])[..., 0] if a.ndim == 2 else np.linalg.solve(
                a, b[..., None])[..., 0]
        else:
            out = np.linalg.solve(a, b)
        return out

    def backward(self, g):
        a, b = self.operands()
        na, nb = self.needs_input_grad
        x = solve(a, b)
        vector = b.ndim == 1
        G = expand_dims(g, -1) if vector else g
        X = expand_dims(x, -1) if vector else x
        gb_full = solve(swap_last_axes(a), G)
        ga = gb = None
        if nb:  # b may have been broadcast against a's batch axes: sum those back
            b_shape = b.shape + (1,) if vector else b.shape
            gb = sum_to(gb_full, b_shape, gb_full.shape).reshape(b.shape)
        if na:
            full = -matmul(gb_full, swap_last_axes(X))
            ga = sum_to(full, a.shape, full.shape)
        return ga, gb


# -- the functions users call ------------------------------------------------------------


def matmul(a: Any, b: Any) -> Variable:
    """``a @ b`` with NumPy's rules: 1-d arrays act as vectors, leading axes as batches."""
    return MatMul()(a, b)


def dot(a: Any, b: Any) -> Variable:
    """NumPy's dot for scalars, vectors and matrices (matmul for arrays of up to 2-d)."""
    a_nd = a.ndim if isinstance(a, Variable) else np.ndim(a)
    b_nd = b.ndim if isinstance(b, Variable) else np.ndim(b)
    if a_nd == 0 or b_nd == 0:
        from gradcli.autograd.ops.elementwise import multiply

        return multiply(a, b)
    if a_nd > 2 or b_nd > 2:
        raise OperationError(
            "Dot", [np.shape(a), np.shape(b)],
            "dot takes arrays of up to 2 dimensions; use matmul for stacks",
        )
    return matmul(a, b)


def outer(a: Any, b: Any) -> Variable:
    return Outer()(a, b)


def trace(x: Any) -> Variable:
    return Trace()(x)


def det(x: Any) -> Variable:
    return Det()(x)


def inv(x: Any) -> Variable:
    return Inv()(x)


def solve(a: Any, b: Any) -> Variable:
    return Solve()(a, b)
