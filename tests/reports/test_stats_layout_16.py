"""The 统计表's workbook and PDF have the same layout (issue 16): the same title, header lines,
tables (rows, columns, titles, order), entries line, the tables it sums under 分单位情况 with
合计, the stamp line and the date — compared by rendering both (the PDF read back with
pdftotext, the workbook with openpyxl), since LibreOffice is not at hand to print the workbook."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from desktop.domain.society.results import PARTS_HEADING, stats_paper
from desktop.domain.society.stats import CleanupStats, sum_tables
from desktop.reports.pdf.cleanup import stats_pdf
from desktop.reports.xlsx.stats import stats_workbook
from tests.reports.test_pdf_helpers import pdf_text, squeeze, words

CITY = CleanupStats("沈阳市法学会", 1200, 31, 2, 17, 44, filler="王填报", contact="024-23456789",
                    filed="2026-12-01", unit_code="SYFXH-0024")
COUNTY = CleanupStats("和平区法学会", 300, 5, 0, 3, 9, filed="2026-11-30", unit_code="SYFXH-0025")


def workbook_cells(stats: CleanupStats) -> list[list[str]]:
    """The non-empty cells of the only sheet, row by row (as text)."""
    buffer = io.BytesIO()
    stats_workbook(stats).save(buffer)
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["统计表"]  # one sheet, as the PDF is one page
    return [[str(c.value) for c in row if c.value not in (None, "")]
            for row in book.active.iter_rows()
            if any(c.value not in (None, "") for c in row)]


def footer(stats: CleanupStats) -> str:
    buffer = io.BytesIO()
    stats_workbook(stats).save(buffer)
    return load_workbook(io.BytesIO(buffer.getvalue())).active.oddFooter.center.text


@pytest.mark.parametrize("stats", [
    CITY,
    sum_tables([CITY, COUNTY], unit="沈阳市法学会（汇总）", filler="李汇总", contact="13900000000",
               filed="2026-12-02"),
], ids=["one unit", "sums two units"])
def test_workbook_and_pdf_have_the_same_layout(stats: CleanupStats, tmp_path) -> None:
    paper = stats_paper(stats)
    rows = workbook_cells(stats)
    # the workbook, row by row, is the paper's description
    expected = [[paper.title], *([line] for line in paper.lines), list(paper.header),
                [str(v) for v in paper.row], [paper.entries_line]]
    if paper.parts:
        expected += [[PARTS_HEADING], list(paper.parts_header),
                     *([str(v) for v in row] for row in paper.parts)]
        assert paper.parts[-1][0] == "合计" and len(paper.parts) == len(stats.parts) + 1
    expected += [[paper.stamp], [paper.date]]
    assert rows == expected
    # the PDF reads the same, in the same order (whatever wraps inside a cell)
    pdf = stats_pdf(stats)
    text = squeeze(pdf_text(pdf, tmp_path))
    assert text.endswith("第1页共1页")  # the footer, which the workbook prints too
    assert squeeze("".join("".join(r) for r in expected)) + "第1页共1页" == text
    assert footer(stats) == "第 &P 页，共 &N 页"
    # on one page, as the workbook prints on one (fit to the page)
    assert {w.page for w in words(pdf, tmp_path)} == {1}


def test_the_filler_and_contact_lines_carry_what_they_are_given(tmp_path) -> None:
    paper = stats_paper(CITY)
    assert paper.lines == ("填报单位：沈阳市法学会", "填报人：王填报", "联系方式：024-23456789",
                           "填报时间：2026年12月1日")
    # unknown ones leave room to write in by hand, on both
    blank = stats_paper(CleanupStats("沈阳市法学会", 10, 0, 0, 0, 0))
    assert blank.lines[1:3] == ("填报人：", "联系方式：")
    assert "年　　月　　日" in blank.date
