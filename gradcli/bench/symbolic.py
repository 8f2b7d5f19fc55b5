"""The ``symbolic`` figure: ``gradcli diff`` (differentiate + simplify) on a battery of
textbook scalar functions and Matrix Cookbook expressions.

Scalars are timed beside SymPy's ``simplify(diff(f))`` and their printed size compared
with SymPy's; matrices are compared with the Cookbook's form. Size is counted in tokens
(names, numbers, operators, brackets), the same way for every side.

    python -m gradcli.bench --only symbolic    # the two rows of the table
    python -m gradcli.bench.symbolic           # every case: formulas, sizes, times
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
    # the Cookbook's (63), (116), (51), (61); softmax, norms, a tanh layer (backprop)
    ("trace(inv(X) @ A)", {"X": "n,n", "A": "n,n"}, "X", "-(inv(X) @ A @ inv(X)).T"),
    ("trace(X @ B @ X.T @ C)", {"X": "n,m", "B": "m,m", "C": "n,n"}, "X",
     "C @ X @ B + C.T @ X @ B.T"),
    ("log(det(X.T @ X))", {"X": "n,m"}, "X", "2*X @ inv(X.T @ X)"),
    ("trace(inv(X))", {"X": "n,n"}, "X", "-(inv(X) @ inv(X)).T"),
    ("logsumexp(x)", {"x": "n"}, "x", "softmax(x)"),
    ("norm(x)", {"x": "n"}, "x", "x/norm(x)"),
    ("sum(X^2)", {"X": "n,m"}, "X", "2*X"),
    ("-x.T @ A @ x", {"x": "n", "A": "n,n"}, "x", "-(A + A.T) @ x"),
    ("trace(X @ X)", {"X": "n,n"}, "X", "2*X.T"),
    ("h = tanh(W @ x); sum(h^2)", {"W": "m,n", "x": "n"}, "W", "outer(2*h*(1 - h^2), x)"),
]

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z_0-9.]*|\d+\.?\d*|\*\*|[^\s]")


def tokens(text: str) -> int:
    return len(_TOKEN.findall(text.replace(".T", "'")))


def _best(run: Any, repeat: int, before: Any = None) -> float:
    """The best of ``repeat`` runs, each after ``before()`` (a cache emptied: every run
    is cold, as a user's one ``gradcli diff`` is)."""
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def _gradcli(program: str, **options: Any) -> Any:
    from gradcli.lang.symbolic.formula import differentiate

    # parse + read + differentiate + simplify + print; each call interns its terms in a
    # scope of its own (forgotten when it returns), so no run reuses another's
    formula = differentiate(program, **options)[0]
    formula.text  # noqa: B018 (printing is part of the work)
    return formula


def _sympy_case(sympy: Any, program: str) -> tuple[Any, Any]:
    x = sympy.Symbol("x", positive=True)
    f = sympy.sympify(program.replace("^", "**"),
                      locals={"x": x, "log2": lambda a: sympy.log(a, 2)})
    return f, x


def large_programs(quick: bool) -> dict[str, str]:
    """Three expressions of about 1,000 syntax-tree nodes (fewer with ``quick``): a sum,
    a deep composition and a long product."""
    k = 4 if quick else 1
    deep = "x"
    for i in range(333 // k):
        deep = f"sin({deep} + {i % 3 + 1})"
    return {
        "sum": " + ".join(f"{i % 7 + 1}*sin({i % 5 + 1}*x)^{i % 3 + 2}"
                          for i in range(125 // k)),
        "composition": deep,
        "product": "*".join(f"(x + {i + 1})" for i in range(250 // k)),
    }


def nodes(program: str) -> int:
    from gradcli.lang import syntax

    return sum(1 for st in syntax.parse(program) for _ in syntax.postorder(st))


def measure(quick: bool) -> dict[str, Any]:
    """Per-case times and sizes; SymPy's where it is installed."""
    try:
        import sympy
        from sympy.core.cache import clear_cache
    except ImportError:
        sympy = clear_cache = None
    repeat = 1 if quick else 3
    scalars = SCALARS[:4] if quick else SCALARS
    rows = []
    for program in scalars:
        ours = _best(lambda p=program: _gradcli(p, wrt=["x"]), repeat)
        text = _gradcli(program, wrt=["x"]).text
        row = {"program": program, "ours": ours, "size": tokens(text), "text": text}
        if sympy is not None:
            f, x = _sympy_case(sympy, program)
            row["sympy"] = _best(lambda f=f, x=x: sympy.simplify(sympy.diff(f, x)), repeat,
                                 before=clear_cache)
            found = sympy.sstr(sympy.simplify(sympy.diff(f, x))).replace("**", "^")
            row["sympy_size"], row["sympy_text"] = tokens(found), found
        rows.append(row)
    matrices = []
    for program, shapes, wrt, cookbook in (MATRICES[:3] if quick else MATRICES):
        ours = _best(lambda p=program, s=shapes, w=wrt: _gradcli(p, wrt=[w], shapes=s),
                     repeat)
        text = _gradcli(program, wrt=[wrt], shapes=shapes).text
        matrices.append({"program": program, "ours": ours, "size": tokens(text),
                         "cookbook": tokens(cookbook), "cookbook_text": cookbook,
                         "text": text})
    large = {}
    for name, program in large_programs(quick).items():
        seconds = _best(lambda p=program: _gradcli(p, wrt=["x"]), 1)
        formula = _gradcli(program, wrt=["x"])
        large[name] = {"nodes": nodes(program), "seconds": seconds,
                       "chars": len(formula.program)}
    return {"scalars": rows, "matrices": matrices, "large": large,
            "sympy": sympy is not None}


def size_ratios(found: dict[str, Any]) -> list[float]:
    """Each case's printed size over its reference's: SymPy's (scalars, where SymPy is
    installed) and the Cookbook's (matrices)."""
    return [r["size"] / r["sympy_size"] for r in found["scalars"] if "sympy_size" in r] + \
        [m["size"] / m["cookbook"] for m in found["matrices"]]


def rows(quick: bool) -> list[dict[str, Any]]:
    """The benchmark table's rows (the fields of ``gradcli.bench.__main__.Row``): the
    battery against SymPy and the Cookbook, and the 1,000-node expressions."""
    found = measure(quick)
    scalars, matrices = found["scalars"], found["matrices"]
    ours_ms = statistics.median(r["ours"] for r in scalars) * 1e3
    matrix_ms = statistics.median(m["ours"] for m in matrices) * 1e3
    book = [m["size"] / m["cookbook"] for m in matrices]
    ratios = size_ratios(found)
    battery = {
        "figure": "symbolic",
        "workload": f"gradcli diff (parse, differentiate, simplify, print) of {len(scalars)} "
                    f"textbook scalars and {len(matrices)} Matrix Cookbook gradients, cold",
        "ours": f"median {ours_ms:.2f} ms a scalar case, {matrix_ms:.2f} ms a matrix case",
        "floor": f"size vs Cookbook: median {statistics.median(book):.2f}× "
                 f"(max {max(book):.2f}×)",
        "target": "median size ≤ 1.0× the reference (SymPy, Cookbook); every case faster "
                  "than SymPy",
        "value": statistics.median(ratios),
    }
    if found["sympy"]:
        sympy_ms = statistics.median(r["sympy"] for r in scalars) * 1e3
        faster = sum(r["ours"] < r["sympy"] for r in scalars)
        speedup = min(r["sympy"] / r["ours"] for r in scalars)
        scalar = [r["size"] / r["sympy_size"] for r in scalars]
        battery["peers"] = (
            f"SymPy simplify(diff(f)) median {sympy_ms:.1f} ms (gradcli faster on {faster} "
            f"of {len(scalars)}, at least {speedup:.1f}×); size vs SymPy: median "
            f"{statistics.median(scalar):.2f}× (max {max(scalar):.2f}×)")
        battery["met"] = statistics.median(ratios) <= 1.0 and faster == len(scalars)
    else:
        battery["peers"] = "SymPy: not installed (pip install gradcli[bench])"
        battery["met"] = None
    large = found["large"]
    slowest = max(v["seconds"] for v in large.values())
    big = {
        "figure": "symbolic",
        "workload": "diff of large expressions: "
                    + ", ".join(f"{k} ({v['nodes']:,} nodes)" for k, v in large.items()),
        "ours": ", ".join(f"{k} {v['seconds'] * 1e3:,.0f} ms" for k, v in large.items()),
        "floor": "printed: " + ", ".join(f"{k} {v['chars']:,} chars"
                                         for k, v in large.items()),
        "peers": "-", "target": "< 1 s each", "met": slowest < 1.0, "value": slowest,
        "unit": "ms",
    }
    return [battery, big]


def summary(found: dict[str, Any]) -> str:
    """One line: the median size ratio and how many cases beat SymPy."""
    ratios = size_ratios(found)
    faster = sum(r["ours"] < r.get("sympy", 0) for r in found["scalars"])
    return (f"median size {statistics.median(ratios):.2f}× the reference; faster than SymPy "
            f"on {faster} of {len(found['scalars'])}")


def details(found: dict[str, Any]) -> str:
    """Each case: our formula, its size, and the reference's."""
    lines = ["| expression | gradcli | tokens | ms | reference | tokens | ms |",
             "|---|---|---|---|---|---|---|"]
    for r in found["scalars"]:
        theirs = f"{r['sympy'] * 1e3:.2f}" if "sympy" in r else "-"
        lines.append(f"| `{r['program']}` | `{r['text']}` | {r['size']} | "
                     f"{r['ours'] * 1e3:.2f} | `{r.get('sympy_text', '-')}` | "
                     f"{r.get('sympy_size', '-')} | {theirs} |")
    for m in found["matrices"]:
        lines.append(f"| `{m['program']}` | `{m['text']}` | {m['size']} | "
                     f"{m['ours'] * 1e3:.2f} | `{m['cookbook_text']}` (Cookbook) | "
                     f"{m['cookbook']} | - |")
    for name, v in found["large"].items():
        lines.append(f"| {v['nodes']:,}-node {name} | {v['chars']:,} chars | - | "
                     f"{v['seconds'] * 1e3:.0f} | - | - | - |")
    return "\n".join(lines + ["", summary(found)])


if __name__ == "__main__":
    print(details(measure(quick=False)))
