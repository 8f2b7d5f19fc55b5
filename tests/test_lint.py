"""The code base passes ruff (configured in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing() -> None:
    ruff = shutil.which("ruff")
    command = [ruff] if ruff else [sys.executable, "-m", "ruff"]
    done = subprocess.run([*command, "check", "--no-cache", str(ROOT)], capture_output=True,
                          text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_checks_redefinitions_of_private_names() -> None:
    # ruff's default dummy-variable-rgx matches every name starting with "_", and F811
    # skips dummy names: a second `def _fold` shadowed the first unseen
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["ruff"]["lint"]["dummy-variable-rgx"] == "^_+$"


def _defined_twice(body: list) -> list[tuple[str, int]]:
    """Names a module or class body defines twice with ``def``/``class``/plain assignment
    (a property's setter, an ``@overload`` and a ``.register`` are not redefinitions)."""
    import ast

    seen: dict[str, int] = {}
    twice = []
    for node in body:
        names = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            decorators = [ast.unparse(d) for d in getattr(node, "decorator_list", [])]
            if any(d.endswith((".setter", ".deleter", "overload", ".register"))
                   or ".register(" in d for d in decorators):
                continue
            names = [node.name]
        elif isinstance(node, ast.Assign | ast.AnnAssign) and (
            getattr(node, "value", None) is not None
        ):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
        for name in names:
            if name in seen and name != "__all__":
                twice.append((name, node.lineno))
            seen.setdefault(name, node.lineno)
        if isinstance(node, ast.ClassDef):
            twice.extend((f"{node.name}.{n}", line) for n, line in _defined_twice(node.body))
    return twice


def test_no_module_or_class_defines_one_name_twice() -> None:
    import ast

    found = []
    for path in sorted((ROOT / "gradcli").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found.extend(f"{path.relative_to(ROOT)}:{line}: {name}"
                     for name, line in _defined_twice(tree.body))
    assert not found, "defined twice (the second shadows the first):\n" + "\n".join(found)
