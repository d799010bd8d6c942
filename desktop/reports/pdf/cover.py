"""The package cover page: who sends what, and the signer's key fingerprint in large type.

The receiving clerk compares the fingerprint on the stamped paper with the one the program shows
for a new sender's package before trusting its key (DESIGN.md §6), so it is printed big, in the
monospaced face of the font, four hex characters to a group.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.pdfbase.pdfmetrics import stringWidth

from desktop.domain.levels import LEVEL_NAMES
from desktop.reports.pdf.content import HASH_FORMAT, digest_of
from desktop.reports.pdf.fonts import Measure, register_mono
from desktop.reports.pdf.page import (
    FOOTER_H,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    PORTRAIT,
    Footer,
    draw_footer,
    draw_signatures,
    label_rows,
    new_canvas,
)
from desktop.reports.pdf.qr import page_code

PAGE_W, PAGE_H = PORTRAIT
GRID_W = PAGE_W - 2 * MARGIN_X
LABEL_W = 120.0
SIGN_H = 150.0


@dataclass(frozen=True)
class CoverInfo:
    """What the cover page of a package prints."""

    unit_name: str
    unit_code: str
    level: str  # a level id of desktop.domain.levels
    package_id: str
    sequence: int
    created: str  # as printed, e.g. 2026-11-22 10:30
    counts: tuple[tuple[str, int], ...]  # (form title as printed, records)
    fingerprint: str  # the signer's public key fingerprint, groups of 4 hex characters
    recipient: str = ""  # who receives it, as printed
    supersedes: str = ""  # the package id it replaces, if any

    def digest(self) -> str:
        """The print hash of the cover: everything above, in a fixed order."""
        return digest_of([HASH_FORMAT, "P", self.package_id, self.unit_name, self.unit_code,
                          self.level, self.sequence, self.created,
                          [list(c) for c in self.counts], self.fingerprint, self.recipient,
                          self.supersedes])


def cover_title(level: str) -> str:
    if level.startswith("society"):
        return "法学会个人会员登记 数据包封面"
    return "律师行业党组织和党员基本信息登记核查 数据包封面"


def cover_pdf(info: CoverInfo, note: str) -> tuple[bytes, int]:
    """The cover as a one-page PDF: (bytes, 1)."""
    canvas, buf = new_canvas(cover_title(info.level))
    m = Measure()
    font, mono = m.font, register_mono()
    top = PAGE_H - MARGIN_TOP
    title = cover_title(info.level)
    size = 18.0
    while m.width(title, size) > GRID_W and size > 12:
        size -= 0.5
    canvas.setFont(font, size)
    canvas.drawCentredString(PAGE_W / 2, top - 34, title)

    rows = [("报送单位", info.unit_name), ("单位代码", info.unit_code),
            ("单位层级", LEVEL_NAMES.get(info.level, info.level)),
            ("数据包编号", info.package_id), ("报送序号", f"第 {info.sequence} 次报送"),
            ("生成时间", info.created)]
    if info.recipient:
        rows.append(("接收单位", info.recipient))
    rows.append(("替代数据包", info.supersedes or "无（首次报送）"))
    y = top - 62
    y = _label_rows(canvas, m, rows, y)

    y -= 22
    canvas.setFont(font, 11)
    canvas.drawString(MARGIN_X, y, "数据包内容")
    y -= 8
    counts = [(title, f"{n} 条") for title, n in info.counts]
    counts.append(("合计", f"{sum(n for _, n in info.counts)} 条"))
    y = _label_rows(canvas, m, counts, y, label_w=GRID_W - 120, label_align="left")

    y -= 20
    canvas.setFont(font, 11)
    canvas.drawString(MARGIN_X, y, "报送单位签名公钥指纹（SHA-256）")
    canvas.setFont(font, 8.5)
    canvas.drawRightString(PAGE_W - MARGIN_X, y,
                           "接收单位首次接收时，请与软件显示的指纹逐组核对，一致后方可信任")
    groups = info.fingerprint.split()
    lines = [" ".join(groups[i:i + 4]) for i in range(0, len(groups), 4)] or [""]
    fsize = 21.0
    while max(stringWidth(ln, mono, fsize) for ln in lines) > GRID_W - 24 and fsize > 9:
        fsize -= 0.5
    box_h = len(lines) * fsize * 1.45 + 16
    y -= 8 + box_h
    canvas.setLineWidth(1.2)
    canvas.rect(MARGIN_X, y, GRID_W, box_h, stroke=1, fill=0)
    canvas.setFont(mono, fsize)
    for i, line in enumerate(lines):
        canvas.drawCentredString(PAGE_W / 2, y + box_h - 8 - fsize * (1.45 * i + 1.1), line)

    sign_y = max(MARGIN_BOTTOM + FOOTER_H + 6, y - 14 - SIGN_H)
    draw_signatures(canvas, m, MARGIN_X, sign_y, GRID_W, SIGN_H, ("经办人签字", "负责人签字"),
                    "报送单位（盖章）")
    draw_footer(canvas, m, Footer(page_code("P", info.package_id, info.digest()), 1, 1, note),
                PAGE_W)
    canvas.showPage()
    canvas.save()
    return buf.getvalue(), 1


def _label_rows(canvas, m: Measure, rows: list[tuple[str, str]], y: float,
                label_w: float = LABEL_W, label_align: str = "center") -> float:
    return label_rows(canvas, m, rows, MARGIN_X, y, GRID_W, label_w, label_align)
