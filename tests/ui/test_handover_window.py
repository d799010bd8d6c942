"""登记库 → 移交… in the real window (issue 19), end to end as two clerks do it: what must be
filled is said before anything runs, a wrong current passphrase changes nothing, then the
handover: the new recovery key shown as at first run with the 移交清单 saved and printed
beside it, the window now names the successor, and the register opens with the successor's
passphrase only."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QFileDialog  # noqa: E402
from sqlmodel import select  # noqa: E402

from desktop.errors import WrongPassphrase  # noqa: E402
from desktop.services.secrets import make_recovery_key, recovery_problem, recovery_state  # noqa: E402
from desktop.services.unit import save_unit_profile, unit_profile  # noqa: E402
from desktop.storage import AuditEntry, open_register  # noqa: E402
from desktop.ui.actions import Action  # noqa: E402
from desktop.ui.printing import job as print_job  # noqa: E402
from desktop.ui.register.handover import NAME, HandoverDialog  # noqa: E402
from desktop.ui.register.sheet import RecoveryKeyDialog  # noqa: E402
from tests.ui.conftest import SECRET, store, type_into  # noqa: E402
from tests.ui.secrets_steps import Shown, on_modal, record_boxes  # noqa: E402

SUCCESSOR_SECRET = "新任经办人的口令 Maple-Lane-88"


@pytest.fixture
def boxes(monkeypatch) -> Shown:
    return record_boxes(monkeypatch)


def handover_dialog(window) -> HandoverDialog:
    window.action(Action.HANDOVER).trigger()
    [dialog] = [d for d in window.findChildren(HandoverDialog, NAME) if d.isVisible()]
    return dialog


def test_handover_end_to_end_then_reopen_with_the_new_passphrase(
        make_register, make_window, qtbot, boxes, monkeypatch, tmp_path):
    from tests.ui.conftest import firm_set

    register = make_register()
    save_unit_profile(register, "测试员", {"handler": "王敏"})
    _firm, members, _org = firm_set(2)
    for member in members:
        store(register, "lawyer_member", member)
    old_key = make_recovery_key(register, "王敏")
    window = make_window(register)
    path = register.path
    dialog = handover_dialog(window)
    assert dialog.from_name.text() == "王敏"  # the 经办人 of 本单位信息
    # nothing filled but the outgoing clerk: said, nothing runs
    dialog.buttons.accepted.emit()
    assert "接收人" in dialog.error.text()
    dialog.to_name.setText("王敏")
    dialog.buttons.accepted.emit()
    assert "同一个人" in dialog.error.text()
    dialog.to_name.setText("李华")
    dialog.buttons.accepted.emit()
    assert "当前口令" in dialog.error.text()
    # a wrong current passphrase: refused by the service, nothing changed, the dialog stays
    type_into(qtbot, dialog.old, "wrong passphrase")
    dialog.new.secret.setText(SUCCESSOR_SECRET)
    dialog.new.again.setText(SUCCESSOR_SECRET)
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: "不正确" in dialog.error.text(), timeout=30000)
    assert dialog.isVisible() and unit_profile(register).handler == "王敏"
    assert recovery_state(register).key_id == old_key.key_id
    # the handover
    dialog.old.setText(SECRET)
    checklist = tmp_path / "移交清单.pdf"
    printed = tmp_path / "打印机.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(checklist), "")))

    def choose(_parent, printer) -> bool:
        printer.setOutputFileName(str(printed))
        return True

    monkeypatch.setattr(print_job, "choose_printer", choose)
    seen: list = []

    def clerks(step: RecoveryKeyDialog) -> None:
        seen.append(step.key)
        assert "移交清单" in step.paper_buttons
        save, printing = step.paper_buttons["移交清单"]
        save.click()  # 保存移交清单为 PDF…
        printing.click()  # 打印移交清单…
        qtbot.waitUntil(lambda: step.printed >= 1, timeout=30000)
        step.check.setChecked(True)
        step.finish_button.click()

    on_modal(clerks, kind=RecoveryKeyDialog)
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: bool(seen) and recovery_state(register).confirmed, timeout=60000)
    assert [b[1] for b in boxes if b[0] == "information"] == ["移交完成"]
    assert checklist.read_bytes().startswith(b"%PDF") and printed.read_bytes().startswith(b"%PDF")
    # the successor is the 经办人 and the actor of the window from now on
    assert unit_profile(register).handler == "李华" and window.ctx.actor == "李华"
    assert all(tab.actor == "李华" for tab in window.ctx.tabs())
    assert recovery_state(register).key_id == seen[0].key_id != old_key.key_id
    assert "取代" in (recovery_problem(path, old_key.text) or "")
    with register.session() as session:
        [entry] = [e for e in session.exec(select(AuditEntry)) if e.action == "register.handover"]
    detail = json.loads(entry.detail)
    assert (detail["from"], detail["to"]) == ("王敏", "李华") and SECRET not in entry.detail
    # the window still works on the new key: the lists read the records
    tab = window.ctx.tab("lawyer_member")
    tab.reload()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2, timeout=10000)
    window.close()
    register.close()
    with pytest.raises(WrongPassphrase):
        open_register(path, SECRET)
    with open_register(path, SUCCESSOR_SECRET) as reopened:
        assert unit_profile(reopened).handler == "李华"
