"""The 打印 menu of a 法学会: a member's record page, the 统计表 and the 通报."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog

from desktop.formspec import shipped_forms
from desktop.reports.pdf.cleanup import notice_pdf
from desktop.services.cleanup.paper import build_notice
from desktop.services.printing import STATS_ID, preview_pdf
from desktop.ui.actions import Action
from desktop.ui.printing.actions import summary_action
from tests.conftest import PASSPHRASE
from tests.ui.cleanup_data import audit, society_register
from tests.ui.test_print_preview import open_and_wait, select_row


@pytest.fixture
def society(tmp_path):
    reg = society_register(tmp_path, PASSPHRASE)
    yield reg
    reg.close()


def test_a_society_menu_has_the_statistics_and_the_notice(society, make_window) -> None:
    window = make_window(society)
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "打印")
    texts = [a.text() for a in menu.actions() if a.text()]
    assert "预览个人会员清理工作情况统计表…" in texts and "预览清理结果通报…" in texts
    assert not any("附件4" in t for t in texts)


def test_preview_a_member_record(society, make_window, qtbot) -> None:
    window = make_window(society)
    record_id = select_row(window, qtbot)
    dialog = open_and_wait(window, qtbot, window.action(Action.PRINT_PREVIEW))
    expected = preview_pdf(society, shipped_forms(), "society_member", [record_id])
    assert dialog.result.pdf == expected.pdf and len(dialog.pages) == expected.pages
    dialog.close()


def test_preview_and_save_the_statistics(society, make_window, qtbot, monkeypatch,
                                         tmp_path) -> None:
    window = make_window(society)
    dialog = open_and_wait(window, qtbot, window.action(summary_action(STATS_ID)))
    expected = preview_pdf(society, shipped_forms(), STATS_ID)
    assert dialog.result.pdf == expected.pdf and dialog.pages.landscape(0)
    assert not dialog.full_box.isVisibleTo(dialog)  # nothing to unmask in a count table
    out = tmp_path / "统计表.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **kw: (str(out), "")))
    dialog.save_pdf()
    assert out.read_bytes() == expected.pdf
    _actor, action, detail = audit(society)[-1]
    assert action == "print" and detail["form"] == STATS_ID and detail["output"] == "file"
    dialog.close()


def test_preview_and_save_the_notice(society, make_window, qtbot, monkeypatch,
                                     tmp_path) -> None:
    window = make_window(society)
    dialog = open_and_wait(window, qtbot, window.action(Action.PREVIEW_NOTICE))
    expected = notice_pdf(build_notice(society, shipped_forms(), names=False))
    assert dialog.result.pdf == expected and not dialog.pages.landscape(0)
    assert not dialog.full_box.isVisibleTo(dialog)
    assert dialog.windowTitle() == "打印预览 — 清理结果通报"
    out = tmp_path / "通报"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **kw: (str(out), "")))
    assert dialog.save_pdf() == tmp_path / "通报.pdf"  # the suffix is added
    assert (tmp_path / "通报.pdf").read_bytes() == expected
    actor, action, detail = audit(society)[-1]
    assert (actor, action, detail["output"]) == ("测试员", "cleanup.notice", "file")
    dialog.close()
