"""Programs whose outcomes exercise every part of the human output, for comparing renderers.

Each case is (program, variables, session options); ``outcomes()`` runs them all.
"""

from __future__ import annotations

from typing import Any

from gradcli.lang.results import Failure, Result
from gradcli.lang.session import evaluate

CASES: list[tuple[str, dict[str, str], dict[str, Any]]] = [
    ("1+2", {}, {}),
    ("out = mean(3*(x+2)^2)", {"x": "ones(2,2)"}, {}),
    ("y = x * x\nz = y + y\nsum(z * y)", {"x": "[1, 2, 3]"}, {}),  # shared nodes: ↑ y
    ("sum(x^2 + x^3 + 2*x)", {"x": "[1.5, -2, 3]"}, {}),  # an unnamed node used twice: #id
    ("x * [1, 2]", {"x": "[3, 4]"}, {}),  # non-scalar: the note that gradients are absent
    ("sin(x)", {"x": "linspace(0, 1, 3)"}, {"grad_output": "ones(3)"}),
    ("w @ x", {"w": "randn(3, 4)", "x": "ones(4)"}, {"seed": 3, "grad_output": "ones(3)"}),
    ("sum(W @ x)", {"W": "randn(5, 5)", "x": "randn(5)"}, {"seed": 1}),  # multi-line values
    ("sum(A)", {"A": "randn(20, 20)"}, {"seed": 2}),  # summarised with ...
    ("x / 3", {"x": "ones(30)"}, {"grad_output": "ones(30)"}),  # a long line wrapped by NumPy
    ("log(0) + x", {"x": "1"}, {}),  # -inf and a warning
    ("0/0", {}, {}),
    ("a = 2\nb = a^3\nb * 1e-9", {}, {}),
    ("big = 1e20 * x", {"x": "[1, 2]"}, {"grad_output": "[1, 1]"}),
    ("x = [[1, 2], [3, 4]]\ndet(x) + trace(x)", {}, {}),
    ("f(", {}, {}),  # a parse error
    ("q + 1", {}, {}),  # an unknown name with a hint
    ("x @ y", {"x": "ones(2,3)", "y": "ones(2,3)"}, {}),  # a shape error
    ("tanh(tanh(tanh(tanh(tanh(tanh(tanh(tanh(tanh(tanh(tanh(tanh(tanh(tanh(x))))))))))))))",
     {"x": "0.5"}, {}),  # deeper than the default cut
    ("sum(x)\nmean(x)\nmax(x)", {"x": "[3, 1, 2]"}, {"wrt": ["x"]}),
    ("y = exp(x)\ny", {"x": "2"}, {"dtype": "float32"}),
    ("s = 'ab'", {}, {}),
    ("[bold]x[/bold] + 1", {}, {}),
    ("1 +\t2", {}, {}),  # a tab in the statement
    ("1 + 2  # comment\r", {}, {}),  # a carriage return
    ("x * (1 +\n  2)", {"x": "1"}, {}),  # a statement over two lines
    ("softmax(z)", {"z": "[1, 2, 3]"}, {"grad_output": "[1, 0, 0]"}),
    ("x" + " + x" * 40, {"x": "1"}, {}),  # a wide graph
]


def outcomes() -> list[Result | Failure]:
    found: list[Result | Failure] = []
    for program, variables, options in CASES:
        found += evaluate(program, variables or None, **options)
    return found


def results() -> list[Result]:
    return [outcome for outcome in outcomes() if isinstance(outcome, Result)]


def failures() -> list[Failure]:
    return [outcome for outcome in outcomes() if isinstance(outcome, Failure)]
