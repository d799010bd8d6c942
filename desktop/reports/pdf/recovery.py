"""The recovery-key sheet: one A4 page to print, stamp and keep in the unit's safe.

It carries the key twice — 16 groups of 6 digits in large monospaced type (WenQuanYi's mono
face has the digits; PLATFORM.md) and a QR code of the same text for a scanner or a phone
photo (services.secrets.read_recovery_image) — with what it opens (unit, code, register file
name, date, key id) and what to do with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.pdfbase.pdfmetrics import stringWidth

from desktop.reports.pdf.fonts import Measure, register_mono
from desktop.reports.pdf.page import (
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    MM,
    PORTRAIT,
    draw_lines,
    draw_signatures,
    label_rows,
    new_canvas,
)
from desktop.reports.pdf.qr import draw_text_qr

PAGE_W, PAGE_H = PORTRAIT
GRID_W = PAGE_W - 2 * MARGIN_X
TITLE = "登记库恢复密钥"
QR_SIZE = 52 * MM
SIGN_H = 118.0


@dataclass(frozen=True)
class RecoverySheet:
    """What the sheet prints."""

    unit_name: str
    unit_code: str
    register_name: str  # the register's file name
    made: str  # the date as printed, e.g. 2026-12-07
    key_id: str
    key_text: str  # 16 groups of 6 digits joined by "-"


USE = (
    "用途：忘记登记库口令时，用这把恢复密钥打开登记库并设置新口令"
    "（窗口：打开登记库时点“忘记口令…”；命令行：dengji recover --db 登记库文件）。"
    "它与口令一样能打开登记库中的全部个人信息。",
    "保管：盖章后存放在单位保险柜中，不要与笔记本电脑放在一起，不要拍照发送或存在电脑、"
    "手机、网盘里。登记库文件旁的“登记库文件名-recovery”文件要随登记库一起复制和备份。",
    "作废：生成新的恢复密钥（或移交时重新生成）后，本页即作废，请登记后销毁。",
)


def recovery_sheet_pdf(sheet: RecoverySheet) -> bytes:
    """The sheet as a one-page PDF."""
    canvas, buf = new_canvas(TITLE)
    m = Measure()
    font, mono = m.font, register_mono()
    top = PAGE_H - MARGIN_TOP
    canvas.setFont(font, 22)
    canvas.drawCentredString(PAGE_W / 2, top - 30, TITLE)
    canvas.setFont(font, 10)
    canvas.drawCentredString(PAGE_W / 2, top - 50,
                             "请打印本页、加盖单位公章，存放在单位保险柜中")

    rows = [("单位名称", sheet.unit_name), ("单位代码", sheet.unit_code),
            ("登记库文件", sheet.register_name), ("生成日期", sheet.made),
            ("密钥编号", sheet.key_id)]
    y = label_rows(canvas, m, rows, MARGIN_X, top - 66, GRID_W - QR_SIZE - 12, 78.0)
    qr_y = top - 66 - QR_SIZE
    draw_text_qr(canvas, sheet.key_text, PAGE_W - MARGIN_X - QR_SIZE, qr_y, QR_SIZE, error="q")
    canvas.setFont(font, 8)
    canvas.drawCentredString(PAGE_W - MARGIN_X - QR_SIZE / 2, qr_y - 10, "扫描此码可读入恢复密钥")
    y = min(y, qr_y - 14)

    groups = sheet.key_text.split("-")
    lines = [groups[i:i + 4] for i in range(0, len(groups), 4)]
    size = 26.0
    cell_w = GRID_W / 4
    while stringWidth("000000", mono, size) > cell_w - 30 and size > 12:
        size -= 0.5
    row_h = size * 1.9
    box_h = len(lines) * row_h + 30
    y -= 10 + box_h
    canvas.setLineWidth(1.4)
    canvas.rect(MARGIN_X, y, GRID_W, box_h, stroke=1, fill=0)
    canvas.setFont(font, 10)
    canvas.drawString(MARGIN_X + 8, y + box_h - 15, "恢复密钥（共 16 组，每组 6 位数字）")
    for r, line in enumerate(lines):
        base = y + box_h - 26 - (r + 1) * row_h + size * 0.45
        for c, group in enumerate(line):
            n = r * 4 + c + 1
            cx = MARGIN_X + c * cell_w
            canvas.setFont(font, 7.5)
            canvas.setFillGray(0.4)
            canvas.drawString(cx + 10, base + size * 0.35, f"{n}")
            canvas.setFillGray(0)
            canvas.setFont(mono, size)
            canvas.drawCentredString(cx + cell_w / 2 + 6, base, group)

    y -= 12
    for text in USE:
        lines_ = m.wrap(text, 10, GRID_W)
        draw_lines(canvas, m, MARGIN_X, y - 10, GRID_W, 10, lines_)
        y -= 10 * 1.2 * len(lines_) + 6

    sign_y = max(MARGIN_BOTTOM + 14, y - 8 - SIGN_H)
    draw_signatures(canvas, m, MARGIN_X, sign_y, GRID_W, SIGN_H, ("经办人签字", "负责人签字"),
                    "单位（盖章）")
    canvas.setFont(font, 7.5)
    canvas.drawString(MARGIN_X, MARGIN_BOTTOM,
                      f"登记 Dengji · 恢复密钥编号 {sheet.key_id} · {sheet.register_name}")
    canvas.showPage()
    canvas.save()
    return buf.getvalue()
