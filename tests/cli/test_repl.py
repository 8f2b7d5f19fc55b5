"""The REPL in a real pseudo-terminal: completion, history, multi-line, Ctrl-C, errors, :quit."""

from __future__ import annotations

import os
import subprocess
import sys

import pexpect
import pytest
from cli_support import gradcli_command, interruptible, subprocess_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
PROMPT = ">>> "


@pytest.fixture
def state(tmp_path):
    return {
        "HOME": str(tmp_path),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "NO_COLOR": "1",
        "TERM": "xterm",
    }


def spawn(env: dict, *args: str) -> pexpect.spawn:
    command, *rest = gradcli_command()
    child = pexpect.spawn(
        command,
        [*rest, *args],
        env=subprocess_env(**env),
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 200),
        preexec_fn=interruptible,
    )
    child.expect_exact(PROMPT)
    return child


def send(child: pexpect.spawn, line: str) -> None:
    child.sendline(line)
    child.expect_exact(PROMPT)


def test_bare_gradcli_on_a_terminal_is_the_repl(state):
    child = spawn(state)
    child.sendline(":quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_names_persist_underscore_grad_graph_vars(state):
    child = spawn(state, "repl")
    send(child, "x = [1, 2, 3]")
    child.sendline("sum(x^2)")
    child.expect_exact("= 14.0")
    child.expect_exact("x.grad (3,) = [2. 4. 6.]")
    child.expect_exact(PROMPT)
    child.sendline("_ * 2")
    child.expect_exact("= 28.0")
    child.expect_exact(PROMPT)
    child.sendline(":grad _ x")
    child.expect_exact("x.grad (3,) = [4. 8. 12.]".replace("[4. 8. 12.]", "[ 4.  8. 12.]"))
    child.expect_exact(PROMPT)
    child.sendline(":graph")
    child.expect_exact("Mul")
    child.expect_exact("x  input  (3,)")
    child.expect_exact(PROMPT)
    child.sendline(":vars")
    child.expect(r"x\s+input\s+\(3,\)\s+\[1\.0, 2\.0, 3\.0\]\r\n")  # no trailing spaces
    child.expect_exact(PROMPT)
    child.sendline(":help")
    child.expect_exact(":grad NAME")
    child.expect_exact(PROMPT)
    child.sendline(":reset")
    child.expect_exact("forgotten")
    child.expect_exact(PROMPT)
    child.sendline("x")
    child.expect_exact("unknown name")
    child.expect_exact(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_help_name_says_what_gradcli_functions_says(state, cli):
    """:help NAME and `gradcli functions NAME` are one description: an alias finds its
    function, a constant is described, a misspelling gets the same suggestion."""
    child = spawn(state, "repl")
    for name in ("ln", "pi"):
        child.sendline(f":help {name}")
        for line in cli("functions", name).stdout.splitlines():
            child.expect_exact(line)
        child.expect_exact(PROMPT)
    child.sendline(":help sofmax")
    child.expect_exact("no built-in function or constant named 'sofmax' (did you mean "
                       '"softmax"')
    child.expect_exact(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_errors_do_not_end_the_session(state):
    child = spawn(state, "repl")
    child.sendline("1 +* 2")
    child.expect_exact("line 1, column")
    child.expect_exact("^")
    child.expect_exact(PROMPT)
    child.sendline(":bogus")
    child.expect_exact("unknown command")
    child.expect_exact(PROMPT)
    child.sendline("2 * 21")
    child.expect_exact("= 42.0")
    child.expect_exact(PROMPT)
    child.sendline(":quit")
    child.expect(pexpect.EOF)


def test_multi_line_while_brackets_are_open(state):
    child = spawn(state, "repl")
    child.sendline("sum([1,")
    child.expect_exact("... ")
    child.sendline("2,")
    child.expect_exact("... ")
    child.sendline("3])")
    child.expect_exact("= 6.0")
    child.expect_exact(PROMPT)
    child.sendline(":q")
    child.expect(pexpect.EOF)


def test_ctrl_c_abandons_the_line_not_the_session(state):
    child = spawn(state, "repl")
    child.send("sum([1, 2")
    child.expect_exact("sum([1, 2")  # readline has the text before Ctrl-C arrives
    child.sendintr()
    child.expect_exact("KeyboardInterrupt")
    child.expect_exact(PROMPT)
    child.sendline("(")
    child.expect_exact("... ")
    child.sendintr()
    child.expect_exact("KeyboardInterrupt")
    child.expect_exact(PROMPT)
    child.sendline("3 * 3")
    child.expect_exact("= 9.0")
    child.expect_exact(PROMPT)
    child.sendline(":quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_tab_completion(state):
    child = spawn(state, "repl")
    send(child, "weights = [1, 2]")
    child.send("softm\t")
    child.expect_exact("softmax(")
    child.send("weig\t")
    child.expect_exact("weights")
    child.sendline(")")
    child.expect_exact("(2,) = ")
    child.expect_exact(PROMPT)
    child.send(":gra\t\t")
    child.expect_exact(":grad")
    child.sendcontrol("u")
    child.sendcontrol("u")
    child.send(":help sigm\t")  # :help completes the built-ins, without a "("
    child.expect_exact(":help sigmoid")
    child.sendline("")
    child.expect_exact("sigmoid(x)")
    child.expect_exact(PROMPT)
    child.send(":graph w\t")
    child.expect_exact(":graph weights")
    child.sendcontrol("u")
    child.send(":qu\t")
    child.expect_exact(":quit")
    child.sendline("")
    child.expect(pexpect.EOF)


def test_completion_offers_what_each_command_takes():
    from gradcli.cli.commands import all_builtin_names, constant_names
    from gradcli.cli.repl import Completer
    from gradcli.lang.session import Session

    session = Session()
    session.run("pick = 2\nsum([1, 2])", interactive=True)
    completer = Completer(session, all_builtin_names(), constant_names())
    assert "sigmoid" in completer.candidates("sig", ":help sig")
    assert "sigmoid(" not in completer.candidates("sig", ":help sig")
    assert completer.candidates("", ":graph ") == ["_", "pick"]  # names, not pi or true
    assert completer.candidates("p", ":grad p") == ["pick"]
    assert completer.candidates("", ":vars ") == []
    assert {"pi", "pick", "prod("} <= set(completer.candidates("p", "1 + p"))


def test_history_across_two_sessions(state, tmp_path):
    child = spawn(state, "repl")
    send(child, "magic = 12345")
    child.sendline(":quit")
    child.expect(pexpect.EOF)
    history = tmp_path / "state" / "gradcli" / "history"
    assert "magic = 12345" in history.read_text()

    child = spawn(state, "repl")
    child.send("\x1b[A")  # up: ":quit", the last line of the last session
    child.expect_exact(":quit")
    child.send("\x1b[A")  # up again: the line before it
    child.expect_exact("magic = 12345")
    child.sendline("")
    child.expect_exact(PROMPT)
    child.sendline("magic + 1")
    child.expect_exact("= 12346.0")
    child.expect_exact(PROMPT)
    child.sendline(":quit")
    child.expect(pexpect.EOF)


def test_unwritable_history_is_said_once(state, tmp_path):
    blocker = tmp_path / "state"
    blocker.write_text("a file where the directory should be")
    child = spawn(state, "repl")
    child.sendline("1")
    child.expect_exact("history is not saved")
    child.expect_exact(PROMPT)
    child.sendline("2")
    child.expect_exact("= 2.0")
    index = child.expect_exact([PROMPT, "history is not saved"])
    assert index == 0
    child.sendline(":quit")
    child.expect(pexpect.EOF)


def test_a_fifo_as_the_history_file_is_never_opened(tmp_path):
    # opening it would wait for a writer forever, at start and again at exit: run in a
    # child with a memory cap and a time bound, with the readline module itself
    history = tmp_path / "history"
    os.mkfifo(history)
    code = ("import readline, sys; from pathlib import Path; "
            "from gradcli.cli.repl import History; said = []; "
            "h = History(readline, Path(sys.argv[1]), said.append); h.save(); "
            "print(said, h.enabled)")
    done = subprocess.run(["prlimit", f"--as={1536 * 2**20}", sys.executable, "-c", code,
                           str(history)], capture_output=True, text=True, timeout=60,
                          env=subprocess_env())
    assert done.returncode == 0, done.stderr
    assert "is a FIFO, not a regular file" in done.stdout and "False" in done.stdout


def test_piped_input_ending_inside_a_bracket_is_reported(cli):
    result = cli("repl", input="x = 1\n(x +\n")
    assert result.exit_code == 0
    assert '"(" is never closed (expected ")")' in result.stderr


def test_grad_names_a_wrt_that_is_no_name(cli):
    result = cli("repl", input="y = 5\n:grad y q\n")
    assert 'no gradient for "q": there is no such name' in result.stderr
    assert "y = 5.0" in result.stdout


def test_repl_refuses_a_negative_seed(cli):
    result = cli("repl", "--seed", "-1", input="")
    assert result.exit_code == 2 and "--seed" in result.stderr


def test_why_a_vector_has_no_gradients_is_said_once_a_session(state):
    child = spawn(state, "repl")
    send(child, "x = [1, 2]")
    child.sendline("x * 2")
    child.expect_exact("gradients: none (gradients need a scalar output")
    child.expect_exact(PROMPT)
    child.sendline("x * 3")
    child.expect_exact("(2,) = [3. 6.]")
    child.expect_exact(PROMPT)
    assert "gradients: none" not in child.before
    child.sendline(":quit")
    child.expect(pexpect.EOF)


def test_output_follows_the_terminal_width_when_it_is_resized(state):
    env = {k: v for k, v in state.items()}
    child = spawn(env, "repl")
    send(child, "w = ones(2, 2)")
    send(child, "y = mean(3*(w+2)^2)")
    child.sendline(":graph y")
    child.expect_exact("[[27.0, 27.0], [27.0, 27.0]]")  # 200 columns: the whole value
    child.expect_exact(PROMPT)
    child.setwinsize(40, 40)
    child.sendline(":graph y")
    child.expect_exact("y = Mean")
    child.expect_exact(PROMPT)
    lines = [line for line in ("y = Mean" + child.before).replace("\r", "").split("\n")
             if line]
    assert lines and all(len(line) <= 40 for line in lines), lines
    assert any(line.endswith("...") for line in lines)
    child.sendline(":quit")
    child.expect(pexpect.EOF)


def test_the_readmes_repl_session_is_real(state):
    """The README's `$ gradcli repl` transcript, typed line by line: each answer is the
    one pasted (what the README shows a new user first)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    transcript = readme.split("$ gradcli repl\n", 1)[1].split("```", 1)[0].splitlines()
    banner, *rest = transcript
    child = spawn(dict(state, TERM="dumb"), "repl")
    assert child.before.strip() == banner
    expected: list[str] = []
    typed = None
    for line in [*rest, ">>> "]:
        if line.startswith((">>> ", "... ")):
            if typed is not None:
                child.sendline(typed)
                child.expect([r"\r\n>>> ", r"\r\n\.\.\. ", pexpect.EOF])
                shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before).replace("\r", "")
                got = "\n".join(t.rstrip() for t in shown.split("\n")[1:])  # (after the echo)
                assert got.rstrip("\n") == "\n".join(t.rstrip() for t in expected), typed
            typed, expected = line[4:], []
        else:
            expected.append(line)
    child.close()


def test_an_assignment_is_warned_of_though_it_reports_nothing(state):
    child = spawn(dict(state, TERM="dumb"), "repl")
    child.sendline("x = log(0)")
    child.expect_exact("warning: log: divide by zero at 1 element")
    child.expect_exact(PROMPT)
    child.sendline(":quit")
    child.expect(pexpect.EOF)


def test_help_of_a_colon_command_is_its_line(state):
    child = spawn(dict(state, TERM="dumb"), "repl")
    child.sendline(":help :grad")
    child.expect_exact(":grad NAME [WRT..] NAME's value and its gradients")
    child.expect_exact(PROMPT)
    child.sendline(":help :q")
    child.expect_exact(":quit              leave")
    child.expect_exact(PROMPT)
    child.sendline(":quit")
    child.expect(pexpect.EOF)


def test_lines_piped_into_the_repl_get_answers_without_prompts(cli):
    result = cli("repl", input="1+1\nx = [1,\n2]\nsum(x)\n")
    assert result.exit_code == 0
    assert result.stdout == "= 2.0\n= 3.0\nx.grad (2,) = [1. 1.]\n"


@pytest.mark.parametrize(("typed", "usage"), [
    (":graph x y", "usage: :graph [NAME]"), (":vars x", "usage: :vars"),
    (":reset now", "usage: :reset"), (":help sin cos", "usage: :help [NAME]"),
])
def test_a_command_given_more_than_it_takes_says_its_usage(cli, typed, usage):
    result = cli("repl", input=f"x = 1\ny = 2\n{typed}\n:vars\n")
    assert usage in result.stderr + result.stdout
    assert "x" in result.stdout  # nothing was reset, the session goes on


def test_the_commands_help_is_one_aligned_table():
    # :diff's line had one space too many, so its words stood a column right of the rest
    from gradcli.cli.repl import COMMANDS

    for line in COMMANDS.values():  # the words begin at column 20, after a space
        assert line[18] == " " and line[19] != " ", line
