"""Issue 18 in the real window: a record another clerk saved while it was open here. The save
shows who and when and every differing field side by side; 保留我的修改 saves this clerk's
values on the new revision, 采用对方的修改 shows the other's values and writes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QTableWidget
from sqlmodel import select

from desktop.formspec import shipped_forms
from desktop.services.editing import EditSession
from desktop.storage import AuditEntry, Record
from tests.ui.conftest import firm_set, store

SHOTS = Path(os.environ.get("DENGJI_SHOTS", "/tmp/shots19/p3"))


def answer_conflict(window, button: str, seen: list) -> None:
    """When the conflict dialog opens, note its lead and rows, then press `button`."""

    def press() -> None:
        dialog = next((d for d in window.findChildren(QDialog, "record_conflict")
                       if d.isVisible()), None)
        if dialog is None:
            QTimer.singleShot(20, press)
            return
        table = dialog.findChild(QTableWidget, "conflict_fields")
        seen.append((dialog.findChild(QLabel, "conflict_lead").text(),
                     [tuple(table.item(r, c).text() for c in range(3))
                      for r in range(table.rowCount())]))
        SHOTS.mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(SHOTS / f"conflict-{button}.png"))
        dialog.findChild(QPushButton, button).click()

    QTimer.singleShot(0, press)


@pytest.mark.parametrize("button", ["conflict_keep_mine", "conflict_take_theirs"])
def test_a_record_saved_meanwhile_by_another_clerk(make_window, register, qtbot, button):
    _firm, members, org = firm_set(1)
    store(register, "party_org", org)
    rid = store(register, "lawyer_member", members[0])
    window = make_window(register)
    window.show_tab("lawyer_member")
    tab = window.tab("lawyer_member")
    tab.view.selectRow(next(r for r in range(tab.model.rowCount())
                            if tab.model.record_id(r) == rid))
    assert tab.session.record_id == rid
    form = tab.form
    name, mobile = form.name_field, form.field_by_label("手机号码").id
    before = dict(tab.session.values)

    forms = shipped_forms()
    other = EditSession(register, forms, forms.form("lawyer_member"), register.own_unit_id,
                        actor="乙")
    other.load(rid)
    other.set_raw(mobile, "13912345678")
    assert other.save()
    other.close()

    seen: list = []
    answer_conflict(window, button, seen)
    tab.editor.apply_raw(name, "王晓明")
    assert len(seen) == 1
    lead, rows = seen[0]
    assert "此记录已被 乙" in lead and "第 2 版" in lead
    assert ("姓名", "王晓明", before[name]) in rows
    assert ("手机号码", before[mobile], "13912345678") in rows and len(rows) == 2

    with register.session() as session:
        rec = session.get(Record, rid)
        revision, data = rec.revision, json.loads(rec.data)
        saves = session.execute(select(AuditEntry.actor).where(
            AuditEntry.target == rid, AuditEntry.action == "record.save")).scalars().all()
    if button == "conflict_keep_mine":
        assert revision == 3 and data[name] == "王晓明" and data[mobile] == before[mobile]
        assert len(saves) == 3 and saves[1] == "乙" and saves[2] != "乙"  # this clerk's save
        assert not tab.session.dirty and tab.session.revision == 3
    else:
        assert revision == 2 and data[name] == before[name] and data[mobile] == "13912345678"
        assert tab.editor.editors[mobile].raw() == "13912345678"
        assert tab.session.values == data and not tab.session.dirty
        assert len(saves) == 2
