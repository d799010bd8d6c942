"""The 清理建议 window on a large legacy register: how long the proposals take to compute (on the
workers), to show (the 重复录入 tree and the two lists) and to apply with every group confirmed
and every no-ID member moved out.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_cleanup_ui.py --rows 50000
        [--store postgresql]

With ``--store postgresql`` the register is a database of a throwaway PostgreSQL cluster
(tests/pg/cluster.py, as bench/bench_pg.py), and the 撤销资格 page's member search is timed
too (its names loaded on a worker when the window opens).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from desktop.formspec import shipped_forms  # noqa: E402
from desktop.progress import run  # noqa: E402
from desktop.services.intake.importing import import_file  # noqa: E402
from desktop.services.registers import init_register  # noqa: E402
from desktop.storage import KdfParams  # noqa: E402
from tests.society.legacy import legacy_rows  # noqa: E402


def wait(app: QApplication, done, limit: float = 600) -> None:
    start = time.perf_counter()
    while not done():
        app.processEvents()
        time.sleep(0.005)
        if time.perf_counter() - start > limit:
            raise TimeoutError


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    args = ap.parse_args()
    cluster = None
    if args.store == "postgresql":
        from tests.pg.cluster import start_cluster

        cluster = start_cluster()
    try:
        bench(args, cluster)
    finally:
        if cluster is not None:
            cluster.stop()


def bench(args, cluster) -> None:
    app = QApplication([])
    QMessageBox.information = staticmethod(lambda *a, **k: None)
    QMessageBox.warning = staticmethod(lambda *a, **k: None)
    tmp = Path(tempfile.mkdtemp(prefix="bench-cleanup-ui-"))
    os.environ["DENGJI_HOME"] = str(tmp / "home")  # backups (pg_dump) go there, not to ~
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp / "s"))
    forms = shipped_forms()
    where: Path | str = tmp / "s.dengji"
    if cluster is not None:
        cluster.admin("CREATE DATABASE bench_cleanup_ui")
        where = cluster.url("bench_cleanup_ui")
    reg = init_register(where, "bench passphrase 123", level="society-city",
                        unit_name="沈阳市法学会", unit_code="SYFXH-0024",
                        kdf=KdfParams(n=2**10, r=8, p=1))
    rows, _truth = legacy_rows(args.rows, seed=3)
    path = tmp / "legacy.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    t = time.perf_counter()
    result = run(import_file(reg, forms, forms.form("society_member"), path))
    print(f"imported {args.rows} legacy entries in {time.perf_counter() - t:.1f} s "
          f"(refused {result.refused})")

    from desktop.ui.cleanup.actions import open_proposals
    from desktop.ui.cleanup.proposals import CONFIRMED
    from desktop.ui.mainwindow import MainWindow

    window = MainWindow(reg, forms, actor="bench", settings=QSettings())
    window.show()
    app.processEvents()
    window.workers.wait()
    shown: dict[str, float] = {}
    t = time.perf_counter()
    dialog = open_proposals(window.ctx)
    original = dialog.show_proposal

    def timed(p, rows=None) -> None:
        shown["computed"] = time.perf_counter() - t
        s = time.perf_counter()
        original(p, rows)
        shown["shown"] = time.perf_counter() - s

    dialog.show_proposal = timed
    wait(app, lambda: "shown" in shown)
    p = dialog.proposal
    print(f"proposals: {len(p.groups)} groups ({p.removals} removals), {len(p.no_id)} without "
          f"ID, {len(p.overdue)} overdue; computed (with the list texts) on the workers in {shown['computed']:.2f} s, "
          f"shown in the window in {shown['shown']:.2f} s")
    page = dialog.revoke
    wait(app, lambda: not page.waiting_note)  # the member names, loaded on a worker
    for needle in ("王", rows[len(rows) // 2]["会员证号"], "0024-0001"):
        t = time.perf_counter()
        page.search.setText(needle)
        print(f"撤销资格 search “{needle}”: {page.hits.count()} shown in "
              f"{(time.perf_counter() - t) * 1000:.0f} ms ({args.store})")
    page.search.clear()
    t = time.perf_counter()
    for gi in range(len(p.groups)):
        dialog.decisions[gi] = CONFIRMED
    dialog.noid.set_all(True)
    decisions = dialog.chosen_decisions("bench", "")
    print(f"{len(decisions)} decisions collected in {time.perf_counter() - t:.2f} s")
    dialog.show_proposal = original
    dialog.confirm = lambda decisions: True  # the 确认应用 question, answered 应用
    dialog.people.handler.setText("bench")  # 经办人 is required (not prefilled here)
    t = time.perf_counter()
    dialog.apply()
    wait(app, lambda: dialog.last_result is not None)
    r = dialog.last_result
    print(f"applied ({len(r.changes)} changes, refused={r.refused}) in "
          f"{time.perf_counter() - t:.2f} s")
    window.workers.wait()
    window.close()
    reg.close()


if __name__ == "__main__":
    main()
