"""The 打印 menu: 打印预览… and 打印… of the current record, the preview of the current tab's
whole form, of 附件4–6 and, for a 法学会, of the 统计表 and the 通报.

The PDF is made by the print service on a worker (a thousand pages do not freeze the window),
then shown in PreviewDialog or sent to the printer.
"""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

from desktop.services.printing import STATS_ID, PrintResult
from desktop.ui.actions import Action
from desktop.ui.context import WindowContext
from desktop.ui.operations import Operation
from desktop.ui.printing.job import start_print
from desktop.ui.printing.preview import PreviewDialog
from desktop.ui.printing.sources import (
    PrintSource,
    log_output,
    notice_source,
    record_source,
    summary_ids,
    table_source,
    table_title,
)

#: 打印 is Ctrl+P (the platform's Print key); the preview takes Ctrl+Shift+P
PREVIEW_KEYS = QKeySequence("Ctrl+Shift+P")


def summary_action(table_id: str) -> str:
    """The name of the preview action of a summary table (or the 统计表)."""
    return f"{Action.PREVIEW_SUMMARY}:{table_id}"


def add_print_actions(ctx: WindowContext, menu: QMenu) -> None:
    """Add this menu's actions to `menu` (found by name: `ctx.action(Action.PRINT)`, the
    summaries' previews by `summary_action(table_id)`)."""
    for name, text, keys, tip, slot in (
            (Action.PRINT_PREVIEW, "打印预览…", PREVIEW_KEYS,
             "预览当前记录的打印页面（与 dengji print 生成的 PDF 相同）", preview_record),
            (Action.PRINT, "打印…", QKeySequence(QKeySequence.StandardKey.Print),
             "把当前记录打印到打印机（身份证号码、电话号码遮蔽）", print_record)):
        action = ctx.add_action(name, text, lambda f=slot: f(ctx), menu=menu, keys=keys)
        action.setStatusTip(tip)
        ctx.widget.addAction(action)  # the shortcuts work wherever the focus is
    menu.addSeparator()
    form = ctx.add_action(Action.PREVIEW_FORM, "预览本表全部记录…", lambda: preview_form(ctx),
                          menu=menu)
    form.setStatusTip("预览当前表单的全部记录，每条一页")
    tables = summary_ids(ctx.forms, ctx.own.level)
    society = ctx.own.level.startswith("society")
    if society:
        tables.append(STATS_ID)
    if tables:
        menu.addSeparator()
    for table_id in tables:
        ctx.add_action(summary_action(table_id), f"预览{table_title(ctx.forms, table_id)}…",
                       lambda t=table_id: open_preview(
                           ctx, table_source(ctx.register, ctx.forms, t, ctx.actor)),
                       menu=menu)
    if society:
        ctx.add_action(Action.PREVIEW_NOTICE, "预览清理结果通报…",
                       lambda: open_preview(ctx, notice_source(ctx.register, ctx.forms)),
                       menu=menu)


def current_record_source(ctx: WindowContext) -> PrintSource | None:
    """The record open in the current tab (saved first), or None after telling the user."""
    tab = ctx.current_tab()
    tab.save_draft()
    record_id = tab.session.record_id
    if not record_id:
        QMessageBox.information(
            ctx.widget, "请先选择记录",
            "请先在左侧列表中选择要打印的记录（新建的记录请先保存）。\n"
            "要打印本表的全部记录，请用“打印”菜单的“预览本表全部记录…”。")
        return None
    name = tab.session.values.get(tab.form.name_field) or "记录"
    return record_source(ctx.register, ctx.forms, tab.form.id, [record_id],
                         f"{tab.form.attachment or tab.form.title} {name}", ctx.actor)


def preview_record(ctx: WindowContext) -> None:
    """打印预览…: the current record's pages."""
    source = current_record_source(ctx)
    if source is not None:
        open_preview(ctx, source)


def preview_form(ctx: WindowContext) -> None:
    """Every record of the current tab's form (as `dengji print --form FORM`)."""
    tab = ctx.current_tab()
    tab.save_draft()
    open_preview(ctx, record_source(ctx.register, ctx.forms, tab.form.id, None,
                                    f"{tab.form.display_title}（全部记录）", ctx.actor))


def _make(ctx: WindowContext, source: PrintSource, on_done) -> None:
    ctx.status(f"正在排版{source.title}…")
    Operation(ctx, lambda: source.make(False), title="无法打印").success(on_done).run()


def open_preview(ctx: WindowContext, source: PrintSource) -> None:
    """Make the masked PDF on a worker, then show it in a preview dialog (printPreview)."""
    def done(result: PrintResult) -> None:
        PreviewDialog(ctx, source, result).show()
        ctx.status(f"打印预览：{source.title}，共 {result.pages} 页"
                   + (f"（另有 {result.drafts} 条草稿未计入）" if result.drafts else ""))

    _make(ctx, source, done)


def print_record(ctx: WindowContext) -> None:
    """打印…: the current record straight to the printer dialog (masked)."""
    source = current_record_source(ctx)
    if source is None:
        return

    def made(result: PrintResult) -> None:
        def printed(pages: int, printer) -> None:
            log_output(ctx.register, ctx.actor, source, result, full=False,
                       output="printer",
                       where=printer.outputFileName() or printer.printerName() or "打印机")
            ctx.status(f"已发送到打印机：{source.title}，{pages} 页")

        start_print(ctx, ctx.widget, result.pdf, source.title, printed,
                    lambda message: QMessageBox.warning(ctx.widget, "打印未完成", message))

    _make(ctx, source, made)
