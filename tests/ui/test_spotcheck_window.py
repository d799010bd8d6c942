"""The 抽查 menu in the real window, as a city clerk uses it: draw a sample (the file dialog
answered), fill the verification workbook as a verifier would, import it (a bad one shows its
findings per cell and stores nothing), and save the report as PDF and Excel."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QFileDialog, QMessageBox  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from desktop.storage.tables import SpotItem  # noqa: E402
from desktop.ui.actions import Action  # noqa: E402
from desktop.ui.cleanup.common import FindingsDialog  # noqa: E402
from desktop.ui.spotcheck.dialogs import ReportDialog, SampleDialog  # noqa: E402
from tests.exchange.conftest import CITY, World  # noqa: E402
from tests.services.test_spotcheck import accept_firms, fill  # noqa: E402
from tests.ui.conftest import shown_dialog  # noqa: E402

SHOTS = Path("/tmp/shots19/spotcheck")


@pytest.fixture
def city(world: World):
    reg = world.register(CITY, "city.dengji")
    accept_firms(world, reg, ((91, 3), (92, 5)))
    return reg


@pytest.fixture
def said(monkeypatch) -> list[str]:
    out: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: out.append(a[2]) or 0)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: out.append(a[2]) or 0)
    return out


def answer_save(monkeypatch, path: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))


def answer_open(monkeypatch, path: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))


def stored(reg) -> int:
    with reg.session() as session:
        return session.execute(select(func.count()).select_from(SpotItem).where(
            SpotItem.result.is_not(None))).scalar_one()


def test_a_clerk_draws_records_and_reports(city, make_window, qtbot, monkeypatch, said,
                                           tmp_path) -> None:
    window = make_window(city)
    menus = [a.text() for a in window.menuBar().actions()]
    assert "抽查" in menus
    window.action(Action.SPOTCHECK_SAMPLE).trigger()
    dialog = shown_dialog(qtbot, window, "spotcheckSample", SampleDialog)
    qtbot.waitUntil(lambda: "10 条记录（2 个单位）" in dialog.about.text(), timeout=30000)
    dialog.by_size.setChecked(True)
    dialog.size.setValue(4)
    dialog.seed.setText("WINDOW-SEED")
    book = tmp_path / "抽查核验表.xlsx"
    answer_save(monkeypatch, book)
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SHOTS / "sample-dialog.png"))
    dialog.ok.click()
    qtbot.waitUntil(lambda: "已抽取样本" in dialog.result.text(), timeout=30000)
    assert book.is_file() and "WINDOW-SEED" in dialog.result.text()
    assert "4 条" in dialog.result.text() and said and "随机种子：WINDOW-SEED" in said[-1]

    # a 不实 without 说明: refused whole, the findings shown per cell
    bad = fill(book, tmp_path / "bad.xlsx", lambda row: ("不实", None))
    answer_open(monkeypatch, bad)
    window.action(Action.SPOTCHECK_RECORD).trigger()
    findings = shown_dialog(qtbot, window, "spotcheckFindings", FindingsDialog, timeout=30000)
    assert "未导入任何结果" in findings.summary.text()
    assert stored(city) == 0
    findings.grab().save(str(SHOTS / "findings.png"))
    findings.close()

    good = fill(book, tmp_path / "good.xlsx")
    answer_open(monkeypatch, good)
    before = len(said)
    window.action(Action.SPOTCHECK_RECORD).trigger()
    qtbot.waitUntil(lambda: len(said) > before, timeout=30000)
    assert "核验结果 4 条（属实 4 条" in said[-1]
    assert stored(city) == 4

    window.action(Action.SPOTCHECK_REPORT).trigger()
    report = shown_dialog(qtbot, window, "spotcheckReport", ReportDialog)
    assert report.sample.count() == 1 and "WINDOW-SEED" in report.sample.currentText()
    pdf = tmp_path / "抽查报告.pdf"
    answer_save(monkeypatch, pdf)
    report.ok.click()
    qtbot.waitUntil(lambda: "抽查报告：" in report.result.text(), timeout=30000)
    assert pdf.read_bytes().startswith(b"%PDF") and "不实率 0.0%" in report.result.text()
    report.xlsx.setChecked(True)
    xlsx = tmp_path / "抽查报告.xlsx"
    answer_save(monkeypatch, xlsx)
    report.ok.click()
    qtbot.waitUntil(lambda: str(xlsx) in report.result.text(), timeout=30000)
    assert xlsx.is_file()
    report.grab().save(str(SHOTS / "report-dialog.png"))


def test_a_firm_has_no_spotcheck_menu(make_window, register) -> None:
    window = make_window(register)
    assert "抽查" not in [a.text() for a in window.menuBar().actions()]


def test_an_empty_city_is_told_what_to_do_first(world: World, make_window, qtbot) -> None:
    window = make_window(world.register(CITY, "empty.dengji"))
    window.action(Action.SPOTCHECK_SAMPLE).trigger()
    dialog = shown_dialog(qtbot, window, "spotcheckSample", SampleDialog)
    qtbot.waitUntil(lambda: "还没有已接收的记录" in dialog.about.text(), timeout=30000)
    assert not dialog.ok.isEnabled()
    window.action(Action.SPOTCHECK_REPORT).trigger()
    report = shown_dialog(qtbot, window, "spotcheckReport", ReportDialog)
    assert "还没有抽取过样本" in report.result.text() and not report.ok.isEnabled()
