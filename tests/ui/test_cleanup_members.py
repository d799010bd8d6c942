"""重新入会…, 到期退会…, 统计表…, 通报… and 下一个会员证号… of a society's 清理 menu."""

from __future__ import annotations

import json
from datetime import date

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import QDate

from desktop.domain.society.cleanup import NO_ID, VIOLATION
from desktop.formspec import shipped_forms
from desktop.services.cleanup.propose import Decision, apply_decisions
from desktop.ui.actions import Action
from desktop.ui.cleanup.dialogs import NextNumberDialog, ReadmitDialog, WithdrawDialog
from desktop.ui.cleanup.stats import NoticeDialog, StatsDialog
from tests.conftest import PASSPHRASE
from tests.ui.cleanup_data import audit, ident, society_register, statuses, values_of


@pytest.fixture
def society(tmp_path, request):
    from desktop.storage import DEFAULT_KDF

    kdf = DEFAULT_KDF if "dengji" in request.fixturenames else None
    reg = society_register(tmp_path, PASSPHRASE, **({"kdf": kdf} if kdf else {}))
    result = apply_decisions(reg, shipped_forms(), [
        Decision(NO_ID, member_no=no, handler="清理员") for no in
        ("0024-000003", "0024-000004", "0024-000005")] + [
        Decision(VIOLATION, member_no="0024-000008", basis="被判处刑罚", handler="清理员",
                 approver="李审批")], actor="清理员", batch="2020年个人会员清理",
        when=date(2020, 11, 1))
    assert not result.refused, result.findings
    yield reg
    reg.close()


def test_readmit_through_the_dialog(make_window, society, qtbot, tmp_path):
    window = make_window(society)
    window.action(Action.CLEANUP_READMIT).trigger()
    dialog = window.findChild(ReadmitDialog, "cleanupReadmit")
    dialog.handler.setText("测试员")  # 经办人 is never the OS login (issue 16)
    assert dialog.member.count() == 3
    dialog.member.setCurrentIndex(dialog.member.findText("0024-000005", flags=_contains()))
    idn = ident("1975-06-06", 24)
    dialog.id_number.setText(idn)
    assert not dialog.submit()  # not yet agreed
    assert "本人同意" in dialog.error.text()
    dialog.agreed.setChecked(True)
    dialog.id_number.clear()
    assert not dialog.submit() and "公民身份号码" in dialog.error.text()
    dialog.id_number.setText(idn[:-1] + ("0" if idn[-1] != "0" else "1"))  # bad check digit
    assert not dialog.submit()
    assert "不能重新入会" in dialog.error.text() and statuses(society)["0024-000005"] == [NO_ID]
    dialog.grab().save(str(tmp_path / "readmit.png"))
    dialog.id_number.setText(idn)
    dialog.approver.setText("张会长")
    assert dialog.submit()
    stored = values_of(society, "0024-000005")[0]
    assert stored["status"] == "7" and stored["id_number"] == idn and stored["sex"] == "2"
    assert audit(society)[-1][:2] == ("测试员", "society.readmit")


def _contains():
    from PySide6.QtCore import Qt

    return Qt.MatchFlag.MatchContains


def test_withdraw_after_the_deadline(make_window, society, qtbot, boxes):
    window = make_window(society)
    window.action(Action.CLEANUP_WITHDRAW).trigger()
    dialog = window.findChild(WithdrawDialog, "cleanupWithdraw")
    dialog.handler.setText("测试员")  # 经办人 is never the OS login (issue 16)
    assert dialog.deadline.date() == QDate(2021, 4, 30)
    assert "3 名" in dialog.findChildren(type(dialog.error))[0].text()
    future = date.today().replace(year=date.today().year + 1)
    dialog.deadline.setDate(QDate(future.year, future.month, future.day))
    dialog.submit()
    assert "还没有过" in dialog.error.text()
    assert statuses(society)["0024-000005"] == [NO_ID]
    dialog.deadline.setDate(QDate(2021, 4, 30))
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.changed is not None, timeout=20000)
    assert dialog.changed == 3
    got = statuses(society)
    assert got["0024-000003"] == got["0024-000004"] == got["0024-000005"] == ["6"]
    assert got["0024-000008"] == ["3"]
    assert audit(society)[-1][1] == "society.withdraw"
    assert "3 名" in boxes[-1][2]


def test_the_statistics_shown_match_dengji_stats(dengji, make_window, society, tmp_path):
    from desktop.storage import open_register

    path = society.path
    society.close()  # the command line opens the register by itself
    result = dengji("stats", "--db", path, "--format", "json")
    assert result.code == 0, result.err
    expected = json.loads(result.out)
    society = open_register(path, PASSPHRASE)  # default KDF, as the command line
    from desktop.services.unit import save_unit_profile

    # 填报人 and 联系方式 come from 本单位信息 (issue 16)
    save_unit_profile(society, "测试员", {"filler": "王填报", "phone": "024-12345678"})
    window = make_window(society)
    window.action(Action.CLEANUP_STATS).trigger()
    dialog = window.findChild(StatsDialog, "cleanupStats")
    assert (dialog.filler.text(), dialog.contact.text()) == ("王填报", "024-12345678")
    shown = dialog.values()
    assert shown == {k: expected[k] for k in shown}
    assert shown["清理无身份证号人员数"] == 3 and shown["实有会员数量"] == 6
    assert dialog.unit.text() == "沈阳市法学会"
    assert not dialog.received.isVisibleTo(dialog)  # nothing received
    dialog.grab().save(str(tmp_path / "stats.png"))
    xlsx = dialog.export(".xlsx", tmp_path / "统计表.xlsx")
    pdf = dialog.export(".pdf", tmp_path / "统计表.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    cells = [c for row in load_workbook(xlsx).active.iter_rows(values_only=True) for c in row]
    text = " ".join(str(c) for c in cells if c)
    assert "填报人：王填报" in text and "联系方式：024-12345678" in text and 6 in cells
    assert [a[1] for a in audit(society)[-2:]] == ["stats.export", "stats.export"]
    window.close()
    society.close()


def test_notice_with_chosen_names_and_categories(make_window, society, tmp_path):
    window = make_window(society)
    window.action(Action.CLEANUP_NOTICE).trigger()
    dialog = window.findChild(NoticeDialog, "cleanupNotice")
    assert not dialog.box.isEnabled()
    plain = dialog.save(".xlsx", tmp_path / "plain.xlsx")
    text = " ".join(str(c) for row in load_workbook(plain).active.iter_rows(values_only=True)
                    for c in row if c)
    assert "赵敏" not in text and "吴刚" not in text
    dialog.names.setChecked(True)
    for check in dialog.categories.values():
        check.setChecked(False)
    assert dialog.save(".xlsx", tmp_path / "none.xlsx") is None
    assert "至少选择" in dialog.error.text()
    dialog.categories[VIOLATION].setChecked(True)
    dialog.with_deadline.setChecked(True)
    listed = dialog.save(".xlsx", tmp_path / "listed.xlsx")
    text = " ".join(str(c) for row in load_workbook(listed).active.iter_rows(values_only=True)
                    for c in row if c)
    assert "吴刚" in text and "赵敏" not in text
    assert dialog.save(".pdf", tmp_path / "listed.pdf").read_bytes().startswith(b"%PDF")
    actor, action, detail = audit(society)[-1]
    assert (actor, action, detail["names"], detail["categories"]) == (
        "测试员", "cleanup.notice", True, [VIOLATION])


def test_next_member_number_fills_a_new_record(make_window, society):
    window = make_window(society)
    window.action(Action.CLEANUP_NUMBER).trigger()
    dialog = window.findChild(NextNumberDialog, "cleanupNumber")
    assert dialog.number.text() == "0024-000010"
    assert "已发 9 个" in dialog.info.text()
    dialog.fill()
    tab = window.tab("society_member")
    assert window.tabs.currentWidget() is tab
    assert tab.session.values.get("member_no") == "0024-000010"
    assert tab.editor.editors["member_no"].raw() == "0024-000010"


def _receive_county(reg) -> None:
    """Member records of a county society, as a merged package leaves them."""
    from desktop.storage import Record, Unit

    with reg.session() as session:
        unit = Unit(code="SYHP-024-01", name="沈阳市和平区法学会", level="society-county",
                    parent_code="SYFXH-0024")
        session.add(unit)
        session.flush()
        for i, status in enumerate(["1", "1", "2", "5", "4"]):
            values = {"member_no": f"024-01-{i + 1:06d}", "name": f"会员{i}", "status": status}
            session.add(Record(form_id="society_member", form_version="2026.1", unit_id=unit.id,
                               data=json.dumps(values, ensure_ascii=False), name=f"会员{i}"))
        session.commit()


def test_a_city_sums_the_received_county_tables(dengji, make_window, society, tmp_path):
    from desktop.storage import open_register

    _receive_county(society)
    path = society.path
    society.close()
    result = dengji("stats", "--db", path, "--received", "--format", "json")
    assert result.code == 0, result.err
    expected = json.loads(result.out)
    society = open_register(path, PASSPHRASE)
    window = make_window(society)
    window.action(Action.CLEANUP_STATS).trigger()
    dialog = window.findChild(StatsDialog, "cleanupStats")
    assert dialog.received.isVisibleTo(dialog)
    own = dialog.values()
    dialog.received.setChecked(True)
    summed = dialog.values()
    assert summed == {k: expected[k] for k in summed}
    assert summed["清理重复录入人次数"] == own["清理重复录入人次数"] + 1
    assert dialog.table.rowCount() == 4
    assert dialog.table.item(3, 0).text() == "其中 沈阳市和平区法学会"
    dialog.grab().save(str(tmp_path / "stats-received.png"))
    window.close()
    society.close()


def test_a_new_member_record_starts_with_the_next_number(make_window, society):
    window = make_window(society)
    tab = window.tab("society_member")
    window.tabs.setCurrentWidget(tab)
    window.action(Action.NEW_RECORD).trigger()
    assert tab.session.record_id is None
    assert tab.editor.editors["member_no"].raw() == "0024-000010"
    # the number alone is not a change: leaving the empty record stores nothing
    from desktop.services.listing import count_form

    before = count_form(window.register, "society_member")
    tab.save_draft()
    assert count_form(window.register, "society_member") == before
    # typing a name makes it a record, with the number
    tab.editor.apply_raw("name", "新会员")
    tab.save_draft()
    assert count_form(window.register, "society_member") == before + 1
    assert tab.session.values["member_no"] == "0024-000010"
