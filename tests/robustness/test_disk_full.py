"""A full disk during an import, a backup and an export: a clear Chinese message, the register
unchanged. The small disk is a 2 MiB tmpfs (needs root: `mount -t tmpfs`); the test is skipped,
saying why, where mounting is not permitted."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.robustness.conftest import ROOT, check_register, run_dengji

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="tmpfs is Linux")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "small-disk"
    folder.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        pytest.skip(f"cannot mount a small tmpfs here ({err}); run as root to test a full disk")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()}); run as root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5,000 lawyer members: about 8 MiB once stored, four times the small disk."""
    sys.path.insert(0, str(ROOT))
    from bench.datagen import lawyer_records, write_jsonl

    return write_jsonl(tmp_path_factory.mktemp("full") / "附件1.jsonl", lawyer_records(5000))


def _init(tmp_path: Path, db: Path) -> None:
    r = run_dengji(tmp_path, "init", "--db", db, "--level", "city", "--unit-name",
                   "某市律师行业党委", "--unit-code", "320100")
    assert r.returncode == 0, r.stderr


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_import_onto_a_full_disk(small_disk: Path, members: Path, tmp_path: Path) -> None:
    db = small_disk / "登记库.dengji"
    _init(tmp_path, db)
    before = _digest(db)
    r = run_dengji(tmp_path, "import", "--db", db, "--form", "lawyer_member", members)
    assert r.returncode == 1, r.stderr
    assert "磁盘空间已满" in r.stderr and "撤销" in r.stderr
    assert "Traceback" not in r.stderr
    assert _digest(db) == before  # the main file was never written
    assert check_register(db) == 0


def _filled_register(tmp_path: Path, members: Path) -> Path:
    db = tmp_path / "登记库.dengji"
    _init(tmp_path, db)
    r = run_dengji(tmp_path, "import", "--db", db, "--form", "lawyer_member", members)
    assert r.returncode == 0, r.stderr
    return db


def test_backup_onto_a_full_disk(small_disk: Path, members: Path, tmp_path: Path) -> None:
    db = _filled_register(tmp_path, members)
    before = _digest(db)
    r = run_dengji(tmp_path, "backup", "--db", db, "--out", small_disk / "备份.dengji")
    assert r.returncode == 1, r.stderr
    assert "磁盘空间不足" in r.stderr and "未作任何改动" in r.stderr
    assert list(small_disk.iterdir()) == []  # no half backup left behind
    assert _digest(db) == before
    assert check_register(db) == 5000
    shutil.rmtree(tmp_path / "home", ignore_errors=True)


def test_export_onto_a_full_disk(small_disk: Path, members: Path, tmp_path: Path) -> None:
    db = _filled_register(tmp_path, members)
    before = check_register(db)
    (small_disk / "其他文件.bin").write_bytes(b"\0" * (1900 * 1024))  # the disk is nearly full
    r = run_dengji(tmp_path, "export-excel", "--db", db, "--form", "lawyer_member",
                   "--out", small_disk / "附件1.xlsx")
    assert r.returncode in (1, 2), r.stderr
    assert "无法写入" in r.stderr or "磁盘" in r.stderr
    assert "Traceback" not in r.stderr and "内部错误" not in r.stderr
    assert [p.name for p in small_disk.iterdir()] == ["其他文件.bin"]  # no half workbook
    assert check_register(db) == before
