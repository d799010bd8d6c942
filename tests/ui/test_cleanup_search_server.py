"""The 清理 screens' member search on a PostgreSQL register (issue 18): the member names are
opened once on a worker when a search list opens; meanwhile a whole 会员证号 or 公民身份号码
is found at once (keyed hashes) and the list says that the names are being loaded; then
every search is answered from memory, with what the window itself changes."""

from __future__ import annotations

import json
import threading
from datetime import date

import pytest
from PySide6.QtWidgets import QDialog, QMessageBox

from desktop.domain.society.cleanup import VIOLATION
from desktop.formspec import shipped_forms
from desktop.progress import run
from desktop.services.cleanup import search
from desktop.services.cleanup.propose import Decision, apply_decisions
from desktop.services.intake.importing import import_file
from desktop.services.registers import init_register
from desktop.ui.actions import Action
from desktop.ui.cleanup import common
from desktop.ui.cleanup.proposals import ProposalsDialog
from tests.conftest import PASSPHRASE
from tests.pg.cluster import pg_cluster, pg_database, pg_url  # noqa: F401 (fixtures)
from tests.ui.cleanup_data import FAST_KDF, ROWS, SOCIETY, ident


@pytest.fixture
def society(pg_url, tmp_path):  # noqa: F811
    reg = init_register(pg_url, PASSPHRASE, level="society-city", unit_name=SOCIETY,
                        unit_code="SYFXH-0024", kdf=FAST_KDF)
    forms = shipped_forms()
    path = tmp_path / "legacy.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), "utf-8")
    assert run(import_file(reg, forms, forms.form("society_member"), path)).refused == 0
    result = apply_decisions(reg, forms, [
        Decision(VIOLATION, member_no=no, basis="被判处刑罚", handler="清理员", approver="李审批")
        for no in ("0024-000008", "0024-000009")], actor="清理员", batch="2020年个人会员清理",
        when=date(2020, 11, 1))
    assert not result.refused, result.findings
    yield reg
    reg.close()


@pytest.fixture
def held(monkeypatch):
    """The worker's load waits until the test lets it go (what a large register does)."""
    go = threading.Event()

    def slow(register):
        go.wait(30)
        return (yield from search.load_member_index(register))

    monkeypatch.setattr(common, "load_member_index", slow)
    yield go
    go.set()


def texts(widget) -> list[str]:
    return [widget.item(i).text() for i in range(widget.count())]


def test_restore_searches_while_and_after_the_names_load(make_window, society, held, qtbot,
                                                        monkeypatch):
    window = make_window(society)
    window.action(Action.CLEANUP_RESTORE).trigger()
    dialog = next(d for d in window.findChildren(QDialog, "cleanupRestore") if d.isVisible())
    assert dialog.loading and dialog.error.text() == common.LOADING_NOTE
    dialog.search.setText("0024-000008")  # a whole number: found at once
    assert [t.split("　")[1] for t in texts(dialog.members)] == ["吴刚"]
    dialog.search.setText(ident("1985-10-10", 22))  # a whole ID number
    assert [t.split("　")[1] for t in texts(dialog.members)] == ["郑洁"]
    dialog.search.setText("吴")  # a part of a name needs the names
    assert texts(dialog.members) == [] and dialog.error.text() == common.LOADING_NOTE
    held.set()
    qtbot.waitUntil(lambda: not dialog.loading, timeout=20000)
    assert [t.split("　")[1] for t in texts(dialog.members)] == ["吴刚"]
    assert dialog.error.text() == ""
    dialog.search.setText("")
    assert len(texts(dialog.members)) == 2
    # restored through the dialog: the next search knows (the window's own change)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dialog.search.setText("吴刚")
    dialog.basis.setText("经核实，判决书所列为同名他人，误作撤销")
    dialog.handler.setText("王经办")
    assert dialog.submit()
    window.action(Action.CLEANUP_RESTORE).trigger()
    again = next(d for d in window.findChildren(QDialog, "cleanupRestore") if d.isVisible())
    assert not again.loading  # loaded once for the register
    again.search.setText("")
    assert [t.split("　")[1] for t in texts(again.members)] == ["郑洁"]


def test_the_revoke_page_searches_while_the_names_load(make_window, society, held, qtbot):
    window = make_window(society)
    window.action(Action.CLEANUP_PROPOSALS).trigger()
    dialog = window.findChild(ProposalsDialog, "cleanupProposals")
    qtbot.waitUntil(lambda: dialog.proposal is not None, timeout=20000)
    page = dialog.revoke
    assert page.waiting_note == common.LOADING_NOTE
    page.search.setText("孙")
    assert texts(page.hits) == [] and page.error.text() == common.LOADING_NOTE
    page.search.setText("0024-000006")
    assert [t.split("　")[1] for t in texts(page.hits)] == ["孙立"]
    page.search.setText("周")
    held.set()
    qtbot.waitUntil(lambda: not page.waiting_note, timeout=20000)
    assert [t.split("　")[1] for t in texts(page.hits)] == ["周强"]
    page.search.setText("无此人")
    assert "完整的公民身份号码" in page.error.text()
