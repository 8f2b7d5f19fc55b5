"""Fuzzing gradcli.evaluate: whatever the input, no exception escapes and every outcome
is a well-formed Result or Failure (type, message, line and column where it has a place)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from tests.fuzz.conftest import FUZZ
from tests.fuzz.fuzz_checks import run_api
from tests.fuzz.strategies import SPECIAL_TEXTS, near_misses, programs, raw_texts


@settings(FUZZ)
@given(programs())
def test_valid_programs_never_raise(program):
    run_api(program)


@settings(FUZZ)
@given(near_misses())
def test_near_misses_fail_cleanly(program):
    run_api(program)


@settings(FUZZ)
@given(raw_texts())
def test_raw_text_fails_cleanly(text):
    run_api(text)


@pytest.mark.parametrize("text", SPECIAL_TEXTS)
def test_special_inputs(text):
    run_api(text)


@settings(FUZZ)
@given(programs(max_statements=3))
def test_float32_and_strict_keep_the_invariants(program):
    run_api(program, dtype="float32")
    run_api(program, strict=True, graph=False)


def test_syntax_errors_have_a_place_and_words():
    for text, where in [("1 + * 2", (1, 5)), ("x = (1 +\n", (1, 5)), ("2x", (1, 1)),
                        ("\n\n  )", (3, 3)), ("1 +\x00 2", (1, 4))]:
        (failure,) = run_api(text)
        assert failure.error.type == "syntax"
        assert (failure.error.line, failure.error.column) == where, (text, failure.error)
