"""Landscape tables drawn on the canvas (desktop/reports/pdf_table.py), with our own data."""

from __future__ import annotations

import pytest

from desktop.progress import run
from desktop.reports.pdf.page import MARGIN_X
from desktop.reports.pdf.table import GRID_W, Column, TableDoc, auto_columns, table_pdf
from tests.reports.test_pdf_helpers import (
    decode_qr,
    page_count,
    page_size,
    pdf_fonts,
    pdf_text,
    squeeze,
    words,
)

COLUMNS = ("序号", "姓名", "性别", "出生日期", "工作单位", "手机号码")
UNIT_LINE = (("填报单位", "某市法学会"), ("填报人", "李四"), ("联系电话", "0311-85551234"),
             ("填报日期", "2026-11-22"))


def _rows(n: int) -> list[tuple[str, ...]]:
    return [(str(i), f"会员{i:03d}", "男" if i % 2 else "女", f"19{60 + i % 40}-01-0{1 + i % 9}",
             f"第{i}研究所", f"138****{i:04d}") for i in range(1, n + 1)]


def _doc(rows, **kw) -> TableDoc:
    base = dict(table_id="members", ident="TEST-TABLE", attachment="附件9",
                title="会员名册", unit_line=UNIT_LINE,
                columns=auto_columns(COLUMNS, rows), rows=rows,
                total_row=(f"合计：{len(rows)} 人", "", "", "", "", ""),
                totals=(("性别", (("男", "1"), ("女", "2"))),))
    base.update(kw)
    return TableDoc(**base)


def _pdf(docs):
    return run(_progress(table_pdf(docs, "打印日期：2026-11-22")))


def _progress(gen):
    from desktop.progress import Progress

    while True:
        try:
            page, pages = next(gen)
        except StopIteration as stop:
            return stop.value
        yield Progress(page, pages)


def test_many_rows_span_landscape_pages_with_the_header_on_each(tmp_path):
    rows = _rows(70)
    pdf, pages = _pdf(_doc(rows))
    assert pages == page_count(pdf, tmp_path) >= 3
    assert page_size(pdf, tmp_path) == pytest.approx((841.89, 595.28), abs=0.1)  # landscape
    seen = ""
    for n in range(1, pages + 1):
        text = squeeze(pdf_text(pdf, tmp_path, page=n))
        assert "".join(COLUMNS) in text, n  # the header repeats
        assert f"第{n}页共{pages}页" in text
        assert "填报单位：某市法学会" in text and "填报日期：2026-11-22" in text
        assert ("会员名册（续）" in text) == (n > 1)
        seen += text
    for row in rows:
        assert "".join(row) in seen  # every row once, cells in column order
    last = squeeze(pdf_text(pdf, tmp_path, page=pages))
    assert "合计：70人" in last and "男：1" in last and "填报人签字" in last and "盖章处" in last
    fonts = pdf_fonts(pdf, tmp_path)
    assert fonts and all(f.embedded and f.subset for f in fonts)


def test_every_page_has_its_own_code_and_hash(tmp_path):
    pdf, pages = _pdf(_doc(_rows(70)))
    codes = decode_qr(pdf, tmp_path)
    assert len(codes) == pages
    for n, code in enumerate(codes, start=1):
        kind, ident, digest = code.split(":")[1:]
        assert (kind, ident) == ("T", f"TEST-TABLE-{n}")
        assert len(digest) == 16
    assert len({c.split(":")[3] for c in codes}) == pages
    # a changed cell changes its page's hash and no other
    rows = _rows(70)
    rows[0] = (*rows[0][:4], "改过的单位", rows[0][5])
    changed = decode_qr(_pdf(_doc(rows))[0], tmp_path)
    assert changed[0] != codes[0] and changed[1:] == codes[1:]


def test_long_cells_shrink_then_wrap_inside_their_column(tmp_path):
    rows = _rows(5)
    rows[2] = (*rows[2][:4], "中国" + "某某" * 40 + "研究院（北京）", rows[2][5])
    columns = tuple(Column(c, w) for c, w in zip(COLUMNS, (0.5, 1, 0.5, 1, 2, 1), strict=True))
    pdf, _ = _pdf(_doc(rows, columns=columns))
    for w in words(pdf, tmp_path):
        assert MARGIN_X - 1 <= w.x0 and w.x1 <= MARGIN_X + GRID_W + 1, w
    assert "中国" + "某某" * 40 + "研究院（北京）" in squeeze(pdf_text(pdf, tmp_path))


def test_several_tables_number_their_pages_through_one_document(tmp_path):
    first, second = _doc(_rows(30)), _doc(_rows(3), table_id="others", title="另表")
    pdf, pages = _pdf([first, second])
    assert pages == page_count(pdf, tmp_path)
    last = squeeze(pdf_text(pdf, tmp_path, page=pages))
    assert "另表" in last and f"第{pages}页共{pages}页" in last


def test_an_empty_table_prints_its_header_totals_and_signatures(tmp_path):
    pdf, pages = _pdf(_doc([], total_row=("合计：0 人", "", "", "", "", "")))
    assert pages == 1
    text = squeeze(pdf_text(pdf, tmp_path))
    assert "".join(COLUMNS) in text and "合计：0人" in text and "审核人签字" in text


def test_auto_columns_give_room_where_the_text_is():
    rows = _rows(20)
    cols = auto_columns(COLUMNS, rows)
    weight = {c.label: c.weight for c in cols}
    assert weight["工作单位"] > weight["性别"] and weight["出生日期"] > weight["性别"]
