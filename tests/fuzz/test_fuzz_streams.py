"""Streams: thousands of lines mixing junk and good statements; every good line is
answered as if it ran alone; an unclosed bracket never swallows the lines after it."""

from __future__ import annotations

import random

from gradcli.lang.results import Failure, Result
from gradcli.lang.session import Session
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
