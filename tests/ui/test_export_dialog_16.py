"""Issue 16, the export's dead ends, in the real window: the own records are checked before any
file is asked for, and each line of the refusal list offers its way out (打开记录 shows the record
in its tab); the recipient's key file is asked for once and remembered in the register (not in
the settings), its fingerprint shown, 更换… picks another; the cover page with the fingerprint is
printed from the export's dialogs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QDialog, QFileDialog, QLabel, QMessageBox  # noqa: E402

from desktop.services import packages as svc  # noqa: E402
from desktop.ui.actions import Action  # noqa: E402
from desktop.ui.packages.export import (  # noqa: E402
    BlockersDialog,
    ExportDialog,
    ExportDoneDialog,
)
from desktop.ui.printing.preview import PreviewDialog  # noqa: E402
from tests.exchange.conftest import (  # noqa: E402
    CITY,
    PROVINCE,
    fingerprint_of,
    key_file,
    overstate_members,
)


@pytest.fixture
def shown(monkeypatch) -> list:
    """The modal dialogs and message boxes of the export, recorded instead of waiting."""
    seen: list = []
    for cls in (BlockersDialog, ExportDoneDialog):
        monkeypatch.setattr(cls, "exec", lambda self: seen.append(self) or 0)
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: seen.append(a[2]) or 0)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: seen.append(a[2]) or 0)
    return seen


@pytest.fixture
def asked(monkeypatch) -> list[str]:
    """Every file dialog the export opens, by kind; each fails the test unless a test answers
    it (`answer`)."""
    calls: list[str] = []

    def refuse(kind: str):
        def dialog(*_a, **_k):
            calls.append(kind)
            raise AssertionError(f"a file dialog ({kind}) was opened")
        return dialog

    for kind in ("getOpenFileName", "getExistingDirectory", "getSaveFileName",
                 "getOpenFileNames"):
        monkeypatch.setattr(QFileDialog, kind, refuse(kind))
    return calls


def answer(monkeypatch, asked: list[str], kind: str, value) -> None:
    def dialog(*_a, **_k):
        asked.append(kind)
        return value
    monkeypatch.setattr(QFileDialog, kind, dialog)


def visible_export_dialog(window) -> ExportDialog | None:
    return next((d for d in window.findChildren(ExportDialog) if d.isVisible()), None)


def start(qtbot, window, seen: list, n: int, *, choose: bool = False) -> ExportDialog | None:
    """导出上报包…: wait for the check; the export dialog (None when `n` things were shown)."""
    window.action(Action.EXPORT_PACKAGE_TO if choose else Action.EXPORT_PACKAGE).trigger()
    window.workers.wait(60000)
    qtbot.waitUntil(lambda: len(seen) >= n or visible_export_dialog(window) is not None,
                    timeout=60000)
    return visible_export_dialog(window)


def export(qtbot, window, dialog: ExportDialog, seen: list) -> ExportDoneDialog:
    before = len(seen)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    window.workers.wait(60000)
    qtbot.waitUntil(lambda: len(seen) > before, timeout=60000)
    assert isinstance(seen[-1], ExportDoneDialog), seen[-1]
    return seen[-1]


def shown_fingerprint(dialog: ExportDialog) -> str:
    return dialog.fingerprint.text().replace("\n", " ")


def test_an_error_is_listed_before_any_file_is_asked_and_opens_in_its_tab(
        world, make_window, qtbot, shown, asked) -> None:
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=161)  # no trusted parent: without the check first, a key file is asked
    org_id = overstate_members(firm.register)
    window = make_window(firm.register)
    assert start(qtbot, window, shown, 1) is None
    assert asked == []  # neither a key file nor a folder before the records passed
    [blocked] = shown
    assert isinstance(blocked, BlockersDialog)
    rows = {blocked.table.item(r, 0).text(): r for r in range(blocked.table.rowCount())}
    row = next(r for title, r in rows.items() if "附件3" in title)
    button = blocked.open_buttons[row]
    assert button is not None and button.text() == "打开记录"
    window.tabs.setCurrentIndex(0)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    tab = window.tab("party_org")
    assert window.tabs.currentWidget() is tab
    assert tab.editor.session.record_id == org_id
    assert blocked.result() == QDialog.DialogCode.Accepted  # the list closed on the way out
    assert not list(world.folder.glob("**/*.djpkg"))
    del city


def test_the_key_file_is_asked_once_and_remembered_in_the_register(
        world, make_window, qtbot, shown, asked, monkeypatch, tmp_path) -> None:
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=162)  # has never compared the city's key
    key = tmp_path / "市级.djkey"
    key.write_bytes(key_file(city))
    out = tmp_path / "out"
    out.mkdir()
    answer(monkeypatch, asked, "getOpenFileName", (str(key), ""))
    answer(monkeypatch, asked, "getExistingDirectory", str(out))
    window = make_window(firm.register)
    dialog = start(qtbot, window, shown, 99)
    assert asked == ["getOpenFileName"]  # after the check, the missing key only
    assert "还没有核对过上级单位的公钥" in shown[0]
    assert shown_fingerprint(dialog) == fingerprint_of(city)
    assert CITY.name in dialog.findChild(QLabel, "recipientUnit").text()
    assert "导出时选择的公钥文件" in dialog.findChild(QLabel, "recipientHow").text()
    done = export(qtbot, window, dialog, shown)
    assert asked == ["getOpenFileName", "getExistingDirectory"]  # the folder, once
    assert CITY.name in done.findChild(QLabel, "exportInfo").text()
    assert len(list(out.glob("*.djpkg"))) == 1
    window.close()

    # the settings are forgotten: the key stays with the register, the folder is asked again
    QSettings().clear()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: pytest.fail(
        "the remembered key file was asked for again"))
    window = make_window(firm.register)
    dialog = start(qtbot, window, shown, 99)
    assert shown_fingerprint(dialog) == fingerprint_of(city)
    assert CITY.name in dialog.findChild(QLabel, "recipientUnit").text()
    export(qtbot, window, dialog, shown)
    assert len(list(out.glob("*.djpkg"))) == 2
    assert sum(1 for s in shown if isinstance(s, str) and "还没有核对过" in s) == 1
    window.close()

    # another register knows nothing of it
    other = world.firm(seed=163)
    assert svc.export_recipient(other.register) is None
    window = make_window(other.register)
    asked.clear()
    answer(monkeypatch, asked, "getOpenFileName", ("", ""))  # the clerk cancels
    assert start(qtbot, window, shown, len(shown) + 1) is None
    assert asked == ["getOpenFileName"] and "还没有核对过" in shown[-1]
    qtbot.wait(50)
    assert visible_export_dialog(window) is None


def test_change_picks_another_key_and_the_own_key_is_refused(
        world, make_window, qtbot, shown, asked, monkeypatch, tmp_path) -> None:
    city = world.register(CITY, "city.dengji")
    province = world.register(PROVINCE, "province.dengji")
    firm = world.firm(seed=164, parent=city)  # the city's key is trusted
    window = make_window(firm.register)
    dialog = start(qtbot, window, shown, 99)
    assert asked == []
    assert shown_fingerprint(dialog) == fingerprint_of(city)
    assert "已核对并信任" in dialog.findChild(QLabel, "recipientHow").text()

    own = tmp_path / "本单位.djkey"
    own.write_bytes(key_file(firm.register))
    answer(monkeypatch, asked, "getOpenFileName", (str(own), ""))
    qtbot.mouseClick(dialog.change_button, Qt.MouseButton.LeftButton)
    assert "本单位自己的公钥" in shown[-1]
    assert shown_fingerprint(dialog) == fingerprint_of(city)  # unchanged

    other = tmp_path / "省级.djkey"
    other.write_bytes(key_file(province))
    answer(monkeypatch, asked, "getOpenFileName", (str(other), ""))
    qtbot.mouseClick(dialog.change_button, Qt.MouseButton.LeftButton)
    assert shown_fingerprint(dialog) == fingerprint_of(province)
    assert PROVINCE.name in dialog.findChild(QLabel, "recipientUnit").text()
    chosen = svc.export_recipient(firm.register)
    assert chosen.chosen and chosen.key.fingerprint == fingerprint_of(province)
    dialog.close()
    with firm.register.session() as session:
        from sqlalchemy import select

        from desktop.storage.tables import AuditEntry

        actions = session.execute(select(AuditEntry.action, AuditEntry.target)).all()
    assert ("keys.recipient", PROVINCE.code) in actions


def test_the_cover_with_the_fingerprint_is_printed_from_the_export(
        world, make_window, qtbot, shown, asked, monkeypatch, tmp_path) -> None:
    from tests.ui.conftest import store

    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=165, parent=city)
    store(firm.register, "lawyer_member", {"姓名": "未完成的草稿"})  # no part of the package
    out = tmp_path / "out"
    answer(monkeypatch, asked, "getExistingDirectory", str(out))
    window = make_window(firm.register)
    dialog = start(qtbot, window, shown, 99)
    assert not dialog.cover_button.isEnabled()  # nothing exported yet
    done = export(qtbot, window, dialog, shown)
    qtbot.mouseClick(done.cover_button, Qt.MouseButton.LeftButton)
    window.workers.wait(60000)
    qtbot.waitUntil(lambda: window.findChild(PreviewDialog) is not None, timeout=60000)
    preview = window.findChild(PreviewDialog)
    text = pdf_text(preview.result.pdf, tmp_path / "cover.pdf")
    fingerprint = fingerprint_of(firm.register)
    assert all(group in text for group in fingerprint.split()), text
    assert done.result.package_id[:8] in text.replace(" ", "").replace("\n", "")
    # the cover states what the package holds: the draft is not counted
    [members] = re.findall(r"附件1\D*?(\d+) *条", text)
    assert int(members) == len(firm.members) == done.result.records - 1
    preview.close()

    # the next export dialog offers the last package's cover too; it still states what that
    # package held after a member was taken back to draft
    from sqlalchemy import select

    from desktop.domain.states import DRAFT
    from desktop.services.drafts import reopen
    from desktop.storage.tables import Record

    with firm.register.session() as session:
        member = session.execute(select(Record.id).where(
            Record.form_id == "lawyer_member", Record.state != DRAFT).limit(1)).scalar_one()
    reopen(firm.register, world.forms, member, actor="测试员")
    dialog = start(qtbot, window, shown, 99)
    assert dialog.cover_button.isEnabled()
    qtbot.mouseClick(dialog.cover_button, Qt.MouseButton.LeftButton)
    window.workers.wait(60000)
    qtbot.waitUntil(lambda: any(p.isVisible() for p in window.findChildren(PreviewDialog)),
                    timeout=60000)
    again = next(p for p in window.findChildren(PreviewDialog) if p.isVisible())
    text = pdf_text(again.result.pdf, tmp_path / "cover-again.pdf")
    assert re.findall(r"附件1\D*?(\d+) *条", text) == [members]
    assert done.result.package_id[:8] in text.replace(" ", "").replace("\n", "")
    again.close()
    dialog.close()


def pdf_text(pdf: bytes, path: Path) -> str:
    path.write_bytes(pdf)
    assert path.stat().st_size > 0
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_a_mistaken_draft_beside_a_blocked_record_is_voided_from_the_list(
        world, make_window, qtbot, shown, asked, monkeypatch) -> None:
    from desktop.formspec import shipped_forms
    from desktop.ui.records.formtab import FormTab
    from tests.ui.conftest import store

    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=166, parent=city)
    genuine = firm.members[0]
    # a second 附件1 record of the same person, typed by mistake and left as a draft
    form = shipped_forms().form("lawyer_member")
    mistaken = {label: value for label, value in genuine.items()
                if form.field_by_label(label) is not None}
    draft_id = store(firm.register, "lawyer_member", mistaken)
    window = make_window(firm.register)
    assert start(qtbot, window, shown, 1) is None
    assert asked == []
    [blocked] = shown
    assert isinstance(blocked, BlockersDialog)
    lines = [(b.record_id, blocked.table.item(r, 3).text())
             for r, b in enumerate(blocked.blockers)]
    assert any(rid != draft_id for rid, _ in lines)  # the genuine record carries the error
    row = next(r for r, (rid, _) in enumerate(lines) if rid == draft_id)
    assert "同一人" in lines[row][1] and genuine["姓名"] in blocked.table.item(row, 1).text()
    button = blocked.void_buttons[row]
    assert button is not None and button.text() == "作废草稿"
    assert all(blocked.void_buttons[r] is None for r, (rid, _) in enumerate(lines)
               if rid != draft_id)  # a complete record is never offered for voiding

    asked_about: list[str] = []
    monkeypatch.setattr(FormTab, "confirm_void",
                        lambda self, who: asked_about.append(who.person) or False)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert asked_about and genuine["姓名"] in asked_about[0]
    assert svc.blocker_records(firm.register, [draft_id])  # declined: the draft is kept
    assert not blocked.table.isRowHidden(row)

    monkeypatch.setattr(FormTab, "confirm_void", lambda self, who: True)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not svc.blocker_records(firm.register, [draft_id])  # voided
    assert blocked.table.isRowHidden(row)
    with firm.register.session() as session:
        from sqlalchemy import select

        from desktop.storage.tables import AuditEntry

        assert session.execute(select(AuditEntry.seq).where(
            AuditEntry.action == "record.void", AuditEntry.target == draft_id)).first()

    # the way is clear: the next export goes through to the dialog
    blocked.close()
    assert start(qtbot, window, shown, 99) is not None


def test_an_open_conflict_is_found_before_any_file_and_offers_the_conflicts_dialog(
        world, make_window, qtbot, shown, asked) -> None:
    from desktop.ui.packages.conflicts import ConflictsDialog
    from tests.exchange.test_merge import two_firms_sharing_a_person

    city, a, b = two_firms_sharing_a_person(world)
    world.merge(city, world.export(a.register).path, world.export(b.register).path)
    province = world.register(PROVINCE, "province.dengji")
    world.trust(city, province)  # the city knows where to send: only the conflict is in the way
    with city.session() as session:  # the received records are accepted: the package takes them
        from sqlalchemy import update

        from desktop.domain.states import ACCEPTED
        from desktop.storage.tables import Record

        session.execute(update(Record).where(Record.unit_id != city.own_unit_id)
                        .values(state=ACCEPTED))
        session.commit()
    assert svc.export_check(city, world.forms) is not None
    window = make_window(city)
    assert start(qtbot, window, shown, 1) is None
    assert asked == []
    [blocked] = shown
    assert isinstance(blocked, BlockersDialog) and "冲突" in str(blocked.findChild(QLabel).text())
    [button] = blocked.conflict_buttons
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = next(d for d in window.findChildren(ConflictsDialog) if d.isVisible())
    assert dialog.isVisible()
    dialog.close()


def test_the_menu_entry_for_another_key_asks_after_the_check_and_remembers(
        world, make_window, qtbot, shown, asked, monkeypatch, tmp_path) -> None:
    city = world.register(CITY, "city.dengji")
    province = world.register(PROVINCE, "province.dengji")
    firm = world.firm(seed=167, parent=city)
    other = tmp_path / "省级.djkey"
    other.write_bytes(key_file(province))
    answer(monkeypatch, asked, "getOpenFileName", (str(other), ""))
    window = make_window(firm.register)
    dialog = start(qtbot, window, shown, 99, choose=True)
    assert asked == ["getOpenFileName"]
    assert shown == []  # a parent is known: no explanation, only the file asked for
    assert shown_fingerprint(dialog) == fingerprint_of(province)
    dialog.close()
    asked.clear()
    dialog = start(qtbot, window, shown, 99)  # the plain entry uses the remembered key
    assert asked == [] and shown_fingerprint(dialog) == fingerprint_of(province)
    dialog.close()
