"""The Excel menu of the main window: 导入Excel…, 导出Excel…, 下载模板… — each for the current
tab's form (the export also offers the summaries 附件4–6 of the unit's scope).

The dialogs are in ui/excel/importing.py and ui/excel/export.py; the work is the command
line's services (services/intake).
"""

from __future__ import annotations

from PySide6.QtWidgets import QMenu

from desktop.ui.actions import Action
from desktop.ui.context import WindowContext
from desktop.ui.excel.export import start_export, start_template
from desktop.ui.excel.importing import start_import


def add_excel_actions(ctx: WindowContext, menu: QMenu) -> None:
    """Add this menu's actions to `menu` (found by name: `ctx.action(Action.EXCEL_IMPORT)`)."""
    menu.setToolTipsVisible(True)
    ctx.add_action(Action.EXCEL_IMPORT, "导入Excel…", lambda: start_import(ctx), menu=menu,
                   tip="从 Excel 工作簿导入当前表的记录：先预览、核对栏目对应并检查，全部无误才写入")
    ctx.add_action(Action.EXCEL_EXPORT, "导出Excel…", lambda: start_export(ctx), menu=menu,
                   tip="把当前表（或汇总表附件4–6）导出为正式格式的工作簿")
    ctx.add_action(Action.EXCEL_TEMPLATE, "下载模板…", lambda: start_template(ctx), menu=menu,
                   tip="保存当前表的 Excel 填写模板（含下拉列表和填写提示）")
