"""Matrix decompositions and what is read off them: cholesky, slogdet, pinv, eigvalsh
(with the eigenvectors, eigvecsh, that its backward needs), svdvals.

Each works on the last two axes (a stack of matrices is a batch). The symmetric ones
(cholesky, eigvalsh, eigvecsh) read the symmetric part (A + Aᵀ)/2 of their input, where
NumPy reads one triangle: the same for a symmetric A, and it makes the gradient (a
symmetric matrix) exact for every perturbation, so finite differences agree with it.
Backward rules are written with operations, so they are differentiable again (the
eigenvector rule divides by eigenvalue gaps: at a repeated eigenvalue the second
derivatives are not finite).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradcli.autograd.function import GRAD_MODE, Function
from gradcli.autograd.ops.elementwise import equal, where
from gradcli.autograd.ops.indexing import getitem
from gradcli.autograd.ops.linalg import _square_matrices, inv, matmul, tril
from gradcli.autograd.ops.shape import expand_dims, swap_last_axes
from gradcli.autograd.variable import Variable


def _symmetric(x: np.ndarray) -> np.ndarray:
    return (x + np.swapaxes(x, -1, -2)) * 0.5


def _symmetrize(g: Any) -> Any:
    return (g + swap_last_axes(g)) * 0.5 if isinstance(g, Variable) else _symmetric(g)


def _mT(x: Any) -> Any:  # noqa: N802 - the matrix transpose, as NumPy's .mT
    return swap_last_axes(x) if isinstance(x, Variable) else np.swapaxes(x, -1, -2)


class Cholesky(Function):
    """L, lower triangular with a positive diagonal, with L Lᵀ = (A + Aᵀ)/2."""

    __slots__ = ()

    def forward(self, x):
        _square_matrices(x, "cholesky")
        try:
            out = np.linalg.cholesky(_symmetric(x))
        except np.linalg.LinAlgError:
            raise ValueError("cholesky needs a symmetric positive definite matrix") from None
        self.saved = out
        return out

    def backward(self, g):
        # Murray (2016): with P = Φ(Lᵀ Ḡ) (the lower triangle, its diagonal halved),
        # Ā = sym(L⁻ᵀ P L⁻¹).
        (x,) = self.operands()
        L = self.saved_output(cholesky, x)
        n = L.shape[-1]
        m = matmul(_mT(L), g)
        phi = tril(m) - m * (0.5 * np.eye(n, dtype=L.dtype))
        Linv = inv(L)
        return _symmetrize(matmul(matmul(_mT(Linv), phi), Linv))


class SlogDet(Function):
    """[sign, log|det|] of a square matrix, stacked along a new first axis (so the Python
    ``sign, logdet = slogdet(a)`` unpacks, and the language writes ``slogdet(a)[1]``);
    the gradient comes through log|det| only: inv(A)ᵀ."""

    __slots__ = ()

    def forward(self, x):
        _square_matrices(x, "slogdet")
        sign, logdet = np.linalg.slogdet(x)
        return np.stack([sign, logdet]).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.operands()
        glog = getitem(g, 1) if isinstance(g, Variable) else g[1]
        return expand_dims(expand_dims(glog, -1), -1) * _mT(inv(x))


class Pinv(Function):
    """The Moore-Penrose pseudo-inverse X = A⁺ (np.linalg.pinv). Its derivative, where
    the rank does not change (Golub and Pereyra):
    Ā = -Xᵀ Ḡ Xᵀ + (I - A X) Ḡᵀ X Xᵀ + Xᵀ X Ḡᵀ (I - X A)."""

    __slots__ = ()

    def forward(self, x):
        if x.ndim < 2:
            raise ValueError(f"pinv needs a matrix (at least 2 dimensions), got {x.ndim}")
        out = np.linalg.pinv(x)
        self.saved = out
        return out

    def backward(self, g):
        (a,) = self.operands()
        X = self.saved_output(pinv, a)
        m, n = a.shape[-2], a.shape[-1]
        Xt, gt = _mT(X), _mT(g)
        left = np.eye(m, dtype=X.dtype) - matmul(a, X)
        right = np.eye(n, dtype=X.dtype) - matmul(X, a)
        return (-matmul(matmul(Xt, g), Xt) + matmul(matmul(left, gt), matmul(X, Xt))
                + matmul(matmul(Xt, X), matmul(gt, right)))


class Eigvalsh(Function):
    """The eigenvalues of the symmetric part of A, ascending; Ā = V diag(ḡ) Vᵀ."""

    __slots__ = ()

    def forward(self, x):
        _square_matrices(x, "eigvalsh")
        values, vectors = np.linalg.eigh(_symmetric(x))
        self.saved = vectors
        return values

    def backward(self, g):
        (x,) = self.operands()
        V = self.saved_output(eigvecsh, x)
        return matmul(V * expand_dims(g, -2), _mT(V))


class Eigvecsh(Function):
    """The eigenvectors of the symmetric part of A, as columns, in eigvalsh's order (each
    up to its sign, as NumPy gives it). For eigvalsh's higher derivatives:
    Ā = sym(V (F ∘ Vᵀ V̄) Vᵀ), F_ij = 1 / (λ_j - λ_i) off the diagonal."""

    __slots__ = ()

    def forward(self, x):
        _square_matrices(x, "eigvecsh")
        values, vectors = np.linalg.eigh(_symmetric(x))
        self.saved = (values, vectors)
        return vectors

    def backward(self, g):
        (x,) = self.operands()
        if GRAD_MODE.enabled:
            lam, V = eigvalsh(x), eigvecsh(x)
        else:
            lam, V = self.saved
        n = V.shape[-1]
        gap = expand_dims(lam, -2) - expand_dims(lam, -1)  # λ_j - λ_i
        eye = np.eye(n, dtype=V.dtype)
        F = (1.0 - eye) / (gap + eye)
        return _symmetrize(matmul(matmul(V, F * matmul(_mT(V), g)), _mT(V)))


class Svdvals(Function):
    """The singular values of A, descending (np.linalg.svd's); Ā = U diag(ḡ) Vᵀ."""

    __slots__ = ()

    def forward(self, x):
        if x.ndim < 2:
            raise ValueError(f"svdvals needs a matrix (at least 2 dimensions), got {x.ndim}")
        u, s, vt = np.linalg.svd(x, full_matrices=False)
        self.saved = (u, vt)
        return s

    def backward(self, g):
        (a,) = self.operands()
        if GRAD_MODE.enabled:
            return _svdvals_gradient(a, g)
        u, vt = self.saved
        return matmul(u * np.expand_dims(g, -2), vt)


def _svdvals_gradient(a: Variable, g: Variable) -> Variable:
    """U diag(ḡ) Vᵀ from differentiable operations: with V the eigenvectors of AᵀA (the
    smaller Gram matrix, so for a wide A, of AAᵀ with the roles swapped), it is
    A V diag(ḡ / s) Vᵀ."""
    if a.shape[-2] < a.shape[-1]:
        return _mT(_svdvals_gradient(_mT(a), g))
    s = svdvals(a)
    V = getitem(eigvecsh(matmul(_mT(a), a)), (Ellipsis, slice(None, None, -1)))
    safe = where(equal(s, 0.0), 1.0, s)
    return matmul(matmul(a, V * expand_dims(g / safe, -2)), _mT(V))


# -- the functions users call ------------------------------------------------------------


def cholesky(x: Any) -> Variable:
    return Cholesky()(x)


def slogdet(x: Any) -> Variable:
    return SlogDet()(x)


def pinv(x: Any) -> Variable:
    return Pinv()(x)


def eigvalsh(x: Any) -> Variable:
    return Eigvalsh()(x)


def eigvecsh(x: Any) -> Variable:
    return Eigvecsh()(x)


def svdvals(x: Any) -> Variable:
    return Svdvals()(x)


__all__ = ["cholesky", "eigvalsh", "pinv", "slogdet", "svdvals"]  # (eigvecsh: internal)
