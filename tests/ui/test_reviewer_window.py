"""Issue 18: the window on a PostgreSQL register opened by a reviewer role says so, shows the
records read-only and greys out what writes (the 收件看板's buttons too); a clerk's role gets the
full window. The reviewer's Excel export and print go through the real window and land in the
audit log under the reviewer's role; on a database with the older grants (no audit append)
they are refused before any file is written, saying what the administrator must run."""

from __future__ import annotations

import psycopg

from desktop.services.packages.review import add_expected_unit
from desktop.storage import open_register
from desktop.ui.actions import Action
from desktop.ui.records.reviewer import WHY, WRITES
from tests.pg.cluster import pg_cluster, pg_database, pg_url  # noqa: F401 (fixtures)
from tests.pg.test_concurrency import new_record, office  # noqa: F401 (a fixture)
from tests.pg.test_reviewer_audit import old_office  # noqa: F401 (a fixture)
from tests.storage.conftest import FAST_KDF, PASSPHRASE
from tests.ui.conftest import shown_dialog
from tests.ui.test_excel_export import export, save_as  # noqa: F401 (a fixture)
from tests.ui.test_print_job import to_file  # noqa: F401 (a fixture)
from tests.ui.test_print_preview import open_and_wait, select_row


def test_a_reviewer_sees_the_records_and_cannot_change_them(office, make_window):  # noqa: F811
    rid = new_record(office["owner"])
    with open_register(office["reviewer_c"], PASSPHRASE, kdf=FAST_KDF) as register:
        window = make_window(register)
        assert window.windowTitle().endswith("（只读：审阅角色）")
        assert window.statusBar().currentMessage() == WHY
        greyed = [a for a in WRITES if window.ctx.has_action(a)]
        assert Action.NEW_RECORD in greyed and Action.IMPORT_PACKAGE in greyed
        assert not any(window.action(a).isEnabled() for a in greyed)
        assert window.action(Action.EXCEL_EXPORT).isEnabled()
        assert window.action(Action.PRINT_PREVIEW).isEnabled()
        window.show_tab("lawyer_member")
        tab = window.tab("lawyer_member")
        assert tab.model.total == 1
        tab.view.selectRow(0)
        assert tab.session.record_id == rid and tab.session.values  # opened, not dj1.…
        assert tab.editor.read_only and not tab.editor.submit_button.isEnabled()
        assert not tab.new_button.isEnabled() and tab.new_button.toolTip() == WHY
        assert tab.reveal_button.isEnabled()  # 显示完整号码…: an audited read, allowed
        tab.new_record()
        assert tab.session.record_id == rid  # nothing new: the status bar says why
        assert not tab.editor.save_draft()
        window.close()
    with open_register(office["clerk_a"], PASSPHRASE, kdf=FAST_KDF) as register:
        window = make_window(register)
        assert "只读" not in window.windowTitle()
        assert window.action(Action.NEW_RECORD).isEnabled()
        window.show_tab("lawyer_member")
        assert not window.tab("lawyer_member").editor.read_only
        window.close()


def last_entries(url: str, n: int) -> list[tuple[str, str]]:
    """(action, actor) of the last `n` audit entries, read by the owner."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT action, actor FROM audit_entry ORDER BY seq DESC LIMIT %s",
                            (n,)).fetchall()
    return [tuple(r) for r in reversed(rows)]


def count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM audit_entry").fetchone()[0]


def test_a_reviewer_exports_and_prints_through_the_window_audited_under_its_role(
        office, make_window, qtbot, save_as, to_file, boxes, tmp_path):  # noqa: F811
    new_record(office["owner"])
    role = office["roles"]["reviewer_c"]
    with open_register(office["reviewer_c"], PASSPHRASE, kdf=FAST_KDF) as register:
        window = make_window(register)
        assert window.windowTitle().endswith("（只读：审阅角色）")
        # 导出 Excel…
        export(qtbot, window, save_as, tmp_path / "附件1.xlsx")
        assert (tmp_path / "附件1.xlsx").is_file()
        assert boxes[-1][1] == "导出完成"
        assert last_entries(office["owner"], 1) == [("export_excel", f"测试员@{role}")]
        # 打印… from the record's preview, to a printer (a PDF file through QPrinter)
        window.show_tab("lawyer_member")
        select_row(window, qtbot, 0)
        dialog = open_and_wait(window, qtbot, window.action(Action.PRINT_PREVIEW))
        dialog.print_button.click()
        qtbot.waitUntil(lambda: dialog.printed > 0, timeout=60000)
        assert to_file["out"].is_file()
        assert last_entries(office["owner"], 1) == [("print", f"测试员@{role}")]
        # 另存为PDF… from the same preview
        save_as["path"] = tmp_path / "预览.pdf"
        assert dialog.save_pdf() == tmp_path / "预览.pdf" and save_as["path"].is_file()
        assert last_entries(office["owner"], 1) == [("print", f"测试员@{role}")]
        dialog.close()
        # Ctrl+P: the current record straight to the printer
        to_file["out"] = tmp_path / "记录.pdf"
        window.action(Action.PRINT).trigger()
        qtbot.waitUntil(lambda: to_file["out"].is_file(), timeout=60000)
        qtbot.waitUntil(lambda: last_entries(office["owner"], 1)[0][0] == "print",
                        timeout=20000)
        assert last_entries(office["owner"], 1) == [("print", f"测试员@{role}")]
        window.close()


def test_the_dashboard_buttons_that_write_are_greyed_for_a_reviewer(
        office, make_window, qtbot):  # noqa: F811
    with open_register(office["owner"], PASSPHRASE, kdf=FAST_KDF) as register:
        add_expected_unit(register, "31110000MD0999999X", "某某律师事务所党支部")
    with open_register(office["reviewer_c"], PASSPHRASE, kdf=FAST_KDF) as register:
        window = make_window(register)
        window.action(Action.DASHBOARD).trigger()
        dialog = shown_dialog(qtbot, window, "dashboard")
        assert dialog.read_only
        for button in dialog.writes:
            assert not button.isEnabled() and button.toolTip() == WHY
        assert dialog.revoke_button in dialog.writes
        assert dialog.model.rowCount() == 1
        dialog.view.selectRow(0)
        assert dialog.selected() is not None  # a clerk's 吊销公钥… would be enabled now
        assert not dialog.revoke_button.isEnabled() and not dialog.import_button.isEnabled()
        assert dialog.export_button.isEnabled()
        dialog.close()
        window.close()
    with open_register(office["clerk_a"], PASSPHRASE, kdf=FAST_KDF) as register:
        window = make_window(register)
        window.action(Action.DASHBOARD).trigger()
        dialog = shown_dialog(qtbot, window, "dashboard")
        assert not dialog.read_only and dialog.import_button.isEnabled()
        dialog.view.selectRow(0)
        assert dialog.revoke_button.isEnabled()
        dialog.close()
        window.close()


def test_with_the_old_grants_the_window_refuses_before_writing_and_says_what_to_run(
        old_office, make_window, qtbot, save_as, to_file, boxes, tmp_path):  # noqa: F811
    new_record(old_office["owner"])
    before = count(old_office["owner"])
    with open_register(old_office["reviewer_c"], PASSPHRASE, kdf=FAST_KDF) as register:
        window = make_window(register)
        window.action(Action.EXCEL_EXPORT).trigger()
        dialog = shown_dialog(qtbot, window, "excelExportDialog")
        save_as["path"] = tmp_path / "附件1.xlsx"
        dialog.buttons.accepted.emit()
        qtbot.waitUntil(lambda: any(b[1] == "导出未完成" for b in boxes), timeout=20000)
        said = next(b[2] for b in boxes if b[1] == "导出未完成")
        assert "不能写入审计日志" in said and "重新执行" in said and "docs/postgresql.md" in said
        dialog.close()
        # printing: the preview (masked, not audited) opens; the printer is never asked, and
        # 另存为PDF… writes nothing
        window.show_tab("lawyer_member")
        select_row(window, qtbot, 0)
        preview = open_and_wait(window, qtbot, window.action(Action.PRINT_PREVIEW))
        preview.print_button.click()
        qtbot.waitUntil(lambda: any(b[1] == "打印未完成" for b in boxes), timeout=20000)
        assert "不能写入审计日志" in next(b[2] for b in boxes if b[1] == "打印未完成")
        assert to_file["asked"] == 0 and preview.printed == 0
        save_as["path"] = tmp_path / "预览.pdf"
        assert preview.save_pdf() is None
        assert "不能写入审计日志" in boxes[-1][2] and boxes[-1][1] == "未能保存"
        preview.close()
        window.close()
    # no workbook, PDF or part file: only the window's settings folder
    assert [p.name for p in tmp_path.iterdir()] == ["settings"]
    assert count(old_office["owner"]) == before
