"""Parse tree -> engine calls, keeping each node's source span.

The LALR parser reduces rules bottom-up, left to right: a post-order walk of the tree.
So instead of building a tree and walking it (recursion, or a second pass), the
:class:`Emitter` callbacks run *during the parse* and append one instruction per node to
a flat list, in post-order. :func:`execute` then runs that list with a value stack:
no recursion anywhere, so 10,000 nested parentheses or a 100,000-term sum are just
long lists.

An instruction is a tuple ``(opcode, span, ...)``; a span is ``(line, column, end_line,
end_column)`` (1-based, end exclusive), turned into a :class:`Span` only for errors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradcli.autograd import OperationError, SizeLimitError, Variable, ops
from gradcli.autograd.errors import LimitError
from gradcli.autograd.ops.masks import is_mask
from gradcli.lang.builtins import (
    ARRAY,
    BUILTINS,
    REQUIRED,
    ArgumentError,
    Builtin,
    ElementShapeError,
    Literal,
    callable_names,
    convert,
    convert_variadic,
    lookup,
    materialize,
)
from gradcli.lang.errors import (
    ArgumentProblem,
    DeclarationProblem,
    DomainProblem,
    GradcliError,
    InternalProblem,
    LimitProblem,
    ShapeProblem,
    UnknownName,
)
from gradcli.lang.lalr import Token
from gradcli.lang.results import Span

# opcodes
PUSH, LOAD, BINARY, COMPARE, SIGN, CALL, INDEX, LIST, STORE, AUGMENT = range(10)

BINARY_FUNCTIONS = {
    "+": ops.add, "-": ops.subtract, "*": ops.multiply, "/": ops.divide, "@": ops.matmul,
    "^": ops.power, "**": ops.power, "%": ops.mod, "//": ops.floor_divide,
}
COMPARE_FUNCTIONS = {
    "<": ops.less, "<=": ops.less_equal, ">": ops.greater, ">=": ops.greater_equal,
    "==": ops.equal, "!=": ops.not_equal,
}
OPERATION_NAMES = {
    "+": "add", "-": "subtract", "*": "multiply", "/": "divide", "@": "matmul", "^": "power",
    "**": "power", "%": "mod", "//": "floor_divide", "<": "less", "<=": "less_equal",
    ">": "greater", ">=": "greater_equal",
    "==": "equal", "!=": "not_equal",
}


def to_span(s: tuple[int, int, int, int]) -> Span:
    return Span(*s)


def token_span(tok: Token) -> tuple[int, int, int, int]:
    return (tok.line, tok.column, tok.end_line, tok.end_column)


def _join(a: tuple, b: tuple) -> tuple[int, int, int, int]:
    return (a[0], a[1], b[2], b[3])


class Keyword:
    """A ``name=value`` argument, as the call rule sees it."""

    __slots__ = ("name", "name_span", "span")

    def __init__(self, name: str, name_span: tuple, span: tuple) -> None:
        self.name = name
        self.name_span = name_span
        self.span = span


class SliceMark:
    """A ``lo:hi:step`` subscript: which parts are present and where it is."""

    __slots__ = ("parts", "span")

    def __init__(self, parts: tuple[bool, bool, bool], span: tuple) -> None:
        self.parts = parts
        self.span = span


def number_value(text: str) -> float:
    if len(text) > 1 and text[0] == "0" and text[1] in "xXoObB":
        value = int(text, 0)
        try:
            return float(value)
        except OverflowError:
            return math.inf
    return float(text)


class Emitter:
    """Parser callbacks: each appends its node's instruction to ``code`` and returns the
    node's span (or a marker for keyword arguments and slices).

    The parser calls the method named by each rule's alias (or name), as Lark calls a
    transformer's, with the rule's children as one list (no ``v_args`` wrapper: this
    runs for every node of every statement). A plain class, not a ``lark.Transformer``:
    without ``__default__``, a rule with no method makes a plain tree, as in Lark.
    """

    def __init__(self) -> None:
        self.code: list[tuple] = []
        self.quote: Token | None = None  # the last ' shifted (see QUOTE)
        self.rpar: Token | None = None  # the last ) shifted (see RPAR)

    # -- atoms -------------------------------------------------------------------------

    def number(self, c: list) -> tuple:
        tok = c[0]
        span = (tok.line, tok.column, tok.end_line, tok.end_column)
        self.code.append((PUSH, span, number_value(tok.value)))
        return span

    def boolean(self, c: list) -> tuple:
        tok = c[0]
        span = (tok.line, tok.column, tok.end_line, tok.end_column)
        self.code.append((PUSH, span, 1.0 if tok.value == "true" else 0.0))
        return span

    def name(self, c: list) -> tuple:
        tok = c[0]
        span = (tok.line, tok.column, tok.end_line, tok.end_column)
        self.code.append((LOAD, span, tok.value))
        return span

    def group(self, c: list) -> tuple:
        lpar, _, rpar = c
        return (lpar.line, lpar.column, rpar.end_line, rpar.end_column)

    def array(self, c: list) -> tuple:
        lsqb, elements, rsqb = c
        span = (lsqb.line, lsqb.column, rsqb.end_line, rsqb.end_column)
        self.code.append((LIST, span, len(elements) if elements else 0))
        return span

    def elements(self, c: list) -> list:
        return c

    # -- operators ---------------------------------------------------------------------

    def sign(self, c: list) -> tuple:
        op, operand = c
        span = (op.line, op.column, operand[2], operand[3])
        self.code.append((SIGN, span, op.value))
        return span

    def binary(self, c: list) -> tuple:
        left, op, right = c
        span = (left[0], left[1], right[2], right[3])
        if op.value == "/" and self.code[-1][0] == CALL:
            _derivative_habit(self.code, left, span)
        self.code.append((BINARY, span, op.value))
        return span

    def compare(self, c: list) -> tuple:
        left, op, right = c
        span = (left[0], left[1], right[2], right[3])
        self.code.append((COMPARE, span, op.value))
        return span

    # -- calls and indexing ------------------------------------------------------------

    def call(self, c: list) -> tuple:
        name, _, arguments, rpar = c
        span = (name.line, name.column, rpar.end_line, rpar.end_column)
        self._call(name, span, [], arguments)
        return span

    def _call(self, name: Token, span: tuple, leading: list, arguments: list | None) -> None:
        """Emit a call of ``name``: the ``leading`` positional spans (a method's value),
        then ``arguments`` (positional ones, then keywords)."""
        positional = len(leading)
        keywords: list[str] = []
        spans: list[tuple] = list(leading)
        for arg in arguments or ():
            if type(arg) is Keyword:
                if arg.name in keywords:
                    raise ArgumentProblem(f"{name.value}() got two values for {arg.name}",
                                          to_span(arg.name_span))
                keywords.append(arg.name)
                spans.append(arg.span)
            else:
                if keywords:
                    raise ArgumentProblem(
                        "a positional argument cannot follow a keyword argument",
                        to_span(arg),
                    )
                positional += 1
                spans.append(arg)
        self.code.append((CALL, span, name.value, positional, tuple(keywords), spans,
                          token_span(name)))

    # the parser calls these as it shifts the tokens: the last ' and ) seen are the ones
    # that end a transpose or a method (reduced before any other token is shifted), which
    # their rules leave out of the children
    def QUOTE(self, tok: Token) -> Token:  # noqa: N802 - named after the terminal
        self.quote = tok
        return tok

    def RPAR(self, tok: Token) -> Token:  # noqa: N802 - named after the terminal
        self.rpar = tok
        return tok

    def transpose(self, c: list) -> tuple:
        (operand,) = c
        quote = self.quote
        span = (operand[0], operand[1], quote.end_line, quote.end_column)
        self.code.append((CALL, span, "transpose", 1, (), [operand], token_span(quote)))
        return span

    def attribute(self, c: list) -> tuple:
        operand, name = c
        span = (operand[0], operand[1], name.end_line, name.end_column)
        if name.value != "T":
            raise UnknownName(_attribute_message(name.value), to_span(token_span(name)))
        self.code.append((CALL, span, "transpose", 1, (), [operand], token_span(name)))
        return span

    def method(self, c: list) -> tuple:
        operand, name, arguments = c
        rpar = self.rpar
        span = (operand[0], operand[1], rpar.end_line, rpar.end_column)
        builtin = lookup(name.value)
        if builtin is None or builtin.constructor:
            raise UnknownName(_method_message(name.value, builtin), to_span(token_span(name)))
        self._call(name, span, [operand], arguments)
        return span

    def arguments(self, c: list) -> list:
        return c

    def keyword(self, c: list) -> Keyword:
        name, value = c
        name_span = token_span(name)
        return Keyword(name.value, name_span, _join(name_span, value))

    def index(self, c: list) -> tuple:
        target, _, subscripts, rsqb = c
        span = (target[0], target[1], rsqb.end_line, rsqb.end_column)
        layout = tuple(item.parts if type(item) is SliceMark else None for item in subscripts)
        spans = [item.span if type(item) is SliceMark else item for item in subscripts]
        self.code.append((INDEX, span, layout, spans))
        return span

    def subscripts(self, c: list) -> list:
        return c

    def slice(self, parts: list) -> SliceMark:
        # lo ":" hi  or  lo ":" hi ":" step, with None for a missing bound
        if len(parts) == 3:
            lo, colon, hi = parts
            step = None
            last = hi if hi is not None else token_span(colon)
        else:
            lo, colon, hi, colon2, step = parts
            last = step if step is not None else token_span(colon2)
        first = lo if lo is not None else token_span(colon)
        return SliceMark((lo is not None, hi is not None, step is not None), _join(first, last))

    # -- statements --------------------------------------------------------------------

    def assign(self, c: list) -> tuple:
        name, value = c
        name_span = token_span(name)
        _check_assignable(name.value, name_span)
        span = _join(name_span, value)
        self.code.append((STORE, span, name.value, name_span))
        return span

    def augmented(self, c: list) -> tuple:
        name, op, value = c
        name_span = token_span(name)
        _check_assignable(name.value, name_span)
        span = _join(name_span, value)
        self.code.append((AUGMENT, span, name.value, op.value[:-1], name_span))
        return span

    def declare(self, c: list) -> tuple:
        name, close = c[0], c[-1]
        span = _join(token_span(name), token_span(close))
        raise DeclarationProblem(
            f'"{name.value}: [...]" declares a symbol\'s shape, which only gradcli diff '
            f'reads; to evaluate, give {name.value} a value (-v {name.value}=VALUE, or '
            f'{name.value} = ...)', to_span(span))

    def sizes(self, c: list) -> list:
        return c


def _derivative_habit(code: list, left: tuple, span: tuple) -> None:
    """``d/dx(y)``, written as in a textbook: a call of an unknown ``dx`` divided into a
    lone ``d`` (there are no user functions, so this is never a program that runs)."""
    call = code[-1]
    name = call[2]
    if len(name) > 1 and name[0] == "d" and lookup(name) is None and any(
            ins[0] == LOAD and ins[1] == left and ins[2] == "d" for ins in code):
        wrt = name[1:]
        raise UnknownName(
            f"d/d{wrt}(...) is not part of the language: grad(y, {wrt}) is the derivative "
            f"as a value, and gradcli diff 'y' --wrt {wrt} prints it as a formula",
            to_span(span))


RENAMED = {  # NumPy's (or SciPy's) names that gradcli spells otherwise, and why
    "diff": "NumPy's np.diff is differences(x) here (gradcli diff, the command, prints "
            "derivatives)",
    "eigh": "eigvalsh(x) gives the eigenvalues (eigenvectors are not offered: their signs "
            "are arbitrary)",
    "svd": "svdvals(x) gives the singular values",
}


def _unknown_function(name: str, candidates: Any) -> str:
    if name in RENAMED:
        return f'unknown function "{name}": {RENAMED[name]}'
    return f'unknown function "{name}"{_did_you_mean(suggestions(name, candidates))}'


def method_names() -> list[str]:
    """The names ``x.name(...)`` can call: every built-in but the constructors."""
    return sorted(n for n, b in ((n, lookup(n)) for n in callable_names())
                  if b is not None and not b.constructor)


def _method_message(name: str, builtin: Builtin | None) -> str:
    if builtin is not None:  # a constructor: it takes sizes, not a value
        return (f'"{name}" makes a new array and is not a method: call it, as in '
                f"{builtin.signature}")
    if name == "T":
        return '"T" is the transpose, not a method: write x.T (or x\')'
    if name in RENAMED:
        return f'unknown method "{name}": {RENAMED[name]}'
    near = suggestions(name, method_names())
    return f'unknown method "{name}"{_did_you_mean(near)}'


def _attribute_message(name: str) -> str:
    builtin = lookup(name)
    if builtin is not None and not builtin.constructor:
        return f'"{name}" is a method: call it, as in x.{name}()'
    near = ["T"] if name == "t" else suggestions(name, method_names())
    return (f'unknown attribute "{name}"{_did_you_mean(near)}: x.T (the transpose) is the '
            "one attribute; methods are called as x.name(...)")


def _check_assignable(name: str, span: tuple) -> None:
    if lookup(name) is not None:
        raise ArgumentProblem(
            f'cannot assign to "{name}": it is a built-in function (choose another name)',
            to_span(span),
        )


# -- running the instructions --------------------------------------------------------------


class FloatingErrors:
    """NumPy's floating-point error callback: remembers which errors the last op raised."""

    __slots__ = ("kinds",)

    def __init__(self) -> None:
        self.kinds: list[str] = []

    def __call__(self, kind: str, flag: int) -> None:
        if kind not in self.kinds:
            self.kinds.append(kind)


def suggestions(name: str, candidates: Any, limit: int = 3) -> list[str]:
    import difflib  # only on an error: not on every start

    return difflib.get_close_matches(name, list(candidates), n=limit, cutoff=0.6)


def _did_you_mean(names: list[str]) -> str:
    if not names:
        return ""
    quoted = [f'"{n}"' for n in names]
    if len(quoted) == 1:
        return f" (did you mean {quoted[0]}?)"
    return f" (did you mean {', '.join(quoted[:-1])} or {quoted[-1]}?)"


def _shapes(shapes: list) -> str:
    shapes = [tuple(s) for s in shapes]
    return " and ".join(str(s) for s in shapes)


def shape_problem(opname: str, exc: OperationError, span: tuple) -> GradcliError:
    """An engine OperationError in the user's words: the operation and the shapes."""
    reason = exc.reason.strip().rstrip(".")
    for prefix in (f"{opname}: ", f"{exc.op}: ", f"{exc.op.lower()}: "):
        if reason.lower().startswith(prefix.lower()):
            reason = reason[len(prefix):]
    shapes = _shapes(exc.shapes)
    if len(exc.shapes) > 1 and opname in ELEMENTWISE_NAMES and not _broadcastable(exc.shapes):
        return ShapeProblem(f"{opname}: shapes {shapes} cannot be broadcast together",
                            to_span(span))
    if "core dimension" in reason:
        return ShapeProblem(f"{opname}: shapes {shapes} do not fit (inner sizes differ)",
                            to_span(span))
    if "singular" in reason.lower():
        return DomainProblem(f"{opname}: the matrix is singular (shape {shapes})", to_span(span))
    reason = reason[:1].lower() + reason[1:]
    message = f"{opname}: {reason}"
    if exc.shapes and not all(str(tuple(s)) in reason for s in exc.shapes):
        word = "shape" if len(exc.shapes) == 1 else "shapes"
        message += f" (input {word} {shapes})"
    return ShapeProblem(message, to_span(span))


ELEMENTWISE_NAMES = (frozenset(OPERATION_NAMES.values()) - {"matmul"}) | frozenset(
    b.name for b in BUILTINS.values() if b.category == "elementwise"
)


def _broadcastable(shapes: list) -> bool:
    try:
        np.broadcast_shapes(*[tuple(s) for s in shapes])
    except ValueError:
        return False
    return True


def limit_problem(opname: str, exc: SizeLimitError, span: tuple) -> LimitProblem:
    elements = getattr(exc, "elements", None)
    limit = getattr(exc, "limit", None)
    if elements is None or limit is None:
        return LimitProblem(f"{opname}: {exc}", to_span(span))
    shape = getattr(exc, "shape", None)
    what = f"shape {tuple(shape)}, " if shape is not None else ""
    return LimitProblem(
        f"{opname}: the result would have {what}{elements:,} elements, over the limit of "
        f"{limit:,} (raise it with --max-elements)", to_span(span),
    )


def _count_new(out: np.ndarray, inputs: list) -> int:
    """Elements of ``out`` that are NaN or infinite where the op's inputs were not."""
    bad = ~np.isfinite(out)
    total = int(np.count_nonzero(bad))
    if not total:
        return 0
    datas = [v.data for v in inputs if isinstance(v, Variable)]
    if all(np.isfinite(d).all() for d in datas):
        return total
    try:
        for d in datas:
            if np.broadcast_shapes(d.shape, out.shape) != out.shape:
                return total
            bad = bad & ~(np.isnan(d) | (np.isinf(d) & ~np.isnan(out)))
    except ValueError:
        return total
    return int(np.count_nonzero(bad)) or total


_LARGEST = {np.dtype(np.float64): float(np.finfo(np.float64).max),
            np.dtype(np.float32): float(np.finfo(np.float32).max)}


class Runner:
    """Runs a statement's instructions against a session's names."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.errors = FloatingErrors()
        self.warnings: list[str] = []

    # -- names --------------------------------------------------------------------------

    def load(self, name: str, span: tuple) -> Variable:
        session = self.session
        value = session.names.get(name)
        if value is not None:
            return value
        if name == "_":
            if session.last is None:
                raise UnknownName('"_" has no value yet: it is the last result', to_span(span))
            return session.last
        constant = session.constants.get(name)
        if constant is not None:
            return Variable(np.array(constant, dtype=session.dtype))
        if lookup(name) is not None:
            raise UnknownName(f'"{name}" is a function: call it, as in {name}(x)', to_span(span))
        near = suggestions(name, session.known_names())
        # no near name: say how to give this one a value (a symbol is diff's, SPEC §9)
        hint = None if near else (f"(give it a value with -v {name}=VALUE, or assign it "
                                  f"first: {name} = ...)")
        raise UnknownName(f'unknown name "{name}"{_did_you_mean(near)}', to_span(span),
                          hint=hint)

    def store(self, name: str, value: Any) -> Variable:
        value = self.array(value)
        if not value.requires_grad:
            value = Variable(value.data, requires_grad=True)
            self.session.new_leaf(name, value)
        self.session.names[name] = value
        return value

    def array(self, value: Any) -> Variable:
        if type(value) is Variable:
            return value
        return materialize(value)

    # -- the loop -----------------------------------------------------------------------

    def execute(self, code: list[tuple]) -> Variable:
        """Run the instructions; the statement's value (for an assignment, the stored one)."""
        stack: list[Any] = []
        push = stack.append
        pop = stack.pop
        errors = self.errors
        dtype = self.session.dtype
        constant = Variable.constant
        largest = _LARGEST[dtype] if dtype in _LARGEST else float(np.finfo(dtype).max)
        ins: tuple = ()
        try:
            for ins in code:
                op = ins[0]
                if op == PUSH:  # a constant
                    if ins[2] > largest:  # (literals have no sign: -x is an operation)
                        self.overflow(ins[1], dtype)
                    push(constant(np.array(ins[2], dtype=dtype)))
                elif op == LOAD:
                    push(self.load(ins[2], ins[1]))
                elif op == BINARY:
                    b = pop()
                    a = pop()
                    if type(a) is not Variable:
                        a = materialize(a)
                    if type(b) is not Variable:
                        b = materialize(b)
                    out = BINARY_FUNCTIONS[ins[2]](a, b)
                    if errors.kinds:
                        self.domain(OPERATION_NAMES[ins[2]], ins[1], out, [a, b])
                    push(out)
                elif op == CALL:
                    out, inputs = self.call(ins, stack)
                    if errors.kinds:
                        self.domain(ins[2], ins[1], out, inputs)
                    push(out)
                elif op == SIGN:
                    a = pop()
                    if type(a) is not Variable:
                        a = materialize(a)
                    push(ops.negative(a) if ins[2] == "-" else a)
                elif op == COMPARE:
                    b = pop()
                    a = pop()
                    if type(a) is not Variable:
                        a = materialize(a)
                    if type(b) is not Variable:
                        b = materialize(b)
                    push(COMPARE_FUNCTIONS[ins[2]](a, b))
                elif op == INDEX:
                    push(self.index(ins, stack))
                elif op == LIST:
                    n = ins[2]
                    if n:
                        items = stack[-n:]
                        del stack[-n:]
                        for k, item in enumerate(items):
                            if type(item) is not Variable:
                                items[k] = materialize(item)
                    else:
                        items = []
                    push(Literal(items, ins[1]))
                elif op == STORE:
                    push(self.store(ins[2], pop()))
                elif op == AUGMENT:
                    e = pop()
                    if type(e) is not Variable:
                        e = materialize(e)
                    current = self.load(ins[2], ins[4])
                    out = BINARY_FUNCTIONS[ins[3]](current, e)
                    if errors.kinds:
                        self.domain(OPERATION_NAMES[ins[3]], ins[1], out, [current, e])
                    push(self.store(ins[2], out))
                else:  # pragma: no cover - the emitter makes no other opcodes
                    raise AssertionError(op)
            value = pop()
            return value if type(value) is Variable else materialize(value)
        except GradcliError:
            raise
        except OperationError as exc:
            raise shape_problem(self.opname(ins), exc, ins[1]) from None
        except SizeLimitError as exc:
            raise limit_problem(self.opname(ins), exc, ins[1]) from None
        except ElementShapeError as exc:
            raise ShapeProblem(str(exc), to_span(ins[1])) from None
        except (ValueError, TypeError, IndexError) as exc:
            name = self.opname(ins)
            text = str(exc)  # (an operation's own message may name it already)
            text = text[len(name) + 2:] if text.startswith(f"{name}: ") else text
            raise ArgumentProblem(f"{name}: {text}", to_span(ins[1])) from None
        except LimitError as exc:  # the message names the operation and the option
            raise LimitProblem(str(exc), to_span(ins[1])) from None
        except MemoryError:
            raise LimitProblem(f"{self.opname(ins)}: out of memory (NumPy could not allocate "
                               "the result)", to_span(ins[1])) from None
        except (ArithmeticError, RecursionError, AttributeError, KeyError, AssertionError,
                RuntimeError) as exc:
            raise InternalProblem(
                f"{self.opname(ins)} failed: {type(exc).__name__}: {exc}",
                to_span(ins[1]) if ins else None,
            ) from None

    @staticmethod
    def opname(ins: tuple) -> str:
        if not ins:
            return "statement"
        op = ins[0]
        if op in (BINARY, COMPARE):
            return OPERATION_NAMES[ins[2]]
        if op == AUGMENT:
            return OPERATION_NAMES[ins[3]]
        if op == CALL:
            found = lookup(ins[2])
            return found.name if found else ins[2]
        if op == INDEX:
            return "index"
        if op == SIGN:
            return "negative"
        if op == LIST:
            return "list"
        return "value"

    # -- calls --------------------------------------------------------------------------

    def call(self, ins: tuple, stack: list) -> tuple[Variable, list]:
        _, span, name, npos, keywords, arg_spans, name_span = ins
        builtin = lookup(name)
        count = npos + len(keywords)
        args = stack[len(stack) - count:] if count else []
        if count:
            del stack[-count:]
        if builtin is None:
            if name in self.session.names or name in self.session.constants or name == "_":
                raise UnknownName(
                    f'"{name}" is not a function (to multiply, write {name}*(...))',
                    to_span(name_span),
                )
            raise UnknownName(_unknown_function(name, self.session.callable_names()),
                              to_span(name_span))
        tail = None if keywords else _quick_tail(builtin, npos)
        if tail is not None:  # arrays by position, defaults after: bind's result, quickly
            values = [a if type(a) is Variable else materialize(a) for a in args]
            values.extend(tail)
        else:
            try:
                values = bind(builtin, args[:npos], keywords, args[npos:])
            except ArgumentError as exc:
                where = arg_spans[exc.index] if exc.index is not None else span
                raise ArgumentProblem(
                    f"{builtin.name}(): {exc}; usage: {builtin.signature}", to_span(where)
                ) from None
        try:
            if builtin.constructor:
                out = builtin.call(self.session, *values)
            else:
                out = builtin.call(*values)
        except ArgumentError as exc:
            where = arg_spans[exc.index] if exc.index is not None else span
            raise ArgumentProblem(f"{builtin.name}(): {exc}", to_span(where)) from None
        return out, [v for v in values if type(v) is Variable]

    # -- indexing -----------------------------------------------------------------------

    def index(self, ins: tuple, stack: list) -> Variable:
        _, span, layout, spans = ins
        count = sum(1 if parts is None else sum(parts) for parts in layout)
        values = stack[len(stack) - count:]
        del stack[len(stack) - count:]
        target = stack.pop()
        if type(target) is not Variable:
            target = materialize(target)
        items: list[Any] = []
        k = 0
        for position, parts in enumerate(layout):
            if parts is None:
                items.append(_index_item(values[k], spans[position]))
                k += 1
            else:
                bounds = []
                for present in parts:
                    if present:
                        bounds.append(_slice_bound(values[k], spans[position]))
                        k += 1
                    else:
                        bounds.append(None)
                items.append(slice(*bounds))
        if target.data.ndim < sum(1 for item in items if not isinstance(item, np.ndarray)) and (
            not any(isinstance(item, np.ndarray) for item in items)
        ):
            # [[1, 2]\n[3, 4]] reads as [1, 2][3, 4]: a row on a new line lacks its comma
            row = " (a new line inside brackets does not separate elements: if this [...] is " \
                  'another row, a "," is missing before it)' if spans and spans[0][0] > span[0] \
                else ""
            raise ShapeProblem(
                f"index: too many indices ({len(items)}) for an array of shape "
                f"{target.shape}{row}", to_span(span),
            )
        index = items[0] if len(items) == 1 else tuple(items)
        return ops.getitem(target, index)

    # -- NaN and infinity -------------------------------------------------------------------

    def overflow(self, span: tuple, dtype: Any) -> None:
        """A number written in the program too large for the dtype: it is infinity, said
        once (an error with --strict), as a NaN or infinity an operation makes is."""
        message = f"number: too large for {np.dtype(dtype).name}, it is inf"
        if self.session.strict:
            raise DomainProblem(message, to_span(span))
        if message not in self.warnings:
            self.warnings.append(message)

    def domain(self, opname: str, span: tuple, out: Variable, inputs: list) -> None:
        kinds = ", ".join(self.errors.kinds)
        self.errors.kinds.clear()
        count = _count_new(np.asarray(out.data), inputs)
        if not count:
            return
        message = f"{opname}: {kinds} at {count} element{'s' if count != 1 else ''}"
        if self.session.strict:
            raise DomainProblem(message, to_span(span))
        if message not in self.warnings:
            self.warnings.append(message)


def _index_item(value: Any, span: tuple) -> Any:
    if isinstance(value, Literal):
        value = materialize(value)
    data = value.data
    if data.ndim == 0:
        number = float(data)
        if not number.is_integer():
            raise ArgumentProblem(f"an index must be a whole number, got {number!r}",
                                  to_span(span))
        return int(number)
    return value if is_mask(value) else data  # a comparison's result selects, as in NumPy


def _slice_bound(value: Any, span: tuple) -> int:
    if isinstance(value, Literal) or value.data.size != 1:
        raise ArgumentProblem("a slice bound must be a single whole number", to_span(span))
    number = float(value.data.reshape(()))
    if not number.is_integer():
        raise ArgumentProblem(f"a slice bound must be a whole number, got {number!r}",
                              to_span(span))
    return int(number)


_QUICK_TAILS: dict[tuple[int, int], tuple | None] = {}


def _quick_tail(builtin: Builtin, npos: int) -> tuple | None:
    """For a call of ``builtin`` with ``npos`` positional arguments and no keywords: the
    defaults of the parameters after them, when every positional one is a plain array and
    every default is None or a bool (so :func:`bind` would only materialize the arrays and
    append those defaults); else None."""
    key = (id(builtin), npos)
    if key in _QUICK_TAILS:
        return _QUICK_TAILS[key]
    params = builtin.params
    tail = None
    if npos <= len(params) and all(
        p.kind == ARRAY and not p.variadic for p in params[:npos]
    ) and all(
        not p.variadic and (p.default is None or isinstance(p.default, bool))
        for p in params[npos:]
    ):
        tail = tuple(p.default for p in params[npos:])
    _QUICK_TAILS[key] = tail
    return tail


def bind(builtin: Builtin, positional: list, keywords: tuple, keyword_values: list) -> list:
    """Match the arguments to the parameters and convert each; ArgumentError if they
    do not fit (its ``index`` says which argument, counting positional ones first)."""
    params = builtin.params
    slots: list[Any] = [REQUIRED] * len(params)
    origin: list[int | None] = [None] * len(params)
    n = len(params)
    i = 0
    for k, value in enumerate(positional):
        if i >= n:
            most = n
            raise ArgumentError(
                f"takes {'at most ' if any(p.default is not REQUIRED for p in params) else ''}"
                f"{most} argument{'s' if most != 1 else ''} but got {len(positional)}",
                k,
            )
        p = params[i]
        if p.variadic:
            try:
                slots[i] = convert_variadic(p.kind, positional[k:])
            except ArgumentError as exc:
                raise ArgumentError(str(exc), k) from None
            i += 1
            break
        slots[i] = value
        origin[i] = k
        i += 1
    for offset, (name, value) in enumerate(zip(keywords, keyword_values)):
        where = len(positional) + offset
        j = next((k for k, p in enumerate(params) if p.name == name), None)
        if j is None:
            near = suggestions(name, [p.name for p in params])
            raise ArgumentError(f"no argument named {name}{_did_you_mean(near)}", where)
        if slots[j] is not REQUIRED:
            raise ArgumentError(f"got two values for {name}", where)
        if params[j].variadic:  # transpose(x, axes=[1, 0]): one list, by name
            try:
                value = convert_variadic(params[j].kind, [value])
            except ArgumentError as exc:
                raise ArgumentError(str(exc), where) from None
        slots[j] = value
        origin[j] = where
    result = []
    for j, p in enumerate(params):
        value = slots[j]
        if value is REQUIRED:
            if p.variadic:
                result.append(())
                continue
            if p.default is REQUIRED:
                raise ArgumentError(f"missing the argument {p.name}")
            value = p.default
            if value is None or isinstance(value, bool):
                result.append(value)
                continue
            value = Variable(np.array(value))
        elif p.variadic:
            result.append(value)
            continue
        try:
            result.append(convert(p.kind, value, p.name))
        except ArgumentError as exc:
            raise ArgumentError(str(exc), origin[j]) from None
    return result
