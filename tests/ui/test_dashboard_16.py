"""收件看板 at scale (issue 16): the filters (全部 / 未收到 / 逾期 / 待审核 / 有冲突), the search by
unit name or code, the Excel export of what the table shows (text cells stay text), an expected
list whose header sits below title rows, and the warning before 上报 that names the expected
units not received or not accepted."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from openpyxl import Workbook, load_workbook  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QFileDialog, QMessageBox  # noqa: E402

from desktop.errors import KnownError  # noqa: E402
from desktop.services import packages as svc  # noqa: E402
from desktop.services.packages.review import read_expected  # noqa: E402
from desktop.ui.actions import Action  # noqa: E402
from desktop.ui.packages.dashboard import (  # noqa: E402
    NAME,
    DashboardDialog,
    confirm_outstanding,
    missing_text,
)
from tests.exchange.conftest import CITY, World  # noqa: E402
from tests.ui.boxes_16 import click_in_box  # noqa: E402

LATE = ("91110000MA00000031", "北京市迟交律师事务所", "2020-01-31")
LATER = ("91110000MA00000032", "=HYPERLINK(\"http://x\",\"点我\")", "2099-12-31")


def titled_list(path, rows, *, titles=("2026 年度党员信息应报单位名单", "制表单位：北京市律师行业党委")):
    """An expected-unit list as clerks make them: title rows, a blank row, then the header."""
    book = Workbook()
    sheet = book.active
    for t in titles:
        sheet.append([t])
    sheet.append([])
    sheet.append(["序号", "单位代码", "单位名称", "截止日期"])
    for n, row in enumerate(rows, start=1):
        sheet.append([n, *row])
    for line in sheet.iter_rows():
        for cell in line:  # a name that looks like a formula is typed as text, as Excel keeps it
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    book.save(path)
    return path


@pytest.fixture
def city_with_list(world: World, tmp_path, monkeypatch):
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=83, parent=city)
    world.merge(city, world.export(firm.register).path)
    [sent] = svc.dashboard(city)
    path = titled_list(tmp_path / "应报单位.xlsx",
                       [(sent.code, sent.name, "2099-12-31"), LATE, LATER])
    return city, sent, path


def open_dashboard(make_window, city, path, monkeypatch) -> DashboardDialog:
    window = make_window(city)
    window.action(Action.DASHBOARD).trigger()
    dialog = window.findChild(DashboardDialog, "dashboard")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    dialog.import_button.click()
    return dialog


def names(dialog: DashboardDialog) -> set[str]:
    return {dialog.proxy.index(i, NAME).data() for i in range(dialog.proxy.rowCount())}


def test_a_list_with_title_rows_is_read_below_them(tmp_path) -> None:
    path = titled_list(tmp_path / "名单.xlsx", [LATE, LATER])
    rows = read_expected(path)
    assert [(r.code, r.name, r.deadline) for r in rows] == [LATE, LATER]
    # no header anywhere: said plainly, nothing read
    book = Workbook()
    book.active.append(["只有一行标题"])
    book.active.append(["甲", "乙"])
    book.save(tmp_path / "无表头.xlsx")
    with pytest.raises(KnownError, match="表头应含“单位代码”和“单位名称”"):
        read_expected(tmp_path / "无表头.xlsx")
    # a missing name in a data row is named by its Excel row (the header is row 4)
    bad = titled_list(tmp_path / "缺名称.xlsx", [LATE, ("91110000MA00000033", "", "")])
    with pytest.raises(KnownError, match="第 6 行缺少单位代码或名称"):
        read_expected(bad)


def test_filters_and_search(city_with_list, make_window, monkeypatch, qtbot) -> None:
    city, sent, path = city_with_list
    dialog = open_dashboard(make_window, city, path, monkeypatch)
    assert dialog.model.rowCount() == 3 and "显示 3 / 3" in dialog.shown_label.text()
    expect = {"全部": {sent.name, LATE[1], LATER[1]}, "未收到": {LATE[1], LATER[1]},
              "逾期": {LATE[1]}, "待审核": {sent.name}, "有冲突": set()}
    for which, want in expect.items():
        dialog.filter.setCurrentText(which)
        assert names(dialog) == want, which
        assert f"显示 {len(want)} / 3" in dialog.shown_label.text()
    dialog.filter.setCurrentText("全部")
    # by code, typed (ASCII), case ignored
    qtbot.keyClicks(dialog.search, "ma00000031")
    assert names(dialog) == {LATE[1]}
    # by a part of the name (Chinese through setText), spaces around it ignored
    dialog.search.setText(" 迟交 ")
    assert names(dialog) == {LATE[1]}
    # full-width letters and digits match too
    dialog.search.setText("ＭＡ００００００３２")
    assert names(dialog) == {LATER[1]}
    # search and filter together: nothing not received is called 迟交 and 待审核
    dialog.search.setText("迟交")
    dialog.filter.setCurrentText("待审核")
    assert names(dialog) == set() and "显示 0 / 3" in dialog.shown_label.text()
    dialog.search.clear()
    assert names(dialog) == {sent.name}
    # the selection survives a filter that keeps the row; accepting refreshes the filtered view
    dialog.select_code(sent.code)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dialog.accept_button.click()
    assert names(dialog) == set()  # accepted: no longer 待审核
    dialog.close()


def test_export_what_is_shown(city_with_list, make_window, monkeypatch, tmp_path) -> None:
    city, sent, path = city_with_list
    dialog = open_dashboard(make_window, city, path, monkeypatch)
    dialog.filter.setCurrentText("未收到")
    dialog.view.sortByColumn(NAME, Qt.SortOrder.DescendingOrder)
    shown = [dialog.proxy.index(i, NAME).data() for i in range(dialog.proxy.rowCount())]
    out = tmp_path / "看板"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    dialog.export_button.click()
    written = out.with_name("看板.xlsx")
    assert written.is_file()
    sheet = load_workbook(written).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][0] == "收件看板（未收到）"
    header = next(i for i, r in enumerate(cells) if r[:3] == ["单位代码", "单位名称", "应报"])
    body = cells[header + 1: header + 1 + len(shown)]
    assert [r[1] for r in body] == shown  # the rows in the table's order
    assert {r[0] for r in body} == {LATE[0], LATER[0]}
    assert all(r[4] == "未收到" for r in body)
    assert cells[header + 1 + len(shown)][0] == "合计：2 个单位"
    # a unit name that looks like a formula stays text, never a formula
    formula = next(c for row in sheet.iter_rows() for c in row if c.value == LATER[1])
    assert formula.data_type == "s" and formula.quotePrefix
    assert not any(isinstance(c.value, str) and c.value.startswith("=") and c.data_type == "f"
                   for row in sheet.iter_rows() for c in row)
    # the export is audited by file name
    with city.session() as session:
        from sqlalchemy import select

        from desktop.storage.tables import AuditEntry
        entries = session.execute(select(AuditEntry).where(
            AuditEntry.action == "dashboard.export")).scalars().all()
    assert [e.target for e in entries] == ["看板.xlsx"]
    dialog.close()


def test_before_reporting_the_missing_units_are_named(city_with_list, make_window, monkeypatch,
                                                      qtbot) -> None:
    city, sent, path = city_with_list
    dialog = open_dashboard(make_window, city, path, monkeypatch)
    ctx = dialog.ctx
    dialog.close()
    text = missing_text(svc.dashboard(city))
    assert "应报 3 个单位中，有 3 个单位的数据尚未接收" in text
    assert f"未收到（2 个）：{LATE[1]}、{LATER[1]}" in text
    assert f"已收到（待审核）（1 个）：{sent.name}" in text
    seen: list[str] = []
    click_in_box("outstandingUnits", "取消", seen)
    assert not confirm_outstanding(ctx)
    assert seen == [text]
    click_in_box("outstandingUnits", "继续上报", seen)
    assert confirm_outstanding(ctx)
    # once the received unit is accepted it is no longer named; the two others still are
    svc.accept_package(city, sent.package_id)
    text = missing_text(svc.dashboard(city))
    assert sent.name not in text and "有 2 个单位" in text
    # with every expected unit accepted (or no list at all) nothing is asked
    assert missing_text([r for r in svc.dashboard(city) if r.status == "已接收"]) == ""


def test_the_export_action_warns_first(city_with_list, make_window, monkeypatch, qtbot) -> None:
    """上报 → 导出上报包 in the real window: the warning comes before any file is asked for,
    and 取消 stops there."""
    city, sent, path = city_with_list
    dialog = open_dashboard(make_window, city, path, monkeypatch)
    window = dialog.parent()
    dialog.close()
    asked: list[str] = []
    for name in ("getExistingDirectory", "getOpenFileName", "getSaveFileName"):
        monkeypatch.setattr(QFileDialog, name, lambda *a, n=name, **k: asked.append(n) or (
            "" if n == "getExistingDirectory" else ("", "")))
    seen: list[str] = []
    click_in_box("outstandingUnits", "取消", seen)
    window.action(Action.EXPORT_PACKAGE).trigger()
    qtbot.waitUntil(lambda: bool(seen))
    assert LATE[1] in seen[0] and asked == []
