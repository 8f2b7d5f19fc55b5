"""Lines -> statements: lexing, splitting, parsing, and syntax errors in words.

Lines are read one at a time, so a producer that writes one line and waits gets that
line's answer first. Each line is lexed on its own (Lark's lexer); its tokens are fed
to a Lark LALR parser state for the statement being read, which builds the statement's
syntax tree as it parses (:class:`~gradcli.lang.evaluate.StatementBuilder`). A newline
outside brackets or a ``;`` ends the statement. Where a statement fails to parse, the
error is reported and reading resumes at the line where it failed (or, if it failed on
its first, after the next ``;`` on that line, else at the next line; or just after the
``;`` that ended it), so no statement after a ``;`` is lost. Where the failure is a
bracket never closed (the input ends, or a later line opens with what cannot follow the
whole expression the bracket holds so far), the error is reported and reading resumes at
the line after the statement's first, wherever the statement started on it: an unclosed
bracket never swallows the lines after it. (A line read again that cannot end before
that failure is dropped at once, error said: a run of unclosed brackets costs its
length, not its square.)
"""

from __future__ import annotations

import itertools
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedToken

from gradcli.lang.builtins import lookup
from gradcli.lang.errors import GradcliError, LimitProblem, SyntaxProblem
from gradcli.lang.evaluate import StatementBuilder, evaluation_order, to_span, token_span
from gradcli.lang.grammar import build_lark
from gradcli.lang.records import Record
from gradcli.lang.results import Span
from gradcli.lang.syntax import Assign, Augmented, Node, Number, number_value

# the longest statement read (its lines together): a longer one is refused as it is read,
# before lexing, so a runaway line (a 100 MB paste, /dev/zero) costs no parse memory
MAX_STATEMENT_CHARS = 1_000_000


class Parser:
    """Lark's lexer and LALR parser state for the ``statement`` rule, building trees with
    :class:`~gradcli.lang.evaluate.StatementBuilder`, and the cache of trees by line
    shape (:class:`Shapes`)."""

    def __init__(self) -> None:
        from lark import lexer, utils
        from lark.parsers import lalr_parser_state

        self._lark = lexer, utils, lalr_parser_state
        self.builder = StatementBuilder()
        frontend = build_lark(self.builder).parser
        self.lexer = frontend.lexer
        inner = frontend.parser.parser
        self._conf = lalr_parser_state.ParseConf(inner.parse_table, inner.callbacks, "statement")
        self.shapes = Shapes(self.lexer)

    def new_state(self) -> Any:
        return self._lark[2].ParserState(self._conf, None)

    def lex(self, text: str, line: int) -> Iterator[Token]:
        """The tokens of one line (``text``), numbered as line ``line``; the Unicode forms
        of :func:`ascii_forms` are read as their ASCII meaning, at their own columns."""
        if text.isascii():
            return self._lex(text, line)
        found = ascii_forms(text)
        if found is None:
            return self._lex(text, line)
        return _lex_at(self._lex(found[0], line), found[1])

    def _lex(self, text: str, line: int) -> Iterator[Token]:
        lexer, utils, _ = self._lark
        counter = lexer.LineCounter("\n")
        counter.line = line
        return self.lexer.lex(lexer.LexerState(utils.TextSlice(text, 0, len(text)), counter),
                              None)


class Shapes:
    """Trees by line shape: a one-line statement that differs from one read before only
    in its numbers (and so in its columns) has the same tree.

    The key is the line's tokens (from the grammar's own compiled terminal pattern,
    without a Token object per match) with every NUMBER's text left out.
    A line's tree depends on nothing else: the parse depends only on the tokens' types,
    and a number's value reaches only its Number node (no check at parse time reads
    one). So a line with a known key runs the cached tree with its own numbers (by the
    Number nodes' ids) and its spans moved to its own columns (token by token); a line
    that does not parse is never cached, so errors come from the full path. Any line
    this scan is unsure of (a ``;``, a ``\\`` continuation, an unbalanced bracket, a
    character no terminal matches, or not ASCII) takes the full path.
    """

    __slots__ = ("finditer", "ignore", "trees", "enabled", "number", "sketches")

    def __init__(self, lexer: Any) -> None:
        self.trees: dict[tuple, Shape] = {}
        self.sketches: dict[str, list[Sketch]] = {}
        self.number: Callable[[str, int], re.Match | None] | None = None
        self.enabled = False
        try:
            scanner = lexer.scanner
            patterns = scanner._mres  # Lark's compiled terminals, in its priority order
            if len(patterns) != 1 or any(type(c).__name__ != "UnlessCallback"
                                         for c in lexer.callback.values()):
                return  # (past Python's group limit Lark splits the pattern: full path)
            number = [t.pattern for t in lexer.terminals if t.name == "NUMBER"]
            if len(number) == 1 and not number[0].flags:
                self.number = re.compile(number[0].to_regexp()).match
        except AttributeError:  # a Lark laid out otherwise: every line the full way
            return
        self.finditer = patterns[0].finditer
        self.ignore = frozenset(lexer.ignore_types)
        self.enabled = True

    def sketched(self, line: int, text: str) -> Parsed | None:
        """The statement on line ``line`` as a cached tree, found without scanning its
        tokens (see :class:`Sketch`), or None."""
        for sketch in self.sketches.get(text.translate(_NO_DIGITS), ()):
            found = sketch.match(text)
            if found is not None:
                return sketch.parsed(line, text, found)
        return None

    def tokens(self, text: str) -> tuple[list[str], list[str], list[int], list[int]] | None:
        """Kinds, values, start and end offsets of the tokens of ``text`` (one line, ending
        in its newline), without the final newline; None if the line is not one simple
        statement (or no statement at all) that the cache can take.

        The kinds are the terminals' (a keyword is a NAME here: its value, in the key
        too, tells it apart), so the loop does no more per token than keep it."""
        if ";" in text or "\\" in text:
            return None  # two statements, or a continuation (or either in a comment)
        ignore = self.ignore
        kinds: list[str] = []
        values: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        pos = 0
        for m in self.finditer(text):
            start, end = m.span()
            if start != pos:
                return None  # a character no terminal matches: the full path says so
            pos = end
            kind = m.lastgroup
            if kind in ignore:
                continue
            kinds.append(kind)
            values.append(m.group())
            starts.append(start)
            ends.append(end)
        if (pos != len(text) or len(kinds) < 2 or kinds.index("_NEWLINE") != len(kinds) - 1
                or kinds.count("LPAR") != kinds.count("RPAR")
                or kinds.count("LSQB") != kinds.count("RSQB")):
            # (not one whole line; or a bracket left open, so the statement goes on: a
            # closer before its opener fails to parse, and what fails is never cached)
            return None
        kinds.pop()
        values.pop()
        starts.pop()
        ends.pop()
        return kinds, values, starts, ends

    @staticmethod
    def key(kinds: list[str], values: list[str]) -> tuple:
        return (*kinds, *(None if k == "NUMBER" else v for k, v in zip(kinds, values)))

    def learn(self, key: tuple, tree: Node, order: list[Node], line: int, kinds: list[str],
              starts: list[int], ends: list[int], text: str) -> None:
        """Keep ``tree`` (parsed from line ``line``, ``text``, with these tokens) for its
        key, if every span in it runs from a token's start to a token's end on that
        line; and its sketch."""
        if len(self.trees) >= _MAX_SHAPES:
            self.trees.clear()
            self.sketches.clear()
        by_start = {s + 1: i for i, s in enumerate(starts)}
        by_end = {e + 1: i for i, e in enumerate(ends)}
        numbers: list[tuple[int, int]] = []  # (id of a Number node, its token's index)
        for node in order:
            span = node.span
            if span is None or span[0] != line or span[2] != line or (
                    span[1] not in by_start or span[3] not in by_end):
                return  # a span this cache does not understand: never cached
            if type(node) is Number:
                i = by_start[span[1]]
                if kinds[i] == "NUMBER":
                    numbers.append((id(node), i))
        shape = self.trees[key] = Shape(tree, order, by_start, by_end, tuple(numbers))
        if self.number is not None:
            sketch = Sketch(shape, text, kinds, starts, ends, self.number)
            found = self.sketches.setdefault(text.translate(_NO_DIGITS), [])
            if len(found) < _SKETCHES_A_KEY:
                found.append(sketch)  # (x1 = 1, x2 = 2...: a few, then the token scan)


_MAX_SHAPES = 2048
_NO_DIGITS = str.maketrans("", "", "0123456789")
_SKETCHES_A_KEY = 4  # lines that differ in the digits of their names share a key


class Shape:
    """A cached tree and where its spans and numbers came from (see :class:`Shapes`)."""

    __slots__ = ("tree", "order", "by_start", "by_end", "numbers", "target")

    def __init__(self, tree: Node, order: list[Node], by_start: dict[int, int],
                 by_end: dict[int, int], numbers: tuple[tuple[int, int], ...]) -> None:
        self.tree = tree
        self.order = order
        self.by_start = by_start
        self.by_end = by_end
        self.numbers = numbers
        self.target = target_of(tree)

    def parsed(self, line: int, text: str, values: list[str], starts: list[int],
               ends: list[int]) -> Parsed:
        """The statement on line ``line`` (``text``, with these tokens) as this tree."""
        by_start, by_end = self.by_start, self.by_end

        def where(span: tuple) -> tuple:
            return (line, starts[by_start[span[1]]] + 1, line, ends[by_end[span[3]]] + 1)

        numbers = {key: number_value(values[i]) for key, i in self.numbers}
        return Parsed(line, text[starts[0]:ends[-1]], self.tree, self.target, text, line,
                      self.order, where, numbers)


class Sketch:
    """A cached tree found by the line's text alone: the line with its digits left out
    (a dict key), then the learned line's text checked piece by piece: each piece
    between two of its numbers as written, each number where Lark's NUMBER matches (its
    match at that spot is the lexer's; a number that would run on into the text after
    it leaves that text unmatched), after no character a token could continue with into
    a number (a letter, digit, ``_`` or ``.``). A line that passes therefore lexes to
    the learned line's tokens with other numbers, so it has the same tree (see
    :class:`Shapes`); its spans move by the difference in the numbers' lengths (worked
    out only if a span is asked for). (In today's grammar a line that parses never has
    a number right after a letter, digit, ``_`` or ``.``, nor one that could run on into
    what follows it: the two guards cost nothing, and keep this exact should the grammar
    ever allow them.) No pattern is compiled per line: learning a line of 10,000
    numbers costs what scanning it does."""

    __slots__ = ("shape", "pieces", "number", "slots", "slot_of", "numbers", "starts",
                 "ends", "length")

    def __init__(self, shape: Shape, text: str, kinds: list[str], starts: list[int],
                 ends: list[int], number: Callable[[str, int], re.Match | None]) -> None:
        self.shape = shape
        self.number = number
        self.starts = starts
        self.ends = ends
        self.length = len(text)
        # the learned line's NUMBER tokens, in order: each one's token index
        self.slots = [i for i, k in enumerate(kinds) if k == "NUMBER"]
        pieces = []
        at = 0
        for i in self.slots:
            pieces.append(text[at:starts[i]])
            at = ends[i]
        pieces.append(text[at:])
        self.pieces = pieces
        self.slot_of = slot_of = {i: k for k, i in enumerate(self.slots)}
        # (the tree's number key, which of the line's numbers gives its value)
        self.numbers = [(key, slot_of[i]) for key, i in shape.numbers]

    def match(self, text: str) -> list[tuple[int, int]] | None:
        """Where each number of ``text`` is, if ``text`` is this sketch's line with other
        numbers; else None."""
        pieces = self.pieces
        number = self.number
        found = []
        at = 0
        for k in range(len(pieces) - 1):
            piece = pieces[k]
            if not text.startswith(piece, at):
                return None
            at += len(piece)
            if at and text[at - 1] in _RUNS_ON:
                return None
            m = number(text, at)
            if m is None:
                return None
            found.append((at, m.end()))
            at = m.end()
        last = pieces[-1]
        if len(text) - at != len(last) or not text.endswith(last):
            return None
        return found

    def parsed(self, line: int, text: str, found: list[tuple[int, int]]) -> Parsed:
        """The statement on line ``line`` (``text``, its numbers at ``found``)."""
        shape = self.shape
        slot_of = self.slot_of
        moved: list[list[int]] = []

        def where(span: tuple) -> tuple:
            if not moved:  # each token's offsets on this line, from the learned ones
                starts, ends = [], []
                shift = 0
                for i, (start, end) in enumerate(zip(self.starts, self.ends)):
                    k = slot_of.get(i)
                    if k is None:
                        starts.append(start + shift)
                        ends.append(end + shift)
                    else:
                        starts.append(found[k][0])
                        ends.append(found[k][1])
                        shift = found[k][1] - end
                moved.extend((starts, ends))
            starts, ends = moved
            return (line, starts[shape.by_start[span[1]]] + 1, line,
                    ends[shape.by_end[span[3]]] + 1)

        numbers = {}
        for key, k in self.numbers:
            a, b = found[k]
            numbers[key] = number_value(text[a:b])
        end = self.ends[-1] + len(text) - self.length
        return Parsed(line, text[self.starts[0]:end], shape.tree, shape.target, text, line,
                      shape.order, where, numbers)


_RUNS_ON = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


# -- Unicode forms that people paste, read as their ASCII meaning (SPEC §2) -----------------

UNICODE_FORMS = {
    "\u2212": "-",  # − minus sign
    "\u2013": "-",  # – en dash (what word processors make of a minus)
    "\u00d7": " * ",  # × multiplication sign (spaced: ×× is not **, nor ÷÷ //)
    "\u00b7": " * ",  # · middle dot
    "\u22c5": " * ",  # ⋅ dot operator
    "\u00f7": " / ",  # ÷ division sign
    "\u2215": " / ",  # ∕ division slash
    "\u03c0": "pi",  # π
    "\u2264": "<=",  # ≤
    "\u2265": ">=",  # ≥
    "\u2260": "!=",  # ≠
    "\u1d40": "'",  # ᵀ superscript T: the transpose
}
SQRT = "\u221a"  # √
# superscript digits and minus: a run of them is one exponent, x²³ is x^23, x⁻¹ is x^-1
SUPERSCRIPTS = dict(zip("\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u207b",
                        "0123456789-"))
# Patterns read only for a non-ASCII line or an error hint are strings, compiled by
# re (and kept in its cache) when first used: compiling them at import cost every
# command's start-up ~0.5 ms.
_OPERAND = (  # a name or a number
    r"[A-Za-z_][A-Za-z_0-9]*|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?")


def ascii_forms(text: str) -> tuple[str, list[int]] | None:
    """``text`` (one line) with the Unicode forms written in ASCII (:data:`UNICODE_FORMS`,
    superscript exponents, ``√``), and for each of its characters the offset in ``text``
    of the character it came from; None if there is nothing to translate. ``√`` applies
    to what follows it: ``√x`` is ``sqrt(x)``, and so are ``√2``, ``√π``, ``√x[0]``,
    ``√f(x)`` (a name or number with the brackets right after it) and ``√(x + 1)``.
    A comment is left as it is."""
    out: list[str] = []
    where: list[int] = []
    changed = False
    i = 0
    n = len(text)
    while i < n:  # the forms of one character (√ stays, for the second pass)
        ch = text[i]
        if ch == "#":
            out.append(text[i:])
            where.extend(range(i, n))
            break
        if ch in SUPERSCRIPTS:
            changed = True
            out.append("^")
            where.append(i)
            while i < n and text[i] in SUPERSCRIPTS:
                out.append(SUPERSCRIPTS[text[i]])
                where.append(i)
                i += 1
            continue
        form = UNICODE_FORMS.get(ch)
        if form is None:
            out.append(ch)
            where.append(i)
        else:
            changed = True
            out.append(form)
            where.extend([i] * len(form))
        i += 1
    line = "".join(out)
    if SQRT in line.split("#", 1)[0]:
        return _square_roots(line, where)
    return (line, where) if changed else None


def _square_roots(text: str, where: list[int]) -> tuple[str, list[int]]:
    """``√`` in ``text`` (ASCII otherwise) as ``sqrt``, with ``where`` carried along."""
    out: list[str] = []
    at: list[int] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            out.append(text[i:])
            at.extend(where[i:])
            break
        if ch != SQRT:
            out.append(ch)
            at.append(where[i])
            i += 1
            continue
        j = i + 1
        while j < n and text[j] in " \t":
            j += 1
        m = re.compile(_OPERAND).match(text, j)
        if m is None:  # √(x + 1) is sqrt(x + 1); √ before anything else: the parser says
            out.append("sqrt")
            at.extend([where[i]] * 4)
            i += 1
            continue
        stop = _brackets_after(text, m.end())
        inner = _square_roots(text[j:stop], where[j:stop])  # √f(√x)
        out.append("sqrt(" + inner[0] + ")")
        at.extend([where[i]] * 5 + inner[1] + [where[stop - 1]])
        i = stop
    return "".join(out), at


def _brackets_after(text: str, at: int) -> int:
    """The end of the balanced ( ) and [ ] groups (and ' transposes) right after ``at``."""
    while at < len(text) and text[at] in "([\'":
        if text[at] == "'":
            at += 1
            continue
        depth = 0
        for k in range(at, len(text)):
            if text[k] in "([":
                depth += 1
            elif text[k] in ")]":
                depth -= 1
                if depth == 0:
                    at = k + 1
                    break
            elif text[k] == "#":
                return at
        else:
            return at  # never closed: the parser says so
    return at


def _lex_at(tokens: Iterator[Token], where: list[int]) -> Iterator[Token]:
    """``tokens`` of the translated text, moved to the columns of the original one."""
    try:
        for tok in tokens:
            start, stop = where[tok.start_pos], where[tok.end_pos - 1] + 1
            tok.column += start - tok.start_pos
            tok.end_column += stop - tok.end_pos
            tok.start_pos, tok.end_pos = start, stop
            yield tok
    except UnexpectedCharacters as exc:
        at = where[exc.pos_in_stream]
        exc.column += at - exc.pos_in_stream
        exc.pos_in_stream = at
        raise


_LOCAL = threading.local()


def get_parser() -> Parser:
    """This thread's parser (built once per thread from the cached tables)."""
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = Parser()
    return parser


class Parsed(Record):
    """A statement that parsed: its tree and where it came from.

    ``target`` is the assigned name, for assignments; ``context`` the text of the
    statement's lines, for error carets; ``order`` the tree's evaluation order (made when
    None); for a cached tree, ``where`` maps its spans to this line's and ``numbers``
    holds its numbers on this line."""

    __slots__ = __match_args__ = ("line", "source", "tree", "target", "context",
                                  "first_line", "order", "where", "numbers")

    def __init__(self, line: int, source: str, tree: Node, target: str | None,
                 context: str, first_line: int, order: list[Node] | None = None,
                 where: Callable[[tuple], tuple] | None = None,
                 numbers: dict[int, float] | None = None) -> None:
        self.line = line
        self.source = source
        self.tree = tree
        self.target = target
        self.context = context
        self.first_line = first_line
        self.order = order
        self.where = where
        self.numbers = numbers

    def evaluation_order(self) -> list[Node]:
        if self.order is None:
            self.order = evaluation_order(self.tree)
        return self.order


def target_of(tree: Node) -> str | None:
    """The name a statement assigns to, or None."""
    return tree.name if type(tree) is Assign or type(tree) is Augmented else None


class Broken(Record):
    """A statement that failed to parse."""

    __slots__ = __match_args__ = ("line", "source", "error")

    def __init__(self, line: int, source: str, error: GradcliError) -> None:
        self.line = line
        self.source = source
        self.error = error


OPENERS = {"LPAR": "(", "LSQB": "["}
CLOSERS = {"RPAR": "LPAR", "RSQB": "LSQB"}
OPERAND_START = {"NAME", "NUMBER", "LPAR", "LSQB", "TRUE", "FALSE"}
OPERAND_END = {"NAME", "NUMBER", "RPAR", "RSQB", "TRUE", "FALSE", "QUOTE"}
OPERATORS = {"ADDITIVE", "MULTIPLICATIVE", "POWER", "COMPARE"}
WORDS = [
    ("COMMA", '","'), ("RPAR", '")"'), ("RSQB", '"]"'), ("COLON", '":"'), ("EQUAL", '"="'),
    ("LPAR", '"("'), ("LSQB", '"["'), ("$END", "the end of the statement"),
]
CHARACTER_HINTS = {
    "!": ' (write != for "not equal")',
    '"': " (the language has no strings)",
    "&": " (there are no logical operators: multiply 0/1 values instead)",
    "|": " (there are no logical operators: use maximum(a, b) for or)",
    "\\": " (a \\ continues a statement only at the very end of a line)",
    "{": " (write arrays with [ ])",
    "}": " (write arrays with [ ])",
}


class _Statement:
    __slots__ = ("state", "start_line", "first", "last", "lines", "brackets", "separated",
                 "size")

    def __init__(self, parser: Parser, line: int, text: str) -> None:
        self.state = parser.new_state()
        self.start_line = line
        self.first: Token | None = None
        self.last: Token | None = None
        self.lines = [text]
        self.size = len(text)
        self.brackets: list[Token] = []
        self.separated: list[bool] = []  # per open bracket: do commas separate inside it?

    def text(self, upto: Token | None = None) -> str:
        """The statement's source, from its first token to ``upto`` (else its last)."""
        last = upto or self.last
        if self.first is None or last is None:
            return self.lines[0].rstrip("\r\n").strip()
        start = self.first.column - 1
        end_index = last.end_line - self.start_line
        if end_index <= 0:
            return self.lines[0][start:last.end_column - 1]
        parts = [self.lines[0][start:].rstrip("\r\n")]
        parts.extend(line.rstrip("\r\n") for line in self.lines[1:end_index])
        parts.append(self.lines[min(end_index, len(self.lines) - 1)][:last.end_column - 1])
        return "\n".join(parts)

    def context(self) -> str:
        return "".join(self.lines)


def read_statements(lines: Iterable[str], parser: Parser | None = None) -> Iterator[
    Parsed | Broken
]:
    """Statements from ``lines`` (each with or without its newline), as they complete."""
    parser = parser or get_parser()
    shapes = parser.shapes
    quick = shapes.enabled
    source = iter(lines)
    number = 0
    st: _Statement | None = None
    redo: tuple[str, int] | None = None
    reported: tuple | None = None  # where the last syntax error was, and what it said
    again: _ReadAgain | None = None  # the lines a bracket never closed took, read again
    while True:
        if redo is not None:
            text, current = redo
            redo = None
        else:
            text = next(source, None)
            if text is None:
                if st is None:
                    break
                failure = _finish(st)
                if isinstance(failure, Parsed) or len(st.lines) == 1:
                    yield failure
                    break
                # An unclosed bracket at the end of the input: report it, then read again
                # from the line after the statement's first, so it swallows none of them.
                spot = (failure.error.line, failure.error.column, failure.error.message)
                if spot != reported:
                    yield failure
                reported = spot
                again = _ReadAgain(parser, st.lines[1:], st.start_line + 1,
                                   ends_at_input_end=True)
                source = iter(st.lines[1:])
                number = st.start_line
                st = None
                continue
            number += 1
            current = number
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]  # a byte-order mark (as some editors write) is not code
            if not text.endswith("\n"):
                text += "\n"
            if len(text) > MAX_STATEMENT_CHARS or (
                    st is not None and st.size + len(text) > MAX_STATEMENT_CHARS):
                # refused before it is lexed or parsed: parse memory stays small
                start = st.start_line if st is not None else current
                yield Broken(start, text[:40].rstrip() + "...", LimitProblem(
                    f"the statement is longer than {MAX_STATEMENT_CHARS:,} characters, the "
                    "limit of one statement", Span(current, 1, current, 2)))
                st = None
                continue
            if st is not None:
                st.lines.append(text)
                st.size += len(text)
        learning = None
        if quick and st is None and text.isascii():  # one whole statement: a known shape?
            sketched = shapes.sketched(current, text)
            if sketched is not None:
                yield sketched
                continue
            found = shapes.tokens(text)
            if found is not None:
                kinds, values, starts, ends = found
                key = shapes.key(kinds, values)
                shape = shapes.trees.get(key)
                if shape is not None:
                    yield shape.parsed(current, text, values, starts, ends)
                    continue
                learning = (key, current, found)
        tokens = parser.lex(text, current)
        while True:  # until the line is used up (or abandoned after an error)
            failed: GradcliError | None = None
            at: Token | None = None
            where = len(text)  # the offset in the line to look for a ";" after a failure
            try:
                for tok in tokens:
                    kind = tok.type
                    if kind == "_NEWLINE" or kind == "_SEMICOLON":
                        if st is None:
                            continue
                        if kind == "_NEWLINE" and st.brackets:
                            if (again is not None and st.start_line == current
                                    and again.hopeless(current, len(st.brackets))):
                                st = None  # it would fail again where its taker did: said
                            continue
                        at = tok
                        tree = st.state.feed_token(Token.new_borrow_pos("$END", "", tok), True)
                        parsed = _parsed(st, tree)
                        if learning is not None and parsed.line == learning[1]:
                            kinds, _, starts, ends = learning[2]
                            shapes.learn(learning[0], tree, parsed.evaluation_order(),
                                         current, kinds, starts, ends, text)
                            learning = None
                        yield parsed
                        st = None
                        at = None
                        continue
                    if st is None:
                        st = _Statement(parser, current, text)
                        st.first = tok
                    at = tok
                    st.state.feed_token(tok)
                    if kind in OPENERS:
                        st.brackets.append(tok)
                        # a list, or a call's arguments; not a group's parentheses
                        st.separated.append(kind == "LSQB" or (
                            st.last is not None and st.last.type == "NAME"))
                    elif kind in CLOSERS and st.brackets:
                        st.brackets.pop()
                        st.separated.pop()
                    st.last = tok
                    at = None
                break
            except UnexpectedToken as exc:
                if st is None:  # pragma: no cover - a statement exists before any feed
                    raise
                failed = syntax_problem(exc.token, exc.expected, st)
                if exc.token.line == current and exc.token.type != "$END":
                    where = exc.token.column - 1
            except UnexpectedCharacters as exc:
                if st is None:
                    st = _Statement(parser, current, text)
                ch = exc.char
                if _starts_after_an_operand(st, text, exc.column, current):
                    # a line opening with junk after a bracket held a whole expression:
                    # most likely the bracket was never closed (the junk is said when its
                    # line is read again on its own)
                    failed = _never_closed(st.brackets[-1])
                else:
                    failed = SyntaxProblem(
                        f"unexpected character {shown_character(ch)}"
                        f"{CHARACTER_HINTS.get(ch, '')}",
                        to_span((exc.line, exc.column, exc.line, exc.column + 1)),
                    )
                at = None
                where = exc.column
            except GradcliError as exc:  # raised by a builder callback (bad call, ...)
                failed = exc
                if at is not None and at.line == current:
                    where = at.column - 1
            assert st is not None and failed is not None
            failed.source = st.context()
            failed.first_line = st.start_line
            spot = (failed.line, failed.column, failed.message)
            if spot != reported or failed.line is None:
                # (a line read again after a statement failed on it may fail at the very
                # same spot: that error has been said already)
                yield Broken(st.start_line, st.text(at if at is not None and at.type not in (
                    "_NEWLINE", "_SEMICOLON") else None), failed)
            reported = spot
            started = st.start_line
            swallowed = st.lines[1:]  # the lines after its first that the statement took
            st = None
            learning = None  # a line with an error is never cached
            if current != started and isinstance(failed, _NeverClosed):
                # The bracket was never closed: the lines it took are read again, from
                # the line after the statement's first (as at the end of the input), so
                # a good statement among them is not lost.
                again = _ReadAgain(parser, swallowed, started + 1, ends_at_input_end=False)
                source = itertools.chain(swallowed, source)
                number = started
                break
            if at is not None and at.type == "_SEMICOLON":
                continue  # resume just after the ";"
            if current != started:
                redo = (text, current)  # resume at the line where parsing failed
                break
            rest = after_next_semicolon(text, where)
            if rest is None:
                break  # resume at the next line
            tokens = parser.lex(rest, current)  # or after the next ";" on this line


class _ReadAgain:
    """The lines (numbered from ``first``) that a statement whose bracket was never closed
    took, up to the line where it failed (or the end of the input), now read again: a
    statement starting on one of them before that line, still inside a bracket at its
    line's end, that no later line of them can bring back to depth 0 or meet a ";" on,
    must run on to where its taker failed and fail there the same way, at the same
    bracket. It is dropped at once: that error was said, and reading it on would make a
    run of such lines cost their number squared."""

    __slots__ = ("first", "lowest", "stop", "_ends", "_last")

    def __init__(self, parser: Parser, lines: list[str], first: int, *,
                 ends_at_input_end: bool) -> None:
        self.first = first
        # the line where the taker failed is read as any line (only the ones before it
        # can be dropped); at the end of the input every line is before the failure
        self._last = len(lines) if ends_at_input_end else len(lines) - 1
        depth = 0
        ends: list[int] = []  # the depth at each line's end, counted from the first line
        stops: list[bool] = []  # a ";" (or a character that ends the lexing) on the line
        for number, text in enumerate(lines, first):
            stop = False
            try:
                for tok in parser.lex(text, number):
                    if tok.type in OPENERS:
                        depth += 1
                    elif tok.type in CLOSERS:
                        depth -= 1
                    elif tok.type == "_SEMICOLON":
                        stop = True
            except UnexpectedCharacters:
                stop = True
            ends.append(depth)
            stops.append(stop)
        # from each line on: the lowest depth at a line's end, and whether a ";" comes
        self.lowest = ends[:]
        self.stop = stops[:]
        for i in range(len(ends) - 2, -1, -1):
            self.lowest[i] = min(ends[i], self.lowest[i + 1])
            self.stop[i] = stops[i] or self.stop[i + 1]
        self.lowest = self.lowest[1:] + [None]  # (lines after each one)
        self.stop = self.stop[1:] + [False]
        self._ends = ends

    def hopeless(self, line: int, depth: int) -> bool:
        """True for a statement that started on ``line`` and is ``depth`` brackets deep at
        its end, when it cannot end before the line where its taker failed."""
        i = line - self.first
        if not 0 <= i < self._last:
            return False
        lowest = self.lowest[i]
        return not self.stop[i] and (lowest is None or lowest - self._ends[i] + depth > 0)


def _starts_after_an_operand(st: _Statement, text: str, column: int, line: int) -> bool:
    """True when column ``column`` of ``text`` (line ``line``) is the first thing on a
    later line of a statement whose open bracket holds, so far, a complete operand."""
    return (
        st.start_line < line
        and bool(st.brackets)
        and st.last is not None
        and st.last.type in OPERAND_END
        and st.last.end_line < line
        and not text[: column - 1].strip()
    )


def after_next_semicolon(text: str, offset: int) -> str | None:
    """``text`` with everything up to the first ``;`` at or after ``offset`` that is not
    inside brackets opened after it blanked out (columns stay where they were), or None
    if there is none before the end of the line or a comment."""
    depth = 0
    for i in range(offset, len(text)):
        ch = text[i]
        if ch == "#":
            return None
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(depth - 1, 0)
        elif ch == ";" and depth == 0:
            return " " * (i + 1) + text[i + 1:]
    return None


def _finish(st: _Statement) -> Parsed | Broken:
    """The statement still open at the end of the input, ended there."""
    try:
        tree = st.state.feed_token(Token.new_borrow_pos("$END", "", st.last), True)
    except UnexpectedToken as exc:
        failed: GradcliError = syntax_problem(exc.token, exc.expected, st)
    except GradcliError as exc:
        failed = exc
    else:
        return _parsed(st, tree)
    failed.source = st.context()
    failed.first_line = st.start_line
    return Broken(st.start_line, st.text(), failed)


def _parsed(st: _Statement, tree: Node) -> Parsed:
    return Parsed(st.start_line, st.text(), tree, target_of(tree), st.context(), st.start_line)


# -- syntax errors in words ------------------------------------------------------------------


def _words(expected: set[str]) -> str:
    words = []
    if expected & OPERATORS:
        words.append("an operator")
    if "NUMBER" in expected:
        words.append("an expression")
    words.extend(word for name, word in WORDS if name in expected)
    if not words:
        return "something else"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _shown(tok: Token) -> str:
    return {"LPAR": "(...)", "LSQB": "[...]"}.get(tok.type, tok.value)


def syntax_problem(tok: Token, expected: set[str], st: _Statement) -> SyntaxProblem:
    """The parse error at ``tok`` in plain words, never terminal names."""
    prev = st.last
    if tok.type == "$END":
        if st.brackets:
            return _never_closed(st.brackets[-1])
        if "NUMBER" in expected and prev is not None:
            return SyntaxProblem(f'expected an expression after "{prev.value}"',
                                 to_span(token_span(prev)))
        return SyntaxProblem(f"unexpected end of statement: expected {_words(expected)}",
                             to_span(token_span(prev or tok)))
    here = to_span(token_span(tok))
    # a token that could start a statement, first on a new line inside a bracket (or an
    # "=" on a later line than the bracket): most likely the bracket was never closed
    if st.brackets and prev is not None and (
        (tok.line > prev.end_line and (tok.type in OPERAND_START or tok.type == "ADDITIVE"))
        or (tok.type in ("EQUAL", "AUGMENTED") and tok.line > st.brackets[-1].line)
    ):
        opener = st.brackets[-1]
        if st.separated[-1] and tok.type in ("NUMBER", "LSQB") and prev.type in OPERAND_END:
            # [1, 2 / 3]: a number (or a row) starts the next line, so most likely the
            # line above only lacks its comma; the other reading is a bracket never
            # closed, so the lines it took are read again all the same
            return _NeverClosed(
                f'missing "," after "{prev.value}" at the end of line {prev.end_line}: a new '
                f'line inside brackets does not separate elements (else the "{opener.value}" '
                f"at line {opener.line}, column {opener.column} is never closed)",
                to_span(token_span(prev)))
        return _never_closed(opener)
    if "NUMBER" in expected:
        hint = " (' is the transpose, as in x'; the language has no strings)" if (
            tok.type == "QUOTE") else ""
        return SyntaxProblem(f'expected an expression, found "{tok.value}"{hint}', here)
    if tok.type in OPERAND_START and prev is not None and prev.type in OPERAND_END:
        span = to_span((prev.line, prev.column, tok.end_line, tok.end_column))
        habit = _habit(tok, prev, st)
        if habit is not None:
            if habit.startswith("d/d") and st.first is not None:  # the whole d/dx
                span = to_span((st.first.line, st.first.column, tok.end_line, tok.end_column))
            return SyntaxProblem(habit, span)
        if prev.type == "NAME" and lookup(prev.value) is not None:
            return SyntaxProblem(
                f'"{prev.value}" is a function: call it as {prev.value}({_shown(tok)})', span
            )
        left, right = prev.value, _shown(tok)
        if prev.type == "QUOTE":  # x' y: the operand that ends with the quote
            left = _operand_before(st.text(prev))
            if not left.isprintable() or len(left) > 60:
                left = "x'"
        adjacent = prev.end_line == tok.line and prev.end_column == tok.column
        if adjacent and prev.type == "NUMBER":
            return SyntaxProblem(
                f'missing operator in "{left}{tok.value}": there is no implicit '
                f"multiplication, write {left}*{right}", span,
            )
        if prev.type == "QUOTE":  # X' A: a transpose, so most likely a matrix product
            return SyntaxProblem(
                f'missing operator between "{left}" and "{tok.value}" (there is no implicit '
                f"multiplication: write {left} @ {right} for the matrix product, "
                f"{left}*{right} elementwise)", span,
            )
        return SyntaxProblem(
            f'missing operator between "{left}" and "{tok.value}" (there is no implicit '
            f"multiplication: write {left}*{right})", span,
        )
    if tok.type == "COMPARE":
        return SyntaxProblem(
            "comparisons cannot be chained: write (a < b) * (b < c) for both", here
        )
    if tok.type == "EQUAL" and prev is not None and prev.type == "RPAR" and st.first is not None \
            and st.first.type == "NAME" and re.fullmatch(_DEFINITION, st.text(prev)):
        body = _rest_of_line(st, tok, after=True) or "..."
        name = st.first.value
        inputs = re.findall(r"[A-Za-z_]\w*", st.text(prev))[1:]
        values = "; ".join(f"{x} = {k + 2}" for k, x in enumerate(inputs))
        return SyntaxProblem(
            f"there are no function definitions: give {' and '.join(inputs)} a value and "
            f"name the expression, as in {values}; {name} = {body} "
            f"(then grad({name}, {inputs[0]}) is its derivative)", here)
    if tok.type in ("EQUAL", "AUGMENTED"):
        return SyntaxProblem(
            f'unexpected "{tok.value}": only a name can be assigned to (to compare, write ==)',
            here,
        )
    if tok.type == "COLON" and st.brackets and st.brackets[-1].type == "LSQB":
        return SyntaxProblem('unexpected ":": a slice has at most three parts, lo:hi:step', here)
    if tok.type == "COLON":
        return SyntaxProblem('unexpected ":": a slice a:b can only be written inside x[ ]', here)
    if tok.type in CLOSERS:
        if not st.brackets:
            return SyntaxProblem(f'unmatched "{tok.value}"', here)
        opener = st.brackets[-1]
        if CLOSERS[tok.type] != opener.type:
            want = ")" if opener.type == "LPAR" else "]"
            return SyntaxProblem(
                f'"{tok.value}" does not match the "{opener.value}" at line {opener.line}, '
                f'column {opener.column} (expected "{want}")', here,
            )
    if tok.type == "COMMA" and not st.brackets:
        return SyntaxProblem('unexpected ",": write a list as [a, b]', here)
    return SyntaxProblem(f'unexpected "{tok.value}": expected {_words(expected)}', here)


# words other languages write as operators, and what gradcli writes
INFIX_WORDS = {"mod": "%", "div": "//", "rem": "%"}
LOGICAL_WORDS = {"and", "or", "not", "xor"}
_DEFINITION = r"[A-Za-z_]\w*\s*\(\s*[A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*)*\s*\)"
_DERIVATIVE = r"d\s*/\s*d([A-Za-z_]\w*)"  # (a string: see _OPERAND)
_WORD = r"\s*([A-Za-z_]\w*|[\d.]+(?:[eE][+-]?\d+)?)"


DECLARATIONS = {"let", "var", "const", "local", "my", "auto", "int", "float", "double",
                "real", "set", "define", "def", "dim", "global", "val", "declare", "new"}


def _rest_of_line(st: _Statement, tok: Token, after: bool = False) -> str:
    """The statement's text on ``tok``'s line from ``tok`` (or just after it) up to a
    ";" or a comment, stripped; "" if it is long or holds a character a message must not
    echo (a control character could drive the user's terminal)."""
    line = st.lines[min(tok.line - st.start_line, len(st.lines) - 1)]
    rest = line[(tok.end_column if after else tok.column) - 1:]
    rest = rest.split("#", 1)[0].split(";", 1)[0].strip()
    return rest if rest.isprintable() and len(rest) <= 60 else ""


def _operand_before(text: str) -> str:
    """The operand at the end of ``text`` (which ends in a transpose): ``x'``, ``x[0]'``,
    ``f(x)'``, ``(a + b)''``, ``x.T'``."""
    i = len(text)
    while i and text[i - 1] == "'":
        i -= 1
    while i:
        if text[i - 1] in ")]":
            depth = 0
            for k in range(i - 1, -1, -1):
                depth += text[k] in ")]"
                depth -= text[k] in "(["
                if depth == 0:
                    i = k
                    break
            else:
                return text
            continue
        m = re.search(r"(\.?[A-Za-z_][A-Za-z_0-9]*|[0-9.]+)$", text[:i])
        if m is None:
            break
        i = m.start()
        if not text[i:].startswith(".") and (not i or text[i - 1] != "."):
            break
    return text[i:].strip()


def _habit(tok: Token, prev: Token, st: _Statement) -> str | None:
    """The message for two operands in a row that are a habit from another language
    (``5 mod 3``, ``let x = 2``, ``d/dx x^2``, ``a and b``), or None."""
    word = tok.value if tok.type == "NAME" else None
    if word in INFIX_WORDS:
        after = re.match(_WORD, _rest_of_line(st, tok, after=True))
        left = prev.value if prev.type in ("NAME", "NUMBER") else "a"
        right = after.group(1) if after else "b"
        symbol = INFIX_WORDS[word]
        function = "mod" if symbol == "%" else "floor_divide"
        return (f'there is no "{word}" operator: write {left} {symbol} {right} '
                f"(or {function}({left}, {right}))")
    if word in LOGICAL_WORDS:
        return (f'there is no "{word}": comparisons give 1 or 0, so write (a > 0) * (b > 0) '
                "for and, maximum(a > 0, b > 0) for or, 1 - (a > 0) for not")
    if prev is st.first and prev.value in DECLARATIONS and tok.type == "NAME":
        rest = _rest_of_line(st, tok)
        if re.match(r"[A-Za-z_]\w*\s*=[^=]", rest):  # let x = 2, var x = 2, const x = 2
            return (f'write {rest}: a name needs no declaration (there is no "{prev.value}" '
                    "in gradcli)")
    found = re.fullmatch(_DERIVATIVE, st.text(prev)) if prev.type == "NAME" else None
    if found is not None:
        wrt = found.group(1)
        body = _rest_of_line(st, tok) or "y"
        return (f"d/d{wrt} is not part of the language: grad({body}, {wrt}) is the derivative "
                f"as a value, and gradcli diff '{body}' --wrt {wrt} prints it as a formula")
    return None


def shown_character(ch: str) -> str:
    """A character for a message: quoted if printable, else its code point and name (a raw
    control character in a message could drive the user's terminal)."""
    if ch.isprintable() and not ch.isspace():
        return f'"{ch}"'
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" ({name.lower()})" if name else "")


class _NeverClosed(SyntaxProblem):
    """A bracket the statement opened and never closed (the lines after it are read again)."""


def _never_closed(opener: Token) -> SyntaxProblem:
    closer = ")" if opener.type == "LPAR" else "]"
    return _NeverClosed(f'"{opener.value}" is never closed (expected "{closer}")',
                         to_span(token_span(opener)))


def open_brackets(text: str) -> bool:
    """True when ``text`` ends inside an open bracket or right after a ``\\``."""
    stripped = text.rstrip("\r\n")
    if stripped.rstrip(" \t").endswith("\\") and not stripped.lstrip().startswith("#"):
        if "#" not in stripped or stripped.rfind("#") < stripped.rfind("\\"):
            return True
    parser = get_parser()
    depth = 0
    try:
        for number, line in enumerate(text.split("\n"), 1):
            for tok in parser.lex(line + "\n", number):
                if tok.type in OPENERS:
                    depth += 1
                elif tok.type in CLOSERS:
                    depth = max(depth - 1, 0)
                elif tok.type == "_SEMICOLON":
                    depth = 0
    except UnexpectedCharacters:
        return False
    return depth > 0
