"""Grammar-aware hypothesis strategies for gradcli programs.

- :func:`programs`: syntactically valid programs (every number form, every built-in with
  plausible arguments, every precedence level, indexing and slicing, array literals,
  assignments and augmented assignments, comments, ``;``, newlines inside brackets and
  ``\\`` continuations). They may still fail when run (a shape that does not fit): that
  must be a clean Failure.
- :func:`near_misses`: a valid program with one token dropped, swapped or duplicated.
- :func:`raw_texts`: junk: control characters, NUL, CRLF, a BOM, lone surrogates,
  huge and tiny numbers, deep nesting, long lines. :func:`raw_bytes` adds invalid UTF-8.
- :func:`differentiable_programs`: a scalar expression of leaf inputs built only from
  smooth, in-domain operations, for the finite-difference property.
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

from gradcli.lang.builtins import BUILTINS

# -- atoms ---------------------------------------------------------------------------------

NAMES = ["x", "y", "z", "w", "a1", "_t", "value", "e", "pi"]  # e and pi: shadowed constants
LEAVES = ["x", "y", "z", "w"]
KEYWORDS = ["true", "false"]
CONSTANTS = ["pi", "e", "inf", "nan"]

NUMBER_FORMS = st.one_of(
    st.integers(0, 20).map(str),
    st.sampled_from([
        "2.5", ".5", "2.", "1e-3", "1E+2", "1_000", "0x1f", "0o17", "0b101", "0.0", "3e0",
        "1e308", "1e-320", "1e999", "0", "7", "1_0.2_5", "0XF",
    ]),
    st.floats(0, 1e6, allow_nan=False).map(repr),
)

SEPARATORS = st.sampled_from(["\n", ";", "\n\n", " ; ", "\r\n", "  # note\n", ";\n"])


def _shape_text(shape: tuple[int, ...]) -> str:
    return ", ".join(str(d) for d in shape)


SMALL_SHAPES = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


@st.composite
def constructors(draw) -> str:
    kind = draw(st.sampled_from(["ones", "zeros", "full", "eye", "arange", "linspace",
                                 "rand", "randn"]))
    shape = draw(SMALL_SHAPES)
    if kind in ("ones", "zeros", "rand", "randn"):
        if draw(st.booleans()):
            return f"{kind}([{_shape_text(shape)}])"
        return f"{kind}({_shape_text(shape)})"
    if kind == "full":
        return f"full([{_shape_text(shape)}], {draw(NUMBER_FORMS)})"
    if kind == "eye":
        return f"eye({draw(st.integers(0, 4))})"
    if kind == "arange":
        return draw(st.sampled_from(["arange(5)", "arange(1, 4)", "arange(0, 2, 0.5)",
                                     "arange(3, 0, -1)"]))
    return f"linspace(0, 1, {draw(st.integers(0, 6))})"


def array_literals(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    flat = st.lists(inner, min_size=0, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]")
    nested = st.integers(1, 3).flatmap(
        lambda n: st.lists(
            st.lists(NUMBER_FORMS, min_size=n, max_size=n).map(lambda r: "[" + ", ".join(r)
                                                               + "]"),
            min_size=1, max_size=3,
        ).map(lambda rows: "[" + ",\n ".join(rows) + "]")
    )
    return st.one_of(flat, nested)


UNARY = sorted(b.name for b in BUILTINS.values() if b.category == "elementwise"
               and len(b.params) == 1)
ALIASES = sorted(a for b in BUILTINS.values() for a in b.aliases)
REDUCTIONS = ["sum", "mean", "prod", "max", "min", "var", "std", "logsumexp", "norm"]
AXIS_ARGUMENTS = ["", ", axis=0", ", axis=-1", ", 0", ", axis=[0, 1]", ", keepdims=true",
                  ", axis=0, keepdims=false", ", 1, true"]


def _calls(e: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A call of a built-in with plausible arguments: every row of BUILTINS is reachable."""
    unary = st.tuples(st.sampled_from(UNARY + ALIASES), e).map(lambda t: f"{t[0]}({t[1]})")
    pair = st.tuples(
        st.sampled_from(["maximum", "minimum", "power", "arctan2", "atan2", "hypot",
                         "matmul", "dot", "outer", "solve", "grad", "jacobian", "hessian",
                         "mod", "floor_divide", "logaddexp", "inner", "kron", "cross",
                         "tensordot"]),
        e, e,
    ).map(lambda t: f"{t[0]}({t[1]}, {t[2]})")
    three = st.tuples(st.sampled_from(["clip", "where"]), e, e, e).map(
        lambda t: f"{t[0]}({t[1]}, {t[2]}, {t[3]})")
    reduce = st.tuples(st.sampled_from(REDUCTIONS), e, st.sampled_from(AXIS_ARGUMENTS)).map(
        lambda t: f"{t[0]}({t[1]}{t[2]})")
    soft = st.tuples(st.sampled_from(["softmax", "log_softmax"]), e,
                     st.sampled_from(["", ", 0", ", axis=-1"])).map(
        lambda t: f"{t[0]}({t[1]}{t[2]})")
    single = st.tuples(st.sampled_from(["transpose", "trace", "det", "inv", "flatten",
                                        "squeeze", "detach", "ravel", "cumsum", "cumprod",
                                        "sort", "flip", "differences", "diag", "tril",
                                        "cholesky", "slogdet", "pinv", "eigvalsh",
                                        "svdvals", "hstack", "vstack"]), e).map(
        lambda t: f"{t[0]}({t[1]})")
    shaped = st.one_of(
        st.tuples(e, SMALL_SHAPES).map(lambda t: f"reshape({t[0]}, [{_shape_text(t[1])}])"),
        st.tuples(e, st.sampled_from(["-1", "1, -1", "2, 2", "[-1]"])).map(
            lambda t: f"reshape({t[0]}, {t[1]})"),
        st.tuples(e, st.integers(-2, 2)).map(lambda t: f"expand_dims({t[0]}, {t[1]})"),
        st.tuples(e, st.integers(-1, 1)).map(lambda t: f"squeeze({t[0]}, {t[1]})"),
        st.tuples(e, SMALL_SHAPES).map(
            lambda t: f"broadcast_to({t[0]}, [{_shape_text(t[1])}])"),
        st.tuples(e, st.sampled_from(["[1, 0]", "1, 0", "[0]"])).map(
            lambda t: f"transpose({t[0]}, {t[1]})"),
        st.tuples(st.sampled_from(["concatenate", "stack"]), st.lists(e, min_size=1,
                                                                       max_size=3),
                  st.sampled_from(["", ", axis=0", ", -1", ", axis=1"])).map(
            lambda t: f"{t[0]}([{', '.join(t[1])}]{t[2]})"),
    )
    return st.one_of(unary, pair, three, reduce, soft, single, shaped, constructors())


def _subscripts() -> st.SearchStrategy[str]:
    item = st.one_of(
        st.integers(-3, 3).map(str),
        st.sampled_from([":", "::2", "1:", ":2", "0:3:1", "::-1", "-1", "[0, 1]", "[0, 0, 1]",
                         "[[0], [1]]", "1:2", "true"]),
    )
    return st.lists(item, min_size=1, max_size=3).map(", ".join)


BINARY_OPS = ["+", "-", "*", "/", "@", "^", "**", "%", "//"]
COMPARE_OPS = ["<", "<=", ">", ">=", "==", "!="]


def expressions(max_leaves: int = 12) -> st.SearchStrategy[str]:
    """Valid expressions over NAMES, numbers, constants, calls, indexing and literals."""
    base = st.one_of(
        NUMBER_FORMS,
        st.sampled_from(NAMES + CONSTANTS + KEYWORDS),
        constructors(),
    )

    def extend(e: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(e, st.sampled_from(BINARY_OPS), e,
                           st.sampled_from([" ", "", "  "])).map(
            lambda t: f"{t[0]}{t[3]}{t[1]}{t[3]}{t[2]}")
        return st.one_of(
            binary,
            st.tuples(st.sampled_from(["-", "+", "--", "-+"]), e).map(lambda t: t[0] + t[1]),
            e.map(lambda s: f"({s})"),
            st.tuples(e, st.sampled_from(["^-", "**+", "^--"]), NUMBER_FORMS).map(
                lambda t: f"({t[0]}){t[1]}{t[2]}"),
            st.tuples(e, _subscripts()).map(lambda t: f"({t[0]})[{t[1]}]"),
            st.tuples(st.sampled_from(NAMES), _subscripts()).map(lambda t: f"{t[0]}[{t[1]}]"),
            _calls(e),
            array_literals(e),
            e.map(lambda s: f"(\n  {s}\n)"),  # a newline inside brackets
            st.tuples(e, e).map(lambda t: f"{t[0]} + \\\n  {t[1]}"),  # a continuation
        )

    return st.recursive(base, extend, max_leaves=max_leaves)


def statements(max_leaves: int = 12) -> st.SearchStrategy[str]:
    e = expressions(max_leaves)
    top = st.one_of(
        e,
        st.tuples(e, st.sampled_from(COMPARE_OPS), e).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
    )
    return st.one_of(
        top,
        st.tuples(st.sampled_from(NAMES), top).map(lambda t: f"{t[0]} = {t[1]}"),
        st.tuples(st.sampled_from(NAMES), st.sampled_from(["+=", "-=", "*=", "/=", "^=",
                                                            "**="]), e).map(
            lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.just(""),
        st.just("# a comment"),
        top.map(lambda s: f"{s}  # trailing comment"),
    )


def programs(max_statements: int = 6, max_leaves: int = 12) -> st.SearchStrategy[str]:
    """A program: leaf inputs first (so names usually exist), then statements."""
    prelude = st.lists(
        st.tuples(st.sampled_from(LEAVES), st.one_of(
            NUMBER_FORMS, array_literals(NUMBER_FORMS), constructors())),
        max_size=3,
    ).map(lambda items: "".join(f"{n} = {v}\n" for n, v in items))
    body = st.lists(st.tuples(statements(max_leaves), SEPARATORS), min_size=1,
                    max_size=max_statements).map(lambda items: "".join(s + sep
                                                                       for s, sep in items))
    return st.tuples(prelude, body).map(lambda t: t[0] + t[1])


# -- near misses ---------------------------------------------------------------------------

TOKEN = re.compile(r"0[xXoObB][0-9a-fA-F_]+|\d[\d_]*\.?[\d_]*(?:[eE][+-]?\d+)?|\.\d+|"
                   r"[A-Za-z_]\w*|\*\*=?|[+\-*/^]=|[<>=!]=|\\\n|\s+|#[^\n]*|.", re.S)


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


@st.composite
def near_misses(draw, source: st.SearchStrategy[str] | None = None) -> str:
    """A valid program with one token dropped, swapped with its neighbour, or doubled."""
    text = draw(source if source is not None else programs(max_statements=3))
    toks = tokens(text)
    spots = [i for i, t in enumerate(toks) if not t.isspace()]
    if not spots:
        return text
    i = draw(st.sampled_from(spots))
    how = draw(st.sampled_from(["drop", "swap", "double", "insert"]))
    if how == "drop":
        del toks[i]
    elif how == "swap" and i + 1 < len(toks):
        toks[i], toks[i + 1] = toks[i + 1], toks[i]
    elif how == "double":
        toks.insert(i, toks[i])
    else:
        toks.insert(i, draw(st.sampled_from(list("()[],;:=+-*/^@<>!#\\'\"%&|{}.") +
                                            ["**", "==", "+=", "2", "x", "sum", "\n"])))
    return "".join(toks)


# -- raw junk ------------------------------------------------------------------------------

SPECIAL_TEXTS = [
    "", "\n", "\n\n\n", "# only a comment", "  # indented comment\n#another\n", ";", ";;;",
    "\ufeff1 + 1", "1 +\x00 2", "\x00", "\x1b[31mred\x1b[0m", "1\r\n2\r\n", "1\r2",
    "1 + \udcff", "\u00a0", "1\u20282", "x = 1\\", "\\", "1 + \\\n", "(" * 1000,
    ")" * 1000, "[" * 1000, "-" * 5000 + "1", "1e308 * 10", "1e-320", "1e999", "-1e999",
    "0x" + "f" * 400, "9" * 400, "1." + "0" * 400 + "1", "2x", "sin x", "x.y", "'s'",
    "a < b < c", "ones(1e9, 1e9)", "ones(-1)", "eye(1e300)", "1 @@ 2", "x = = 1",
    "f(,)", "sum(x, axis=0, axis=1)", "[1, [2]]", "_", "true = 1", "sum = 2", "x[",
    "x[1:2:3:4]", "(1, 2)", "1 % 2", "{1}", "ones(3)[1e300]", "é = 1",
]


def raw_texts() -> st.SearchStrategy[str]:
    chars = st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Z", "Cc", "Cf",
                                                      "Co"])
    grammar_chars = st.sampled_from(list("0123456789.eExyz_()[],;:=+-*/^@<>!#\\ \t\n\r") +
                                    ["sum", "ones", "**", "1e", "0x"])
    return st.one_of(
        st.sampled_from(SPECIAL_TEXTS),
        st.text(chars, max_size=60),
        st.lists(grammar_chars, max_size=40).map("".join),
    )


def raw_bytes() -> st.SearchStrategy[bytes]:
    """Bytes for stdin and files: text in UTF-8, with invalid sequences mixed in."""
    return st.one_of(
        raw_texts().map(lambda s: s.encode("utf-8", "surrogatepass")),
        st.binary(max_size=80),
        st.tuples(programs(max_statements=2), st.binary(max_size=8)).map(
            lambda t: t[0].encode() + t[1] + b"\n1 + 1\n"),
        st.sampled_from([b"\xff\xfe1+1", b"\xef\xbb\xbf2*3\n", b"1+\x80\n2\n", b"\xc3\x28"]),
    )


# -- differentiable, in-domain programs for the finite-difference property ---------------

SMOOTH_UNARY = ["sin", "cos", "tanh", "sigmoid", "arctan", "softplus", "exp", "sinh",
                "arcsinh", "expm1", "square", "cbrt_safe", "log_safe", "sqrt_safe",
                "reciprocal_safe", "log1p_safe", "arccos_safe", "arctanh_safe"]


def _smooth_unary(name: str, s: str) -> str:
    """``name`` applied to ``s`` with its argument kept inside the domain."""
    safe = {
        "exp": f"exp(tanh({s}))",
        "sinh": f"sinh(tanh({s}))",
        "expm1": f"expm1(tanh({s}))",
        "square": f"square(tanh({s}))",
        "cbrt_safe": f"cbrt(2 + tanh({s}))",
        "log_safe": f"log(1 + square({s}))",
        "sqrt_safe": f"sqrt(1 + square({s}))",
        "reciprocal_safe": f"reciprocal(2 + sin({s}))",
        "log1p_safe": f"log1p(sigmoid({s}))",
        "arccos_safe": f"arccos(0.5 * tanh({s}))",
        "arctanh_safe": f"arctanh(0.5 * tanh({s}))",
    }
    return safe.get(name, f"{name}({s})")


def _smooth(max_leaves: int) -> st.SearchStrategy[str]:
    base = st.one_of(
        st.sampled_from(["x", "y", "x", "y", "y"]),
        st.sampled_from(["0.5", "2", "1.5", "pi", "e", ".25", "3e-1"]),
    )

    def extend(e: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(e, st.sampled_from(["+", "-", "*"]), e).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(e, e).map(lambda t: f"({t[0]}) / (2 + sin({t[1]}))"),
            st.tuples(e, st.sampled_from(["2", "3", "-1", "0.5"])).map(
                lambda t: f"(1.5 + tanh({t[0]}))^{t[1]}"),
            st.tuples(st.sampled_from(SMOOTH_UNARY), e).map(lambda t: _smooth_unary(*t)),
            st.tuples(st.sampled_from(["hypot", "arctan2"]), e).map(
                lambda t: f"{t[0]}(1 + square({t[1]}), 1.5)"),
            e.map(lambda s: f"-{s}"),
            st.tuples(st.sampled_from(["sum", "mean", "logsumexp", "norm1", "softmax0",
                                       "var", "prod"]), e).map(_reduce),
        )

    return st.recursive(base, extend, max_leaves=max_leaves)


def _reduce(t: tuple[str, str]) -> str:
    name, s = t
    if name == "norm1":
        return f"norm(1 + square({s}))"  # away from the kink at 0
    if name == "softmax0":
        return f"softmax({s} * ones(3))[0]"
    if name == "prod":
        return f"prod(1 + 0.5 * tanh({s}) * ones(2))"
    return f"{name}({s} * ones(3))"


@st.composite
def differentiable_programs(draw) -> tuple[str, dict]:
    """(program, variables): a scalar-valued program of x (shape (3,)) and y (a scalar)."""
    body = draw(_smooth(8))
    assign = draw(st.booleans())
    x = draw(st.lists(st.floats(-1.5, 1.5, allow_nan=False), min_size=3, max_size=3))
    y = draw(st.floats(-1.5, 1.5, allow_nan=False))
    if assign:  # through a name and an augmented assignment too
        program = f"t = {body}\nt += 0.5 * sum(x * y)\nout = mean(t * ones(3) + dot(x, x))"
    else:
        program = f"sum({body} * ones(3)) + dot(x, [1, 2, 3]) * y"
    return program, {"x": x, "y": y}
