"""`gradcli eval` and `graph` piped: the same bytes as through rich, which is not imported."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from gradcli.cli.commands import Printer
from gradcli.render import plain
from tests.cli.cli_support import ROOT, subprocess_env

WALK = ("mean(3*(x+2)^2)", "-v", "x=ones(2,2)")
MANY = "x = [1, 2]\nsum(x^2)\nlog(0) + 1\nq + 1\nx @ x\ny = 2*x\nx * [1, 0]\n"

COMMAND_LINES = [
    ("eval", *WALK),
    ("eval", *WALK, "--precision", "2"),
    ("eval", *WALK, "--no-graph"),
    ("eval", *WALK, "--no-color"),
    ("eval", MANY),
    ("eval", MANY, "--fail-fast"),
    ("eval", MANY, "--wrt", "x", "--precision", "9"),
    ("eval", "sum(W @ x)", "-v", "W=randn(4,4)", "-v", "x=ones(4)", "--seed", "5"),
    ("eval", "sin(x)", "-v", "x=linspace(0,1,3)", "--grad-output", "ones(3)"),
    ("eval", "tanh(" * 15 + "x" + ")" * 15, "-v", "x=0.3"),
    ("eval", *WALK, "--trace"),
    ("eval", "softmax(z)", "-v", "z=[1,2,3]", "--jacobian", "--trace"),
    ("eval", "x^3 + x*y", "-v", "x=2", "-v", "y=1", "--hessian", "--jacobian"),
    ("eval", "sum(x^2)\nq", "-v", "x=[1,2]", "--trace"),
    ("eval", "1+", "--no-color"),
    ("eval", "-f", str(ROOT / "samples" / "walkthrough.grad")),
    ("graph", "y = x*x\nsum(y + y)", "-v", "x=[1,2]"),
    ("graph", "tanh(" * 15 + "x" + ")" * 15, "-v", "x=0.3", "--depth", "3"),
    ("graph", "-f", str(ROOT / "samples" / "walkthrough.grad"), "--no-color"),
    ("graph", "x +\nq", "-v", "x=1"),
]


def _run(cli, args: tuple[str, ...], stdin: str | None = None):
    result = cli(*args, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def _through_rich(monkeypatch) -> None:
    """From here on the Printer takes rich's path, and plain text would fail loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError("plain text written where rich was asked for")

    monkeypatch.setattr(plain, "writes_plain", lambda stream, no_color=False: False)
    monkeypatch.setattr(plain, "layout_text", refuse)


@pytest.mark.parametrize("args", COMMAND_LINES, ids=lambda args: " ".join(args)[:60])
def test_same_bytes_as_rich(cli, monkeypatch, args):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    fast = _run(cli, args)
    _through_rich(monkeypatch)
    assert _run(cli, args) == fast


def test_graph_to_a_file_the_same(cli, monkeypatch, tmp_path):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    args = ("graph", "y = x*x\nsum(y + y)", "-v", "x=[1,2]", "-o")
    assert _run(cli, (*args, str(tmp_path / "plain.txt")))[0] == 0
    _through_rich(monkeypatch)
    assert _run(cli, (*args, str(tmp_path / "rich.txt")))[0] == 0
    text = (tmp_path / "plain.txt").read_bytes()
    assert "↑ y (shown above)".encode() in text
    assert text == (tmp_path / "rich.txt").read_bytes()


def test_a_stream_on_stdin_the_same(cli, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    fast = _run(cli, ("eval",), stdin=MANY)
    _through_rich(monkeypatch)
    assert _run(cli, ("eval",), stdin=MANY) == fast
    assert fast[1].count("\n\nline ") == 3


@pytest.mark.parametrize("command", ["eval", "graph"])
def test_piped_output_imports_no_rich(command):
    code = (
        "import sys\n"
        "from gradcli.cli.main import main\n"
        f"try:\n    main([{command!r}, 'y = x^2\\nsum(y)\\nlog(0)\\nq', '-v', 'x=[1,2]'])\n"
        "except SystemExit as e:\n    print('exit', e.code, file=sys.stderr)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'), file=sys.stderr)"
    )
    env = subprocess_env()
    env.pop("TTY_COMPATIBLE", None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)
    assert "unknown name" in done.stderr
    if command == "eval":
        assert "x.grad (2,) = [2. 4.]" in done.stdout
        assert "warning: line 3: log" in done.stderr
    assert done.stderr.strip().splitlines()[-2:] == ["exit 1", "[]"]


def test_a_terminal_still_gets_colour(monkeypatch, walkthrough_result):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    terminal = io.StringIO()
    terminal.isatty = lambda: True
    monkeypatch.setattr(sys, "stdout", terminal)
    printer = Printer(as_json=False, precision=6, show_graph=True, no_color=False)
    assert not printer.plain_out
    printer.result(walkthrough_result)
    assert "\x1b[" in terminal.getvalue()


@pytest.fixture
def walkthrough_result():
    from gradcli.lang.session import evaluate

    return evaluate("mean(3*(x+2)^2)", {"x": "ones(2,2)"})[-1]
