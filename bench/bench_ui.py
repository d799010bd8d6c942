"""Window benchmarks with a register of 200,000 附件1 records (issue 3).

1. opening the register to a usable window, after the passphrase (target: under 2 s);
2. keystroke to mark in the 附件1 editor (target: 99th percentile under 16 ms);
3. search as you type over 200,000 records (target: each keystroke under 100 ms).

The register is built once with `dengji import` of generated data (about a minute) and kept in
bench/out/ (gitignored). Timings include Qt's painting (processEvents after each step).

Run: .venv/bin/python bench/bench_ui.py [--records 200000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench.datagen import lawyer_records, write_jsonl  # noqa: E402

PASS = "bench-passphrase-1"
OUT = ROOT / "bench" / "out"
ID = "11010519491231002X"


def build(records: int) -> Path:
    """The cached register of `records` generated 附件1 records (made when missing)."""
    db = OUT / f"ui-{records}.dengji"
    if db.exists():
        return db
    OUT.mkdir(parents=True, exist_ok=True)
    data = write_jsonl(OUT / f"ui-{records}.jsonl", lawyer_records(records, seed=3))
    env = dict(os.environ, DENGJI_PASSPHRASE=PASS)
    tmp = OUT / f".ui-{records}.building.dengji"
    for p in OUT.glob(f".ui-{records}.building.dengji*"):
        p.unlink()
    print(f"building {db.name}: importing {records} records (about a minute)…", flush=True)
    subprocess.run([sys.executable, "-m", "desktop", "init", "--db", str(tmp), "--level", "city",
                    "--unit-name", "基准市律师行业党委", "--unit-code", "320100"], env=env, check=True)
    subprocess.run([sys.executable, "-m", "desktop", "import", "--db", str(tmp), "--form",
                    "lawyer_member", "--partial", str(data)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    tmp.rename(db)
    data.unlink()
    return db


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def summary(name: str, samples: list[tuple[float, float]], target_ms: float) -> None:
    """Wall-clock figures, and the process's CPU time per step (what the step costs when the
    machine is not shared: the wall clock waits for other people's work on a busy machine)."""
    ms = [w * 1000 for w, _c in samples]
    cpu = [c * 1000 for _w, c in samples]
    print(f"{name}: n={len(ms)} median {statistics.median(ms):.1f} ms, p99 {pct(ms, 99):.1f} ms, "
          f"max {max(ms):.1f} ms (target {target_ms:g} ms); CPU time median "
          f"{statistics.median(cpu):.1f} ms, p99 {pct(cpu, 99):.1f} ms")


def timed(step) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    step()
    return time.perf_counter() - w, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    db = build(args.records)

    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtGui import QInputMethodEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from desktop.formspec import shipped_forms
    from desktop.storage import open_register
    from desktop.ui.mainwindow import MainWindow
    from desktop.ui.start import application, warm_up

    app = application()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    forms = shipped_forms()
    print(f"machine load before: {os.getloadavg()[0]:.2f} (2 cores, shared); "
          f"platform {app.platformName()}")

    # 1. passphrase given → usable window (first page of the table painted). The window loads
    #    python-stdnum's tables on a thread while the passphrase dialog is open; do that first.
    #    Three opens (the machine is shared and noisy); the last window is kept for 2 and 3.
    warm_up()
    work = Path(tempfile.mkdtemp(prefix="dengji-bench-ui-")) / db.name
    shutil.copyfile(db, work)  # the cached register is never changed by the benchmark
    opens = []
    for attempt in range(3):
        t0 = time.perf_counter()
        register = open_register(work, PASS)
        t1 = time.perf_counter()
        window = MainWindow(register, forms, actor="bench", settings=QSettings())
        t2 = time.perf_counter()
        window.show()
        app.processEvents()
        tab = window.tab("lawyer_member")
        tab.view.viewport().repaint()
        t3 = time.perf_counter()
        opens.append(t3 - t0)
        app.processEvents()
        print(f"open {attempt + 1}: {t3 - t0:.2f} s (key derivation and open {t1 - t0:.2f} s, "
              f"window built {t2 - t1:.2f} s, shown and painted {t3 - t2:.2f} s; "
              f"{tab.model.total:,} rows)")
        if attempt < 2:
            window.close()
            register.close()
    print(f"open to a usable window, after the passphrase: median {statistics.median(opens):.2f} s"
          f" (target 2 s)")
    t = time.perf_counter()
    while not window._peers_started and time.perf_counter() - t < 5:
        app.processEvents()
        time.sleep(0.01)
    # typing while the worker reads the unit's records (one GIL, shared in 1 ms turns)
    tab.new_record()
    line = tab.editor.editors["id_number"].line
    line.setFocus()
    during: list[tuple[float, float]] = []
    for _ in range(3):
        line.clear()
        tab.editor.editors["id_number"].edited.emit("id_number")
        for ch in ID:
            during.append(timed(lambda ch=ch: (QTest.keyClick(line, ch), app.processEvents())))
    summary("keystroke to mark while the worker reads the records", during, 16)
    while not tab.session.cross_ready and time.perf_counter() - t < 120:
        app.processEvents()
        time.sleep(0.01)
    print(f"records for cross rules read on a worker after the window is up: ready "
          f"{time.perf_counter() - t:.1f} s later (the window stays usable meanwhile)")

    # 2. keystroke to mark, typing an ID number key by key into the new 附件1 record
    line = tab.editor.editors["id_number"].line
    mark = tab.editor.editors["id_number"].mark
    line.setFocus()
    samples: list[tuple[float, float]] = []
    wrong = 0
    for _ in range(args.rounds):
        line.clear()
        tab.editor.editors["id_number"].edited.emit("id_number")
        app.processEvents()
        for i, ch in enumerate(ID):
            samples.append(timed(lambda ch=ch: (QTest.keyClick(line, ch), app.processEvents())))
            expected = "E" if i < len(ID) - 1 else ""
            wrong += mark.severity != expected
    summary("keystroke to mark (附件1, ID number)", samples, 16)
    print(f"  marks as expected after every keystroke: {wrong == 0}")

    # 3. search as you type (Chinese is committed as an input method does, one character at a
    #    time; Backspace clears)
    search = tab.search
    search.setFocus()
    samples = []
    queries = ["张伟", "李娜", "王芳", "陈", "刘洋", "赵", "周杰", "郑", "黄秀英", "孙"]
    for _ in range(max(1, args.rounds // 4)):
        for q in queries:
            for ch in q:
                event = QInputMethodEvent()
                event.setCommitString(ch)
                samples.append(timed(lambda e=event: (QApplication.sendEvent(search, e),
                                                      app.processEvents())))
            for _ch in q:
                samples.append(timed(lambda: (QTest.keyClick(search, Qt.Key.Key_Backspace),
                                              app.processEvents())))
    summary(f"search-as-you-type keystroke over {tab.model.total:,} records", samples, 100)
    t = time.perf_counter()
    QTest.keyClicks(search, "110105")
    app.processEvents()
    print(f"  typing 6 digits (no name matches): {(time.perf_counter() - t) * 1000:.0f} ms total")
    print(f"machine load after: {os.getloadavg()[0]:.2f}")
    window.close()
    register.close()
    shutil.rmtree(work.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
