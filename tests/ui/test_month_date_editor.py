"""Issue 15: the window's editor shows and accepts a legacy 出生日期 of a year and month only
(1963年9月, 1963.09) for the law society's register, whose 出生日期 has precision "month";
the party forms' 出生日期 still needs the day. Chinese is typed as an input method commits it
(keyClicks only for ASCII, ../shared/PLATFORM.md)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from stdnum.cn import ric

from tests.ui.conftest import type_into


def ident(birth: str, seq: int = 11) -> str:
    body = f"210102{birth.replace('-', '')}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture
def society_editor(make_register, make_window):
    window = make_window(make_register(level="society-city"))
    return window.tab("society_member").editor


@pytest.mark.parametrize("typed", ["1963年9月", "1963.09", "1963-9", "196309", "1963/09"])
def test_a_year_month_is_accepted_and_shown_as_stored(society_editor, qtbot, typed):
    """The brief: the editor shows and accepts “1963年9月” and “1963-09”; stored 1963-09."""
    field = society_editor.editors["birth_date"]
    line = field.line
    line.setFocus()
    type_into(qtbot, line, typed)
    assert field.mark.severity == "", line.accessibleDescription()
    assert society_editor.session.values["birth_date"] == "1963-09"
    qtbot.keyClick(line, Qt.Key.Key_Return)
    assert line.text() == "1963-09"  # shown the way it is stored once done


def test_full_dates_still_work_and_nonsense_is_marked(society_editor, qtbot):
    field = society_editor.editors["birth_date"]
    line = field.line
    line.setFocus()
    type_into(qtbot, line, "1963年9月12日")
    assert society_editor.session.values["birth_date"] == "1963-09-12"
    assert field.mark.severity == ""
    line.clear()
    type_into(qtbot, line, "1963-13")
    assert field.mark.severity == "E"
    assert "年月" in line.accessibleDescription()


def test_the_hint_says_a_month_is_enough(society_editor):
    assert "1963年9月" in society_editor.editors["birth_date"].line.placeholderText()


def test_a_month_is_compared_with_the_id_number(society_editor, qtbot):
    """Year and month must agree with the 公民身份号码's birth date (GB 11643-1999)."""
    type_into(qtbot, society_editor.editors["id_number"].line, ident("1963-10-02"))
    birth = society_editor.editors["birth_date"]
    birth.line.selectAll()
    type_into(qtbot, birth.line, "1963.09")
    assert birth.mark.severity == "E"
    assert "1963-10" in birth.line.accessibleDescription()
    birth.line.selectAll()
    type_into(qtbot, birth.line, "1963年10月")
    assert birth.mark.severity == ""


def test_a_stored_month_is_shown(society_editor):
    field = society_editor.editors["birth_date"]
    field.show_value("1963-09")
    assert field.line.text() == "1963-09"


def test_the_party_form_still_needs_the_day(window, qtbot):
    """附件1's 出生日期 has day precision: a year-month is not a date there."""
    field = window.tab("lawyer_member").editor.editors["birth_date"]
    field.line.setFocus()
    type_into(qtbot, field.line, "1963年9月")
    assert field.mark.severity == "E"
