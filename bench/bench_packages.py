"""Package benchmarks (issue: signed packages).

1. verify one firm package of 50 records with every check, decryption and record reading
   (target: under 50 ms);
2. merge 500 firm packages holding 20,000 records into a city register, every check included
   (target: under 10 s);
3. the province: merge 20 city packages holding 200,000 records with their 10,000 inner firm
   packages (target: under 60 s).

Firm and city packages are made in memory with the real writer (format version 2: their own
key pairs, records in stored form from desktop.sampledata, the city packages carrying the
firms' packages under inner/ inside their encrypted payloads); only the receiving registers are
real encrypted registers. On a shared machine compare the CPU figures: wall times follow the
others' load.

Run: .venv/bin/python bench/bench_packages.py [--firms 500] [--per-firm 40]
     [--cities 20] [--province-records 200000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: E402

from desktop import sampledata as sd  # noqa: E402
from desktop.domain.context import Environment  # noqa: E402
from desktop.domain.validation import Validator  # noqa: E402
from desktop.exchange.format.keys import PublicKeyInfo, raw_public  # noqa: E402
from desktop.exchange.format.reader import verify_package  # noqa: E402
from desktop.exchange.format.records import digest, record_line  # noqa: E402
from desktop.exchange.format.writer import (  # noqa: E402
    PackageContent,
    Sender,
    inner_ref,
    write_registration,
)
from desktop.exchange.trust import own_sender, register_view, trust  # noqa: E402
from desktop.formspec import shipped_forms  # noqa: E402
from desktop.progress import run  # noqa: E402
from desktop.services.packages import merge_packages  # noqa: E402
from desktop.storage import UnitInfo, create_register  # noqa: E402

PASS = "bench 口令 packages-1"
FORMS = shipped_forms()
TODAY = date.today()


def rss() -> str:
    """Peak resident memory of this process so far."""
    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"


def cpu() -> float:
    """CPU seconds of this process and its finished workers (the machine is shared: wall time
    depends on the others' load, CPU time much less)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def new_sender(code: str, name: str, level: str, parent: str | None) -> Sender:
    signing = Ed25519PrivateKey.generate()
    x = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return Sender(PublicKeyInfo(code, name, level, raw_public(signing), x), parent, signing)


class Stored:
    """Sample records parsed to stored form, as an import would store them."""

    def __init__(self) -> None:
        self.validators = {f: Validator(FORMS.form(f), Environment(today=TODAY))
                           for f in ("lawyer_member", "party_org")}

    def values(self, form_id: str, raw: dict) -> dict:
        form = FORMS.form(form_id)
        values, _ = self.validators[form_id].parse(raw)
        for spec in form.fields:
            if spec.default is not None and spec.id not in values:
                values[spec.id] = spec.default
        return values


class Firms:
    """Distinct firms (names and codes), made as needed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.made = rng, 0

    def next(self) -> sd.Firm:
        self.made += 1
        firm = sd.firms(self.rng, 1)[0]
        return sd.Firm(firm.name.replace("（第1所）", f"（第{self.made}所）"), firm.uscc,
                       firm.area, firm.phone_code)


def firm_package(rng: random.Random, stored: Stored, members: int, city: PublicKeyInfo,
                 firm: sd.Firm, state: str = "已提交"
                 ) -> tuple[bytes, Sender, list[dict], list[str], str]:
    """One firm's package (its members and 附件3) addressed to `city`."""
    sender = new_sender(firm.uscc, f"中共{firm.name}支部委员会", "firm", city.code)
    raws = [sd.lawyer_member(rng, firm, TODAY) for _ in range(members - 1)]
    records = [("lawyer_member", r) for r in raws] + [("party_org", sd.party_org(firm, raws))]
    lines, digests = [], []
    for form_id, raw in records:
        rid, values, version = str(uuid.uuid4()), stored.values(form_id, raw), "2026.1"
        lines.append(record_line(rid, firm.uscc, form_id, version, state, 1, values, [], None))
        digests.append(digest(rid, form_id, version, 1, values))
    content = PackageContent(
        form_set="party", sequence=1, supersedes=None, records=lines,
        forms=[{"id": "lawyer_member", "version": "2026.1", "records": members - 1},
               {"id": "party_org", "version": "2026.1", "records": 1}],
        units=[sender.unit()], digests=digests)
    written = write_registration(content, sender, city)
    return written.data, sender, lines, digests, written.package_id


def city_register(folder: Path, unit: UnitInfo):
    register = create_register(folder / f"{unit.code}.dengji", PASS, unit)
    with register.session() as session:
        me, _ = own_sender(session, register)
    return register, me


def trust_all(register, senders: list[Sender]) -> None:
    with register.session() as session:
        for s in senders:
            trust(session, s.info, s.info.fingerprint, "bench")
        session.commit()


def bench_verify(folder: Path) -> None:
    city, me = city_register(folder, UnitInfo("CITYV", "验证用市级党委", "city"))
    rng = random.Random(7)
    data, sender, _, _, _ = firm_package(rng, Stored(), 50, me.info, Firms(rng).next())
    trust_all(city, [sender])
    with city.session() as session:
        view = register_view(session, city)
    times, cpus = [], []
    for _ in range(30):
        t, c = time.perf_counter(), time.process_time()
        v = verify_package(data, "firm.djpkg", FORMS, view)
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
        assert v.ok, v.reason()
    print(f"1. verify a 50-record firm package ({len(data) / 1024:.0f} KiB), every check: "
          f"median {statistics.median(times) * 1000:.1f} ms, min {min(times) * 1000:.1f} ms "
          f"wall; median {statistics.median(cpus) * 1000:.1f} ms CPU (30 runs; target < 50 ms)")
    city.close()


def bench_city(folder: Path, firms: int, per_firm: int) -> None:
    city, me = city_register(folder, UnitInfo("CITY1", "某市律师行业党委", "city"))
    rng, stored = random.Random(1), Stored()
    firms_made = Firms(rng)
    out = folder / "firm-packages"
    out.mkdir()
    t = time.perf_counter()
    senders, paths = [], []
    for _ in range(firms):
        data, sender, _, _, _ = firm_package(rng, stored, per_firm, me.info, firms_made.next())
        path = out / f"{sender.info.code}-party-{TODAY:%Y%m%d}-1.djpkg"
        path.write_bytes(data)
        senders.append(sender)
        paths.append(path)
    print(f"   (made {firms} firm packages in {time.perf_counter() - t:.1f} s)")
    trust_all(city, senders)
    t, c = time.perf_counter(), cpu()
    reports = run(merge_packages(city, FORMS, paths))
    elapsed, used = time.perf_counter() - t, cpu() - c
    merged = sum(1 for r in reports if r.status == "merged")
    records = sum(r.outcome.records for r in reports if r.outcome)
    assert merged == firms, [r.reason for r in reports if r.status != "merged"][:3]
    print(f"2. merge {firms} firm packages / {records:,} records into a city register: "
          f"{elapsed:.2f} s wall, {used:.2f} s CPU ({records / elapsed:,.0f} records/s; "
          f"target < 10 s)")
    city.close()


def city_package(rng: random.Random, stored: Stored, index: int, firms: int, per_firm: int,
                 province: PublicKeyInfo, made: Firms) -> tuple[bytes, Sender]:
    """A city package carrying `firms` accepted firm packages under inner/."""
    city = new_sender(f"CITY{index:02d}", f"第{index}市律师行业党委", "city", province.code)
    lines, digests, inner, units = [], [], [], [city.unit()]
    for _ in range(firms):
        data, firm, firm_lines, firm_digests, pid = firm_package(rng, stored, per_firm,
                                                                 city.info, made.next())
        name = f"inner/{firm.info.code}-inner-{pid[:8]}.djpkg"
        inner.append((inner_ref(name, pid, firm.info.code, firm.info.fingerprint), data))
        units.append(firm.unit())
        for line in firm_lines:
            lines.append({**line, "state": "已接收", "origin": pid})
        digests += firm_digests
    content = PackageContent(
        form_set="party", sequence=1, supersedes=None, records=lines,
        forms=[{"id": "lawyer_member", "version": "2026.1", "records": firms * (per_firm - 1)},
               {"id": "party_org", "version": "2026.1", "records": firms}],
        units=units, digests=digests, inner=inner)
    return write_registration(content, city, province).data, city


def bench_province(folder: Path, cities: int, records: int) -> None:
    firms_per_city, per_firm = 500, max(2, records // cities // 500)
    province, me = city_register(folder, UnitInfo("PROV", "某省律师行业党委", "province"))
    rng, stored = random.Random(2), Stored()
    made = Firms(rng)
    out = folder / "city-packages"
    out.mkdir()
    t = time.perf_counter()
    senders, paths, size = [], [], 0
    for i in range(cities):
        data, sender = city_package(rng, stored, i, firms_per_city, per_firm, me.info, made)
        path = out / f"CITY{i:02d}-party-{TODAY:%Y%m%d}-1.djpkg"
        path.write_bytes(data)
        size += len(data)
        senders.append(sender)
        paths.append(path)
    print(f"   (made {cities} city packages with {cities * firms_per_city:,} inner firm packages, "
          f"{size / 2**20:.0f} MiB, in {time.perf_counter() - t:.1f} s; peak memory so far "
          f"{rss()})")
    trust_all(province, senders)
    t, c = time.perf_counter(), cpu()
    reports = run(merge_packages(province, FORMS, paths))
    elapsed, used = time.perf_counter() - t, cpu() - c
    assert all(r.status == "merged" for r in reports), [r.reason for r in reports][:3]
    total = sum(r.outcome.records for r in reports)
    print(f"3. province: merge {cities} city packages / {total:,} records with their "
          f"{cities * firms_per_city:,} inner packages: {elapsed:.2f} s wall, {used:.2f} s CPU "
          f"({total / elapsed:,.0f} records/s; target < 60 s)")
    print(f"   register file {province.path.stat().st_size / 2**20:.0f} MiB; peak memory {rss()}")
    province.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=500)
    parser.add_argument("--per-firm", type=int, default=40)
    parser.add_argument("--cities", type=int, default=20)
    parser.add_argument("--province-records", type=int, default=200_000)
    parser.add_argument("--keep", type=Path, help="folder to leave the registers in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="dengji-bench-packages-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    try:
        bench_verify(folder)
        bench_city(folder, args.firms, args.per_firm)
        if args.province_records:
            bench_province(folder, args.cities, args.province_records)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MiB; load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
