"""Symbolic `diff` (SPEC §9): every rule against the engine, the simplifier's rewrites for
soundness, round trips, random expressions, and the textbook table of printed forms.

The symbolic side has derivative rules of its own (gradcli/lang/symbolic/); the table
test below holds each one against the engine's numeric gradient, at random points and at
two sizes, so the two can never drift apart: a rule added to ``ELEMENTWISE`` (or a
built-in that ``diff`` reads) without a case here fails ``test_every_rule_has_a_case``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcli import evaluate
from gradcli.lang import syntax as S
from gradcli.lang.results import Failure
from gradcli.lang.symbolic import constructors, formula, printing, reading, simplify, terms

SIZES = (3, 5)


def value_of(program: str, point: dict) -> np.ndarray:
    outcomes = evaluate(program, point)
    failures = [o for o in outcomes if isinstance(o, Failure)]
    assert not failures, f"{program!r}: {failures[0].error.message}"
    return np.asarray(outcomes[-1].value, dtype=np.float64)


def engine_gradient(program: str, point: dict, name: str) -> np.ndarray:
    [*_, result] = evaluate(program, point, wrt=[name])
    assert not isinstance(result, Failure), result.error.message
    return np.asarray(result.gradients[name], dtype=np.float64)


def sample(rng, shape, domain):
    if domain == "positive":
        return rng.uniform(0.3, 2.0, size=shape)
    if domain == "unit":
        return rng.uniform(-0.8, 0.8, size=shape)
    if domain == "above1":
        return rng.uniform(1.2, 3.0, size=shape)
    if domain == "prob":
        return rng.uniform(0.1, 0.9, size=shape)
    if domain == "matrix":
        n = shape[0]
        return rng.normal(size=shape) + n * np.eye(n)
    value = rng.normal(size=shape)
    return np.where(np.abs(value) < 0.1, 0.4, value)  # away from kinks


# (program, {name: (shape with "n" for the size, domain)}); every symbol differentiated
ELEMENTWISE_DOMAINS = {
    "log": "positive", "log1p": "positive", "log2": "positive", "log10": "positive",
    "sqrt": "positive", "arcsin": "unit", "arccos": "unit", "arctanh": "unit",
    "arccosh": "above1", "reciprocal": "positive", "logit": "prob",
}
UNARY = sorted(set(constructors.ELEMENTWISE) | {"sqrt", "square", "reciprocal"})
CASES = [(f"sum({f}(x) * w)", {"x": (("n",), ELEMENTWISE_DOMAINS.get(f, "normal")),
                               "w": (("n",), "normal")}) for f in UNARY]
CASES += [
    ("sum(maximum(x, y))", {"x": (("n",), "normal"), "y": (("n",), "normal")}),
    ("sum(minimum(x, y) * w)", {"x": (("n",), "normal"), "y": (("n",), "normal"),
                                "w": (("n",), "normal")}),
    ("sum(maximum(x, x))", {"x": (("n",), "normal")}),  # ties split as the engine splits
    ("sum(power(x, y))", {"x": (("n",), "positive"), "y": (("n",), "normal")}),
    ("sum(x ^ 3 * w)", {"x": (("n",), "normal"), "w": (("n",), "normal")}),
    ("sum(arctan2(y, x))", {"x": (("n",), "normal"), "y": (("n",), "normal")}),
    ("sum(hypot(x, y))", {"x": (("n",), "normal"), "y": (("n",), "normal")}),
    ("sum(clip(x, -0.5, 0.5))", {"x": (("n",), "normal")}),
    ("sum(clip(x, lo, hi))", {"x": (("n",), "normal"), "lo": ((), "normal"),
                              "hi": ((), "normal")}),
    ("sum(where(x > 0, x^2, 3*x))", {"x": (("n",), "normal")}),
    ("sum(where(c, x, y))", {"c": (("n",), "normal"), "x": (("n",), "normal"),
                             "y": (("n",), "normal")}),
    ("sum(x) + mean(x^2)", {"x": (("n",), "normal")}),
    ("prod(x)", {"x": ((3,), "normal")}),
    ("max(x) + min(x * w)", {"x": (("n",), "normal"), "w": (("n",), "normal")}),
    ("var(x) + std(x)", {"x": (("n",), "normal")}),
    ("logsumexp(x) + norm(x)", {"x": (("n",), "normal")}),
    ("sum(softmax(x) * w)", {"x": (("n",), "normal"), "w": (("n",), "normal")}),
    ("sum(log_softmax(x) * w)", {"x": (("n",), "normal"), "w": (("n",), "normal")}),
    ("sum(sum(X, axis=0) * w)", {"X": (("n", 4), "normal"), "w": ((4,), "normal")}),
    ("sum(sum(X, axis=1) * w)", {"X": ((4, "n"), "normal"), "w": ((4,), "normal")}),
    ("sum(mean(X, axis=1, keepdims=true) * X)", {"X": ((4, "n"), "normal")}),
    ("sum(max(X, axis=0) ^ 2)", {"X": (("n", 4), "normal")}),
    ("sum(X * x)", {"X": ((4, "n"), "normal"), "x": (("n",), "normal")}),
    ("sum(X + b)", {"X": (("n", 4), "normal"), "b": ((4,), "normal")}),
    ("x @ A @ x", {"x": (("n",), "normal"), "A": (("n", "n"), "normal")}),
    ("a @ X @ b", {"a": (("n",), "normal"), "X": (("n", 4), "normal"),
                   "b": ((4,), "normal")}),
    ("sum(matmul(A, B) * C)", {"A": (("n", 3), "normal"), "B": ((3, 2), "normal"),
                               "C": (("n", 2), "normal")}),
    ("dot(x, y) + sum(outer(x, z) * C)", {"x": (("n",), "normal"), "y": (("n",), "normal"),
                                          "z": ((2,), "normal"), "C": (("n", 2), "normal")}),
    ("trace(X @ A @ transpose(X))", {"X": (("n", "n"), "normal"),
                                     "A": (("n", "n"), "normal")}),
    ("log(det(X))", {"X": (("n", "n"), "matrix")}),
    ("det(X)", {"X": (("n", "n"), "matrix")}),
    ("det(X)", {"X": ((2, 2), "normal")}),
    ("det(X)", {"X": ((3, 3), "normal")}),
    ("sum(inv(X) * C)", {"X": (("n", "n"), "matrix"), "C": (("n", "n"), "normal")}),
    ("det(A @ X @ B) + log(abs(det(X @ B))) + trace(inv(A @ X))", {
        k: (("n", "n"), "matrix") for k in "AXB"}),
    ("det(A @ X @ B)", {k: ((3, 3), "matrix") for k in "AXB"}),  # exact cofactors kept
    ("sum(solve(A, b))", {"A": (("n", "n"), "matrix"), "b": (("n",), "normal")}),
    ("x[0]^2 + x[-1] * x[1]", {"x": (("n",), "normal")}),
    ("sum(X[1] * X[:, 0]) + X[0, 1]", {"X": (("n", "n"), "normal")}),
    # slices (of axes of known size): the gradient padded with zeros, pad(g, pad_width=...)
    ("sum(x[1:]^2) + sum(x[1:] * x[:-1]) + x[2:4][0]^3 + sum(x[-2:] * y)", {
        "x": ((5,), "normal"), "y": ((2,), "normal")}),
    ("sum(X[1:, :]^2 * W) + sum(X[:, :2]) + sum(X[1:3, 1:] @ x)", {
        "X": ((4, 3), "normal"), "W": ((3, 3), "normal"), "x": ((2,), "normal")}),
    ("sum(reshape(x, 2, 3) * W)", {"x": ((6,), "normal"), "W": ((2, 3), "normal")}),
    ("sum(flatten(X) * w)", {"X": ((2, 3), "normal"), "w": ((6,), "normal")}),
    ("sum(detach(x) * x)", {"x": (("n",), "normal")}),
    ("sum(sign(x) + floor(x) + x * (x > 0))", {"x": (("n",), "normal")}),
    ("sum(-x) - sum(+x)", {"x": (("n",), "normal")}),
    ("p = sigmoid(X @ w); sum(-y*log(p) - (1-y)*log(1-p))",
     {"X": (("n", 3), "normal"), "w": ((3,), "normal"), "y": (("n",), "positive")}),
    ("h = tanh(W @ x); sum(h^2)", {"W": ((2, "n"), "normal"), "x": (("n",), "normal")}),
    ("x ^ x * pi + e", {"x": ((), "positive")}),
    ("sum(logaddexp(x, y) * w)", {"x": (("n",), "normal"), "y": (("n",), "normal"),
                                  "w": (("n",), "normal")}),
    ("sum(logaddexp2(x, y) * w)", {"x": (("n",), "normal"), "y": (("n",), "normal"),
                                   "w": (("n",), "normal")}),
    ("sum(mod(x, y) * w + x % 0.7)", {"x": (("n",), "normal"), "y": (("n",), "positive"),
                                      "w": (("n",), "normal")}),
    ("sum(floor_divide(x, y) * w + x // 0.3 + x)", {
        "x": (("n",), "normal"), "y": (("n",), "positive"), "w": (("n",), "normal")}),
    ("inner(x, y) + sum(inner(X, Y) * C) + sum(inner(X, x))", {
        "x": (("n",), "normal"), "y": (("n",), "normal"), "X": ((2, "n"), "normal"),
        "Y": ((3, "n"), "normal"), "C": ((2, 3), "normal")}),
    ("sum(diag(x) * X) + sum(diag(X) * y) + sum(diagonal(X)^2)", {
        "x": (("n",), "normal"), "y": (("n",), "normal"), "X": (("n", "n"), "normal")}),
    ("var(x, ddof=1) + std(x, 0, false, 1) + sum(std(X, axis=1, ddof=1) * y)", {
        "x": (("n",), "normal"), "X": ((3, "n"), "normal"), "y": ((3,), "normal")}),
    ("trace(X, 0) + norm(x, ord=2)", {"X": (("n", "n"), "normal"), "x": (("n",), "normal")}),
    # constants the program makes (fixed sizes: the values fix them)
    ("sum(x * arange(3) + ones(3) * x^2 + full(3, 2) * x - zeros(3) + eye(3) @ x"
     " + linspace(0, 1, 3) * x)", {"x": ((3,), "normal")}),
]


def shape_at(shape, n):
    return tuple(n if d == "n" else d for d in shape)


def check_program(program: str, inputs: dict, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    point = {k: sample(rng, shape_at(s, n), dom) for k, (s, dom) in inputs.items()}
    shapes = {k: s for k, (s, _) in inputs.items()}
    formulas = formula.differentiate(program, shapes=shapes)
    assert sorted(f.wrt for f in formulas) == sorted(inputs), program
    for f in formulas:
        got = f({**point, "n": n})  # the size name is bound like a value
        want = engine_gradient(program, point, f.wrt)
        np.testing.assert_allclose(np.broadcast_to(got, want.shape), want, rtol=1e-7,
                                   atol=1e-9, err_msg=f"d/d{f.wrt} {program} = {f.text}")
        # round trip: the printed text parses back to the same tree
        reparsed = S.parse(f.text, start="statement")
        assert S.to_text(reparsed) == f.text


@pytest.mark.parametrize("program, inputs", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("n", SIZES)
def test_formula_equals_the_engine_gradient(program, inputs, n):
    for seed in range(2):
        check_program(program, inputs, n, seed)


def test_every_rule_has_a_case():
    programs = " ".join(p for p, _ in CASES)
    for name in list(constructors.ELEMENTWISE) + list(constructors.REDUCTIONS) + [
            "maximum", "minimum", "power", "arctan2", "hypot", "clip", "where", "softmax",
            "log_softmax", "matmul", "dot", "outer", "transpose", "trace", "det", "inv",
            "solve", "reshape", "flatten", "detach"]:
        assert f"{name}(" in programs, f"{name} has no case against the engine"


def test_every_builtin_has_a_case_or_a_refusal_that_says_why():
    """Every row of builtins.py's table: a case above, held against the engine, or a line
    in diff's refusal table whose reason the refusal prints. A new built-in without
    either fails here."""
    from gradcli.lang.builtins import BUILTINS

    programs = " ".join(p for p, _ in CASES)
    for name in BUILTINS:
        why = reading._REFUSED_WHY.get(name)
        if why is None:
            assert f"{name}(" in programs, f"{name}: no case against the engine, no refusal"
            continue
        assert f"{name}(" not in programs, f"{name} is refused but has a case"
        with pytest.raises(terms.SymbolicError) as error:
            formula.differentiate(f"y = {name}(x); sum(y)", shapes={"x": ("n", "n")})
        assert error.value.message == f"{name}: {why}"
        assert error.value.span[:2] == (1, 5)  # the call, by line and column


# -- the textbook and Matrix Cookbook table -------------------------------------------------

TEXTBOOK = [
    ("x^2*sin(x)", {}, {"x": "2*x*sin(x) + x^2*cos(x)"}),
    ("sin(x)^2 + cos(x)^2", {}, {"x": "0"}),
    ("2^x", {}, {"x": "2^x*log(2)"}),
    ("log2(x)", {}, {"x": "1/(x*log(2))"}),
    ("(x+1)/(x-1)", {}, {"x": "-2/(x - 1)^2"}),
    ("exp(x)*sin(x)", {}, {"x": "exp(x)*(cos(x) + sin(x))"}),  # common factor out
    ("x*exp(x)", {}, {"x": "exp(x) + x*exp(x)"}),  # ... only where it saves tokens
    ("(1-x)^2 + 100*(2-x^2)^2", {}, {"x": "400*x^3 - 798*x - 2"}),
    ("sqrt(x)", {}, {"x": "1/(2*sqrt(x))"}),
    ("1/x", {}, {"x": "-1/x^2"}),
    ("-(-x)", {}, {"x": "1"}),
    ("x/(1 + x^2)", {}, {"x": "(1 - x^2)/(x^2 + 1)^2"}),
    ("atan(x)", {}, {"x": "1/(x^2 + 1)"}),
    ("x^2*y", {}, {"x": "2*x*y", "y": "x^2"}),
    ("sqrt(x)*sqrt(x)", {}, {"x": "1"}),
    ("exp(x)/exp(x)", {}, {"x": "0"}),
    ("x.T @ A @ x", {"x": "n", "A": "n,n"}, {"x": "(A + A.T) @ x", "A": "outer(x, x)"}),
    ("x' @ x", {"x": "n"}, {"x": "2*x"}),
    ("log(det(X))", {"X": "n,n"}, {"X": "inv(X).T"}),
    ("trace(X @ A @ X.T)", {"X": "n,n", "A": "n,n"}, {"X": "X @ (A + A.T)", "A": "X.T @ X"}),
    ("a.T @ X @ b", {"a": "n", "X": "n,m", "b": "m"},
     {"a": "X @ b", "X": "outer(a, b)", "b": "X.T @ a"}),
    ("trace(A @ X)", {"A": "n,n", "X": "n,n"}, {"X": "A.T"}),
    ("trace(X)", {"X": "n,n"}, {"X": "eye(n)"}),
    ("sum(A @ x)", {"A": "m,n", "x": "n"}, {"x": "A.T @ ones(m)"}),
    ("mean(x)", {"x": "n"}, {"x": "1/n"}),
    ("p = sigmoid(X @ w); sum(-y*log(p) - (1-y)*log(1-p))", {"X": "n,m", "w": "m", "y": "n"},
     {"w": "X.T @ (p - y)"}),
    ("sin(x)*cos(x)", {}, {"x": "cos(2*x)"}),  # cos(x)^2 - sin(x)^2
    ("trace(inv(X) @ A)", {"X": "n,n", "A": "n,n"},
     {"X": "-inv(X).T @ A.T @ inv(X).T"}),  # the sign on the chain's first operand
    ("trace(X @ B @ X.T @ C)", {"X": "n,m", "B": "m,m", "C": "n,n"},
     {"X": "C @ X @ B + C.T @ X @ B.T"}),  # one chain, not C @ (X @ B)
    ("log(det(X.T @ X))", {"X": "n,m"}, {"X": "2*X @ inv(X.T @ X)"}),  # symmetric inverse
    ("x.T @ A.T @ A @ x", {"x": "n", "A": "m,n"}, {"x": "2*A.T @ A @ x"}),
    ("-x.T @ A @ x", {"x": "n", "A": "n,n"}, {"x": "-(A + A.T) @ x"}),  # the sign out
    ("mean((A @ x - b)^2)", {"x": "n", "A": "m,n", "b": "m"},
     {"x": "2*A.T @ (A @ x - b)/m"}),  # ((2*A.T) @ r)/m, no parentheses needed
    ("logsumexp(x)", {"x": "n"}, {"x": "softmax(x)"}),  # exp(x - logsumexp(x))
    ("sum(logsumexp(X, axis=0) * w)", {"X": "n,m", "w": "m"}, {"X": "w*softmax(X, axis=0)"}),
    ("1/(1 + exp(-x))", {}, {"x": "sigmoid(x)*(1 - sigmoid(x))"}),  # read as sigmoid(x)
    ("log(1 + exp(x))", {}, {"x": "sigmoid(x)"}),  # exp(x)/(1 + exp(x))
    ("x*exp(x)*log(x)", {}, {"x": "exp(x)*(log(x)*(x + 1) + 1)"}),  # collected in part
    # a square factor cancelled against the inverse of the chain it starts or ends
    ("det(A @ X @ B)", {"A": "n,n", "X": "n,n", "B": "n,n"}, {"X": "det(A @ X @ B)*inv(X).T"}),
    ("log(det(A @ X @ B))", {"A": "n,n", "X": "n,n", "B": "n,n"}, {"X": "inv(X).T"}),
    ("det(X @ B)", {"X": "n,n", "B": "n,n"}, {"X": "det(X @ B)*inv(X).T"}),
    ("transpose(transpose(A)) @ x", {"A": "n,n", "x": "n"}, {}),  # forward only
]


@pytest.mark.parametrize("program, shapes, expected", TEXTBOOK, ids=[t[0] for t in TEXTBOOK])
def test_textbook_forms(program, shapes, expected):
    if not expected:
        declared = {k: reading._parse_shape(v) for k, v in shapes.items()}
        assert printing.to_text(reading.Reader(shapes=declared)
                                .run(S.parse(program))) == "A @ x"
        return
    found = {f.wrt: f.text for f in formula.differentiate(program, wrt=list(expected),
                                                    shapes=shapes)}
    assert found == expected


def test_hessians():
    [h] = formula.differentiate("x' @ A @ x", wrt="x", shapes={"x": "n", "A": "n,n"}, order=2)
    assert h.text == "A + A.T"
    [h] = formula.differentiate("x^3", order=2)
    assert h.text == "6*x"
    [h] = formula.differentiate("sin(x)*y", wrt="x", order=2)
    assert h.text == "-y*sin(x)"


def test_jacobians():
    [j] = formula.differentiate("A @ x", wrt="x", shapes={"x": "n", "A": "m,n"})
    assert j.text == "A"
    [j] = formula.differentiate("2*x + A @ x", wrt="x", shapes={"x": "n", "A": "n,n"})
    assert j.text == "A + 2*eye(n)"


@pytest.mark.parametrize("program, text", [
    ("x^2", "diag(2*x)"), ("x*sin(x)", "diag(sin(x) + x*cos(x))"),
    ("maximum(x, w) * w", "diag(w*((x == w)/2 + (x > w)))"),
    ("exp(-x^2/2) + 3", "diag(-x*exp(-x^2/2))"),
])
@pytest.mark.parametrize("n", SIZES)
def test_elementwise_jacobians_are_diagonal(program, text, n):
    check_jacobian(program, text, n)


@pytest.mark.parametrize("program, text", [
    ("tanh(A @ x)", "diag(1 - tanh(A @ x)^2) @ A"),
    ("(A @ x)^2 + w", "2*diag(A @ x) @ A"),
    ("x * (A @ x)", "diag(x) @ A + diag(A @ x)"),
    ("exp(x) * (A @ x) + x", "diag(exp(x)) @ A + diag(exp(x)*(A @ x)) + eye(n)"),
    ("sigmoid(A @ tanh(A @ x))",
     "diag(sigmoid(A @ tanh(A @ x))*(1 - sigmoid(A @ tanh(A @ x)))) @ A @ "
     "diag(1 - tanh(A @ x)^2) @ A"),
    # through a scalar factor that depends on x: outer(the others, its gradient)
    ("x/norm(x)", "eye(n)/norm(x) - outer(x, x)/norm(x)^3"),
    ("w*sum(x^2)", "2*outer(w, x)"),
    ("x*sum(x)", "outer(x, ones(n)) + sum(x)*eye(n)"),
    ("x - mean(x)", "eye(n) - ones(n, n)/n"),  # a scalar term broadcast: its gradient in every row
    ("softmax(x)", "diag(softmax(x)) - outer(softmax(x), softmax(x))"),
    ("softmax(A @ x)", "(diag(softmax(A @ x)) - outer(softmax(A @ x), softmax(A @ x))) @ A"),
])
@pytest.mark.parametrize("n", SIZES)
def test_jacobians_by_the_chain_and_product_rules(program, text, n):
    check_jacobian(program, text, n)


def check_jacobian(program, text, n):
    # each f[i] depends on x[i] alone: diag(the gradient of sum(f)), against the engine
    [j] = formula.differentiate(program, wrt="x", shapes={"x": "n", "w": "n", "A": "n,n"})
    assert j.text == text
    rng = np.random.default_rng(n)
    point = {"x": rng.normal(size=n), "w": rng.normal(size=n),
             "A": rng.normal(size=(n, n)) / n}
    np.testing.assert_allclose(j({**point, "n": n}),
                               value_of(f"jacobian({program}, x)", point), rtol=1e-9)


def test_refusals_name_the_operation():
    for program, shapes, words in [
        ("sum(x[x > 0])", {"x": "n"}, "mask"),
        ("sum(x[::2])", {"x": "5"}, "step"),
        ("sum(x[1:])", {"x": "n"}, "symbolic size n"),
        ("sum(X[0, 1:])", {"X": "3,4"}, "beside an integer"),
        ("sum(concatenate([x, x]))", {"x": "n"}, "concatenate"),
        ("prod(x)", {"x": "n"}, "prod"),
        ("sum(cumsum(x))", {"x": "n"}, "cumsum: running totals"),
        ("logsumexp(x, b=x)", {"x": "n"}, "weights"),
        ("norm(x, ord=1)", {"x": "n"}, "Euclidean"),
        ("norm(X, ord=2)", {"X": "n,n"}, "singular value"),
        ("trace(X, 1)", {"X": "n,n"}, "offset"),
        ("sum(diag(x, 1))", {"x": "n"}, "main diagonal"),
        ("sum(diagonal(X))", {"X": "n,m"}, "square"),
        ("sum(A @ B)", {"A": "n,m", "B": "k,m"}, "matmul"),
    ]:
        with pytest.raises(terms.SymbolicError) as error:
            formula.differentiate(program, shapes=shapes)
        assert words in error.value.message, (program, error.value.message)


# -- the simplifier's rewrites, each sound at random points ---------------------------------

REWRITES = [  # (program whose term is rewritten as it is built, inputs)
    ("x*1 + 0*x + x^1 - x", {"x": ()}),  # identities and like terms
    ("x*y*x / y^2 * 3 * 2", {"x": (), "y": ()}),  # like factors, numbers folded
    ("(2*x)^2 * x^-1", {"x": ()}),  # powers of products and of powers
    ("sin(x)^2 * y + cos(x)^2 * y", {"x": (), "y": ()}),  # Pythagoras
    ("exp(log(x)) + log(exp(x)) + exp(2*log(x))", {"x": ()}),
    ("A @ x + A.T @ x + A @ y", {"A": (3, 3), "x": (3,), "y": (3,)}),  # factored
    ("transpose(A @ B) + transpose(transpose(A))", {"A": (3, 3), "B": (3, 3)}),
    ("sum((2*A) @ x)", {"A": (3, 3), "x": (3,)}),  # numbers out of @
    ("x @ A", {"A": (3, 3), "x": (3,)}),  # x @ A is A' @ x
    ("1/(x - 1) - (x + 1)/(x - 1)^2", {"x": ()}),  # over a common denominator
    ("x*(1 - x) + x^2", {"x": ()}),  # multiplied out where shorter
    ("sqrt(x)^2 + x^0.5 * x^0.5", {"x": ()}),
    ("cos(x)^2*y - y*sin(x)^2 + 2*cos(3*x)^2 - 2*sin(3*x)^2", {"x": (), "y": ()}),  # 2u
    ("sum(exp(x - logsumexp(x))*x) + sum(exp(X - logsumexp(X, axis=0, keepdims=true))*X)",
     {"x": (3,), "X": (3, 2)}),  # softmax
    ("-(A @ B) @ x + C @ (A @ (B @ x))", {"A": (3, 3), "B": (3, 3), "C": (3, 3),
                                          "x": (3,)}),  # printed as chains
    ("1/(1 + exp(-x)) + 2/(exp(3*x) + 1) + exp(y)*sigmoid(-y) + sum(1/(1 + exp(z)))",
     {"x": (), "y": (), "z": (3,)}),  # sigmoid
    ("exp(x) + x*exp(x)*log(x) + exp(x)*log(x) + y*exp(x)*sin(x) + sin(x)*exp(x)",
     {"x": (), "y": ()}),  # factored, then collected in part
]


@pytest.mark.parametrize("program, inputs", REWRITES, ids=[r[0] for r in REWRITES])
def test_rewrites_are_sound(program, inputs):
    reader = reading.Reader(shapes=inputs)
    term = simplify.tidy(reader.run(S.parse(program)))
    text = printing.to_text(term)
    rng = np.random.default_rng(1)
    for _ in range(3):
        point = {k: rng.uniform(1.2, 2.0, size=s) for k, s in inputs.items()}
        np.testing.assert_allclose(value_of(text, point), value_of(program, point),
                                   rtol=1e-9, err_msg=f"{program} -> {text}")
    read = reading.Reader(shapes=inputs).run(S.parse(program))
    assert terms.weight(term) <= terms.weight(read) + 1


def test_double_angle_only_for_opposite_equal_coefficients():
    for program, text in [("cos(x)^2 - sin(x)^2", "cos(2*x)"),
                          ("3*y*cos(x)^2 - 3*y*sin(x)^2", "3*y*cos(2*x)"),
                          ("3*cos(x)^2 - 2*sin(x)^2", "3*cos(x)^2 - 2*sin(x)^2"),
                          ("cos(x)^2 - sin(y)^2", "cos(x)^2 - sin(y)^2")]:
        assert printing.to_text(reading.Reader().run(S.parse(program))) == text, program


def test_the_inverse_of_a_symmetric_matrix_is_not_transposed():
    X = terms.sym("X", ("n", "m"))
    gram = constructors.matmul(constructors.transpose(X), X)
    assert constructors.transpose(constructors.call("inv", gram)) is constructors.call("inv", gram)
    A = terms.sym("A", ("n", "n"))
    # not symmetric
    assert printing.to_text(constructors.transpose(constructors.call("inv", A))) == "inv(A).T"
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 2))
    np.testing.assert_allclose(value_of("transpose(inv(X.T @ X))", {"X": x}),
                               value_of("inv(X.T @ X)", {"X": x}), rtol=1e-9)


def test_a_derivative_forgets_its_terms():
    formula.differentiate("x^2*sin(x)")
    before = len(terms._INTERNED)
    for k in range(20):
        formula.differentiate(f"x^{k}*log(x + {k})")
    assert len(terms._INTERNED) == before


def test_shared_subexpressions_stay_shared():
    # f = x; f = sin(f) * f, twenty times: a DAG of ~60 nodes whose tree is huge
    program = "f = x\n" + "f = sin(f) * f + f\n" * 20 + "f"
    [f] = formula.differentiate(program)
    tree, dag = terms.weight(f.term), len(terms._topological(f.term))
    assert tree > 10**15 and dag < 2000  # huge as a tree; the DAG is small
    assert len(f.program) < 60 * dag  # printed with names for the shared parts
    x = 0.7
    np.testing.assert_allclose(f({"x": x}), engine_gradient(program, {"x": x}, "x"),
                               rtol=1e-8)


def test_a_thousand_node_sum_differentiates():
    program = " + ".join(f"{k % 7 + 1}*sin({k % 5 + 1}*x)^{k % 3 + 1}" for k in range(150))
    [f] = formula.differentiate(program)
    rng = np.random.default_rng(0)
    x = rng.normal()
    np.testing.assert_allclose(f({"x": x}), engine_gradient(program, {"x": x}, "x"),
                               rtol=1e-8)


# -- random expressions -------------------------------------------------------------------

SCALAR_LEAVES = st.sampled_from(["x", "y", "2", "0.5", "3"])
UNARY_SAFE = ["sin", "cos", "exp", "tanh", "sigmoid", "softplus", "arctan", "abs"]


def expressions(depth: int = 3):
    def extend(inner):
        return st.one_of(
            st.tuples(st.sampled_from(UNARY_SAFE), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, st.sampled_from(["2", "3"])).map(lambda t: f"({t[0]})^{t[1]}"),
            inner.map(lambda a: f"({a})/(1 + ({a})^2)"),
        )
    return st.recursive(SCALAR_LEAVES, extend, max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions(), st.floats(-2, 2), st.floats(-2, 2))
def test_random_scalar_expressions(program, x, y):
    program = f"{program} + 0*x + 0*y"
    point = {"x": x if abs(x) > 0.05 else 0.3, "y": y if abs(y) > 0.05 else 0.3}
    for f in formula.differentiate(program):
        want = engine_gradient(program, point, f.wrt)
        np.testing.assert_allclose(f(point), want, rtol=1e-6, atol=1e-8,
                                   err_msg=f"d/d{f.wrt} {program} = {f.text}")


VECTOR_LEAVES = st.sampled_from(["v", "w", "A @ v", "A.T @ w", "2*v", "sin(v)"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(VECTOR_LEAVES, lambda inner: st.one_of(
    st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"),
    st.tuples(st.sampled_from(["tanh", "exp", "sigmoid"]), inner).map(
        lambda t: f"{t[0]}({t[1]})"),
    inner.map(lambda a: f"A @ ({a})"),
), max_leaves=6), st.integers(0, 2**16), st.sampled_from(SIZES))
def test_random_vector_and_matrix_expressions(body, seed, n):
    program = f"sum({body}) + 0*sum(v) + 0*sum(w)"
    rng = np.random.default_rng(seed)
    point = {"v": rng.normal(size=n), "w": rng.normal(size=n),
             "A": rng.normal(size=(n, n)) / n}
    shapes = {"v": "n", "w": "n", "A": "n,n"}
    for f in formula.differentiate(program + " + 0*sum(A)", shapes=shapes):
        want = engine_gradient(program + " + 0*sum(A)", point, f.wrt)
        got = np.broadcast_to(f({**point, "n": n}), want.shape)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8,
                                   err_msg=f"d/d{f.wrt} {program} = {f.text}")


def test_every_refusal_is_in_the_documentation():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "diff.md").read_text()
    for name, why in reading._REFUSED_WHY.items():
        if why:
            assert f"`{name}`" in text or f"`{name}/" in text or f"/`{name}`" in text, name


def test_cancelled_inverse_holds_at_a_singular_outer_factor():
    # det(A @ X @ B)*inv(X).T needs only X invertible: at a singular A it is 0, as the
    # engine's gradient A' cof(A X B) B' is there
    rng = np.random.default_rng(3)
    n = 4
    a = rng.normal(size=(n, n))
    a[-1] = a[0] + a[1]  # rank n - 1
    point = {"A": a, "X": rng.normal(size=(n, n)) + n * np.eye(n),
             "B": rng.normal(size=(n, n)) + n * np.eye(n)}
    [f] = formula.differentiate("det(A @ X @ B)", wrt="X", shapes={k: "n,n" for k in "AXB"})
    np.testing.assert_allclose(f({**point, "n": n}),
                               engine_gradient("det(A @ X @ B)", point, "X"), atol=1e-9)
