"""The 清理 screens' member search on SQLite and PostgreSQL, before and after the opened index
(issue 18), side by side in one run.

The same legacy register (tests/society/legacy.py, `--rows` entries) is imported into a
register file and into a database of a throwaway PostgreSQL cluster (tests/pg/cluster.py, as
bench/bench_pg.py). Then, per store, the median of a few searches of each kind (part of a
name, part of a 会员证号, a whole 会员证号, a whole 公民身份号码, everything):

- PostgreSQL before: what a search did until this change (every entry of the unit read and
  opened, then filtered: `old_search` below, the removed code, kept here to compare);
- PostgreSQL after: the first search (loads the index), the later ones (one aggregate query
  checks it), one after another clerk's save (that entry read again), and a whole-value search
  before the index is loaded (`wait=False`: the keyed hashes only);
- SQLite: json_extract/instr in the query, as before (unchanged).

Run: .venv/bin/python bench/bench_cleanup_search.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop.domain.society.cleanup import ACTIVE  # noqa: E402
from desktop.formspec import shipped_forms  # noqa: E402
from desktop.progress import run  # noqa: E402
from desktop.services.cleanup.search import (  # noqa: E402
    find_members,
    index_ready,
    load_member_index,
)
from desktop.services.cleanup.stored import DEFAULT_STATUS, member_fields  # noqa: E402
from desktop.services.intake.importing import import_file  # noqa: E402
from desktop.services.registers import init_register  # noqa: E402
from desktop.storage import KdfParams, Record, open_register  # noqa: E402
from tests.society.legacy import legacy_rows  # noqa: E402

PASS = "bench passphrase 123"
KDF = KdfParams(n=2**10, r=8, p=1)


def old_search(register, needle: str, limit: int = 200) -> list:
    """The PostgreSQL search before the index (services/cleanup/stored.search_members):
    every entry of the unit read and opened, then filtered in Python."""
    with register.engine.connect() as conn:
        hits = []
        for rid, _, name, (no, employer, status) in member_fields(
                conn, ("member_no", "employer", "status"), unit_id=register.own_unit_id):
            no, name, status = str(no or ""), str(name or ""), str(status or DEFAULT_STATUS)
            if needle and needle not in name and needle not in no:
                continue
            hits.append((rid, no, name, str(employer or ""), status in ACTIVE))
        return heapq.nsmallest(limit, hits, key=lambda h: (h[1], h[2]))


def median_ms(fn, times: int = 5) -> float:
    spent = []
    for _ in range(times):
        t = time.perf_counter()
        fn()
        spent.append(time.perf_counter() - t)
    return statistics.median(spent) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    args = ap.parse_args()
    from tests.pg.cluster import start_cluster

    folder = Path(tempfile.mkdtemp(prefix="dengji-bench-search-"))
    os.environ["DENGJI_HOME"] = str(folder / "home")
    forms = shipped_forms()
    rows, _ = legacy_rows(args.rows, seed=3)
    path = folder / "legacy.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    named = next(r for r in rows if r.get("公民身份号码") and r.get("会员证号"))
    queries = {"part of a name": named["姓名"][1:], "part of a 会员证号": named["会员证号"][:7],
               "a whole 会员证号": named["会员证号"], "a whole 公民身份号码": named["公民身份号码"],
               "everything": ""}
    table: dict[str, dict[str, str]] = {q: {} for q in queries}
    cluster = start_cluster()
    print(f"{args.rows:,} legacy entries; load average {os.getloadavg()[0]:.2f} on "
          f"{os.cpu_count()} cores (shared)", flush=True)
    try:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        cluster.admin(f"CREATE DATABASE {name}")
        places = {"SQLite": folder / "search.dengji", "PostgreSQL": cluster.url(name)}
        for store, where in places.items():
            init_register(where, PASS, level="society-city", unit_name="沈阳市法学会",
                          unit_code="0024", kdf=KDF).close()
            reg = open_register(where, PASS)
            t = time.perf_counter()
            run(import_file(reg, forms, forms.form("society_member"), path))
            print(f"imported into {store} in {time.perf_counter() - t:.1f} s", flush=True)
            if store == "PostgreSQL":
                t = time.perf_counter()
                early = find_members(reg, queries["a whole 公民身份号码"], wait=False)
                print(f"PostgreSQL, index not loaded, a whole 公民身份号码 (wait=False): "
                      f"{(time.perf_counter() - t) * 1000:.0f} ms, {len(early)} found; "
                      f"index ready: {index_ready(reg)}", flush=True)
                for q, needle in queries.items():
                    table[q]["PG before"] = f"{median_ms(lambda n=needle, r=reg: old_search(r, n)):.0f}"
                t = time.perf_counter()
                loaded = run(load_member_index(reg))
                print(f"PostgreSQL, loading the index ({loaded:,} entries opened): "
                      f"{(time.perf_counter() - t) * 1000:.0f} ms", flush=True)
            for q, needle in queries.items():
                table[q][f"{store} after"] = \
                    f"{median_ms(lambda n=needle, r=reg: find_members(r, n)):.0f}"
            if store == "PostgreSQL":
                with reg.session() as session:  # another clerk's save of one entry
                    rec = session.get(Record, early[0].record_id)
                    rec.revision += 1
                    session.commit()
                t = time.perf_counter()
                again = find_members(reg, queries["part of a name"])
                print(f"PostgreSQL, the first search after one entry was saved: "
                      f"{(time.perf_counter() - t) * 1000:.0f} ms ({len(again)} found)",
                      flush=True)
            reg.close()
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\nmedian of 5 searches, ms ({args.rows:,} entries; load average now "
          f"{os.getloadavg()[0]:.2f}):")
    print(f"{'search':24} {'PG before':>10} {'PG after':>10} {'SQLite':>8}")
    for q, cells in table.items():
        print(f"{q:24} {cells['PG before']:>10} {cells['PostgreSQL after']:>10} "
              f"{cells['SQLite after']:>8}")


if __name__ == "__main__":
    main()
