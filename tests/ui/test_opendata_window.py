"""上报 → 导出开放数据… through the real window: the confirmation says what goes out and that it
is full data, the export is written where the clerk said, validates with jsonschema, and is
audited; a folder that is not empty is refused in the dialog with nothing written."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from PySide6.QtWidgets import QFileDialog
from sqlalchemy import select

from desktop.storage import AuditEntry
from desktop.ui.actions import Action
from tests.ui.conftest import firm_set, shown_dialog, store


@pytest.fixture
def filled(register):
    """The firm's 附件3 (a draft: not exported) and three members marked complete."""
    _firm, people, org = firm_set(3)
    store(register, "party_org", org)
    for person in people:
        store(register, "lawyer_member", person, submit=True)
    return people


def actions(register) -> list[str]:
    with register.session() as session:
        return list(session.execute(select(AuditEntry.action).order_by(AuditEntry.seq)).scalars())


def open_dialog(qtbot, window, *, counted: bool = True):
    """The dialog, once it has counted the records (导出 waits for that)."""
    action = window.action(Action.EXPORT_OPEN)
    assert action.text() == "导出开放数据…" and action.isVisible()
    action.trigger()
    dialog = shown_dialog(qtbot, window, "openExportDialog")
    if counted:
        ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
        qtbot.waitUntil(lambda: dialog.counts is not None and ok.isEnabled(), timeout=20000)
    return dialog


def test_the_clerk_exports_the_open_data_and_it_validates(qtbot, window, register, filled,
                                                           boxes, tmp_path):
    dialog = open_dialog(qtbot, window)
    what = dialog.findChild(type(dialog.error), "openExportWhat").text()
    assert "附件1 律师党员基本信息登记表：3 条" in what and "附件3 党组织基本信息登记表：0 条" in what
    assert "完整数据" in dialog.findChild(type(dialog.error), "openExportFull").text()
    assert "开放数据-" in dialog.folder.text()  # a new folder is proposed
    out = tmp_path / "给全国系统"
    dialog.folder.setText(str(out))
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=30000)
    assert dialog.result.counts["lawyer_member"] == 3 and dialog.result.counts["party_org"] == 0
    kind, title, text = boxes[-1]
    assert title == "导出完成" and str(out) in text and "完整号码" in text
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    [entry] = [f for f in manifest["forms"] if f["form"] == "lawyer_member"]
    schema = json.loads((out / entry["schema"]).read_text("utf-8"))
    check = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    lines = [json.loads(x) for x in (out / entry["data"]).read_text("utf-8").splitlines()]
    assert len(lines) == 3 and all(check.is_valid(x) for x in lines)
    assert {x["data"]["id_number"] for x in lines} == {p["公民身份号码"] for p in filled}  # full
    assert actions(register)[-1] == "open.export"


def test_a_folder_that_is_not_empty_is_refused_in_the_dialog(qtbot, window, register, filled,
                                                             boxes, tmp_path, monkeypatch):
    out = tmp_path / "旧的"
    out.mkdir()
    (out / "别的文件.txt").write_text("x", "utf-8")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: str(out)))
    before = actions(register)
    dialog = open_dialog(qtbot, window)
    dialog.findChild(type(dialog.buttons.button(dialog.buttons.StandardButton.Ok)),
                     "openExportChoose").click()
    assert dialog.folder.text() == str(out)
    dialog.buttons.accepted.emit()
    assert dialog.isVisible() and dialog.result is None
    assert dialog.error.isVisible() and "不是空的" in dialog.error.text()
    assert [p.name for p in out.iterdir()] == ["别的文件.txt"]
    assert actions(register) == before and boxes == []
    dialog.folder.setText(str(tmp_path / "新的"))  # the way out: another folder
    assert not dialog.error.isVisible()
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=30000)
    assert (tmp_path / "新的" / "manifest.json").is_file()


def test_the_dialog_fits_the_screen_and_closes_while_it_counts(qtbot, window, register, filled,
                                                                boxes):
    dialog = open_dialog(qtbot, window, counted=False)
    screen = dialog.screen().availableGeometry()
    assert dialog.frameGeometry().width() <= screen.width()
    assert dialog.frameGeometry().height() <= screen.height()
    dialog.reject()  # perhaps before the count has come: it must not meet a deleted dialog
    qtbot.waitUntil(lambda: not window.findChildren(type(dialog), "openExportDialog"),
                    timeout=20000)
    assert boxes == []
