"""storage/files.write_durably, the one durable write under a register's side file
(recovery.write_side) and every published file (files.publish): the whole new file or the old
one, never a part file left behind; write_durably raises an OSError as it came, publish says
what to fix in Chinese."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from desktop.errors import KnownError
from desktop.storage import files
from desktop.storage.files import DiskFull, publish, write_durably


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_durable_write_replaces_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "登记库.dengji-recovery"
    target.write_bytes(b"old")
    calls: list[str] = []
    write_durably(target, b"new" * 1000, lambda: calls.append(target.read_bytes().decode()))
    assert calls == ["old"]  # before_rename runs while the old file is still in place
    assert target.read_bytes() == b"new" * 1000 and names(tmp_path) == [target.name]


def test_a_failure_before_the_rename_leaves_the_old_file_and_no_part(tmp_path: Path) -> None:
    target = tmp_path / "side"
    target.write_bytes(b"old")

    def refuse() -> None:
        raise OSError(errno.EIO, "the record failed")

    with pytest.raises(OSError, match="the record failed") as caught:
        write_durably(target, b"new", refuse)
    assert type(caught.value) is OSError  # raw, not wrapped
    assert target.read_bytes() == b"old" and names(tmp_path) == ["side"]


def test_a_failed_rename_leaves_no_part_and_raises_the_oserror(tmp_path: Path) -> None:
    target = tmp_path / "a folder"
    (target / "inside").mkdir(parents=True)  # os.replace cannot put a file over a folder
    with pytest.raises(OSError):
        write_durably(target, b"new")
    assert names(tmp_path) == ["a folder"]


def test_publish_says_what_failed_in_chinese(tmp_path: Path, monkeypatch) -> None:
    recorded: list[int] = []
    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(DiskFull, match="磁盘空间不足"):
        publish(tmp_path / "a.zip", b"data", lambda: recorded.append(1))
    assert recorded == [] and names(tmp_path) == []  # not recorded, nothing left
    monkeypatch.setattr(files.os, "fsync", real_fsync)

    folder = tmp_path / "b.zip"
    (folder / "x").mkdir(parents=True)
    with pytest.raises(KnownError, match="登记库已记下这个文件，但无法把它保存为"):
        publish(folder, b"data", lambda: recorded.append(2))
    assert recorded == [2] and names(tmp_path) == ["b.zip"]

    def broken_record() -> None:
        raise OSError(errno.EACCES, "the register's own failure")

    with pytest.raises(OSError, match="the register's own failure") as caught:
        publish(tmp_path / "c.zip", b"data", broken_record)
    assert not isinstance(caught.value, KnownError)  # record's errors are its own
    assert names(tmp_path) == ["b.zip"]
    publish(tmp_path / "d.zip", b"data", lambda: recorded.append(3))
    assert (tmp_path / "d.zip").read_bytes() == b"data" and recorded == [2, 3]
