"""The pages of the print preview, one under the other on a gray desk, drawn only where they are
visible: a thousand pages cost no more than the few on screen."""

from __future__ import annotations

from bisect import bisect_right

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from desktop.ui.printing.render import PageRenderer, PdfPages

GAP = 16  # pixels between pages and around them
SCREEN_DPI = 96  # 100 % shows a page at its paper size on a 96-dpi screen
ZOOM_MIN, ZOOM_MAX = 0.1, 4.0
#: pages beyond the visible ones rendered ahead, so paging down finds them ready
AHEAD = 2


class PageView(QAbstractScrollArea):
    """Continuous pages at a zoom factor (1.0 = 100 %); `fit` is "width", "page" or None."""

    page_changed = Signal(int)  # the 0-based page at the middle of the view
    zoom_changed = Signal(float)

    def __init__(self, pages: PdfPages, renderer: PageRenderer,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pages, self.renderer = pages, renderer
        self.zoom = 1.0
        self.fit: str | None = "width"
        self.current = 0
        self._jumping = False
        self._tops: list[float] = []
        self.setObjectName("printPages")
        self.setAccessibleName("打印预览页面")
        self.viewport().setAutoFillBackground(True)
        self.viewport().setStyleSheet("background: #808890;")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        renderer.rendered.connect(self._rendered)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.horizontalScrollBar().valueChanged.connect(lambda _v: self.viewport().update())
        self._layout()

    def show_pages(self, pages: PdfPages, renderer: PageRenderer) -> None:
        """Show another document (the same one remade), at the same zoom."""
        self.renderer.rendered.disconnect(self._rendered)
        self.pages, self.renderer = pages, renderer
        renderer.rendered.connect(self._rendered)
        self.set_zoom(self.fit_zoom(self.fit) if self.fit else self.zoom, self.fit)

    # -- geometry --

    def scale(self) -> float:
        """Screen pixels per PDF point."""
        return self.zoom * SCREEN_DPI / 72

    def _layout(self) -> None:
        s = self.scale()
        y = GAP
        self._tops = []
        widest = 0.0
        for w, h in self.pages.sizes:
            self._tops.append(y)
            y += h * s + GAP
            widest = max(widest, w * s)
        self._height = y
        self._width = widest + 2 * GAP
        vp = self.viewport().size()
        self.verticalScrollBar().setRange(0, max(0, int(self._height - vp.height())))
        self.verticalScrollBar().setPageStep(vp.height())
        self.verticalScrollBar().setSingleStep(40)
        self.horizontalScrollBar().setRange(0, max(0, int(self._width - vp.width())))
        self.horizontalScrollBar().setPageStep(vp.width())
        self.viewport().update()

    def page_rect(self, index: int) -> QRectF:
        """Where page `index` is, in viewport coordinates."""
        s = self.scale()
        w, h = self.pages.sizes[index]
        width = w * s
        vpw = self.viewport().width()
        offset = (vpw - self._width) / 2 if self._width < vpw else \
            -self.horizontalScrollBar().value()
        left = offset + (self._width - width) / 2
        top = self._tops[index] - self.verticalScrollBar().value()
        return QRectF(left, top, width, h * s)

    def visible_pages(self) -> list[int]:
        """Indexes of the pages that show in the viewport now, top to bottom."""
        if not self._tops:
            return []
        top = self.verticalScrollBar().value()
        bottom = top + self.viewport().height()
        first = max(0, bisect_right(self._tops, top) - 1)
        if self._tops[first] + self.pages.sizes[first][1] * self.scale() <= top + 1:
            first += 1  # only the gap above the next page shows
        out = []
        for i in range(first, len(self._tops)):
            if self._tops[i] > bottom:
                break
            out.append(i)
        return out

    # -- zoom and navigation --

    def set_zoom(self, zoom: float, fit: str | None = None) -> None:
        """Zoom to a factor (1.0 = 100 %), keeping the current page in view."""
        keep = self.current
        self.fit = fit
        self.zoom = min(ZOOM_MAX, max(ZOOM_MIN, zoom))
        self._layout()
        self.go_to(keep)
        self.zoom_changed.emit(self.zoom)

    def fit_zoom(self, fit: str) -> float:
        """The zoom at which the widest page fills the width, or a whole page shows."""
        vp = self.viewport().size()
        w = max((s[0] for s in self.pages.sizes), default=595)
        h = max((s[1] for s in self.pages.sizes), default=842)
        by_width = (vp.width() - 2 * GAP - 2) / (w * SCREEN_DPI / 72)
        if fit == "width":
            return by_width
        return min(by_width, (vp.height() - 2 * GAP) / (h * SCREEN_DPI / 72))

    def go_to(self, index: int) -> None:
        """Scroll so that page `index` (0-based) starts at the top."""
        if not self._tops:
            return
        index = min(max(0, index), len(self._tops) - 1)
        self.current = index
        self._jumping = True  # the page asked for stays current, whatever is in the middle
        try:
            self.verticalScrollBar().setValue(int(self._tops[index] - GAP))
        finally:
            self._jumping = False
        self.page_changed.emit(index)
        self._request()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if self.fit:
            self.set_zoom(self.fit_zoom(self.fit), self.fit)
        else:
            self._layout()

    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            step = 1.25 if event.angleDelta().y() > 0 else 0.8
            self.set_zoom(self.zoom * step)
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        k = event.key()
        if k in (Qt.Key.Key_PageDown, Qt.Key.Key_Space):
            self.go_to(self.current + 1)
        elif k == Qt.Key.Key_PageUp:
            self.go_to(self.current - 1)
        elif k == Qt.Key.Key_Home and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.go_to(0)
        elif k == Qt.Key.Key_End and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.go_to(len(self._tops) - 1)
        else:
            super().keyPressEvent(event)

    def _scrolled(self, value: int) -> None:
        middle = value + self.viewport().height() / 2
        page = max(0, bisect_right(self._tops, middle) - 1)
        if page != self.current and not self._jumping:
            self.current = page
            self.page_changed.emit(page)
        self._request()
        self.viewport().update()

    # -- rendering --

    def render_dpi(self) -> float:
        return SCREEN_DPI * self.zoom * self.devicePixelRatioF()

    def _request(self) -> None:
        visible = self.visible_pages()
        if not visible:
            return
        after = range(visible[-1] + 1, min(len(self._tops), visible[-1] + 1 + AHEAD))
        before = range(max(0, visible[0] - 1), visible[0])
        self.renderer.request([*visible, *after, *before], self.render_dpi())

    def _rendered(self, index: int) -> None:
        if index in self.visible_pages():
            self.viewport().update()

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        missing = False
        for i in self.visible_pages():
            rect = self.page_rect(i)
            painter.fillRect(rect.translated(3, 3), QColor(0, 0, 0, 60))
            painter.fillRect(rect, Qt.GlobalColor.white)
            hit = self.renderer.image(i)
            if hit is not None:
                painter.drawImage(rect, hit[1])
                missing = missing or abs(hit[0] - self.render_dpi()) > 0.01
            else:
                missing = True
                painter.setPen(QPen(QColor("#666")))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"正在显示第 {i + 1} 页…")
        painter.end()
        if missing:
            self._request()


class ThumbView(PageView):
    """Small pages in a side strip: a click shows that page in the main view; the page the
    main view shows is framed."""

    chosen = Signal(int)

    def __init__(self, pages: PdfPages, renderer: PageRenderer,
                 parent: QWidget | None = None) -> None:
        super().__init__(pages, renderer, parent)
        self.setObjectName("printThumbs")
        self.setAccessibleName("页面缩略图")
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.marked = 0

    def mark(self, index: int) -> None:
        """Frame page `index` and scroll it into view."""
        self.marked = index
        if index not in self.visible_pages()[1:-1]:
            self.verticalScrollBar().setValue(int(self._tops[index] - GAP))
        self.viewport().update()

    def page_at(self, y: float) -> int | None:
        for i in self.visible_pages():
            rect = self.page_rect(i)
            if rect.top() - GAP / 2 <= y <= rect.bottom() + GAP / 2:
                return i
        return None

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        index = self.page_at(event.position().y())
        if index is not None:
            self.chosen.emit(index)

    def wheelEvent(self, event) -> None:  # noqa: N802 (no zooming here)
        QAbstractScrollArea.wheelEvent(self, event)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().paintEvent(event)
        painter = QPainter(self.viewport())
        for i in self.visible_pages():
            rect = self.page_rect(i)
            if i == self.marked:
                painter.setPen(QPen(QColor("#1a73e8"), 3))
                painter.drawRect(rect.adjusted(-2, -2, 2, 2))
            label = QRectF(rect.left(), rect.bottom() - 16, rect.width(), 16)
            painter.fillRect(label, QColor(255, 255, 255, 200))
            painter.setPen(QPen(QColor("#333")))
            painter.drawText(label, Qt.AlignmentFlag.AlignCenter, str(i + 1))
        painter.end()
