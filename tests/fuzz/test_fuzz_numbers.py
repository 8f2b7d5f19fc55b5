"""NaN and infinity made by an operation: one warning per statement naming the
operation; strict=True (--strict) makes it an error."""

from __future__ import annotations

import pytest

from gradcli.lang.results import Failure, Result
from tests.fuzz.fuzz_checks import check_cli, run_api, run_cli_inprocess


@pytest.mark.parametrize("program, warning", [
    ("log(0)", "log: divide by zero at 1 element"),
    ("0/0", "divide: invalid value at 1 element"),
    ("sqrt(-1)", "sqrt: invalid value at 1 element"),
    ("exp(1000)", "exp: overflow at 1 element"),
    ("log([0, 0, 1])", "log: divide by zero at 2 elements"),
    ("arccosh(0.5)", "arccosh: invalid value at 1 element"),
    ("1 / zeros(3)", "divide: divide by zero at 3 elements"),
])
def test_reported_once_naming_the_operation(program, warning):
    (r,) = run_api(program)
    assert isinstance(r, Result)
    assert r.warnings == [warning]
    (f,) = run_api(program, strict=True)
    assert isinstance(f, Failure) and f.error.type == "domain"
    assert f.error.message == warning
    assert (f.error.line, f.error.column) == (1, 1)


def test_once_per_statement_not_once_per_operation():
    (r,) = run_api("log(0) + log(0) + log(0)")
    assert r.warnings == ["log: divide by zero at 1 element"]
    outcomes = run_api("log(0)\nlog(0)")
    assert [o.warnings for o in outcomes] == [["log: divide by zero at 1 element"]] * 2


def test_nan_flowing_through_is_not_reported_again():
    (r,) = run_api("x = nan; x + 1")
    assert r.warnings == []


def test_no_numpy_runtime_warning_escapes(recwarn):
    run_api("std(ones(0)); var(zeros(0, 2), axis=0); mean(ones(0))")
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_strict_on_the_command_line():
    code, out, err = run_cli_inprocess(["eval", "--json", "--strict"], b"log(0)\n1 + 1\n")
    records = check_cli(code, out, err, json_mode=True, expected_records=2)
    assert code == 1
    assert records[0]["error"]["type"] == "domain"
    assert records[0]["error"]["message"] == "log: divide by zero at 1 element"
    assert records[1]["value"] == 2.0


def test_non_finite_values_in_json_are_strings():
    code, out, err = run_cli_inprocess(["eval", "--json"], b"log(0)\n0/0\n[inf, -inf, 1]\n")
    records = check_cli(code, out, err, json_mode=True, expected_records=3)
    assert [r["value"] for r in records] == ["-inf", "nan", ["inf", "-inf", 1.0]]
