"""Every table and list model of the window passes pytest-qt's model tester (Vorta's
tests/unit/test_archive_table_model.py habit): empty, with realistic rows, and after the changes
the window makes to it (reload, search, sort, fetching more rows, a record saved, revealed and
masked again). The tester stays attached to the model, so each change is checked as it happens.

The models: records/table.RecordTableModel, excel/models.PreviewModel and FindingsModel,
packages/dashboard.DashboardModel, cleanup/models.CheckRowsModel, GroupsModel and LinesModel."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt

import desktop.ui
from desktop.exchange.dashboard import UnitStatus
from desktop.formspec import shipped_forms
from desktop.progress import run
from desktop.services.intake import preview as ep
from desktop.services.intake.workbook import check_workbook
from desktop.ui.cleanup.models import CheckRowsModel, GroupsModel, LinesModel
from desktop.ui.excel.models import FindingsModel, PreviewModel, finding_rows
from desktop.ui.packages.changes import ChangesModel
from desktop.ui.packages.dashboard import DashboardModel
from desktop.ui.records import table
from desktop.ui.records.table import RecordTableModel
from desktop.ui.rows import RowsModel
from tests.ui.conftest import firm_set, store
from tests.ui.test_excel_import import members_book

ALL_MODELS = {"RecordTableModel", "PreviewModel", "FindingsModel", "DashboardModel",
              "CheckRowsModel", "GroupsModel", "LinesModel", "RowsModel", "ChangesModel"}


def test_every_model_of_the_window_is_listed_here() -> None:
    """A new model class under desktop/ui is added to this file (and so is tested): every
    public class deriving, directly or through another model class of desktop/ui (of its own
    module or imported: ui/rows.RowsModel), from a QAbstract…Model."""
    classes: list[tuple[str, set[str]]] = []
    for path in Path(desktop.ui.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                classes.append((node.name, {b.id for b in node.bases
                                            if isinstance(b, ast.Name)}))
    models: set[str] = set()
    grown = True
    while grown:  # until no class joins: a model's subclasses are models too
        before = len(models)
        models |= {name for name, bases in classes if any(
            re.fullmatch(r"QAbstract\w*Model", b) or b in models for b in bases)}
        grown = len(models) > before
    found = {name for name in models if not name.startswith("_")}
    assert found == ALL_MODELS


# --- the record table ---------------------------------------------------------------


@pytest.fixture
def members(register):
    _firm, people, org = firm_set(5)
    store(register, "party_org", org)
    return [store(register, "lawyer_member", p) for p in people], people


def record_model(register) -> RecordTableModel:
    forms = shipped_forms()
    return RecordTableModel(register, forms, forms.form("lawyer_member"), register.own_unit_id)


def test_the_record_table_empty_then_reloaded(register, qtmodeltester) -> None:
    model = record_model(register)
    qtmodeltester.check(model)  # before anything is read
    model.reload()
    qtmodeltester.check(model)
    assert model.rowCount() == 0 and model.columnCount() >= 4
    _firm, people, _org = firm_set(2)
    for p in people:
        store(register, "lawyer_member", p)
    model.reload()
    qtmodeltester.check(model)
    assert model.rowCount() == 2


def test_the_record_table_fetched_in_blocks_and_sorted(register, members, qtmodeltester,
                                                       monkeypatch) -> None:
    """Five records fetched two at a time. (Not searched here: Qt's tester runs its checks,
    fetchMore included, from modelReset before it marks the reset as ended, so a reset that
    leaves rows to fetch would be reported by the tester itself; searching is checked below
    with every row in the first block.)"""
    monkeypatch.setattr(table, "BLOCK", 2)
    model = record_model(register)
    model.reload()
    assert model.rowCount() == 2 and model.canFetchMore(QModelIndex())
    qtmodeltester.check(model)  # the tester fetches more too
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    assert model.rowCount() == 5
    qtmodeltester.check(model)
    model.sort(1, Qt.SortOrder.DescendingOrder)  # by name
    qtmodeltester.check(model)
    model.sort(model.columnCount() - 1)  # by the time of the last change
    qtmodeltester.check(model)
    assert model.rowCount() == 5


def test_the_record_table_searched_and_sorted(register, members, qtmodeltester) -> None:
    _ids, people = members
    model = record_model(register)
    model.reload()
    qtmodeltester.check(model)
    model.sort(1)
    qtmodeltester.check(model)
    model.set_query(people[0]["姓名"][:1])
    qtmodeltester.check(model)
    assert 1 <= model.rowCount() <= 5
    model.set_query("不存在的名字")
    qtmodeltester.check(model)
    assert model.rowCount() == 0
    model.set_query("")
    qtmodeltester.check(model)
    assert model.rowCount() == 5


def test_the_record_table_after_a_save_a_reveal_and_a_lock(register, members,
                                                           qtmodeltester) -> None:
    ids, _people = members
    model = record_model(register)
    model.reload()
    qtmodeltester.check(model)
    assert model.record_saved(ids[2]) >= 0  # an existing record changed
    qtmodeltester.check(model)
    _firm, (newcomer, *_rest), _org = firm_set(1, seed=11)
    assert model.record_saved(store(register, "lawyer_member", newcomer)) == 0  # a new one
    qtmodeltester.check(model)
    assert model.rowCount() == 6
    model.reveal_rows([0, 1])
    qtmodeltester.check(model)
    model.hide_all()
    qtmodeltester.check(model)


# --- the Excel import dialog --------------------------------------------------------


def test_the_excel_preview_and_findings(tmp_path, qtmodeltester) -> None:
    forms = shipped_forms()
    lawyer = forms.form("lawyer_member")
    preview_model, findings = PreviewModel(), FindingsModel()
    qtmodeltester.check(preview_model)  # empty: no workbook yet
    qtmodeltester.check(findings)
    book, _ = members_book(tmp_path / "名册.xlsx", members=4)
    preview = ep.preview_workbook(book, lawyer)
    preview_model.set_preview(preview)
    qtmodeltester.check(preview_model)
    assert preview_model.rowCount() == 4
    preview_model.set_imported({0, 2, 5})
    qtmodeltester.check(preview_model)
    preview_model.set_preview(None)
    qtmodeltester.check(preview_model)
    assert preview_model.rowCount() == 0

    rows = finding_rows(lawyer, run(check_workbook(forms, lawyer, book, sheet="党员名册")))
    assert rows
    findings.set_rows(rows)
    qtmodeltester.check(findings)
    for column in range(findings.columnCount()):
        findings.sort(column, Qt.SortOrder.DescendingOrder)
        qtmodeltester.check(findings)
    findings.set_rows([r for r in rows if r.blocking])  # 只看错误
    qtmodeltester.check(findings)
    findings.set_rows([])
    qtmodeltester.check(findings)


# --- the packages dashboard ---------------------------------------------------------


def test_the_dashboard(qtmodeltester) -> None:
    model = DashboardModel()
    qtmodeltester.check(model)
    model.set_rows([
        UnitStatus("A", "甲所", True, "2026-01-01", "已接收", False, "p1", 2,
                   datetime(2026, 1, 1, tzinfo=UTC), 10, 3, 1, 2, 1),
        UnitStatus("B", "乙所", True, None, "未收到", True, None, None, None, 0, 0, 0, 0, 0),
        UnitStatus("C", "丙所", False, None, "已退回", False, "p2", 1, datetime(2026, 2, 1),
                   4, 0, 0, 0, 2, changes="新增1，减少2（转出2），修改0")])
    qtmodeltester.check(model)
    model.set_rows([])
    qtmodeltester.check(model)


def test_the_change_list(qtmodeltester) -> None:
    model = ChangesModel()
    qtmodeltester.check(model)
    model.set_rows([
        ("A", "附件1 律师党员基本信息登记表", "修改", "张三", "", "手机号码", "138****0000",
         "139****5678", "r1"),
        ("A", "附件1 律师党员基本信息登记表", "减少", "李四", "停止党籍：党籍状态为“停止党籍”",
         "党籍状态", "正常", "停止党籍", "r2"),
        ("B", "附件3 党组织基本信息登记表", "新增", "中共某所支部", "新登记", "", "", "", "r3")])
    qtmodeltester.check(model)
    assert model.data(model.index(1, 2), Qt.ItemDataRole.ForegroundRole) is not None
    assert model.data(model.index(0, 6)) == "138****0000"
    model.set_rows([])
    qtmodeltester.check(model)


def test_plain_rows(qtmodeltester) -> None:
    model = RowsModel(["甲", "乙"])
    qtmodeltester.check(model)
    model.set_rows([(1, "一"), (2, "二")])
    qtmodeltester.check(model)
    assert (model.rowCount(), model.columnCount(), model.data(model.index(1, 0))) == (2, 2, "2")


# --- the 法学会 cleanup dialogs ------------------------------------------------------


def test_the_cleanup_check_rows(qtmodeltester) -> None:
    model = CheckRowsModel(["", "会员编号", "姓名", "说明"], editable=[3])
    qtmodeltester.check(model)
    model.set_rows([["H0001", "张三", ""], ["H0002", "李四", "已退休"], ["H0003", "王五", ""]])
    qtmodeltester.check(model)
    model.set_check(1)
    model.set_all(True)
    assert model.setData(model.index(0, 3), "调离")
    qtmodeltester.check(model)
    assert model.checked_rows() == [0, 1, 2] and model.text(0, 3) == "调离"
    model.set_rows([])
    qtmodeltester.check(model)


def test_the_cleanup_groups_and_lines(qtmodeltester) -> None:
    decisions = {0: "确认", 1: "不是重复"}
    model = GroupsModel(["决定", "会员编号", "姓名", "依据"], decision=decisions.__getitem__,
                        kept=lambda gi: "r1" if gi == 0 else "", keep_mark="★ 保留",
                        remove_mark="清理", confirmed="确认", rejected="不是重复")
    qtmodeltester.check(model)
    model.set_groups([
        (["第 1 组", "张三", "2 条"], [("r1", ["H0001", "张三", "身份证号相同"]),
                                     ("r2", ["H0007", "张三", "身份证号相同"])]),
        (["第 2 组", "李四", "2 条"], [("r3", ["H0002", "李四", "姓名、出生日期相同"]),
                                     ("r4", ["H0009", "李四", "姓名、出生日期相同"])])])
    qtmodeltester.check(model)
    assert model.rowCount() == 6 and model.row_of(0, 1, "H0007") == 2
    decisions[1] = "确认"
    model.group_changed(1)
    qtmodeltester.check(model)
    model.set_groups([])
    qtmodeltester.check(model)

    lines = LinesModel()
    qtmodeltester.check(lines)
    lines.set_lines([("已清理 2 人", "#2e7d32"), ("1 人没有找到", "#c62828")])
    qtmodeltester.check(lines)
    lines.set_lines([])
    qtmodeltester.check(lines)
