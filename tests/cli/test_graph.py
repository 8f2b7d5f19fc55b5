"""`gradcli graph`: tree, DOT (rendered by the real Graphviz), Mermaid, JSON, files."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from cli_support import strict_json

PROGRAM = "y = x + 2; z = 3 * y^2; out = mean(z)"
VAR = ("-v", "x=ones(2,2)")


def test_tree_is_the_default(cli):
    result = cli("graph", PROGRAM, *VAR)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("out = Mean  ()  27.0")
    assert any("y = Add" in line for line in lines)
    assert any("x  input  (2, 2)" in line for line in lines)
    assert any("constant" in line for line in lines)


def test_tree_depth(cli):
    result = cli("graph", "exp(exp(exp(exp(exp(x)))))", "-v", "x=0", "--depth", "2")
    assert result.exit_code == 0
    assert "graph cut" in result.stdout


def test_dot(cli):
    result = cli("graph", PROGRAM, *VAR, "--format", "dot")
    assert result.exit_code == 0
    dot = result.stdout
    assert dot.startswith("digraph gradcli {") and dot.rstrip().endswith("}")
    assert 'label="out = Mean' in dot and "#ffd59e" in dot and "#cfe8ff" in dot


def test_mermaid(cli):
    result = cli("graph", PROGRAM, *VAR, "--format", "mermaid")
    assert result.exit_code == 0
    assert result.stdout.startswith("flowchart TD")
    assert "classDef input" in result.stdout and "-->" in result.stdout


def test_json(cli):
    result = cli("graph", PROGRAM, *VAR, "--format", "json")
    graph = strict_json(result.stdout)
    ids = [node["id"] for node in graph["nodes"]]
    assert graph["output"] in ids
    for node in graph["nodes"]:  # inputs come before the nodes that use them
        assert all(ids.index(i) < ids.index(node["id"]) for i in node["inputs"])


@pytest.mark.parametrize(
    "suffix, start", [(".dot", "digraph"), (".mmd", "flowchart"), (".json", "{"), (".txt", "out")]
)
def test_output_file_format_from_suffix(cli, tmp_path, suffix, start):
    target = tmp_path / f"g{suffix}"
    result = cli("graph", PROGRAM, *VAR, "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert target.read_text().startswith(start)
    assert result.stdout == ""


def test_unknown_suffix_is_a_usage_error(cli, tmp_path):
    assert cli("graph", PROGRAM, *VAR, "-o", str(tmp_path / "g.xyz")).exit_code == 2


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_dot_output_is_valid_graphviz(cli, tmp_path):
    dot = cli("graph", PROGRAM, *VAR, "--format", "dot").stdout
    checked = subprocess.run(
        ["dot", "-Tsvg"], input=dot, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr
    assert "<svg" in checked.stdout and "Mean" in checked.stdout


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<"), (".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_graphviz_files(cli, tmp_path, suffix, magic):
    target = tmp_path / f"g{suffix}"
    result = cli("graph", PROGRAM, *VAR, "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert magic in target.read_bytes()[:200]


def test_missing_graphviz_says_how_to_get_it(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = cli("graph", PROGRAM, *VAR, "-o", str(tmp_path / "g.svg"))
    assert result.exit_code == 2
    assert "graphviz" in result.stderr and "apt-get install graphviz" in result.stderr


def test_failing_program(cli):
    result = cli("graph", "1 + nope")
    assert result.exit_code == 1
    assert "unknown name" in result.stderr


def test_graph_reads_a_file(cli, tmp_path):
    program = tmp_path / "p.grad"
    program.write_text(PROGRAM.replace("; ", "\n") + "\n")
    result = cli("graph", "-f", str(program), *VAR, "--format", "json")
    assert result.exit_code == 0
    assert strict_json(result.stdout)["nodes"]
