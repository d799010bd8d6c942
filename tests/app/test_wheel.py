"""The wheel works: built from the source, installed into a fresh virtual environment outside the
source tree, `dengji --smoke-test` passes there with the forms, code tables and font it carries."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ("forms", "resources")  # top-level folders the wheel carries as desktop/_shipped/<folder>
# what the wheel is not built from: the virtual environment, git, earlier builds, tests, caches
NOT_BUILT_FROM = {".git", ".venv", "build", "dist", "dengji.egg-info", "tests", "bench",
                  ".pytest_cache", ".ruff_cache", ".hypothesis"}


def _not_source(folder: str, names: list[str]) -> set[str]:
    """copytree's ignore: NOT_BUILT_FROM at the top of the checkout, __pycache__ anywhere."""
    top = NOT_BUILT_FROM if Path(folder) == ROOT else set()
    return {n for n in names if n in top or n == "__pycache__"}


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kwargs)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _build_wheel(tmp_path: Path) -> Path:
    """`pip wheel` without build isolation or index (nothing is downloaded), on a copy of the
    source so that setuptools' build/ and egg-info stay out of the checkout."""
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=_not_source)
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "--no-index", "--wheel-dir", str(tmp_path / "wheels"), str(source)])
    (wheel,) = (tmp_path / "wheels").glob("dengji-*.whl")
    return wheel


def _shipped_files() -> set[str]:
    return {f"desktop/_shipped/{path.relative_to(ROOT).as_posix()}"
            for folder in DATA for path in (ROOT / folder).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts}


def _venv_with(wheel: Path, venv: Path) -> Path:
    """A new venv holding the wheel alone; the project's dependencies are seen through a .pth
    file listing this interpreter's site-packages (a listed folder's own .pth files, the
    editable install's finder among them, are not run)."""
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
          "--no-deps", "--no-index", str(wheel)])
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
                   .stdout.strip())
    deps = [d for d in site.getsitepackages() if Path(d).resolve() != ROOT]
    (purelib / "dengji-test-deps.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    return python


@pytest.mark.slow
def test_installed_wheel_carries_its_data_and_passes_the_smoke_test(tmp_path):
    import setuptools

    assert int(setuptools.__version__.split(".")[0]) >= 77, \
        "the test extra installs setuptools>=77, the build requirement (make test does it)"
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = _shipped_files() - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    assert {"desktop/_shipped/forms/lawyer_member.toml", "desktop/_shipped/forms/codes/sex.toml",
            "desktop/_shipped/resources/fonts/wqy-microhei.ttc"} <= names
    assert not any(name.startswith(("forms/", "resources/", "tests/")) for name in names)

    venv = tmp_path / "venv"
    python = _venv_with(wheel, venv)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "PYTHONHOME", "DENGJI_FORMS_DIR", "DENGJI_PASSPHRASE"}}
    env.update(QT_QPA_PLATFORM="offscreen", DENGJI_HOME=str(tmp_path / "home"))

    where = _run([str(python), "-c", "import desktop, desktop.paths as p; "
                  "print(desktop.__file__); print(p.forms_dir()); print(p.resources_dir())"],
                 cwd=elsewhere, env=env).stdout.split("\n")[:3]
    for place in where:  # the installed package and its own data, not the source checkout
        assert Path(place).resolve().is_relative_to(venv.resolve()), where

    dengji = python.with_name("dengji.exe" if os.name == "nt" else "dengji")
    proc = _run([str(dengji), "--smoke-test"], cwd=elsewhere, env=env)
    assert "自检通过" in proc.stdout
    assert "附件1 律师党员基本信息登记表" in proc.stdout
