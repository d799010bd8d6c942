"""导入Excel: choose a workbook, see its first rows and how its columns map to the form's fields,
change the mapping, check everything before anything is written, then import all or nothing.

The reading and checking are the command line's (services.excel.check_workbook with the mapping
chosen here); the dialog only shows them. A check runs on the read pool, the import (which checks
again, against the register as it is then) on the write pool.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
)

from desktop.domain.forms import FormSpec
from desktop.progress import Progress
from desktop.reports.xlsx.annotate import ANNOTATABLE
from desktop.services.exporting import annotate_results
from desktop.services.intake import preview as ep
from desktop.services.intake.importing import ImportResult, blocks, import_file
from desktop.services.intake.workbook import check_workbook
from desktop.ui.context import Changes, WindowContext
from desktop.ui.dialogs import WorkDialog, fit_to_screen, guard_wheel
from desktop.ui.excel.models import PreviewModel
from desktop.ui.excel.panels import FindingsPanel, MappingPanel
from desktop.ui.files import offer_folder, open_path, save_path
from desktop.ui.operations import Operation
from desktop.ui.workers import TaskRunnable

ANNOTATE_TIP = ("另存一份工作簿：有错误的单元格填红色，有警告的填黄色，批注中是说明。"
                "在 Excel 或 WPS 中改正后再导入")
WORKBOOK_FILTER = "Excel 工作簿 (*.xlsx *.xlsm *.xls *.xlsb *.ods);;所有文件 (*)"


def _task(make):
    """A progress task around a plain function (a quick read on the pool)."""
    yield Progress(0, 1, "读取工作簿")
    return make()


class ImportDialog(WorkDialog):
    """The whole import of one workbook into the current tab's form (module docstring)."""

    def __init__(self, ctx: WindowContext, form: FormSpec, preview: ep.WorkbookPreview) -> None:
        super().__init__(ctx.widget)
        self.ctx, self.form, self.preview = ctx, form, preview
        self.results: list | None = None  # the last check's rows, while the mapping is unchanged
        self.result: ImportResult | None = None  # what the import did
        self.job: TaskRunnable | None = None
        self.importing = False  # while the import runs the dialog cannot be closed
        self.setWindowTitle(f"导入Excel — {form.display_title}")
        self.setObjectName("excelImportDialog")

        self.file_label = QLabel()
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sheet_box = QComboBox()
        self.sheet_box.setAccessibleName("工作表")
        guard_wheel(self.sheet_box)
        self.sheet_box.activated.connect(self._sheet_chosen)
        self.sheet_label = QLabel("工作表：")
        self.header_label = QLabel()
        top = QHBoxLayout()
        top.addWidget(self.file_label, 1)
        top.addWidget(self.sheet_label)
        top.addWidget(self.sheet_box)
        top.addWidget(self.header_label)

        self.mapping = MappingPanel(form)
        self.mapping.changed.connect(self._mapping_changed)
        self.problems, self.extra = self.mapping.problems, self.mapping.extra

        self.preview_model = PreviewModel(self)
        self.preview_view = QTableView()
        self.preview_view.setObjectName("excelPreview")
        self.preview_view.setAccessibleName("预览")
        self.preview_view.setModel(self.preview_model)
        self.preview_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview_view.setWordWrap(False)
        self.preview_view.verticalHeader().setDefaultSectionSize(24)
        self.preview_box = QGroupBox()
        col = QVBoxLayout(self.preview_box)
        col.addWidget(self.preview_view)

        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(self.mapping)
        upper.addWidget(self.preview_box)
        upper.setStretchFactor(0, 0)
        upper.setStretchFactor(1, 1)
        upper.setSizes([470, 690])

        self.found = FindingsPanel(form)
        self.findings, self.summary = self.found.model, self.found.summary
        self.only_blocking = self.found.only_blocking
        self.found.only_blocking.toggled.connect(self._update_buttons)
        self.found.view.clicked.connect(self._finding_chosen)
        self.found.view.activated.connect(self._finding_chosen)

        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(upper)
        body.addWidget(self.found)
        body.setSizes([370, 280])

        self.progress = QProgressBar()
        self.progress.hide()
        self.check_button = QPushButton("检查")
        self.check_button.setToolTip("读取全部记录并校验，列出有问题的单元格；不写入登记库")
        self.check_button.clicked.connect(self.check)
        self.annotate_button = QPushButton("保存标注的工作簿…")
        self.annotate_button.clicked.connect(self.save_annotated)
        self.import_button = QPushButton("导入")
        self.import_button.clicked.connect(self.do_import)
        self.close_button = QPushButton("取消")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addStretch(0)
        for b in (self.check_button, self.annotate_button, self.import_button,
                  self.close_button):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(body, 1)
        layout.addLayout(buttons)
        fit_to_screen(self, (1180, 780))
        self._show_preview(preview)

    # -- the sheet and its columns --

    def _show_preview(self, preview: ep.WorkbookPreview) -> None:
        self.preview = preview
        self.file_label.setText(f"文件：{preview.path.name}")
        self.file_label.setToolTip(str(preview.path))
        self.sheet_box.clear()
        self.sheet_box.addItems(list(preview.sheets))
        self.sheet_box.setCurrentText(preview.sheet)
        several = len(preview.sheets) > 1
        self.sheet_box.setVisible(several)
        self.sheet_label.setVisible(several)
        if preview.has_header:
            self.header_label.setText(f"表头在第 {preview.header_row} 行，"
                                      f"下面约 {preview.data_rows:,} 行")
        else:
            self.header_label.setText("")
        shown = len(preview.rows)
        self.preview_box.setTitle(f"预览：工作表“{preview.sheet}”的前 {shown} 行")
        self.preview_model.set_preview(preview)
        self.preview_view.resizeColumnsToContents()
        for i in range(self.preview_model.columnCount()):
            self.preview_view.setColumnWidth(i, min(self.preview_view.columnWidth(i), 180))
        self.mapping.set_preview(preview)
        self._mapping_changed()

    def combo(self, letter: str) -> QComboBox:
        """The mapping combo box of a workbook column (tests, and the keyboard)."""
        return self.mapping.combo(letter)

    def _mapping_changed(self) -> None:
        self._forget_check()
        paths = ep.mapped_paths(self.preview, self.mapping.chosen)
        self.preview_model.set_imported({i for i, path in paths.items() if path})
        self._update_buttons()

    def _finding_chosen(self, index) -> None:
        """Show the cell of a finding in the preview when it is among the first rows."""
        row = self.findings.rows[index.row()]
        if row.sheet != self.preview.sheet:
            return
        cell = self.preview_model.position(row.cell)
        if cell.isValid():
            self.preview_view.setCurrentIndex(cell)
            self.preview_view.scrollTo(cell)

    def _sheet_chosen(self, _index: int) -> None:
        name = self.sheet_box.currentText()
        if name == self.preview.sheet or self.job is not None:
            self.sheet_box.setCurrentText(self.preview.sheet)
            return
        path, form = self.preview.path, self.form

        def done(preview: ep.WorkbookPreview) -> None:
            self._show_preview(preview)

        self._run(lambda: _task(lambda: ep.preview_workbook(path, form, name)), done)

    # -- checking --

    def _forget_check(self) -> None:
        self.results = None
        if self.preview.has_header:
            self.found.clear()
        else:
            self.found.clear("")

    def _update_buttons(self) -> None:
        busy = self.job is not None
        self.check_button.setEnabled(not busy and self.preview.has_header)
        self.sheet_box.setEnabled(not busy)
        self.mapping.setEnabled(not busy)
        annotatable = self.preview.path.suffix.lower() in ANNOTATABLE
        self.annotate_button.setEnabled(not busy and annotatable and bool(self.found.all_rows))
        self.annotate_button.setToolTip(ANNOTATE_TIP if annotatable else
                                        f"只能在 .xlsx 工作簿上标注问题：请先在 Excel 或 WPS 中把"
                                        f"{self.preview.path.name}另存为 .xlsx 再导入")
        self.import_button.setEnabled(not busy and self.can_import())
        self.close_button.setEnabled(not self.importing)

    def can_import(self) -> bool:
        """Checked with this mapping, every row free of blocking errors, mapping clean."""
        return (self.results is not None and self.preview.has_header
                and not any(blocks(r) for r in self.results) and not self.mapping.errors())

    def _mapping(self) -> dict[int, str | None]:
        return self.mapping.mapping()

    def check(self) -> None:
        """Read and check every record with the current mapping (nothing is written)."""
        ctx, form = self.ctx, self.form
        path, sheet, mapping = self.preview.path, self.preview.sheet, self._mapping()

        def task():
            with ctx.register.session() as session:
                return (yield from check_workbook(ctx.forms, form, path, sheet=sheet,
                                                     mapping=mapping, register=ctx.register,
                                                     session=session))

        self._forget_check()
        self.found.clear("正在检查…")
        self._run(task, self.show_results)

    def show_results(self, results: list) -> None:
        self.results = results
        self.found.show_results(results, self.mapping.errors())
        self._update_buttons()
        if self.import_button.isEnabled():
            self.import_button.setDefault(True)
            self.import_button.setFocus()

    # -- marking the workbook --

    def save_annotated(self) -> None:
        if not self.results:
            return
        source = self.preview.path
        out = save_path(self.ctx, "excel", "保存标注的工作簿", f"{source.stem}-已标注.xlsx",
                        "Excel 工作簿 (*.xlsx)", self)
        if out is None:
            return
        results, form = self.results, self.form

        def done(path: Path) -> None:
            self.ctx.status(f"已保存标注的工作簿：{path}")
            offer_folder(self.ctx, path)
            QMessageBox.information(self, "已保存标注的工作簿",
                                    f"已保存到：\n{path}\n\n有错误的单元格填红色，有警告的填黄色，"
                                    f"批注中是说明。改正后请重新导入原工作簿或这份工作簿。")

        self._run(lambda: _task(lambda: annotate_results(source, out, form, results)), done)

    # -- importing --

    def do_import(self) -> None:
        """Import every record (checked again against the register as it is now), or none."""
        if not self.can_import():
            return
        ctx, form = self.ctx, self.form
        path, sheet, mapping = self.preview.path, self.preview.sheet, self._mapping()

        def done(result: ImportResult) -> None:
            self.result = result
            if not result.imported:  # the register changed since the check
                self.show_results(result.rows)
                return
            # the tables show the new records; the cross rules read the unit's records again
            ctx.notify(Changes.RECORDS)
            ctx.status(f"已导入 {result.imported:,} 条记录到 {form.display_title}")
            self.accept()
            QMessageBox.information(ctx.widget, "导入完成",
                                    f"已从 {path.name} 导入 {result.imported:,} 条记录到 "
                                    f"{form.display_title}。")

        self.importing = True
        # a mapping is always passed, so the audit entry records the sheet and mapping used
        self._run(lambda: import_file(ctx.register, ctx.forms, form, path, sheet=sheet,
                                      mapping=dict(mapping or {}), actor=ctx.actor),
                  done, writes=True)

    # -- running work --

    def _run(self, make, done, *, writes: bool = False) -> None:
        """Run `make` through the operation runner with this dialog's own progress bar;
        `done(result)` runs after the dialog is idle again."""
        def failed(message: str) -> None:
            self.sheet_box.setCurrentText(self.preview.sheet)
            QMessageBox.warning(self, "操作未完成", message)

        self.progress.setValue(0)
        self.progress.setMaximum(0)
        self.progress.show()
        self.job = (Operation(self.ctx, make, title="操作未完成", writes=writes, progress=False)
                    .on_progress(self._progress).failure(failed)
                    .finally_(self._finish_job).success(done).run())
        self._update_buttons()

    def _progress(self, done: int, total: int, message: str) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(min(done, total))
        self.progress.setFormat(f"{message} %p%")

    def _finish_job(self) -> None:
        self.importing = False
        self.job_ended()
        self.progress.hide()
        self._update_buttons()

    def reject(self) -> None:
        if self.importing:  # a write is not stopped half way: the import finishes first
            return
        if self.job is not None:
            self.job.cancel()
        super().reject()


def start_import(ctx: WindowContext) -> None:
    """Ask for a workbook, read its first rows and open the import dialog for the current tab
    (found by its name, excelImportDialog)."""
    tab = ctx.current_tab()
    if tab.unit_id != ctx.own.id:
        QMessageBox.information(ctx.widget, "导入Excel",
                                "只能向本单位导入记录。请先在左侧选择本单位。")
        return
    path = open_path(ctx, "excel", f"选择要导入到{tab.form.display_title}的工作簿", WORKBOOK_FILTER)
    if path is None:
        return
    form = tab.form
    (Operation(ctx, lambda: _task(lambda: ep.preview_workbook(path, form)), title="无法导入")
     .failure(lambda message: QMessageBox.warning(ctx.widget, "无法导入",
                                                  f"{message}\n\n没有导入任何记录。"))
     .success(lambda preview: ImportDialog(ctx, form, preview).open()).run())
