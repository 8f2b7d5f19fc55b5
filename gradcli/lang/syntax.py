"""The language's syntax tree: node types, the operator table, the Lark builder and the
printers (source text, Unicode, LaTeX).

Every node is a small immutable record (:class:`gradcli.lang.records.Frozen`); its
``span`` (line, column, end_line, end_column; 1-based, end exclusive) is kept out of
equality and hashing, so two trees that say the same thing compare equal wherever they were written.

The tree is built by Lark's LALR parser from ``grammar/gradcli.lark`` with
:class:`Builder` as its transformer: the callbacks run *during* the parse (Lark calls a
LALR transformer's methods as it reduces), bottom-up, so nesting depth never meets
Python's recursion limit. The printers walk the tree with an explicit stack for the
same reason.

``gradcli diff`` reads programs through this tree (SPEC §9), and the evaluator
(:mod:`gradcli.lang.evaluate`) runs it: its builder adds the checks a statement that is
to run needs, and keeps parentheses as :class:`Group` nodes for its error carets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from gradcli.lang.records import Frozen, set_field

Span = tuple[int, int, int, int]


# -- nodes --------------------------------------------------------------------------------


class Node(Frozen):
    __slots__ = ("span",)

    def __init__(self, *, span: Span | None = None) -> None:
        set_field(self, "span", span)

    def children(self) -> tuple[Node, ...]:
        return ()


class Number(Node):
    __slots__ = ("value", "text")

    def __init__(self, value: float, text: str = "", *, span: Span | None = None) -> None:
        # text: as written (``2``, ``1e-3``, ``true``); empty: print the value
        set_field(self, "value", value)
        set_field(self, "text", text)
        set_field(self, "span", span)


class Name(Node):
    __slots__ = ("id",)

    def __init__(self, id: str, *, span: Span | None = None) -> None:
        set_field(self, "id", id)
        set_field(self, "span", span)


class Unary(Node):
    __slots__ = ("op", "operand")

    def __init__(self, op: str, operand: Node, *, span: Span | None = None) -> None:
        set_field(self, "op", op)  # "-" or "+"
        set_field(self, "operand", operand)
        set_field(self, "span", span)

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


class Binary(Node):
    __slots__ = ("op", "left", "right")

    def __init__(self, op: str, left: Node, right: Node, *, span: Span | None = None) -> None:
        set_field(self, "op", op)  # "+", "-", "*", "/", "@", "^", "%", "//" ("**" is read as "^")
        set_field(self, "left", left)
        set_field(self, "right", right)
        set_field(self, "span", span)

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


class Compare(Node):
    __slots__ = ("op", "left", "right")

    def __init__(self, op: str, left: Node, right: Node, *, span: Span | None = None) -> None:
        set_field(self, "op", op)
        set_field(self, "left", left)
        set_field(self, "right", right)
        set_field(self, "span", span)

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


class Call(Node):
    __slots__ = ("func", "args", "keywords")

    def __init__(self, func: str, args: tuple[Node, ...] = (),
                 keywords: tuple[tuple[str, Node], ...] = (), *,
                 span: Span | None = None) -> None:
        set_field(self, "func", func)
        set_field(self, "args", args)
        set_field(self, "keywords", keywords)
        set_field(self, "span", span)

    def children(self) -> tuple[Node, ...]:
        return self.args + tuple(v for _, v in self.keywords)

    def keyword(self, name: str) -> Node | None:
        for k, v in self.keywords:
            if k == name:
                return v
        return None


class Slice(Node):
    __slots__ = ("lo", "hi", "step")

    def __init__(self, lo: Node | None = None, hi: Node | None = None,
                 step: Node | None = None, *, span: Span | None = None) -> None:
        set_field(self, "lo", lo)
        set_field(self, "hi", hi)
        set_field(self, "step", step)
        set_field(self, "span", span)

    def children(self) -> tuple[Node, ...]:
        return tuple(p for p in (self.lo, self.hi, self.step) if p is not None)


class Index(Node):
    __slots__ = ("target", "subscripts")

    def __init__(self, target: Node, subscripts: tuple[Node, ...], *,
                 span: Span | None = None) -> None:
        set_field(self, "target", target)
        set_field(self, "subscripts", subscripts)
        set_field(self, "span", span)

    def children(self) -> tuple[Node, ...]:
        return (self.target, *self.subscripts)


class Array(Node):
    __slots__ = ("elements",)

    def __init__(self, elements: tuple[Node, ...], *, span: Span | None = None) -> None:
        set_field(self, "elements", elements)
        set_field(self, "span", span)

    def children(self) -> tuple[Node, ...]:
        return self.elements


class Transpose(Node):
    __slots__ = ("operand",)

    def __init__(self, operand: Node, *, span: Span | None = None) -> None:
        set_field(self, "operand", operand)
        set_field(self, "span", span)

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


class Group(Node):
    """``operand`` as the source wrote it, with its parentheses (or, for a keyword
    argument, its ``name=``): the span evaluation's errors point at for what the operand
    is part of. Only the evaluator's trees hold groups; it prints as its operand."""

    __slots__ = ("operand",)

    def __init__(self, operand: Node, *, span: Span | None = None) -> None:
        set_field(self, "operand", operand)
        set_field(self, "span", span)

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


class Assign(Node):
    __slots__ = ("name", "value")

    def __init__(self, name: str, value: Node, *, span: Span | None = None) -> None:
        set_field(self, "name", name)
        set_field(self, "value", value)
        set_field(self, "span", span)

    def children(self) -> tuple[Node, ...]:
        return (self.value,)


class Augmented(Node):
    __slots__ = ("name", "op", "value")

    def __init__(self, name: str, op: str, value: Node, *, span: Span | None = None) -> None:
        set_field(self, "name", name)
        set_field(self, "op", op)  # the binary operator: "+" for "+="
        set_field(self, "value", value)
        set_field(self, "span", span)

    def children(self) -> tuple[Node, ...]:
        return (self.value,)


class Declare(Node):
    """``X: [n, m]``: X is a symbol of that shape (sizes are ints or size names)."""

    __slots__ = ("name", "sizes")

    def __init__(self, name: str, sizes: tuple[int | str, ...], *,
                 span: Span | None = None) -> None:
        set_field(self, "name", name)
        set_field(self, "sizes", sizes)
        set_field(self, "span", span)


# -- the operator table -------------------------------------------------------------------


class Operator(Frozen):
    __slots__ = ("symbol", "name", "precedence", "associativity", "text", "unicode", "latex")

    def __init__(self, symbol: str, name: str, precedence: int, associativity: str,
                 text: str, unicode: str, latex: str) -> None:
        set_field(self, "symbol", symbol)
        set_field(self, "name", name)  # the user-facing (and engine) name
        set_field(self, "precedence", precedence)  # SPEC §2's level: higher binds tighter
        set_field(self, "associativity", associativity)  # "left", "right", "none", "prefix"
        set_field(self, "text", text)  # how it prints in source text
        set_field(self, "unicode", unicode)
        set_field(self, "latex", latex)


COMPARISON, ADDITIVE, MULTIPLICATIVE, UNARY, POWER, POSTFIX, ATOM = 1, 2, 3, 4, 5, 6, 7

OPERATORS: dict[str, Operator] = {op.symbol: op for op in (
    Operator("<", "less", COMPARISON, "none", " < ", " < ", " < "),
    Operator("<=", "less_equal", COMPARISON, "none", " <= ", " ≤ ", r" \le "),
    Operator(">", "greater", COMPARISON, "none", " > ", " > ", " > "),
    Operator(">=", "greater_equal", COMPARISON, "none", " >= ", " ≥ ", r" \ge "),
    Operator("==", "equal", COMPARISON, "none", " == ", " = ", " = "),
    Operator("!=", "not_equal", COMPARISON, "none", " != ", " ≠ ", r" \ne "),
    Operator("+", "add", ADDITIVE, "left", " + ", " + ", " + "),
    Operator("-", "subtract", ADDITIVE, "left", " - ", " - ", " - "),
    Operator("*", "multiply", MULTIPLICATIVE, "left", "*", "·", r" \cdot "),
    Operator("/", "divide", MULTIPLICATIVE, "left", "/", "/", " / "),
    Operator("@", "matmul", MULTIPLICATIVE, "left", " @ ", " @ ", r" \, "),
    Operator("%", "mod", MULTIPLICATIVE, "left", " % ", " mod ", r" \bmod "),
    Operator("//", "floor_divide", MULTIPLICATIVE, "left", " // ", " // ", r" \mathbin{//} "),
    Operator("^", "power", POWER, "right", "^", "^", "^"),
)}
NEGATE = Operator("-", "negative", UNARY, "prefix", "-", "-", "-")


# -- building the tree with Lark ----------------------------------------------------------


def _span_of(item: Any) -> Span | None:
    if isinstance(item, Node):
        return item.span
    line = getattr(item, "line", None)
    if line is None:
        return None
    return (line, item.column, item.end_line, item.end_column)


def _join(first: Any, last: Any) -> Span | None:
    a, b = _span_of(first), _span_of(last)
    if a is None or b is None:
        return a or b
    return (a[0], a[1], b[2], b[3])


class Underflow(float):
    """The value 0.0 of a literal that is not zero as written (``1e-999``): a float like
    any other, marked so that the evaluator says the number was lost (as it says inf for
    one too large)."""

    __slots__ = ()


UNDERFLOW = Underflow(0.0)


def number_value(text: str) -> float:
    """A NUMBER token's value (``0x1f``, ``1_000``, ``2.5e3``; a huge integer is inf, a
    nonzero decimal too small for a float is :data:`UNDERFLOW`)."""
    if len(text) > 1 and text[1] in "xXoObB" and text[0] == "0":
        value = int(text, 0)
        try:
            return float(value)
        except OverflowError:
            return math.inf
    value = float(text)
    if not value and written_nonzero(text):
        return UNDERFLOW
    return value


def written_nonzero(text: str) -> bool:
    """Whether a decimal number as written (``1e-999``, ``-0.0``) has a digit other than
    0 before its exponent: for one whose float is 0, whether it was lost to underflow."""
    return bool(text.lower().partition("e")[0].strip("+-0._ "))


class _Keyword:
    __slots__ = ("name", "value")

    def __init__(self, name: str, value: Node) -> None:
        self.name, self.value = name, value


class Builder:
    """Lark callbacks (one per rule alias), each returning the node it reduces to.

    Written for a LALR ``Lark(..., transformer=Builder())``: Lark calls each method with
    the rule's children as one list while it parses, so no tree of Lark's is built and
    nothing recurses.
    """

    def number(self, c: list) -> Node:
        tok = c[0]
        return Number(number_value(tok.value), tok.value, span=_span_of(tok))

    def boolean(self, c: list) -> Node:
        tok = c[0]
        return Number(1.0 if tok.value == "true" else 0.0, tok.value, span=_span_of(tok))

    def name(self, c: list) -> Node:
        return Name(c[0].value, span=_span_of(c[0]))

    def group(self, c: list) -> Node:
        return c[1]

    def array(self, c: list) -> Node:
        elements = tuple(c[1] or ())
        return Array(elements, span=_join(c[0], c[-1]))

    def elements(self, c: list) -> list:
        return list(c)

    def sign(self, c: list) -> Node:
        op, operand = c
        return Unary(op.value, operand, span=_join(op, operand))

    def binary(self, c: list) -> Node:
        left, op, right = c
        symbol = "^" if op.value == "**" else op.value
        return Binary(symbol, left, right, span=_join(left, right))

    def compare(self, c: list) -> Node:
        left, op, right = c
        return Compare(op.value, left, right, span=_join(left, right))

    def call(self, c: list) -> Node:
        name, _, arguments, close = c
        return _make_call(name.value, [], arguments, _join(name, close))

    def method(self, c: list) -> Node:
        # x.sum(axis=0): the call with the operand as its first argument
        operand, name = c[0], c[1]
        arguments = next((x for x in c[2:] if isinstance(x, list)), None)
        return _make_call(name.value, [operand], arguments, _join(operand, c[-1]))

    def attribute(self, c: list) -> Node:
        operand, name = c[0], c[-1]
        if name.value != "T":
            from gradcli.lang.errors import ArgumentProblem
            from gradcli.lang.results import Span as ResultSpan

            span = _span_of(name)
            raise ArgumentProblem(f'there is no attribute ".{name.value}" (only .T, the '
                                  'transpose)', ResultSpan(*span) if span else None)
        return Transpose(operand, span=_join(operand, name))

    def transpose(self, c: list) -> Node:
        return Transpose(c[0], span=_join(c[0], c[-1]))

    def arguments(self, c: list) -> list:
        return list(c)

    def keyword(self, c: list) -> _Keyword:
        return _Keyword(c[0].value, c[1])

    def index(self, c: list) -> Node:
        target, _, subscripts, close = c
        return Index(target, tuple(subscripts), span=_join(target, close))

    def subscripts(self, c: list) -> list:
        return list(c)

    def slice(self, c: list) -> Node:
        parts = [x for x in c if not (getattr(x, "type", None) == "COLON")]
        colons = [x for x in c if getattr(x, "type", None) == "COLON"]
        lo, hi, step = (parts + [None, None, None])[:3]
        return Slice(lo, hi, step, span=_join(lo or colons[0], step or hi or colons[-1]))

    def assign(self, c: list) -> Node:
        name, value = c[0], c[-1]
        return Assign(name.value, value, span=_join(name, value))

    def augmented(self, c: list) -> Node:
        name, op, value = c
        return Augmented(name.value, op.value[:-1].replace("**", "^"), value,
                         span=_join(name, value))

    def declare(self, c: list) -> Node:
        name, close = c[0], c[-1]
        sizes = next((x for x in c[1:] if isinstance(x, list)), None) or []
        return Declare(name.value, tuple(sizes), span=_join(name, close))

    def sizes(self, c: list) -> list:
        out: list[int | str] = []
        for tok in c:
            if tok.type == "NUMBER":
                value = number_value(tok.value)
                if not (0 < value < math.inf and value == int(value)):  # SPEC §9: positive
                    from gradcli.lang.errors import ArgumentProblem
                    from gradcli.lang.results import Span as ResultSpan

                    raise ArgumentProblem(f"a size is a whole number above 0 or a size name, "
                                          f"not {tok.value}", ResultSpan(*_span_of(tok)))
                out.append(int(value))
            else:
                out.append(tok.value)
        return out

    def program(self, c: list) -> list:
        return [x for x in c if isinstance(x, Node)]


def _make_call(func: str, first: list, arguments: list | None, span: Span | None) -> Call:
    args = list(first)
    keywords = []
    for a in arguments or ():
        if isinstance(a, _Keyword):
            keywords.append((a.name, a.value))
        else:
            args.append(a)
    return Call(func, tuple(args), tuple(keywords), span=span)


_PARSERS: dict[str, Any] = {}


def parse(text: str, start: str = "program") -> list[Node] | Node:
    """``text`` as trees: a list of statements (``start="program"``) or one statement.

    Newlines inside ( ) and [ ] are dropped before the parser sees them (SPEC §2), as
    the reader does; syntax errors are Lark's exceptions (callers that show them to a
    user read the program with :mod:`gradcli.lang.reader` first, whose messages are
    the product's)."""
    from gradcli.lang.grammar import build_lark

    parser = _PARSERS.get("lark")
    if parser is None:
        parser = _PARSERS["lark"] = build_lark(Builder())
    interactive = parser.parse_interactive("", start=start)
    depth = 0
    for tok in parser.lex(text):
        if tok.type in ("LPAR", "LSQB"):
            depth += 1
        elif tok.type in ("RPAR", "RSQB"):
            depth = max(depth - 1, 0)
        elif tok.type == "_NEWLINE" and depth:
            continue
        interactive.feed_token(tok)
    return interactive.feed_eof()


# -- walking ------------------------------------------------------------------------------


def postorder(root: Node, children: Callable[[Node], tuple[Node, ...]] | None = None
              ) -> Iterator[Node]:
    """Every node under ``root`` (shared ones once), children before parents
    (``children(node)``, when given, says which nodes are a node's children)."""
    kids = children or (lambda node: node.children())
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            yield node
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for child in reversed(kids(node)):
            if id(child) not in seen:
                stack.append((child, False))


def fold(root: Node, one: Callable[[Node, dict[int, Any]], Any],
         children: Callable[[Node], tuple[Node, ...]] | None = None) -> Any:
    """Bottom-up: ``one(node, done)`` with ``done[id(child)]`` ready for every child."""
    done: dict[int, Any] = {}
    for node in postorder(root, children):
        done[id(node)] = one(node, done)
    return done[id(root)]


# -- printers -----------------------------------------------------------------------------


def _number_text(value: float) -> str:
    if value != value:
        return "nan"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
class _Printer:
    """Source text (``style="text"``), Unicode or LaTeX, with the parentheses the meaning
    needs and no others. ``transpose_text`` is how text writes a transpose."""

    def __init__(self, style: str, transpose_text: str = "attribute") -> None:
        self.style = style
        self.transpose_text = transpose_text
        self.runs: dict[int, tuple[list[Node], list[str]]] = {}

    def run(self, node: Binary) -> tuple[list[Node], list[str]] | None:
        """A left-nested run of one precedence's operators (``a*b/c*d``, ``a + b - c``)
        as its operands and operators, or None for a lone operator. Printed link by
        link, each link copied the whole text on its left: a product of k factors, or a
        sum of k terms, cost O(k^2) characters; read as one run it is one join."""
        def linked(n: Node) -> bool:
            return isinstance(n, Binary) and n.op != "^" and \
                OPERATORS[n.op].precedence == level and not (latex and n.op == "/")

        latex = self.style == "latex"
        level = OPERATORS[node.op].precedence
        if not linked(node) or not linked(node.left):
            return None
        operands, ops = [], []
        while linked(node):
            assert isinstance(node, Binary)
            operands.append(node.right)
            ops.append(node.op)
            node = node.left
        operands.append(node)
        operands.reverse()
        ops.reverse()
        return operands, ops

    def children(self, node: Node) -> tuple[Node, ...]:
        """The nodes whose text ``node``'s is made of: a run's operands (see ``run``)."""
        if isinstance(node, Binary):
            found = self.run(node)
            if found is not None:
                self.runs[id(node)] = found
                return tuple(found[0])
        return node.children()

    def print(self, root: Node) -> str:
        return fold(root, self.one, self.children)[0]

    def paren(self, text: str) -> str:
        return rf"\left({text}\right)" if self.style == "latex" else f"({text})"

    def wrap(self, part: tuple[str, int], need: int) -> str:
        text, level = part
        return text if level >= need else self.paren(text)

    def one(self, node: Node, done: dict[int, Any]) -> tuple[str, int]:
        style = self.style
        found = self.runs.get(id(node))
        if found is not None:
            operands, ops = found
            level = OPERATORS[ops[0]].precedence
            pieces = [self.wrap(done[id(operands[0])], level)]
            for op, operand in zip(ops, operands[1:]):
                pieces.append(getattr(OPERATORS[op], style))
                pieces.append(self.wrap(done[id(operand)], level + 1))
            return "".join(pieces), level
        parts = [done[id(c)] for c in node.children()]
        if isinstance(node, Number):
            text = node.text or _number_text(node.value)
            if style == "latex":
                text = {"inf": r"\infty", "-inf": r"-\infty", "nan": r"\mathrm{NaN}"}.get(
                    text, text)
            return text, (UNARY if text.startswith("-") else ATOM)
        if isinstance(node, Name):
            name = node.id
            if style == "latex":
                name = {"pi": r"\pi"}.get(name, name if len(name) == 1 else
                                          rf"\mathrm{{{name}}}".replace("_", r"\_"))
            elif style == "unicode" and name == "pi":
                name = "π"
            return name, ATOM
        if isinstance(node, Unary):
            return node.op + self.wrap(parts[0], UNARY), UNARY
        if isinstance(node, Binary):
            return self.binary(node, parts)
        if isinstance(node, Compare):
            sym = getattr(OPERATORS[node.op], style)
            return (f"{self.wrap(parts[0], ADDITIVE)}{sym}{self.wrap(parts[1], ADDITIVE)}",
                    COMPARISON)
        if isinstance(node, Transpose):
            inner = self.wrap(parts[0], POSTFIX)
            operand = node.operand
            if style in ("unicode", "latex") and isinstance(operand, Call) and \
                    operand.func == "inv" and len(operand.args) == 1:
                base = self.wrap(parts[0], POSTFIX)[: -len("⁻¹" if style == "unicode" else
                                                         "^{-1}")]
                return base + ("⁻ᵀ" if style == "unicode" else r"^{-\top}"), POSTFIX
            if style == "latex" and inner.endswith("}"):
                inner = "{" + inner + "}"
            if style == "unicode":
                return inner + "ᵀ", POSTFIX
            if style == "latex":
                return inner + r"^{\top}", POSTFIX
            if self.transpose_text == "attribute":
                return inner + ".T", POSTFIX
            return f"transpose({parts[0][0]})", POSTFIX
        if isinstance(node, Call):
            return self.call(node, parts)
        if isinstance(node, Index):
            subs = ", ".join(p[0] for p in parts[1:])
            if style == "latex":
                return rf"{self.wrap(parts[0], POSTFIX)}_{{{subs}}}", POSTFIX
            return f"{self.wrap(parts[0], POSTFIX)}[{subs}]", POSTFIX
        if isinstance(node, Slice):
            it = iter(parts)
            lo = next(it)[0] if node.lo is not None else ""
            hi = next(it)[0] if node.hi is not None else ""
            text = f"{lo}:{hi}"
            if node.step is not None:
                text += ":" + next(it)[0]
            return text, ATOM
        if isinstance(node, Array):
            inner = ", ".join(p[0] for p in parts)
            return (rf"\left[{inner}\right]" if style == "latex" else f"[{inner}]"), ATOM
        if isinstance(node, Group):
            return parts[0]
        if isinstance(node, Assign):
            return f"{node.name} = {parts[0][0]}", 0
        if isinstance(node, Augmented):
            return f"{node.name} {node.op}= {parts[0][0]}", 0
        if isinstance(node, Declare):
            return f"{node.name}: [{', '.join(map(str, node.sizes))}]", 0
        raise TypeError(f"no printer for {type(node).__name__}")

    def binary(self, node: Binary, parts: list) -> tuple[str, int]:
        op = OPERATORS[node.op]
        left, right = parts
        style = self.style
        if style == "latex" and node.op == "/":
            if left[0].startswith("-") and isinstance(node.left, (Number, Unary)):
                return rf"-\frac{{{left[0][1:]}}}{{{right[0]}}}", UNARY
            return rf"\frac{{{left[0]}}}{{{right[0]}}}", ATOM
        if node.op == "^":
            # the exponent may carry a sign (2^-1); the base binds tighter than unary
            exponent = right[0]
            base = self.wrap(left, POSTFIX)
            if style == "unicode" and isinstance(node.right, Number) and (
                    exponent.lstrip("-").isdigit()):
                return base + exponent.translate(_SUPERSCRIPTS), POWER
            if style == "latex":
                return f"{base}^{{{exponent}}}", POWER
            return f"{base}^{self.wrap(right, UNARY)}", POWER
        lhs = self.wrap(left, op.precedence)
        rhs = self.wrap(right, op.precedence + 1)
        return f"{lhs}{getattr(op, style)}{rhs}", op.precedence

    def call(self, node: Call, parts: list) -> tuple[str, int]:
        style = self.style
        n = len(node.args)
        args = [p[0] for p in parts[:n]]
        names = [k.replace("_", r"\_") if style == "latex" else k for k, _ in node.keywords]
        keywords = [f"{k}={p[0]}" for k, p in zip(names, parts[n:])]
        if style == "text":
            return f"{node.func}({', '.join(args + keywords)})", POSTFIX
        from gradcli.lang.builtins import lookup  # the row says how a formula writes it

        builtin = lookup(node.func)
        form = getattr(builtin, style, "") if builtin is not None else ""
        if "{x}" in form and n == 1 and not keywords:
            if form.startswith("{x}"):  # postfix (x⁻¹): the argument as a base
                return form.replace("{x}", self.wrap(parts[0], POSTFIX)), POSTFIX
            return form.replace("{x}", args[0]), ATOM
        if style == "unicode":
            return f"{node.func}({', '.join(args + keywords)})", POSTFIX
        name = form if form and "{x}" not in form else rf"\operatorname{{{node.func}}}".replace(
            "_", r"\_")
        return rf"{name}\left({', '.join(args + keywords)}\right)", POSTFIX


def to_text(node: Node, transpose: str = "attribute") -> str:
    """Source text that parses back to ``node`` (``transpose="attribute"`` writes
    ``A.T``, for a grammar that reads it; else ``transpose(A)``)."""
    return _Printer("text", transpose).print(node)


def to_unicode(node: Node) -> str:
    return _Printer("unicode").print(node)


def to_latex(node: Node) -> str:
    return _Printer("latex").print(node)
