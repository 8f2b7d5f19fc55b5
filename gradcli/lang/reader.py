"""Lines -> statements: lexing, splitting, parsing, and syntax errors in words.

Lines are read one at a time, so a producer that writes one line and waits gets that
line's answer first. Each line is lexed on its own; its tokens are fed to an LALR parser
state for the statement being read. A newline outside brackets or a ``;`` ends the
statement. Where a statement fails to parse, the error is reported and reading resumes
at the line where it failed (or, if it failed on its first, after the next ``;`` on that
line, else at the next line; or just after the ``;`` that ended it), so an unclosed
bracket never swallows the lines after it and no statement after a ``;`` is lost. A
bracket still open at the end of the input is reported, and reading resumes at the line
after the statement's first.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from gradcli.lang.builtins import lookup
from gradcli.lang.compiler import AUGMENT, STORE, Emitter, to_span, token_span
from gradcli.lang.errors import GradcliError, SyntaxProblem
from gradcli.lang.grammar import build_lark, runtime
from gradcli.lang.lalr import ParserState, Token, UnexpectedCharacters, UnexpectedToken
from gradcli.lang.templates import Templates


class Parser:
    """The grammar's lexer and statement parser, with the emitter its callbacks fill.

    The parse runs on :mod:`gradcli.lang.lalr` (Lark's tables, without importing Lark).
    ``use_lark=True`` runs Lark's own lexer and parser state on the same tables instead,
    with its errors as lalr's: for the tests that hold the two equal (no templates then).
    """

    def __init__(self, *, use_lark: bool = False) -> None:
        self.emitter = Emitter()
        found = None if use_lark else runtime(self.emitter)
        if found is None:
            self.lexer: Any = _LarkLexer(self.emitter)
            self.new_state: Any = self.lexer.new_state
            self.templates = Templates(None)
        else:
            self.lexer, conf = found
            self.new_state = lambda: ParserState(conf)
            self.templates = Templates(self.lexer)

    def parse_line(self, text: str, line: int) -> list | None:
        """The instructions of ``text`` (one line, one whole statement) by the full parse,
        or None if it is not that (the templates check themselves against this)."""
        emitter = self.emitter
        saved = emitter.code
        state = self.new_state()
        code = emitter.code = []
        try:
            for tok in self.lex(text, line):
                if tok.type == "_NEWLINE" or tok.type == "_SEMICOLON":
                    state.feed_token(Token.new_borrow_pos("$END", "", tok), True)
                    return code
                state.feed_token(tok)
        except Exception:  # noqa: BLE001 - any failure: the line is just not cached
            return None
        finally:
            emitter.code = saved
        return None

    def lex(self, text: str, line: int) -> Iterator[Token]:
        """The tokens of one line (``text``), numbered as line ``line``."""
        return self.lexer.lex(text, line)


class _LarkLexer:
    """Lark's own lexer and LALR parser state (Lark is imported here only), raising
    lalr's errors: the reference that :mod:`gradcli.lang.lalr` is tested against."""

    def __init__(self, emitter: Emitter) -> None:
        from lark import exceptions, lexer, utils
        from lark.parsers import lalr_parser_state

        self._lark = lexer, utils, exceptions, lalr_parser_state
        frontend = build_lark(emitter).parser
        self._lexer = frontend.lexer
        inner = frontend.parser.parser
        self._conf = lalr_parser_state.ParseConf(inner.parse_table, inner.callbacks, "statement")

    def lex(self, text: str, line: int) -> Iterator[Any]:
        lexer, utils, exceptions, _ = self._lark
        counter = lexer.LineCounter("\n")
        counter.line = line
        try:
            yield from self._lexer.lex(
                lexer.LexerState(utils.TextSlice(text, 0, len(text)), counter), None)
        except exceptions.UnexpectedCharacters as exc:
            raise UnexpectedCharacters(text, exc.pos_in_stream, exc.line, exc.column,
                                       exc.allowed) from None

    def new_state(self) -> _LarkState:
        _, _, exceptions, lalr_parser_state = self._lark
        return _LarkState(lalr_parser_state.ParserState(self._conf, None),
                          exceptions.UnexpectedToken)


class _LarkState:
    __slots__ = ("state", "error")

    def __init__(self, state: Any, error: type[Exception]) -> None:
        self.state = state
        self.error = error

    def feed_token(self, token: Any, is_end: bool = False) -> Any:
        try:
            return self.state.feed_token(token, is_end)
        except self.error as exc:
            raise UnexpectedToken(exc.token, exc.expected, self) from None  # type: ignore[attr-defined]


_LOCAL = threading.local()


def get_parser() -> Parser:
    """This thread's parser (built once per thread from the cached tables)."""
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = Parser()
    return parser


@dataclass
class Parsed:
    """A statement that parsed: its instructions and where it came from."""

    line: int
    source: str
    code: list
    target: str | None  # the assigned name, for assignments
    context: str  # the text of the statement's lines, for error carets
    first_line: int


@dataclass
class Broken:
    """A statement that failed to parse."""

    line: int
    source: str
    error: GradcliError


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
    __slots__ = ("state", "code", "start_line", "first", "last", "lines", "brackets")

    def __init__(self, parser: Parser, line: int, text: str) -> None:
        self.state = parser.new_state()
        self.code: list = []
        self.start_line = line
        self.first: Token | None = None
        self.last: Token | None = None
        self.lines = [text]
        self.brackets: list[Token] = []

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
    emitter = parser.emitter
    templates = parser.templates
    quick = templates.enabled
    source = iter(lines)
    number = 0
    st: _Statement | None = None
    redo: tuple[str, int] | None = None
    reported: tuple | None = None  # where the last syntax error was, and what it said
    while True:
        if redo is not None:
            text, current = redo
            redo = None
        else:
            text = next(source, None)
            if text is None:
                if st is None:
                    break
                failure = _finish(st, emitter)
                if isinstance(failure, Parsed) or len(st.lines) == 1:
                    yield failure
                    break
                # An unclosed bracket at the end of the input: report it, then read again
                # from the line after the statement's first, so it swallows none of them.
                yield failure
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
            if st is not None:
                st.lines.append(text)
        learning = None
        if quick and st is None:  # a line that is one whole statement may have a template
            found = templates.tokens(text)
            if found is not None:
                kinds, values, starts, ends = found
                key = templates.key(kinds, values)
                template = templates.templates.get(key)
                if template:
                    code = templates.instantiate(template, current, values, starts, ends)
                    yield Parsed(current, text[starts[0]:ends[-1]], code, _target(code), text,
                                 current)
                    continue
                if key not in templates.templates:
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
                        if st is None or (kind == "_NEWLINE" and st.brackets):
                            continue
                        at = tok
                        emitter.code = st.code
                        st.state.feed_token(Token.new_borrow_pos("$END", "", tok), True)
                        parsed = _parsed(st)
                        if learning is not None and parsed.line == learning[1]:
                            templates.learn(learning[0], parsed.code, text, current,
                                            learning[2], parser.parse_line)
                            learning = None
                        yield parsed
                        st = None
                        at = None
                        continue
                    if st is None:
                        st = _Statement(parser, current, text)
                        st.first = tok
                    at = tok
                    emitter.code = st.code
                    st.state.feed_token(tok)
                    if kind in OPENERS:
                        st.brackets.append(tok)
                    elif kind in CLOSERS and st.brackets:
                        st.brackets.pop()
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
                failed = SyntaxProblem(
                    f"unexpected character {shown_character(ch)}{CHARACTER_HINTS.get(ch, '')}",
                    to_span((exc.line, exc.column, exc.line, exc.column + 1)),
                )
                at = None
                where = exc.column
            except GradcliError as exc:  # raised by an emitter callback (bad call, ...)
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
            st = None
            learning = None  # a line with an error is never a template
            if at is not None and at.type == "_SEMICOLON":
                continue  # resume just after the ";"
            if current != started:
                redo = (text, current)  # resume at the line where parsing failed
                break
            rest = after_next_semicolon(text, where)
            if rest is None:
                break  # resume at the next line
            tokens = parser.lex(rest, current)  # or after the next ";" on this line


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


def _finish(st: _Statement, emitter: Emitter) -> Parsed | Broken:
    """The statement still open at the end of the input, ended there."""
    try:
        emitter.code = st.code
        st.state.feed_token(Token.new_borrow_pos("$END", "", st.last), True)
    except UnexpectedToken as exc:
        failed: GradcliError = syntax_problem(exc.token, exc.expected, st)
    except GradcliError as exc:
        failed = exc
    else:
        return _parsed(st)
    failed.source = st.context()
    failed.first_line = st.start_line
    return Broken(st.start_line, st.text(), failed)


def _target(code: list) -> str | None:
    """The name a statement's instructions assign to (its last one stores), or None."""
    return code[-1][2] if code and code[-1][0] in (STORE, AUGMENT) else None


def _parsed(st: _Statement) -> Parsed:
    return Parsed(st.start_line, st.text(), st.code, _target(st.code), st.context(),
                  st.start_line)


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
        return _never_closed(st.brackets[-1])
    if "NUMBER" in expected:
        hint = " (' is the transpose, as in x'; the language has no strings)" if (
            tok.type == "QUOTE") else ""
        return SyntaxProblem(f'expected an expression, found "{tok.value}"{hint}', here)
    if tok.type in OPERAND_START and prev is not None and prev.type in OPERAND_END:
        span = to_span((prev.line, prev.column, tok.end_line, tok.end_column))
        if prev.type == "NAME" and lookup(prev.value) is not None:
            return SyntaxProblem(
                f'"{prev.value}" is a function: call it as {prev.value}({_shown(tok)})', span
            )
        left, right = prev.value, _shown(tok)
        if prev.type == "QUOTE":  # x' y: the operand is everything up to the quote
            left = st.text(prev)
        adjacent = prev.end_line == tok.line and prev.end_column == tok.column
        if adjacent and prev.type == "NUMBER":
            return SyntaxProblem(
                f'missing operator in "{left}{tok.value}": there is no implicit '
                f"multiplication, write {left}*{right}", span,
            )
        return SyntaxProblem(
            f'missing operator between "{left}" and "{tok.value}" (there is no implicit '
            f"multiplication: write {left}*{right})", span,
        )
    if tok.type == "COMPARE":
        return SyntaxProblem(
            "comparisons cannot be chained: write (a < b) * (b < c) for both", here
        )
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


def shown_character(ch: str) -> str:
    """A character for a message: quoted if printable, else its code point and name (a raw
    control character in a message could drive the user's terminal)."""
    if ch.isprintable() and not ch.isspace():
        return f'"{ch}"'
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" ({name.lower()})" if name else "")


def _never_closed(opener: Token) -> SyntaxProblem:
    closer = ")" if opener.type == "LPAR" else "]"
    return SyntaxProblem(f'"{opener.value}" is never closed (expected "{closer}")',
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
