"""Law society register benchmarks (issue 7: 个人会员清理).

1. `dengji import --form society_member` of a 300,000-row legacy register (target: under 30 s).
   The register comes as .jsonl; with --xlsx also as the old system's Excel export (the
   target's case), with python-calamine's time to read that workbook alone beside it.
2. Proposing duplicates over 1,000,000 members in memory, the candidates without ID included
   (target: under 30 s): blocking on normalised keys, no pairwise comparison.
3. Against the imported register: `dengji cleanup propose` (read the register, group, write the
   workbook), `dengji cleanup apply` of every proposal agreed, and `dengji stats`.

Run: .venv/bin/python bench/bench_society.py [--rows 300000] [--members 1000000] [--xlsx]
     [--import-only]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop.domain.society.cleanup import member_from_values, overdue_candidates  # noqa: E402
from desktop.domain.society.dedupe import find_duplicates  # noqa: E402
from tests.society.legacy import legacy_rows, write_legacy_workbook  # noqa: E402

PASS = "bench-passphrase-1"
LABELS = {"会员证号": "member_no", "姓名": "name", "公民身份号码": "id_number",
          "出生日期": "birth_date", "工作单位": "employer", "手机": "mobile",
          "批准入会日期": "approved", "最近联系日期": "last_contact",
          "最近履行会员义务日期": "last_duty"}


def dengji(*args: str) -> tuple[float, int, str]:
    env = dict(os.environ, DENGJI_PASSPHRASE=PASS)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "desktop", *args], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t
    err = proc.stderr.decode(errors="replace")
    if proc.returncode == 3:  # an internal error; 1 and 2 are reported by the caller
        print(err, file=sys.stderr)
    return elapsed, proc.returncode, err


def load_note() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return ""


def bench_import(tmp: Path, rows: int, xlsx: bool) -> Path:
    t = time.perf_counter()
    data, truth = legacy_rows(rows, seed=1)
    path = tmp / "legacy.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for r in data:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"generated {rows} legacy entries in {time.perf_counter() - t:.1f} s "
          f"({path.stat().st_size / 1e6:.0f} MB; {truth.persons} persons, "
          f"{truth.extra_same_id} copies with the same ID, {truth.extra_without_id} without, "
          f"{truth.without_id} entries without ID, {truth.id15} 15-digit)")
    db = tmp / "society.dengji"
    dengji("init", "--db", str(db), "--level", "society-province", "--unit-name", "辽宁省法学会",
           "--unit-code", "024")
    elapsed, rc, err = dengji("import", "--db", str(db), "--form", "society_member", str(path))
    print(f"import {rows} entries (.jsonl): {elapsed:.1f} s (exit {rc}) [{load_note()}]")
    if xlsx:
        book = tmp / "legacy.xlsx"
        t = time.perf_counter()
        write_legacy_workbook(book, data)
        print(f"wrote the legacy workbook in {time.perf_counter() - t:.1f} s "
              f"({book.stat().st_size / 1e6:.0f} MB)")
        db2 = tmp / "society-xlsx.dengji"
        dengji("init", "--db", str(db2), "--level", "society-province", "--unit-name",
               "辽宁省法学会", "--unit-code", "024")
        elapsed, rc, err = dengji("import", "--db", str(db2), "--form", "society_member",
                                  str(book))
        print(f"import {rows} entries (.xlsx): {elapsed:.1f} s (exit {rc}; target under 30 s) "
              f"[{load_note()}]")
        t = time.perf_counter()
        read_calamine(book)
        print(f"  (python-calamine alone reads that workbook in {time.perf_counter() - t:.1f} s)")
    return db


def read_calamine(path: Path) -> int:
    import python_calamine as pc

    with pc.CalamineWorkbook.from_path(str(path)) as wb:
        return len(wb.get_sheet_by_index(0).to_python())


def bench_memory(members: int) -> None:
    t = time.perf_counter()
    data, truth = legacy_rows(members, seed=2)
    people = [member_from_values(str(i), {LABELS[k]: v for k, v in r.items() if k in LABELS})
              for i, r in enumerate(data)]
    del data
    print(f"generated {members} members in memory in {time.perf_counter() - t:.1f} s")
    from datetime import date

    t = time.perf_counter()
    groups = find_duplicates(people)
    dup = time.perf_counter() - t
    removals = sum(len(g.removals) for g in groups)
    candidates = sum(1 for g in groups for r in g.removals if not r.certain)
    t = time.perf_counter()
    overdue, _ = overdue_candidates(people, date.today())
    print(f"duplicates over {members} members: {dup:.1f} s — {len(groups)} groups, "
          f"{removals} entries to remove ({candidates} candidates without ID; planted "
          f"{truth.extra_same_id} + {truth.extra_without_id}); long-lost candidates "
          f"{len(overdue)} in {time.perf_counter() - t:.1f} s [{load_note()}]")


def bench_register(tmp: Path, db: Path) -> None:
    out = tmp / "清理表.xlsx"
    elapsed, rc, _ = dengji("cleanup", "propose", "--db", str(db), "--out", str(out))
    print(f"cleanup propose on the register: {elapsed:.1f} s (exit {rc}; workbook "
          f"{out.stat().st_size / 1e6:.1f} MB)")
    from openpyxl import load_workbook

    t = time.perf_counter()
    wb = load_workbook(out)
    agreed = 0
    for name in ("重复录入", "无身份证号", "长期失联或不履行义务"):
        ws = wb[name]
        head = [c.value for c in ws[1]]
        col = head.index("处理决定") + 1
        extra = head.index("审批人") + 1 if "审批人" in head else None
        for r in range(2, ws.max_row + 1):
            ws.cell(r, col, "同意")
            agreed += 1
            if extra:
                ws.cell(r, extra, "审批人甲")
    filled = tmp / "已填.xlsx"
    wb.save(filled)
    print(f"(the clerk's part, filled with openpyxl: {time.perf_counter() - t:.1f} s)")
    elapsed, rc, _ = dengji("cleanup", "apply", "--db", str(db), str(filled), "--handler", "经办人甲")
    print(f"cleanup apply of {agreed} agreed rows: {elapsed:.1f} s (exit {rc}) [{load_note()}]")
    elapsed, rc, _ = dengji("stats", "--db", str(db))
    print(f"stats: {elapsed:.1f} s (exit {rc})")
    elapsed, rc, _ = dengji("audit", "--db", str(db))
    print(f"audit chain check: {elapsed:.1f} s (exit {rc})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--xlsx", action="store_true", help="also the legacy register as .xlsx")
    ap.add_argument("--import-only", action="store_true", help="only the imports (part 1)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dengji-society-"))
    db = bench_import(tmp, args.rows, args.xlsx)
    if args.import_only:
        return
    bench_register(tmp, db)
    bench_memory(args.members)


if __name__ == "__main__":
    main()
