"""The console script starts with the cyclic garbage collector paused and every command
resumes it before its program runs (gradcli.cli.startup)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """\
import gc, sys
from gradcli.cli import commands
from gradcli.lang import session
seen = []
make_session, init = commands.make_session, session.Session.__init__
def probe_make_session(*args, **kwargs):
    seen.append(("starting", gc.isenabled()))
    return make_session(*args, **kwargs)
def probe_init(self, *args, **kwargs):
    seen.append(("session", gc.isenabled()))
    init(self, *args, **kwargs)
commands.make_session, session.Session.__init__ = probe_make_session, probe_init
from gradcli.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(sorted(set(seen)), gc.isenabled(), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [
    ["eval", "1+2"], [], ["graph", "x", "-v", "x=2"], ["diff", "x^2", "-v", "x=1"],
    ["check", "sum(x^2)", "-v", "x=[1,2]"], ["plot", "x", "--wrt", "x", "--points", "3"],
    ["eval", "1+"],
])
def test_a_program_runs_with_the_collector(args):
    done = subprocess.run([sys.executable, "-c", PROBE, *args], input="1+2\n",
                          capture_output=True, text=True, timeout=120)
    last = done.stderr.strip().splitlines()[-1]
    states, after = last.rsplit(" ", 1)
    assert after == "True", done.stderr
    assert "('session', True)" in states and "('session', False)" not in states, done.stderr
    if args[:1] in ([], ["eval"], ["graph"]):
        assert "('starting', False)" in states, done.stderr  # paused until then


def test_the_collector_is_left_as_the_caller_had_it():
    import gc

    from gradcli.cli import startup

    gc.disable()
    try:
        startup.pause()
        startup.resume()
        assert not gc.isenabled()  # a caller's choice stays
    finally:
        gc.enable()
    startup.pause()
    assert not gc.isenabled()
    try:
        startup.resume()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # what start-up made is left out of collections
    finally:
        gc.unfreeze()


NUMPY_PROBE = """\
import gc, sys
seen = {}
class Probe:
    def find_spec(self, name, path=None, target=None):
        if name in ("numpy", "lark", "gradcli.lang.session"):
            seen.setdefault(name, gc.isenabled())
        return None
sys.meta_path.insert(0, Probe())
from gradcli.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(sorted(seen.items()), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["eval", "1+2"], ["diff", "x^2", "-v", "x=1"], []])
def test_numpy_is_imported_with_the_collector_and_the_rest_paused(args):
    # NumPy's import paused costs more than it saves (gradcli.cli.startup.load_numpy)
    done = subprocess.run([sys.executable, "-c", NUMPY_PROBE, *args], input="1+2\n",
                          capture_output=True, text=True, timeout=120)
    assert done.stderr.strip().splitlines()[-1] == (
        "[('gradcli.lang.session', False), ('lark', False), ('numpy', True)]"), done.stderr


def test_load_numpy_leaves_a_running_collector_alone():
    import gc

    from gradcli.cli import startup

    assert gc.isenabled()
    startup.load_numpy()  # not paused: nothing to do (NumPy is loaded here anyway)
    assert gc.isenabled()
