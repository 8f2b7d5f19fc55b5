"""The wheel carries the grammar: build it, install it into a fresh venv, run it elsewhere.

Uses --system-site-packages so NumPy, Lark, click and rich are not downloaded again, but
installs the wheel itself with --no-deps --force-reinstall and checks that gradcli is
imported from the venv, not from the checkout. Every step has a generous timeout.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


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

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--force-reinstall",
            "--no-index",
            str(wheel),
        ]
    )

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    where = run(
        [str(python), "-c", "import gradcli; print(gradcli.__file__)"], cwd=elsewhere, env=env
    ).stdout.strip()
    assert where.startswith(str(env_dir)), where

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
