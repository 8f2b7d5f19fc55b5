"""Every built-in called through the language, its gradient checked against central
finite differences of the same program (float64)."""

from __future__ import annotations

import numpy as np
import pytest

from gradcli.lang.builtins import BUILTINS, CONSTANTS, all_names, callable_names, lookup
from gradcli.lang.results import Failure
from gradcli.lang.session import Session, evaluate
from tests.lang.conftest import last, value

rng = np.random.default_rng(7)
U = np.array([[0.3, -0.7, 1.2], [0.6, -1.1, 0.9]])  # general values, away from kinks
P = np.array([[0.3, 0.7, 1.2], [0.6, 1.1, 2.0]])  # positive
S = np.array([[0.3, -0.6, 0.2], [0.45, -0.1, 0.7]])  # inside (-1, 1)
G = np.array([[1.3, 1.7, 2.2], [1.5, 3.1, 2.0]])  # above 1
V = np.array([0.4, -1.3, 2.1])
W = np.array([1.1, 0.2, -0.8])
SQ = np.array([[2.0, 0.5, -0.3], [0.4, 1.7, 0.2], [-0.6, 0.3, 2.5]])  # well-conditioned
A = rng.normal(size=(2, 3))
B = rng.normal(size=(3, 2))

# (program, inputs): the program's last statement is the checked expression
CASES: list[tuple[str, str, dict[str, np.ndarray]]] = []


def case(name: str, program: str, **inputs: np.ndarray) -> None:
    CASES.append((name, program, inputs))


for _name, _data in [
    ("abs", U), ("sign", U), ("exp", U), ("expm1", U), ("log", P), ("log1p", P),
    ("log2", P), ("log10", P), ("sqrt", P), ("cbrt", U), ("square", U), ("reciprocal", U),
    ("sin", U), ("cos", U), ("tan", S), ("arcsin", S), ("arccos", S), ("arctan", U),
    ("sinh", U), ("cosh", U), ("tanh", U), ("arcsinh", U), ("arccosh", G), ("arctanh", S),
    ("sigmoid", U), ("relu", U), ("softplus", U), ("floor", U), ("ceil", U), ("round", U),
    ("exp2", U), ("logit", S * 0.5 + 0.5), ("erf", U), ("erfc", U), ("deg2rad", U),
    ("rad2deg", U), ("radians", U), ("degrees", U),
]:
    case(_name, f"{_name}(x)", x=_data)

case("maximum", "maximum(x, y)", x=U, y=S)
case("minimum", "minimum(x, y)", x=U, y=S)
case("power", "power(x, y)", x=P, y=U)
case("arctan2", "arctan2(x, y)", x=U, y=G)
case("hypot", "hypot(x, y)", x=U, y=S)
case("logaddexp", "logaddexp(x, y)", x=U, y=S)
case("logaddexp", "logaddexp(x * 500, 0) / 500", x=U)
case("logaddexp2", "logaddexp2(x, y) + logaddexp2(x * 800, 1) / 800", x=U, y=S)
case("mod", "mod(x, y)", x=U, y=G)
case("mod", "remainder(x * 3, y) + x % 0.5", x=U, y=G)
case("floor_divide", "floor_divide(x, y) * x + x // 0.25", x=U, y=G)
case("clip", "clip(x, -0.5, 1)", x=U)
case("clip", "clip(x, y, 1)", x=U, y=np.full((2, 3), -0.8))
case("where", "where(x > 0, x * 2, y ^ 2)", x=U, y=S)
case("where", "where(x > 0, x, 0)", x=U)
for _name, _data in [("sum", U), ("mean", U), ("prod", P), ("max", U), ("min", U), ("var", U),
                     ("std", U), ("logsumexp", U), ("norm", U)]:
    case(_name, f"{_name}(x)", x=_data)
    case(_name, f"{_name}(x, axis=0)", x=_data)
    case(_name, f"{_name}(x, -1, keepdims=true)", x=_data)
    case(_name, f"{_name}(x, axis=[0, 1])", x=_data)
case("var", "var(x, ddof=1) + var(x, 0, ddof=1)[1]", x=U)
case("std", "std(x, axis=1, keepdims=true, ddof=1)", x=U)
case("logsumexp", "logsumexp(x, b=p) + logsumexp(x, 0, b=[2, 1, 3])[1]", x=U, p=P)
case("logsumexp", "logsumexp(x, 1, b=p)", x=U, p=P)
case("norm", "norm(x, ord=1) + norm(x, 0, ord=inf)[0] + norm(v, ord=3)", x=U, v=V)
case("norm", "norm(x, ord=2) + norm(m, [1, 0], ord=-inf)", x=U, m=SQ)
case("softmax", "softmax(x)", x=U)
case("softmax", "softmax(x, axis=0)", x=U)
case("log_softmax", "log_softmax(x)", x=U)
case("log_softmax", "log_softmax(x, 0)", x=U)
case("matmul", "matmul(a, b)", a=A, b=B)
case("matmul", "a @ v", a=A, v=V)
case("dot", "dot(v, w)", v=V, w=W)
case("dot", "dot(a, b)", a=A, b=B)
case("outer", "outer(v, w)", v=V, w=W)
case("transpose", "transpose(a)", a=A)
case("transpose", "transpose(a, [1, 0])", a=A)
case("transpose", "transpose(reshape(v, 1, 3, 1), 2, 0, 1)", v=V)
case("trace", "trace(m)", m=SQ)
case("trace", "trace(m, offset=1) + m.trace(-2)", m=SQ)
case("einsum", "einsum(a, [0, 1], b, [1, 2], [0, 2])", a=A, b=B)
case("einsum", "einsum(m, [0, 0]) + einsum(a, [0, 1], v, [1])[0]", m=SQ, a=A, v=V)
case("tensordot", "tensordot(a, b, 1)", a=A, b=B)
case("tensordot", "tensordot(a, b, [[0, 1], [1, 0]]) + tensordot(v, w, 0)[1, 2]",
     a=A, b=B, v=V, w=W)
case("inner", "inner(a, a) + inner(v, w)", a=A, v=V, w=W)
case("kron", "kron(a, m)", a=A, m=SQ)
case("cross", "cross(v, w) + cross(a, w)[1]", v=V, w=W, a=A)
case("diag", "diag(v) + diag(m, 1)[0]", v=V, m=SQ)
case("diagonal", "diagonal(m, 1) + diagonal(reshape(a, 1, 2, 3), 0, 1, 2)[0, 0]", m=SQ, a=A)
case("tril", "tril(m) + triu(a, 1)[0, 0]", m=SQ, a=A)
case("triu", "m.triu(-1) @ v", m=SQ, v=V)
case("cholesky", "cholesky(m @ m' + eye(3))", m=SQ)
case("slogdet", "slogdet(m)[1] + slogdet(-m)[1]", m=SQ)
case("pinv", "pinv(a) + pinv(m)[0:3, 0:2]", a=A, m=SQ)
case("eigvalsh", "eigvalsh(m + m') * [1, 2, 3]", m=SQ)
case("svdvals", "svdvals(a) + svdvals(m)[0:2]", a=A, m=SQ)
case("swapaxes", "swapaxes(reshape(a, 2, 3, 1), 0, 2)", a=A)
case("moveaxis", "moveaxis(reshape(a, 2, 3, 1), [0, 1], [2, 0])", a=A)
case("det", "det(m)", m=SQ)
case("inv", "inv(m)", m=SQ)
case("solve", "solve(m, v)", m=SQ, v=V)
case("reshape", "reshape(a, 3, 2)", a=A)
case("reshape", "reshape(a, [-1])", a=A)
case("flatten", "flatten(a)", a=A)
case("squeeze", "squeeze(reshape(v, 1, 3, 1))", v=V)
case("squeeze", "squeeze(reshape(v, 1, 3, 1), axis=0)", v=V)
case("expand_dims", "expand_dims(v, 0)", v=V)
case("expand_dims", "expand_dims(v, axis=-1)", v=V)
case("concatenate", "concatenate([a, b * 2], axis=1)", a=A, b=B.T)
case("concatenate", "concatenate([v, w, v])", v=V, w=W)
case("stack", "stack([v, w])", v=V, w=W)
case("stack", "stack([v, w], axis=1)", v=V, w=W)
case("broadcast_to", "broadcast_to(v, [2, 3])", v=V)
case("flatten", "ravel(a) + a.ravel()", a=A)
case("repeat", "repeat(a, 2) + repeat(v, [1, 2, 0]).sum()", a=A, v=V)
case("repeat", "a.repeat(2, axis=1)", a=A)
case("tile", "tile(v, [2, 2]) + tile(a, 2)", v=V, a=A)
case("flip", "flip(a) + a.flip(1) + flip(a, [0, 1])", a=A)
case("roll", "roll(a, 1) + roll(a, [1, 2], [0, 1]) + a.roll(-1, axis=1)", a=A)
case("pad", "pad(a, 1) + pad(a, [[0, 2], [1, 1]], value=2)", a=A)
case("hstack", "hstack([v, w, v])", v=V, w=W)
case("vstack", "vstack([v, a])", v=V, a=A)
case("column_stack", "column_stack([v, w, b])", v=V, w=W, b=B)
case("split", "split(a, 3, axis=1)[2] + split(v, 3)[1]", a=A, v=V)
case("hsplit", "hsplit(a, 3)[0] * hsplit(a, 3)[1]", a=A)
case("vsplit", "vsplit(b, 3)[1] @ vsplit(b, 3)[0]'", b=B)
case("detach", "detach(x) * 0 + x", x=U)
case("cumsum", "cumsum(x) + cumsum(x, axis=1).sum()", x=U)
case("cumprod", "cumprod(x, 0) + x.cumprod(1) + cumprod(x * [1, 0, 1], 1)", x=U)
case("sort", "sort(x) * [1, 2, 3] + sort(x, axis=0)", x=U)
case("sort", "sort(x, axis=0)[0] + x.sort()[1]", x=U)
case("differences", "differences(x) + differences(x, 2)[0] + differences(x, axis=0)[0, 0]",
     x=U)
# derivatives as values: differentiating them checks second derivatives
case("grad", "grad(sum(sin(x) * x), x)", x=U)
case("jacobian", "jacobian(v^2 * w, v)", v=V, w=W)
case("hessian", "hessian(sum(v^3) + v[0] * v[1], v)", v=V)
# constructors make constants: gradients flow only to the inputs around them
case("ones", "ones(2, 3) * x", x=U)
case("zeros", "zeros([2, 3]) + x", x=U)
case("full", "full([2, 3], 4) * x", x=U)
case("eye", "eye(3) @ v", v=V)
case("arange", "arange(3) * v + arange(1, 4) + arange(0, 3, 1)", v=V)
case("linspace", "linspace(0, 1, 3) * v", v=V)
case("rand", "rand(3) * 0 + v", v=V)
case("randn", "randn(3) * 0 + v", v=V)
# the operators, for completeness
case("operators", "(x + y) * (x - y) / (y + 2) ^ 2 - -x", x=U, y=P)
case("operators", "x ** 3 + 2 ^ x", x=U)
case("index", "x[0, 1:] * 2 + x[1, [0, 2]]", x=U)
case("index", "x[:, ::-1][1]", x=U)
case("methods", "x.T @ x.sum(axis=1) + x'.max(1).exp()", x=U)
case("methods", "(x.sin() * y).sum(1, keepdims=true).log() + x.T.mean()", x=U, y=P)


def _objective(program: str, inputs: dict[str, np.ndarray], weights: np.ndarray | None) -> float:
    out = last(program, variables=inputs, graph=False).value
    return float(np.sum(out * (weights if weights is not None else 1.0)))


@pytest.mark.parametrize(("name", "program", "inputs"), CASES,
                         ids=[f"{n}:{p}" for n, p, _ in CASES])
def test_gradient_matches_finite_differences(name, program, inputs) -> None:
    first = last(program, variables=inputs, graph=False, seed=3)
    weights = None
    if first.value.size != 1 or first.value.ndim:
        weights = np.random.default_rng(1).uniform(0.5, 1.5, size=first.value.shape)
    result = last(program, variables=inputs, graph=False, seed=3, grad_output=weights)
    assert result.gradients is not None, result.note
    assert set(result.gradients) == set(inputs)
    eps = 1e-6
    for key, data in inputs.items():
        numeric = np.zeros_like(data)
        for i in np.ndindex(data.shape):
            plus = {k: v.copy() for k, v in inputs.items()}
            minus = {k: v.copy() for k, v in inputs.items()}
            plus[key][i] += eps
            minus[key][i] -= eps
            numeric[i] = (_objective(program, plus, weights)
                          - _objective(program, minus, weights)) / (2 * eps)
        np.testing.assert_allclose(result.gradients[key], numeric, rtol=1e-4, atol=1e-5,
                                   err_msg=f"d({program})/d{key}")


def test_every_builtin_is_checked() -> None:
    assert {n for n, _, _ in CASES} >= set(BUILTINS)


def test_detach_cuts_the_graph() -> None:
    r = last("x = 3\ndetach(x) * x")
    assert r.value == 9.0
    assert r.gradients["x"] == 3.0
    r = last("x = 3\ny = detach(x)\ny * x")
    assert set(r.gradients) == {"x", "y"}  # y is a leaf input of its own


@pytest.mark.parametrize(
    ("alias", "canonical", "argument"),
    [("ln", "log", "0.5"), ("asin", "arcsin", "0.5"), ("acos", "arccos", "0.5"),
     ("atan", "arctan", "0.5"), ("asinh", "arcsinh", "0.5"), ("acosh", "arccosh", "1.5"),
     ("atanh", "arctanh", "0.5"), ("atan2", "arctan2", "0.5, 2")],
)
def test_aliases(alias: str, canonical: str, argument: str) -> None:
    a = last(f"x = 0.25\n{alias}({argument}) * x")
    b = last(f"x = 0.25\n{canonical}({argument}) * x")
    assert a.value == b.value
    assert a.gradients["x"] == b.gradients["x"]
    assert lookup(alias) is lookup(canonical) is BUILTINS[canonical]


def test_constructor_values() -> None:
    np.testing.assert_array_equal(value("ones(2, 3)"), np.ones((2, 3)))
    np.testing.assert_array_equal(value("ones([2, 3])"), np.ones((2, 3)))
    np.testing.assert_array_equal(value("zeros(2)"), np.zeros(2))
    np.testing.assert_array_equal(value("full(2, 7)"), [7.0, 7.0])
    np.testing.assert_array_equal(value("eye(2)"), np.eye(2))
    np.testing.assert_array_equal(value("arange(4)"), [0, 1, 2, 3])
    np.testing.assert_array_equal(value("arange(1, 2, 0.25)"), [1, 1.25, 1.5, 1.75])
    np.testing.assert_array_equal(value("linspace(0, 1, 5)"), np.linspace(0, 1, 5))
    assert value("linspace(0, 1)").shape == (50,)
    assert value("ones()").shape == ()
    assert value("rand(2, 3)").shape == (2, 3)
    assert value("randn(4)").shape == (4,)


def test_random_draws_come_from_one_seeded_generator() -> None:
    a = evaluate("rand(3); randn(2)", seed=42)
    b = evaluate("rand(3); randn(2)", seed=42)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.value, y.value)
    c = evaluate("rand(3); rand(3)", seed=42)
    assert not np.array_equal(c[0].value, c[1].value)  # one stream, not reseeded per call
    np.testing.assert_array_equal(c[0].value, a[0].value)


def test_comparisons_give_0_1_without_gradient() -> None:
    r = last("x = [1, 2, 3]\nsum((x > 1.5) * x)")
    assert r.value == 5.0
    np.testing.assert_array_equal(r.gradients["x"], [0.0, 1.0, 1.0])
    for op, expected in [("<", [1, 0, 0]), ("<=", [1, 1, 0]), (">", [0, 0, 1]),
                         (">=", [0, 1, 1]), ("==", [0, 1, 0]), ("!=", [1, 0, 1])]:
        np.testing.assert_array_equal(value(f"[1, 2, 3] {op} 2"), expected)


def test_broadcasting_gradients_sum_back() -> None:
    r = last("x = [1, 2, 3]\ny = 2\nsum(x * y + [[1], [2]])")
    assert r.gradients["y"] == pytest.approx(12.0)
    np.testing.assert_allclose(r.gradients["x"], [4.0, 4.0, 4.0])


def test_table_shape() -> None:
    for b in BUILTINS.values():
        assert b.doc and b.signature.startswith(f"{b.name}(") and b.category
    assert BUILTINS["sum"].signature == "sum(x[, axis], keepdims=false)"
    assert BUILTINS["softmax"].signature == "softmax(x, axis=-1)"
    assert BUILTINS["ones"].signature == "ones(d0, d1, ...)"
    assert BUILTINS["arange"].signature == "arange([start, ]stop[, step])"
    assert "ln" in callable_names() and "log" in callable_names()
    assert set(CONSTANTS) == {"pi", "e", "inf", "nan", "true", "false"}
    assert "pi" in all_names() and "atan2" in all_names()


def test_session_names_are_not_functions() -> None:
    outcome = evaluate("x = 2\nx(3)")[-1]
    assert isinstance(outcome, Failure)
    assert outcome.error.message == '"x" is not a function (to multiply, write x*(...))'


def test_float32_sessions() -> None:
    s = Session(dtype="float32", variables={"x": "[1, 2]"})
    (r,) = s.run("sum(x * 2.5 + ones(2) + rand(2) * 0)")
    assert r.value.dtype == np.float32
    assert r.gradients["x"].dtype == np.float32
