"""What a party secretary does in the window, end to end: fill a whole 附件1 record with the
keyboard only, submit it with a warning confirmed, close, reopen the register, find it all."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from sqlmodel import select

from desktop.domain.values import display_value
from desktop.formspec import shipped_forms
from desktop.storage import AuditEntry, Override, Record, open_register, verify_audit_chain
from desktop.ui.records.warnings import WarningsDialog
from tests.ui.conftest import FAST_KDF, SECRET, firm_set, focused, press_enter, store, type_into


def _typed(form, by_label: dict) -> dict[str, str]:
    """What a person types into each field (labels for codes, 是/否), by field id."""
    out = {}
    for label, raw in by_label.items():
        spec = form.field_by_label(label)
        out[spec.id] = str(raw)
    return out


def _fill_with_keyboard(qtbot, editor, typed: dict[str, str]) -> None:
    """From the first field to the last with Enter only: type, Enter, next."""
    first = editor.editors[editor.form.fields[0].id].inputs()[0]
    first.setFocus()
    for spec in editor.form.fields:
        field = editor.editors[spec.id]
        for i, widget in enumerate(field.inputs()):
            assert focused() is widget, f"focus should be in {spec.label}, is {focused()}"
            want = typed.get(spec.id, "") if i == 0 else ""
            if want and field.raw() != want:
                if hasattr(widget, "selectAll"):
                    widget.selectAll()
                else:
                    widget.lineEdit().selectAll()
                type_into(qtbot, widget, want)
            press_enter(qtbot, widget)


def test_fill_a_complete_lawyer_record_with_the_keyboard_only(make_window, register, qtbot):
    firm, members, org = firm_set()
    store(register, "party_org", org)
    window = make_window(register)
    tab = window.tab("lawyer_member")
    form = tab.form
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert tab.session.record_id is None
    member = members[0]
    typed = _typed(form, member)
    _fill_with_keyboard(qtbot, tab.editor, typed)
    qtbot.keyClick(focused(), Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert [f.message for f in tab.session.findings] == []
    with register.session() as s:
        rec = s.exec(select(Record).where(Record.form_id == "lawyer_member")).one()
    stored = json.loads(rec.data)
    for label, raw in member.items():
        spec = form.field_by_label(label)
        if raw != "":
            assert display_value(spec, stored.get(spec.id)) == raw, label
    assert rec.state == "草稿" and rec.name == member["姓名"]
    assert tab.model.total == 1 and tab.model.data(tab.model.index(0, 1)) == member["姓名"]


def _confirm_warnings(qtbot, reason: str) -> list[str]:
    """When the warnings dialog opens, give every warning `reason` and confirm."""
    seen: list[str] = []

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, WarningsDialog):
            QTimer.singleShot(20, answer)
            return
        for w in dialog.warnings:
            seen.append(w.code)
        for line in dialog.inputs.values():
            type_into(qtbot, line, reason)
        dialog.accept()

    QTimer.singleShot(0, answer)
    return seen


def test_submit_confirms_a_warning_with_a_reason_and_reopening_finds_everything(
        make_window, register, qtbot, tmp_path):
    firm, members, org = firm_set()
    store(register, "party_org", org)
    member = dict(members[1])
    member["固定电话"] = "85551234"  # no 区号: a warning (W), not an error
    window = make_window(register)
    tab = window.tab("lawyer_member")
    tab.new_record()
    for label, raw in member.items():
        spec = tab.form.field_by_label(label)
        tab.editor.editors[spec.id].set_raw(raw)
        tab.editor.editors[spec.id].edited.emit(spec.id)
    assert {f.code for f in tab.session.findings} == {"landline"}
    assert tab.editor.editors["landline"].mark.severity == "W"
    seen = _confirm_warnings(qtbot, "律所座机未登记区号，经核实无误")
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert seen == ["landline"]
    assert tab.session.state == "待提交"
    record_id = tab.session.record_id
    with register.session() as s:
        overrides = s.exec(select(Override).where(Override.record_id == record_id)).all()
        actions = [a for (a,) in s.execute(select(AuditEntry.action)).all()]
    assert [(o.field, o.rule, o.reason, o.actor) for o in overrides] == [
        ("landline", "landline", "律所座机未登记区号，经核实无误", "测试员")]
    assert "record.submit" in actions and "record.save" in actions
    window.close()
    register.close()

    again = open_register(register.path, SECRET, kdf=FAST_KDF)
    try:
        with again.session() as s:
            assert verify_audit_chain(s).ok
        window2 = make_window(again)
        tab2 = window2.tab("lawyer_member")
        assert tab2.model.total == 1
        tab2.view.selectRow(0)
        assert tab2.session.record_id == record_id
        assert tab2.editor.editors["name"].raw() == member["姓名"]
        assert tab2.editor.editors["landline"].raw() == "85551234"
        panel = tab2.editor.findings_panel.list
        assert panel.count() == 1 and "已确认：律所座机未登记区号" in panel.item(0).text()
        assert tab2.model.data(tab2.model.index(0, 0)) == "已完成（待上报）"  # the state word (domain.states), not the stored code
        window2.close()
    finally:
        again.close()


def test_submit_is_refused_while_an_error_remains(window, register, qtbot, monkeypatch):
    tab = window.tab("lawyer_member")
    tab.new_record()
    type_into(qtbot, tab.editor.editors["name"].line, "张三")
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a: shown.append(a[2]))
    tab.editor.submit()
    assert shown and "错误" in shown[0]
    assert tab.session.state == "草稿"
    # every required field is marked once the user tried to submit
    assert tab.editor.editors["ethnicity"].mark.severity == "E"


def test_warnings_dialog_needs_every_reason(qtbot):
    from desktop.domain.findings import Finding

    form = shipped_forms().form("lawyer_member")
    warnings = [Finding("landline", "W", "landline", "固定电话缺区号"),
                Finding("address", "W", "min_length", "家庭住址过短")]
    dialog = WarningsDialog(form, warnings, {("address", "min_length"): "旧理由"})
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled()
    type_into(qtbot, dialog.inputs[("landline", "landline")], "核实")
    assert ok.isEnabled()
    assert dialog.reasons() == {("landline", "landline"): "核实", ("address", "min_length"): "旧理由"}
    assert dialog.result() == QDialog.DialogCode.Rejected


def test_a_crash_loses_at_most_the_field_being_typed(window, register, qtbot):
    tab = window.tab("lawyer_member")
    tab.new_record()
    name = tab.editor.editors["name"].line
    type_into(qtbot, name, "李四")
    qtbot.keyClick(name, Qt.Key.Key_Return)  # done with the field: kept as a draft
    type_into(qtbot, tab.editor.editors["sex"].box, "男")  # still typing, not yet done
    with register.session() as s:
        rec = s.exec(select(Record)).one()
    assert json.loads(rec.data)["name"] == "李四" and rec.state == "草稿"


def test_a_firm_entered_in_another_tab_is_seen_at_once(window, qtbot):
    firm, members, org = firm_set()
    lawyer = window.tab("lawyer_member")
    lawyer.new_record()
    type_into(qtbot, lawyer.editor.editors["firm"].line, firm.name)
    assert "firm_not_registered" in {f.code for f in lawyer.session.findings}
    orgs = window.tab("party_org")
    orgs.new_record()
    group = orgs.editor.editors["firms"]
    type_into(qtbot, orgs.editor.editors["org_name"].line, org["党组织名称（全称）"])
    type_into(qtbot, group.rows[0][0].line, firm.name)
    qtbot.keyClick(group.rows[0][0].line, Qt.Key.Key_Return)
    assert "firm_not_registered" not in {f.code for f in lawyer.session.findings}
    assert lawyer.editor.editors["firm"].mark.severity == ""
