"""Foundation benchmarks (issue: forms, validation, encrypted storage).

1. `dengji validate` of a 100,000-record .jsonl (target: under 10 s);
2. `dengji import` of the same 100,000 records into a new encrypted register (target: under
   15 s), with the database size per record;
3. validating one complete 附件1 record with all rules, including the register lookup, against
   a register of 200,000 members (target: median under 1 ms).

Run: .venv/bin/python bench/bench_foundation.py [--n 100000] [--register 200000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datagen import lawyer_records, write_jsonl  # noqa: E402

PASS = "bench-passphrase-1"


def dengji(*args: str) -> tuple[float, int]:
    env = dict(os.environ, DENGJI_PASSPHRASE=PASS)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "desktop", *args], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        print(proc.stderr.decode(), file=sys.stderr)
    return elapsed, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--register", type=int, default=200_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dengji-bench-"))
    t = time.perf_counter()
    data = write_jsonl(tmp / "a1.jsonl", lawyer_records(args.n, seed=1))
    print(f"generated {args.n} records in {time.perf_counter() - t:.1f} s "
          f"({data.stat().st_size / 1e6:.1f} MB)")

    elapsed, rc = dengji("validate", "--form", "lawyer_member", str(data))
    print(f"validate {args.n} records: {elapsed:.2f} s (exit {rc})")

    db = tmp / "reg.dengji"
    dengji("init", "--db", str(db), "--level", "city", "--unit-name", "基准市律师行业党委",
           "--unit-code", "320100")
    elapsed, rc = dengji("import", "--db", str(db), "--form", "lawyer_member", str(data))
    size = sum(p.stat().st_size for p in tmp.glob("reg.dengji*"))
    print(f"import {args.n} records into an encrypted register: {elapsed:.2f} s (exit {rc}); "
          f"database {size / 1e6:.1f} MB, {size / args.n:.0f} bytes per record")

    single_record(tmp, args.register)


def single_record(tmp: Path, n: int) -> None:
    from desktop.domain.context import Environment
    from desktop.domain.validation import Validator
    from desktop.formspec import shipped_forms
    from desktop.progress import run
    from desktop.services.intake.checking import LiveRegisterKeys, UnitPeers
    from desktop.services.intake.importing import import_file
    from desktop.storage import open_register

    db = tmp / "big.dengji"
    dengji("init", "--db", str(db), "--level", "national", "--unit-name", "基准", "--unit-code",
           "BIG")
    big = write_jsonl(tmp / "big.jsonl", lawyer_records(n, seed=2))
    forms = shipped_forms()
    form = forms.form("lawyer_member")
    t = time.perf_counter()
    with open_register(db, PASS) as reg:
        run(import_file(reg, forms, form, big))
    print(f"register of {n} members built in {time.perf_counter() - t:.1f} s")
    probe = lawyer_records(201, seed=3)
    with open_register(db, PASS) as reg, reg.session() as session:
        env = Environment(today=date.today(), keys=LiveRegisterKeys(reg, session, forms),
                          peers=UnitPeers(session, forms, "none"))
        validator = Validator(form, env)
        parsed = [validator.parse(r)[0] for r in probe]
        validator.check(parsed[0])  # warm caches
        times = []
        for values in parsed[1:]:
            t = time.perf_counter()
            validator.check(values)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"one 附件1 record, all rules incl. register lookup against {n}: median "
          f"{statistics.median(times):.3f} ms, p99 {times[int(len(times) * 0.99) - 1]:.3f} ms")


if __name__ == "__main__":
    main()
