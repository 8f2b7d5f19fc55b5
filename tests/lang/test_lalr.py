"""gradcli's LALR runtime (gradcli.lang.lalr) against Lark's own lexer and parser state,
on the same tables: the same tokens (types, values, positions), the same instructions,
and the same syntax errors (unexpected token and expected terminals; unexpected
character and where), for samples, every string in the tests, the fuzz strategies'
programs, near misses and junk, and random token soups."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcli.lang.errors import GradcliError
from gradcli.lang.lalr import Token, UnexpectedCharacters, UnexpectedToken
from gradcli.lang.reader import Broken, Parser, read_statements
from gradcli.lang.session import split_lines
from tests.fuzz.strategies import SPECIAL_TEXTS, near_misses, programs, raw_texts

ROOT = Path(__file__).resolve().parents[2]

_OWN: Parser | None = None
_LARK: Parser | None = None


def parsers() -> tuple[Parser, Parser]:
    """gradcli's parser (templates off) and the Lark-driven one, made once."""
    global _OWN, _LARK
    if _OWN is None or _LARK is None:
        _OWN = Parser()
        _OWN.templates.enabled = False
        _LARK = Parser(use_lark=True)
    return _OWN, _LARK


def lexed(parser: Parser, text: str, line: int = 1) -> list:
    out = []
    try:
        for t in parser.lex(text, line):
            out.append((type(t).__mro__[1], t.type, t.value, str(t), t.start_pos, t.line,
                        t.column, t.end_line, t.end_column, t.end_pos))
    except UnexpectedCharacters as e:
        out.append(("error", e.char, e.line, e.column, e.pos_in_stream, sorted(e.allowed)))
    return out


def fed(parser: Parser, text: str) -> list:
    """Every token of ``text`` fed to a statement parser; each ``_NEWLINE``/``;`` (or the
    end) ends the statement: its instructions and value, or the error."""
    emitter = parser.emitter
    out: list = []
    state = parser.new_state()
    emitter.code = code = []
    started = failed = False
    last = None
    try:
        tokens = list(parser.lex(text, 1))
    except UnexpectedCharacters as e:
        tokens = []
        out.append(("characters", e.char, e.line, e.column))
    for tok in [*tokens, None]:
        separator = tok is None or tok.type in ("_NEWLINE", "_SEMICOLON")
        try:
            if separator:
                if started and not failed:
                    value = state.feed_token(Token.new_borrow_pos("$END", "", tok or last), True)
                    out.append(("parsed", code, repr(value)))
                state = parser.new_state()
                emitter.code = code = []
                started = failed = False
            elif not failed:
                started = True
                last = tok
                state.feed_token(tok)
        except UnexpectedToken as e:
            failed = True
            t = e.token
            out.append(("token", t.type, t.value, t.line, t.column, t.end_line, t.end_column,
                        sorted(e.expected), e.line, e.column))
        except GradcliError as e:
            failed = True
            out.append(("error", type(e).__name__, e.message, e.span))
    return out


def plain(item) -> tuple:
    if isinstance(item, Broken):
        e = item.error
        return ("broken", item.line, item.source, type(e).__name__, e.message, e.span,
                e.source, e.first_line)
    return ("parsed", item.line, item.source, item.code, item.target, item.context,
            item.first_line)


def read(parser: Parser, text: str) -> list:
    try:
        return [plain(item) for item in read_statements(split_lines(text), parser)]
    except Exception as e:  # noqa: BLE001 - a crash must be the same crash
        return [("crash", type(e).__name__)]


def check(text: str) -> None:
    own, lark = parsers()
    assert lexed(own, text) == lexed(lark, text)
    assert lexed(own, text, 7) == lexed(lark, text, 7)
    assert fed(own, text) == fed(lark, text)
    assert read(own, text) == read(lark, text)


# -- the corpus ------------------------------------------------------------------------------


def _strings_in_tests() -> list[str]:
    found: set[str] = set()
    for path in sorted((ROOT / "tests").rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):  # a file mid-edit elsewhere
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if 0 < len(node.value) <= 3000:
                    found.add(node.value)
    return sorted(found)


VOCABULARY = [
    "x", "y", "sum", "ones", "mean", "true", "false", "trueish", "_", "1", "2.5", ".5", "1e-3",
    "0x1f", "0b1", "1_000", "2.", "+", "-", "*", "/", "@", "^", "**", "<", "<=", "==", "!=",
    ">", ">=", "=", "+=", "-=", "*=", "/=", "^=", "**=", "(", ")", "[", "]", ",", ":", ";",
    "\n", "\r\n", " ", "\t", "# c\n", "\\\n", "\\ \n", "\\", "!", "'", "&", "{", "%", "$",
    "\x00", "é", "\u00a0", "\f", "\r", "axis", "keepdims",
]


def token_soups(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(VOCABULARY) for _ in range(rng.randint(1, 30)))
            for _ in range(count)]


def corpus() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "samples").glob("*.grad"))]
    texts += SPECIAL_TEXTS
    texts += _strings_in_tests()
    texts += token_soups(3000, seed=1)
    return texts


def test_the_corpus_is_large_and_varied() -> None:
    texts = corpus()
    assert len(texts) > 4000
    assert sum(len(t) for t in texts) > 100_000


def test_lalr_lexes_and_parses_the_corpus_as_lark_does() -> None:
    own, lark = parsers()
    differing = []
    for text in corpus():
        try:
            check(text)
        except AssertionError:
            differing.append(text)
    assert not differing, f"{len(differing)} differ, first: {differing[:3]!r}"


def test_a_stream_of_the_corpus_with_templates_reads_as_lark_does() -> None:
    """The whole corpus through one reader (templates learnt and used) and through Lark."""
    _, lark = parsers()
    lines = [line for text in corpus()[:2000] for line in split_lines(text + "\n")]
    lines += [f"mean(3*(sin(x)+{i})^2) + {i % 7}*sum(x[{i % 3}:])\n" for i in range(300)]
    templated = Parser()
    assert templated.templates.enabled
    quick = [plain(item) for item in read_statements(lines, templated)]
    assert quick == [plain(item) for item in read_statements(lines, lark)]
    assert any(templated.templates.templates.values())  # templates were used


_FUZZ = settings(max_examples=150, deadline=None, database=None, derandomize=True)


@_FUZZ
@given(programs())
def test_programs_parse_as_lark_parses_them(text: str) -> None:
    check(text)


@settings(_FUZZ, max_examples=60)
@given(near_misses())
def test_near_misses_fail_as_in_lark(text: str) -> None:
    check(text)


@_FUZZ
@given(st.one_of(raw_texts(), st.lists(st.sampled_from(VOCABULARY), max_size=40).map("".join)))
def test_junk_fails_as_in_lark(text: str) -> None:
    check(text)


@pytest.mark.parametrize("text", [
    "x = 1; y = [1, 2,]\nsum(x, axis=0, keepdims=true)[0:2:1, :, ::]",
    "ones(2, 3)[1,\n  :2]\n", "a < b < c", "2x", "f(,)", "x = = 1", "(1 +\n 2", "1 $ 2",
    "x +\\\n 1", "true = 1", "sum(x, axis=0, axis=1)", "[]", "x[::]", "-2^-1 ** 2",
])
def test_examples(text: str) -> None:
    check(text)
    assert fed(parsers()[0], text)
