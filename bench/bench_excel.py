"""Excel benchmarks (issue: Excel in and out), measured side by side in one run.

Read: a 100,000-row, 30-column 附件1 workbook (dates as date cells, like a clerk's file):
  - python-calamine alone (open + every cell as Python values),
  - `services.excel.check_workbook`: read + header + cell conversion + validation (what
    `dengji validate FILE.xlsx` does; a large .xlsx sheet is read in parts on every core),
  - pandas.read_excel (openpyxl engine, its default for .xlsx) — only when pandas is importable
    here or --pandas-python names an interpreter that has it (pandas is no dependency).
  Targets: check_workbook ≤ 2× calamine; ≥ 5× faster than pandas.
Write: the 100,000-row 附件4 with styles and print setup (`reports.xlsx_write`), against the
  same cells written bare by openpyxl's write-only mode and by XlsxWriter's constant_memory mode.
  Target: ≤ 1.3× openpyxl write-only bare.

Run: .venv/bin/python bench/bench_excel.py [--n 100000] [--rounds 1] [--pandas-python PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datagen import lawyer_records  # noqa: E402

EXTRA = ("失去联系日期", "外出流向", "备注")
DATES = ("出生日期", "入党日期", "转正日期")


def make_input(path: Path, n: int) -> Path:
    """A 30-column 附件1 workbook as clerks have them (dates as date cells)."""
    import xlsxwriter

    records = lawyer_records(n, seed=1)
    headers = [*records[0], *EXTRA][:30]
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("党员名册")
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, headers)
    for i, r in enumerate(records, start=1):
        for j, h in enumerate(headers):
            v = r.get(h) or ("无" if h == "备注" else "")
            if h in DATES and v:
                ws.write_datetime(i, j, datetime.fromisoformat(v), day)
            elif v:
                ws.write_string(i, j, v)
    wb.close()
    return path


def timed(fn):
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def cpu_timed(fn):
    """(wall seconds, CPU seconds of this process and its finished children, result): CPU
    time does not grow when other work on the machine slows the wall clock down."""
    before, t = os.times(), time.perf_counter()
    result = fn()
    after = os.times()
    cpu = sum(getattr(after, k) - getattr(before, k)
              for k in ("user", "system", "children_user", "children_system"))
    return time.perf_counter() - t, cpu, result


def read_calamine(path: Path):
    import python_calamine as pc

    with pc.CalamineWorkbook.from_path(str(path)) as wb:
        return wb.get_sheet_by_index(0).to_python()


def read_then_validate_serially(path: Path) -> tuple[float, float]:
    """CPU seconds of python-calamine reading the sheet, and of `check_workbook` on one core
    (the whole sheet read, then every row converted, parsed and checked in this process): the
    work the parallel read spreads over the cores."""
    from desktop.services.intake import rowcheck

    _, read_cpu, _ = cpu_timed(lambda: read_calamine(path))
    saved = rowcheck.workers
    rowcheck.workers = lambda: 1
    try:
        _, check_cpu, _ = cpu_timed(lambda: read_check(path))
    finally:
        rowcheck.workers = saved
    return read_cpu, check_cpu


def read_check(path: Path):
    from desktop.formspec import shipped_forms
    from desktop.progress import run
    from desktop.services.intake.workbook import check_workbook

    forms = shipped_forms()
    return run(check_workbook(forms, forms.form("lawyer_member"), path))


PANDAS = ("import sys, time, pandas; t = time.perf_counter(); "
          "df = pandas.read_excel(sys.argv[1], dtype=str); "
          "print(time.perf_counter() - t, len(df))")


def read_pandas(path: Path, python: str | None) -> float | None:
    if python is None:
        try:
            import pandas  # noqa: F401
        except ImportError:
            return None
        python = sys.executable
    out = subprocess.run([python, "-c", PANDAS, str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr[-500:], file=sys.stderr)
        return None
    return float(out.stdout.split()[0])


def summary_of(n: int):
    """附件4 of n stored lawyer records (values as the register stores them)."""
    from desktop.domain.context import Environment
    from desktop.domain.summaries import build_summary
    from desktop.domain.validation import Validator
    from desktop.formspec import shipped_forms

    forms = shipped_forms()
    validator = Validator(forms.form("lawyer_member"), Environment())
    records = [(str(i), "lawyer_member", validator.parse(r)[0])
               for i, r in enumerate(lawyer_records(n, seed=2))]
    t, summary = timed(lambda: build_summary(forms, "lawyer_summary", records,
                                             today=date.today()))
    return t, summary


def write_official(path: Path, summary) -> None:
    from desktop.progress import run
    from desktop.reports.xlsx.tables import doc_props, summary_sheets
    from desktop.reports.xlsx.write import UnitLine, write_tables

    sheets = summary_sheets(summary, UnitLine("基准市律师行业党委", "王敏", "010-85551234"))
    run(write_tables(path, sheets, doc_props(summary.title, unit_name="基准", filler="王敏",
                                             form_id=summary.id, form_version="2026.1",
                                             records=summary.count, full=False)))


def write_openpyxl_bare(path: Path, summary) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("附件4")
    ws.append(list(summary.columns))
    for row in summary.rows:
        ws.append(list(row))
    wb.save(path)


def write_xlsxwriter_bare(path: Path, summary) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("附件4")
    ws.write_row(0, 0, summary.columns)
    for i, row in enumerate(summary.rows, start=1):
        for j, v in enumerate(row):
            ws.write_string(i, j, v)
    wb.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--pandas-python", help="an interpreter with pandas (pandas is no dependency)")
    ap.add_argument("--skip-read", action="store_true")
    ap.add_argument("--skip-write", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dengji-bench-xlsx-"))
    from desktop.formspec import shipped_forms
    from desktop.services.intake import workbook as excel  # noqa: F401  (imports and forms loaded before timing)

    shipped_forms()
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
    if not args.skip_read:
        t, path = timed(lambda: make_input(tmp / "in.xlsx", args.n))
        print(f"made a {args.n}-row, 30-column workbook in {t:.1f} s "
              f"({path.stat().st_size / 1e6:.1f} MB)")
        cal, chk, pdt, cal_cpu, chk_cpu = [], [], [], [], []
        for _ in range(args.rounds):
            t, cpu, _ = cpu_timed(lambda: read_calamine(path))
            cal.append(t)
            cal_cpu.append(cpu)
            t, cpu, results = cpu_timed(lambda: read_check(path))
            chk.append(t)
            chk_cpu.append(cpu)
            p = read_pandas(path, args.pandas_python)
            if p is not None:
                pdt.append(p)
            print(f"  round: calamine {cal[-1]:.2f} s (CPU {cal_cpu[-1]:.2f} s), check_workbook "
                  f"{chk[-1]:.2f} s (CPU {chk_cpu[-1]:.2f} s, all processes; {len(results)} "
                  f"rows, {sum(1 for r in results if r.findings)} with findings)"
                  + (f", pandas.read_excel {pdt[-1]:.2f} s" if p is not None else ""),
                  flush=True)
        c, k = statistics.median(cal), statistics.median(chk)
        ratios = [b / a for a, b in zip(cal, chk, strict=True)]
        print(f"read+validate: {k:.2f} s; calamine alone {c:.2f} s; each round's ratio "
              f"{', '.join(f'{r:.2f}×' for r in ratios)}, median "
              f"{statistics.median(ratios):.2f}× (this machine's speed drifts between rounds; "
              "CPU seconds above show it); target ≤ 2×")
        read_cpu, check_cpu = read_then_validate_serially(path)
        print(f"  on one core: check_workbook {check_cpu:.2f} s CPU, of which python-calamine "
              f"{read_cpu:.2f} s; on every core it used {statistics.median(chk_cpu):.2f} s CPU "
              "in all processes")
        if pdt:
            p = statistics.median(pdt)
            print(f"pandas.read_excel: {p:.2f} s = {p / k:.1f}× slower than read+validate; "
                  "target ≥ 5×")
        else:
            print("pandas.read_excel: skipped (pandas not installed; pass --pandas-python)")
    if not args.skip_write:
        t, (tb, summary) = timed(lambda: summary_of(args.n))
        print(f"附件4 of {args.n} records built in {tb:.2f} s (records made in {t - tb:.1f} s)")
        off, bare, xw = [], [], []
        for _ in range(args.rounds):
            off.append(timed(lambda: write_official(tmp / "a4.xlsx", summary))[0])
            bare.append(timed(lambda: write_openpyxl_bare(tmp / "bare.xlsx", summary))[0])
            xw.append(timed(lambda: write_xlsxwriter_bare(tmp / "xw.xlsx", summary))[0])
            print(f"  round: official layout {off[-1]:.2f} s, openpyxl write-only bare "
                  f"{bare[-1]:.2f} s, xlsxwriter constant_memory bare {xw[-1]:.2f} s", flush=True)
        o, b, x = (statistics.median(v) for v in (off, bare, xw))
        print(f"write 附件4: {o:.2f} s = {o / b:.2f}× openpyxl write-only bare ({b:.2f} s; "
              f"target ≤ 1.3×); xlsxwriter bare {x:.2f} s; with building the summary "
              f"{o + tb:.2f} s = {(o + tb) / b:.2f}×")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
