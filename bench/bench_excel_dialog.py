"""What the window's 导入Excel dialog costs on a large workbook, side by side in one run:

  - preview_workbook: the sheet chooser, header, first 20 rows and the guessed mapping (what the
    clerk waits for before the dialog opens),
  - python-calamine reading every cell (the floor of any full read),
  - the 检查 button: check_workbook against a register (nothing written),
  - the 导入 button: import_file (checks again, then writes all rows in one transaction).

Run: .venv/bin/python bench/bench_excel_dialog.py [--n 100000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_excel import make_input, read_calamine  # noqa: E402
from desktop.formspec import shipped_forms  # noqa: E402
from desktop.progress import run  # noqa: E402
from desktop.services.intake import preview as ep  # noqa: E402
from desktop.services.intake.importing import import_file  # noqa: E402
from desktop.services.intake.workbook import check_workbook  # noqa: E402
from desktop.services.registers import init_register  # noqa: E402
from desktop.storage import KdfParams  # noqa: E402


def timed(fn):
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    forms = shipped_forms()
    form = forms.form("lawyer_member")
    with tempfile.TemporaryDirectory() as tmp:
        book = make_input(Path(tmp) / "名册.xlsx", args.n)
        print(f"workbook: {args.n:,} rows, {book.stat().st_size / 1e6:.1f} MB")
        t_preview, preview = timed(lambda: ep.preview_workbook(book, form))
        print(f"preview_workbook (dialog opens): {t_preview:6.2f} s "
              f"({len(preview.columns)} columns, header row {preview.header_row})")
        t_cal, _ = timed(lambda: read_calamine(book))
        print(f"python-calamine, every cell:     {t_cal:6.2f} s")
        reg = init_register(Path(tmp) / "r.dengji", "基准测试口令 Bench-1234", level="firm",
                            unit_name="基准律师事务所党支部", unit_code="31110000MD0123456X",
                            kdf=KdfParams(n=2**10, r=8, p=1))
        try:
            def check():
                with reg.session() as session:
                    return run(check_workbook(forms, form, book, sheet=preview.sheet, mapping={},
                                              register=reg, session=session))

            t_check, results = timed(check)
            print(f"检查 (check_workbook + register): {t_check:6.2f} s "
                  f"({t_check / t_cal:.2f}× calamine), {len(results):,} rows")
            t_import, result = timed(lambda: run(import_file(
                reg, forms, form, book, sheet=preview.sheet, mapping={}, actor="bench")))
            print(f"导入 (import_file, as the dialog): {t_import:6.2f} s, imported "
                  f"{result.imported:,}, refused {result.refused:,}")
        finally:
            reg.close()


if __name__ == "__main__":
    main()
