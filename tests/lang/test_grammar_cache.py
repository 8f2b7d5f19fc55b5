"""A cached grammar file with the right key but tables that do not load is rebuilt when
the parser is made (the cache is read once per start, and loaded once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gradcli.lang import grammar


def test_tables_with_the_right_key_that_do_not_load_are_rebuilt(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(grammar, "_TABLES", None)
    key = grammar.tables()["key"]
    (path,) = (tmp_path / "gradcli").glob("grammar-*.json")
    path.write_text(json.dumps(grammar._encode({"key": key, "data": {"junk": 1}, "memo": {}})))
    monkeypatch.setattr(grammar, "_TABLES", None)
    # not what gradcli wrote (its hash is sealed in the runtime file): rebuilt when read
    assert grammar.tables()["data"] != {"junk": 1}
    lark = grammar.build_lark()
    assert lark.parse("1 + 2", start="statement").data == "binary"
    assert "junk" not in path.read_text()  # rewritten
    monkeypatch.setattr(grammar, "_TABLES", None)


def test_no_home_directory_means_a_cache_that_cannot_exist(monkeypatch) -> None:
    import os

    from gradcli.lang import grammar

    real_expanduser = os.path.expanduser
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    # what os.path.expanduser gives where no home directory can be found
    monkeypatch.setattr(os.path, "expanduser",
                        lambda p: p if p == "~" else real_expanduser(p))
    # under the null device not even root can make a directory: tables stay in memory
    assert grammar.cache_dir() == os.path.join(os.devnull, "gradcli")
    assert not os.path.exists(grammar.cache_dir())


def test_the_cache_is_read_as_json_reads_it() -> None:
    # grammar._loads is json's own C scanner, without importing json's Python modules
    text = json.dumps(grammar._encode({"a": (1, 2.5, "\u00e9"), "b": {3: [None, True]},
                                       "{": 1, "c": {"(": 2}}), separators=(",", ":"))
    assert grammar._loads(f" {text}\n") == json.loads(text, object_hook=grammar._decode_object)
    assert grammar._loads(text)["b"] == {3: [None, True]} and grammar._loads(text)["{"] == 1
    for junk in ["", "[", "[1,]", "1 2", '{"a": 1}x', "NaN", "[-Infinity]", "\ufeff[1]"]:
        with pytest.raises(ValueError):
            grammar._loads(junk)


def test_reading_the_cache_does_not_import_json(tmp_path) -> None:
    code = ("import sys\nfrom gradcli.lang import grammar\ngrammar.build_lark()\n"
            "print('json' in sys.modules)")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env=env).stdout.split() for _ in range(2)]
    assert runs == [["True"], ["False"]]  # json writes the cache; reading it needs none


def _scanner_parts(lexer) -> tuple:
    """What a basic lexer's scanner is: its compiled patterns, its terminals, and the
    keywords its callbacks tell apart (each UnlessCallback's own scanner)."""
    scanner = lexer.scanner
    return ([(m.pattern, m.flags) for m in scanner._mres], scanner.allowed_types,
            {name: [(m.pattern, m.flags) for m in callback.scanner._mres]
             for name, callback in lexer.callback.items()})


def test_the_scanner_built_with_the_cached_matches_is_larks_own() -> None:
    import re

    import lark

    cached = grammar.build_lark().parser.lexer
    assert cached._scanner is not None  # built at load, from the table
    fresh = lark.Lark(grammar.grammar_text(), **grammar._OPTIONS).parser.lexer
    assert fresh._scanner is None
    assert _scanner_parts(cached) == _scanner_parts(fresh)  # (Lark's own build, with re)
    assert cached.re is re and "NAME" in cached.callback  # true/false: NAME, told apart
    # every cached answer is re's
    matches = grammar.tables()["matches"]
    assert len(matches) > 50
    for pattern, string, flags, found in matches:
        m = re.match(pattern, string, flags)
        assert found == (m.group(0) if m else None)


def test_known_matches_asks_re_what_the_table_does_not_hold() -> None:
    table = {("a+", "aa", 0): None}  # (a wrong answer, to see that the table answers)
    known = grammar.KnownMatches(table)
    assert known.match("a+", "aa") is None
    found = known.match("b+", "bbc")
    assert found.group(0) == "bb" and table[("b+", "bbc", 0)] == "bb"
    assert known.match("c", "x") is None and table[("c", "x", 0)] is None
    assert known.compile("x+").match("xx").group(0) == "xx"  # the rest is re's


def test_matches_that_are_not_a_table_leave_the_scanner_to_lark() -> None:
    import lark

    t = grammar.tables()
    for junk in [None, {"a": 1}, [["a", "b", 0]], [["a", "b", "0", None]], [[1, "b", 0, None]]]:
        built = lark.Lark._load_from_dict(t["data"], t["memo"])
        grammar.build_scanner(built, junk)
        assert built.parser.lexer._scanner is None
        assert built.parse("1 + 2", start="statement").data == "binary"


def test_the_cache_key_uses_a_loaded_hashlib_and_loads_no_sha256_module_of_its_own() -> None:
    import hashlib

    code = ("import sys, {first}\nfrom gradcli.lang import grammar\n"
            "print(grammar.cache_key('x'), '_sha256' in sys.modules or '_sha2' in sys.modules)")
    keys = {}
    for first in ("hashlib", "os"):
        out = subprocess.run([sys.executable, "-c", code.format(first=first)],
                             capture_output=True, text=True, check=True).stdout.split()
        keys[first] = out
    assert keys["hashlib"][1] == "False" and keys["os"][1] == "True"
    assert keys["hashlib"][0] == keys["os"][0] == grammar.cache_key("x")  # one SHA-256
    assert len(keys["os"][0]) == len(hashlib.sha256().hexdigest())
