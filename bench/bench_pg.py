"""PostgreSQL against SQLite, side by side in one run (issue 18).

1. `dengji import` of 100,000 附件1 records into a new register (target: PostgreSQL within
   1.5× of SQLite);
2. the province merge of 20 city packages holding 200,000 records (the same packages into
   both stores; target within 1.5×);
3. opening a 200,000-record register to a usable window on PostgreSQL (target under 2 s; the
   way bench/bench_ui.py measures it: the passphrase given → the first page painted).

The PostgreSQL server is a throwaway cluster (tests/pg/cluster.py: initdb in /tmp, a Unix
socket, fsync off as in the tests), stopped at the end. Wall and CPU are printed for each;
the client's CPU is this process's or the `dengji` child's, the server's is the cluster's
processes' (from /proc), the load average is printed before and after (the machine is shared).

Run: .venv/bin/python bench/bench_pg.py [--records 100000] [--province-records 200000]
     [--open-records 200000] [--skip merge,open]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench.datagen import lawyer_records, write_jsonl  # noqa: E402

PASS = "bench-passphrase-1"
TICK = os.sysconf("SC_CLK_TCK")


def server_cpu(folder: Path) -> float:
    """CPU seconds used so far by the cluster's processes (postmaster and its backends)."""
    pid_file = folder / "data" / "postmaster.pid"
    master = int(pid_file.read_text().split()[0])
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        pid, ppid = int(proc.name), int(fields[1])
        if pid == master or ppid == master:
            total += (int(fields[11]) + int(fields[12])) / TICK
        if pid == master:  # the backends that have ended (a finished `dengji` child's)
            total += (int(fields[13]) + int(fields[14])) / TICK
    return total


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Clock:
    """Wall, client CPU and server CPU over a step."""

    def __init__(self, cluster_folder: Path, client) -> None:
        self.folder, self.client = cluster_folder, client

    def __enter__(self) -> Clock:
        self.w, self.c, self.s = time.perf_counter(), self.client(), server_cpu(self.folder)
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.w
        self.cpu = self.client() - self.c
        self.server = server_cpu(self.folder) - self.s

    def __str__(self) -> str:
        return (f"{self.wall:6.2f} s wall, {self.cpu:6.2f} s client CPU, "
                f"{self.server:6.2f} s server CPU")


def new_database(cluster) -> str:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    cluster.admin(f"CREATE DATABASE {name}")
    return cluster.url(name)


def dengji(*argv: str, env: dict) -> None:
    subprocess.run([sys.executable, "-m", "desktop", *argv], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def bench_import(cluster, folder: Path, records: int, env: dict) -> dict[str, str]:
    data = write_jsonl(folder / "import.jsonl", lawyer_records(records, seed=3))
    places = {"SQLite": str(folder / "import.dengji"), "PostgreSQL": new_database(cluster)}
    ratio = {}
    for store, db in places.items():
        dengji("init", "--db", db, "--level", "city", "--unit-name", "基准市律师行业党委",
               "--unit-code", "320100", env=env)
        with Clock(cluster.folder, children_cpu) as clock:
            dengji("import", "--db", db, "--form", "lawyer_member", "--partial", str(data),
                   env=env)
        ratio[store] = clock.wall
        print(f"1. import {records:,} records, {store:10}: {clock}", flush=True)
    print(f"   PostgreSQL / SQLite wall: {ratio['PostgreSQL'] / ratio['SQLite']:.2f}× "
          "(target ≤ 1.5×)", flush=True)
    return places


def bench_merge(cluster, folder: Path, cities: int, records: int) -> None:
    from bench import bench_packages as bp
    from desktop.progress import run
    from desktop.services.packages import merge_packages
    from desktop.storage import UnitInfo

    firms_per_city, per_firm = 500, max(2, records // cities // 500)
    unit = UnitInfo("PROV", "某省律师行业党委", "province")
    places = {"SQLite": folder, "PostgreSQL": None}
    made_for = {}
    ratio = {}
    for store in places:
        if store == "SQLite":
            province, me = bp.city_register(folder, unit)
        else:
            from desktop.exchange.trust import own_sender
            from desktop.storage import create_register

            province = create_register(new_database(cluster), bp.PASS, unit)
            with province.session() as session:
                me, _ = own_sender(session, province)
        # the same firms and members for both stores, sealed to each province's own key
        rng, stored = random.Random(2), bp.Stored()
        made = bp.Firms(rng)
        out = folder / f"city-packages-{store}"
        out.mkdir()
        senders, paths = [], []
        for i in range(cities):
            data, sender = bp.city_package(rng, stored, i, firms_per_city, per_firm, me.info,
                                           made)
            path = out / f"CITY{i:02d}-party-{bp.TODAY:%Y%m%d}-1.djpkg"
            path.write_bytes(data)
            senders.append(sender)
            paths.append(path)
        bp.trust_all(province, senders)
        made_for[store] = len(paths)
        with Clock(cluster.folder, own_cpu) as clock:
            reports = run(merge_packages(province, bp.FORMS, paths))
        bad = [r.reason for r in reports if r.status != "merged"]
        total = sum(r.outcome.records for r in reports if r.outcome)
        ratio[store] = clock.wall
        print(f"2. province merge of {cities} city packages / {total:,} records, {store:10}: "
              f"{clock}" + (f"; NOT MERGED: {bad[:2]}" if bad else ""), flush=True)
        province.close()
    print(f"   PostgreSQL / SQLite wall: {ratio['PostgreSQL'] / ratio['SQLite']:.2f}× "
          "(target ≤ 1.5×)", flush=True)


def bench_open(cluster, folder: Path, records: int, env: dict, rounds: int = 3) -> None:
    url = new_database(cluster)
    data = write_jsonl(folder / "open.jsonl", lawyer_records(records, seed=3))
    dengji("init", "--db", url, "--level", "city", "--unit-name", "基准市律师行业党委",
           "--unit-code", "320100", env=env)
    dengji("import", "--db", url, "--form", "lawyer_member", "--partial", str(data), env=env)

    from PySide6.QtCore import QSettings

    from desktop.formspec import shipped_forms
    from desktop.storage import open_register
    from desktop.ui.mainwindow import MainWindow
    from desktop.ui.start import application, warm_up

    app = application()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    forms = shipped_forms()
    warm_up()
    for attempt in range(rounds):
        with Clock(cluster.folder, own_cpu) as clock:
            register = open_register(url, PASS)
            window = MainWindow(register, forms, actor="bench", settings=QSettings())
            window.show()
            app.processEvents()
            tab = window.tab("lawyer_member")
            tab.view.viewport().repaint()
        print(f"3. open a {tab.model.total:,}-record register on PostgreSQL to a usable window "
              f"({attempt + 1}): {clock} (target 2 s)", flush=True)
        window.close()
        register.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--cities", type=int, default=20)
    ap.add_argument("--province-records", type=int, default=200_000)
    ap.add_argument("--open-records", type=int, default=200_000)
    ap.add_argument("--open-rounds", type=int, default=3)
    ap.add_argument("--skip", default="", help="comma-separated: import,merge,open")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    from tests.pg.cluster import start_cluster

    folder = Path(tempfile.mkdtemp(prefix="dengji-bench-pg-"))
    env = dict(os.environ, DENGJI_PASSPHRASE=PASS, DENGJI_HOME=str(folder / "home"))
    os.environ.update(DENGJI_HOME=env["DENGJI_HOME"])
    cluster = start_cluster()
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
          "(shared)", flush=True)
    try:
        if "import" not in skip:
            bench_import(cluster, folder, args.records, env)
        if "merge" not in skip:
            bench_merge(cluster, folder, args.cities, args.province_records)
        if "open" not in skip:
            bench_open(cluster, folder, args.open_records, env, args.open_rounds)
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
        print(f"load average at end: {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
