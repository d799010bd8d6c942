"""The change list in the real window: the city's clerk selects a firm in the 收件看板, opens
变化清单… before accepting and exports it; the firm's clerk sees its own changes in the export
dialog before sending (本次变化…)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QDialog, QLabel, QMessageBox  # noqa: E402
from sqlalchemy import select  # noqa: E402

from desktop.storage.tables import Package  # noqa: E402
from desktop.ui.actions import Action  # noqa: E402
from desktop.ui.packages.changes import ChangesDialog  # noqa: E402
from desktop.ui.packages.dashboard import CHANGES, DashboardDialog  # noqa: E402
from desktop.ui.packages.export import ExportDialog  # noqa: E402
from tests.exchange.changing import NEW_MOBILE, changed_firm  # noqa: E402
from tests.exchange.conftest import CITY  # noqa: E402
from tests.ui.conftest import shown_dialog  # noqa: E402

SHOTS = Path("/tmp/shots19/changes")


def shot(widget, name: str) -> None:
    if SHOTS.is_dir():
        widget.grab().save(str(SHOTS / f"{name}.png"))


def loaded(qtbot, window, dialog: ChangesDialog) -> ChangesDialog:
    window.workers.wait(60000)
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=60000)
    return dialog


def test_the_city_reads_the_change_list_before_accepting(world, make_window, qtbot,
                                                         monkeypatch, tmp_path,
                                                         qtmodeltester) -> None:
    city = world.register(CITY, "city.dengji")
    changed = changed_firm(world, city, accept=False)
    second = world.export(changed.firm)
    world.merge(city, second.path)
    window = make_window(city)
    window.action(Action.DASHBOARD).trigger()
    board = window.findChild(DashboardDialog, "dashboard")
    board.select_code(changed.code)
    assert board.changes_button.isEnabled()
    [i] = [i for i, r in enumerate(board.model.rows) if r.code == changed.code]
    cell = board.model.index(i, CHANGES)
    assert cell.data() == "新增1，减少3，修改2"  # the counts the firm said; the reasons:
    tip = cell.data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("新增1，减少3（作废1，停止党籍1，转出1），修改2\n") and "变化清单" in tip
    shot(board, "dashboard")
    board.changes_button.click()
    dialog = loaded(qtbot, window, shown_dialog(qtbot, window, "changes", ChangesDialog))
    qtmodeltester.check(dialog.model)
    heading = dialog.findChild(QLabel, "changesHeading").text()
    assert "数据包（序号 2" in heading and "与上一个数据包（序号 1" in heading
    assert "新增 1 条，减少 3 条（作废 1，停止党籍 1，转出 1），修改 2 条" in heading
    carried = dialog.findChild(QLabel, "changesCarried")
    assert carried.isVisible() and "报送单位随数据包自报的变化" in carried.text()
    rows = dialog.model.rows
    assert ("手机号码", "139****5678") in {(r[5], r[7]) for r in rows}
    assert not any(NEW_MOBILE in str(c) for r in rows for c in r)  # masked
    assert {r[2] for r in rows} == {"新增", "减少", "修改"}
    dialog.kind.setCurrentText("减少")
    assert {r[2] for r in dialog.model.rows} == {"减少"}
    assert {r[4] for r in dialog.model.rows} >= {"停止党籍：党籍状态为“停止党籍”",
                                                 "作废：报送单位已作废这条记录"}
    shot(dialog, "changes-dialog")
    # exported as a workbook; a folder that does not exist is said, nothing is written
    boxes: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: boxes.append(a[2]) or 0)
    assert dialog.export_excel(tmp_path / "没有" / "变更.xlsx") is None
    assert "不存在" in boxes[0]
    out = dialog.export_excel(tmp_path / "变更.xlsx")
    assert out is not None and out.is_file()
    dialog.close()
    # nothing was accepted by looking: the clerk accepts afterwards
    [row] = [r for r in board.model.rows if r.code == changed.code]
    assert row.status == "已收到（待审核）"
    board.close()


def test_a_unit_with_one_package_says_there_is_nothing_yet(world, make_window, qtbot) -> None:
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=73, parent=city)
    world.merge(city, world.export(firm.register).path)
    window = make_window(city)
    window.action(Action.DASHBOARD).trigger()
    board = window.findChild(DashboardDialog, "dashboard")
    [row] = board.model.rows
    board.select_code(row.code)
    board.show_changes()
    dialog = loaded(qtbot, window, shown_dialog(qtbot, window, "changes", ChangesDialog))
    assert "还没有可以比较的上一个数据包" in dialog.heading.text()
    assert dialog.model.rowCount() == 0 and not dialog.export_button.isEnabled()
    dialog.close()
    board.close()


def test_the_firm_sees_its_changes_in_the_export_dialog(world, make_window, qtbot) -> None:
    city = world.register(CITY, "city.dengji")
    changed = changed_firm(world, city)
    window = make_window(changed.firm)
    window.action(Action.EXPORT_PACKAGE).trigger()
    window.workers.wait(60000)
    dialog = shown_dialog(qtbot, window, "exportPackage", ExportDialog, timeout=60000)
    label = dialog.findChild(QLabel, "exportChanges")
    qtbot.waitUntil(lambda: "相比" in label.text(), timeout=60000)
    with changed.firm.session() as session:
        day = session.execute(select(Package.created).where(
            Package.id == changed.first.package_id)).scalar_one()
    assert label.text() == ("本次上报与上一个数据包（序号 1，"
                            f"{day:%Y-%m-%d}）相比：新增 1 条，减少 3 条（作废 1，停止党籍 1，"
                            "转出 1），修改 2 条。点“本次变化…”查看逐条明细。")
    shot(dialog, "export-dialog")
    dialog.changes_button.click()
    changes = loaded(qtbot, window, shown_dialog(qtbot, window, "changes", ChangesDialog))
    assert changes.report.own and len({r[-1] for r in changes.model.rows}) == 6
    changes.close()
    dialog.done(QDialog.DialogCode.Rejected)
