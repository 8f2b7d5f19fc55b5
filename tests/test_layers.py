"""The one-way rule of DESIGN.md: cli -> render -> (lang.results, lang.errors); lang -> autograd;
autograd -> nothing of gradcli's outside itself.

Imports are read with ``ast`` from every file (also imports inside functions, which run
later; not those under ``if TYPE_CHECKING:``, which never run), followed transitively,
and then checked once more by importing each layer in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gradcli"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _lazy_public_names() -> dict[str, str]:
    """gradcli/__init__.py's table of lazily imported names -> their modules."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "_PUBLIC" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    return {}


LAZY = _lazy_public_names()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST):
    """Every node except the bodies of ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


@cache
def direct_imports(name: str) -> frozenset[str]:
    """The gradcli modules ``name`` imports (with the packages their import runs)."""
    path = MODULES[name]
    return imports_in(path.read_text(), name, is_package=path.name == "__init__.py")


def imports_in(source: str, name: str, is_package: bool = False) -> frozenset[str]:
    """The gradcli modules that the source of module ``name`` imports when it runs."""
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [source]
            for alias in node.names:
                if f"{source}.{alias.name}" in MODULES:  # from package import module
                    targets.append(f"{source}.{alias.name}")
                elif source == "gradcli" and alias.name in LAZY:  # from gradcli import X
                    targets.append(LAZY[alias.name])
        else:
            continue
        for target in targets:
            if target == "gradcli" or target.startswith("gradcli."):
                parts = target.split(".")
                # Importing a.b.c runs a/__init__, a/b/__init__ and a/b/c.
                found.update(".".join(parts[:k]) for k in range(2, len(parts) + 1))
    found.discard(name)
    return frozenset(m for m in found if m in MODULES)


def reachable(name: str) -> set[str]:
    seen = {name}
    stack = [name]
    while stack:
        for other in direct_imports(stack.pop()):
            if other not in seen:
                seen.add(other)
                stack.append(other)
    seen.discard(name)
    return seen


def in_layer(module: str, layer: str) -> bool:
    return module == layer or module.startswith(layer + ".")


def layer_modules(layer: str) -> list[str]:
    return [m for m in MODULES if in_layer(m, layer)]


def test_the_package_is_found():
    assert "gradcli.autograd.variable" in MODULES
    assert "gradcli.autograd.ops.elementwise" in MODULES
    assert direct_imports("gradcli.autograd.variable") >= {"gradcli.autograd.backward"}
    assert LAZY["evaluate"] == "gradcli.lang.session"


@pytest.mark.parametrize("module", layer_modules("gradcli.autograd"))
def test_autograd_imports_nothing_outside_itself(module):
    outside = {m for m in direct_imports(module) if not in_layer(m, "gradcli.autograd")}
    assert not outside, f"{module} imports {sorted(outside)}"
    outside = {m for m in reachable(module) if not in_layer(m, "gradcli.autograd")}
    assert not outside, f"{module} reaches {sorted(outside)}"


# (records: the record classes results are made of; it imports nothing of gradcli)
RENDER_MAY_USE_OF_LANG = {"gradcli.lang", "gradcli.lang.results", "gradcli.lang.errors",
                          "gradcli.lang.records"}


def _render_breaks(modules: set[str]) -> set[str]:
    return {
        m for m in modules
        if in_layer(m, "gradcli.cli")
        or (in_layer(m, "gradcli.lang") and m not in RENDER_MAY_USE_OF_LANG)
        or m == "gradcli.__main__"
    }


@pytest.mark.parametrize("module", layer_modules("gradcli.render"))
def test_render_reads_results_only(module):
    bad = _render_breaks(set(direct_imports(module)))
    assert not bad, f"{module} imports {sorted(bad)}"
    bad = _render_breaks(reachable(module))
    assert not bad, f"{module} reaches {sorted(bad)}"


@pytest.mark.parametrize("module", layer_modules("gradcli.lang"))
def test_lang_imports_neither_cli_nor_render(module):
    def breaks(modules):
        return {m for m in modules
                if in_layer(m, "gradcli.cli") or in_layer(m, "gradcli.render")}

    assert not breaks(direct_imports(module)), f"{module} imports {breaks(direct_imports(module))}"
    assert not breaks(reachable(module)), f"{module} reaches {sorted(breaks(reachable(module)))}"


def test_the_import_reader_sees_what_it_must():
    # The reader itself: relative imports, from-package imports, lazy gradcli names and
    # imports inside functions count; TYPE_CHECKING blocks do not.
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import errors\n"
        "from .. import cli\n"
        "def later():\n"
        "    from gradcli import evaluate\n"
        "if TYPE_CHECKING:\n"
        "    from gradcli.render import console\n"
    )
    found = imports_in(source, "gradcli.lang.probe")
    assert {"gradcli.lang.errors", "gradcli.cli", "gradcli.lang.session"} <= found
    assert "gradcli.render.console" not in found


def _loaded_after(modules: list[str]) -> set[str]:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print('\\n'.join(m for m in sys.modules if m.startswith('gradcli')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_layers_at_run_time():
    loaded = _loaded_after(layer_modules("gradcli.autograd"))
    assert {m for m in loaded if not in_layer(m, "gradcli.autograd")} <= {"gradcli"}
    loaded = _loaded_after(layer_modules("gradcli.render"))
    assert not _render_breaks(loaded), sorted(_render_breaks(loaded))


def import_cycles() -> list[list[str]]:
    """The groups of gradcli modules that import one another round a loop (lazy imports
    inside functions count: they run sooner or later), found as strongly connected
    components of the import graph (Tarjan's algorithm, with an explicit stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []
    for root in MODULES:
        if root in index:
            continue
        work = [(root, iter(sorted(direct_imports(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for other in edges:
                if other not in index:
                    index[other] = low[other] = len(index)
                    stack.append(other)
                    on_stack.add(other)
                    work.append((other, iter(sorted(direct_imports(other)))))
                    break
                if other in on_stack:
                    low[node] = min(low[node], index[other])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        cycles.append(sorted(group))
    return cycles


def test_no_import_cycles_but_the_engine_s_own():
    # Variable <-> its operations is the engine's own knot, and stays inside autograd/
    cycles = [c for c in import_cycles() if not all(in_layer(m, "gradcli.autograd") for m in c)]
    assert cycles == []


def test_the_cycle_check_finds_a_lazy_import_cycle(monkeypatch):
    lazy = "def later():\n    from gradcli.lang.reader import open_brackets\n"
    assert "gradcli.lang.reader" in imports_in(lazy, "gradcli.lang.grammar")
    fake = {"gradcli.lang.reader": frozenset({"gradcli.lang.grammar"}),
            "gradcli.lang.grammar": frozenset({"gradcli.lang.reader"})}
    monkeypatch.setattr(sys.modules[__name__], "direct_imports",
                        lambda name: fake.get(name, frozenset()))
    assert import_cycles() == [["gradcli.lang.grammar", "gradcli.lang.reader"]]
