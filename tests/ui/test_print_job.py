"""打印… in the real window, printing to a PDF file through QPrinter (as a printer would get
the pages): page count, orientation, page range, cancelling, the audit log; and lazy rendering
of a long document."""

from __future__ import annotations

import io
import json

import pypdfium2 as pdfium
import pytest
from PySide6.QtPrintSupport import QPrinter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select

from desktop.formspec import shipped_forms
from desktop.services.printing import preview_pdf
from desktop.storage import AuditEntry
from desktop.ui.actions import Action
from desktop.ui.printing import job as print_job
from desktop.ui.printing.actions import summary_action
from desktop.ui.printing.render import PDFIUM_LOCK, PageRenderer, PdfPages
from desktop.ui.printing.view import PageView
from tests.ui.test_print_preview import fill, open_and_wait, page_text, select_row


def audit(register) -> list[tuple[str, str, dict]]:
    with register.session() as s:
        return [(e.action, e.target, json.loads(e.detail)) for e in s.execute(
            select(AuditEntry).order_by(AuditEntry.seq)).scalars()]


def sizes(path) -> list[tuple[float, float]]:
    with PDFIUM_LOCK:  # PDFium is not thread-safe: a preview may be rendering meanwhile
        doc = pdfium.PdfDocument(path.read_bytes())
        try:
            return [doc.get_page_size(i) for i in range(len(doc))]
        finally:
            doc.close()


@pytest.fixture
def filled(register):
    return fill(register)


@pytest.fixture
def to_file(monkeypatch, tmp_path):
    """The print dialog 'chooses' a PDF file at 100 dpi (the real path through QPrinter)."""
    chosen: dict = {"out": tmp_path / "打印输出.pdf", "range": None, "asked": 0}

    def choose(_parent, printer: QPrinter) -> bool:
        chosen["asked"] += 1
        if chosen.get("cancel"):
            return False
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(chosen["out"]))
        printer.setResolution(100)
        if chosen["range"]:
            printer.setPrintRange(QPrinter.PrintRange.PageRange)
            printer.setFromTo(*chosen["range"])
        return True

    monkeypatch.setattr(print_job, "choose_printer", choose)
    return chosen


def test_print_a_whole_form_from_the_preview(filled, make_window, qtbot, to_file) -> None:
    register = filled[0]
    window = make_window(register)
    dialog = open_and_wait(window, qtbot, window.action(Action.PREVIEW_FORM))
    dialog.print_button.click()
    qtbot.waitUntil(lambda: dialog.printed > 0, timeout=60000)
    expected = preview_pdf(register, shipped_forms(), "lawyer_member")
    pages = sizes(to_file["out"])
    assert dialog.printed == len(pages) == expected.pages
    assert all(h > w for w, h in pages)  # A4 portrait
    assert pages[0] == pytest.approx((595.3, 841.9), abs=1.5)
    action, target, detail = audit(register)[-1]
    assert (action, target) == ("print", "lawyer_member")
    assert detail["output"] == "printer" and detail["to"] == str(to_file["out"])
    assert detail["pages"] == expected.pages and detail["masked"]
    dialog.close()


def test_a_summary_prints_landscape(filled, make_window, qtbot, to_file) -> None:
    window = make_window(filled[0])
    dialog = open_and_wait(window, qtbot, window.action(summary_action("lawyer_summary")))
    dialog.print_pages()
    qtbot.waitUntil(lambda: dialog.printed > 0, timeout=60000)
    (w, h), = sizes(to_file["out"])
    assert (w, h) == pytest.approx((841.9, 595.3), abs=1.5)
    dialog.close()


def test_print_a_page_range(filled, make_window, qtbot, to_file) -> None:
    window = make_window(filled[0])
    dialog = open_and_wait(window, qtbot, window.action(Action.PREVIEW_FORM))
    to_file["range"] = (2, 3)
    dialog.print_pages()
    qtbot.waitUntil(lambda: dialog.printed > 0, timeout=60000)
    assert dialog.printed == 2 and len(sizes(to_file["out"])) == 2
    assert audit(filled[0])[-1][2]["output"] == "printer"
    dialog.close()


def test_ctrl_p_prints_the_current_record(filled, make_window, qtbot, to_file) -> None:
    register = filled[0]
    window = make_window(register)
    record_id = select_row(window, qtbot, 1)
    window.action(Action.PRINT).trigger()
    qtbot.waitUntil(lambda: any(a[0] == "print" for a in audit(register)), timeout=60000)
    expected = preview_pdf(register, shipped_forms(), "lawyer_member", [record_id])
    assert len(sizes(to_file["out"])) == expected.pages
    action, target, detail = audit(register)[-1]
    assert (action, target, detail["output"]) == ("print", record_id, "printer")


def test_cancelled_print_dialog_prints_nothing(filled, make_window, qtbot, to_file) -> None:
    register = filled[0]
    window = make_window(register)
    dialog = open_and_wait(window, qtbot, window.action(Action.PREVIEW_FORM))
    to_file["cancel"] = True
    dialog.print_pages()
    window.workers.wait(5000)
    assert to_file["asked"] == 1 and not to_file["out"].exists() and dialog.printed == 0
    assert not [a for a in audit(register) if a[0].startswith("print")]
    dialog.close()


def test_printing_to_an_unwritable_file_says_so(filled, make_window, qtbot, monkeypatch,
                                                tmp_path) -> None:
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(
        lambda _w, title, text, *a: shown.append((title, text))))
    window = make_window(filled[0])
    dialog = open_and_wait(window, qtbot, window.action(Action.PREVIEW_FORM))

    def choose(_parent, printer: QPrinter) -> bool:
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(tmp_path / "没有这个文件夹" / "x.pdf"))
        return True

    monkeypatch.setattr(print_job, "choose_printer", choose)
    dialog.print_pages()
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    assert shown[0][0] == "打印未完成" and "无法开始打印" in shown[0][1]
    assert dialog.printed == 0
    dialog.close()


def many_pages(n: int) -> bytes:
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)
    for i in range(n):
        c.drawString(100, 700, f"page {i + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


def test_a_thousand_pages_render_lazily(qtbot) -> None:
    pages = PdfPages(many_pages(1000))
    renderer = PageRenderer(pages)
    view = PageView(pages, renderer)
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    qtbot.waitUntil(lambda: renderer.image(0) is not None and not renderer.pending(),
                    timeout=10000)
    assert len(renderer.cache) <= len(view.visible_pages()) + 3
    view.go_to(899)
    assert view.visible_pages()[0] == 899
    qtbot.waitUntil(lambda: renderer.image(899) is not None, timeout=10000)
    assert renderer.image(500) is None  # the pages scrolled over were never drawn
    renderer.stop()
    assert "page 900" in page_text(pages, 899)
    pages.close()


def test_a_long_job_shows_progress_and_can_be_cancelled(filled, make_window, qtbot, to_file,
                                                        monkeypatch) -> None:
    import time

    from PySide6.QtWidgets import QProgressDialog

    register = filled[0]
    window = make_window(register)
    dialog = open_and_wait(window, qtbot, window.action(Action.PREVIEW_FORM))
    monkeypatch.setattr(print_job, "PROGRESS_PAGES", 1)
    paint = print_job.paint_pages

    def slow(printer, pdf, indexes):
        task = paint(printer, pdf, indexes)
        try:
            while True:
                try:
                    step = next(task)
                except StopIteration as stop:
                    return stop.value
                time.sleep(0.3)
                yield step
        finally:
            task.close()

    monkeypatch.setattr(print_job, "paint_pages", slow)
    dialog.print_pages()
    progress = dialog.findChild(QProgressDialog)
    assert progress is not None and progress.maximum() == 3
    qtbot.waitUntil(lambda: progress.value() >= 1, timeout=10000)
    progress.canceled.emit()  # the 取消 button
    window.workers.wait(10000)
    qtbot.wait(50)
    assert dialog.printed == 0 and not to_file["out"].exists()
    assert not [a for a in audit(register) if a[0].startswith("print")]
    assert "打印已取消" in window.statusBar().currentMessage()
    dialog.close()


def test_closing_the_painting_aborts_the_printer(filled, tmp_path) -> None:
    register = filled[0]
    pdf = preview_pdf(register, shipped_forms(), "lawyer_member").pdf
    printer = QPrinter()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "x.pdf"))
    printer.setResolution(72)
    task = print_job.paint_pages(printer, pdf, range(3))
    next(task)
    next(task)
    task.close()
    assert not (tmp_path / "x.pdf").exists()  # a PDF cannot be aborted: the file is removed
    assert printer.printerState() != QPrinter.PrinterState.Active
