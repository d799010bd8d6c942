"""The 抽查 menu's entries: draw a sample (SampleDialog), record a filled verification
workbook (its findings per cell when it is refused), the report (ReportDialog). Shown at the
levels that receive packages (a firm has nothing to sample)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu, QMessageBox

from desktop.exchange.format.provenance import carries_nothing
from desktop.services.spotcheck import Recorded, record_results
from desktop.ui.actions import Action
from desktop.ui.cleanup.common import FindingsDialog
from desktop.ui.context import WindowContext
from desktop.ui.dialogs import show_one
from desktop.ui.files import open_path
from desktop.ui.operations import Operation
from desktop.ui.spotcheck.dialogs import XLSX, ReportDialog, SampleDialog


def has_spotcheck(level: str) -> bool:
    """Whether a register of this level gets the 抽查 menu (it receives packages)."""
    return not carries_nothing(level)


def add_spotcheck_actions(ctx: WindowContext, menu: QMenu) -> None:
    ctx.add_action(Action.SPOTCHECK_SAMPLE, "抽取样本…", lambda: open_sample(ctx), menu=menu)
    ctx.add_action(Action.SPOTCHECK_RECORD, "导入核验结果…", lambda: record_workbook(ctx),
                   menu=menu)
    ctx.add_action(Action.SPOTCHECK_REPORT, "抽查报告…", lambda: open_report(ctx), menu=menu)


def open_sample(ctx: WindowContext) -> SampleDialog:
    return show_one(ctx.widget, "spotcheckSample", lambda: SampleDialog(ctx))


def open_report(ctx: WindowContext) -> ReportDialog:
    return show_one(ctx.widget, "spotcheckReport", lambda: ReportDialog(ctx))


def record_workbook(ctx: WindowContext, path: Path | None = None) -> None:
    """Read a filled verification workbook and store its results, all or nothing; a refused
    one shows its findings per cell."""
    if path is None:
        path = open_path(ctx, "spotcheck", "选择填好的抽查核验表", XLSX)
        if path is None:
            return
    actor = ctx.actor

    def task():
        yield from ()
        return record_results(ctx.register, path, actor=actor)

    def done(result: Recorded) -> None:
        if result.refused:
            errors = sum(f.severity == "E" for f in result.findings)
            dialog = FindingsDialog("未导入核验结果", f"{path.name} 有 {errors} 处错误，未导入任何结果。"
                                    "请按下列单元格逐一改正后重新导入。", result.findings, ctx.widget)
            dialog.setObjectName("spotcheckFindings")
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.show()
            ctx.status(f"抽查核验表有 {errors} 处错误，未导入")
            return
        counts = "，".join(f"{k} {v} 条" for k, v in result.counts.items())
        text = (f"已导入样本 {result.sample_id} 的核验结果 {result.verdicts} 条（{counts}）"
                + (f"，其中 {result.changed} 条改变了此前导入的结果" if result.changed else "") + "。")
        ctx.status(text)
        QMessageBox.information(ctx.widget, "已导入核验结果", text)

    Operation(ctx, task, title="未能导入核验结果", writes=True,
              exclusive="spotcheck").success(done).run()
