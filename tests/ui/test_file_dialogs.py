"""Files go where clerks look for them: save and open dialogs start in Documents or in the last
folder used for that kind of file, never in the program's hidden data folder; a saved file is
offered with 打开所在文件夹 in the status bar; Qt's file dialog speaks Chinese throughout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QFileDialog,
    QLabel,
    QMessageBox,
)

from desktop.ui import files
from desktop.ui.actions import Action

ENGLISH = re.compile(r"[A-Za-z]{2,}")


class Asked(list):
    """Every file dialog opened: (which, title, start folder or file); it answers from `answers`
    (cancelled when none is left)."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[str] = []


@pytest.fixture
def asked(monkeypatch) -> Asked:
    seen = Asked()
    answers = seen.answers

    def fake(which):
        def ask(_parent, title, start="", *_a, **_k):
            seen.append((which, title, start))
            answer = answers.pop(0) if answers else ""
            if which == "getExistingDirectory":
                return answer
            if which == "getOpenFileNames":
                return ([answer] if answer else []), ""
            return answer, ""
        return staticmethod(ask)

    for which in ("getSaveFileName", "getOpenFileName", "getOpenFileNames",
                  "getExistingDirectory"):
        monkeypatch.setattr(QFileDialog, which, fake(which))
    for kind in ("information", "warning"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(lambda *a, **k: None))
    return seen


@pytest.fixture
def documents(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "home" / "我的文档"
    folder.mkdir(parents=True)
    monkeypatch.setattr(files.QStandardPaths, "writableLocation", staticmethod(
        lambda _loc: str(folder)))
    return folder


def test_the_first_dialog_of_each_kind_opens_in_documents_then_where_the_last_went(
        window, qtbot, asked, documents, tmp_path, monkeypatch):
    # the register lives in the hidden data folder; no dialog starts there
    data = window.ctx.register.path.parent
    window.action(Action.BACKUP).trigger()
    window.action(Action.EXCEL_TEMPLATE).trigger()
    window.action(Action.TRUST_KEY).trigger()
    assert [Path(a[2]).parent if a[0] == "getSaveFileName" else Path(a[2]) for a in asked] == \
        [documents] * 3
    assert data not in {Path(a[2]) for a in asked} | {Path(a[2]).parent for a in asked}
    # a template saved elsewhere: the next Excel dialog (import, of the same kind) opens there
    elsewhere = tmp_path / "报表" / "模板.xlsx"
    elsewhere.parent.mkdir()
    asked.answers.append(str(elsewhere.with_suffix("")))  # the extension is added
    window.action(Action.EXCEL_TEMPLATE).trigger()
    # once it is written, the status bar offers its folder
    qtbot.waitUntil(lambda: window.statusBar().findChild(QLabel, "openFolder") is not None,
                    timeout=20000)
    assert elsewhere.exists()
    window.action(Action.EXCEL_IMPORT).trigger()
    assert asked[-1][0] == "getOpenFileName" and Path(asked[-1][2]) == elsewhere.parent
    # ... while another kind (the backup) still opens in Documents
    window.action(Action.BACKUP).trigger()
    assert Path(asked[-1][2]).parent == documents
    # the status bar offers the folder of the saved template; the link opens it
    offer = window.statusBar().findChild(QLabel, "openFolder")
    assert offer is not None and offer.isVisible()
    assert "打开所在文件夹" in offer.text() and "模板.xlsx" in offer.text()
    opened: list[Path] = []
    monkeypatch.setattr(files, "open_folder", opened.append)
    offer.linkActivated.emit("open")
    assert opened == [elsewhere.parent]


def test_a_remembered_folder_that_is_gone_or_hidden_falls_back_to_documents(
        window, documents, tmp_path, monkeypatch):
    ctx = window.ctx
    gone = tmp_path / "已删除"
    ctx.settings.setValue("files/excel", str(gone))
    assert files.start_folder(ctx, "excel") == documents
    monkeypatch.setenv("DENGJI_HOME", str(tmp_path / "data"))
    (tmp_path / "data" / "sub").mkdir(parents=True)
    ctx.settings.setValue("files/excel", str(tmp_path / "data" / "sub"))
    assert files.start_folder(ctx, "excel") == documents
    dotted = Path.home() / ".dengji-test-hidden"
    assert files.hidden(dotted)
    ctx.settings.setValue("files/excel", str(tmp_path))
    assert files.start_folder(ctx, "excel") == tmp_path


def test_no_file_dialog_is_opened_but_through_files_py():
    """Every file dialog of the window goes through desktop/ui/files.py."""
    root = Path(files.__file__).resolve().parent
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.name != "files.py" and "QFileDialog" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_qt_file_dialog_is_chinese_throughout(qapp, qtbot):
    files.install_chinese(qapp)
    assert QCoreApplication.translate("QFileDialog", "Look in:") != "Look in:"
    dialog = QFileDialog(None, "选择文件")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    qtbot.addWidget(dialog)
    dialog.show()
    texts = {w.objectName() or type(w).__name__: w.text()
             for w in dialog.findChildren(QLabel) + dialog.findChildren(QAbstractButton)
             if w.isVisible() and w.text()}
    texts.update({f"tip:{w.objectName()}": w.toolTip()
                  for w in dialog.findChildren(QAbstractButton) if w.toolTip()})
    assert texts["lookInLabel"].startswith("查找范围")
    assert texts["fileTypeLabel"].startswith("文件类型")
    english = {k: v for k, v in texts.items() if ENGLISH.search(v.replace("&", ""))}
    assert english == {}, english
    # the access keys are kept: Alt+L and Alt+T still reach their boxes
    assert "(&L)" in texts["lookInLabel"] and "(&T)" in texts["fileTypeLabel"]
