"""Change-report benchmark (issue #17, 定期更新): the change list between two 20,000-record
packages of one sender (target: under 2 s).

A province register (real, encrypted) receives two packages of a city: 500 firms of 40 records
(39 members and the 附件3 record), each firm's package carried unchanged under inner/ inside the
city's encrypted payload. Between the two, 50 firms (10 %) sent a new package: 4 mobile numbers
changed, one member suspended (停止党籍), one member gone, one member added per firm. Both
city packages are merged with every check; then `changes_of_unit` opens the two packages from
the register (decrypting them), compares them record by record and field by field, masked, as
`dengji changes --unit` and the 收件看板 do. On a shared machine compare the CPU figures.

Run: .venv/bin/python bench/bench_changes.py [--firms 500] [--per-firm 40] [--changed 50]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_packages import (  # noqa: E402
    FORMS,
    TODAY,
    Firms,
    Stored,
    city_register,
    cpu,
    new_sender,
    rss,
    trust_all,
)
from desktop import sampledata as sd  # noqa: E402
from desktop.exchange.changes import compare, open_kept, parse_lines  # noqa: E402
from desktop.exchange.format.keys import PublicKeyInfo  # noqa: E402
from desktop.exchange.format.records import digest, record_line  # noqa: E402
from desktop.exchange.format.writer import (  # noqa: E402
    PackageContent,
    Sender,
    inner_ref,
    write_registration,
)
from desktop.exchange.trust import own_sender  # noqa: E402
from desktop.progress import run  # noqa: E402
from desktop.services.packages import merge_packages  # noqa: E402
from desktop.services.packages.changes import changes_of_unit  # noqa: E402
from desktop.storage import UnitInfo  # noqa: E402

VERSION = "2026.1"


class Firm:
    """A firm's sender, its record lines and its current package."""

    def __init__(self, sender: Sender, firm: sd.Firm, lines: list[dict]) -> None:
        self.sender, self.firm, self.lines = sender, firm, lines
        self.sequence, self.package_id, self.data = 0, None, b""

    def send(self, city: PublicKeyInfo) -> None:
        self.sequence += 1
        counts = {f: sum(1 for x in self.lines if x["form_id"] == f)
                  for f in ("lawyer_member", "party_org")}
        content = PackageContent(
            form_set="party", sequence=self.sequence, supersedes=self.package_id,
            records=self.lines,
            forms=[{"id": f, "version": VERSION, "records": n} for f, n in counts.items()],
            units=[self.sender.unit()],
            digests=[digest(x["id"], x["form_id"], VERSION, x["revision"], x["values"])
                     for x in self.lines])
        written = write_registration(content, self.sender, city)
        self.package_id, self.data = written.package_id, written.data


def line(form_id: str, unit: str, values: dict, rid: str | None = None, revision: int = 1
         ) -> dict:
    return record_line(rid or str(uuid.uuid4()), unit, form_id, VERSION, "已提交", revision,
                       values, [], None)


def make_firms(rng: random.Random, stored: Stored, n: int, per_firm: int, city: PublicKeyInfo
               ) -> list[Firm]:
    made, out = Firms(rng), []
    for _ in range(n):
        firm = made.next()
        sender = new_sender(firm.uscc, f"中共{firm.name}支部委员会", "firm", city.code)
        raws = [sd.lawyer_member(rng, firm, TODAY) for _ in range(per_firm - 1)]
        lines = [line("lawyer_member", firm.uscc, stored.values("lawyer_member", r))
                 for r in raws]
        lines.append(line("party_org", firm.uscc, stored.values("party_org",
                                                                 sd.party_org(firm, raws))))
        f = Firm(sender, firm, lines)
        f.send(city)
        out.append(f)
    return out


def change(rng: random.Random, stored: Stored, f: Firm) -> None:
    """4 mobiles changed, one member suspended, one gone, one added."""
    members = [x for x in f.lines if x["form_id"] == "lawyer_member"]
    for x in members[:4]:
        x["values"] = {**x["values"], "mobile": f"139{rng.randrange(10**8):08d}"}
        x["revision"] += 1
    members[4]["values"] = {**members[4]["values"], "party_status": "2"}
    members[4]["revision"] += 1
    f.lines.remove(members[5])
    f.lines.insert(0, line("lawyer_member", f.firm.uscc, stored.values(
        "lawyer_member", sd.lawyer_member(rng, f.firm, TODAY))))


def city_package(city: Sender, province: PublicKeyInfo, firms: list[Firm], sequence: int,
                 supersedes: str | None) -> tuple[bytes, str]:
    lines, digests, inner, units = [], [], [], [city.unit()]
    for f in firms:
        name = f"inner/{f.sender.info.code}-inner-{f.package_id[:8]}.djpkg"
        inner.append((inner_ref(name, f.package_id, f.sender.info.code,
                                f.sender.info.fingerprint), f.data))
        units.append(f.sender.unit())
        for x in f.lines:
            lines.append({**x, "state": "已接收", "origin": f.package_id})
            digests.append(digest(x["id"], x["form_id"], VERSION, x["revision"], x["values"]))
    counts = {fid: sum(1 for x in lines if x["form_id"] == fid)
              for fid in ("lawyer_member", "party_org")}
    content = PackageContent(
        form_set="party", sequence=sequence, supersedes=supersedes, records=lines,
        forms=[{"id": fid, "version": VERSION, "records": n} for fid, n in counts.items()],
        units=units, digests=digests, inner=inner)
    written = write_registration(content, city, province)
    return written.data, written.package_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=500)
    parser.add_argument("--per-firm", type=int, default=40)
    parser.add_argument("--changed", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dengji-bench-changes-"))
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    try:
        province, me = city_register(folder, UnitInfo("PROV", "某省律师行业党委", "province"))
        city = new_sender("CITY01", "某市律师行业党委", "city", "PROV")
        with province.session() as session:
            own = own_sender(session, province)[1]
        rng, stored = random.Random(17), Stored()
        t = time.perf_counter()
        firms = make_firms(rng, stored, args.firms, args.per_firm, city.info)
        first, first_id = city_package(city, me.info, firms, 1, None)
        for f in rng.sample(firms, args.changed):
            change(rng, stored, f)
            f.send(city.info)
        second, _ = city_package(city, me.info, firms, 2, first_id)
        records = sum(len(f.lines) for f in firms)
        print(f"   (made two city packages of {records:,} records with {args.firms} inner "
              f"firm packages each, {len(first) / 2**20:.1f} and {len(second) / 2**20:.1f} MiB, "
              f"in {time.perf_counter() - t:.1f} s)")
        paths = []
        for i, data in enumerate((first, second), start=1):
            path = folder / f"CITY01-party-{TODAY:%Y%m%d}-{i}.djpkg"
            path.write_bytes(data)
            paths.append(path)
        trust_all(province, [city])
        for path in paths:
            [report] = run(merge_packages(province, FORMS, [path], backup=False))
            assert report.status == "merged", report.reason
        times, cpus = [], []
        for _ in range(args.runs):
            t, c = time.perf_counter(), cpu()
            report = changes_of_unit(province, FORMS, "CITY01")
            times.append(time.perf_counter() - t)
            cpus.append(cpu() - c)
        added, removed, changed = report.comparison.totals()
        assert (added, sum(removed.values()), changed) == (
            args.changed, 2 * args.changed, 4 * args.changed), report.comparison.sentence()
        print(f"change list between two {records:,}-record packages ({report.comparison.sentence()};"
              f" {len(report.comparison.changes):,} records listed): median "
              f"{statistics.median(times):.2f} s wall, {statistics.median(cpus):.2f} s CPU, "
              f"min {min(times):.2f} s ({args.runs} runs; target < 2 s); peak memory {rss()}")
        # the own unit's list (before an export; records read from the register, not a
        # package) has no identical lines to skip: every record is parsed and compared
        old, new = (open_kept(data, [own], "bench") for data in (first, second))
        t, c = time.perf_counter(), cpu()
        whole = compare(parse_lines(old.raw), parse_lines(new.raw), FORMS)
        print(f"   every record parsed and compared (the own unit's list): "
              f"{time.perf_counter() - t:.2f} s wall, {cpu() - c:.2f} s CPU "
              f"({whole.sentence()})")
        province.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
