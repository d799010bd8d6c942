"""打印…: the printer dialog, then each PDF page rendered at the printer's resolution and drawn
onto the whole sheet (the PDF has its own margins), on a worker with a progress dialog.

Painting onto a QPrinter from another thread is supported by Qt (like a QImage); the window's
thread does not touch the printer while the job runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter, QTransform
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QProgressDialog, QWidget

from desktop.errors import KnownError
from desktop.progress import Progress
from desktop.storage.concurrency import require_audit_of
from desktop.ui.context import WindowContext
from desktop.ui.operations import Operation
from desktop.ui.printing.render import PdfPages

#: pages are rendered at the printer's resolution, but not finer than this (an A4 page at
#: 300 dpi is a 25-megabyte image; finer gains nothing visible for text of this size)
MAX_DPI = 300
#: the printed documents have no colour (black text, gray label cells, the QR code): pages go
#: to the printer as 8-bit gray, a third of the data of colour and about twice as fast
GRAY = True
#: rows of a page image drawn at once (see draw_in_strips)
STRIP_ROWS = 128
#: a progress dialog for jobs of more pages than this
PROGRESS_PAGES = 3


def new_printer(pages: PdfPages, title: str) -> QPrinter:
    """A printer set up for A4, whole sheet, orientation from the first page."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(title)
    landscape = len(pages) > 0 and pages.landscape(0)
    printer.setPageLayout(QPageLayout(
        QPageSize(QPageSize.PageSizeId.A4),
        QPageLayout.Orientation.Landscape if landscape else QPageLayout.Orientation.Portrait,
        QMarginsF(0, 0, 0, 0)))
    printer.setFullPage(True)
    printer.setFromTo(1, len(pages))
    return printer


def choose_printer(parent: QWidget, printer: QPrinter) -> bool:
    """The system's print dialog; False when the user cancels. (Tests replace this.)"""
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("打印")
    dialog.setOption(QPrintDialog.PrintDialogOption.PrintPageRange, True)
    return dialog.exec() == QPrintDialog.DialogCode.Accepted


def page_range(printer: QPrinter, count: int) -> range:
    """The pages (0-based) the user chose in the dialog: all, or from–to."""
    if printer.printRange() == QPrinter.PrintRange.PageRange and printer.fromPage() > 0:
        first = max(1, printer.fromPage())
        last = min(count, printer.toPage() or count)
        return range(first - 1, last)
    return range(count)


def paint_pages(printer: QPrinter, pdf: bytes, indexes: range) -> Iterator[Progress]:
    """Draw the chosen pages onto `printer`, one page image per sheet; returns the count.
    A page whose orientation differs from the sheet's is turned a quarter."""
    pages = PdfPages(pdf)
    dpi = min(printer.resolution(), MAX_DPI)
    painter = QPainter()
    if not painter.begin(printer):
        pages.close()
        raise KnownError("无法开始打印：打印机不可用或输出文件无法写入。请检查打印机或换一个保存位置。")
    done = 0
    finished = False
    try:
        total = len(indexes)
        sheet = printer.pageLayout().fullRectPixels(printer.resolution())
        target = QRectF(0, 0, sheet.width(), sheet.height())
        sheet_landscape = sheet.width() > sheet.height()
        for n, index in enumerate(indexes):
            yield Progress(n, total, f"正在打印第 {n + 1} 页，共 {total} 页")
            if n:
                printer.newPage()
            image = pages.render(index, dpi, gray=GRAY)
            if pages.landscape(index) != sheet_landscape:
                image = image.transformed(QTransform().rotate(90))
            size = image.size().scaled(sheet.size(), Qt.AspectRatioMode.KeepAspectRatio)
            rect = QRectF((target.width() - size.width()) / 2,
                          (target.height() - size.height()) / 2, size.width(), size.height())
            draw_in_strips(painter, rect, image)
            done += 1
        finished = True
    finally:
        # Windows printers can abort a job; Qt's PDF output and CUPS cannot (the pages drawn so
        # far would still be sent): a cancelled PDF file is removed
        aborted = not finished and printer.abort()
        painter.end()
        pages.close()
        if not finished and not aborted and printer.outputFileName():
            Path(printer.outputFileName()).unlink(missing_ok=True)
    yield Progress(total, total, "打印完成")
    return done


def draw_in_strips(painter: QPainter, rect: QRectF, image: QImage) -> None:
    """Draw `image` into `rect` a band of STRIP_ROWS rows at a time. Qt compresses an image
    while drawImage holds the interpreter (a 300-dpi page: about 350 ms, the window would
    freeze); a band takes a few milliseconds, and the window runs between bands. Band edges
    fall on whole device pixels, so no seam shows."""
    ratio = rect.height() / image.height()
    for y in range(0, image.height(), STRIP_ROWS):
        rows = min(STRIP_ROWS, image.height() - y)
        top = rect.top() + round(y * ratio)
        bottom = rect.top() + round((y + rows) * ratio)
        painter.drawImage(QRectF(rect.left(), top, rect.width(), bottom - top), image,
                          QRectF(0, y, image.width(), rows))


def start_print(ctx: WindowContext, parent: QWidget, pdf: bytes, title: str,
                on_done: Callable[[int, QPrinter], None],
                on_error: Callable[[str], None],
                on_cancel: Callable[[], None] | None = None) -> QPrinter | None:
    """Ask for a printer, then print on a worker with progress; `on_done(pages, printer)` when
    the last page is sent, `on_cancel()` when the user stopped the job. Returns the printer,
    or None when the dialog was cancelled. The progress is a progress dialog over `parent` (for
    more than a few pages), not the status bar. A role that may not append to the audit log
    (which every print goes to) is told so through `on_error` before a printer is chosen."""
    try:
        require_audit_of(ctx.register)
    except KnownError as err:
        on_error(str(err))
        return None
    pages = PdfPages(pdf)
    printer = new_printer(pages, title)
    count = len(pages)
    pages.close()
    if not choose_printer(parent, printer):
        return None
    indexes = page_range(printer, count)
    progress: QProgressDialog | None = None
    if len(indexes) > PROGRESS_PAGES:
        progress = QProgressDialog("正在打印…", "取消", 0, len(indexes), parent)
        progress.setWindowTitle("打印")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)

    def step(done: int, total: int, message: str) -> None:
        if progress is not None:
            progress.setMaximum(max(total, 1))
            progress.setValue(done)
            progress.setLabelText(message)

    def ended() -> None:
        if progress is not None:
            progress.reset()

    job = (Operation(ctx, lambda: paint_pages(printer, pdf, indexes), title="打印未完成",
                     progress=False)
           .on_progress(step).finally_(ended).failure(on_error)
           .success(lambda n: on_done(n, printer)).run())
    if progress is not None:
        progress.canceled.connect(job.cancel)
    if on_cancel is not None:
        job.signals.cancelled.connect(on_cancel)
    return printer
