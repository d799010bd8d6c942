"""What the list says equals what the panel says (issue 16): the 问题 column counts the record's
cross-record findings too (here: a member whose firm no 附件3 covers), the filters 有错误 / 有提醒
/ 草稿 show only those rows, and the search box names only what the form can be searched by."""

from __future__ import annotations

from sqlalchemy import text

from desktop.domain.findings import ERROR, WARNING
from desktop.services import listing
from tests.ui.conftest import firm_set, store

ISSUES = 2


def _panel_counts(tab, row):
    tab.view.selectRow(row)
    findings = tab.session.findings
    return (sum(f.severity == ERROR for f in findings),
            sum(f.severity == WARNING for f in findings))


def _list_counts(tab, row):
    info = tab.model._info(row)  # noqa: SLF001 (the row as the model read it)
    return tab.model.counts(info)


def _names(tab):
    return {tab.model.data(tab.model.index(r, 1)) for r in range(tab.model.rowCount())}


def test_a_record_with_only_a_cross_finding_counts_in_the_list(make_window, register, qtbot):
    _firm, members, org = firm_set(members=2, seed=16)
    store(register, "party_org", org)
    store(register, "lawyer_member", members[0], submit=True)
    _other, strangers, _org = firm_set(members=1, seed=61)
    stranger = strangers[0]  # a firm no 附件3 of this unit covers
    store(register, "lawyer_member", stranger)
    window = make_window(register)
    tab = window.tab("lawyer_member")
    rows = {tab.model.data(tab.model.index(r, 1)): r for r in range(tab.model.rowCount())}
    row = rows[stranger["姓名"]]
    # the record by itself has no error: the finding is a cross-record one
    info = tab.model._info(row)  # noqa: SLF001
    assert info.errors == 0
    errors, warnings = _list_counts(tab, row)
    assert errors > 0
    assert (errors, warnings) == _panel_counts(tab, row)
    assert any(f.code == "firm_not_registered" for f in tab.session.findings)
    assert f"错误 {errors}" in tab.model.data(tab.model.index(row, ISSUES))
    # every row: the list and the panel agree
    for r in range(tab.model.rowCount()):
        assert _list_counts(tab, r) == _panel_counts(tab, r)

    # the filters
    tab.filter.setCurrentIndex(tab.filter.findData("errors"))
    assert _names(tab) == {stranger["姓名"]}
    assert "找到 1 条" in tab.count.text()
    tab.filter.setCurrentIndex(tab.filter.findData("drafts"))
    assert _names(tab) == {stranger["姓名"]}  # the other one is marked complete
    tab.filter.setCurrentIndex(tab.filter.findData("all"))
    assert _names(tab) == {members[0]["姓名"], stranger["姓名"]}


def test_registering_the_firm_clears_the_list_count(make_window, register, qtbot):
    _firm, members, org = firm_set(members=1, seed=16)
    store(register, "lawyer_member", members[0])
    window = make_window(register)
    tab = window.tab("lawyer_member")
    assert _list_counts(tab, 0)[0] > 0
    # the 附件3 record arrives through the window's own editor of 附件3
    store(register, "party_org", org)
    from desktop.ui.context import Changes

    window.refresh(Changes.RECORDS)
    assert _list_counts(tab, 0) == _panel_counts(tab, 0)
    assert not any(f.code == "firm_not_registered" for f in tab.session.findings)


def test_a_large_list_is_filtered_and_sorted_by_issues_on_workers(
        make_window, register, qtbot, monkeypatch):
    from PySide6.QtCore import Qt

    import desktop.ui.records.table as table

    _firm, members, org = firm_set(members=3, seed=16)
    store(register, "party_org", org)
    for m in members:
        store(register, "lawyer_member", m)
    _other, strangers, _org = firm_set(members=1, seed=61)
    store(register, "lawyer_member", strangers[0])
    monkeypatch.setattr(table, "SYNC_SCAN", 0)
    window = make_window(register)
    tab = window.tab("lawyer_member")
    tab.view.sortByColumn(ISSUES, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: tab.model.sort_key is not None, timeout=10000)
    assert tab.model.data(tab.model.index(0, 1)) == strangers[0]["姓名"]
    assert tab.model.data(tab.model.index(0, ISSUES)).startswith("错误")
    tab.model.details.clear()  # counts must be read again: the filter scans on a worker
    tab.filter.setCurrentIndex(tab.filter.findData("errors"))
    qtbot.waitUntil(lambda: _names(tab) == {strangers[0]["姓名"]}, timeout=10000)
    assert "找到 1 条" in tab.count.text()


def test_saving_a_record_updates_its_cross_count(make_window, register, qtbot):
    _firm, members, org = firm_set(members=1, seed=16)
    store(register, "party_org", org)
    store(register, "lawyer_member", members[0])
    window = make_window(register)
    tab = window.tab("lawyer_member")
    assert _list_counts(tab, 0) == (0, 0) or _list_counts(tab, 0) == _panel_counts(tab, 0)
    tab.view.selectRow(0)
    tab.session.set_raw("firm", "某个没有登记的律师事务所")
    tab.session.set_raw("firm_uscc", "")
    tab.editor.save_draft()
    assert _list_counts(tab, 0) == _panel_counts(tab, 0)
    assert any(f.code == "firm_not_registered" for f in tab.session.findings)
    assert _list_counts(tab, 0)[0] >= 1


def test_warnings_filter(make_window, register, qtbot):
    _firm, members, org = firm_set(members=2, seed=16)
    store(register, "party_org", org)
    members[1]["手机号码"] = "12345"  # an error of its own
    for m in members:
        store(register, "lawyer_member", m)
    with register.session() as session:
        session.execute(text("UPDATE record SET state = '待提交' WHERE name = :n"),
                        {"n": members[0]["姓名"]})
        session.commit()
    window = make_window(register)
    tab = window.tab("lawyer_member")
    tab.filter.setCurrentIndex(tab.filter.findData("errors"))
    assert _names(tab) == {members[1]["姓名"]}
    tab.filter.setCurrentIndex(tab.filter.findData("warnings"))
    shown = _names(tab)
    for r in range(tab.model.rowCount()):
        assert _list_counts(tab, r)[1] > 0
    assert shown <= {members[0]["姓名"], members[1]["姓名"]}
    tab.filter.setCurrentIndex(tab.filter.findData("drafts"))
    assert _names(tab) == {members[1]["姓名"]}


def test_search_placeholder_names_what_the_form_is_searched_by(window, forms=None):
    from desktop.formspec import shipped_forms

    forms = shipped_forms()
    assert listing.search_hint(forms.form("lawyer_member")) == (
        "搜索：输入姓名的任意部分，或完整的公民身份号码、律师执业证号（Ctrl+F）")
    assert listing.search_hint(forms.form("staff_member")) == (
        "搜索：输入姓名的任意部分，或完整的公民身份号码（Ctrl+F）")
    org = listing.search_hint(forms.form("party_org"))
    assert "身份" not in org and "执业证" not in org and "党组织名称" in org
    assert window.tab("staff_member").search.placeholderText() == (
        listing.search_hint(forms.form("staff_member")))
