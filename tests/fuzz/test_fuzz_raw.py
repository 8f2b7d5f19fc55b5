"""Raw inputs: control characters, a BOM, CRLF, huge lines, deep nesting, extreme numbers."""

from __future__ import annotations

import math
import time

import pytest

from gradcli.lang.results import Failure, Result
from tests.fuzz.fuzz_checks import run_api


def one(text: str, **options):
    outcomes = run_api(text, **options)
    assert len(outcomes) == 1, outcomes
    return outcomes[0]


@pytest.mark.parametrize("char, shown", [
    ("\x00", "U+0000"), ("\x1b", "U+001B"), ("\x07", "U+0007"), ("\u00a0", "U+00A0"),
    ("\u2028", "U+2028"), ("\udcff", "U+DCFF"), ("\ufeff", "U+FEFF"), ("€", '"€"'),
])
def test_unexpected_characters_are_named_never_echoed_raw(char, shown):
    f = one(f"1 +{char} 2")
    assert isinstance(f, Failure) and f.error.type == "syntax"
    assert f.error.message.startswith(f"unexpected character {shown}")
    assert (f.error.line, f.error.column) == (1, 4)
    rendered = f.error.render()
    assert "\x00" not in rendered and "\x1b" not in rendered and "\x07" not in rendered


def test_a_byte_order_mark_at_the_start_is_ignored():
    assert float(one("\ufeff1 + 1").value) == 2.0


def test_crlf_line_ends():
    outcomes = run_api("a = 1\r\nb = 2\r\na + b\r\n")
    assert [float(o.value) for o in outcomes] == [3.0]


def test_a_lone_carriage_return_is_an_error_not_a_line_end():
    f = one("a = 1\rb = 2")
    assert isinstance(f, Failure) and "U+000D" in f.error.message


@pytest.mark.parametrize("text", [
    "1 # " + "x" * 1_000_000,
    " " * 1_000_000 + "1",
    "a" * 1_000_000,
    "1" * 1_000_000,
    "0x" + "f" * 1_000_000,
], ids=["comment", "spaces", "name", "number", "hex"])
def test_one_megabyte_lines(text):
    start = time.perf_counter()
    one(text)
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize("text, value", [
    ("(" * 100_000 + "1" + ")" * 100_000, 1.0),
    ("-" * 100_000 + "1", 1.0),
    ("^".join(["1"] * 50_000), 1.0),
    ("sin(" * 5_000 + "0" + ")" * 5_000, 0.0),
], ids=["parentheses", "signs", "powers", "calls"])
def test_deep_nesting_is_computed_without_recursion(text, value):
    r = one(text)
    assert isinstance(r, Result) and float(r.value) == value


def test_nesting_deeper_than_numpy_allows_is_a_clear_error():
    f = one("[" * 100_000 + "1" + "]" * 100_000)
    assert isinstance(f, Failure) and f.error.type == "shape"
    assert "at most" in f.error.message and "dimensions" in f.error.message
    f = one("(" * 100_000)
    assert f.error.message == '"(" is never closed (expected ")")'


@pytest.mark.parametrize("text, expected, warned", [
    # a literal too large for float64 is inf, and says so (issue 11); one too small is 0,
    # and says so too; a subnormal (1e-320) is kept, not 0, without a word
    ("1e308", 1e308, False), ("1e-320", 1e-320, False), ("1e999", math.inf, True),
    ("-1e999", -math.inf, True), ("1e-999", 0.0, True), ("9" * 400, math.inf, True),
    ("1e308 * 10", math.inf, True), ("x = 1e-320; 1/x", math.inf, True),
])
def test_huge_and_tiny_numbers(text, expected, warned):
    r = run_api(text)[-1]
    assert isinstance(r, Result) and float(r.value) == expected
    assert bool(r.warnings) == warned
