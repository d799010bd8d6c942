"""The 上报 menu in the real window: a firm exports its package, a city imports it by the menu
and by dropping it on the window, a tampered package is refused with its reason and nothing
written, and a new sender is trusted only after the clerk types the paper cover's fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QApplication,
    QDialog,
    QFileDialog,
    QLabel,
    QMessageBox,
)

from desktop.services import packages as svc  # noqa: E402
from desktop.ui.actions import Action  # noqa: E402
from desktop.ui.packages.export import BlockersDialog, ExportDoneDialog  # noqa: E402
from desktop.ui.packages.importing import ImportResultsDialog  # noqa: E402
from desktop.ui.packages.trust import TrustDialog  # noqa: E402
from tests.exchange.conftest import CITY, counts, fingerprint_of, overstate_members  # noqa: E402


@pytest.fixture
def shown(monkeypatch) -> list[QDialog]:
    """Modal package dialogs are recorded instead of waiting for a click."""
    seen: list[QDialog] = []
    for cls in (BlockersDialog, ExportDoneDialog, ImportResultsDialog):
        monkeypatch.setattr(cls, "exec", lambda self: seen.append(self) or 0)
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: seen.append(a[2]) or 0)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: seen.append(a[2]) or 0)
    return seen


def wait_for(qtbot, window, seen: list, n: int = 1) -> None:
    window.workers.wait(60000)
    qtbot.waitUntil(lambda: len(seen) >= n, timeout=60000)


def through_export_dialog(qtbot, window, seen: list, n: int = 1) -> None:
    """After 导出上报包…: the records are checked first; a refusal is recorded in `seen`, else
    the export dialog opens and 导出 is clicked; then wait for the `n`th recorded dialog."""
    window.workers.wait(60000)
    qtbot.waitUntil(lambda: len(seen) >= n or export_dialog(window) is not None, timeout=60000)
    if len(seen) < n:
        qtbot.mouseClick(export_dialog(window).export_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, window, seen, n)


def export_dialog(window):
    from desktop.ui.packages.export import ExportDialog

    return next((d for d in window.findChildren(ExportDialog) if d.isVisible()), None)


def export_by_menu(qtbot, window, out: Path, monkeypatch, seen: list):
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(out))
    out.mkdir(parents=True, exist_ok=True)
    window.action(Action.EXPORT_PACKAGE).trigger()
    through_export_dialog(qtbot, window, seen)
    return seen[-1]


def import_by_menu(qtbot, window, paths: list[Path], monkeypatch, seen: list):
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        lambda *a, **k: ([str(p) for p in paths], ""))
    before = len(seen)
    window.action(Action.IMPORT_PACKAGE).trigger()
    wait_for(qtbot, window, seen, before + 1)
    return seen[-1]


def test_firm_exports_and_city_imports_by_the_menu(world, make_window, qtbot, monkeypatch,
                                                   shown, tmp_path) -> None:
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=71, parent=city)
    firm_window = make_window(firm.register)
    done = export_by_menu(qtbot, firm_window, tmp_path / "out", monkeypatch, shown)
    assert isinstance(done, ExportDoneDialog)
    [package] = (tmp_path / "out").glob("*.djpkg")
    text = done.findChild(QLabel, "exportInfo").text()
    assert str(package) in text and "序号 1" in text and CITY.name in text
    assert done.fingerprint == fingerprint_of(firm.register)
    firm_window.close()

    city_window = make_window(city)
    assert len(city_window.units) == 1
    results = import_by_menu(qtbot, city_window, [package], monkeypatch, shown)
    assert isinstance(results, ImportResultsDialog)
    assert results.text(0, 1) == "已合并"
    assert f"{len(firm.members) + 1} 条记录" in results.text(0, 2)
    # the unit tree and the tabs show the firm that was merged
    assert len(city_window.units) == 2
    assert city_window.tree.topLevelItem(0).childCount() == 1
    firm_item = city_window.tree.topLevelItem(0).child(0)
    city_window.tree.setCurrentItem(firm_item)
    tab = city_window.tab("lawyer_member")
    assert tab.model.total == len(firm.members)
    # importing the same file again writes nothing twice
    again = import_by_menu(qtbot, city_window, [package], monkeypatch, shown)
    assert again.text(0, 1) == "已合并过"


DRAG_WARNING = pytest.mark.filterwarnings(  # PySide6 marks the QPoint constructor deprecated
    "ignore:Function.*QDragEnterEvent:DeprecationWarning")


@DRAG_WARNING
def test_a_package_dropped_on_the_window_is_merged(world, make_window, qtbot, monkeypatch,
                                                   shown) -> None:
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=72, parent=city)
    package = world.export(firm.register).path
    window = make_window(city)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(package)), QUrl.fromLocalFile(str(package.with_suffix(
        ".txt")))])
    enter = QDragEnterEvent(window.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(window.rect().center()), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    wait_for(qtbot, window, shown)
    [results] = shown
    assert results.table.rowCount() == 1  # the .txt was not taken
    assert results.text(0, 1) == "已合并"
    assert len(window.units) == 2


@DRAG_WARNING
def test_dropping_other_files_is_not_taken(make_window, register, tmp_path) -> None:
    window = make_window(register)
    other = tmp_path / "名单.xlsx"
    other.write_bytes(b"x")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    enter = QDragEnterEvent(window.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter.setAccepted(False)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_a_tampered_package_is_refused_with_its_reason(world, make_window, qtbot, monkeypatch,
                                                       shown, tmp_path) -> None:
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=73, parent=city)
    good = world.export(firm.register).path
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad = tmp_path / "篡改.djpkg"
    bad.write_bytes(bytes(data))
    empty = tmp_path / "空文件.djpkg"
    empty.write_bytes(b"")
    window = make_window(city)
    before = counts(city)
    results = import_by_menu(qtbot, window, [bad, empty], monkeypatch, shown)
    assert [results.text(r, 1) for r in range(2)] == ["已拒绝", "已拒绝"]
    reasons = {results.text(r, 0): results.text(r, 2) for r in range(2)}
    assert all(r.startswith("未写入任何内容。") for r in reasons.values())
    assert any(w in reasons["篡改.djpkg"] for w in ("哈希", "损坏", "zip", "签名"))
    assert reasons["空文件.djpkg"] != "未写入任何内容。"
    summary = results.findChild(QLabel, "importSummary").text()
    assert "2 个被拒绝" in summary and "未写入任何内容" in summary
    assert counts(city) == before
    assert len(window.units) == 1


def test_export_with_an_error_lists_it_and_writes_nothing(world, make_window, qtbot,
                                                          monkeypatch, shown, tmp_path) -> None:



    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=74, parent=city)
    org_id = overstate_members(firm.register)  # 附件3 says more members than there are
    window = make_window(firm.register)
    blocked = export_by_menu(qtbot, window, tmp_path / "out", monkeypatch, shown)
    assert isinstance(blocked, BlockersDialog)
    assert blocked.table.rowCount() >= 1
    cells = [blocked.table.item(r, c).text() for r in range(blocked.table.rowCount())
             for c in range(4)]
    assert any("律师党员" in c for c in cells)
    # a double click opens the record in the window
    blocked.table.cellDoubleClicked.emit(0, 0)
    tab = window.tab("party_org")
    assert window.tabs.currentWidget() is tab
    assert tab.editor.session.record_id == org_id
    assert not list((tmp_path / "out").iterdir())


def test_a_new_sender_is_trusted_only_after_the_paper_fingerprint(world, make_window, qtbot,
                                                                  monkeypatch, shown) -> None:
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=75)
    world.trust(firm.register, city)  # the firm knows the city; the city not yet the firm
    package = world.export(firm.register).path
    fp = fingerprint_of(firm.register)
    window = make_window(city)
    prompts: list[TrustDialog] = []

    def wrong_then_right(dialog: TrustDialog) -> int:
        prompts.append(dialog)
        assert dialog.fingerprint == fp
        assert not dialog.trust_button.isEnabled()
        wrong = fp[:-1] + ("0" if fp[-1] != "0" else "1")
        dialog.entry.setText(wrong)
        assert not dialog.trust_button.isEnabled()
        assert "不一致" in dialog.verdict.text()
        if len(prompts) == 1:
            return QDialog.DialogCode.Rejected
        dialog.entry.setText(fp.replace(" ", "").lower())  # typed without spaces
        assert dialog.trust_button.isEnabled()
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(TrustDialog, "exec", wrong_then_right)
    before = counts(city)
    refused = import_by_menu(qtbot, window, [package], monkeypatch, shown)
    assert len(prompts) == 1
    assert refused.text(0, 1) == "已拒绝" and "尚未核对" in refused.text(0, 2)
    assert counts(city) == before  # not trusted, nothing written

    merged = import_by_menu(qtbot, window, [package], monkeypatch, shown)
    assert len(prompts) == 2
    assert merged.text(0, 1) == "已合并"  # merged again at once, once trusted
    assert len(window.units) == 2
    assert [k.fingerprint for k in _trusted(city)] == [fp]


def _trusted(register):
    from desktop.exchange.trust import trusted_keys

    with register.session() as session:
        return trusted_keys(session)


def test_own_key_dialog_shows_the_fingerprint(make_window, register, qtbot) -> None:
    window = make_window(register)
    window.action(Action.OWN_KEY).trigger()
    dialog = window.findChild(QDialog, "ownKey")
    assert dialog.isVisible()
    label = dialog.findChild(QLabel, "fingerprint")
    assert label.text().replace("\n", " ") == svc.own_public_key(register).fingerprint
    dialog.close()


def test_without_a_trusted_parent_a_key_file_is_chosen(world, make_window, qtbot, monkeypatch,
                                                       shown, tmp_path) -> None:
    from tests.exchange.conftest import key_file

    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=76)  # has never compared the city's key
    key = tmp_path / "市级.djkey"
    key.write_bytes(key_file(city))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(key), ""))
    window = make_window(firm.register)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path))
    window.action(Action.EXPORT_PACKAGE).trigger()
    through_export_dialog(qtbot, window, shown, 2)
    assert "还没有核对过上级单位的公钥" in shown[0]
    done = shown[1]
    assert isinstance(done, ExportDoneDialog)
    assert CITY.name in done.findChild(QLabel, "exportInfo").text()


def test_trusting_a_key_file_from_the_menu(world, make_window, monkeypatch) -> None:
    from tests.exchange.conftest import key_file

    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=77)
    key = world.folder / "firm.djkey"
    key.write_bytes(key_file(firm.register))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(key), ""))
    typed: list[str] = []

    def type_paper(dialog: TrustDialog) -> int:
        dialog.entry.setText(typed.pop(0))
        return QDialog.DialogCode.Accepted if dialog.matches() else QDialog.DialogCode.Rejected

    monkeypatch.setattr(TrustDialog, "exec", type_paper)
    window = make_window(city)
    typed.append("1234")
    assert not window.action(Action.TRUST_KEY).trigger() and _trusted(city) == []
    typed.append(fingerprint_of(firm.register))
    window.action(Action.TRUST_KEY).trigger()
    assert [k.fingerprint for k in _trusted(city)] == [fingerprint_of(firm.register)]


def test_many_packages_show_progress_and_one_row_each(world, make_window, qtbot, monkeypatch,
                                                      shown) -> None:
    city = world.register(CITY, "city.dengji")
    paths = [world.export(world.firm(seed=90 + i, parent=city).register).path
             for i in range(3)]
    window = make_window(city)
    steps: list[tuple[int, int, str]] = []
    monkeypatch.setattr(window, "show_progress", lambda d, t, m="": steps.append((d, t, m)))
    results = import_by_menu(qtbot, window, paths, monkeypatch, shown)
    assert [results.text(r, 1) for r in range(3)] == ["已合并"] * 3
    assert steps[-1] == (0, 0, "")  # the bar is hidden when the import ends
    assert {t for _d, t, _m in steps[:-1]} == {3}
    assert any("核验" in m for _d, _t, m in steps)
    assert len(window.units) == 4 and window.action(Action.IMPORT_PACKAGE).isEnabled()


def test_a_statistics_table_that_disagrees_is_said_in_the_results(world) -> None:
    """A society package whose table disagrees with its records is merged and the clerk is
    told so in the results row."""
    from dataclasses import replace

    from desktop.ui.packages.importing import describe

    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=82, parent=city)
    [report] = world.merge(city, world.export(firm.register).path)
    assert "注意" not in describe(report)
    said = describe(replace(report, stats_finding="统计表与数据包中的会员记录不符"))
    assert said.endswith("；注意：统计表与数据包中的会员记录不符")
