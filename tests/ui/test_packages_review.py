"""Reviewing received packages in the real window: the dashboard's counts, accepting, returning
with comments on fields (and the firm seeing them beside the field until its next export), and
resolving a conflict in the dialog."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QDialog, QFileDialog, QLabel, QMessageBox  # noqa: E402

from desktop.services import packages as svc  # noqa: E402
from desktop.ui.actions import Action  # noqa: E402
from desktop.ui.context import Changes  # noqa: E402
from desktop.ui.packages.conflicts import ConflictsDialog  # noqa: E402
from desktop.ui.packages.dashboard import (  # noqa: E402
    COMMENTS,
    ERRORS,
    LATE,
    NAME,
    RECORDS,
    SORT_ROLE,
    STATUS,
    AddUnitDialog,
    DashboardDialog,
    DashboardModel,
)
from desktop.ui.packages.importing import ImportResultsDialog  # noqa: E402
from desktop.ui.packages.returning import ReturnDialog  # noqa: E402
from tests.exchange.conftest import CITY, World, counts  # noqa: E402
from tests.ui.test_packages_exchange import through_export_dialog  # noqa: E402


@pytest.fixture
def merged(world: World):
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=81, parent=city)
    sent = world.export(firm.register)
    world.merge(city, sent.path)
    return city, firm, sent


@pytest.fixture
def answers(monkeypatch) -> list[str]:
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: said.append(a[2]) or 0)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: said.append(a[2]) or 0)
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: said.append(a[2]) or QMessageBox.StandardButton.Yes)
    return said


def test_dashboard_counts_expected_units_and_accepts(world, merged, make_window, qtbot,
                                                     monkeypatch, answers, tmp_path) -> None:
    from openpyxl import Workbook

    city, firm, sent = merged
    window = make_window(city)
    window.action(Action.DASHBOARD).trigger()
    dialog = window.findChild(DashboardDialog, "dashboard")
    assert dialog.isVisible() and dialog.model.rowCount() == 1
    [row] = dialog.model.rows
    assert not row.expected and row.records == len(firm.members) + 1
    # the city's list of firms from Excel: the firm that sent, and one that has not (late)
    book = Workbook()
    sheet = book.active
    sheet.append(["单位代码", "单位名称", "截止日期"])
    sheet.append([row.code, row.name, "2099-12-31"])
    sheet.append(["91110000MA00000001", "北京市迟交律师事务所", "2020-01-31"])
    path = tmp_path / "应报单位.xlsx"
    book.save(path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    dialog.import_button.click()
    assert dialog.model.rowCount() == 2
    # and one typed in
    typed = AddUnitDialog(dialog)
    typed.code.setText("91110000MA00000002")
    typed.name.setText("北京市新设律师事务所")
    monkeypatch.setattr(AddUnitDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    assert dialog.add_unit(typed)
    assert dialog.model.rowCount() == 3
    text = dialog.summary.text()
    assert "应报 3 个单位：已收到 1 个，未收到 2 个，逾期 1 个" in text
    by_name = {r.name: r for r in dialog.model.rows}
    assert by_name["北京市迟交律师事务所"].late and by_name["北京市迟交律师事务所"].status == "未收到"
    # sortable: by record count, descending, the firm that sent comes first
    dialog.view.sortByColumn(RECORDS, Qt.SortOrder.DescendingOrder)
    assert dialog.proxy.index(0, NAME).data() == row.name
    dialog.view.sortByColumn(LATE, Qt.SortOrder.DescendingOrder)
    assert dialog.proxy.index(0, NAME).data() == "北京市迟交律师事务所"
    # accept from the dashboard
    dialog.select_code(row.code)
    assert dialog.accept_button.isEnabled()
    dialog.accept_button.click()
    assert {r.code: r.status for r in dialog.model.rows}[row.code] == "已接收"
    assert not dialog.accept_button.isEnabled()
    dialog.close()


def test_dashboard_model_sorts_raw_values(qtmodeltester) -> None:
    from datetime import UTC, datetime

    from desktop.exchange.dashboard import UnitStatus

    model = DashboardModel()
    model.set_rows([
        UnitStatus("A", "甲所", True, "2026-01-01", "已收到（待审核）", False, "p1", 2,
                   datetime(2026, 1, 1, tzinfo=UTC), 10, 3, 1, 0, 0),
        UnitStatus("B", "乙所", True, None, "未收到", True, None, None, None, 0, 0, 0, 0, 0)])
    qtmodeltester.check(model)
    assert model.index(0, ERRORS).data() == "3" and model.index(1, ERRORS).data() == ""
    assert model.index(0, ERRORS).data(SORT_ROLE) == 3
    assert model.index(1, LATE).data() == "逾期" and model.index(1, LATE).data(SORT_ROLE) == 1
    assert model.index(1, STATUS).data() == "未收到"
    assert model.index(0, COMMENTS).data() == "0"


def test_a_return_reaches_the_field_in_the_firm_editor(world, merged, make_window, qtbot,
                                                       monkeypatch, answers, tmp_path) -> None:
    city, firm, sent = merged
    member = sorted(firm.members, key=lambda m: m["姓名"])[0]
    window = make_window(city)
    dialog = ReturnDialog(window.ctx, sent.package_id, "测试律师事务所")
    dialog.select_record(member["姓名"])
    dialog.field.setCurrentIndex(dialog.field.findText("手机号码"))
    dialog.text.setPlainText("手机号码与花名册不一致，请核实")
    assert dialog.add_current()
    dialog.field.setCurrentIndex(0)
    dialog.text.setPlainText("请补充入党介绍人情况")  # written but not yet added: taken too
    assert dialog.table.rowCount() == 1
    target = tmp_path / "退回.djret"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert dialog.write()
    assert target.exists() and dialog.written == target
    assert "共 2 条意见" in answers[-1]
    [row] = svc.dashboard(city)
    assert (row.status, row.open_comments) == ("已退回", 2)
    window.close()

    # the firm imports the signed return file; the comment is beside its field
    firm_window = make_window(firm.register)
    seen: list = []
    monkeypatch.setattr(ImportResultsDialog, "exec", lambda self: seen.append(self) or 0)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(target)], ""))
    firm_window.action(Action.IMPORT_RETURN).trigger()
    firm_window.workers.wait(60000)
    qtbot.waitUntil(lambda: bool(seen), timeout=60000)
    assert seen[0].text(0, 1) == "已导入退回意见"
    tab = firm_window.tab("lawyer_member")
    firm_window.tabs.setCurrentWidget(tab)
    tab.search.setText(member["姓名"])
    tab.view.selectRow(0)
    editor = tab.editor
    qtbot.waitUntil(lambda: editor.session.values.get("name") == member["姓名"])
    note = editor.note_labels["mobile"]
    assert note.isVisible() and "手机号码与花名册不一致，请核实" in note.text()
    assert CITY.name in note.text()
    assert editor.editors["mobile"].note_mark.isVisible()
    assert "请补充入党介绍人情况" in editor.record_notes.text()
    assert editor.record_notes.isVisible()
    panel = editor.findings_panel
    assert panel.notes_list.count() == 2 and panel.notes_list.isVisible()
    assert "手机号码" in panel.notes_list.item(0).text()
    assert not editor.note_labels["name"].isVisible()
    assert editor.session.state == "已退回"

    # the next export answers them: they leave the editor
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda *a, **k: str(tmp_path / "out2"))
    from desktop.ui.packages.export import ExportDoneDialog

    done: list = []
    monkeypatch.setattr(ExportDoneDialog, "exec", lambda self: done.append(self) or 0)
    (tmp_path / "out2").mkdir()
    firm_window.action(Action.EXPORT_PACKAGE).trigger()
    through_export_dialog(qtbot, firm_window, done)
    assert "已答复 2 条退回意见" in done[0].findChild(QLabel, "exportInfo").text()
    assert not note.isVisible() and not editor.record_notes.isVisible()
    assert panel.notes_list.count() == 0


def test_a_return_without_comments_is_refused(merged, make_window, answers,
                                              monkeypatch, tmp_path) -> None:
    city, firm, sent = merged
    window = make_window(city)
    dialog = ReturnDialog(window.ctx, sent.package_id, "测试律师事务所")
    before = counts(city)
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "x.djret"), ""))
    assert not dialog.write()
    assert "没有任何意见" in answers[-1]
    assert counts(city) == before and not (tmp_path / "x.djret").exists()


def test_a_conflict_is_resolved_in_the_dialog(world, make_window, qtbot, answers) -> None:
    from tests.exchange.test_merge import two_firms_sharing_a_person

    city, a, b = two_firms_sharing_a_person(world)
    world.merge(city, world.export(a.register).path, world.export(b.register).path)
    window = make_window(city)
    window.action(Action.CONFLICTS).trigger()
    dialog = window.findChild(ConflictsDialog, "conflicts")
    assert dialog.list.count() == 1
    name = a.members[0]["姓名"]
    assert dialog.table.item(1, 0).text() == "姓名"  # row 0 is the state
    assert dialog.table.item(1, 1).text() == dialog.table.item(1, 2).text() == name
    differing = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())
                 if dialog.table.item(r, 1).text() != dialog.table.item(r, 2).text()]
    assert "律师执业证号" in differing
    # keep both needs a note
    assert not dialog.resolve("keep_both")
    assert "理由" in answers[-1] and dialog.list.count() == 1
    dialog.note.setText("同一人在两所兼职，已电话核实")
    dialog.buttons["keep_both"].click()
    assert dialog.list.count() == 0
    assert "没有未处理的冲突" in dialog.empty.text()
    [done] = svc.list_conflicts(city, open_only=False)
    assert (done.resolution, done.note) == ("keep_both", "同一人在两所兼职，已电话核实")
    assert not dialog.buttons["keep_a"].isEnabled()
    dialog.close()


def test_keep_one_removes_the_other_record_from_the_window(world, make_window, answers
                                                          ) -> None:
    from tests.exchange.test_merge import two_firms_sharing_a_person

    city, a, b = two_firms_sharing_a_person(world)
    world.merge(city, world.export(a.register).path, world.export(b.register).path)
    window = make_window(city)
    window.action(Action.CONFLICTS).trigger()
    dialog = window.findChild(ConflictsDialog, "conflicts")
    dialog.buttons["keep_a"].click()
    assert dialog.list.count() == 0
    assert svc.list_conflicts(city, open_only=False)[0].resolution == "keep_a"


def test_return_from_the_menu_takes_the_unit_and_record_on_screen(merged, make_window,
                                                                   monkeypatch, answers) -> None:
    city, firm, sent = merged
    window = make_window(city)
    firm_unit = next(u for u in window.units if not u.is_own)
    assert window.select_unit(firm_unit.id)
    tab = window.tab("lawyer_member")
    window.tabs.setCurrentWidget(tab)
    tab.view.selectRow(1)
    on_screen = tab.session.record_id
    assert on_screen
    opened: list[ReturnDialog] = []
    monkeypatch.setattr(ReturnDialog, "exec", lambda self: opened.append(self) or 0)
    window.action(Action.RETURN_PACKAGE).trigger()
    [dialog] = opened
    assert dialog.package_id == sent.package_id
    assert dialog.records.currentItem().data(Qt.ItemDataRole.UserRole + 1)[0] == on_screen
    # with the own unit selected, the dashboard opens to choose from
    window.tree.setCurrentItem(window.tree.topLevelItem(0))
    window.action(Action.RETURN_PACKAGE).trigger()
    board = window.findChild(DashboardDialog, "dashboard")
    assert isinstance(board, DashboardDialog) and board.isVisible()
    # the dashboard's double click shows a unit's records; the selection survives a refresh
    board.select_code(firm_unit.code)
    assert board.show_unit()
    assert window.tab("lawyer_member").unit_id == firm_unit.id
    window.ctx.notify(Changes.ALL)
    assert window.tab("lawyer_member").unit_id == firm_unit.id
    board.close()


def test_returning_a_conflict_sends_the_drafted_comment(world, make_window, monkeypatch,
                                                        answers, tmp_path) -> None:
    from tests.exchange.test_merge import two_firms_sharing_a_person

    city, a, b = two_firms_sharing_a_person(world)
    world.merge(city, world.export(a.register).path, world.export(b.register).path)
    window = make_window(city)
    window.action(Action.CONFLICTS).trigger()
    dialog = window.findChild(ConflictsDialog, "conflicts")
    opened: list[ReturnDialog] = []
    target = tmp_path / "冲突退回.djret"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))

    def write_at_once(self) -> int:
        opened.append(self)
        return int(self.write())

    monkeypatch.setattr(ReturnDialog, "exec", write_at_once)
    dialog.buttons["return_b"].click()
    [ret] = opened
    assert ret.table.rowCount() == 1 and "处理冲突时拟" in ret.table.item(0, 2).text()
    ret.table.selectRow(0)
    ret.remove_selected()  # a drafted comment stays
    assert ret.table.rowCount() == 1
    assert target.exists() and ret.written == target
    [report] = world.merge(b.register, target)
    assert report.status == "returned" and report.comments == 1
