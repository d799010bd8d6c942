"""PDF pages as images for the print preview and the printer, drawn by PDFium (pypdfium2).

The preview shows the very PDF that `dengji print` writes, so what is on screen is what goes to
paper. PDFium is not thread-safe: every call into it holds PDFIUM_LOCK (the renderer thread, a
print job and the window's thread may each use it). Rendering a page releases the interpreter,
so the window stays responsive while a page is drawn.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import pypdfium2 as pdfium
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from desktop.errors import KnownError

PDFIUM_LOCK = threading.RLock()
#: the preview keeps at most this many bytes of rendered pages
CACHE_BYTES = 240 * 1024 * 1024


class PdfPages:
    """An open PDF: page count, page sizes in points, and pages rendered to QImage."""

    def __init__(self, pdf: bytes) -> None:
        self.pdf = pdf
        try:
            with PDFIUM_LOCK:
                self._doc = pdfium.PdfDocument(pdf)
                self.sizes = [self._doc.get_page_size(i) for i in range(len(self._doc))]
        except pdfium.PdfiumError as err:
            raise KnownError(f"无法读取要打印的 PDF（{err}）。这是软件缺陷，请联系维护人员。") from None

    def __len__(self) -> int:
        return len(self.sizes)

    def landscape(self, index: int) -> bool:
        w, h = self.sizes[index]
        return w > h

    def render(self, index: int, dpi: float, *, gray: bool = False) -> QImage:
        """Page `index` (0-based) at `dpi` dots per inch, white background, as an RGB (or 8-bit
        gray) image that owns its pixels (safe to hand to another thread)."""
        fmt = QImage.Format.Format_Grayscale8 if gray else QImage.Format.Format_RGB888
        with PDFIUM_LOCK:
            page = self._doc[index]
            try:
                bitmap = page.render(scale=dpi / 72, rev_byteorder=True, grayscale=gray)
                try:
                    image = QImage(bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride,
                                   fmt).copy()
                finally:
                    bitmap.close()
            finally:
                page.close()
        image.setDotsPerMeterX(round(dpi / 0.0254))
        image.setDotsPerMeterY(round(dpi / 0.0254))
        return image

    def close(self) -> None:
        with PDFIUM_LOCK:
            self._doc.close()


class PageRenderer(QObject):
    """Renders the pages the view asks for on one background thread, newest request first,
    and keeps the rendered pages in a bounded cache (least recently used go first)."""

    rendered = Signal(int)  # page index; its image is in `cache`

    def __init__(self, pages: PdfPages, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pages = pages
        self.cache: OrderedDict[int, tuple[float, QImage]] = OrderedDict()
        self._wanted: list[tuple[int, float]] = []
        self._cond = threading.Condition()
        self._stop = False
        self._lock = threading.Lock()  # guards the cache
        self._thread = threading.Thread(target=self._run, name="page-renderer", daemon=True)
        self._thread.start()

    def image(self, index: int) -> tuple[float, QImage] | None:
        """The latest rendering of a page (at whatever resolution), or None."""
        with self._lock:
            hit = self.cache.get(index)
            if hit is not None:
                self.cache.move_to_end(index)
            return hit

    def request(self, indexes: list[int], dpi: float) -> None:
        """Render these pages at `dpi`, in this order; replaces what was asked before."""
        wanted = []
        for i in indexes:
            hit = self.image(i)
            if hit is None or abs(hit[0] - dpi) > 0.01:
                wanted.append((i, dpi))
        with self._cond:
            self._wanted = wanted
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._wanted)

    def stop(self) -> None:
        """End the thread (after the page it is drawing) and let go of the images."""
        with self._cond:
            self._stop = True
            self._wanted = []
            self._cond.notify()
        self._thread.join(10)
        with self._lock:
            self.cache.clear()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._wanted and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                index, dpi = self._wanted.pop(0)
            image = self.pages.render(index, dpi)
            with self._lock:
                self.cache[index] = (dpi, image)
                self.cache.move_to_end(index)
                total = sum(img.sizeInBytes() for _d, img in self.cache.values())
                while total > CACHE_BYTES and len(self.cache) > 1:
                    _i, (_d, old) = self.cache.popitem(last=False)
                    total -= old.sizeInBytes()
            try:
                self.rendered.emit(index)
            except RuntimeError:  # the preview went away meanwhile
                return
