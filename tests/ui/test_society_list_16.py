"""The law society at scale (issue 16), in the real window of a 沈阳市法学会 register: the member
list shows 会员证号 and 会员状态 and filters by status, so cleaned members do not look like active
ones; the revocation list picks members by search and lets a row be edited; 应用 asks for
confirmation with the counts per category; a mistaken decision is reversed by a new, audited
decision that restores the member."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QDialog, QMessageBox  # noqa: E402

from desktop.ui.actions import Action  # noqa: E402
from desktop.ui.cleanup.proposals import CONFIRMED  # noqa: E402
from tests.conftest import PASSPHRASE  # noqa: E402
from tests.ui.boxes_16 import click_in_box  # noqa: E402
from tests.ui.cleanup_data import audit, society_register, statuses  # noqa: E402
from tests.ui.test_cleanup_proposals import proposals  # noqa: E402, F401 (the fixture)

FORM = "society_member"


@pytest.fixture
def society(tmp_path):
    reg = society_register(tmp_path, PASSPHRASE)
    yield reg
    reg.close()


def column_texts(tab, label: str) -> dict[str, str]:
    """姓名|会员证号 → the text of column `label`, for every row the list shows."""
    model = tab.model
    while model.canFetchMore():
        model.fetchMore()
    labels = [text for _kind, text in model.columns]
    col, no, name = labels.index(label), labels.index("会员证号"), labels.index("姓名")
    return {f"{model.index(r, name).data()}|{model.index(r, no).data()}":
            model.index(r, col).data() for r in range(model.rowCount())}


def set_status(reg, member_no: str, code: str) -> None:
    with reg.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE record SET data = json_set(data, '$.status', ?) "
            "WHERE json_extract(data, '$.member_no') = ?", (code, member_no))


def test_the_list_shows_number_and_status_and_filters(society, make_window, qtbot) -> None:
    set_status(society, "0024-000002", "2")  # 已清理-重复录入
    set_status(society, "0024-000005", "5")  # 暂时移出-无身份证号
    window = make_window(society)
    tab = window.tab(FORM)
    labels = [text for _kind, text in tab.model.columns]
    assert "会员证号" in labels and "会员状态" in labels
    status = column_texts(tab, "会员状态")
    assert len(status) == 10
    assert status["王建国|0024-000002"] == "已清理-重复录入"
    assert status["王建国|0024-000001"] == "在册"
    assert status["赵敏|0024-000005"] == "暂时移出-无身份证号"
    assert sum(s == "在册" for s in status.values()) == 8
    # the status filter sits beside the list's other filter
    box = tab.findChild(type(tab.filter), f"codeFilter:{FORM}")
    assert box is not None and box.parent() is tab.filter.parent()
    box.setCurrentIndex(box.findData("1"))
    shown = column_texts(tab, "会员状态")
    assert len(shown) == 8 and set(shown.values()) == {"在册"}
    assert "王建国|0024-000002" not in shown
    assert "找到 8 条（共 10 条）" in tab.count.text()
    box.setCurrentIndex(box.findData("2"))
    assert column_texts(tab, "会员证号") == {"王建国|0024-000002": "0024-000002"}
    # with a search too: 王建国 in 在册 is the kept entry only
    box.setCurrentIndex(box.findData("1"))
    tab.search.setText("王建国")
    assert list(column_texts(tab, "会员证号").values()) == ["0024-000001"]
    tab.search.clear()
    box.setCurrentIndex(0)  # 全部
    assert len(column_texts(tab, "会员状态")) == 10
    assert "共 10 条" in tab.count.text()


def test_other_forms_have_no_status_filter(make_window, register) -> None:
    window = make_window(register)
    tabs = window.ctx.tabs()
    assert tabs and all(t.code_filter is None for t in tabs)
    assert all(not k.startswith("list:") for t in tabs for k, _ in t.model.columns)


@pytest.fixture
def filled(proposals):  # noqa: F811 (the imported fixture)
    """The 清理建议 dialog (tests/ui/test_cleanup_proposals.py) with its people filled in."""
    window, dialog = proposals
    dialog.people.handler.setText("王经办")
    dialog.people.approver.setText("张会长")
    return window, dialog


def hits(page) -> list[str]:
    return [page.hits.item(i).text() for i in range(page.hits.count())]


def test_revocation_picks_members_by_search_and_rows_can_be_edited(filled, qtbot) -> None:
    _window, dialog = filled
    page = dialog.revoke
    dialog.pages.setCurrentWidget(page)
    qtbot.waitExposed(page.table)
    assert not hasattr(page, "member_no")  # no typed member number taken on trust
    # nothing picked: said, nothing added
    page.basis.setText("依据")
    page.approver.setText("李审批")
    assert not page.add_from_inputs() and "会员" in page.error.text()
    # two entries are called 王建国: the search lists both, with their status; none is picked
    page.search.setText("王建国")
    assert len(hits(page)) == 2 and all("王建国" in h and "在册" in h for h in hits(page))
    assert page.picked is None
    page.hits.setCurrentRow(1)
    assert page.picked.member_no == "0024-000002"
    # typed ASCII: part of a number, one member found and picked at once
    page.search.clear()
    qtbot.keyClicks(page.search, "000008")
    assert len(hits(page)) == 1 and page.picked.name == "吴刚"
    page.category.setCurrentIndex(0)  # 严重违法违纪
    page.basis.setText("2024年被判处有期徒刑")
    assert page.add_from_inputs()
    assert page.items[0].record_id and page.items[0].member_no == "0024-000008"
    assert page.picked is None and page.search.text() == ""
    # the same member again is refused, naming the row
    page.search.setText("吴刚")
    page.basis.setText("又一次")
    assert not page.add_from_inputs() and "第 1 行" in page.error.text()
    # nothing found is said
    page.search.setText("没有这个人")
    assert hits(page) == [] and "没有" in page.error.text()
    # a row is edited: double click takes it back, 保存修改 puts it back changed
    page.search.setText("郑洁")
    page.basis.setText("不符合条件")
    page.category.setCurrentIndex(1)  # 不符合条件
    page.reason.setCurrentIndex(1)
    assert page.add_from_inputs() and page.count() == 2
    rect = page.table.visualItemRect(page.table.item(0, 4))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert page.editing == 0 and page.add_button.text() == "保存修改"
    assert page.basis.text() == "2024年被判处有期徒刑" and page.picked.name == "吴刚"
    page.basis.setText("2024年被判处有期徒刑（沈阳市中级人民法院判决书）")
    assert page.add_from_inputs()
    assert page.count() == 2 and page.editing is None
    assert page.table.item(0, 4).text() == "2024年被判处有期徒刑（沈阳市中级人民法院判决书）"
    assert page.items[0].member_no == "0024-000008" and page.items[1].name == "郑洁"
    decisions = page.decisions("王经办", "张会长")
    assert [d.record_id for d in decisions] == [r.record_id for r in page.items]


def test_apply_asks_with_the_counts_and_a_decision_is_reversed(filled, qtbot, monkeypatch,
                                                               boxes) -> None:
    window, dialog = filled
    reg = window.register
    dialog.decide(0, CONFIRMED)  # 0024-000002 removed as a copy of 0024-000001
    dialog.noid.set_check(dialog.noid.find(1, "0024-000005"))
    page = dialog.revoke
    page.search.setText("0024-000008")
    page.basis.setText("2024年被判处有期徒刑")
    page.approver.setText("李审批")
    assert page.add_from_inputs()
    before, entries = statuses(reg), len(audit(reg))
    # 取消: nothing is written
    seen: list[str] = []
    click_in_box("cleanupConfirm", "取消", seen)
    dialog.apply()
    assert len(seen) == 1 and statuses(reg) == before and len(audit(reg)) == entries
    text = seen[0]
    assert "将对 3 条会员记录作出清理决定" in text
    assert "已清理-重复录入：1 人" in text and "已清理-严重违法违纪：1 人" in text
    assert "暂时移出-无身份证号：1 人" in text
    # 应用: written
    dialog.last_result = None
    click_in_box("cleanupConfirm", "应用", seen)
    dialog.apply()
    qtbot.waitUntil(lambda: dialog.last_result is not None, timeout=20000)
    assert seen[1] == text and not dialog.last_result.refused
    got = statuses(reg)
    assert got["0024-000002"] == ["2"] and got["0024-000005"] == ["5"]
    assert got["0024-000008"] == ["3"]

    # the list now tells the cleaned members apart
    tab = window.tab(FORM)
    tab.model.reload()
    shown = column_texts(tab, "会员状态")
    assert shown["吴刚|0024-000008"] == "已清理-严重违法违纪"

    # 吴刚 was revoked by mistake: 恢复在册 finds him among the cleaned members only
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.action(Action.CLEANUP_RESTORE).trigger()
    restore = next(d for d in window.findChildren(QDialog, "cleanupRestore") if d.isVisible())
    listed = [restore.members.item(i).text() for i in range(restore.members.count())]
    assert len(listed) == 3 and not any("郑洁" in t for t in listed)
    restore.search.setText("吴刚")
    assert restore.members.count() == 1 and restore.members.currentRow() == 0
    restore.basis.clear()
    assert not restore.submit() and "依据" in restore.error.text()
    assert statuses(reg)["0024-000008"] == ["3"]
    restore.basis.setText("经核实，判决书所列为同名他人，误作撤销")
    restore.handler.setText("王经办")
    restore.approver.setText("张会长")
    entries = len(audit(reg))
    assert restore.submit()
    assert statuses(reg)["0024-000008"] == ["1"]
    [entry] = audit(reg)[entries:]
    actor, action, detail = entry
    assert action == "society.restore"
    assert "3" in json_text(detail) and "同名他人" in json_text(detail)
    # the restored member is a member again in the list, and no longer among the cleaned
    tab.model.reload()
    assert column_texts(tab, "会员状态")["吴刚|0024-000008"] == "在册"
    # the removed copy of a person whose kept entry is a member cannot be restored
    from desktop.errors import KnownError
    from desktop.services.cleanup.members import restore as restore_member

    with pytest.raises(KnownError, match="同一人"):
        restore_member(reg, window.ctx.forms, member_no="0024-000002", basis="误清理",
                       handler="王经办")
    # a member in the register needs no restoring
    with pytest.raises(KnownError, match="无需恢复"):
        restore_member(reg, window.ctx.forms, member_no="0024-000009", basis="误",
                       handler="王经办")
    assert statuses(reg)["0024-000002"] == ["2"]


def json_text(detail) -> str:
    import json

    return json.dumps(detail, ensure_ascii=False)
