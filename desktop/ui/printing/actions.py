"""The 打印 menu: 打印预览… and 打印… of the current record, the preview of the current tab's
whole form, of 附件4–6 and, for a 法学会, of the 统计表 and the 通报.

The PDF is made by the print service on a worker (a thousand pages do not freeze the window),
then shown in PreviewDialog or sent to the printer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

from desktop.services.printing import STATS_ID, PrintResult
from desktop.ui.printing.job import start_print
from desktop.ui.printing.preview import PreviewDialog
from desktop.ui.printing.sources import (
    PrintSource,
    can_print_records,
    log_output,
    notice_source,
    record_source,
    summary_ids,
    table_source,
    table_title,
)

if TYPE_CHECKING:
    from desktop.ui.mainwindow import MainWindow

#: 打印 is Ctrl+P (the platform's Print key); the preview takes Ctrl+Shift+P
PREVIEW_KEYS = QKeySequence("Ctrl+Shift+P")


def add_print_actions(window: MainWindow, menu: QMenu) -> None:
    """Add this menu's actions to `menu`; keep each QAction on the window for tests."""
    window.print_preview = None  # the last preview dialog opened
    window.print_preview_action = QAction("打印预览…", window)
    window.print_preview_action.setShortcut(PREVIEW_KEYS)
    window.print_preview_action.setStatusTip("预览当前记录的打印页面（与 dengji print 生成的 PDF 相同）")
    window.print_preview_action.triggered.connect(lambda: preview_record(window))
    window.print_action = QAction("打印…", window)
    window.print_action.setShortcut(QKeySequence.StandardKey.Print)
    window.print_action.setStatusTip("把当前记录打印到打印机（身份证号码、电话号码遮蔽）")
    window.print_action.triggered.connect(lambda: print_record(window))
    window.preview_form_action = QAction("预览本表全部记录…", window)
    window.preview_form_action.setStatusTip("预览当前表单的全部记录，每条一页")
    window.preview_form_action.triggered.connect(lambda: preview_form(window))
    for action in (window.print_preview_action, window.print_action):
        window.addAction(action)  # the shortcuts work wherever the focus is
        menu.addAction(action)
    menu.addSeparator()
    menu.addAction(window.preview_form_action)
    window.preview_table_actions = {}
    tables = summary_ids(window.forms, window.own.level)
    if window.own.level.startswith("society"):
        tables.append(STATS_ID)
    if tables:
        menu.addSeparator()
    for table_id in tables:
        action = QAction(f"预览{table_title(table_id)}…", window)
        action.triggered.connect(lambda _c=False, t=table_id: open_preview(
            window, table_source(window.register, window.forms, t, window.actor)))
        window.preview_table_actions[table_id] = action
        menu.addAction(action)
    window.preview_notice_action = None
    if window.own.level.startswith("society"):
        window.preview_notice_action = QAction("预览清理结果通报…", window)
        window.preview_notice_action.triggered.connect(
            lambda: open_preview(window, notice_source(window.register, window.forms)))
        menu.addAction(window.preview_notice_action)


def current_record_source(window: MainWindow) -> PrintSource | None:
    """The record open in the current tab (saved first), or None after telling the user."""
    tab = window.current_tab()
    tab.save_draft()
    record_id = tab.session.record_id
    if not can_print_records(tab.form.id):
        QMessageBox.information(window, "不能打印", f"{tab.form.display_title}不能按登记表打印。")
        return None
    if not record_id:
        QMessageBox.information(
            window, "请先选择记录",
            "请先在左侧列表中选择要打印的记录（新建的记录请先保存）。\n"
            "要打印本表的全部记录，请用“打印”菜单的“预览本表全部记录…”。")
        return None
    name = tab.session.values.get(tab.form.name_field) or "记录"
    return record_source(window.register, window.forms, tab.form.id, [record_id],
                         f"{tab.form.attachment or tab.form.title} {name}", window.actor)


def preview_record(window: MainWindow) -> None:
    """打印预览…: the current record's pages."""
    source = current_record_source(window)
    if source is not None:
        open_preview(window, source)


def preview_form(window: MainWindow) -> None:
    """Every record of the current tab's form (as `dengji print --form FORM`)."""
    tab = window.current_tab()
    tab.save_draft()
    if not can_print_records(tab.form.id):
        QMessageBox.information(window, "不能打印", f"{tab.form.display_title}不能按登记表打印。")
        return
    open_preview(window, record_source(window.register, window.forms, tab.form.id, None,
                                       f"{tab.form.display_title}（全部记录）", window.actor))


def _make(window: MainWindow, source: PrintSource, on_done) -> None:
    window.show_status(f"正在排版{source.title}…")

    def failed(message: str) -> None:
        window.progress.hide()
        QMessageBox.warning(window, "无法打印", message)

    window.workers.start(lambda: source.make(False), on_done=on_done,
                         on_progress=window._progress, on_error=failed)


def open_preview(window: MainWindow, source: PrintSource) -> None:
    """Make the masked PDF on a worker, then show it in a preview dialog."""
    def done(result: PrintResult) -> None:
        window.progress.hide()
        dialog = PreviewDialog(window, source, result)
        window.print_preview = dialog
        dialog.show()
        window.show_status(f"打印预览：{source.title}，共 {result.pages} 页")

    _make(window, source, done)


def print_record(window: MainWindow) -> None:
    """打印…: the current record straight to the printer dialog (masked)."""
    source = current_record_source(window)
    if source is None:
        return

    def made(result: PrintResult) -> None:
        window.progress.hide()

        def printed(pages: int, printer) -> None:
            log_output(window.register, window.actor, source, result, full=False,
                       output="printer",
                       where=printer.outputFileName() or printer.printerName() or "打印机")
            window.show_status(f"已发送到打印机：{source.title}，{pages} 页")

        start_print(window, window.workers, result.pdf, source.title, printed,
                    lambda message: QMessageBox.warning(window, "打印未完成", message))

    _make(window, source, made)
