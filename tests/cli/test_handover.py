"""`dengji handover` as a clerk types it: the handover with its 移交清单 and recovery sheet,
the refusals (nothing changed, file bytes compared), and the handover seen at the city after
`dengji export` and `dengji merge` (and `dengji handover --received`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from desktop.formspec import shipped_forms
from tests.conftest import PASSPHRASE, UNIT_NAME, stored_state
from tests.exchange.conftest import CITY, World
from tests.exchange.conftest import PASSPHRASE as WORLD_PASSPHRASE
from tests.reports.test_pdf_helpers import pdf_text, squeeze
from tests.stores import is_server

NEW = "Jiaojie-2026 接收人的新口令 horse"


def folder_state(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.endswith("-shm") and "home" not in p.parts}


def test_handover_from_the_command_line(dengji, db, tmp_path, monkeypatch):
    monkeypatch.setenv("DENGJI_NEW_PASSPHRASE", NEW)
    assert dengji("unit", "--db", db, "--handler", "张三").code == 0
    checklist, sheet = tmp_path / "移交清单.pdf", tmp_path / "恢复密钥.pdf"
    run = dengji("handover", "--db", db, "--from", "张三", "--to", "李四",
                 "--checklist", checklist, "--recovery-sheet", sheet, "--yes")
    assert run.code == 0, run.err
    assert "已移交：张三 → 李四" in run.out and "经办人已改为 李四" in run.out
    assert "原恢复密钥已作废" in run.out and str(checklist) in run.out
    if is_server(db):  # no backup: the data key's wrapping changed, and who keeps access is said
        assert "备份" not in run.out and "None" not in run.out
        assert "收回其 PostgreSQL 角色" in run.out
    else:
        assert "移交前的登记库已备份到" in run.out
    text = squeeze(pdf_text(checklist.read_bytes(), tmp_path))
    assert "移交人（原经办人）张三" in text and "接收人（新经办人）李四" in text
    assert UNIT_NAME in text
    assert sheet.read_bytes().startswith(b"%PDF")

    # the old passphrase opens the register no more; the successor's does, with the new 经办人
    refused = dengji("unit", "--db", db)
    assert refused.code != 0 and "口令" in refused.err
    monkeypatch.setenv("DENGJI_PASSPHRASE", NEW)
    shown = dengji("unit", "--db", db)
    assert shown.code == 0 and "经办人：李四" in shown.out
    audit = dengji("audit", "--db", db)
    assert audit.code == 0, audit.err


def test_a_register_without_received_packages_lists_no_handovers(dengji, db):
    listed = dengji("handover", "--db", db, "--received")
    assert listed.code == 0 and "没有移交记录" in listed.out


def test_the_checklist_goes_beside_the_register_by_default(dengji, db, tmp_path, monkeypatch):
    """Beside a register file; a register on a server has no folder here: the current one."""
    monkeypatch.setenv("DENGJI_NEW_PASSPHRASE", NEW)
    here = tmp_path / "当前文件夹"
    here.mkdir()
    monkeypatch.chdir(here)
    run = dengji("handover", "--db", db, "--from", "张三", "--to", "李四", "--yes")
    assert run.code == 0, run.err
    (written,) = (here if is_server(db) else db.parent).glob("移交清单-*.pdf")
    assert str(written) in run.out and written.read_bytes().startswith(b"%PDF")
    assert list(tmp_path.rglob("移交清单-*.pdf")) == [written]


@pytest.mark.parametrize(("argv", "env", "said", "code"), [
    pytest.param(["--from", "张三", "--to", "张三"], {}, "同一个人", 2, id="same-names"),
    pytest.param(["--from", "张三", "--to", ""], {}, "请填写接收人", 2, id="empty-taker"),
    pytest.param(["--from", "张三"], {}, "写明双方姓名", 2, id="no-taker"),
    pytest.param(["--from", "张三", "--to", "李四"], {"DENGJI_PASSPHRASE": "wrong passphrase 1"},
                 "口令", 1, id="wrong-old"),
    pytest.param(["--from", "张三", "--to", "李四"], {"DENGJI_NEW_PASSPHRASE": "abc12345"},
                 "新口令不能使用", 1, id="weak-new"),
    pytest.param(["--from", "张三", "--to", "李四", "--checklist", "nowhere/移交清单.pdf"], {},
                 "不存在", 2, id="checklist-folder-missing"),
    pytest.param(["--from", "张三", "--to", "李四", "--recovery-sheet", "sheet.txt"], {},
                 "PDF", 2, id="sheet-not-pdf"),
])
def test_refused_handovers_change_nothing(dengji, db, tmp_path, monkeypatch, argv, env, said,
                                          code):
    monkeypatch.setenv("DENGJI_NEW_PASSPHRASE", NEW)
    monkeypatch.chdir(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    before = folder_state(tmp_path), stored_state(db)
    run = dengji("handover", "--db", db, *argv)
    assert run.code == code, (run.out, run.err)
    assert said in run.err
    assert (folder_state(tmp_path), stored_state(db)) == before
    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    assert dengji("unit", "--db", db).code == 0  # still the old passphrase


def test_the_city_sees_the_handover_in_the_next_package(dengji, store_world, tmp_path,
                                                       monkeypatch):
    """The firm and the city on each store."""
    monkeypatch.chdir(tmp_path)  # where the 移交清单 of a firm on a server goes
    city = store_world.register(CITY, "city.dengji")
    firm = store_world.firm(parent=city).register
    for reg in (city, firm):
        reg.close()
    monkeypatch.setenv("DENGJI_PASSPHRASE", WORLD_PASSPHRASE)
    monkeypatch.setenv("DENGJI_NEW_PASSPHRASE", NEW)
    assert dengji("handover", "--db", firm.path, "--from", "张三", "--to", "李四",
                  "--yes").code == 0

    monkeypatch.setenv("DENGJI_PASSPHRASE", NEW)
    out = tmp_path / "out"
    assert dengji("export", "--db", firm.path, "--out", out).code == 0
    (package,) = out.glob("*.djpkg")
    monkeypatch.setenv("DENGJI_PASSPHRASE", WORLD_PASSPHRASE)
    merged = dengji("merge", "--db", city.path, package)
    assert merged.code == 0, merged.err
    line = next(ln for ln in merged.out.splitlines() if ln.startswith("移交\t"))
    assert "张三 → 李四" in line and "经办人已更换" in line

    listed = dengji("handover", "--db", city.path, "--received")
    assert listed.code == 0 and "张三 → 李四" in listed.out
    assert "第 1 次报送的数据包" in listed.out


def test_every_command_the_clerks_page_gives_parses():
    """docs/clerks-secrets.md tells clerks what to type: each `dengji …` it gives is a command
    and options the program has."""
    import re
    import shlex

    from desktop.cli import build_parser

    page = (Path(__file__).resolve().parents[2] / "docs" / "clerks-secrets.md").read_text("utf-8")
    given = re.findall(r"`(dengji [^`]+)`", page) + re.findall(r"^(dengji .+?)(?:\s+#.*)?$", page,
                                                               re.MULTILINE)
    assert len(given) >= 10
    parser = build_parser()
    for line in given:
        if line == "dengji …":  # the page's own word for "a command"
            continue
        args = parser.parse_args(shlex.split(line)[1:])
        assert args.command or args.main_db, line


def test_a_forged_handover_entry_cannot_steer_the_terminal(dengji, tmp_path, monkeypatch):
    """A sender can write anything into its own audit log: the names it reports are cut to 100
    characters and printed with their control characters escaped. (The printing, on one store:
    the handovers a merge keeps are read on both in the test above.)"""
    from desktop.services.handover import ACTION
    from desktop.storage import append_audit

    world = World(tmp_path / "w", shipped_forms())
    world.folder.mkdir()
    city = world.register(CITY, "city.dengji")
    firm = world.firm(parent=city).register
    with firm.session() as session:
        append_audit(session, "x", ACTION, "x", {"from": "张三\x1b[2J\u202e", "to": "李" * 500})
        session.commit()
    package = world.export(firm).path
    for reg in (city, firm):
        reg.close()
    monkeypatch.setenv("DENGJI_PASSPHRASE", WORLD_PASSPHRASE)
    merged = dengji("merge", "--db", city.path, package)
    assert merged.code == 0, merged.err
    line = next(ln for ln in merged.out.splitlines() if ln.startswith("移交\t"))
    assert "\x1b" not in line and "\u202e" not in line
    assert "张三\\u001b[2J\\u202e → " + "李" * 100 + "（" in line
