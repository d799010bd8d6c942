"""收件看板 at 1366×768 (the tests' offscreen screen, tests/conftest.py): with many units, long
unit names and large change counts every column is as wide as what it shows (本次变化 shows
the counts; the reasons of 减少 are in its tooltip), 单位名称 takes the rest of the width and
elides a long name with the whole name in its tooltip, and the table needs no horizontal
scrolling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QStyle  # noqa: E402

from desktop.exchange.changes import sentence  # noqa: E402
from desktop.exchange.dashboard import UnitStatus  # noqa: E402
from desktop.ui.packages.dashboard import (  # noqa: E402
    CHANGES,
    COLUMNS,
    NAME,
    DashboardDialog,
    counts_only,
)

LONG_NAME = "北京大成律师事务所（中国·北京）上海分所驻北京联络处第二分支机构"


def said(added: int, removed: dict[str, int], changed: int) -> str:
    """A change summary as a package carries it (exchange/dashboard.carried_text)."""
    return sentence(added, removed, changed).replace(" 条", "").replace(" ", "")


CHANGED = [said(12345, {"转出": 10, "退休": 5, "作废": 20, "其他（劳动关系解除）": 2}, 23456),
           said(1, {"转出": 1, "作废": 2}, 2), said(230, {}, 1024), "",
           said(0, {"死亡": 1, "转出": 4, "出党": 2}, 16)]


def units(n: int = 40) -> list[UnitStatus]:
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        got = i % 5 != 3
        out.append(UnitStatus(
            code=f"91110000MA0{i:07d}", name=LONG_NAME if i % 7 == 0 else f"北京市第{i}律师事务所",
            expected=i % 9 != 0, deadline="2026-12-31",
            status=("已接收" if i % 3 == 0 else "待审核") if got else "未收到", late=i % 4 == 1,
            package_id=f"p{i}" if got else None, sequence=i + 1 if got else None,
            received_at=now - timedelta(hours=i) if got else None,
            records=123456 + i if got else 0, errors=i * 37, warnings=i * 1013, conflicts=i,
            open_comments=i % 4, changes=CHANGED[i % len(CHANGED)] if got else ""))
    return out


@pytest.fixture
def board(make_window, register, qtbot):
    window = make_window(register)
    dialog = DashboardDialog(window.ctx)
    dialog.all_rows = units()
    dialog.show_rows()
    dialog.show()
    qtbot.waitExposed(dialog)
    QApplication.processEvents()
    yield dialog
    dialog.close()


def test_every_column_fits_the_table_at_1366(board):
    assert QApplication.primaryScreen().availableGeometry().width() <= 1366
    view, header = board.view, board.view.horizontalHeader()
    assert board.frameGeometry().width() <= 1366
    assert header.length() <= view.viewport().width()  # no horizontal scrolling
    assert view.horizontalScrollBar().maximum() == 0
    margin = 2 * (view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1)
    metrics = view.fontMetrics()
    for col in range(len(COLUMNS)):
        if col == NAME:
            continue
        size = header.sectionSize(col)
        assert size >= header.sectionSizeHint(col), COLUMNS[col]  # the heading whole
        for row in range(board.proxy.rowCount()):
            text = str(board.proxy.index(row, col).data() or "")
            assert metrics.horizontalAdvance(text) + margin <= size, (COLUMNS[col], text)
    # the name column has the rest: ordinary names whole, a long one elided with its tooltip
    assert header.sectionSize(NAME) >= metrics.horizontalAdvance("北京市第39律师事务所") + margin
    long_row = next(r for r in range(board.proxy.rowCount())
                    if board.proxy.index(r, NAME).data() == LONG_NAME)
    assert board.proxy.index(long_row, NAME).data(Qt.ItemDataRole.ToolTipRole) == LONG_NAME


def test_the_changes_cell_shows_counts_and_its_tooltip_the_reasons(board):
    first = next(r for r in range(board.proxy.rowCount())
                 if board.model.rows[board.proxy.mapToSource(board.proxy.index(r, 0)).row()]
                 .changes == CHANGED[0])
    cell = board.proxy.index(first, CHANGES)
    assert cell.data() == "新增12345，减少37，修改23456"
    assert cell.data(Qt.ItemDataRole.ToolTipRole).startswith(CHANGED[0] + "\n")
    assert "原因" in board.model.headerData(CHANGES, Qt.Orientation.Horizontal,
                                            Qt.ItemDataRole.ToolTipRole)


@pytest.mark.parametrize(("said_text", "shown"), [
    ("新增1，减少3（转出1，作废2），修改2", "新增1，减少3，修改2"),
    ("新增0，减少2（其他（劳动关系解除）2），修改0", "新增0，减少2，修改0"),  # a bracket inside
    ("新增1，减少0，修改0", "新增1，减少0，修改0"),
    ("没有变化", "没有变化"),
    ("", ""),
    ("新增1，减少1（转出1", "新增1，减少1"),  # a damaged summary: nothing after the bracket
])
def test_counts_only(said_text, shown):
    assert counts_only(said_text) == shown
