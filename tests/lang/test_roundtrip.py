"""Property: a random expression tree, pretty-printed to source with the fewest
parentheses the precedence table allows, parses back to the same value and gradients
as the tree computed directly with the engine."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcli.autograd import Variable, grad, ops
from tests.lang.conftest import last

INPUTS = {"x": np.array([0.3, -0.8, 1.1]), "y": np.array(0.7), "w": np.array([[0.5, -0.2, 0.9]])}

# precedence levels of SPEC §2
COMPARE, ADD, MUL, UNARY, POWER, POSTFIX = 1, 2, 3, 4, 5, 6


@dataclass(frozen=True)
class Node:
    kind: str  # "num", "var", "bin", "neg", "pos", "call", "index", "list"
    op: str = ""
    args: tuple = ()
    number: float = 0.0


def level(node: Node) -> int:
    if node.kind == "bin":
        return {"+": ADD, "-": ADD, "*": MUL, "/": MUL, "^": POWER, "**": POWER}[node.op]
    if node.kind in ("neg", "pos"):
        return UNARY
    return POSTFIX


def show(node: Node, spaced: bool) -> str:
    """Source for ``node``, parenthesised only where precedence requires it."""
    sp = " " if spaced else ""
    if node.kind == "num":
        return repr(node.number)
    if node.kind == "var":
        return node.op
    if node.kind in ("neg", "pos"):
        (a,) = node.args
        sign = "-" if node.kind == "neg" else "+"
        inner = show(a, spaced)
        if level(a) < UNARY:
            inner = f"({inner})"
        elif inner.startswith(("-", "+")):
            inner = f" {inner}"  # "- -x", never "--x"
        return f"{sign}{inner}"
    if node.kind == "bin":
        a, b = node.args
        mine = level(node)
        left, right = show(a, spaced), show(b, spaced)
        if mine == POWER:  # right-assoc; left operand must be postfix, right may be signed
            if level(a) < POSTFIX:
                left = f"({left})"
            if level(b) < UNARY:
                right = f"({right})"
        else:  # left-assoc
            if level(a) < mine:
                left = f"({left})"
            if level(b) <= mine:
                right = f"({right})"
        return f"{left}{sp}{node.op}{sp}{right}"
    if node.kind == "call":
        return f"{node.op}({', '.join(show(a, spaced) for a in node.args)})"
    if node.kind == "index":
        (a,) = node.args
        inner = show(a, spaced)
        if level(a) < POSTFIX:
            inner = f"({inner})"
        return f"{inner}[{node.op}]"
    if node.kind == "list":
        return f"[{', '.join(show(a, spaced) for a in node.args)}]"
    raise AssertionError(node.kind)


def compute(node: Node, env: dict[str, Variable]) -> Variable:
    if node.kind == "num":
        return Variable(np.array(node.number))
    if node.kind == "var":
        return env[node.op]
    if node.kind == "neg":
        return ops.negative(compute(node.args[0], env))
    if node.kind == "pos":
        return compute(node.args[0], env)
    if node.kind == "bin":
        a, b = (compute(n, env) for n in node.args)
        return {"+": ops.add, "-": ops.subtract, "*": ops.multiply, "/": ops.divide,
                "^": ops.power, "**": ops.power}[node.op](a, b)
    if node.kind == "call":
        args = [compute(n, env) for n in node.args]
        return getattr(ops, node.op)(*args)
    if node.kind == "index":
        return ops.getitem(compute(node.args[0], env), int(node.op))
    if node.kind == "list":
        return ops.stack([compute(n, env) for n in node.args])
    raise AssertionError(node.kind)


numbers = st.sampled_from([0.5, 1.0, 2.0, 3.0, 0.25, 1.5])
leaves = st.one_of(
    numbers.map(lambda v: Node("num", number=v)),
    st.sampled_from(["x", "y", "w"]).map(lambda n: Node("var", op=n)),
)


def extend(children):
    unary = st.sampled_from(["sin", "cos", "tanh", "sigmoid", "softplus", "arctan"])
    return st.one_of(
        st.tuples(st.sampled_from(["+", "-", "*"]), children, children).map(
            lambda t: Node("bin", t[0], (t[1], t[2]))),
        # division and powers with safe right operands: a positive denominator, a small
        # whole exponent, or a positive base
        st.tuples(children, children).map(
            lambda t: Node("bin", "/", (t[0], Node("call", "exp", (t[1],))))),
        st.tuples(st.sampled_from(["^", "**"]), children, st.sampled_from([2.0, 3.0])).map(
            lambda t: Node("bin", t[0], (t[1], Node("num", number=t[2])))),
        st.tuples(children, st.booleans()).map(
            lambda t: Node("bin", "^", (t[0], Node("neg", args=(Node("num", number=2.0),))))
            if t[1] else Node("bin", "^", (Node("num", number=2.0), t[0]))),
        children.map(lambda c: Node("neg", args=(c,))),
        children.map(lambda c: Node("pos", args=(c,))),
        st.tuples(unary, children).map(lambda t: Node("call", t[0], (t[1],))),
        st.tuples(children, children).map(lambda t: Node("call", "maximum", t)),
        st.tuples(children, st.sampled_from(["0", "-1"])).map(
            lambda t: Node("index", t[1], (Node("call", "atleast", (t[0],)),))),
    )


def _fix_atleast(node: Node) -> Node:
    """Indexing needs an array: wrap its operand in a 2-element list [a, a]."""
    args = tuple(_fix_atleast(a) for a in node.args)
    if node.kind == "call" and node.op == "atleast":
        return Node("list", args=(args[0], args[0]))
    return Node(node.kind, node.op, args, node.number)


trees = st.recursive(leaves, extend, max_leaves=12).map(_fix_atleast)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees, spaced=st.booleans())
def test_pretty_printed_trees_parse_back_to_the_same_values_and_gradients(tree, spaced) -> None:
    source = show(tree, spaced)
    env = {k: Variable(v.copy(), requires_grad=True) for k, v in INPUTS.items()}
    with np.errstate(all="ignore"):
        expected = compute(tree, env)
    weights = np.linspace(0.5, 1.5, expected.data.size).reshape(expected.shape)
    result = last(f"sum(({source}) * g)", variables={**INPUTS, "g": weights}, graph=False)
    np.testing.assert_allclose(result.value, np.sum(expected.data * weights), rtol=1e-12,
                               equal_nan=True, err_msg=source)
    used = [k for k in INPUTS if k in result.gradients]
    if expected.requires_grad:
        with np.errstate(all="ignore"):
            found = grad(expected, [env[k] for k in INPUTS], grad_outputs=weights)
        for k, g in zip(INPUTS, found):
            if k in used:
                np.testing.assert_allclose(result.gradients[k], g.data, rtol=1e-10,
                                           atol=1e-12, equal_nan=True, err_msg=source)
            else:
                assert not np.any(g.data), (source, k)


def test_printer_uses_the_precedence_table() -> None:
    two, three = Node("num", number=2.0), Node("num", number=3.0)
    assert show(Node("neg", args=(Node("bin", "^", (two, three)),)), True) == "-2.0 ^ 3.0"
    assert show(Node("bin", "^", (Node("neg", args=(two,)), three)), True) == "(-2.0) ^ 3.0"
    assert show(Node("bin", "^", (two, Node("neg", args=(three,)))), False) == "2.0^-3.0"
    assert show(Node("bin", "-", (two, Node("bin", "-", (two, three)))), False) == "2.0-(2.0-3.0)"


def test_a_run_of_operators_prints_as_link_by_link():
    # the printer reads a*b/c*d and a + b - c as one run (one join, not a copy of the
    # left text per link): the same text, in every style, as printing each link
    from gradcli.lang import syntax as S

    for program in ["a*b/c*d @ e % f // g", "a + b - c - (d - e) + -f", "a - b*c/d + e^f^g",
                    "-a*b*c", "a/b/c*d/e", "(a + b)*(c - d)*e/(f*g)", "x[0]*y[1:]*z.T*w'",
                    "f(a*b*c, d + e + f) + 2*3*x", "a < b + c + d"]:
        tree = S.parse(program, start="statement")
        for style in ("text", "unicode", "latex"):
            link_by_link = S.fold(tree, S._Printer(style).one)[0]
            assert S._Printer(style).print(tree) == link_by_link, (program, style)
        assert S.to_text(S.parse(S.to_text(tree), start="statement")) == S.to_text(tree)
