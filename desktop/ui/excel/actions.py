"""The Excel menu of the main window: 导入Excel…, 导出Excel…, 下载模板… — each for the current
tab's form (the export also offers the summaries 附件4–6 of the unit's scope).

The dialogs are in desktop/ui/excel_import.py and excel_export.py; the work is the command
line's services (services.excel, services.excel_preview).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from desktop.ui.excel.export import start_export, start_template
from desktop.ui.excel.importing import start_import

if TYPE_CHECKING:
    from desktop.ui.mainwindow import MainWindow


def add_excel_actions(window: MainWindow, menu: QMenu) -> None:
    """Add this menu's actions to `menu`; keep each QAction on the window for tests."""
    window.excel_import_action = QAction("导入Excel…", window)
    window.excel_import_action.setToolTip("从 Excel 工作簿导入当前表的记录：先预览、核对栏目对应并检查，"
                                          "全部无误才写入")
    window.excel_import_action.triggered.connect(lambda: start_import(window))
    window.excel_export_action = QAction("导出Excel…", window)
    window.excel_export_action.setToolTip("把当前表（或汇总表附件4–6）导出为正式格式的工作簿")
    window.excel_export_action.triggered.connect(lambda: start_export(window))
    window.excel_template_action = QAction("下载模板…", window)
    window.excel_template_action.setToolTip("保存当前表的 Excel 填写模板（含下拉列表和填写提示）")
    window.excel_template_action.triggered.connect(lambda: start_template(window))
    menu.setToolTipsVisible(True)
    for action in (window.excel_import_action, window.excel_export_action,
                   window.excel_template_action):
        menu.addAction(action)
    window.excel_import_dialog = None
    window.excel_export_dialog = None
