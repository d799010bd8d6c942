"""Schema version 2 (packages, trust, returns, expected units, conflicts): a register made by
version 1 opens, is backed up, migrates, and then exports a package like any other.

tests/fixtures/register-v1.dengji was made with the version-1 code through the command line:

    DENGJI_PASSPHRASE="测试口令 Correct-Horse-7" dengji init --db register-v1.dengji \\
        --level firm --unit-name 北京市测试律师事务所党支部 --unit-code 31110000MD0123456X \\
        --parent-code 110000CITY
    dengji import --db register-v1.dengji --form lawyer_member members.jsonl   # 4 members
    dengji import --db register-v1.dengji --form party_org org.jsonl           # their 附件3

(members.jsonl and org.jsonl: tests.conftest.make_firm_records(seed=4242, members=4,
today=date(2026, 11, 1))). Its passphrase is "测试口令 Correct-Horse-7" (tests.conftest.PASSPHRASE).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select, text

from desktop.domain.states import COMPLETE
from desktop.storage import (
    SCHEMA_VERSION,
    AuditEntry,
    Meta,
    Record,
    UnitInfo,
    create_register,
    open_register,
    verify_audit_chain,
)
from desktop.storage.files import list_backups
from tests.exchange.conftest import FAST_KDF, World

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "register-v1.dengji"
V1_PASSPHRASE = "测试口令 Correct-Horse-7"


def schema(register) -> dict:
    """Tables with their columns, indexes with their columns, and foreign keys."""
    out = {}
    with register.engine.connect() as conn:
        rows = conn.execute(text("SELECT type, name, tbl_name FROM sqlite_master "
                                 "WHERE name NOT LIKE 'sqlite_%' ORDER BY name")).all()
        for kind, name, table in rows:
            if kind == "table":
                out[name] = (
                    [tuple(r) for r in conn.execute(text(f'PRAGMA table_info("{name}")'))],
                    sorted(tuple(r)[2:5] for r in
                           conn.execute(text(f'PRAGMA foreign_key_list("{name}")'))))
            else:
                out[name] = (table, [tuple(r) for r in
                                     conn.execute(text(f'PRAGMA index_info("{name}")'))])
    return out


def test_a_version_1_register_opens_and_migrates(tmp_path: Path) -> None:
    path = tmp_path / "old.dengji"
    shutil.copy(FIXTURE, path)
    original = path.read_bytes()
    with open_register(path, V1_PASSPHRASE) as register:
        with register.session() as session:
            assert session.get(Meta, "schema_version").value == str(SCHEMA_VERSION) == "6"
            assert session.execute(select(func.count()).select_from(Record)).scalar_one() == 5
            # migrated, then re-keyed from the version-1 key derivation (n=2^15)
            rekey, last = session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())
                                          ).scalars().all()[:2]
            assert rekey.action == "rekey" and "n=2^15" in rekey.detail
            assert last.action == "migrate" and '"from":1' in last.detail
            assert verify_audit_chain(session).ok
            assert session.execute(select(Record.package_id)).scalars().all() == [None] * 5
            # imported, never saved in the editor: complete, as an import stores them now
            assert session.execute(select(Record.state)).scalars().all() == [COMPLETE] * 5
        migrated = schema(register)
    [backup] = list_backups(path)
    assert backup.parent == tmp_path / "备份" and backup.name.endswith("-migrate.dengji")
    assert backup.read_bytes() == original
    with create_register(tmp_path / "new.dengji", "x" * 8,
                         UnitInfo("A", "甲", "firm"), kdf=FAST_KDF) as fresh:
        assert schema(fresh) == migrated
    with open_register(path, V1_PASSPHRASE):  # opens again without another migration
        pass
    assert len(list_backups(path)) == 1


def test_a_migrated_register_exports_a_package(tmp_path: Path, world: World) -> None:
    path = tmp_path / "old.dengji"
    shutil.copy(FIXTURE, path)
    firm = open_register(path, V1_PASSPHRASE)
    world.opened.append(firm)
    city = world.register(UnitInfo("110000CITY", "北京市律师行业党委", "city"))
    world.link(firm, city)
    result = world.export(firm)
    assert result.records == 5 and result.recipient.code == "110000CITY"
    [report] = world.merge(city, result.path)
    assert report.status == "merged" and report.outcome.records == 5
