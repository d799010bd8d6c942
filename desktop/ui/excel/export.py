"""导出Excel and 下载模板: the current tab's form (or, for the unit's scope, the summaries
附件4–6) as a workbook in the official layout, and the fill-in template of the current form.

The work is services.excel.export_excel / write_template (the command line's); an export runs on
the write pool because it is written to the audit log (with whether full numbers were shown).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QRadioButton,
    QVBoxLayout,
)

from desktop.domain.levels import LEVEL_NAMES
from desktop.progress import Progress
from desktop.services.exporting import ExportResult, export_excel, write_template
from desktop.services.listing import forms_for_level
from desktop.ui.context import WindowContext
from desktop.ui.dialogs import WorkDialog, fit_to_screen
from desktop.ui.files import offer_folder, save_path
from desktop.ui.operations import Operation
from desktop.ui.register.unit_info import profile_of

XLSX_FILTER = "Excel 工作簿 (*.xlsx)"
FULL_NOTE = "勾选后导出完整号码，此操作记入操作日志；文件请妥善保管。不勾选时部分遮蔽（如 110105********002X）。"


def export_targets(ctx: WindowContext) -> list[tuple[str, str]]:
    """(target id, title) the export offers: the current tab's form, then the summaries of
    附件4–6 whose source form this unit keeps."""
    form = ctx.current_tab().form
    kept = {f.id for f in forms_for_level(ctx.forms, ctx.own.level)}
    out = [(form.id, form.display_title)]
    for sid, sdef in ctx.forms.summaries.items():
        if sdef.source_form in kept:
            out.append((sid, sdef.display_title))
    return out


class ExportDialog(WorkDialog):
    """Which table, full numbers or not, 填报人 and 联系电话; then where to save it."""

    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx.widget)
        self.ctx = ctx
        self.result: ExportResult | None = None
        self.setWindowTitle("导出Excel")
        self.setObjectName("excelExportDialog")
        self.targets = export_targets(ctx)
        self.group = QButtonGroup(self)
        choose = QGroupBox("导出哪张表")
        col = QVBoxLayout(choose)
        for i, (tid, title) in enumerate(self.targets):
            button = QRadioButton(title if i else f"{title}（当前页）")
            button.setObjectName(f"target:{tid}")
            self.group.addButton(button, i)
            col.addWidget(button)
        self.group.button(0).setChecked(True)
        own = ctx.own
        scope = LEVEL_NAMES.get(own.level, own.level)
        below = "" if own.level == "firm" else "及已合并的下级单位"
        note = QLabel(f"范围：本单位（{scope}：{own.name}）{below}的全部记录。"
                      f"汇总表由记录生成，未转入情形4、5的党员列在单独的工作表。")
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")
        col.addWidget(note)

        self.full = QCheckBox("完整显示身份证号和电话")
        self.full.setObjectName("fullNumbers")
        full_note = QLabel(FULL_NOTE)
        full_note.setWordWrap(True)
        full_note.setStyleSheet("color: #555;")
        people = profile_of(ctx)  # 本单位信息; empty: the 附件3 contact, when there is one
        self.filler = QLineEdit(people.filler)
        self.filler.setPlaceholderText("默认取本单位附件3的联系人")
        self.filler.setAccessibleName("填报人")
        self.phone = QLineEdit(people.phone)
        self.phone.setPlaceholderText("默认取本单位附件3的联系电话")
        self.phone.setAccessibleName("联系电话")
        line = QFormLayout()
        line.addRow("填报人：", self.filler)
        line.addRow("联系电话：", self.phone)

        self.progress = QProgressBar()
        self.progress.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("导出…")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.buttons.accepted.connect(self.choose_and_export)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(choose)
        layout.addWidget(self.full)
        layout.addWidget(full_note)
        layout.addLayout(line)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)
        fit_to_screen(self, (560, self.sizeHint().height()))

    def target(self) -> tuple[str, str]:
        return self.targets[max(self.group.checkedId(), 0)]

    def choose_and_export(self) -> None:
        tid, title = self.target()
        out = save_path(self.ctx, "excel", f"导出 {title}", f"{title}-{date.today():%Y%m%d}.xlsx",
                        XLSX_FILTER, self)
        if out is not None:
            self.export_to(out)

    def export_to(self, out: Path) -> None:
        """Write the chosen table to `out` on the write pool, with progress."""
        ctx, (tid, _title) = self.ctx, self.target()
        full, filler, phone = self.full.isChecked(), self.filler.text().strip(), \
            self.phone.text().strip()

        def done(result: ExportResult) -> None:
            self.result = result
            ctx.status(f"已导出 {result.title}：{result.path}")
            offer_folder(ctx, result.path)
            self.accept()
            sdef = ctx.forms.summaries.get(tid)  # the list apart is its [summary.excluded]
            extra = (f"\n另有 {result.excluded} {sdef.counter}（{sdef.excluded.reason}）"
                     "列在单独的工作表。" if result.excluded else "")
            if result.drafts:
                extra += f"\n另有 {result.drafts} 条草稿未计入（标记完成后才计入）。"
            masked = ("公民身份号码和电话号码为完整号码（已记入操作日志），请妥善保管文件。"
                      if result.full else "公民身份号码和电话号码已部分遮蔽。")
            QMessageBox.information(ctx.widget, "导出完成",
                                    f"已导出 {result.title}：{result.records} 条记录。{extra}\n\n"
                                    f"保存在：\n{result.path}\n\n{masked}")

        self.progress.setMaximum(0)
        self.progress.show()
        self.buttons.setEnabled(False)
        self.job = (Operation(ctx, lambda: export_excel(ctx.register, ctx.forms, tid, out,
                                                        full=full, actor=ctx.actor,
                                                        filler=filler, phone=phone),
                              title="导出未完成", writes=True, progress=False)
                    .on_progress(self.show_step)
                    .failure(lambda message: QMessageBox.warning(self, "导出未完成", message))
                    .finally_(self.work_ended).success(done).run())


def start_export(ctx: WindowContext) -> None:
    """Open the export dialog for the current tab (found by its name, excelExportDialog)."""
    ExportDialog(ctx).open()


def _template_task(form, out: Path):
    yield Progress(0, 1, "生成模板")
    path = write_template(form, out)
    yield Progress(1, 1, "生成模板")
    return path


def start_template(ctx: WindowContext) -> None:
    """Ask where to save the current form's fill-in template, then write it."""
    form = ctx.current_tab().form
    out = save_path(ctx, "excel", f"保存{form.display_title}的填写模板",
                    f"{form.display_title}-填写模板.xlsx", XLSX_FILTER)
    if out is None:
        return

    def done(path: Path) -> None:
        ctx.status(f"已保存模板：{path}")
        offer_folder(ctx, path)
        QMessageBox.information(
            ctx.widget, "模板已保存",
            f"已保存 {form.display_title} 的填写模板：\n{path}\n\n在 Excel 或 WPS 中填写（代码栏目有下拉"
            f"列表，表头批注中有填写提示），保存后用“Excel → 导入Excel…”导入。")

    Operation(ctx, lambda: _template_task(form, out), title="模板未保存").success(done).run()
