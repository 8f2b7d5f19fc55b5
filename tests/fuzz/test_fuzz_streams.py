"""Streams: thousands of lines mixing junk and good statements; every good line is
answered as if it ran alone; an unclosed bracket never swallows the lines after it."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradcli.lang.reader import Broken, Parsed, Parser, read_statements
from gradcli.lang.results import Failure, Result
from gradcli.lang.session import Session
from tests.fuzz.conftest import FUZZ
from tests.fuzz.fuzz_checks import check_cli, run_api, run_cli_inprocess

GOOD = [
    "1 + 2", "sum([1, 2, 3])", "x0 * 2", "mean(ones(2, 2) * x0)", "2^-1", "sin(pi / 2)",
    "x0 = 3", "x0 += 1", "log(1 + x0)", "max([1, 5, 2])", "dot([1, 2], [3, 4])", "e",
]
# junk that fails on its own first line, and junk that leaves a bracket open but ends in
# an operand, so the next line's first token cannot continue it (SPEC §5: reading resumes
# at the line where parsing failed). Good lines start with a name or a number: a line
# starting with "[", "(" or a sign would legitimately continue an open bracket.
JUNK = [
    "1 + * 2", ")", "2x", "x.y", "\x00", "\x1b[0m", "é", "sum(1, 2, 3, 4)", "1 < 2 < 3",
    "(1 + 2", "[1, 2", "sum(x0", "f(1", "ones(1e9, 1e9)", "nosuchname", "1 +;", ";;",
    "# junk comment", "", "   ", "log(0)", "[[1, 2], [3]]", "'quoted'",
]


def test_thousands_of_mixed_lines_every_good_line_is_answered():
    rng = random.Random(6)
    lines = ["x0 = 1"]
    for _ in range(3000):
        lines.append(rng.choice(GOOD) if rng.random() < 0.5 else rng.choice(JUNK))
    session = Session()
    by_line: dict[int, list] = {}
    for outcome in session.stream(iter(line + "\n" for line in lines)):
        by_line.setdefault(outcome.line, []).append(outcome)
    # replay: each good line alone, with x0 as it was when the stream reached it
    x0 = 1.0
    replay = Session()
    replay.run("x0 = 1")
    for number, line in enumerate(lines, 1):
        if line not in GOOD:
            continue
        got = [o for o in by_line.get(number, []) if o.source == line]
        outcomes = list(replay.stream([line], interactive=True))
        x0 = replay.names["x0"].data.item()
        expected = [o for o in outcomes if isinstance(o, Result)]
        if "=" in line and "==" not in line:  # an assignment reports nothing mid-stream
            continue
        assert len(got) == 1, (number, line, by_line.get(number))
        assert isinstance(got[0], Result), (number, line, got[0])
        assert float(got[0].value.sum()) == float(expected[0].value.sum()), (number, line)
    assert x0 == session.names["x0"].data.item()


def test_an_unclosed_bracket_never_swallows_the_lines_after_it():
    outcomes = run_api("y = sum([1, 2\nz = 3\nz * 2\n(4 +\n5\n")
    kinds = [(type(o).__name__, o.line) for o in outcomes]
    # the "(" left open at the end is reported, then line 5 is read again on its own
    assert kinds == [("Failure", 1), ("Result", 3), ("Failure", 4), ("Result", 5)], kinds
    assert outcomes[0].error.message == '"[" is never closed (expected "]")'
    assert float(outcomes[1].value) == 6.0


def test_stream_through_the_cli_one_record_per_statement():
    rng = random.Random(1)
    lines = ["x0 = 2"] + [rng.choice(GOOD + JUNK) for _ in range(500)] + ["x0 + 1"]
    program = "\n".join(lines) + "\n"
    outcomes = run_api(program, max_elements=10**6)
    code, out, err = run_cli_inprocess(["eval", "--json", "--max-elements", "1000000"],
                                       program.encode())
    records = check_cli(code, out, err, json_mode=True, expected_records=len(outcomes))
    assert code == (1 if any(isinstance(o, Failure) for o in outcomes) else 0)
    assert [r["line"] for r in records] == [o.line for o in outcomes]


def test_empty_and_comment_only_input():
    for text in ["", "\n", "# a comment\n", "  # one\n\n# two", ";\n;", "\\\n"]:
        assert run_api(text) == [], text


# -- no good statement is ever lost among junk -----------------------------------------------
# Junk that leaves a bracket open expecting more (ending in an operator, "(", "[" or ","),
# also after a ";", so the next line legitimately continues it; none opens with "[" (after
# a good line still inside an open bracket, "[[1, 2]," would subscript it: SPEC §5 then
# resumes at the line where parsing failed, taking the good line, which is no loss)...
OPEN_JUNK = [
    "1+[", "(1 +", "sum(", "y9 = [1,", "a; 1+[", "1; f(", "m9 = [[1, 2],", "2 * (",
    "nosuchname; (3 -", "1 +; sum([2,", "x9 = (", "max([", "2x; [", ";; (",
]
# ...and junk that is wrong on its own line and opens with a name, a number, "(", a ";", a
# character the language has not, or nothing: none of these can follow a whole expression
# inside a bracket, so a good line before one never merges into the junk around it.
# (Lines opening with an operator, "[", ")" or "]" would legitimately continue or close an
# open bracket, taking the good line into a statement: not a loss.)
LINE_JUNK = [
    "1 + * 2", "2x", "sum(1, 2, 3, 4)", "1 < 2 < 3", "nosuchname", "1 +;", "(1 + 2",
    "sum(x9", "f(1", ";;", ";", "# junk comment", "", "   ", "\x00", "\x1b[0m", "é",
    "1; 2x; 3", "log(0)", "ones(1e9, 1e9)",
]
# a good statement may also share its line with junk after or before a ";"
GOOD_PREFIX = ["", "", "", "2x; ", "1+[; ", "nosuchname; ", "(1 +; ", ";; "]
GOOD_SUFFIX = ["", "", "", "; 1+[", "; (2 *", "; 2x", "; sum(", ";"]


def _good(number: int, rng: random.Random) -> tuple[str, str]:
    """A good statement that can only come from line ``number``, and its whole line."""
    statement = f"{number} + 0.25"
    return statement, rng.choice(GOOD_PREFIX) + statement + rng.choice(GOOD_SUFFIX)


def _mixed_stream(rng: random.Random, count: int) -> tuple[list[str], dict[int, str]]:
    lines: list[str] = []
    good: dict[int, str] = {}
    while len(lines) < count:
        number = len(lines) + 1
        roll = rng.random()
        if roll < 0.1:  # a good statement on two lines, the bracket closed on the second
            good[number] = f"({number} +\n0.25)"
            lines.append(rng.choice(GOOD_PREFIX) + f"({number} +")
            lines.append("0.25)" + rng.choice(GOOD_SUFFIX))
            continue
        if roll < 0.4:
            good[number], line = _good(number, rng)
        elif roll < 0.7:
            line = rng.choice(OPEN_JUNK)
        else:
            line = rng.choice(LINE_JUNK)
        lines.append(line)
    return lines, good


def _assert_every_good_statement_answered(outcomes: list, good: dict[int, str]) -> None:
    answered: dict[int, list] = {}
    for o in outcomes:
        if isinstance(o, Result) and o.source in good.values():
            answered.setdefault(o.line, []).append(o)
    lost = sorted(set(good) - set(answered))
    assert not lost, f"good statements lost on lines {lost[:10]}"
    for number, statement in good.items():
        [result] = answered[number]  # once, never twice
        assert result.source == statement
        assert float(result.value) == number + 0.25, (number, result.value)


@pytest.mark.parametrize("seed", range(4))
def test_no_good_statement_is_lost_among_junk_that_leaves_brackets_open(seed):
    lines, good = _mixed_stream(random.Random(seed), 800)
    outcomes = Session(max_elements=10**6).stream(iter(line + "\n" for line in lines))
    _assert_every_good_statement_answered(list(outcomes), good)


@FUZZ
@given(st.randoms(use_true_random=False), st.integers(min_value=1, max_value=40))
def test_no_good_statement_is_lost_in_any_mix(rng, count):
    lines, good = _mixed_stream(rng, count)
    _assert_every_good_statement_answered(run_api("\n".join(lines) + "\n"), good)


def test_no_good_statement_is_lost_through_the_cli():
    lines, good = _mixed_stream(random.Random(11), 300)
    code, out, err = run_cli_inprocess(["eval", "--json", "--max-elements", "1000000"],
                                       ("\n".join(lines) + "\n").encode())
    records = check_cli(code, out, err, json_mode=True)
    answered = {r["line"]: r for r in records if r.get("source") in good.values()}
    assert sorted(answered) == sorted(good)
    assert all(answered[n]["value"] == n + 0.25 for n in good)


@pytest.mark.parametrize(
    ("program", "answers"),
    [
        ("a; 1+[\n2 + 0.25\n3\n", [(2, 2.25), (3, 3.0)]),  # the bracket opened after ";"
        ("1+[\n2 + 0.25\n3\n", [(2, 2.25), (3, 3.0)]),
        ("(1 +\n2; 3\n", [(2, 2.0), (2, 3.0)]),  # the ";" that ends it on a later line
        ("1+[\n2 + 0.25\né\n4\n", [(2, 2.25), (4, 4.0)]),  # junk character after it
        ("x = sum(\n[1, 2]\ny = 3\ny\n", [(2, None), (4, 3.0)]),  # an "=" after it
        ("1+[\n(2 +\n3); 5\n", [(2, 5.0), (3, 5.0)]),  # one it took ends at its failure
        ("1+[\n(2 +\n(3 +\n4)); 5\n", [(2, 9.0), (4, 5.0)]),
    ],
)
def test_a_bracket_left_open_gives_back_the_lines_it_took(program, answers):
    outcomes = run_api(program)
    assert any("is never closed" in o.error.message for o in outcomes if isinstance(o, Failure))
    got = [(o.line, None if o.value.size > 1 else float(o.value)) for o in outcomes
           if isinstance(o, Result)]
    assert got == answers, outcomes


class _CountingParser(Parser):
    """A parser that counts the lines it lexes: the reader's work, without a clock."""

    def __init__(self) -> None:
        super().__init__()
        self.lexed = 0

    def lex(self, text, line):
        self.lexed += 1
        return super().lex(text, line)


@pytest.mark.parametrize("tail", [[], ["2 + 0.25", "3"]])
def test_a_run_of_unclosed_brackets_is_read_again_in_linear_work(tail):
    # each line read again would run on to the same failure: re-parsing every one of them
    # to it made 1,000 such lines cost half a million line reads (minutes)
    count = 1000
    lines = ["(1 +"] * count + tail
    parser = _CountingParser()
    outcomes = list(read_statements([line + "\n" for line in lines], parser))
    assert parser.lexed <= 4 * len(lines), parser.lexed
    broken = [o for o in outcomes if isinstance(o, Broken)]
    assert len(broken) == 1  # said once, not once per line
    assert broken[0].error.message == '"(" is never closed (expected ")")'
    assert [o.source for o in outcomes if isinstance(o, Parsed)] == tail


def test_a_missing_comma_hint_still_gives_back_the_lines_the_bracket_took():
    # the hint's other reading is a bracket never closed: the lines it took run again
    lines = ["(3 -", "18 + 0.25", "", "1 + * 2"]
    outcomes = list(Session(max_elements=10**6).stream(iter(line + "\n" for line in lines)))
    assert [(o.line, o.source) for o in outcomes if isinstance(o, Result)] == [
        (2, "18 + 0.25")]
    # in a group's parentheses a comma would not help, so no comma is suggested
    assert not any("missing \",\"" in o.error.message for o in outcomes
                   if not isinstance(o, Result))
