"""Peak memory of `dengji validate` on workbooks (issue 14: bounded by the input).

Targets: a 400,000-row legacy law-society register (the old system's Excel export, generated
by tests/society/legacy.py) validated with and without --annotate under 1 GB peak memory;
--annotate of 100,000 rows within 3× the plain validate's time.

Each run is a child process (`python -m desktop validate …`); its peak memory is the largest
resident set of it and its workers, read from resource.getrusage(RUSAGE_CHILDREN).ru_maxrss in
a fresh watcher process per run (the maximum over the children it waited for), so one run's
peak does not hide the next's.

Run: .venv/bin/python bench/bench_memory.py [--rows 400000] [--annotate-rows 100000]
     [--keep DIR]
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

from tests.society.legacy import legacy_rows, write_legacy_workbook  # noqa: E402

GB = 1 << 30
#: runs one command and prints its wall time, exit status and peak memory (KiB) as JSON
_WATCH = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
print(json.dumps({"seconds": time.perf_counter() - t, "code": proc.returncode,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "err": proc.stderr.decode(errors="replace")[-2000:]}))
"""


def measure(*args: str) -> dict:
    """Wall time, exit status and peak RSS (bytes) of `python -m desktop args`."""
    out = subprocess.run([sys.executable, "-c", _WATCH, sys.executable, "-m", "desktop", *args],
                         capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    got = json.loads(out.stdout)
    got["peak"] = got.pop("maxrss_kib") * 1024
    return got


def workbook(folder: Path, rows: int) -> Path:
    path = folder / f"legacy-{rows}.xlsx"
    if path.exists():
        return path
    t = time.perf_counter()
    data, _ = legacy_rows(rows, seed=1)
    write_legacy_workbook(path, data)
    print(f"generated {rows} legacy rows as {path.name} ({path.stat().st_size / 1e6:.0f} MB) "
          f"in {time.perf_counter() - t:.0f} s", flush=True)
    return path


def line(what: str, got: dict, target: str = "") -> str:
    ok = "" if got["code"] in (0, 1) else f" [exit {got['code']}: {got['err'][-300:]}]"
    return (f"{what}: {got['seconds']:.1f} s, peak {got['peak'] / GB:.2f} GB "
            f"(exit {got['code']}){ok}{' — ' + target if target else ''}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--annotate-rows", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="keep (and reuse) the generated workbooks here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        except OSError:
            load = "?"
        print(f"cores {os.cpu_count()}, load average {load}", flush=True)
        big = workbook(folder, args.rows)
        form = ("--form", "society_member")
        plain = measure("validate", *form, str(big))
        print(line(f"validate {args.rows} rows", plain, "target: peak under 1 GB"), flush=True)
        marked = measure("validate", *form, str(big), "--annotate", str(folder / "big-out.xlsx"))
        print(line(f"validate --annotate {args.rows} rows", marked, "target: peak under 1 GB"),
              flush=True)
        small = workbook(folder, args.annotate_rows)
        plain = measure("validate", *form, str(small))
        print(line(f"validate {args.annotate_rows} rows", plain), flush=True)
        marked = measure("validate", *form, str(small), "--annotate",
                         str(folder / "small-out.xlsx"))
        print(line(f"validate --annotate {args.annotate_rows} rows", marked,
                   f"{marked['seconds'] / plain['seconds']:.2f}× the plain validate "
                   f"(target: within 3×)"), flush=True)


if __name__ == "__main__":
    main()
