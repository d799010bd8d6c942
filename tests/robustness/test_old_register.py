"""The version-1 fixture register: opened, it is backed up and migrated; the backup taken before
the migration is a v1 register, and restoring it migrates it again with nothing lost. (Refusing a
newer register untouched is covered in tests/storage/test_engine.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path

from desktop.storage import open_register
from desktop.storage.backup import check_backup, restore_register
from desktop.storage.files import list_backups
from tests.conftest import PASSPHRASE
from tests.robustness.conftest import check_register

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "register-v1.dengji"


def test_v1_register_is_backed_up_migrated_and_restorable(tmp_path: Path) -> None:
    path = tmp_path / "old.dengji"
    shutil.copyfile(FIXTURE, path)
    records = check_register(path)  # opens: backup, then migration
    assert records > 0
    [backup] = list_backups(path)
    assert backup.parent.name == "备份" and backup.name.endswith("-migrate.dengji")
    with open_register(path, PASSPHRASE) as reg:
        # the backup was taken before the re-key (n=2^15 → 2^17): it opens with the
        # passphrase and its own salt's parameters, not with the register's new key
        assert reg.key_for(backup) != reg.key_literal
        assert check_backup(backup, reg.key_for(backup), reg).schema_version == 1
        restore_register(reg, backup, actor="测试")
        # the migrated state is kept before restoring, and the restored version-1 file is
        # backed up again before it is migrated again
        reasons = [p.name.rsplit("-", 1)[1] for p in list_backups(path)]
        assert reasons == ["migrate.dengji", "restore.dengji", "migrate.dengji"]
    assert check_register(path) == records
