"""Spot-check benchmark (issue 17): draw a 5% sample of 200,000 accepted records and write its
verification workbook (target: under 5 s).

The register is a real encrypted province register holding 200,000 accepted records of 5,000
firms (39 members and one 附件3 each) that came in 20 accepted city packages. The records are
inserted directly (a merge of that many is bench_packages.py's subject); their values are
realistic stored values of desktop.sampledata (names, valid ID numbers, firms) parsed as an
import parses them — 2,000 distinct members and the firms' own 附件3, reused across records
with fresh ids, since only the drawn 10,000 are printed. Timed: `draw_sample` whole — the
query of the population, the draw (200,000 HMACs), reading and printing the drawn records
(masked), 10,000 QR codes, the workbook, storing the sample and publishing the file.

`--compare TREE` (a checkout of another commit, e.g. `git worktree add /tmp/old-spot <rev>`)
times that tree's draw_sample and this one's on the same register, each in a fresh process
(alternating, same seeds), so before and after come from one run on the same machine load.

Run: .venv/bin/python bench/bench_spotcheck.py [--records 200000] [--rate 5%] [--keep DIR]
     [--compare TREE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop import sampledata as sd  # noqa: E402
from desktop.domain.context import Environment  # noqa: E402
from desktop.domain.validation import Validator  # noqa: E402
from desktop.exchange import sqlfast as sql  # noqa: E402
from desktop.formspec import shipped_forms  # noqa: E402
from desktop.progress import run  # noqa: E402
from desktop.services.spotcheck import draw_sample  # noqa: E402
from desktop.storage import UnitInfo, create_register  # noqa: E402
from desktop.storage.tables import Package, Record, Unit  # noqa: E402

PASS = "bench 口令 spotcheck-1"
FORMS = shipped_forms()
TODAY = date.today()
PER_FIRM = 40
CITIES = 20
DISTINCT = 2000


def cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def stored(form_id: str, raw: dict, validator: Validator) -> dict:
    values, _ = validator.parse(raw)
    for spec in FORMS.form(form_id).fields:
        if spec.default is not None and spec.id not in values:
            values[spec.id] = spec.default
    return values


def province(folder: Path, records: int):
    """A province register with `records` accepted records of firms under 20 cities."""
    reg = create_register(folder / "province.dengji", PASS,
                          UnitInfo("110000PROV", "北京省级律师行业党委（测试）", "province"))
    rng = random.Random(17)
    members = Validator(FORMS.form("lawyer_member"), Environment(today=TODAY))
    orgs = Validator(FORMS.form("party_org"), Environment(today=TODAY))
    firms_n = max(1, records // PER_FIRM)
    firm_list = sd.firms(rng, min(firms_n, 500))
    people = [json.dumps(stored("lawyer_member", sd.lawyer_member(
        rng, firm_list[i % len(firm_list)], TODAY), members), ensure_ascii=False)
        for i in range(DISTINCT)]
    now = datetime.now(UTC)
    units, packages, rows = [], [], []
    for c in range(CITIES):
        code = f"1101{c:02d}CITY"
        unit_id = str(uuid.uuid4())
        units.append({"id": unit_id, "code": code, "name": f"第{c + 1}市律师行业党委",
                      "level": "city", "parent_code": "110000PROV", "is_own": False,
                      "created_at": now})
        packages.append({
            "id": str(uuid.uuid4()), "kind": "registration", "direction": "received",
            "sender_code": code, "sender_name": f"第{c + 1}市律师行业党委", "sender_level": "city",
            "sender_unit_id": unit_id, "recipient_code": "110000PROV",
            "recipient_fingerprint": "", "sequence": 1, "supersedes": None,
            "superseded_by": None, "returns": None, "created": now, "handled_at": now,
            "file_name": f"{code}.djpkg", "file_sha256": "", "signer_fingerprint": "",
            "record_count": 0, "errors": 0, "warnings": 0, "status": "accepted",
            "summary": "{}", "content": None})
    made = 0
    for f in range(firms_n):
        firm = firm_list[f % len(firm_list)]
        unit_id, code = str(uuid.uuid4()), f"91{f:014d}X"[:18]
        units.append({"id": unit_id, "code": code, "name": f"中共{firm.name}{f}支部委员会",
                      "level": "firm", "parent_code": units[f % CITIES]["code"],
                      "is_own": False, "created_at": now})
        package = packages[f % CITIES]["id"]
        org = json.dumps(stored("party_org", sd.party_org(firm, []), orgs), ensure_ascii=False)
        for k in range(min(PER_FIRM, records - made)):
            data, form = (org, "party_org") if k == 0 else (people[made % DISTINCT],
                                                             "lawyer_member")
            rows.append({"id": str(uuid.uuid4()), "form_id": form, "form_version": "2026.1",
                         "unit_id": unit_id, "data": data, "name": "", "person_key": None,
                         "state": "已接收", "revision": 1, "created_at": now,
                         "updated_at": now, "package_id": package})
            made += 1
    with reg.session() as session:
        conn = session.connection()
        sql.insert_many(conn, Unit.__table__, units)
        sql.insert_many(conn, Package.__table__, packages)
        for i in range(0, len(rows), 20000):
            sql.insert_many(conn, Record.__table__, rows[i:i + 20000])
        session.commit()
    return reg, made


ONE_DRAW = """
import json, os, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from desktop.formspec import shipped_forms
from desktop.progress import run
from desktop.services.spotcheck import draw_sample
from desktop.storage import open_register
reg = open_register(Path(sys.argv[2]), sys.argv[3])
forms = shipped_forms()
t, w = os.times(), time.perf_counter()
drawn = run(draw_sample(reg, forms, Path(sys.argv[4]), rate=sys.argv[5], seed=sys.argv[6]))
wall, u = time.perf_counter() - w, os.times()
reg.close()
print(json.dumps({"wall": wall, "cpu": sum(u[:4]) - sum(t[:4]), "own": sum(u[:2]) - sum(t[:2]),
                  "size": drawn.size, "mib": Path(sys.argv[4]).stat().st_size / 2**20}))
"""


def compare(folder: Path, trees: list[Path], rate: str, rounds: int = 2) -> None:
    """Time draw_sample of each tree on the register in `folder`, each in a fresh process."""
    db = folder / "province.dengji"
    for attempt in range(1, rounds + 1):
        for tree in trees:
            out = folder / f"抽查表-{tree.name}-{attempt}.xlsx"
            done = subprocess.run([sys.executable, "-c", ONE_DRAW, str(tree), str(db), PASS,
                                   str(out), rate, f"BENCH{attempt}"],
                                  capture_output=True, text=True, check=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{tree}: draw {rate}: {r['size']} records, workbook {r['mib']:.1f} MiB — "
                  f"{r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU ({r['own']:.2f} s of it in "
                  f"the drawing process, the rest on its helper processes)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--rate", default="5%")
    ap.add_argument("--keep", type=Path)
    ap.add_argument("--compare", type=Path, action="append", default=[],
                    help="another checkout to time on the same register (before/after)")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-spotcheck-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        reg, made = province(folder, args.records)
        print(f"setup: {made} accepted records in {time.perf_counter() - t:.1f} s")
        if args.compare:
            reg.close()
            compare(folder, [*args.compare, Path(__file__).resolve().parent.parent], args.rate)
            return
        for attempt in (1, 2):
            out = folder / f"抽查表-{attempt}.xlsx"
            w, c = time.perf_counter(), cpu()
            drawn = run(draw_sample(reg, FORMS, out, rate=args.rate, seed=f"BENCH{attempt}"))
            wall, used = time.perf_counter() - w, cpu() - c
            print(f"draw {args.rate} of {drawn.population} ({drawn.units} units): {drawn.size} "
                  f"records, workbook {out.stat().st_size / 2**20:.1f} MiB — {wall:.2f} s wall, "
                  f"{used:.2f} s CPU (target < 5 s)")
        reg.close()
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
