"""Linear algebra: matmul (NumPy's 1-d and batch rules), dot, outer, trace, det, inv, solve;
einsum and the contractions written with it (tensordot, inner, kron), cross, diagonals
(diag, diagonal) and triangles (tril, triu)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradcli.autograd.errors import OperationError
from gradcli.autograd.function import GRAD_MODE, Function
from gradcli.autograd.limits import check_cost, check_elements, check_shape
from gradcli.autograd.ops.broadcasting import sum_to
from gradcli.autograd.ops.elementwise import multiply
from gradcli.autograd.ops.indexing import getitem
from gradcli.autograd.ops.shape import expand_dims, moveaxis, reshape, stack, swap_last_axes
from gradcli.autograd.variable import Variable


def _matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    """The result shape of matmul, or None when NumPy should report the mismatch."""
    if not a or not b:
        return None
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        return None
    batch = a2[:-2]
    if batch != b2[:-2]:  # (equal batches, two matrices' empty ones above all: no call)
        try:
            batch = np.broadcast_shapes(batch, b2[:-2])
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
        na, nb = self.needs_input_grad
        if not GRAD_MODE.enabled:
            a, b = self.inputs
            a = a._data
            b = b._data
            if a.ndim == 2 and b.ndim == 2:  # the common case: two products, no graph
                # (forward itself: the same limits and blocking as matmul's, no wrapping)
                return (self.forward(g, b.T) if na else None,
                        self.forward(a.T, g) if nb else None)
        else:
            a, b = self.inputs
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
    """The sum of a diagonal of a matrix: the main one, or the ``offset`` one."""

    __slots__ = ("offset",)

    def __init__(self, offset: int = 0) -> None:
        self.offset = offset

    @property
    def detail(self) -> str:
        return f"offset={self.offset}" if self.offset else ""

    def forward(self, x):
        if x.ndim != 2:
            raise ValueError(f"trace needs a matrix (2 dimensions), got {x.ndim}")
        return np.trace(x, self.offset)

    def backward(self, g):
        (x,) = self.operands()
        n, m = x.shape
        return g * np.eye(n, m, k=self.offset, dtype=x.dtype)


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
        if GRAD_MODE.enabled and GRAD_MODE.everywhere:  # det(x) inv(x)^T fails where singular
            return g * _adjugate_t_graph(x)
        try:
            inverse_t = swap_last_axes(inv(x))
        except Exception:  # singular: d det / dX is the transposed adjugate
            if GRAD_MODE.enabled:  # built from minors' determinants, so differentiable
                return g * _adjugate_t_graph(x)
            return g * _adjugate_t(np.asarray(x))
        out = self.saved_output(det, x)
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
        out = self.saved_output(inv, x)
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
        return multiply(a, b)
    if a_nd > 2 or b_nd > 2:
        raise OperationError(
            "Dot", [np.shape(a), np.shape(b)],
            "dot takes arrays of up to 2 dimensions; use matmul for stacks",
        )
    return matmul(a, b)


def outer(a: Any, b: Any) -> Variable:
    return Outer()(a, b)


def trace(x: Any, offset: int = 0) -> Variable:
    return Trace(int(offset))(x)


def det(x: Any) -> Variable:
    return Det()(x)


def inv(x: Any) -> Variable:
    return Inv()(x)


def solve(a: Any, b: Any) -> Variable:
    return Solve()(a, b)


# -- einsum, and the contractions built on it (tensordot, inner, kron) ---------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def einsum_spec(subscripts: Any, operands: tuple) -> tuple[tuple[str, ...], str, tuple]:
    """NumPy's two ways of writing an einsum, as (input subscripts, output subscripts,
    operands): ``("ij,jk->ik", a, b)`` (or implicit, ``"ij,jk"``: the letters that appear
    once, sorted), or the sublist form ``(a, [0, 1], b, [1, 2], [0, 2])`` (axis labels
    0..51, an optional output list last). No ``...`` (broadcast axes)."""
    if isinstance(subscripts, str):
        text = subscripts.replace(" ", "")
        if "." in text:
            raise ValueError("einsum: '...' (broadcast axes) is not supported; name every axis")
        left, arrow, right = text.partition("->")
        inputs = tuple(left.split(","))
        if not arrow:
            counts = {c: left.count(c) for c in left if c != ","}
            right = "".join(sorted(c for c, n in counts.items() if n == 1))
        for term in (*inputs, right):
            for c in term:
                if c not in _LETTERS:
                    raise ValueError(f"einsum: {c!r} is not a subscript letter")
        if len(inputs) != len(operands):
            raise ValueError(f"einsum: {len(inputs)} subscripts for {len(operands)} operands")
        return inputs, right, tuple(operands)
    items = (subscripts, *operands)
    pairs = items[: len(items) // 2 * 2]
    arrays = pairs[0::2]
    inputs = tuple(_sublist(s) for s in pairs[1::2])
    if len(items) % 2:
        right = _sublist(items[-1])
    else:
        counts = {c: "".join(inputs).count(c) for c in "".join(inputs)}
        right = "".join(sorted((c for c, n in counts.items() if n == 1), key=_LETTERS.index))
    return inputs, right, tuple(arrays)


def _sublist(labels: Any) -> str:
    if isinstance(labels, Variable):
        labels = labels.data
    values = np.asarray(labels, dtype=float).reshape(-1) if np.size(labels) else []
    out = []
    for v in values:
        if not float(v).is_integer() or not 0 <= v < len(_LETTERS):
            raise ValueError(f"einsum: an axis label must be a whole number from 0 to "
                             f"{len(_LETTERS) - 1}, got {v:g}")
        out.append(_LETTERS[int(v)])
    return "".join(out)


class Einsum(Function):
    """``einsum`` with explicit subscripts: each operand's gradient is an einsum of the
    output's gradient with the other operands (identity matrices where an operand repeats
    a letter, a diagonal; ones where a letter is summed within that operand alone)."""

    __slots__ = ("subscripts", "output")

    def __init__(self, subscripts: tuple[str, ...], output: str) -> None:
        self.subscripts = subscripts
        self.output = output

    @property
    def detail(self) -> str:
        return f"{','.join(self.subscripts)}->{self.output}"

    def forward(self, *arrays):
        spec = self.detail
        sizes: dict[str, int] = {}
        for term, a in zip(self.subscripts, arrays):
            if len(term) != a.ndim:
                raise ValueError(f"einsum: {len(term)} axis labels ({term!r}) for an operand "
                                 f"with {a.ndim} dimensions, shape {a.shape}")
            for c, n in zip(term, a.shape):
                if sizes.setdefault(c, n) != n:
                    raise ValueError(f"einsum: axis {c!r} has sizes {sizes[c]} and {n}")
        if len(set(self.output)) != len(self.output) or not set(self.output) <= set(sizes):
            raise ValueError(f"einsum: output subscripts {self.output!r} must be distinct "
                             "letters of the inputs")
        check_shape("einsum", tuple(sizes[c] for c in self.output))
        return np.einsum(spec, *arrays, optimize=len(arrays) > 2)

    def backward(self, g):
        operands = self.operands()
        grads = []
        for i, needed in enumerate(self.needs_input_grad):
            grads.append(self._gradient(i, g, operands) if needed else None)
        return tuple(grads)

    def _gradient(self, i: int, g: Any, operands: Any) -> Any:
        term = self.subscripts[i]
        shape = operands[i].shape
        used = set(self.output).union(*(self.subscripts[k] for k in range(len(operands))
                                        if k != i))
        fresh = iter(c for c in _LETTERS if c not in set("".join(self.subscripts)))
        terms = [self.output] + [s for k, s in enumerate(self.subscripts) if k != i]
        values = [g] + [operands[k] for k in range(len(operands)) if k != i]
        target = []
        seen: set[str] = set()
        for c, n in zip(term, shape):
            if c in seen:  # a diagonal: a new letter, tied to c by an identity matrix
                new = next(fresh)
                terms.append(c + new)
                values.append(np.eye(n, dtype=g.dtype))
                target.append(new)
                continue
            seen.add(c)
            if c not in used:  # summed within this operand only: the gradient spreads
                terms.append(c)
                values.append(np.ones(n, dtype=g.dtype))
            target.append(c)
        return einsum(",".join(terms) + "->" + "".join(target), *values)


def einsum(subscripts: Any, *operands: Any) -> Variable:
    """``einsum("ij,jk->ik", a, b)`` or ``einsum(a, [0, 1], b, [1, 2], [0, 2])``."""
    inputs, output, arrays = einsum_spec(subscripts, operands)
    return Einsum(inputs, output)(*arrays)


def _ndim(a: Any) -> int:
    return a.ndim if isinstance(a, Variable) else np.ndim(a)


def tensordot(a: Any, b: Any, axes: Any = 2) -> Variable:
    """NumPy's tensordot: ``axes=n`` sums the last n axes of a with the first n of b;
    ``axes=([1, 0], [0, 1])`` names them."""
    na, nb = _ndim(a), _ndim(b)
    if isinstance(axes, int | float | np.integer | np.floating) and not isinstance(axes, bool):
        n = int(axes)
        if n != axes or not 0 <= n <= min(na, nb):
            raise ValueError(f"tensordot: axes={axes:g} must be a whole number from 0 to "
                             f"{min(na, nb)} for shapes {np.shape(a)} and {np.shape(b)}")
        left, right = list(range(na - n, na)), list(range(n))
    else:
        left, right = ([int(k)] if np.ndim(k) == 0 else [int(v) for v in k] for k in axes)
    if len(left) != len(right):
        raise ValueError("tensordot: the two lists of axes must be as long as each other")
    a_terms = list(_LETTERS[:na])
    b_terms = list(_LETTERS[na:na + nb])
    for p, q in zip(left, right):
        if not (-na <= p < na and -nb <= q < nb):
            raise ValueError(f"tensordot: axes {p} and {q} are out of range for shapes "
                             f"{np.shape(a)} and {np.shape(b)}")
        b_terms[q % nb] = a_terms[p % na]
    contracted = {a_terms[p % na] for p in left}
    out = [c for c in a_terms if c not in contracted] + [c for c in b_terms
                                                          if c not in contracted]
    return einsum(f"{''.join(a_terms)},{''.join(b_terms)}->{''.join(out)}", a, b)


def inner(a: Any, b: Any) -> Variable:
    """NumPy's inner: the sum over the last axes, shape a.shape[:-1] + b.shape[:-1]
    (a product when either is a number)."""
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        return multiply(a, b)
    a_terms = _LETTERS[: na - 1] + "z"
    b_terms = _LETTERS[na - 1: na + nb - 2] + "z"
    return einsum(f"{a_terms},{b_terms}->{a_terms[:-1]}{b_terms[:-1]}", a, b)


def kron(a: Any, b: Any) -> Variable:
    """The Kronecker product (NumPy's kron: the smaller ndim padded with leading ones)."""
    sa, sb = np.shape(a), np.shape(b)
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    check_shape("kron", tuple(p * q for p, q in zip(sa, sb)))
    a_terms, b_terms = _LETTERS[:n], _LETTERS[n:2 * n]
    pairs = "".join(p + q for p, q in zip(a_terms, b_terms))
    ra = reshape(a, sa) if np.shape(a) != sa else a
    rb = reshape(b, sb) if np.shape(b) != sb else b
    return reshape(einsum(f"{a_terms},{b_terms}->{pairs}", ra, rb),
                   tuple(p * q for p, q in zip(sa, sb)))


def cross(a: Any, b: Any) -> Variable:
    """The cross product of 3-vectors along the last axis (broadcast over the others)."""
    for x in (a, b):
        if np.shape(x)[-1:] != (3,):
            raise OperationError("Cross", [np.shape(a), np.shape(b)],
                                 "cross needs vectors of 3 elements along the last axis")
    a0, a1, a2 = (getitem(a, (Ellipsis, k)) for k in range(3))
    b0, b1, b2 = (getitem(b, (Ellipsis, k)) for k in range(3))
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


# -- diagonals and triangles ---------------------------------------------------------------


def _diagonal_index(shape: tuple[int, ...], offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the ``offset`` diagonal of the last two axes of ``shape``."""
    n, m = shape[-2], shape[-1]
    if offset >= 0:
        length = max(min(n, m - offset), 0)
        rows = np.arange(length)
        return rows, rows + offset
    length = max(min(n + offset, m), 0)
    cols = np.arange(length)
    return cols - offset, cols


class Diagonal(Function):
    """The ``offset`` diagonal of the last two axes, as the last axis (np.diagonal after
    moving axis1 and axis2 last); backward puts the gradient back on it (DiagonalEmbed)."""

    __slots__ = ("offset",)

    def __init__(self, offset: int = 0) -> None:
        self.offset = offset

    def forward(self, x):
        if x.ndim < 2:
            raise ValueError(f"diagonal needs at least 2 dimensions, got {x.ndim}")
        rows, cols = _diagonal_index(x.shape, self.offset)
        return x[..., rows, cols]

    def backward(self, g):
        return DiagonalEmbed(self.offset, self.inputs[0].data.shape[-2:])(g)


class DiagonalEmbed(Function):
    """A matrix (per leading index) of the given shape, zero but for the last axis of the
    input on its ``offset`` diagonal; backward takes that diagonal."""

    __slots__ = ("offset", "matrix")

    def __init__(self, offset: int, matrix: tuple[int, int]) -> None:
        self.offset = offset
        self.matrix = tuple(matrix)

    def forward(self, v):
        check_shape("diag", v.shape[:-1] + self.matrix)
        out = np.zeros(v.shape[:-1] + self.matrix, dtype=v.dtype)
        rows, cols = _diagonal_index(self.matrix, self.offset)
        out[..., rows, cols] = v
        return out

    def backward(self, g):
        return Diagonal(self.offset)(g)


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Variable:
    """NumPy's diagonal: the ``offset`` diagonal of axes axis1 and axis2, as the last axis."""
    nd = _ndim(x)
    if nd < 2:
        raise OperationError("Diagonal", [np.shape(x)],
                             f"diagonal needs at least 2 dimensions, got {nd}")
    if (axis1 % nd, axis2 % nd) != (nd - 2, nd - 1):
        x = moveaxis(x, [axis1, axis2], [-2, -1])
    return Diagonal(int(offset))(x)


def diag(x: Any, k: int = 0) -> Variable:
    """NumPy's diag: of a vector, the square matrix with it on diagonal k; of a matrix,
    its diagonal k."""
    nd = _ndim(x)
    if nd == 1:
        n = np.shape(x)[0] + abs(int(k))
        return DiagonalEmbed(int(k), (n, n))(x)
    if nd == 2:
        return Diagonal(int(k))(x)
    raise OperationError("Diag", [np.shape(x)],
                         f"diag takes a vector or a matrix, not {nd} dimensions "
                         "(use diagonal for stacks)")


class _Triangle(Function):
    """The lower (upper) triangle of the last two axes, from diagonal k; the rest zero."""

    __slots__ = ("k",)
    numpy: Any = None

    def __init__(self, k: int = 0) -> None:
        self.k = k

    def forward(self, x):
        if x.ndim < 2:
            raise ValueError(f"needs at least 2 dimensions, got {x.ndim}")
        return type(self).numpy(x, self.k)

    def backward(self, g):
        return type(self)(self.k)(g)


class Tril(_Triangle):
    __slots__ = ()
    numpy = staticmethod(np.tril)


class Triu(_Triangle):
    __slots__ = ()
    numpy = staticmethod(np.triu)


def tril(x: Any, k: int = 0) -> Variable:
    return Tril(int(k))(x)


def triu(x: Any, k: int = 0) -> Variable:
    return Triu(int(k))(x)
