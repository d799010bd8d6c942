"""The embedded CJK font of every PDF, and text measuring and wrapping with it.

The font is WenQuanYi Micro Hei (resources/fonts/wqy-microhei.ttc, Apache-2.0 or GPLv3 with the
font exception; licence texts beside it). It has TrueType outlines, which reportlab can embed as
a subset, and covers GBK plus Latin letters and digits, so a PDF looks the same on a computer
with no Chinese font at all. It is registered once per process (about 0.1 s).
"""

from __future__ import annotations

from functools import cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from desktop.errors import KnownError
from desktop.paths import resource

FONT = "WenQuanYiMicroHei"
FONT_FILE = ("fonts", "wqy-microhei.ttc")


@cache
def register_fonts() -> str:
    """Register the CJK font with reportlab (once) and return its name."""
    path = resource(*FONT_FILE)
    if not path.is_file():
        raise KnownError(f"找不到打印字体文件 {path}。请重新安装本软件（字体随软件一同发布）。")
    try:
        pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
    except Exception as err:  # a damaged file: reportlab raises its own TTFError and others
        raise KnownError(f"打印字体文件 {path} 无法读取（{err}）。请重新安装本软件。") from err
    return FONT


class Measure:
    """Text widths in points for the registered font, with a per-character cache.

    reportlab's stringWidth walks the font tables on every call; tables of tens of thousands of
    cells measure the same few hundred characters again and again.
    """

    def __init__(self, font: str | None = None) -> None:
        self.font = font or register_fonts()
        self._char: dict[str, float] = {}
        self._text: dict[str, float] = {}

    def char(self, ch: str) -> float:
        """Width of one character at size 1."""
        w = self._char.get(ch)
        if w is None:
            w = self._char[ch] = pdfmetrics.stringWidth(ch, self.font, 1000) / 1000
        return w

    def width(self, text: str, size: float) -> float:
        """Width of `text` at `size` points."""
        w = self._text.get(text)
        if w is None:
            w = sum(self.char(ch) for ch in text)
            if len(self._text) < 200_000:
                self._text[text] = w
        return w * size

    def wrap(self, text: str, size: float, width: float) -> list[str]:
        """Break `text` into lines no wider than `width` at `size`.

        Chinese may break between any two characters; a run of Latin letters or digits (an ID,
        a licence number) is kept whole when it fits on a line by itself. Newlines are kept.
        """
        lines: list[str] = []
        for para in text.split("\n"):
            lines += self._wrap_para(para, size, width)
        return lines or [""]

    def _wrap_para(self, text: str, size: float, width: float) -> list[str]:
        limit = width / size
        lines, line, used = [], "", 0.0
        for word in _tokens(text):
            w = sum(self.char(ch) for ch in word)
            if used + w <= limit:
                line, used = line + word, used + w
                continue
            if len(word) > 1 and w <= limit:  # a whole word moves to the next line
                lines.append(line.rstrip())
                line, used = word.lstrip(), sum(self.char(ch) for ch in word.lstrip())
                continue
            for ch in word:  # CJK, or a word longer than a line: break anywhere
                cw = self.char(ch)
                if used + cw > limit and line:
                    lines.append(line.rstrip())
                    line, used = "", 0.0
                    if ch == " ":
                        continue
                line, used = line + ch, used + cw
        if line or not lines:
            lines.append(line.rstrip())
        return lines

    def fit(self, text: str, width: float, height: float, size: float, min_size: float,
            leading: float = 1.2) -> tuple[float, list[str]]:
        """The largest size from `size` down to `min_size` (half-point steps) at which `text`
        wraps into `width` × `height`; at `min_size` the lines are returned even if too tall."""
        s = size
        while True:
            lines = self.wrap(text, s, width)
            if len(lines) * s * leading <= height or s <= min_size:
                return s, lines
            s = max(min_size, s - 0.5)


def _tokens(text: str) -> list[str]:
    """Split into ASCII words (with their trailing space) and single other characters."""
    out: list[str] = []
    word = ""
    for ch in text:
        if ch.isascii() and not ch.isspace():
            word += ch
        else:
            if word:
                out.append(word)
                word = ""
            out.append(ch)
    if word:
        out.append(word)
    return out


FONT_MONO = "WenQuanYiMicroHeiMono"


@cache
def register_mono() -> str:
    """Register the monospaced face of the same file (for key fingerprints) and return its name."""
    register_fonts()
    path = resource(*FONT_FILE)
    try:
        pdfmetrics.registerFont(TTFont(FONT_MONO, str(path), subfontIndex=1))
    except Exception as err:
        raise KnownError(f"打印字体文件 {path} 无法读取（{err}）。请重新安装本软件。") from err
    return FONT_MONO


class TextBatch:
    """Many strings written as one PDF text block, each distinct string encoded once.

    reportlab builds a text object per drawString (about 35 µs); a page of a 附件4 table has
    300 strings and many repeat (性别, 民族, 学历 …). This writes the operators reportlab's own
    docs give for dynamic (TrueType subset) fonts — `/<subset> size Tf (chunk) Tj` — through
    the public Canvas.addLiteral. Use one batch per canvas; `flush()` before showPage.
    """

    def __init__(self, canvas, m: Measure) -> None:
        self.canvas = canvas
        self.m = m
        self.font = pdfmetrics.getFont(m.font)
        self._encoded: dict[str, list[tuple[str, str]]] = {}
        self._ops: list[str] = []
        self._current: tuple[str, float] | None = None

    def _encode(self, text: str) -> list[tuple[str, str]]:
        enc = self._encoded.get(text)
        if enc is None:
            doc = self.canvas._doc
            escape = self.canvas._escape
            enc = [(self.font.getSubsetInternalName(subset, doc), f"({escape(chunk)}) Tj")
                   for subset, chunk in self.font.splitString(text, doc)]
            if len(self._encoded) < 200_000:
                self._encoded[text] = enc
        return enc

    def text(self, x: float, y: float, size: float, text: str, align: str = "left",
             width: float = 0.0) -> None:
        """Write `text` with its baseline at y: starting at x (left), centred in [x, x+width]
        (center) or ending at x + width (right)."""
        if not text:
            return
        if align != "left":
            w = self.m.width(text, size)
            x += (width - w) / 2 if align == "center" else width - w
        ops = self._ops
        ops.append(f"1 0 0 1 {x:.2f} {y:.2f} Tm")
        for name, op in self._encode(text):
            if self._current != (name, size):
                ops.append(f"{name} {size:g} Tf")
                self._current = (name, size)
            ops.append(op)

    def flush(self) -> None:
        """Put what was written onto the current page."""
        if self._ops:
            self.canvas.addLiteral("BT\n" + "\n".join(self._ops) + "\nET")
        self._ops = []
        self._current = None
