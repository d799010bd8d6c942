"""上报 → 导出开放数据…: the accepted records in the open format for the national lawyer
management system (services/opendata.py, the command line's `dengji export-open`).

The dialog says what goes out (the records per form), that the values are FULL and that the
export is written to the audit log, and where: a new or empty folder (a folder holding anything
is refused with the reason, nothing is written). The work runs on the write pool (it writes
the audit entry); the done box says where the files are and offers the folder.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtWidgets import (
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from desktop.errors import KnownError
from desktop.services.opendata import OpenExport, check_folder, export_open, open_counts
from desktop.ui.context import WindowContext
from desktop.ui.dialogs import WorkDialog, fit_to_screen
from desktop.ui.files import folder_path, offer_folder, remember, start_folder
from desktop.ui.operations import Operation

FULL_NOTE = ("导出的是完整数据（公民身份号码、电话号码等不遮蔽），供全国律师综合管理系统对接使用；"
             "本次导出记入操作日志。请按涉密要求保管和传递这些文件。")


def suggested_folder(ctx: WindowContext) -> Path:
    """A new folder under where the last export went (else Documents): 开放数据-YYYYMMDD,
    numbered when that name is taken."""
    base = start_folder(ctx, "opendata") / f"开放数据-{date.today():%Y%m%d}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


class OpenExportDialog(WorkDialog):
    """What goes out, that it is full data, and the folder; then the export with progress."""

    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx.widget)
        self.ctx = ctx
        self.result: OpenExport | None = None
        self.setWindowTitle("导出开放数据")
        self.setObjectName("openExportDialog")
        self.counts: dict[str, int] | None = None
        scope = ("本单位已完成的记录" if ctx.own.level in ("firm", "society-county")
                 else "本单位已完成的记录和已接收的下级单位记录")
        self.head = (f"导出{scope}（不含草稿），每个表单一个 JSON Lines 文件，附 JSON Schema、"
                     f"数据字典（数据字典.xlsx、数据字典.md）和清单 manifest.json：")
        what = self.what = QLabel(f"{self.head}\n正在统计记录数…")
        what.setObjectName("openExportWhat")
        what.setWordWrap(True)
        full = QLabel(FULL_NOTE)
        full.setObjectName("openExportFull")
        full.setWordWrap(True)
        full.setStyleSheet("color: #a33;")
        self.folder = QLineEdit(str(suggested_folder(ctx)))
        self.folder.setObjectName("openExportFolder")
        self.folder.setAccessibleName("导出到的文件夹")
        self.folder.textChanged.connect(lambda _text: self.error.hide())
        choose = QPushButton("选择…")
        choose.setObjectName("openExportChoose")
        choose.clicked.connect(self.choose)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(choose)
        hint = QLabel("导出到新的或空的文件夹（文件夹不存在时自动建立）。")
        hint.setStyleSheet("color: #555;")
        self.error = QLabel()
        self.error.setObjectName("openExportError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00;")
        self.error.hide()
        self.progress = QProgressBar()
        self.progress.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("导出")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.buttons.accepted.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (what, full):
            layout.addWidget(widget)
        layout.addWidget(QLabel("导出到："))
        layout.addLayout(row)
        for widget in (hint, self.error, self.progress, self.buttons):
            layout.addWidget(widget)
        fit_to_screen(self, (600, self.sizeHint().height()))
        # counted on a worker (every row of the forms is read); 导出 waits for it, and the
        # dialog, closed meanwhile, waits for the count to end before it is deleted
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        self.job = (Operation(ctx, lambda: open_counts(ctx.register, ctx.forms),
                              title="统计未完成", progress=False)
                    .success(self.counted).finally_(self.counting_ended).run())

    def counting_ended(self) -> None:
        self.job_ended()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)

    def counted(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self.what.setText(self.head + "\n" + "\n".join(
            f"{self.ctx.forms.form(fid).display_title}：{n} 条" for fid, n in counts.items()))
        fit_to_screen(self, (self.width(), self.sizeHint().height()))

    def choose(self) -> None:
        chosen = folder_path(self.ctx, "opendata", "选择导出开放数据的文件夹（新的或空的）", self)
        if chosen is not None:
            self.folder.setText(str(chosen))

    def refuse(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        fit_to_screen(self, (self.width(), self.sizeHint().height()))  # room for the reason

    def export(self) -> None:
        text = self.folder.text().strip()
        if not text:
            self.refuse("请填写或选择导出到的文件夹。")
            return
        out = Path(text).expanduser()
        try:
            check_folder(out.absolute())
        except KnownError as err:
            self.refuse(str(err))
            return
        ctx = self.ctx

        def done(result: OpenExport) -> None:
            self.result = result
            remember(ctx, "opendata", result.folder.parent)
            ctx.status(f"已导出开放数据：{result.folder}")
            offer_folder(ctx, result.folder / "manifest.json")
            self.accept()
            each = "\n".join(f"{ctx.forms.form(fid).display_title}：{n} 条"
                             for fid, n in result.counts.items())
            QMessageBox.information(ctx.widget, "导出完成",
                                    f"已导出开放数据：{result.records} 条记录。\n{each}\n\n"
                                    f"保存在：\n{result.folder}\n\n数据为完整号码，已记入操作日志，"
                                    "请妥善保管；接收方可用 manifest.json 中的 SHA-256 核对文件。")

        self.error.hide()
        self.progress.setMaximum(0)
        self.progress.show()
        self.buttons.setEnabled(False)
        self.job = (Operation(ctx, lambda: export_open(ctx.register, ctx.forms, out,
                                                       actor=ctx.actor),
                              title="导出未完成", writes=True, progress=False,
                              exclusive="opendata")
                    .on_progress(self.show_step)
                    .failure(self.refuse)
                    .finally_(self.work_ended).success(done).run())


def start_open_export(ctx: WindowContext) -> None:
    """Open the dialog (found by its name, openExportDialog)."""
    OpenExportDialog(ctx).open()
