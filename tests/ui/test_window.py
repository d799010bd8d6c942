"""The main window around the editor: tables, search, masking, tabs by level, settings, the
idle lock, the findings panel, and the worker adaptor."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from sqlmodel import select

from desktop.progress import Progress
from desktop.storage import AuditEntry
from desktop.ui.records.table import RecordTableModel
from tests.pg.cluster import ROLE as PG_ROLE
from tests.ui.conftest import firm_set, focused, store, type_into


def _stored_members(register, n=3):
    firm, members, org = firm_set(members=n)
    store(register, "party_org", org)
    for m in members:
        store(register, "lawyer_member", m)
    return firm, members, org


def test_table_model_passes_the_model_tester(register, qtmodeltester):
    _stored_members(register)
    from desktop.formspec import shipped_forms

    forms = shipped_forms()
    model = RecordTableModel(register, forms, forms.form("lawyer_member"), register.own_unit_id)
    model.reload()
    qtmodeltester.check(model)
    model.set_query("不存在的名字")
    qtmodeltester.check(model)
    assert model.rowCount() == 0


def test_table_shows_masked_ids_and_reveal_is_audited(make_window, register, qtbot):
    _, members, _ = _stored_members(register)
    window = make_window(register)
    tab = window.tab("lawyer_member")
    model = tab.model
    assert model.rowCount() == 3
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["状态", "姓名", "问题", "公民身份号码", "手机号码", "修改时间"]
    ids = {m["公民身份号码"] for m in members}
    shown = [model.data(model.index(r, 3)) for r in range(3)]
    assert all("*" in s for s in shown) and not ids & set(shown)
    assert all(model.data(model.index(r, 4)).count("*") == 4 for r in range(3))
    assert all(model.data(model.index(r, 2)) == "—" for r in range(3))
    tab.reveal_rows([0])
    assert model.data(model.index(0, 3)) in ids
    assert "*" in model.data(model.index(1, 3))
    with register.session() as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "reveal")).one()
    # on PostgreSQL the log also names the database role (storage/audit.py)
    actor = "测试员" if register.engine.dialect.name == "sqlite" else f"测试员@{PG_ROLE}"
    assert entry.actor == actor and model.record_id(0) in entry.detail
    model.hide_all()  # as on lock
    assert "*" in model.data(model.index(0, 3))


def test_search_as_you_type_filters_by_name_or_a_whole_id(make_window, register, qtbot):
    _, members, _ = _stored_members(register, n=4)
    window = make_window(register)
    tab = window.tab("lawyer_member")
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert focused() is tab.search
    target = members[2]
    type_into(qtbot, tab.search, target["姓名"])
    names = [tab.model.data(tab.model.index(r, 1)) for r in range(tab.model.rowCount())]
    assert target["姓名"] in names and len(names) < 4
    assert "找到" in tab.count.text()
    tab.search.clear()
    assert tab.model.rowCount() == 4
    type_into(qtbot, tab.search, target["公民身份号码"])
    assert tab.model.rowCount() == 1
    assert tab.model.data(tab.model.index(0, 1)) == target["姓名"]
    tab.search.clear()
    type_into(qtbot, tab.search, "查无此人")
    assert tab.model.rowCount() == 0


def test_sorting_by_name_is_pinyin_order_and_by_issues(make_window, register, qtbot):
    firm, members, org = firm_set(members=3)
    store(register, "party_org", org)  # the firm is covered: 李四's phone is the one error
    names = ["张三", "阿毛", "李四"]
    for m, name in zip(members, names, strict=True):
        m["姓名"] = name
        if name == "李四":
            m["手机号码"] = "12345"
        store(register, "lawyer_member", m)
    window = make_window(register)
    tab = window.tab("lawyer_member")
    tab.view.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    assert [tab.model.data(tab.model.index(r, 1)) for r in range(3)] == ["阿毛", "李四", "张三"]
    tab.view.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    assert tab.model.data(tab.model.index(0, 1)) == "李四"
    assert tab.model.data(tab.model.index(0, 2)) == "错误 1"
    assert tab.model.data(tab.model.index(1, 2)) == "—"


def test_the_law_society_tab_appears_at_society_levels_only(make_register, make_window):
    firm = make_window(make_register("firm", "a.dengji"))
    assert [firm.tabs.tabText(i) for i in range(firm.tabs.count())] == ["附件1", "附件2", "附件3"]
    society = make_window(make_register("society-city", "b.dengji"))
    assert [society.tab(f).form.id for f in ("society_member",)] == ["society_member"]
    assert society.tabs.count() == 1 and "法学会" in society.tabs.tabText(0) or \
        "会员" in society.tabs.tabToolTip(0)


def test_repeating_firm_rows_of_party_org(window, qtbot):
    tab = window.tab("party_org")
    group = tab.editor.editors["firms"]
    assert len(group.rows) == 1
    group.add_button.click()
    assert len(group.rows) == 2
    type_into(qtbot, group.rows[1][1].line, "123")
    uscc = group.rows[1][1]
    assert uscc.mark.severity == "E" and uscc.path == "firms[2].uscc"
    assert uscc.inputs()[0].accessibleName() == "律师事务所[2]/统一社会信用代码"
    assert "firms" in tab.session.values and len(tab.session.values["firms"]) == 2


def test_clicking_a_finding_jumps_to_its_field(window, qtbot):
    tab = window.tab("lawyer_member")
    type_into(qtbot, tab.editor.editors["mobile"].line, "123")
    panel = tab.editor.findings_panel.list
    item = next(panel.item(i) for i in range(panel.count()) if "手机号码" in panel.item(i).text())
    tab.editor.editors["name"].line.setFocus()
    panel.itemClicked.emit(item)
    assert focused() is tab.editor.editors["mobile"].line


def test_window_remembers_splitters_and_column_widths(make_window, register, qsettings):
    window = make_window(register)
    window.resize(760, 560)  # the offscreen screen is 800×800
    tab = window.tab("lawyer_member")
    tab.view.setColumnWidth(1, 177)
    window.splitter.setSizes([250, 500])
    before, size = window.splitter.sizes(), window.size()
    window.close()
    again = make_window(register)
    assert again.size() == size
    assert again.tab("lawyer_member").view.columnWidth(1) == 177
    assert again.splitter.sizes() == before
    assert QSettings().value("main/geometry") is not None


def test_idle_lock_hides_the_window_and_asks_again(make_window, register, qtbot):
    asked, made = [], []

    def unlock(idle: bool) -> bool:
        asked.append(made[0].isVisible())
        assert idle  # the idle timer's lock
        return True

    window = make_window(register, unlock=unlock, idle_minutes=0)
    made.append(window)
    window.idle.set_minutes(0.002)
    qtbot.waitUntil(lambda: bool(asked), timeout=3000)
    assert asked == [False]  # hidden while the passphrase is asked
    assert window.isVisible()


def test_a_failed_unlock_closes_the_window(make_window, register, qtbot):
    window = make_window(register, unlock=lambda idle: False, idle_minutes=0)
    window.lock()
    assert not window.isVisible()


def test_workers_run_a_progress_generator_and_report(qtbot):
    from desktop.errors import KnownError
    from desktop.ui.workers import Workers

    def task():
        for i in range(3):
            yield Progress(i, 3, "步骤")
        return "结果"

    def broken():
        yield Progress(0, 1, "")
        raise KnownError("出错了")

    workers = Workers()
    steps, results, errors = [], [], []
    workers.start(task, on_progress=lambda d, t, m: steps.append(d), on_done=results.append)
    workers.start(broken, on_error=errors.append, writes=True)
    qtbot.waitUntil(lambda: bool(results and errors), timeout=3000)
    assert results == ["结果"] and steps == [0, 1, 2] and errors == ["出错了"]


def test_a_received_unit_appears_in_the_tree_and_is_read_only(make_register, make_window,
                                                              qtbot):
    import json

    from desktop.storage import Record, Unit

    reg = make_register("city", "city.dengji")
    firm, members, _ = firm_set(members=1)
    with reg.session() as s:
        unit = Unit(code=firm.uscc, name="下级律所党支部", level="firm",
                    parent_code="31110000MD0123456X")
        s.add(unit)
        s.flush()
        s.add(Record(form_id="lawyer_member", form_version="2026.1", unit_id=unit.id,
                     data=json.dumps({"name": members[0]["姓名"]}, ensure_ascii=False),
                     name=members[0]["姓名"]))
        s.commit()
        unit_id = unit.id
    window = make_window(reg)
    own_item = window.tree.topLevelItem(0)
    assert own_item.childCount() == 1 and own_item.child(0).text(0) == "下级律所党支部"
    tab = window.tab("lawyer_member")
    assert tab.model.total == 0
    window.tree.setCurrentItem(own_item.child(0))
    assert tab.unit_id == unit_id and tab.model.total == 1
    tab.view.selectRow(0)
    assert tab.editor.editors["name"].raw() == members[0]["姓名"]
    assert tab.editor.read_only and not tab.editor.editors["name"].line.isEnabled()
    assert "只读" in window.unit_label.text()
    tab.new_record()
    assert tab.session.record_id is not None  # no new record for another unit


def test_enter_on_add_a_row_adds_one(window, qtbot):
    tab = window.tab("party_org")
    window.tabs.setCurrentWidget(tab)
    group = tab.editor.editors["firms"]
    group.add_button.setFocus()
    qtbot.keyClick(group.add_button, Qt.Key.Key_Return)
    assert len(group.rows) == 2
    assert focused() is group.rows[1][0].line


def test_a_large_table_reads_names_and_cross_rule_records_on_workers(
        make_window, register, qtbot, monkeypatch):
    """What a 200,000-record register does, with the thresholds lowered to this small one."""
    import desktop.ui.mainwindow as mainwindow
    import desktop.ui.records.table as table

    firm, members, org = _stored_members(register, n=2)
    monkeypatch.setattr(table, "NAMES_AT_ONCE", 0)
    monkeypatch.setattr(mainwindow, "BACKGROUND_PEERS", 0)
    monkeypatch.setattr(mainwindow, "PEERS_DELAY_MS", 10)
    window = make_window(register)
    tab = window.tab("lawyer_member")
    assert tab.model.index_.names is None  # shown first, names come from a worker
    assert tab.model.data(tab.model.index(0, 1)) == members[-1]["姓名"]
    assert not tab.session.cross_ready
    qtbot.waitUntil(lambda: tab.session.cross_ready and tab.model.index_.names is not None,
                    timeout=5000)
    tab.new_record()
    type_into(qtbot, tab.editor.editors["firm"].line, "不存在的律师事务所")
    assert "firm_not_registered" in {f.code for f in tab.session.findings}
    type_into(qtbot, tab.search, members[0]["姓名"])
    assert tab.model.data(tab.model.index(0, 1)) == members[0]["姓名"]


def test_closing_the_window_while_it_reads_leaves_the_collector_on(
        make_window, register, qtbot, monkeypatch):
    """The cross-rule records are read with the garbage collector paused; a window closed
    mid-read once left it paused for the rest of the process (memory and open time grew with
    every later window)."""
    import gc
    import time

    import desktop.ui.mainwindow as mainwindow
    from desktop.progress import Progress

    _stored_members(register, n=2)
    reading = []

    def slow_peers(*_args):
        for i in range(500):
            reading.append(gc.isenabled())
            time.sleep(0.01)
            yield Progress(i, 500)
        return {}

    monkeypatch.setattr(mainwindow, "BACKGROUND_PEERS", 0)
    monkeypatch.setattr(mainwindow, "PEERS_DELAY_MS", 10)
    monkeypatch.setattr(mainwindow, "load_peers", slow_peers)
    gc.enable()
    window = make_window(register)
    qtbot.waitUntil(lambda: len(reading) > 3, timeout=5000)
    assert reading[-1] is False  # paused while it reads
    window.close()
    assert len(reading) < 500 and gc.isenabled()


def test_a_window_closed_at_once_starts_no_reading(make_window, register, qtbot, monkeypatch):
    """The cross-rule records are read a moment after the window shows; closed before that,
    it reads nothing (the read once started after the close and ran on, unseen)."""
    import desktop.ui.mainwindow as mainwindow

    _stored_members(register, n=2)
    started = []

    def peers(*_args):
        started.append(True)
        return {}
        yield

    monkeypatch.setattr(mainwindow, "BACKGROUND_PEERS", 0)
    monkeypatch.setattr(mainwindow, "PEERS_DELAY_MS", 50)
    monkeypatch.setattr(mainwindow, "load_peers", peers)
    window = make_window(register)
    window.close()
    qtbot.wait(300)
    assert started == []


def test_a_large_tables_names_are_read_after_the_window_is_shown(
        register, qtbot, qsettings, monkeypatch):
    """Names of a large table are read on a worker a moment after the table is first shown,
    not while the window is built and painted (the read competed with the first paint)."""
    import desktop.ui.records.formtab as formtab
    import desktop.ui.records.table as table
    from desktop.formspec import shipped_forms
    from desktop.ui.mainwindow import MainWindow

    _stored_members(register, n=2)
    monkeypatch.setattr(table, "NAMES_AT_ONCE", 0)
    monkeypatch.setattr(formtab, "NAMES_DELAY_MS", 20)
    window = MainWindow(register, shipped_forms(), actor="测试员", settings=qsettings)
    qtbot.addWidget(window)
    tab = window.tab("lawyer_member")
    qtbot.wait(200)
    assert tab.model.index_.names is None  # built, not shown: nothing read yet
    window.show()
    qtbot.waitUntil(lambda: tab.model.index_.names is not None, timeout=5000)


def test_sorting_a_large_table_by_issues_reads_the_rows_on_a_worker(
        make_window, register, qtbot, monkeypatch):
    import desktop.ui.records.table as table

    firm, members, org = firm_set(members=3)
    members[1]["手机号码"] = "123"
    store(register, "party_org", org)  # the firm is covered: the phone is the one error
    for m in members:
        store(register, "lawyer_member", m)
    monkeypatch.setattr(table, "SYNC_SCAN", 0)
    window = make_window(register)
    tab = window.tab("lawyer_member")
    tab.view.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: tab.model.sort_key is not None, timeout=5000)
    assert tab.model.data(tab.model.index(0, 1)) == members[1]["姓名"]
    assert tab.model.data(tab.model.index(0, 2)) == "错误 1"
    assert window.progress.isHidden()  # the scan's progress is gone once it ended
