"""The ``symbolic`` figure: ``gradcli diff`` (differentiate + simplify) on a battery of
textbook scalar functions and Matrix Cookbook expressions.

Scalars are timed beside SymPy's ``simplify(diff(f))`` and their printed size compared
with SymPy's; matrices are compared with the Cookbook's form. Size is counted in tokens
(names, numbers, operators, brackets), the same way for every side.

    python -m gradcli.bench --only symbolic
"""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

# (gradcli program, SymPy expression, or None where it is the same text with ** for ^)
SCALARS = [
    "x^2*sin(x)", "exp(x)*cos(x)", "log(x)/x", "sin(x)^2 + cos(x)^2", "2^x", "log2(x)",
    "(x+1)/(x-1)", "sqrt(1 + x^2)", "x/(1 + x^2)", "atan(x)", "tanh(x)", "exp(-x^2/2)",
    "x^x", "sin(x)*cos(x)", "1/(1 + exp(-x))", "log(1 + exp(x))", "x^3 - 2*x^2 + x - 5",
    "(1-x)^2 + 100*(2-x^2)^2", "sin(cos(x))", "x*exp(x)*log(x)",
]
# (program, shapes, wrt, the Cookbook's form of the gradient)
MATRICES = [
    ("x.T @ A @ x", {"x": "n", "A": "n,n"}, "x", "(A + A.T) @ x"),
    ("a.T @ X @ b", {"a": "n", "X": "n,m", "b": "m"}, "X", "outer(a, b)"),
    ("log(det(X))", {"X": "n,n"}, "X", "inv(X).T"),
    ("det(X)", {"X": "n,n"}, "X", "det(X)*inv(X).T"),
    ("trace(X @ A @ X.T)", {"X": "n,n", "A": "n,n"}, "X", "X @ (A + A.T)"),
    ("trace(A @ X)", {"A": "n,n", "X": "n,n"}, "X", "A.T"),
    ("trace(X.T @ X)", {"X": "n,m"}, "X", "2*X"),
    ("x.T @ x", {"x": "n"}, "x", "2*x"),
    ("sum((A @ x - b)^2)", {"A": "m,n", "x": "n", "b": "m"}, "x", "2*A.T @ (A @ x - b)"),
    ("p = sigmoid(X @ w); sum(-y*log(p) - (1-y)*log(1-p))",
     {"X": "n,m", "w": "m", "y": "n"}, "w", "X.T @ (p - y)"),
]

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z_0-9.]*|\d+\.?\d*|\*\*|[^\s]")


def tokens(text: str) -> int:
    return len(_TOKEN.findall(text.replace(".T", "'")))


def _best(run: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def _gradcli(program: str, **options: Any) -> Any:
    from gradcli.lang import symbolic

    return symbolic.differentiate(program, **options)[0]


def measure(quick: bool) -> dict[str, Any]:
    """Per-case times and sizes; SymPy's where it is installed."""
    try:
        import sympy
    except ImportError:
        sympy = None
    repeat = 1 if quick else 3
    scalars = SCALARS[:4] if quick else SCALARS
    rows = []
    for program in scalars:
        ours = _best(lambda p=program: _gradcli(p, wrt=["x"]), repeat)
        text = _gradcli(program, wrt=["x"]).text
        row = {"program": program, "ours": ours, "size": tokens(text), "text": text}
        if sympy is not None:
            x = sympy.Symbol("x", positive=True)
            f = sympy.sympify(program.replace("^", "**"),
                              locals={"x": x, "log2": lambda a: sympy.log(a, 2)})
            row["sympy"] = _best(lambda f=f, x=x: sympy.simplify(sympy.diff(f, x)), repeat)
            found = sympy.simplify(sympy.diff(f, x))
            row["sympy_size"] = tokens(sympy.sstr(found).replace("**", "^"))
            row["sympy_text"] = sympy.sstr(found).replace("**", "^")
        rows.append(row)
    matrices = []
    for program, shapes, wrt, cookbook in (MATRICES[:3] if quick else MATRICES):
        ours = _best(lambda p=program, s=shapes, w=wrt: _gradcli(p, wrt=[w], shapes=s),
                     repeat)
        text = _gradcli(program, wrt=[wrt], shapes=shapes).text
        matrices.append({"program": program, "ours": ours, "size": tokens(text),
                         "cookbook": tokens(cookbook), "text": text})
    big = " + ".join(f"{k % 7 + 1}*sin({k % 5 + 1}*x)^{k % 3 + 1}" for k in range(150))
    large = _best(lambda: _gradcli(big, wrt=["x"]), 1)
    return {"scalars": rows, "matrices": matrices, "large": large,
            "large_nodes": tokens(big), "sympy": sympy is not None}


def summary(found: dict[str, Any]) -> tuple[str, str, str, str, bool | None]:
    """(ours, reference, peers, target, met) for the benchmark table."""
    scalars, matrices = found["scalars"], found["matrices"]
    ours_ms = statistics.median(r["ours"] for r in scalars) * 1e3
    matrix_ms = statistics.median(m["ours"] for m in matrices) * 1e3
    size_ratios = [r["size"] / r["sympy_size"] for r in scalars if "sympy_size" in r]
    book_ratios = [m["size"] / m["cookbook"] for m in matrices]
    ours = (f"median {ours_ms:.1f} ms a scalar case, {matrix_ms:.1f} ms a matrix case; "
            f"{found['large_nodes']:,}-token sum in {found['large'] * 1e3:.0f} ms")
    reference = (f"size vs Cookbook: median {statistics.median(book_ratios):.2f}× "
                 f"(max {max(book_ratios):.2f}×)")
    if found["sympy"]:
        sympy_ms = statistics.median(r["sympy"] for r in scalars) * 1e3
        faster = sum(r["ours"] < r["sympy"] for r in scalars)
        peers = (f"SymPy simplify(diff) median {sympy_ms:.1f} ms (gradcli faster on {faster} of "
                 f"{len(scalars)}); size vs SymPy: median {statistics.median(size_ratios):.2f}× "
                 f"(max {max(size_ratios):.2f}×)")
        met = (statistics.median(size_ratios) <= 1.0 and statistics.median(book_ratios) <= 1.0
               and faster == len(scalars))
    else:
        peers, met = "SymPy: not installed (pip install gradcli[bench])", None
    return ours, reference, peers, "size ≤ 1.0× SymPy and Cookbook; faster than SymPy", met


def details(found: dict[str, Any]) -> str:
    """Each case: our formula, its size, and the reference's."""
    lines = ["| expression | gradcli | tokens | reference | tokens |", "|---|---|---|---|---|"]
    for r in found["scalars"]:
        lines.append(f"| `{r['program']}` | `{r['text']}` | {r['size']} | "
                     f"`{r.get('sympy_text', '-')}` | {r.get('sympy_size', '-')} |")
    for m, (_, _, _, book) in zip(found["matrices"], MATRICES):
        lines.append(f"| `{m['program']}` | `{m['text']}` | {m['size']} | `{book}` | "
                     f"{m['cookbook']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(details(measure(quick=False)))
