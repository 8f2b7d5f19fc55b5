"""Syntax tree -> engine calls: the statement builder and the tree evaluator.

The reader parses each statement with Lark's LALR parser, with :class:`StatementBuilder`
(the syntax tree's :class:`~gradcli.lang.syntax.Builder`, plus the checks a statement
that is to run needs, raised with the offending node's span while it parses) as the
callbacks: the tree is built bottom-up during the parse, nothing recurses. Parentheses
and keyword arguments are kept as :class:`~gradcli.lang.syntax.Group` nodes, so an
error in what encloses them points at them as written.

:class:`Evaluator` runs a tree in post-order with a value stack (the order is a flat
list, made once per tree): no recursion anywhere, so 10,000 nested parentheses or a
100,000-term sum are just long lists. Every error is raised once, with the span of the
node being evaluated (a span is ``(line, column, end_line, end_column)``, 1-based, end
exclusive; ``where`` moves a cached tree's spans to the line it runs for).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradcli.autograd import OperationError, SizeLimitError, Variable, ops
from gradcli.autograd.errors import LimitError
from gradcli.autograd.ops.masks import is_mask
from gradcli.lang import syntax
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
    did_you_mean,
    suggestions,
)
from gradcli.lang.results import Span
from gradcli.lang.syntax import (
    Array,
    Assign,
    Augmented,
    Binary,
    Call,
    Compare,
    Group,
    Index,
    Name,
    Node,
    Number,
    Slice,
    Transpose,
    Unary,
    Underflow,
)

# each operator runs the engine function of its name (syntax.OPERATORS: "+" is add)
ENGINE_FUNCTIONS = {symbol: getattr(ops, op.name) for symbol, op in syntax.OPERATORS.items()}
OPERATION_NAMES = {symbol: op.name for symbol, op in syntax.OPERATORS.items()}


def to_span(s: tuple[int, int, int, int]) -> Span:
    return Span(*s)


def token_span(tok: Any) -> tuple[int, int, int, int]:
    return (tok.line, tok.column, tok.end_line, tok.end_column)


def _join(a: tuple, b: tuple) -> tuple[int, int, int, int]:
    return (a[0], a[1], b[2], b[3])


# -- building a statement's tree ------------------------------------------------------------


class _Keyword:
    """A ``name=value`` argument while its call is reduced (``value`` is its Group)."""

    __slots__ = ("name", "name_span", "value")

    def __init__(self, name: str, name_span: tuple, value: Node) -> None:
        self.name = name
        self.name_span = name_span
        self.value = value


class StatementBuilder(syntax.Builder):
    """The syntax tree's builder for statements that are to run: spans as the source
    wrote them (parentheses included), and the checks that need no values (a bad call,
    method or attribute, an assignment to a built-in, a shape declaration, ``d/dx``)
    raised while the statement parses."""

    def __init__(self) -> None:
        self.quote: Any = None  # the last ' shifted (see QUOTE)
        self.rpar: Any = None  # the last ) shifted (see RPAR)

    # Lark calls these as it shifts the tokens: the last ' and ) seen are the ones that
    # end a transpose or a method (reduced before any other token is shifted), which
    # their rules leave out of the children
    def QUOTE(self, tok: Any) -> Any:  # noqa: N802 - named after the terminal
        self.quote = tok
        return tok

    def RPAR(self, tok: Any) -> Any:  # noqa: N802 - named after the terminal
        self.rpar = tok
        return tok

    def group(self, c: list) -> Node:
        lpar, inner, rpar = c
        return Group(inner, span=_join(token_span(lpar), token_span(rpar)))

    def binary(self, c: list) -> Node:
        node = super().binary(c)
        if node.op == "/":
            _derivative_habit(node)
        return node

    def call(self, c: list) -> Node:
        name, _, arguments, rpar = c
        return _call(name, [], arguments, _join(token_span(name), token_span(rpar)))

    def method(self, c: list) -> Node:
        operand, name, arguments = c
        builtin = lookup(name.value)
        if builtin is None or builtin.constructor:
            raise UnknownName(_method_message(name.value, builtin), to_span(token_span(name)))
        return _call(name, [operand], arguments, _join(operand.span, token_span(self.rpar)))

    def attribute(self, c: list) -> Node:
        operand, name = c
        if name.value != "T":
            raise UnknownName(_attribute_message(name.value), to_span(token_span(name)))
        return Transpose(operand, span=_join(operand.span, token_span(name)))

    def transpose(self, c: list) -> Node:
        (operand,) = c
        return Transpose(operand, span=_join(operand.span, token_span(self.quote)))

    def keyword(self, c: list) -> _Keyword:
        name, value = c
        name_span = token_span(name)
        return _Keyword(name.value, name_span, Group(value, span=_join(name_span, value.span)))

    def slice(self, parts: list) -> Node:
        # lo ":" hi  or  lo ":" hi ":" step, with None for a missing bound
        if len(parts) == 3:
            lo, colon, hi = parts
            step = None
            last = hi.span if hi is not None else token_span(colon)
        else:
            lo, colon, hi, colon2, step = parts
            last = step.span if step is not None else token_span(colon2)
        first = lo.span if lo is not None else token_span(colon)
        return Slice(lo, hi, step, span=_join(first, last))

    def assign(self, c: list) -> Node:
        _check_assignable(c[0])
        return super().assign(c)

    def augmented(self, c: list) -> Node:
        _check_assignable(c[0])
        return super().augmented(c)

    def declare(self, c: list) -> Node:
        name, close = c[0], c[-1]
        span = _join(token_span(name), token_span(close))
        raise DeclarationProblem(
            f'"{name.value}: [...]" declares a symbol\'s shape, which only gradcli diff '
            f'reads; to evaluate, give {name.value} a value (-v {name.value}=VALUE, or '
            f'{name.value} = ...)', to_span(span))

    # sizes: syntax.Builder's, which refuses a size that is not a positive whole number
    # here, where the reader reports it with its caret (diff, and eval alike)


def _call(name: Any, leading: list, arguments: list | None, span: tuple) -> Call:
    """The call of ``name``: the ``leading`` positional nodes (a method's value), then
    ``arguments`` (positional ones, then keywords)."""
    args = list(leading)
    keywords: list[tuple[str, Node]] = []
    for arg in arguments or ():
        if type(arg) is _Keyword:
            if any(k == arg.name for k, _ in keywords):
                raise ArgumentProblem(f"{name.value}() got two values for {arg.name}",
                                      to_span(arg.name_span))
            keywords.append((arg.name, arg.value))
        else:
            if keywords:
                raise ArgumentProblem(
                    "a positional argument cannot follow a keyword argument", to_span(arg.span))
            args.append(arg)
    return Call(name.value, tuple(args), tuple(keywords), span=span)


def _derivative_habit(node: Binary) -> None:
    """``d/dx(y)``, written as in a textbook: a call of an unknown ``dx`` divided into a
    lone ``d`` (there are no user functions, so this is never a program that runs)."""
    left, right = node.left, node.right
    while type(right) is Group:  # d/(dx(y)) too
        right = right.operand
    if type(right) is not Call or type(left) is not Name or left.id != "d":
        return
    name = right.func
    if len(name) > 1 and name[0] == "d" and lookup(name) is None:
        wrt = name[1:]
        raise UnknownName(
            f"d/d{wrt}(...) is not part of the language: grad(y, {wrt}) is the derivative "
            f"as a value, and gradcli diff 'y' --wrt {wrt} prints it as a formula",
            to_span(node.span))


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
    return f'unknown function "{name}"{did_you_mean(suggestions(name, candidates))}'


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
    return f'unknown method "{name}"{did_you_mean(near)}'


def _attribute_message(name: str) -> str:
    builtin = lookup(name)
    if builtin is not None and not builtin.constructor:
        return f'"{name}" is a method: call it, as in x.{name}()'
    near = ["T"] if name == "t" else suggestions(name, method_names())
    return (f'unknown attribute "{name}"{did_you_mean(near)}: x.T (the transpose) is the '
            "one attribute; methods are called as x.name(...)")


def _check_assignable(name: Any) -> None:
    """An assignment's name token: not a built-in's."""
    if lookup(name.value) is not None:
        raise ArgumentProblem(
            f'cannot assign to "{name.value}": it is a built-in function (choose another '
            'name)', to_span(token_span(name)),
        )


# -- errors in the user's words ----------------------------------------------------------


class FloatingErrors:
    """NumPy's floating-point error callback: remembers which errors the last op raised."""

    __slots__ = ("kinds",)

    def __init__(self) -> None:
        self.kinds: list[str] = []

    def __call__(self, kind: str, flag: int) -> None:
        if kind not in self.kinds:
            self.kinds.append(kind)


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
    what = ""
    if shape is not None:
        sizes = ", ".join(_size_text(int(d), group=False) for d in shape)
        what = f"shape ({sizes}{',' if len(shape) == 1 else ''}), "
    return LimitProblem(
        f"{opname}: the result would have {what}{_size_text(elements)} elements, over the "
        f"limit of {limit:,} (raise it with --max-elements)", to_span(span),
    )


def _size_text(n: int, group: bool = True) -> str:
    """A count as a reader takes it in: its digits (grouped), or ``1.5e+300`` from 10^21
    on (hundreds of digits would be noise; exact, where a float could overflow)."""
    if abs(n) < 10**21:
        return f"{n:,}" if group else str(n)
    from decimal import Decimal  # (only on this error)

    mantissa, _, exponent = format(Decimal(n), ".4g").partition("e")
    return f"{mantissa.rstrip('0').rstrip('.') if '.' in mantissa else mantissa}e{exponent}"


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


# -- running a tree --------------------------------------------------------------------------


def evaluation_order(root: Node) -> list[Node]:
    """Every node of ``root``'s tree, children (left to right) before their parent."""
    order: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(node.children())
    order.reverse()  # (node, last child's ..., first child's) reversed is post-order
    return order


class _Bounds:
    """A slice's evaluated ``lo``, ``hi``, ``step`` (None where not written), until the
    index it belongs to checks them."""

    __slots__ = ("values",)

    def __init__(self, values: tuple) -> None:
        self.values = values


def _same(span: tuple) -> tuple:
    return span


_LARGEST = {np.dtype(np.float64): float(np.finfo(np.float64).max),
            np.dtype(np.float32): float(np.finfo(np.float32).max)}
UNDERFLOW_WARNING = "number: too small for "  # (then the dtype's name, ", it is 0")
# below this a literal may round to 0 in the dtype (a subnormal is kept: still not 0)
_SMALLEST = {np.dtype(np.float64): float(np.finfo(np.float64).smallest_subnormal),
             np.dtype(np.float32): float(np.finfo(np.float32).smallest_subnormal)}


class Evaluator:
    """Runs statements' trees against a session's names.

    ``where`` moves a span of the tree to the line being run (a tree cached for the
    line's shape was built for another line); ``numbers`` gives the values of the tree's
    Number nodes for that line (by ``id``), where they differ from the tree's.
    """

    def __init__(self, session: Any, where: Callable[[tuple], tuple] | None = None,
                 numbers: dict[int, float] | None = None,
                 errors: FloatingErrors | None = None) -> None:
        self.session = session
        if errors is None:
            errors = FloatingErrors()
        elif errors.kinds:  # (a shared one: what came after the last statement is not ours)
            errors.kinds.clear()
        self.errors = errors
        self.warnings: list[str] = []
        self.at = where or _same
        self.numbers = numbers

    # -- names --------------------------------------------------------------------------

    def load(self, name: str, span: tuple) -> Variable:
        session = self.session
        value = session.names.get(name)
        if value is not None:
            return value
        if name == "_":
            if session.last is None:
                raise UnknownName('"_" has no value yet: it is the last result',
                                  to_span(self.at(span)))
            return session.last
        constant = session.constants.get(name)
        if constant is not None:
            return Variable(np.array(constant, dtype=session.dtype))
        if lookup(name) is not None:
            raise UnknownName(f'"{name}" is a function: call it, as in {name}(x)',
                              to_span(self.at(span)))
        near = suggestions(name, session.known_names())
        # no near name: say how to give this one a value (a symbol is diff's, SPEC §9)
        hint = None if near else (
            f"(assign it first: {name} = ...)" if getattr(session, "interactive", False)
            else f"(give it a value with -v {name}=VALUE, or assign it first: {name} = ...)")
        raise UnknownName(f'unknown name "{name}"{did_you_mean(near)}', to_span(self.at(span)),
                          hint=hint)

    def store(self, name: str, value: Any) -> Variable:
        value = value if type(value) is Variable else materialize(value)
        if not value.requires_grad:
            value = Variable(value.data, requires_grad=True)
            self.session.new_leaf(name, value)
        self.session.names[name] = value
        return value

    # -- the loop -----------------------------------------------------------------------

    def execute(self, order: list[Node]) -> Variable:
        """Run a tree (its :func:`evaluation_order`); the statement's value (for an
        assignment, the stored one)."""
        stack: list[Any] = []
        push = stack.append
        pop = stack.pop
        errors = self.errors
        numbers = self.numbers
        dtype = self.session.dtype
        constant = Variable.constant
        named = self.session.names.get  # (load's common case, inlined)
        largest = _LARGEST[dtype] if dtype in _LARGEST else float(np.finfo(dtype).max)
        smallest = _SMALLEST[dtype] if dtype in _SMALLEST else \
            float(np.finfo(dtype).smallest_subnormal)
        node: Node | None = None
        try:
            for node in order:
                kind = type(node)
                if kind is Number:  # a constant
                    value = node.value if numbers is None else numbers.get(id(node), node.value)
                    if value > largest:  # (literals have no sign: -x is an operation)
                        self.overflow(node.span, dtype)
                    elif value < smallest:  # 0, or it may become 0 in the dtype
                        self.underflow(value, node.span, dtype)
                    push(constant(np.array(value, dtype=dtype)))
                elif kind is Name:
                    value = named(node.id)
                    push(value if value is not None else self.load(node.id, node.span))
                elif kind is Group:
                    continue  # its operand's value, already on the stack
                elif kind is Binary or kind is Compare:
                    b = pop()
                    a = pop()
                    if type(a) is not Variable:
                        a = materialize(a)
                    if type(b) is not Variable:
                        b = materialize(b)
                    out = ENGINE_FUNCTIONS[node.op](a, b)
                    if errors.kinds and kind is Binary:  # (a comparison has no domain)
                        self.domain(OPERATION_NAMES[node.op], node.span, out, [a, b])
                    push(out)
                elif kind is Call:
                    out, inputs = self.call(node, node.func, node.args, node.keywords, stack)
                    if errors.kinds:
                        self.domain(node.func, node.span, out, inputs)
                    push(out)
                elif kind is Transpose:
                    out, inputs = self.call(node, "transpose", (node.operand,), (), stack)
                    if errors.kinds:
                        self.domain("transpose", node.span, out, inputs)
                    push(out)
                elif kind is Unary:
                    a = pop()
                    if type(a) is not Variable:
                        a = materialize(a)
                    push(ops.negative(a) if node.op == "-" else a)
                elif kind is Index:
                    push(self.index(node, stack))
                elif kind is Slice:
                    count = (node.lo is not None) + (node.hi is not None) + (node.step is not None)
                    parts = iter(stack[len(stack) - count:])
                    del stack[len(stack) - count:]
                    push(_Bounds(tuple(None if p is None else next(parts)
                                       for p in (node.lo, node.hi, node.step))))
                elif kind is Array:
                    n = len(node.elements)
                    if n:
                        items = stack[-n:]
                        del stack[-n:]
                        for k, item in enumerate(items):
                            if type(item) is not Variable:
                                items[k] = materialize(item)
                    else:
                        items = []
                    push(Literal(items, self.at(node.span)))
                elif kind is Assign:
                    push(self.store(node.name, pop()))
                elif kind is Augmented:
                    e = pop()
                    if type(e) is not Variable:
                        e = materialize(e)
                    s = node.span
                    current = self.load(node.name, (s[0], s[1], s[0], s[1] + len(node.name)))
                    out = ENGINE_FUNCTIONS[node.op](current, e)
                    if errors.kinds:
                        self.domain(OPERATION_NAMES[node.op], node.span, out, [current, e])
                    push(self.store(node.name, out))
                else:  # pragma: no cover - the builder makes no other nodes to run
                    raise AssertionError(kind)
            value = pop()
            return value if type(value) is Variable else materialize(value)
        except GradcliError:
            raise
        except OperationError as exc:
            raise shape_problem(opname(node), exc, self.at(node.span)) from None
        except SizeLimitError as exc:
            raise limit_problem(opname(node), exc, self.at(node.span)) from None
        except ElementShapeError as exc:
            raise ShapeProblem(str(exc), to_span(self.at(node.span))) from None
        except (ValueError, TypeError, IndexError) as exc:
            name = opname(node)
            text = str(exc)  # (an operation's own message may name it already)
            text = text[len(name) + 2:] if text.startswith(f"{name}: ") else text
            raise ArgumentProblem(f"{name}: {text}", to_span(self.at(node.span))) from None
        except LimitError as exc:  # the message names the operation and the option
            raise LimitProblem(str(exc), to_span(self.at(node.span))) from None
        except MemoryError:
            raise LimitProblem(f"{opname(node)}: out of memory (NumPy could not allocate "
                               "the result)", to_span(self.at(node.span))) from None
        except (ArithmeticError, RecursionError, AttributeError, KeyError, AssertionError,
                RuntimeError) as exc:
            raise InternalProblem(
                f"{opname(node)} failed: {type(exc).__name__}: {exc}",
                to_span(self.at(node.span)) if node is not None else None,
            ) from None

    # -- calls --------------------------------------------------------------------------

    def call(self, node: Node, name: str, arguments: tuple, keyword_nodes: tuple,
             stack: list) -> tuple[Variable, list]:
        """Call the built-in ``name`` with the values of ``arguments`` and
        ``keyword_nodes`` (the top of ``stack``)."""
        builtin = lookup(name)
        npos = len(arguments)
        count = npos + len(keyword_nodes)
        args = stack[len(stack) - count:] if count else []
        if count:
            del stack[-count:]
        if builtin is None:
            s = self.at(node.span)
            name_span = to_span((s[0], s[1], s[0], s[1] + len(name)))
            if name in self.session.names or name in self.session.constants or name == "_":
                raise UnknownName(
                    f'"{name}" is not a function (to multiply, write {name}*(...))', name_span)
            raise UnknownName(_unknown_function(name, self.session.callable_names()),
                              name_span)
        tail = None if keyword_nodes else _quick_tail(builtin, npos)
        if tail is not None:  # arrays by position, defaults after: bind's result, quickly
            values = [a if type(a) is Variable else materialize(a) for a in args]
            values.extend(tail)
        else:
            try:
                values = bind(builtin, args[:npos], tuple(k for k, _ in keyword_nodes),
                              args[npos:])
            except ArgumentError as exc:
                raise ArgumentProblem(
                    f"{builtin.name}(): {exc}; usage: {builtin.signature}",
                    self._argument_span(node, arguments, keyword_nodes, exc.index),
                ) from None
        try:
            if builtin.constructor:
                out = builtin.call(self.session, *values)
            else:
                out = builtin.call(*values)
        except ArgumentError as exc:
            raise ArgumentProblem(f"{builtin.name}(): {exc}", self._argument_span(
                node, arguments, keyword_nodes, exc.index)) from None
        return out, values  # (the inputs, for domain(): it reads the Variables among them)

    def _argument_span(self, node: Node, arguments: tuple, keyword_nodes: tuple,
                       index: int | None) -> Span:
        """Where argument ``index`` (positional ones first) was written; else the call."""
        if index is None:
            return to_span(self.at(node.span))
        written = [*arguments, *(v for _, v in keyword_nodes)]
        return to_span(self.at(written[index].span))

    # -- indexing -----------------------------------------------------------------------

    def index(self, node: Index, stack: list) -> Variable:
        subscripts = node.subscripts
        count = len(subscripts)
        values = stack[len(stack) - count:]
        del stack[len(stack) - count:]
        target = stack.pop()
        if type(target) is not Variable:
            target = materialize(target)
        at = self.at
        items: list[Any] = []
        for written, value in zip(subscripts, values):
            if type(value) is _Bounds:
                span = at(written.span)
                items.append(slice(*(None if v is None else _slice_bound(v, span)
                                     for v in value.values)))
            else:
                items.append(_index_item(value, at(written.span)))
        if target.data.ndim < sum(1 for item in items if not isinstance(item, np.ndarray)) and (
            not any(isinstance(item, np.ndarray) for item in items)
        ):
            # [[1, 2]\n[3, 4]] reads as [1, 2][3, 4]: a row on a new line lacks its comma
            row = " (a new line inside brackets does not separate elements: if this [...] is " \
                  'another row, a "," is missing before it)' if (
                      subscripts[0].span[0] > node.span[0]) else ""
            raise ShapeProblem(
                f"index: too many indices ({len(items)}) for an array of shape "
                f"{target.shape}{row}", to_span(at(node.span)),
            )
        index = items[0] if len(items) == 1 else tuple(items)
        return ops.getitem(target, index)

    # -- NaN and infinity -------------------------------------------------------------------

    def overflow(self, span: tuple, dtype: Any) -> None:
        """A number written in the program too large for the dtype: it is infinity, said
        once (an error with --strict), as a NaN or infinity an operation makes is."""
        self.lost_number(f"number: too large for {np.dtype(dtype).name}, it is inf", span)

    def underflow(self, value: float, span: tuple, dtype: Any) -> None:
        """A number written in the program that is not zero but too small for the dtype:
        it is 0, said as an overflow is. (A subnormal, smaller than the dtype's normal
        range but not 0, is kept silently, as NumPy and IEEE 754 keep it.)"""
        if type(value) is Underflow or (value and not np.array(value, dtype=dtype)):
            self.lost_number(f"{UNDERFLOW_WARNING}{np.dtype(dtype).name}, it is 0", span)

    def lost_number(self, message: str, span: tuple) -> None:
        if self.session.strict:
            raise DomainProblem(message, to_span(self.at(span)))
        if message not in self.warnings:
            self.warnings.append(message)

    def domain(self, name: str, span: tuple, out: Variable, inputs: list) -> None:
        kinds = ", ".join(self.errors.kinds)
        self.errors.kinds.clear()
        count = _count_new(np.asarray(out.data), inputs)
        if not count:
            return
        message = f"{name}: {kinds} at {count} element{'s' if count != 1 else ''}"
        if self.session.strict:
            raise DomainProblem(message, to_span(self.at(span)))
        if message not in self.warnings:
            self.warnings.append(message)


def opname(node: Node | None) -> str:
    """The operation ``node`` runs, in the user's words (for its errors)."""
    if node is None:
        return "statement"
    kind = type(node)
    if kind is Binary or kind is Compare or kind is Augmented:
        return OPERATION_NAMES[node.op]
    if kind is Call or kind is Transpose:
        name = node.func if kind is Call else "transpose"
        found = lookup(name)
        return found.name if found else name
    if kind is Index:
        return "index"
    if kind is Unary:
        return "negative"
    if kind is Array:
        return "list"
    return "value"


def _index_item(value: Any, span: tuple) -> Any:
    if isinstance(value, Literal):
        value = materialize(value)
    data = value.data
    if data.ndim == 0:
        number = float(data)
        if not number.is_integer():
            raise ArgumentProblem(f"an index must be a whole number, got {number!r}",
                                  to_span(span))
        _index_in_range(number, span)
        return int(number)
    if is_mask(value):
        return value  # a comparison's result selects, as in NumPy
    if data.dtype.kind == "f" and data.size:
        with np.errstate(invalid="ignore"):
            _index_in_range(float(np.max(np.abs(data))), span)
    return data


_INDEX_LIMIT = 2.0**63  # NumPy's indices are int64: one this large has no position


def _index_in_range(number: float, span: tuple) -> None:
    if abs(number) >= _INDEX_LIMIT:
        raise ShapeProblem(f"index {number:g} is out of bounds: no array has an axis that "
                           "long (an index is below 2^63)", to_span(span))


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


def match_arguments(builtin: Builtin, npositional: int, keywords: tuple) -> list:
    """Which argument fills each parameter of ``builtin``: the argument's index
    (positional ones first, then the keywords), a ``range`` of positional indices for a
    variadic parameter, or None for its default; ArgumentError if they do not fit (too
    many, an unknown or repeated name, a missing argument). ``gradcli diff`` reads calls
    with it too."""
    params = builtin.params
    origin: list[Any] = [None] * len(params)
    n = len(params)
    i = 0
    for k in range(npositional):
        if i >= n:
            raise ArgumentError(
                f"takes {'at most ' if any(p.default is not REQUIRED for p in params) else ''}"
                f"{n} argument{'s' if n != 1 else ''} but got {npositional}", k)
        origin[i] = range(k, npositional) if params[i].variadic else k
        i += 1
        if params[i - 1].variadic:
            break
    for offset, name in enumerate(keywords):
        where = npositional + offset
        j = next((k for k, p in enumerate(params) if p.name == name), None)
        if j is None:
            near = suggestions(name, [p.name for p in params])
            raise ArgumentError(f"no argument named {name}{did_you_mean(near)}", where)
        if origin[j] is not None:
            raise ArgumentError(f"got two values for {name}", where)
        origin[j] = where
    for j, p in enumerate(params):
        if origin[j] is None and not p.variadic and p.default is REQUIRED:
            raise ArgumentError(f"missing the argument {p.name}")
    return origin


def bind(builtin: Builtin, positional: list, keywords: tuple, keyword_values: list) -> list:
    """Match the arguments to the parameters and convert each; ArgumentError if they
    do not fit (its ``index`` says which argument, counting positional ones first)."""
    origin = match_arguments(builtin, len(positional), keywords)
    values = [*positional, *keyword_values]
    result = []
    for p, where in zip(builtin.params, origin):
        if isinstance(where, range) or (where is not None and p.variadic):
            # by position, the rest of the arguments; by name (transpose(x, axes=[1, 0])),
            # one list
            written = [values[k] for k in where] if isinstance(where, range) else \
                [values[where]]
            at = where.start if isinstance(where, range) else where
            try:
                result.append(convert_variadic(p.kind, written))
            except ArgumentError as exc:
                raise ArgumentError(str(exc), at) from None
            continue
        if where is None:
            if p.variadic:
                result.append(())
                continue
            value = p.default
            if value is None or isinstance(value, bool):
                result.append(value)
                continue
            value = Variable(np.array(value))
        else:
            value = values[where]
        try:
            result.append(convert(p.kind, value, p.name))
        except ArgumentError as exc:
            raise ArgumentError(str(exc), where) from None
    return result
