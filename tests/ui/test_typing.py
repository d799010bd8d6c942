"""Typing in the generated editor: marks appear and disappear with each keystroke, birth date and
sex are proposed from the ID number, dates accept the usual spellings, Enter moves on."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.conftest import commit_text, focused, type_into

VALID_ID = "11010519491231002X"  # GB 11643's own example: born 1949-12-31, female


def test_id_number_mark_appears_and_disappears_key_by_key(window, qtbot):
    editor = window.tab("lawyer_member").editor
    field = editor.editors["id_number"]
    line = field.line
    line.setFocus()
    seen = []
    for i, ch in enumerate(VALID_ID):
        qtbot.keyClick(line, ch)
        seen.append(field.mark.severity)
        if i < 17:
            assert field.mark.severity == "E", f"after {i + 1} characters"
            assert "18 位" in line.accessibleDescription()
    assert line.text() == VALID_ID
    assert field.mark.severity == ""
    assert line.accessibleDescription() == ""
    assert line.accessibleName() == "公民身份号码"
    # a wrong check character brings the mark back; fixing it clears it again
    qtbot.keyClick(line, Qt.Key.Key_Backspace)
    qtbot.keyClick(line, "1")
    assert field.mark.severity == "E"
    assert "校验" in line.accessibleDescription()
    qtbot.keyClick(line, Qt.Key.Key_Backspace)
    qtbot.keyClick(line, "x")  # lower-case x is accepted and normalised
    assert field.mark.severity == ""


def test_birth_date_and_sex_are_proposed_but_stay_editable(window, qtbot):
    editor = window.tab("lawyer_member").editor
    type_into(qtbot, editor.editors["id_number"].line, VALID_ID)
    assert editor.editors["birth_date"].raw() == "1949-12-31"
    assert editor.editors["sex"].raw() == "女"
    # the user may change them; a mismatch is marked, never overwritten
    birth = editor.editors["birth_date"].line
    birth.selectAll()
    type_into(qtbot, birth, "1950-01-01")
    assert editor.editors["birth_date"].raw() == "1950-01-01"
    assert editor.editors["birth_date"].mark.severity == "E"
    assert "公民身份号码" in birth.accessibleDescription()


def test_dates_accept_the_usual_spellings(window, qtbot):
    editor = window.tab("lawyer_member").editor
    line = editor.editors["join_date"].line
    for typed in ("2020.1.5", "20200105", "2020-01-05", "2020年1月5日"):
        line.setFocus()
        line.clear()
        type_into(qtbot, line, typed)
        assert editor.editors["join_date"].mark.severity == ""
        assert editor.session.values["join_date"] == "2020-01-05"
        qtbot.keyClick(line, Qt.Key.Key_Return)
        assert line.text() == "2020-01-05"  # shown the way it is stored once done
    line.setFocus()
    line.clear()
    type_into(qtbot, line, "2020-13-01")
    assert editor.editors["join_date"].mark.severity == "E"
    assert "日期" in line.accessibleDescription()


def test_enter_and_tab_move_in_form_order_shift_tab_back(window, qtbot):
    editor = window.tab("lawyer_member").editor
    name = editor.editors["name"].line
    name.setFocus()
    qtbot.keyClick(name, Qt.Key.Key_Return)
    assert focused() is editor.editors["sex"].box
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is editor.editors["ethnicity"].box
    qtbot.keyClick(focused(), Qt.Key.Key_Backtab)
    assert focused() is editor.editors["sex"].box


def test_code_field_takes_a_label_and_type_to_search_narrows(window, qtbot):
    editor = window.tab("lawyer_member").editor
    box = editor.editors["ethnicity"].box
    box.setFocus()
    commit_text(box, "蒙古")
    completer = box.completer()
    assert completer.completionCount() >= 1
    assert completer.currentCompletion() == "蒙古族"
    box.setEditText("蒙古族")
    assert editor.session.values["ethnicity"] == "02"
    assert editor.editors["ethnicity"].mark.severity == ""
    box.setEditText("火星族")
    assert editor.editors["ethnicity"].mark.severity == "E"


def test_region_picker_nests_three_levels(window, qtbot):
    editor = window.tab("lawyer_member").editor
    region = editor.editors["destination"]
    province, city, county = region.boxes
    province.setEditText("河北省")
    assert city.count() > 1 and city.findText("石家庄市") > 0
    city.setEditText("石家庄市")
    county.setEditText("长安区")
    assert editor.session.values["destination"] == ["130000", "130100", "130102"]
    assert [b.accessibleName() for b in region.boxes] == ["外出流向（省）", "外出流向（市）",
                                                          "外出流向（县）"]
    province.setEditText("北京市")
    assert city.currentText() == "" and county.currentText() == ""
    assert editor.session.values["destination"] == ["110000"]


def test_undo_and_redo_within_the_record(window, qtbot):
    tab = window.tab("lawyer_member")
    editor = tab.editor
    name = editor.editors["name"].line
    name.setFocus()
    commit_text(name, "张三")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    address = editor.editors["mobile"].line
    address.setFocus()
    type_into(qtbot, address, "13800138000")
    qtbot.keyClick(address, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert address.text() == ""
    assert "mobile" not in editor.session.values
    qtbot.keyClick(focused(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert name.text() == ""
    qtbot.keyClick(focused(), Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert name.text() == "张三"
    assert editor.session.values["name"] == "张三"
