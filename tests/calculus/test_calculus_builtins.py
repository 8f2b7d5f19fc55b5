"""grad, jacobian and hessian in the language, against finite differences and closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from gradcli import evaluate
from gradcli.lang.results import Failure


def value_of(program: str, **variables) -> np.ndarray:
    outcomes = evaluate(program, variables)
    failures = [o for o in outcomes if isinstance(o, Failure)]
    assert not failures, failures[0].error.message
    return np.asarray(outcomes[-1].value)


def central(program: str, name: str, point: dict, eps: float = 1e-5) -> np.ndarray:
    """d program / d name at point, by central differences (the program's value summed)."""
    base = np.array(point[name], dtype=float)
    out = np.zeros(base.shape)
    for i in range(base.size):
        plus, minus = base.copy(), base.copy()
        plus.reshape(-1)[i] += eps
        minus.reshape(-1)[i] -= eps
        f_plus = value_of(program, **{**point, name: plus}).sum()
        f_minus = value_of(program, **{**point, name: minus}).sum()
        out.reshape(-1)[i] = (f_plus - f_minus) / (2 * eps)
    return out


@pytest.mark.parametrize("x", [-1.3, 0.0, 0.7, 2.5])
def test_third_derivative_of_sin_is_minus_cos(x):
    got = value_of("grad(grad(grad(sin(x), x), x), x)", x=x)
    assert got == pytest.approx(-np.cos(x), abs=1e-12)


@pytest.mark.parametrize("x", [-1.3, 0.4, 2.0])
def test_second_derivative_nests(x):
    assert value_of("grad(grad(x^4, x), x)", x=x) == pytest.approx(12 * x**2)
    assert value_of("grad(grad(exp(2*x), x), x)", x=x) == pytest.approx(4 * np.exp(2 * x))


def rosenbrock_hessian(a: float, b: float) -> np.ndarray:
    # f = (1 - a)^2 + 100 (b - a^2)^2
    return np.array([[2 - 400 * (b - 3 * a**2), -400 * a], [-400 * a, 200.0]])


@pytest.mark.parametrize("point", [(-1.2, 1.0), (1.0, 1.0), (0.3, -0.5)])
def test_rosenbrock_hessian_closed_form(point):
    a, b = point
    got = value_of("hessian((1 - p[0])^2 + 100*(p[1] - p[0]^2)^2, p)", p=np.array(point))
    np.testing.assert_allclose(got, rosenbrock_hessian(a, b), rtol=1e-12, atol=1e-9)


def test_grad_matches_finite_differences():
    rng = np.random.default_rng(3)
    x = rng.normal(size=4)
    program = "sum(tanh(x) * exp(x / 3))"
    got = value_of(f"grad({program}, x)", x=x)
    np.testing.assert_allclose(got, central(program, "x", {"x": x}), rtol=1e-7, atol=1e-9)


def test_jacobian_matches_finite_differences():
    rng = np.random.default_rng(4)
    z = rng.normal(size=3)
    got = value_of("jacobian(softmax(z), z)", z=z)
    assert got.shape == (3, 3)
    for i in range(3):
        row = central(f"softmax(z)[{i}]", "z", {"z": z})
        np.testing.assert_allclose(got[i], row, rtol=1e-7, atol=1e-9)
    s = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(got, np.diag(s) - np.outer(s, s), atol=1e-12)


def test_hessian_matches_finite_differences_of_grad():
    x = np.array([0.4, -1.1, 2.0])
    program = "sum(x^3) + x[0]*x[1] + sin(x[2])"
    got = value_of(f"hessian({program}, x)", x=x)
    numeric = np.stack([central(f"grad({program}, x)[{i}]", "x", {"x": x}) for i in range(3)])
    np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got, got.T)


def test_grad_of_a_non_scalar_is_a_clear_error():
    outcomes = evaluate("grad(x * 2, x)", {"x": "[1, 2]"})
    assert isinstance(outcomes[-1], Failure)
    assert "scalar" in outcomes[-1].error.message
