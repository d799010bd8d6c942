"""打印预览: the PDF's own pages (rendered by PDFium), page navigation, zoom, the full-number
option, 打印… and 另存为PDF…."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QSignalBlocker, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
)

from desktop.errors import KnownError
from desktop.services.printing import PrintResult, write_pdf
from desktop.storage.concurrency import require_audit_of
from desktop.ui.context import WindowContext
from desktop.ui.dialogs import WorkDialog, fit_to_screen
from desktop.ui.files import offer_folder, save_path
from desktop.ui.operations import Operation
from desktop.ui.printing.job import start_print
from desktop.ui.printing.render import PageRenderer, PdfPages
from desktop.ui.printing.sources import PrintSource, log_output
from desktop.ui.printing.view import PageView, ThumbView

#: the zoom list: (text, factor or fit mode)
ZOOMS = [("适合宽度", "width"), ("整页", "page"), ("50%", 0.5), ("75%", 0.75), ("100%", 1.0),
         ("125%", 1.25), ("150%", 1.5), ("200%", 2.0), ("300%", 3.0)]
FULL_TEXT = "完整显示身份证号和电话"
THUMBS_WIDTH = 150


class PreviewDialog(WorkDialog):
    """Shows one document; `source.make(full)` remakes it when the full-number option changes.
    Modeless, named printPreview; deleted once closed (WorkDialog)."""

    def __init__(self, ctx: WindowContext, source: PrintSource, result: PrintResult) -> None:
        super().__init__(ctx.widget)
        self.ctx, self.source, self.result = ctx, source, result
        self.full = False
        self.printed = 0  # pages sent by the last 打印…
        self.setWindowTitle(f"打印预览 — {source.title}")
        self.setObjectName("printPreview")
        self.pages = PdfPages(result.pdf)
        self.renderer = PageRenderer(self.pages, self)
        self.view = PageView(self.pages, self.renderer)
        self.view.page_changed.connect(self._page_changed)
        self.thumb_renderer = PageRenderer(self.pages, self)
        self.thumbs = ThumbView(self.pages, self.thumb_renderer)
        self.thumbs.chosen.connect(self.view.go_to)
        self.thumbs.setMinimumWidth(THUMBS_WIDTH // 2)
        self.view.zoom_changed.connect(self._zoom_changed)

        self.first_button = self._tool("首页", "第一页（Ctrl+Home）", lambda: self.view.go_to(0))
        self.prev_button = self._tool("上一页", "上一页（PgUp）",
                                      lambda: self.view.go_to(self.view.current - 1))
        self.page_box = QSpinBox()
        self.page_box.setObjectName("pageNumber")
        self.page_box.setAccessibleName("页码")
        self.page_box.setKeyboardTracking(False)
        self.page_box.setMinimumWidth(64)
        self.page_box.valueChanged.connect(lambda v: self.view.go_to(v - 1))
        self.total_label = QLabel()
        self.next_button = self._tool("下一页", "下一页（PgDn、空格）",
                                      lambda: self.view.go_to(self.view.current + 1))
        self.last_button = self._tool("末页", "最后一页（Ctrl+End）",
                                      lambda: self.view.go_to(len(self.pages) - 1))
        self.zoom_out_button = self._tool("缩小", "缩小（Ctrl+-，或 Ctrl+滚轮）", lambda: self.zoom_by(0.8))
        self.zoom_box = QComboBox()
        self.zoom_box.setObjectName("zoom")
        self.zoom_box.setAccessibleName("缩放")
        self.zoom_box.setEditable(False)
        for text, value in ZOOMS:
            self.zoom_box.addItem(text, value)
        self.zoom_box.activated.connect(self._zoom_chosen)
        self.zoom_in_button = self._tool("放大", "放大（Ctrl++，或 Ctrl+滚轮）", lambda: self.zoom_by(1.25))
        self.full_box = QCheckBox(FULL_TEXT)
        self.full_box.setToolTip("默认遮蔽身份证号码和电话号码。勾选后全号显示，并记入操作日志；"
                                 "此时打印、另存的也是全号。")
        self.full_box.setVisible(source.can_full)
        self.full_box.toggled.connect(self._full_toggled)
        self.state_label = QLabel()
        self.print_button = QPushButton("打印…")
        self.print_button.setToolTip("Ctrl+P")
        self.print_button.clicked.connect(self.print_pages)
        self.save_button = QPushButton("另存为PDF…")
        self.save_button.clicked.connect(self.save_pdf)
        self.close_button = QPushButton("关闭")
        self.close_button.clicked.connect(self.reject)

        bar = QHBoxLayout()
        for w in (self.first_button, self.prev_button, QLabel("第"), self.page_box,
                  self.total_label, self.next_button, self.last_button):
            bar.addWidget(w)
        bar.addSpacing(16)
        for w in (self.zoom_out_button, self.zoom_box, self.zoom_in_button):
            bar.addWidget(w)
        bar.addSpacing(16)
        bar.addWidget(self.full_box)
        bar.addStretch(1)
        for w in (self.print_button, self.save_button, self.close_button):
            bar.addWidget(w)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.thumbs)
        self.splitter.addWidget(self.view)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([THUMBS_WIDTH, 1100 - THUMBS_WIDTH])
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.state_label)
        for keys, slot in ((QKeySequence.StandardKey.Print, self.print_pages),
                           (QKeySequence.StandardKey.ZoomIn, lambda: self.zoom_by(1.25)),
                           (QKeySequence("Ctrl+="), lambda: self.zoom_by(1.25)),
                           (QKeySequence.StandardKey.ZoomOut, lambda: self.zoom_by(0.8))):
            action = QAction(self)
            action.setShortcut(keys)
            action.triggered.connect(slot)
            self.addAction(action)
        self._show_counts()
        fit_to_screen(self, (1100, 860))
        self.view.setFocus()
        ctx.widget.installEventFilter(self)  # closes with the main window

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.ctx.widget and event.type() == QEvent.Type.Close and self.isVisible():
            self.reject()
        return False

    def _tool(self, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.clicked.connect(slot)
        return button

    # -- navigation and zoom --

    def _show_counts(self) -> None:
        n = len(self.pages)
        with QSignalBlocker(self.page_box):
            self.page_box.setRange(1, max(1, n))
            self.page_box.setValue(self.view.current + 1)
        self.total_label.setText(f"页　共 {n} 页")
        what = f"{self.result.records} 条记录，" if self.source.detail.get("record_ids") is not \
            None else ""
        masked = "全号显示（已记入操作日志）" if self.full else "身份证号码、电话号码已遮蔽"
        self.state_label.setText(f"{what}共 {n} 页。{masked}" if self.source.can_full
                                 else f"共 {n} 页。")

    def page_text(self) -> str:
        """第 x 页 共 y 页, as the toolbar shows it."""
        return f"第 {self.view.current + 1} 页 共 {len(self.pages)} 页"

    def _page_changed(self, index: int) -> None:
        self.thumbs.mark(index)
        with QSignalBlocker(self.page_box):
            self.page_box.setValue(index + 1)
        self.prev_button.setEnabled(index > 0)
        self.first_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(self.pages) - 1)
        self.last_button.setEnabled(index < len(self.pages) - 1)

    def _zoom_chosen(self, row: int) -> None:
        value = self.zoom_box.itemData(row)
        if isinstance(value, str):
            self.view.set_zoom(self.view.fit_zoom(value), value)
        else:
            self.view.set_zoom(float(value))

    def zoom_by(self, factor: float) -> None:
        self.view.set_zoom(self.view.zoom * factor)

    def _zoom_changed(self, zoom: float) -> None:
        with QSignalBlocker(self.zoom_box):
            if self.view.fit:
                self.zoom_box.setCurrentIndex(self.zoom_box.findData(self.view.fit))
            else:
                text = f"{round(zoom * 100)}%"
                row = self.zoom_box.findText(text)
                if row < 0:  # one more entry at the end for a zoom not in the list
                    row = len(ZOOMS)
                    if self.zoom_box.count() == row:
                        self.zoom_box.addItem(text, zoom)
                    self.zoom_box.setItemText(row, text)
                    self.zoom_box.setItemData(row, zoom)
                self.zoom_box.setCurrentIndex(row)

    # -- the full-number option --

    def _full_toggled(self, on: bool) -> None:
        """Remake the document masked or in full (a full one is logged by the print service)."""
        self.full_box.setEnabled(False)
        self.state_label.setText("正在重新排版…")
        self.ctx.status("正在重新排版…")

        def done(result: PrintResult) -> None:
            self.full_box.setEnabled(True)
            self.full = on
            self.set_result(result)

        def failed(message: str) -> None:
            self.full_box.setEnabled(True)
            with QSignalBlocker(self.full_box):
                self.full_box.setChecked(self.full)
            self._show_counts()
            QMessageBox.warning(self, "无法预览", message)

        # a full document is logged by the print service: then it is made on the write pool
        self.job = (Operation(self.ctx, lambda: self.source.make(on), title="无法预览",
                              writes=on)
                    .failure(failed).finally_(self.job_ended).success(done).run())

    def set_result(self, result: PrintResult) -> None:
        """Show another version of the document, staying on the same page."""
        keep = self.view.current
        self.renderer.stop()
        self.thumb_renderer.stop()
        self.pages.close()
        self.result = result
        self.pages = PdfPages(result.pdf)
        self.renderer = PageRenderer(self.pages, self)
        self.thumb_renderer = PageRenderer(self.pages, self)
        self.view.show_pages(self.pages, self.renderer)
        self.thumbs.show_pages(self.pages, self.thumb_renderer)
        self.view.go_to(keep)
        self._show_counts()

    # -- output --

    def save_pdf(self) -> Path | None:
        """另存为PDF…: the service's bytes, written whole; logged like a print."""
        path = save_path(self.ctx, "pdf", "另存为PDF", f"{self.source.title}.pdf",
                         "PDF 文件 (*.pdf)", self)
        if path is None:
            return None
        if path.suffix.lower() != ".pdf":
            path = path.with_name(path.name + ".pdf")
        try:
            require_audit_of(self.ctx.register)  # the audit entry must be possible: first
            write_pdf(path, self.result)
        except KnownError as err:
            QMessageBox.warning(self, "未能保存", str(err))
            return None
        log_output(self.ctx.register, self.ctx.actor, self.source, self.result,
                   full=self.full, output="file", where=str(path))
        self.ctx.status(f"已保存 {path}（{self.result.pages} 页）")
        offer_folder(self.ctx, path)
        return path

    def print_pages(self) -> None:
        """打印…: the printer dialog, then the pages on a worker."""
        result, full = self.result, self.full

        def done(pages: int, printer) -> None:
            where = printer.outputFileName() or printer.printerName() or "打印机"
            log_output(self.ctx.register, self.ctx.actor, self.source, result,
                       full=full, output="printer", where=where)
            self.ctx.status(f"已发送到打印机：{pages} 页")
            self.printed = pages

        def failed(message: str) -> None:
            QMessageBox.warning(self, "打印未完成", message)

        def cancelled() -> None:
            self.ctx.status("打印已取消（Linux 打印机可能仍会打出已发送的页）")

        start_print(self.ctx, self, result.pdf, self.source.title, done, failed,
                    cancelled)

    def done(self, code: int) -> None:
        """Closing: stop rendering and let go of the pages."""
        self.renderer.stop()
        self.thumb_renderer.stop()
        self.pages.close()
        super().done(code)
