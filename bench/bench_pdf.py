"""Print benchmarks (issue 6: print and the paper archive).

1. a 1,000-page 附件4-style landscape table (20,000 rows of lawyer members, 16 columns, each page
   with its QR code): target under 20 s;
2. one 附件1 record page: target under 150 ms (first page in a fresh process, with the font
   registration, and the median of the following ones);
3. for comparison, the same 20,000 rows as one reportlab platypus Table (--platypus; slow).

Run: .venv/bin/python bench/bench_pdf.py [--rows 20000] [--platypus]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datagen import lawyer_records  # noqa: E402

COLUMNS = [("序号", 0.5), ("姓名", 0.8), ("性别", 0.45), ("民族", 0.6), ("出生日期", 0.95),
           ("公民身份号码", 1.5), ("学历", 1.2), ("学位", 1.2), ("执业机构", 2.0),
           ("律师执业证号", 1.4), ("人员类别", 0.8), ("入党日期", 0.95), ("转正日期", 0.95),
           ("党籍状态", 0.6), ("手机号码", 1.0), ("所内职务", 0.8)]


def summary_rows(n: int) -> list[list[str]]:
    from desktop.domain.identifiers import mask_id, mask_phone

    rows = []
    for i, r in enumerate(lawyer_records(n, seed=6), start=1):
        rows.append([str(i), r["姓名"], r["性别"], r["民族"], r["出生日期"],
                     mask_id(r["公民身份号码"]), r["学历"], r["学位"], r["执业机构"],
                     r["律师执业证号"], r["人员类别"], r["入党日期"], r["转正日期"],
                     r["党籍状态"], mask_phone(r["手机号码"]), r["所内职务"]])
    return rows


def bench_table(rows: list[list[str]]) -> None:
    from desktop.progress import run
    from desktop.reports.pdf.table import Column, TableDoc, table_pdf

    doc = TableDoc("lawyer_summary", "BENCH", "附件4", "律师党员基本信息汇总表",
                   (("填报单位", "基准市律师行业党委"), ("填报人", ""), ("联系电话", ""),
                    ("填报日期", date.today().isoformat())),
                   tuple(Column(label, w) for label, w in COLUMNS), rows,
                   total_row=("合计", f"{len(rows)} 人", *[""] * (len(COLUMNS) - 2)),
                   totals=(("性别", (("男", "12000"), ("女", "8000"))),
                           ("民族", (("汉族", "18000"), ("少数民族", "2000")))))
    t = time.perf_counter()
    pdf, pages = run(_drain(table_pdf(doc, "打印日期：基准")))
    elapsed = time.perf_counter() - t
    try:
        import resource  # Unix only

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    except ImportError:
        peak = float("nan")
    print(f"附件4-style table: {len(rows)} rows, {pages} pages in {elapsed:.2f} s "
          f"({1000 * elapsed / pages:.1f} ms/page, {elapsed * 1000 / pages:.1f} s per 1,000 "
          f"pages), {len(pdf) / 1e6:.1f} MB, peak RSS {peak:.0f} MB "
          f"(target: 1,000 pages under 20 s)")


def _drain(gen):
    """table_pdf yields (page, pages); wrap it as a Progress task."""
    from desktop.progress import Progress

    while True:
        try:
            page, pages = next(gen)
        except StopIteration as stop:
            return stop.value
        yield Progress(page, pages)


def bench_record() -> None:
    import random

    from desktop import sampledata
    from desktop.domain.context import Environment
    from desktop.domain.validation import Validator
    from desktop.formspec import shipped_forms
    from desktop.progress import run
    from desktop.reports.pdf.content import printed_record
    from desktop.reports.pdf.record import records_pdf

    forms = shipped_forms()
    form = forms.form("lawyer_member")
    rng = random.Random(3)
    firm = sampledata.firms(rng, 1)[0]
    validator = Validator(form, Environment(today=date.today()))
    values, _ = validator.parse(sampledata.lawyer_member(rng, firm, date.today()))
    times = []
    for i in range(21):
        t = time.perf_counter()
        rec = printed_record(form, f"00000000-0000-4000-8000-{i:012d}", values)
        pdf, pages = run(_records(records_pdf([(rec, "中共" + firm.name + "支部委员会")],
                                              "打印日期：基准", form.display_title)))
        times.append(time.perf_counter() - t)
    print(f"one 附件1 record page: first {1000 * times[0]:.0f} ms (registers the font), then "
          f"median {1000 * statistics.median(times[1:]):.1f} ms, max "
          f"{1000 * max(times[1:]):.1f} ms, {len(pdf) / 1e3:.0f} kB (target: under 150 ms)")


def _records(gen):
    from desktop.progress import Progress

    while True:
        try:
            done = next(gen)
        except StopIteration as stop:
            return stop.value
        yield Progress(done, 1)


def bench_platypus(rows: list[list[str]]) -> None:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

    from desktop.reports.pdf.fonts import register_fonts

    font = register_fonts()
    out = Path(os.devnull)
    t = time.perf_counter()
    doc = SimpleDocTemplate(str(out), pagesize=landscape(A4))
    table = Table([[c for c, _ in COLUMNS], *rows], repeatRows=1)
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), font, 7),
                               ("GRID", (0, 0), (-1, -1), 0.4, (0, 0, 0))]))
    doc.build([table])
    print(f"platypus Table, same rows: {time.perf_counter() - t:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--platypus", action="store_true")
    args = ap.parse_args()
    print(f"load: {os.getloadavg()[0]:.1f} (1-min average) on {os.cpu_count()} cores")
    bench_record()
    t = time.perf_counter()
    rows = summary_rows(args.rows)
    print(f"generated {len(rows)} rows in {time.perf_counter() - t:.1f} s")
    bench_table(rows)
    if args.platypus:
        bench_platypus(rows)


if __name__ == "__main__":
    main()
