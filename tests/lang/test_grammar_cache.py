"""A cached grammar file with the right key but tables that do not load is rebuilt when
the parser is made (the cache is read once per start, and loaded once)."""

from __future__ import annotations

import json

from gradcli.lang import grammar


def test_tables_with_the_right_key_that_do_not_load_are_rebuilt(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(grammar, "_TABLES", None)
    key = grammar.tables()["key"]
    (path,) = (tmp_path / "gradcli").glob("grammar-*.json")
    path.write_text(json.dumps(grammar._encode({"key": key, "data": {"junk": 1}, "memo": {}})))
    monkeypatch.setattr(grammar, "_TABLES", None)
    assert grammar.tables()["data"] == {"junk": 1}  # read as it is: loading is the check
    lark = grammar.build_lark()
    assert lark.parse("1 + 2", start="statement").data == "binary"
    assert "junk" not in path.read_text()  # rewritten
    monkeypatch.setattr(grammar, "_TABLES", None)
