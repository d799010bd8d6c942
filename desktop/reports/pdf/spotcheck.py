"""The spot-check report on A4 landscape (抽查核验情况报告): one line per unit with the numbers
and the accountable parties, the 合计 line, the seed and method on every page's footer and in
the header, the signature lines and the stamp box (reports/pdf/table.py draws it)."""

from __future__ import annotations

from collections.abc import Generator

from desktop.domain.spotcheck.report import COLUMNS, TITLE, SpotReport
from desktop.reports.pdf.table import Column, TableDoc, table_pdf

#: the share of the page each column takes
_WEIGHTS = (2.2, 3.2, 0.9, 1.0, 0.9, 0.9, 1.1, 1.1, 3.6, 2.6, 1.3, 1.3)
_ALIGN = ("left", "left", "right", "right", "right", "right", "right", "right", "left", "left",
          "center", "center")


def report_doc(report: SpotReport) -> TableDoc:
    return TableDoc(
        table_id="spotcheck_report", ident=report.sample_id, attachment="", title=TITLE,
        unit_line=(("抽查单位", f"{report.unit_name}（{report.unit_code}）"),
                   ("样本编号", report.sample_id), ("随机种子", report.seed),
                   ("抽样方法", report.method),
                   ("样本", f"{report.rule}，已接收记录 {report.population} 条"),
                   ("抽取", f"{report.drawn_at} {report.drawn_by}")),
        columns=tuple(Column(label, w, a) for label, w, a in zip(COLUMNS, _WEIGHTS, _ALIGN,
                                                                 strict=True)),
        rows=[line.cells() for line in report.lines],
        total_row=report.total_cells(),
        signers=("核验负责人签字", "审核人签字"), stamp="抽查单位（盖章）")


def report_pdf(report: SpotReport) -> Generator[tuple[int, int], None, tuple[bytes, int]]:
    """Draw the report; yields (page, pages) and returns (PDF bytes, pages)."""
    return (yield from table_pdf(report_doc(report), footer_note(report)))


def footer_note(report: SpotReport) -> str:
    """Every page's footer: the seed and the method, short enough to leave the page number
    and the QR code their room (the whole method is in docs/spotcheck.md)."""
    return f"随机种子 {report.seed}　抽样方法 {report.method}（见 docs/spotcheck.md）"
