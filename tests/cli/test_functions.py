"""`gradcli functions` reads the one table of built-ins; the docs list every one of them."""

from __future__ import annotations

from cli_support import ROOT

from gradcli.lang.builtins import BUILTINS, CONSTANTS


def test_lists_every_builtin(cli):
    result = cli("functions")
    assert result.exit_code == 0
    for name in BUILTINS:
        assert name in result.stdout


def test_lists_and_describes_the_constants(cli):
    listed = cli("functions").stdout
    for name in CONSTANTS:
        assert f"\n{name} " in listed
    result = cli("functions", "pi")
    assert result.exit_code == 0 and result.stdout.startswith("pi\n3.14159")
    result = cli("functions", "pie")
    assert result.exit_code == 2 and "named 'pie' (did you mean \"pi\"?)" in result.stderr


def test_describes_one_by_name_or_alias(cli):
    result = cli("functions", "ln")
    assert result.exit_code == 0
    assert result.stdout.startswith("log(")


def test_unknown_name_suggests(cli):
    result = cli("functions", "softmx")
    assert result.exit_code == 2
    assert "softmax" in result.stderr


def test_markdown(cli):
    result = cli("functions", "--markdown")
    assert result.exit_code == 0
    assert "| `softmax(" in result.stdout


def test_docs_list_every_builtin_and_constant():
    docs = (ROOT / "docs" / "language.md").read_text()
    for name, entry in BUILTINS.items():
        assert f"`{entry.signature}`" in docs, f"docs/language.md does not list {name}"
        for alias in entry.aliases:
            assert f"`{alias}`" in docs
    for name in CONSTANTS:
        assert f"`{name}`" in docs


def test_docs_table_is_current(cli):
    """docs/language.md embeds `gradcli functions --markdown` between two markers."""
    docs = (ROOT / "docs" / "language.md").read_text()
    start = docs.index("<!-- functions:start -->") + len("<!-- functions:start -->")
    end = docs.index("<!-- functions:end -->")
    expected = cli("functions", "--markdown").stdout
    assert docs[start:end].strip() == expected.strip(), "regenerate: python docs/generate.py"


def test_the_list_fits_the_terminal_without_trailing_spaces(cli):
    piped = cli("functions").stdout.splitlines()
    assert all(line == line.rstrip() for line in piped)
    assert max(map(len, piped)) > 100  # a pipe is never wrapped
    for columns in (40, 80, 120):
        env = {"TTY_COMPATIBLE": "1", "NO_COLOR": "1", "COLUMNS": str(columns)}
        lines = cli("functions", env=env).stdout.splitlines()
        assert all(len(line) <= columns and line == line.rstrip() for line in lines), columns
        start = lines[0].index("what it gives")
        text = " ".join(" ".join(line[start:] for line in lines).split())
        # every doc is there, wrapped between its words
        for name, entry in BUILTINS.items():
            assert " ".join(entry.doc.split()) in text, (columns, name)
    narrow = cli("functions", env={"TTY_COMPATIBLE": "1", "COLUMNS": "40"}).stdout
    assert "aliases" not in narrow  # the first column a narrow terminal does without
    assert "aliases" in cli("functions", env={"TTY_COMPATIBLE": "1", "COLUMNS": "120"}).stdout
