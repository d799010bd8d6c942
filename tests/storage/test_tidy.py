"""The start's tidy (desktop.paths.tidy, run by the command line and the window): what a killed
process left — its private scratch folder, the part files of a backup, restore, init or export
it was writing — is removed; the work of a process still running is left alone.

File only: what is tidied are files on this computer whatever the store (a pg_dump's part file
is tracked by the same desktop.paths.tracked_part as a file backup's)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.paths import private_dir, scratch, tidy, tracked_part

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import os, sys
from pathlib import Path
from desktop.paths import scratch, tracked_part
from desktop.storage import open_register, KdfParams
from desktop.storage.backup import backup_register

what, target = sys.argv[1], Path(sys.argv[2])
if what == "scratch":
    with scratch("package") as folder:
        (folder / "附件4.xlsx").write_bytes(b"names and ID numbers")
        os._exit(9)
if what == "workbook":  # killed while an exported workbook is being written
    from desktop.reports.output import atomic_file
    with atomic_file(target) as part:
        part.write_bytes(b"PK names and ID numbers")
        os._exit(9)
if what == "backup":  # killed while the backup's part file is being checked
    import desktop.storage.copies as copies
    real = copies.check_backup
    def check(*a, **k):
        os._exit(9)
    copies.check_backup = check
    reg = open_register(sys.argv[3], sys.argv[4], kdf=KdfParams(n=2**10, r=8, p=1))
    backup_register(reg, target)
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("DENGJI_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _child(home: Path, *argv: object) -> None:
    env = dict(os.environ, DENGJI_HOME=str(home), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", CHILD, *map(str, argv)], env=env, cwd=ROOT,
                          capture_output=True, timeout=120)
    assert proc.returncode == 9, proc.stderr.decode(errors="replace")


def test_scratch_is_private_and_removed(home: Path) -> None:
    with scratch("x") as folder:
        (folder / "a.pdf").write_bytes(b"x")
        if os.name != "nt":
            assert private_dir("tmp").stat().st_mode & 0o777 == 0o700
            assert folder.stat().st_mode & 0o777 == 0o700
    assert not folder.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="os._exit of a child")
def test_a_killed_processs_scratch_folder_goes_at_the_next_start(home: Path, tmp_path) -> None:
    _child(home, "scratch", tmp_path)
    [left] = list((home / "tmp").iterdir())
    assert (left / "附件4.xlsx").exists()
    assert left in tidy()
    assert list((home / "tmp").iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="os._exit of a child")
def test_a_killed_backups_part_file_goes_at_the_next_start(home: Path, tmp_path,
                                                           register) -> None:
    path = register.path
    register.close()
    out = tmp_path / "elsewhere" / "copy.dengji"
    from tests.storage.conftest import PASSPHRASE

    _child(home, "backup", out, path, PASSPHRASE)
    parts = list(out.parent.glob(".copy.dengji.*.part"))
    assert parts, "the child did not get as far as the part file"
    tidy()
    assert list(out.parent.iterdir()) == []


def test_the_work_of_a_running_process_is_left_alone(home: Path, tmp_path: Path) -> None:
    part = tmp_path / ".pkg.djpkg.abc.part"
    part.write_bytes(b"x")
    with tracked_part(part), scratch("y") as folder:
        tidy()  # another start while this process works
        assert part.exists() and folder.exists()
    part.unlink()
    assert list((home / "parts").iterdir()) == []


def test_tidy_without_a_user_data_folder_does_nothing(home: Path) -> None:
    assert tidy() == [] and not home.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="os._exit of a child")
def test_a_killed_workbook_exports_part_file_goes_at_the_next_start(home: Path, tmp_path
                                                                    ) -> None:
    out = tmp_path / "导出" / "附件4.xlsx"
    out.parent.mkdir()
    _child(home, "workbook", out)
    assert [p.name for p in out.parent.iterdir()] == [".附件4.xlsx.part"]
    tidy()
    assert list(out.parent.iterdir()) == []
