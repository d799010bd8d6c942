"""Backups and restores: a copy that opens with the same passphrase, refusals that change
nothing, the automatic backups and how many are kept.

A register file's backups are files beside it (most tests here are about them: file only); on
PostgreSQL a backup is a pg_dump that pg_restore brings back (test_stores.py). What both do —
refusing a folder, the automatic backups and how many are kept — runs on both stores.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from desktop.errors import KnownError, NotARegister
from desktop.storage import (
    Record,
    Register,
    UnitInfo,
    append_audit,
    open_register,
    verify_audit_chain,
)
from desktop.storage.backup import (
    auto_backup,
    backup_register,
    restore_register,
)
from desktop.storage.files import backup_dir, list_backups
from tests.storage.conftest import FAST_KDF, PASSPHRASE


def _note(register: Register, what: str) -> None:
    with register.session() as session:
        append_audit(session, "测试", "note", what, {"what": what})
        session.commit()


def _entries(register: Register) -> int:
    with register.session() as session:
        return verify_audit_chain(session).entries


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_backup_opens_with_same_passphrase(register: Register, tmp_path: Path) -> None:
    _note(register, "一")
    info = backup_register(register, tmp_path / "out" / "副本.dengji")
    assert info.audit_entries == _entries(register)
    assert not list((tmp_path / "out").glob(".*part*"))
    register.close()
    with open_register(info.path, PASSPHRASE, kdf=FAST_KDF) as copy, copy.session() as s:
        assert verify_audit_chain(s).ok
        assert s.execute(select(func.count()).select_from(Record)).scalar_one() == 0


def test_backup_refuses_a_folder_on_both_stores(store_register: Register, tmp_path: Path
                                                ) -> None:
    before = sorted(tmp_path.iterdir())
    with pytest.raises(KnownError, match="是文件夹"):
        backup_register(store_register, tmp_path)
    assert sorted(tmp_path.iterdir()) == before


def test_backup_refuses_itself_and_a_folder(register: Register, tmp_path: Path) -> None:
    with pytest.raises(KnownError, match="登记库本身"):
        backup_register(register, register.path)
    with pytest.raises(KnownError, match="文件夹"):
        backup_register(register, tmp_path)


def test_restore_brings_back_the_old_state(register: Register, tmp_path: Path) -> None:
    _note(register, "备份前")
    saved = backup_register(register, tmp_path / "saved.dengji").path
    before = _entries(register)
    _note(register, "备份后一")
    _note(register, "备份后二")
    safety = restore_register(register, saved, actor="测试")
    assert safety.path.parent == backup_dir(register.path)
    assert safety.audit_entries == before + 2
    assert _entries(register) == before + 1  # the backup's entries and the restore itself
    register.close()
    with open_register(register.path, PASSPHRASE, kdf=FAST_KDF) as again, again.session() as s:
        assert verify_audit_chain(s).ok


def test_restore_refuses_foreign_damaged_and_other_files(make_register, tmp_path: Path) -> None:
    mine = make_register()
    other = make_register("other.dengji", UnitInfo(code="X2", name="另一个党支部", level="firm"))
    foreign = backup_register(other, tmp_path / "foreign.dengji").path
    good = backup_register(mine, tmp_path / "good.dengji").path
    damaged = tmp_path / "damaged.dengji"
    data = bytearray(good.read_bytes())
    data[6000] ^= 0xFF  # one flipped byte on page 2: its HMAC fails
    damaged.write_bytes(bytes(data))
    text_file = tmp_path / "notes.dengji"
    text_file.write_text("这不是登记库", encoding="utf-8")
    before = _digest(mine.path)
    with pytest.raises(KnownError, match="不是本登记库的备份"):
        restore_register(mine, foreign)
    with pytest.raises(KnownError, match="损坏"):
        restore_register(mine, damaged)
    with pytest.raises(NotARegister):
        restore_register(mine, text_file)
    with pytest.raises(KnownError, match="找不到"):
        restore_register(mine, tmp_path / "missing.dengji")
    assert list_backups(mine.path) == []  # nothing was even backed up
    mine.close()
    assert _digest(mine.path) == before


def test_restore_refuses_a_file_whose_audit_chain_was_cut(register: Register, tmp_path: Path) -> None:
    _note(register, "一")
    copy = backup_register(register, tmp_path / "copy.dengji").path
    with open_register(copy, PASSPHRASE, kdf=FAST_KDF) as c, c.session() as s:
        from sqlalchemy import delete

        from desktop.storage import AuditEntry

        s.execute(delete(AuditEntry).where(AuditEntry.seq == 1))
        s.commit()
    with pytest.raises(KnownError, match="审计日志"):
        restore_register(register, copy)


def automatic_backups(register: Register) -> list[Path]:
    """The automatic backups of `register`, oldest first: files in the 备份 folder beside a
    register file; for a database, its pg_dumps in the user data folder's 备份 folder."""
    if register.kind == "file":
        return list_backups(register.path)
    from desktop.storage.server import dump

    return sorted(dump.backup_folder().glob(f"{register.path.name}-*.dump"))


def test_auto_backups_keep_the_newest(make_store_register) -> None:
    register, other = make_store_register(), make_store_register("other.dengji")
    others = [auto_backup(other, "merge").path]  # another register's are not counted
    made = [auto_backup(register, "merge", keep=3).path for _ in range(5)]
    assert automatic_backups(register) == made[-3:]
    assert all(p.parent.name == "备份" for p in made[-3:])
    assert automatic_backups(other) == others
    with pytest.raises(ValueError):
        auto_backup(register, "whatever")


def test_backup_of_a_register_in_use_is_consistent(store_register: Register, tmp_path: Path
                                                   ) -> None:
    """A write in progress on another connection is not in the copy, and does not break it (nor
    waits for it: on PostgreSQL another clerk's open transaction)."""
    register = store_register
    _note(register, "一")
    with register.session() as busy:
        append_audit(busy, "测试", "note", "未提交", {})
        busy.flush()  # written, not committed
        info = backup_register(register, tmp_path / "mid.dengji")
        busy.rollback()
    assert info.audit_entries == _entries(register)


def test_backup_cli_and_restore_cli(dengji, db: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.dengji"
    r = dengji("backup", "--db", db, "--out", out)
    assert r.code == 0, r.err
    assert "校验通过" in r.out
    r = dengji("restore", "--db", db, out)
    assert r.code == 0, r.err
    assert "自动备份" in r.out
    assert len(list_backups(db)) == 1
    shutil.copyfile(out, tmp_path / "x.txt")
    (tmp_path / "bad.dengji").write_bytes(b"PK\x03\x04" + b"\0" * 5000)
    r = dengji("restore", "--db", db, tmp_path / "bad.dengji")
    assert r.code == 2 and "不是登记库" in r.err
