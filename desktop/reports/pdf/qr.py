"""The QR code of every printed page and the line of text under it.

Both carry the same text, `DJ1:<kind>:<id>:<hash>`: kind R = a record page, P = a package cover,
T = a page of a table (附件4–6, the 统计表); id = the record id, the package id or the table
page's id; hash = the first 16 hex characters of the SHA-256 of what the page prints. The text is
upper case so the QR code uses its compact alphanumeric mode (a record's code is version 3,
29×29 modules, at error correction M).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desktop.errors import UsageError

if TYPE_CHECKING:  # archive-check reads codes without loading reportlab or segno
    from reportlab.pdfgen.canvas import Canvas

PREFIX = "DJ1"
KINDS = {"R": "记录", "P": "数据包封面", "T": "汇总表页"}
MASK = 4
_CODE = re.compile(r"DJ1[:\s]+([RPT])[:\s]+([0-9A-Z_.\-]+)[:\s]+([0-9A-F]{16})\b")


@dataclass(frozen=True)
class PageCode:
    kind: str  # R, P or T
    ident: str  # as printed (upper case)
    digest: str  # 16 hex characters, upper case

    @property
    def text(self) -> str:
        return f"{PREFIX}:{self.kind}:{self.ident}:{self.digest}"


def page_code(kind: str, ident: str, digest: str) -> PageCode:
    if kind not in KINDS:
        raise ValueError(kind)
    return PageCode(kind, ident.upper(), digest.upper())


def parse_code(text: str) -> PageCode:
    """Read a scanned or typed code (any case; colons or spaces; a zbarimg "QR-Code:" prefix)."""
    m = _CODE.search(text.strip().upper())
    if m is None:
        raise UsageError(
            f"无法识别二维码内容“{text.strip()[:80]}”。应为纸质页二维码下方印的一行，"
            f"形如 DJ1:R:记录编号:16位校验码。")
    return PageCode(m[1], m[2], m[3])


def draw_qr(canvas: Canvas, code: PageCode, x: float, y: float, size: float) -> None:
    """Draw the QR code of `code` with its lower-left corner at (x, y), `size` points wide
    including the quiet zone of 2 modules (the page margin adds to it)."""
    # A fixed mask pattern: choosing the "best" of the eight (segno's default) costs 6 ms a
    # page, and any mask is valid; the code still decodes at 80 dpi.
    draw_text_qr(canvas, code.text, x, y, size)


def draw_text_qr(canvas: Canvas, text: str, x: float, y: float, size: float,
                 error: str = "m") -> None:
    """Draw a QR code of any `text` (draw_qr; the recovery sheet's key) at (x, y)."""
    import segno

    qr = segno.make(text, error=error, micro=False, mask=MASK, boost_error=False)
    matrix = qr.matrix
    n = len(matrix)
    border = 2
    module = size / (n + 2 * border)
    # one filled path of horizontal runs, written as PDF operators (a reportlab path formats
    # every number through Python, 300 rectangles a page)
    ops = ["q 0 g"]
    for r, row in enumerate(matrix):
        top = y + size - (border + r + 1) * module
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                ops.append(f"{x + (border + start) * module:.3f} {top:.3f} "
                           f"{(c - start) * module:.3f} {module * 1.02:.3f} re")
            else:
                c += 1
    ops.append("f Q")
    canvas.addLiteral("\n".join(ops))
