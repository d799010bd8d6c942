"""pyproject.toml lists every package the wheel must carry: the code under desktop/ and, as the
data package desktop._shipped, every folder of forms/ and resources/ (see desktop/paths.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ("forms", "resources")
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def _folders(top: Path) -> list[Path]:
    return [top, *(p for p in top.rglob("*") if p.is_dir() and "__pycache__" not in p.parts)]


def _dotted(path: Path, prefix: str = "") -> str:
    return prefix + ".".join(path.relative_to(ROOT).parts)


def test_every_code_package_and_data_folder_is_listed():
    code = {_dotted(d) for d in _folders(ROOT / "desktop") if any(d.glob("*.py"))}
    data = {_dotted(d, "desktop._shipped.") for top in DATA for d in _folders(ROOT / top)}
    listed = set(SETUPTOOLS["packages"])
    assert code - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert data - listed == set(), "add these folders (and their package-data) to pyproject.toml"
    assert listed - code - data == set(), "pyproject.toml lists packages that no longer exist"


def test_data_folders_map_to_the_shipped_package_with_all_their_files():
    assert SETUPTOOLS["package-dir"] == {f"desktop._shipped.{top}": top for top in DATA}
    data = {p for p in SETUPTOOLS["packages"] if p.startswith("desktop._shipped.")}
    assert SETUPTOOLS["package-data"] == dict.fromkeys(data, ["*"])
