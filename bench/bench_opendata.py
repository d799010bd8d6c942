"""Open data benchmark (issue #17, 对接): `export-open` of 200,000 records. Target: under 30 s.

Run from the repository root:  python bench/bench_opendata.py [--records N] [--firms N] [--keep DIR]

A city register holds what it accepted from its firms: one Unit and one received, accepted
package per firm, each firm's 附件3 record and its lawyers' 附件1 records (desktop.sampledata:
valid ID numbers, licences, credit codes, dates; parsed by the form's own Validator into the
stored values an import stores), state 已接收. Setting it up is not timed. Timed: the whole
services.opendata.export_open — reading the records from the encrypted register, one line per
record (codes with labels), the schemas, 数据字典.xlsx/.md, the SHA-256 of every file, the
audit entry and the rename of the part folder. Then a sample of the lines is checked with
jsonschema (not timed) to show the data is what a receiving system accepts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop import sampledata as sd  # noqa: E402
from desktop.domain.context import Environment  # noqa: E402
from desktop.domain.digest import canonical  # noqa: E402
from desktop.domain.states import ACCEPTED  # noqa: E402
from desktop.domain.validation import Validator  # noqa: E402
from desktop.exchange.format.manifest import KIND_REGISTRATION  # noqa: E402
from desktop.formspec import shipped_forms  # noqa: E402
from desktop.progress import run  # noqa: E402
from desktop.services.opendata import export_open  # noqa: E402
from desktop.storage import KdfParams, Unit, UnitInfo, bulk_insert_records, create_register  # noqa: E402
from desktop.storage.tables import PACKAGE_RECEIVED, Package  # noqa: E402

FORMS = shipped_forms()
CITY = UnitInfo("11000000CITY00001X", "北京市律师行业党委（基准测试）", "city", "110000")


def stored(validator: Validator, by_label: dict) -> dict:
    values, findings = validator.parse(by_label)
    assert not [f for f in findings if f.severity == "E"], findings
    for spec in validator.form.fields:
        if spec.default is not None and spec.id not in values:
            values[spec.id] = spec.default
    return values


def build(register, records: int, firms: int) -> None:
    """Units, packages and records of `firms` firms, `records` 附件1 records in all."""
    rng = random.Random(17)
    today = date.today()
    lawyer = Validator(FORMS.form("lawyer_member"), Environment(today=today))
    org = Validator(FORMS.form("party_org"), Environment(today=today))
    per_firm = [records // firms + (1 if i < records % firms else 0) for i in range(firms)]
    rows: list[dict] = []
    with register.session() as session:
        for i, firm in enumerate(sd.firms(rng, firms)):
            unit = Unit(code=firm.uscc, name=f"中共{firm.name}支部委员会", level="firm",
                        parent_code=CITY.code)
            session.add(unit)
            package_id = str(uuid.uuid4())
            session.add(Package(
                id=package_id, kind=KIND_REGISTRATION, direction=PACKAGE_RECEIVED,
                sender_code=firm.uscc, sender_name=unit.name, sender_level="firm",
                recipient_code=CITY.code, recipient_fingerprint="bench", sequence=1,
                created=datetime.now(UTC), file_name=f"{firm.uscc}-1.djpkg", file_sha256="0" * 64,
                signer_fingerprint="bench", record_count=per_firm[i] + 1, status="accepted"))
            session.flush()
            members = [sd.lawyer_member(rng, firm, today) for _ in range(per_firm[i])]
            for form_id, check, items in (("lawyer_member", lawyer, members),
                                          ("party_org", org, [sd.party_org(firm, members)])):
                for item in items:
                    values = stored(check, item)
                    rows.append({"form_id": form_id, "form_version": check.form.version,
                                 "unit_id": unit.id, "data": canonical(values),
                                 "name": str(values.get(check.form.name_field) or ""),
                                 "state": ACCEPTED, "package_id": package_id})
            if len(rows) >= 20_000:
                bulk_insert_records(session, rows, [])
                rows = []
        bulk_insert_records(session, rows, [])
        session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--firms", type=int, default=4_000)
    parser.add_argument("--keep", type=Path, help="folder to leave the register and export in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="dengji-bench-open-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DENGJI_HOME", str(folder / "home"))
    path = folder / f"city-{uuid.uuid4().hex[:6]}.dengji"
    register = create_register(path, "bench 口令 open-1", CITY, kdf=KdfParams(n=2**14, r=8, p=1))

    t = time.perf_counter()
    build(register, args.records, args.firms)
    print(f"set-up: {args.records:,} 附件1 + {args.firms:,} 附件3 records of {args.firms:,} firms, "
          f"accepted: {time.perf_counter() - t:6.1f} s (not timed below); register "
          f"{path.stat().st_size / 2**20:.0f} MiB")

    out = folder / "开放数据"
    print(f"load average before the export: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    cpu0, t = os.times(), time.perf_counter()
    result = run(export_open(register, FORMS, out, actor="基准测试"))
    wall = time.perf_counter() - t
    cpu1 = os.times()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    print(f"export-open: {result.records:,} records in {wall:6.2f} s wall, {cpu:6.2f} s CPU "
          f"({result.records / wall:,.0f} records/s); target < 30 s: "
          f"{'met' if wall < 30 else 'NOT met'}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    for p in sorted(out.iterdir()):
        print(f"  {p.name:38s} {p.stat().st_size / 2**20:8.1f} MiB")

    from jsonschema import Draft202012Validator

    form = FORMS.form("lawyer_member")
    schema = json.loads((out / f"{form.id}-{form.version}.schema.json").read_text("utf-8"))
    check = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    with (out / f"{form.id}-{form.version}.jsonl").open(encoding="utf-8") as fh:
        sample = [json.loads(line) for n, line in enumerate(fh) if n % 200 == 0]
    bad = sum(1 for line in sample if not check.is_valid(line))
    print(f"jsonschema: {len(sample):,} sampled 附件1 lines (every 200th), {bad} invalid")
    register.close()


if __name__ == "__main__":
    main()
