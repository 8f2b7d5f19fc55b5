"""Screenshots: what a person sees in a terminal 40, 80 and 120 columns wide.

Each command runs as on a terminal of that width (rich's terminal path, TTY_COMPATIBLE=1,
COLUMNS=N), without colour, and its text is compared with a golden file under
tests/render/screens/. With colour the same text must come out once the escape codes are
taken away: styles never change the layout. No line may be wider than the terminal or
end in spaces, and the parts a reader needs (the check's verdicts, the plot's legend)
must be there at every width.

After an intended change of layout, regenerate the golden files and read the diff:

    GRADCLI_REGENERATE_SCREENS=1 pytest tests/render/test_screens.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradcli.cli.main import main

SCREENS = Path(__file__).resolve().parent / "screens"
ROOT = Path(__file__).resolve().parents[2]
WIDTHS = (40, 80, 120)
ESCAPE = re.compile(r"\x1b\[[0-9;]*m")

# name: (arguments, what must be on the screen at every width)
COMMANDS = {
    "eval": (["eval", "x = [1, 2, 3]\nsum(x^2)\nx * 2\ny = mean(3*(w+2)^2)", "-v", "w=ones(2,2)"],
             ["= 14.0", "x.grad (3,) =", "gradients: none", "y = 27.0", "w  input"]),
    "eval-deep": (["eval", "tanh(" * 14 + "x" + ")" * 14, "-v", "x=0.3"],
                  ["x.grad () =", "graph cut"]),
    "eval-trace": (["eval", "mean(3*(x+2)^2)", "-v", "x=ones(2,2)", "--trace", "--jacobian",
                    "--no-graph"], ["backward pass", "passes to x", "jacobian"]),
    "eval-hessian": (["eval", "sum(x^3)", "-v", "x=ones(8)", "--hessian", "--no-graph"],
                     ["hessian of out", "x[7]", "6.0"]),
    "graph": (["graph", "-f", str(ROOT / "samples" / "two_layer_network.grad")],
              ["input", "MatMul"]),
    "check": (["check", "sum(tanh(W @ x))", "-v", "W=randn(3,3)", "-v", "x=ones(3)",
               "--seed", "1"], ["W ", "x ", "ok", "all gradients agree"]),
    "check-fail": (["check", "sum(relu(x)) + sum(y^2)", "-v", "x=[0, 1, -1]", "-v", "y=[1, 2]"],
                   ["FAIL (1 of 3", "ok", "gradient check failed"]),
    "plot": (["plot", "sin(x) * x", "--wrt", "x", "--range", "-3:3"],
             ["* sin(x) * x", "+ d/dx", "└"]),
    "plot-pole": (["plot", "1/x", "--wrt", "x", "--range", "-1:1"],
                  ["* 1/x", "beyond the y-range"]),
    "functions": (["functions"], ["softmax(", "constants", "what it gives"]),
}


def screen(args: list[str], width: int, color: bool = False) -> str:
    env = {"TTY_COMPATIBLE": "1", "COLUMNS": str(width), "FORCE_COLOR": None,
           "NO_COLOR": None if color else "1"}
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code in (0, 1), result.stderr
    return result.stdout


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_screen_keeps_its_layout(name, width):
    args, needed = COMMANDS[name]
    text = screen(args, width)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    assert all(line == line.rstrip() for line in lines), [
        line for line in lines if line != line.rstrip()]
    assert "…" not in text  # one ellipsis style, "...": never rich's cut of a cell
    flat = " ".join(text.split())
    for piece in needed:
        assert " ".join(piece.split()) in flat, (name, width, piece)
    golden = SCREENS / f"{name}-{width}.txt"
    if os.environ.get("GRADCLI_REGENERATE_SCREENS"):
        SCREENS.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}: see this module's docstring"
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["eval", "check-fail", "plot"])
def test_colour_does_not_change_the_layout(name):
    args, _ = COMMANDS[name]
    styled = screen(args, 80, color=True)
    assert "\x1b[" in styled
    assert ESCAPE.sub("", styled) == screen(args, 80)
