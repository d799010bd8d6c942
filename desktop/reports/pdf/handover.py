"""The 移交清单: what a register holds when one clerk hands it over to the next, signed on paper
by both and by a witness (监交人), with the unit's stamp.

It lists the records per form and state (the words of domain.states), the last package sent and
its sequence, what is still open (return comments to answer, packages returned to units below,
conflicts), the trusted units with their key fingerprints, the own key fingerprint, the recovery
key's id (never the key) and the audit log's head. A long list of trusted units (a city trusts
all its firms) continues on further pages with its header row repeated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from desktop.domain.levels import LEVEL_NAMES
from desktop.domain.states import RECORD_STATES, word
from desktop.reports.pdf.fonts import Measure, register_mono
from desktop.reports.pdf.page import (
    LABEL_GRAY,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    PORTRAIT,
    draw_lines,
    draw_signatures,
    new_canvas,
)

TITLE = "登记库移交清单"
PAGE_W, PAGE_H = PORTRAIT
GRID_W = PAGE_W - 2 * MARGIN_X
FOOTER_ROOM = 26.0
TITLE_H = 42.0
LABEL_W = 110.0
ROW_H = 18.0
SIGN_H = 112.0
SIGNERS = ("移交人签字", "接收人签字", "监交人签字")
NOT_SET = "（未填写）"
LEADING = 1.2  # page.draw_lines' line height, in sizes
MONO_SIZE = 8.0  # a fingerprint in a table: 8 groups to a line


@dataclass(frozen=True)
class FormCount:
    """The records of one form: (state code, count) in RECORD_STATES order, zeros included."""

    form_id: str
    title: str
    by_state: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(n for _, n in self.by_state)

    def count(self, state: str) -> int:
        return dict(self.by_state).get(state, 0)


@dataclass(frozen=True)
class SentPackage:
    """The last registration package the unit sent upward."""

    package_id: str
    sequence: int
    created: datetime
    recipient: str  # as printed: name（code）, or the code alone
    records: int


@dataclass(frozen=True)
class ReturnedBelow:
    """A package of a unit below that this register returned and that is not sent again yet."""

    unit_name: str
    unit_code: str
    sequence: int


@dataclass(frozen=True)
class TrustedUnit:
    name: str
    code: str
    level: str  # a level id of domain.levels
    fingerprint: str  # groups of 4 hex characters


@dataclass(frozen=True)
class HandoverFacts:
    """What a 移交清单 states about a register at one moment (services.handover gathers it)."""

    unit_name: str
    unit_code: str
    level: str
    register_file: str  # the register's file name
    made_at: datetime  # UTC
    handler: str  # 经办人 in 本单位信息 ("" when not set)
    own_records: tuple[FormCount, ...]
    received_records: tuple[FormCount, ...]  # records of units below (their packages)
    packages_sent: int
    last_sent: SentPackage | None
    notes_to_answer: int  # return comments from the level above, still open
    returned_below: tuple[ReturnedBelow, ...]
    open_conflicts: int
    trusted: tuple[TrustedUnit, ...]
    fingerprint: str  # the own signing key's
    recovery_key_id: str | None
    recovery_made_at: datetime | None
    audit_entries: int
    audit_head: str  # "seq:hash" of the newest entry ("" for none)
    from_name: str = ""
    to_name: str = ""


def local_time(moment: datetime | None) -> str:
    """A UTC moment as the clerk's clock shows it, to the minute."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


@dataclass
class _Block:
    """A piece of the page flow: its height and how to draw it with its top at y."""

    height: float
    draw: Callable[[Canvas, float], None]
    repeat: _Block | None = None  # a table's header row, drawn again atop a continued page
    keep: bool = False  # a heading: never the last thing on a page


class _Sheet:
    """Builds the blocks of the 移交清单 and lays them out on A4 pages."""

    def __init__(self, facts: HandoverFacts) -> None:
        self.f = facts
        self.m = Measure()
        self.mono = register_mono()
        self.blocks: list[_Block] = []

    # --- pieces -------------------------------------------------------------------------

    def heading(self, text: str) -> None:
        def draw(c: Canvas, y: float) -> None:
            c.setFont(self.m.font, 11.5)
            c.drawString(MARGIN_X, y - 15, text)
        self.blocks.append(_Block(20, draw, keep=True))

    def note(self, text: str, size: float = 9.0, *, keep: bool = False) -> None:
        lines = self.m.wrap(text, size, GRID_W)
        h = len(lines) * size * 1.3 + 10

        def draw(c: Canvas, y: float) -> None:
            draw_lines(c, self.m, MARGIN_X, y - size - 5, GRID_W, size, lines)
        self.blocks.append(_Block(h, draw, keep=keep))

    def label_rows(self, rows: list[tuple[str, str]]) -> None:
        for label, value in rows:
            self.grid_row([label, value], [LABEL_W, GRID_W - LABEL_W], shade=(0,), size=9.5)

    def grid_row(self, cells: list[str], widths: list[float], *, shade: tuple[int, ...] = (),
                 size: float = 9.0, align: tuple[str, ...] = (), mono: tuple[int, ...] = (),
                 header: bool = False, repeat: _Block | None = None) -> _Block:
        """A bordered row of cells; each cell's text wraps; returns its block."""
        wrapped = []
        for i, (text, w) in enumerate(zip(cells, widths, strict=True)):
            if i in mono:
                wrapped.append(_mono_lines(text, self.mono, MONO_SIZE, w - 8))
            else:
                wrapped.append(self.m.wrap(text, size, w - 8))
        h = max(ROW_H, max(len(lines) for lines in wrapped) * size * LEADING + 6)

        def draw(c: Canvas, y: float) -> None:
            x = MARGIN_X
            c.setLineWidth(0.5)
            for i, (lines, w) in enumerate(zip(wrapped, widths, strict=True)):
                if header or i in shade:
                    c.setFillGray(LABEL_GRAY)
                    c.rect(x, y - h, w, h, stroke=0, fill=1)
                    c.setFillGray(0)
                c.rect(x, y - h, w, h, stroke=1, fill=0)
                how = align[i] if i < len(align) else "left"
                base = y - h / 2 + len(lines) * size * LEADING / 2 - size * 0.95
                if i in mono:
                    c.setFont(self.mono, MONO_SIZE)
                    for n, line in enumerate(lines):
                        c.drawString(x + 4, base - n * size * LEADING, line)
                else:
                    draw_lines(c, self.m, x + 4, base, w - 8, size, lines, how)
                x += w
        block = _Block(h, draw, repeat=repeat)
        self.blocks.append(block)
        return block

    def table(self, head: list[str], rows: list[list[str]], widths: list[float], *,
              align: tuple[str, ...] = (), mono: tuple[int, ...] = ()) -> None:
        header = self.grid_row(head, widths, size=8.5, header=True,
                               align=tuple("center" for _ in head))
        for row in rows:
            self.grid_row(row, widths, align=align, mono=mono, repeat=header)

    def fingerprint_box(self, fingerprint: str) -> None:
        groups = fingerprint.split()
        lines = [" ".join(groups[i:i + 8]) for i in range(0, len(groups), 8)] or [""]
        size = 13.0
        while max(stringWidth(ln, self.mono, size) for ln in lines) > GRID_W - 24 and size > 8:
            size -= 0.5
        h = len(lines) * size * 1.4 + 14

        def draw(c: Canvas, y: float) -> None:
            c.setLineWidth(1.0)
            c.rect(MARGIN_X, y - h, GRID_W, h, stroke=1, fill=0)
            c.setFont(self.mono, size)
            for i, line in enumerate(lines):
                c.drawCentredString(PAGE_W / 2, y - 7 - size * (1.4 * i + 1.0), line)
        self.blocks.append(_Block(h + 4, draw))

    def signatures(self) -> None:
        names = (self.f.from_name, self.f.to_name, "")

        def draw(c: Canvas, y: float) -> None:
            bottom = y - 6 - SIGN_H
            draw_signatures(c, self.m, MARGIN_X, bottom, GRID_W, SIGN_H, SIGNERS, "单位（盖章）")
            n = len(SIGNERS)
            cell_w = GRID_W * 0.62 / n
            c.setFont(self.m.font, 9)
            c.setFillGray(0.35)
            for i, name in enumerate(names):  # the typed name, small, above the line to sign
                if name:
                    c.drawString(MARGIN_X + i * cell_w + 12, bottom + SIGN_H - 34,
                                 _fit(self.m, f"（{name}）", 9, cell_w - 20))
            c.setFillGray(0)
        self.blocks.append(_Block(SIGN_H + 10, draw))

    # --- the whole sheet ------------------------------------------------------------------

    def build(self) -> None:
        f = self.f
        self.label_rows([
            ("单位名称", f.unit_name), ("单位代码", f.unit_code),
            ("单位层级", LEVEL_NAMES.get(f.level, f.level)), ("登记库文件", f.register_file),
            ("移交人（原经办人）", f.from_name or NOT_SET),
            ("接收人（新经办人）", f.to_name or NOT_SET),
            ("移交时间", local_time(f.made_at)),
        ])
        self.records_section()
        self.packages_section()
        self.open_section()
        self.keys_section()
        self.trusted_section()
        self.closing()
        self.signatures()

    def records_section(self) -> None:
        self.heading("一、登记记录（按表和状态）")
        head = ["登记表", *(_two_lines(word(s)) for s in RECORD_STATES), "合计"]
        widths = [GRID_W - 6 * 56.0] + [56.0] * 6
        align = ("left",) + ("right",) * 6
        groups = [("本单位录入", self.f.own_records)]
        if self.f.received_records:
            groups.append(("下级单位报送", self.f.received_records))
        rows: list[list[str]] = []
        for label, counts in groups:
            for fc in counts:
                title = fc.title if len(groups) == 1 else f"{label}：{fc.title}"
                rows.append([title, *(str(fc.count(s)) for s in RECORD_STATES), str(fc.total)])
        if not rows:
            self.note("登记库中还没有任何记录。")
            return
        every = [fc for _, counts in groups for fc in counts]
        rows.append(["合计", *(str(sum(fc.count(s) for fc in every)) for s in RECORD_STATES),
                     str(sum(fc.total for fc in every))])
        self.table(head, rows, widths, align=align)

    def packages_section(self) -> None:
        f = self.f
        self.heading("二、上报情况")
        last = f.last_sent
        if last is None:
            self.note("本单位尚未导出过上报数据包。")
            return
        self.label_rows([
            ("最近一次上报", f"第 {last.sequence} 次报送（共导出 {f.packages_sent} 次），"
                             f"{local_time(last.created)}，{last.records} 条记录，"
                             f"报送给 {last.recipient or NOT_SET}"),
            ("数据包编号", last.package_id),
        ])

    def open_section(self) -> None:
        f = self.f
        self.heading("三、尚未办结的事项")
        self.label_rows([
            ("上级退回意见", f"{f.notes_to_answer} 条待答复（修改后随下次上报答复）"
             if f.notes_to_answer else "无"),
            ("退回下级的数据包", f"{len(f.returned_below)} 个，等待下级重新报送"
             if f.returned_below else "无"),
            ("未处理的冲突", f"{f.open_conflicts} 个（上报 → 冲突… 中处理）"
             if f.open_conflicts else "无"),
        ])
        if f.returned_below:
            self.table(["已退回的下级单位", "单位代码", "退回的报送序号"],
                       [[r.unit_name, r.unit_code, f"第 {r.sequence} 次"]
                        for r in f.returned_below],
                       [GRID_W - 240, 150, 90], align=("left", "left", "center"))

    def trusted_section(self) -> None:
        f = self.f
        self.heading("五、已信任的单位公钥")
        if not f.trusted:
            self.note("尚未信任任何单位的公钥。")
            return
        self.table(["单位名称", "单位代码", "层级", "公钥指纹（SHA-256）"],
                   [[t.name, t.code, LEVEL_NAMES.get(t.level, t.level), t.fingerprint]
                    for t in f.trusted],
                   [GRID_W - 108 - 64 - 200, 108, 64, 200], mono=(3,))

    def keys_section(self) -> None:
        f = self.f
        self.heading("四、本单位签名公钥指纹（与数据包封面上的一致）、恢复密钥和操作日志")
        self.fingerprint_box(f.fingerprint)
        if f.recovery_key_id:
            recovery = (f"编号 {f.recovery_key_id}（{local_time(f.recovery_made_at)} 生成）；"
                        "纸本存放于单位保险柜，不与电脑放在一起；本清单不印密钥本身")
        else:
            recovery = "尚未生成恢复密钥：请在 登记库 → 修改口令… 中生成并打印"
        seq, _, digest = f.audit_head.partition(":")
        audit = (f"共 {f.audit_entries} 条，末条为第 {seq} 条，校验值 {digest[:16].upper()}"
                 if f.audit_head else f"共 {f.audit_entries} 条")
        self.label_rows([("恢复密钥", recovery), ("操作日志", audit)])

    def closing(self) -> None:
        self.note("移交后原口令作废：接收人已设新口令，并生成了新的恢复密钥，旧的恢复密钥纸本同时作废，"
                  "请当场销毁。双方核对以上内容无误后签字，监交人签字，加盖单位公章。", 8.5, keep=True)

    # --- layout -----------------------------------------------------------------------------

    def pages(self) -> list[list[_Block]]:
        first_room = PAGE_H - MARGIN_TOP - TITLE_H - MARGIN_BOTTOM - FOOTER_ROOM
        room = PAGE_H - MARGIN_TOP - MARGIN_BOTTOM - FOOTER_ROOM
        pages: list[list[_Block]] = [[]]
        used, limit = 0.0, first_room
        for i, b in enumerate(self.blocks):
            need = b.height
            if b.keep and i + 1 < len(self.blocks):
                need += self.blocks[i + 1].height
            if used + need > limit and pages[-1]:
                pages.append([])
                used, limit = 0.0, room
                if b.repeat is not None:
                    pages[-1].append(b.repeat)
                    used += b.repeat.height
            pages[-1].append(b)
            used += b.height
        return pages

    def render(self, note: str) -> tuple[bytes, int]:
        self.build()
        pages = self.pages()
        canvas, buf = new_canvas(TITLE)
        for n, blocks in enumerate(pages, start=1):
            y = PAGE_H - MARGIN_TOP
            if n == 1:
                canvas.setFont(self.m.font, 19)
                canvas.drawCentredString(PAGE_W / 2, y - 24, TITLE)
                y -= TITLE_H
            for b in blocks:
                b.draw(canvas, y)
                y -= b.height
            canvas.setFont(self.m.font, 9)
            canvas.drawCentredString(PAGE_W / 2, MARGIN_BOTTOM + 6, f"第 {n} 页 共 {len(pages)} 页")
            canvas.setFont(self.m.font, 7.5)
            canvas.drawString(MARGIN_X, MARGIN_BOTTOM + 6, note)
            canvas.drawRightString(PAGE_W - MARGIN_X, MARGIN_BOTTOM + 6,
                                   _fit(self.m, f"{self.f.unit_name} {TITLE}", 7.5,
                                        GRID_W / 2 - 60))
            canvas.showPage()
        canvas.save()
        return buf.getvalue(), len(pages)


def handover_pdf(facts: HandoverFacts, note: str) -> tuple[bytes, int]:
    """The 移交清单 as A4 pages: (PDF bytes, pages). `note` is printed at each page's foot."""
    return _Sheet(facts).render(note)


def _two_lines(text: str) -> str:
    """A state's word for a narrow column head: 已完成（待上报） on two lines."""
    head, sep, tail = text.partition("（")
    return f"{head}\n{sep}{tail}" if sep else text


def _mono_lines(text: str, font: str, size: float, width: float) -> list[str]:
    """A fingerprint in as many groups to a line as fit."""
    lines: list[str] = []
    for group in text.split():
        joined = f"{lines[-1]} {group}" if lines else group
        if lines and stringWidth(joined, font, size) <= width:
            lines[-1] = joined
        else:
            lines.append(group)
    return lines or [""]


def _fit(m: Measure, text: str, size: float, width: float) -> str:
    """`text` cut with … so that it fits `width`."""
    if m.width(text, size) <= width:
        return text
    while text and m.width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"
