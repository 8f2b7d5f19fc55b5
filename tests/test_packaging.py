"""The wheel carries the grammar: build it, install it into a fresh venv, run it elsewhere.

The fresh venv sees neither the base interpreter's packages nor the test environment's:
no --system-site-packages (which shows the *base* interpreter's site-packages, so a test
built on it passes only where lark happens to be installed system-wide). Instead it sees
exactly the wheel's declared dependencies, and theirs, as they are installed in the
environment running the tests: a directory of links to those distributions, named by a
.pth file. So nothing is downloaded, a dependency missing from the wheel's metadata makes
the installed gradcli fail, and what the base interpreter has does not matter. Every step
has a generous timeout.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


def wheel_requirements(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(name).decode())
    return [Requirement(line) for line in metadata.get_all("Requires-Dist") or []]


def dependency_closure(requirements: list[Requirement]) -> list[importlib.metadata.Distribution]:
    """The installed distributions these requirements need, and the ones those need."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = [(requirement, "") for requirement in requirements]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        key = canonicalize_name(requirement.name)
        if key in found:
            continue
        try:
            dist = importlib.metadata.distribution(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            raise AssertionError(
                f"{requirement} is not installed in the test environment"
            ) from None
        assert requirement.specifier.contains(dist.version, prereleases=True), (
            f"{requirement} but {dist.version} is installed"
        )
        found[key] = dist
        for line in dist.requires or []:
            for wanted in [""] + sorted(requirement.extras):
                pending.append((Requirement(line), wanted))
    return list(found.values())


def link_distributions(dists: list[importlib.metadata.Distribution], into: Path) -> list[str]:
    """Link each distribution's top-level files into one directory; list any place that
    must be put on the path whole instead (a distribution without a RECORD)."""
    into.mkdir()
    whole: list[str] = []
    for dist in dists:
        if dist.files is None:
            whole.append(str(dist.locate_file("")))
            continue
        tops = {file.parts[0] for file in dist.files if file.parts and file.parts[0] != ".."}
        for top in sorted(tops):
            source = Path(dist.locate_file(top))
            link = into / top
            if link.exists() or not source.exists():
                continue
            link.symlink_to(source, target_is_directory=source.is_dir())
    return whole


def test_wheel_installs_and_runs_from_another_directory(tmp_path):
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(wheels)]
    if importlib.util.find_spec("hatchling") is not None:
        build.append("--no-build-isolation")  # no download when the backend is at hand
    run(build)
    [wheel] = wheels.glob("gradcli-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "gradcli/_grammar/gradcli.lark" in names
    assert not any(name.startswith(("tests/", "samples/")) for name in names)
    requirements = wheel_requirements(wheel)
    assert {canonicalize_name(r.name) for r in requirements} >= {"numpy", "lark", "click", "rich"}

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=False, with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site_dir = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    deps = tmp_path / "deps"
    whole = link_distributions(dependency_closure(requirements), deps)
    (site_dir / "gradcli-test-deps.pth").write_text("\n".join([str(deps), *whole]) + "\n")

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["PIP_NO_INDEX"] = "1"
    run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], env=env)
    run([str(python), "-m", "pip", "check"], env=env)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = (
        "import importlib.util, sys, gradcli; print(gradcli.__file__); "
        "print(importlib.util.find_spec('pytest') is not None)"
    )
    where, sees_pytest = run([str(python), "-c", probe], cwd=elsewhere, env=env).stdout.split()
    assert where.startswith(str(env_dir)), where
    assert sees_pytest == "False", "the fresh venv sees the test environment's packages"
    # neither the test environment's site-packages nor the base interpreter's is seen
    child_path = json.loads(
        run(
            [str(python), "-c", "import json, sys; print(json.dumps(sys.path))"],
            cwd=elsewhere,
            env=env,
        ).stdout
    )
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
    for seen in (sysconfig.get_paths(), sysconfig.get_paths(vars=base)):
        assert seen["purelib"] not in child_path, (seen["purelib"], child_path)

    gradcli = env_dir / "bin" / "gradcli"
    done = run(
        [str(gradcli), "eval", "mean(3*(x+2)^2)", "-v", "x=ones(2,2)", "--json"],
        cwd=elsewhere,
        env=env,
    )
    record = json.loads(done.stdout)
    assert record["value"] == 27.0
    assert record["gradients"] == {"x": [[4.5, 4.5], [4.5, 4.5]]}
    module = run([str(python), "-m", "gradcli", "eval", "2^10"], cwd=elsewhere, env=env)
    assert "= 1024.0" in module.stdout
