"""The budgets of SPEC §10 seen from the Session: time, memory, graph nodes, statement
length, and a stream's tables staying bounded."""

from __future__ import annotations

import numpy as np
import pytest

from gradcli.autograd.limits import LIMITS, UNBOUNDED, parse_size
from gradcli.autograd.ops import linalg
from gradcli.lang.errors import InputProblem, LimitProblem
from gradcli.lang.reader import MAX_STATEMENT_CHARS
from gradcli.lang.results import Failure, Result
from gradcli.lang.session import Session


def _failure(session: Session, program: str) -> str:
    (outcome,) = [o for o in session.run(program) if isinstance(o, Failure)]
    assert isinstance(outcome.error, LimitProblem), outcome.error
    return outcome.error.message


def test_a_stream_of_rebinding_statements_keeps_its_tables_bounded():
    session = Session(graph=False)

    def lines(count):
        for i in range(count):
            yield f"w = {i % 7}\n"
            yield "v = w * 2\n"

    for count in (10, 3000):
        for _ in session.stream(lines(count)):
            pass
        # one live leaf, two names: nothing kept per statement
        assert len(session._leaf_names) == 1 and len(session.names) == 2


def test_a_rebound_leaf_that_a_value_still_uses_keeps_its_name():
    session = Session(graph=False)
    (result,) = session.run("x = [1, 2]\ny = sum(x^2)\nx = 5\ny")
    assert isinstance(result, Result)
    assert list(result.gradients) == ["x"]
    np.testing.assert_allclose(result.gradients["x"], [2.0, 4.0])


def test_the_node_budget_refuses_a_statement_that_records_too_much():
    session = Session(max_nodes=50)
    message = _failure(session, "x = [1.0, 2.0]\n" + "y = " + "*".join(["x"] * 80))
    assert "recorded 50 operations" in message and "--max-nodes" in message
    # the next statement has a budget of its own; outside a statement there is none
    assert isinstance(session.run("sum(x*x)")[0], Result)
    assert LIMITS.last_node == UNBOUNDED


def test_grad_nested_deep_is_stopped_by_the_node_budget():
    # each level differentiates the graph of the one inside: it grows exponentially
    program = "x = [1.5, 2]\n" + "grad(sum(" * 16 + "tanh(x) * exp(x)" + "), x)" * 16
    message = _failure(Session(graph=False, max_nodes=20_000), program)
    assert "--max-nodes" in message


def test_operations_whose_cost_is_known_are_refused_up_front():
    session = Session(graph=False)
    session.run("c = ones(3000, 3000)\nm = ones(1500, 1500)")
    session.timeout = 0.25  # (the values above are made without a time limit)
    message = _failure(session, "sum(c @ c)")
    assert message.startswith("matmul: about 5.4e+10 floating-point operations, at least "
                              "0.54 s, more than the ")
    assert message.endswith("s left of --timeout 0.25")
    session.timeout = 0.02
    for program in ("det(m)", "inv(m)", "solve(m, m)"):
        assert "about 3.4e+09 floating-point operations" in _failure(session, program)


def test_a_statement_over_the_timeout_is_stopped_and_the_next_runs():
    session = Session(timeout=0.05, graph=False)
    # many small steps, each cheap: the watchdog stops the statement between two of them
    program = "x = ones(200, 200)\n" + "y = " + " @ ".join(["x"] * 400) + "\n2 + 2"
    outcomes = session.run(program)
    failure = next(o for o in outcomes if isinstance(o, Failure))
    message = failure.error.message
    # stopped by the watchdog, or (just before the deadline) a product refused for it
    assert ("ran longer than --timeout 0.05 s and was stopped" in message
            or message.startswith("matmul: about") and "--timeout 0.05" in message), message
    assert isinstance(outcomes[-1], Result) and float(outcomes[-1].value) == 4.0


@pytest.mark.parametrize("timeout", [0.05, 0.005])  # (the second under the timer's tick)
def test_streaming_holds_the_timer_and_still_stops_a_statement_over_the_timeout(timeout):
    import signal

    before = signal.getsignal(signal.SIGALRM)
    session = Session(timeout=timeout, graph=False)
    program = "x = ones(200, 200)\n" + "y = " + " @ ".join(["x"] * 400) + "\n2 + 2\n3 + 3"
    with session.streaming():
        held = signal.getsignal(signal.SIGALRM)
        ticking, outcomes = [], []
        for outcome in session.stream(program.splitlines()):
            ticking.append(signal.getitimer(signal.ITIMER_REAL))
            outcomes.append(outcome)
        # between statements (output is written): no timer, so no signal cuts a write
        # short, while the handler stays
        assert ticking and all(t == (0.0, 0.0) for t in ticking)
        assert signal.getsignal(signal.SIGALRM) is held
    assert held is not before and signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    failure = next(o for o in outcomes if isinstance(o, Failure))
    assert f"--timeout {timeout:g}" in failure.error.message, failure.error.message
    assert [float(o.value) for o in outcomes[-2:]] == [4.0, 6.0]


def test_streaming_reports_each_floating_point_error_with_its_own_statement():
    # one NumPy callback for the whole stream: an error its gradients raised (sqrt'(0))
    # must not reach the next statement's warnings
    session = Session(variables={"x": "[0, 1]"}, graph=False)
    with session.streaming():
        outcomes = list(session.stream(["sum(sqrt(x))", "sqrt(-x)", "x + 1",
                                        "log(x - 1)", "sum(x)"]))
    assert [o.warnings for o in outcomes] == [
        ["gradient for x: NaN or infinity at 1 element"],
        ["sqrt: invalid value at 1 element"], [],  # (not "divide by zero, invalid value")
        ["log: divide by zero, invalid value at 2 elements"], []]


def test_memory_beyond_max_memory_is_refused_before_allocating():
    session = Session(max_memory="1M", graph=False)
    message = _failure(session, "x = ones(1000, 1000)")
    assert message.startswith("ones: 7.6 MiB more would take the session's memory to")
    assert "over the limit of 1.0 MiB (raise it with --max-memory)" in message


def test_limits_are_checked_when_given():
    for bad in ({"timeout": 0}, {"timeout": "soon"}, {"max_memory": "lots"},
                {"max_nodes": 0}):
        with pytest.raises(InputProblem):
            Session(**bad)
    assert parse_size("2G") == 2 * 2**30 and parse_size("512MiB") == 512 * 2**20
    assert parse_size("1.5k") == 1536 and parse_size("100") == 100


def test_a_statement_longer_than_the_limit_is_refused_before_parsing():
    session = Session(graph=False)
    outcomes = session.run("1" * (MAX_STATEMENT_CHARS + 1) + "\n(1 +\n" + "1 +\n" *
                           (MAX_STATEMENT_CHARS // 4) + "1)\n3 + 3")
    failures = [o for o in outcomes if isinstance(o, Failure)]
    assert all("longer than 1,000,000 characters" in f.error.message for f in failures[:2])
    assert float(outcomes[-1].value) == 6.0


def test_a_long_product_in_row_blocks_equals_numpy(monkeypatch):
    monkeypatch.setattr(linalg, "BLOCK_FLOPS", 1e3)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(37, 11)), rng.normal(size=(11, 5))
    session = Session(variables={"a": a, "b": b}, graph=False)
    (result,) = session.run("sum((a @ b)^2)")
    np.testing.assert_allclose(result.value, np.sum((a @ b) ** 2))
    np.testing.assert_allclose(result.gradients["a"], 2 * (a @ b) @ b.T)


def test_a_watch_kept_for_many_statements_restores_each_entry_also_nested():
    from gradcli.autograd.limits import watch

    kept = watch("the statement", timeout=5.0, max_memory=None, max_nodes=10)
    before = (LIMITS.last_node, LIMITS.deadline)
    for line in (1, 2):
        kept.line = line
        with kept:
            outer = LIMITS.last_node
            with kept:  # (entered again inside itself)
                assert LIMITS.last_node > outer
            assert LIMITS.last_node == outer and LIMITS.deadline is not None
        assert (LIMITS.last_node, LIMITS.deadline) == before
    session = Session(timeout=5.0)
    session.run("1")
    session.timeout = 0.05  # a limit changed between statements is the one watched
    program = "x = ones(200, 200)\n" + "y = " + " @ ".join(["x"] * 400)
    assert "--timeout 0.05" in _failure(session, program)


def test_the_timeout_covers_a_statements_run_and_its_gradients_together(monkeypatch):
    # each half alone is under the limit; together they are over it (README: --timeout)
    import time as clock

    from gradcli.lang import session as session_module

    run_code = Session._run_code
    gradients = session_module.leaf_gradients

    def slow_run(self, parsed, scope):
        clock.sleep(0.04)
        return run_code(self, parsed, scope)

    def slow_gradients(*args, **kwargs):
        clock.sleep(0.04)
        return gradients(*args, **kwargs)

    monkeypatch.setattr(Session, "_run_code", slow_run)
    monkeypatch.setattr(session_module, "leaf_gradients", slow_gradients)
    (outcome,) = Session(variables={"x": "[1, 2]"}, timeout=0.06, graph=False).run("sum(x*x)")
    assert isinstance(outcome, Failure), outcome
    assert "--timeout 0.06" in outcome.error.message
    assert outcome.error.message.endswith("(computing its gradients)")
