"""The parser's tables cached in the user's cache directory (Lark's own serialisation, as
JSON): a cold and a warm start read a program alike; the key holds Lark's version, read
without importing Lark; tables another Lark wrote, or junk, are rebuilt."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from gradcli.lang import grammar

PROGRAM = (
    "x = [[1, 2], [3, 4]]\n"
    "y = sum(x, axis=0, keepdims=true) * 2; z = x[0, 1:] + x[:, ::-1][1]\n"
    "w = maximum(x,\n"
    "    [[0, 5],\n"
    "     [5, 0]])   # a bracket over lines\n"
    "mean(w ^ 2) + (x[1, 0] >= 3) * true - false\n"
    "2x\n"
    "y += (1 < 2 < 3)\n"
    "sum(x, axis=0, axis=1)\n"
    "1 $ 2\n"
    "q = [1, 2,]; q[0:2:1] @ [3, 4]\n"
    "(1 +\n"
    "ones(2, 3)[1,\n"
    "  :2]\n"
    "x +\\\n"
    "  1\n"
)

SCRIPT = textwrap.dedent("""
    import json, sys
    import gradcli
    from gradcli.lang.session import Session

    program = sys.argv[1]
    outcomes = gradcli.evaluate(program, seed=0)
    session = Session(seed=0)
    lines = [f"mean(3*(sin(x)+{i})^2) + {i}*sum(x)\\n" for i in range(20)]
    streamed = list(session.stream(["x = [1, 2, 3]\\n", *lines, *program.splitlines(True)]))

    def shown(o):
        if hasattr(o, "error"):
            e = o.error
            return ["failure", o.line, o.source, type(e).__name__, e.message, repr(e.span)]
        return ["result", o.line, o.source, o.name, repr(o.value.tolist())]

    from gradcli.lang.reader import get_parser
    shapes = len(get_parser().shapes.trees)
    print(json.dumps({"shapes": shapes,
                      "outcomes": [shown(o) for o in outcomes],
                      "streamed": [shown(o) for o in streamed]}))
""")


def _run(cache_home, program: str = PROGRAM) -> dict:
    env = {"XDG_CACHE_HOME": str(cache_home), "PATH": "/usr/bin:/bin", "HOME": str(cache_home)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, program], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_warm_cache_reads_as_a_cold_one(tmp_path) -> None:
    cold = _run(tmp_path)
    assert [p.name.split("-")[0] for p in (tmp_path / "gradcli").glob("*.json")] == ["grammar"]
    warm = _run(tmp_path)
    assert warm["shapes"]  # the cache of trees by line shape ran too
    assert warm["outcomes"] == cold["outcomes"]
    assert warm["streamed"] == cold["streamed"]
    kinds = [o[0] for o in warm["outcomes"]]
    assert "failure" in kinds and "result" in kinds
    messages = " ".join(str(o[4]) for o in warm["outcomes"] if o[0] == "failure")
    for words in ("implicit multiplication", "cannot be chained", "got two values",
                  'unexpected character "$"', "never closed"):
        assert words in messages


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(grammar, "_TABLES", None)
    return tmp_path / "gradcli"


def test_the_tables_are_plain_json_with_the_key_and_lark_version(fresh_cache) -> None:
    import lark

    grammar.tables()
    (path,) = fresh_cache.glob("grammar-*.json")
    content = json.loads(path.read_text())
    assert content["key"] == grammar.cache_key(grammar.grammar_text())
    assert content["lark"] == lark.__version__
    assert not list(fresh_cache.glob("*.tmp"))


def test_lark_version_is_read_without_importing_lark() -> None:
    import lark

    code = ("import sys; from gradcli.lang import grammar; v = grammar.lark_version(); "
            "print(v, 'lark' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == [lark.__version__, "False"]


def test_another_lark_version_gets_its_own_tables(fresh_cache, monkeypatch) -> None:
    text = grammar.grammar_text()
    key = grammar.cache_key(text)
    monkeypatch.setattr(grammar, "lark_version", lambda: "0.0.1-other")
    assert grammar.cache_key(text) != key


def test_build_lark_rebuilds_tables_another_lark_version_wrote(fresh_cache) -> None:
    tables = grammar.tables()
    (path,) = fresh_cache.glob("grammar-*.json")
    content = json.loads(path.read_text())
    del content["seal"]
    content["lark"] = "0.0.1-other"
    path.write_text(json.dumps(content) + "\n")
    grammar._TABLES = None
    assert grammar.tables()["lark"] != "0.0.1-other"  # edited after gradcli wrote it
    path.write_text(grammar._sealed(tables["key"], json.dumps(content, separators=(",", ":"))))
    grammar._TABLES = None
    assert grammar.tables()["lark"] == "0.0.1-other"
    assert grammar.build_lark().parse("1 + 2", start="statement").data == "binary"
    assert grammar.tables()["lark"] != "0.0.1-other"
    assert tables["key"] == grammar.tables()["key"]


@pytest.mark.parametrize("content", ["not json", "", "[]", '{"key": "other"}', None])
def test_a_corrupt_or_foreign_grammar_file_is_rebuilt(fresh_cache, monkeypatch, content) -> None:
    from gradcli.lang.reader import Parser, read_statements

    grammar.tables()
    (path,) = fresh_cache.glob("grammar-*.json")
    if content is None:  # the right key, junk tables
        content = json.dumps(grammar._encode({"key": grammar.cache_key(grammar.grammar_text()),
                                              "data": {"junk": 1}, "memo": {}}))
    path.write_text(content)
    monkeypatch.setattr(grammar, "_TABLES", None)
    (item,) = read_statements(["1 + 2\n"], Parser())
    assert type(item.tree).__name__ == "Binary"
    assert "junk" not in path.read_text()
