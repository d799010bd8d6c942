"""Change reports (定期更新): a firm reports, changes its records and reports again; the firm
sees its own changes before exporting, the city sees the same list before accepting, and the
province sees what the city's package carried. The comparison's rules are tested pure too."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from desktop.errors import KnownError, UsageError
from desktop.exchange.changes import (
    ADDED,
    CHANGED,
    NO_REASON,
    REMOVED,
    compare,
    read_summary,
    summary_member,
)
from desktop.exchange.format.manifest import CHANGES
from desktop.services import packages as svc
from desktop.services.packages.changes import (
    as_json,
    changes_of_unit,
    changes_report,
    own_changes,
    write_workbook,
)
from desktop.storage import AuditEntry, Record
from desktop.storage.tables import Package
from tests.exchange.changing import NEW_MOBILE, Changed, changed_firm
from tests.exchange.conftest import CITY, PROVINCE, World
from tests.exchange.formats import open_members
from tests.services.conftest import stored_actor

#: on both stores (tests/exchange/conftest.py): what reads or writes sealed columns
BOTH_STORES = {"test_the_firm_sees_its_own_changes_before_it_exports",
               "test_the_city_sees_the_change_list_before_accepting",
               "test_the_workbook_lists_every_field_change",
               "test_the_province_sees_what_the_city_carried",
               "test_full_values_are_shown_on_request_and_audited"}


@pytest.fixture
def city(world: World):
    return world.register(CITY, "city.dengji")


@pytest.fixture
def changed(world: World, city) -> Changed:
    return changed_firm(world, city)


def by_id(report) -> dict[str, object]:
    return {c.record_id: c for c in report.comparison.changes}


def expected_reasons(ch: Changed) -> dict[str, tuple[str, str]]:
    return {ch.mobile: (CHANGED, ""), ch.suspended: (REMOVED, "停止党籍"),
            ch.transferred: (REMOVED, "转出"), ch.voided: (REMOVED, "作废"),
            ch.added: (ADDED, "新登记"), ch.org: (CHANGED, "")}


def test_the_firm_sees_its_own_changes_before_it_exports(world: World, changed) -> None:
    report = own_changes(changed.firm, world.forms)
    assert report.own and report.before.package_id == changed.first.package_id
    got = {rid: (c.change, c.reason) for rid, c in by_id(report).items()}
    assert got == expected_reasons(changed)  # an untouched record is not listed
    mobile = by_id(report)[changed.mobile]
    [field] = mobile.fields
    assert (field.label, field.old, field.new) == ("手机号码", changed.old_mobile[:3] + "****"
                                                   + changed.old_mobile[-4:], "139****5678")
    suspended = by_id(report)[changed.suspended]
    assert suspended.why == "停止党籍：党籍状态为“停止党籍”"
    assert [(f.label, f.old, f.new) for f in suspended.fields] == [("党籍状态", "正常", "停止党籍")]
    assert by_id(report)[changed.transferred].why == "转出：未转入情形为“离开执业律所六个月以上”"
    assert report.comparison.sentence() == "新增 1 条，减少 3 条（作废 1，停止党籍 1，转出 1），修改 2 条"
    text = json.dumps(as_json(report, world.forms), ensure_ascii=False)
    assert NEW_MOBILE not in text and changed.old_mobile not in text  # masked everywhere


def test_the_export_prints_and_carries_the_same_summary(world: World, changed) -> None:
    before = own_changes(changed.firm, world.forms).comparison
    second = world.export(changed.firm)
    assert second.changes == before.sentence()
    inside = open_members(second.path.read_bytes(), changed.firm)
    assert read_summary(inside[CHANGES]) == before.counts()
    assert CHANGES not in {n for n in _outer_names(second.path.read_bytes())}  # only inside
    # after the export the firm has nothing new to report
    assert own_changes(changed.firm, world.forms).comparison.changes == ()


def _outer_names(data: bytes) -> list[str]:
    from tests.exchange.formats import unzip

    return list(unzip(data))


def test_the_city_sees_the_change_list_before_accepting(world: World, city, changed) -> None:
    mine = own_changes(changed.firm, world.forms)
    second = world.export(changed.firm)
    assert [r.status for r in world.merge(city, second.path)] == ["merged"]
    report = changes_of_unit(city, world.forms, changed.code)
    assert (report.before.package_id, report.after.package_id) == (
        changed.first.package_id, second.package_id)
    assert [(c.change, c.record_id, c.reason, c.fields) for c in report.comparison.changes] == [
        (c.change, c.record_id, c.reason, c.fields) for c in mine.comparison.changes]
    assert report.carried == mine.comparison.counts()  # what the firm said it changed
    with city.session() as session:
        summary = json.loads(session.execute(select(Package.summary).where(
            Package.id == second.package_id)).scalar_one())
    assert summary["changes"] == report.carried
    [row] = svc.dashboard(city)  # the 收件看板 says it per unit, before anything is opened
    assert row.changes == "新增1，减少3（作废1，停止党籍1，转出1），修改2"
    # nothing was written by looking
    assert [r.state for r in _states(city, second.package_id)] == ["已提交"] * 6


def _states(reg, package_id: str) -> list:
    with reg.session() as session:
        return list(session.execute(select(Record.state).where(Record.package_id == package_id)))


def test_full_values_are_shown_on_request_and_audited(world: World, city, changed) -> None:
    report = changes_report(changed.firm, world.forms, full=True, actor="测试员")
    [field] = by_id(report)[changed.mobile].fields
    assert (field.old, field.new) == (changed.old_mobile, NEW_MOBILE)
    with changed.firm.session() as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "changes.full")
                                ).scalar_one()
    assert entry.actor == stored_actor(changed.firm, "测试员") and entry.target == changed.code


def test_an_unknown_unit_code_is_said_so(world: World, city, changed) -> None:
    with pytest.raises(UsageError, match="没有单位代码为“NOSUCHUNIT”的单位"):
        changes_of_unit(city, world.forms, "NOSUCHUNIT")
    svc.add_expected_unit(city, "11010519491231002X", "未报送的律所")
    report = changes_of_unit(city, world.forms, "11010519491231002X")
    assert report.comparison is None and "还没有报送过数据包" in report.message


def test_a_unit_with_one_package_has_nothing_to_compare_yet(world: World, city, changed
                                                           ) -> None:
    assert [r.changes for r in svc.dashboard(city)] == [""]  # a first package carries none
    report = changes_of_unit(city, world.forms, changed.code)
    assert report.comparison is None and report.after.package_id == changed.first.package_id
    assert "只报送过一个数据包" in report.message and "还没有可以比较的上一个数据包" in report.message
    with pytest.raises(KnownError, match="没有可写出的变化清单"):
        write_workbook(city, world.forms, report, world.folder / "变更.xlsx")


def test_a_first_export_has_nothing_to_compare(world: World, city) -> None:
    firm = world.firm(seed=71, parent=city)
    report = own_changes(firm.register, world.forms)
    assert report.comparison is None and "下次上报是第一次" in report.message
    first = world.export(firm.register)
    assert first.changes == ""
    assert CHANGES not in open_members(first.path.read_bytes(), firm.register)


def test_a_package_sent_by_an_earlier_version_is_said_so(world: World, city, changed) -> None:
    with changed.firm.session() as session:  # versions before this one kept no sent package
        session.execute(update(Package).values(content=None))
        session.commit()
    report = own_changes(changed.firm, world.forms)
    assert report.comparison is None and "更早的版本导出" in report.message
    assert world.export(changed.firm).changes == ""


def test_a_kept_package_that_cannot_be_opened_never_stops_an_export(world: World, city,
                                                                    changed) -> None:
    with changed.firm.session() as session:
        session.execute(update(Package).values(content=b"PK\x03\x04 damaged"))
        session.commit()
    with pytest.raises(KnownError, match="不能比较变化"):
        own_changes(changed.firm, world.forms)
    second = world.export(changed.firm)  # exported all the same, without a summary
    assert second.changes == "" and CHANGES not in open_members(second.path.read_bytes(),
                                                               changed.firm)


def test_a_record_that_disappears_without_a_word_is_said_so(world: World, city, changed
                                                           ) -> None:
    """A record deleted behind the application's back (no audit entry) is 原因不明."""
    with changed.firm.session() as session:  # (one 附件3 does not count: case 4)
        session.execute(Record.__table__.delete().where(Record.id == changed.transferred))
        session.commit()
    second = world.export(changed.firm)
    world.merge(city, second.path)
    report = changes_of_unit(city, world.forms, changed.code)
    gone = by_id(report)[changed.transferred]
    assert (gone.change, gone.reason) == (REMOVED, NO_REASON)
    assert "未说明原因" in gone.detail


def test_the_workbook_lists_every_field_change(world: World, city, changed) -> None:
    from python_calamine import CalamineWorkbook

    second = world.export(changed.firm)
    world.merge(city, second.path)
    report = changes_of_unit(city, world.forms, changed.code)
    out = write_workbook(city, world.forms, report, world.folder / "变更.xlsx", actor="测试员")
    book = CalamineWorkbook.from_path(str(out))
    assert book.sheet_names == ["变化汇总", "变化明细"]
    detail = book.get_sheet_by_name("变化明细").to_python()
    cells = {str(c) for row in detail for c in row}
    assert {"修改", "减少", "新增", "手机号码", "139****5678", "停止党籍"} <= cells
    assert NEW_MOBILE not in cells
    with pytest.raises(UsageError, match="不存在"):
        write_workbook(city, world.forms, report, world.folder / "没有" / "变更.xlsx")


def test_the_province_sees_what_the_city_carried(world: World, city, changed) -> None:
    province = world.register(PROVINCE, "province.dengji")
    world.link(city, province)
    up1 = world.export(city)  # the firm's first package, accepted
    second = world.export(changed.firm)
    world.merge(city, second.path)
    svc.accept_package(city, second.package_id)
    up2 = world.export(city)
    assert up2.changes.startswith("新增 1 条，减少 3 条")
    for up in (up1, up2):
        [report] = world.merge(province, up.path)
        assert report.status == "merged", report.reason
    # the firm's own records come inside the city's packages: compared there, for that unit;
    # the void is in the firm's audit log, which only the city can open: the province reads
    # 原因不明 for that record, and 作废 in the counts the city's package carried
    firm_view = changes_of_unit(province, world.forms, changed.code)
    assert {rid: (c.change, c.reason) for rid, c in by_id(firm_view).items()} == {
        **expected_reasons(changed), changed.voided: (REMOVED, NO_REASON)}
    assert (firm_view.before.package_id, firm_view.after.package_id) == (up1.package_id,
                                                                         up2.package_id)
    assert firm_view.carried == [
        {"unit": changed.code, "form": "lawyer_member", "added": 1, "changed": 1,
         "removed": {"作废": 1, "停止党籍": 1, "转出": 1}},
        {"unit": changed.code, "form": "party_org", "added": 0, "changed": 1, "removed": {}}]
    city_view = changes_of_unit(province, world.forms, CITY.code)
    assert {c.unit_code for c in city_view.comparison.changes} == {changed.code}


# --- the comparison's rules, pure -----------------------------------------------------------


def line(rid: str, unit: str, **values) -> dict:
    return {"id": rid, "unit": unit, "form_id": "lawyer_member", "values": values}


PERSON = "11010519491231002X"


def test_a_person_registered_in_another_unit_moved_there(forms) -> None:
    before = [line("r1", "A", name="张三", id_number=PERSON), line("r2", "A", name="李四")]
    after = [line("r3", "B", name="张三", id_number=PERSON)]
    c = compare(before, after, forms)
    got = {x.record_id: (x.change, x.reason, x.detail) for x in c.changes}
    assert got["r1"] == (REMOVED, "转出", "转出：现登记在单位 B")
    assert got["r3"] == (ADDED, "转入", "转入：原登记在单位 A")
    assert got["r2"][:2] == (REMOVED, NO_REASON)
    # outside both packages: the register says where the person is now
    c = compare(before[:1], [], forms, locate=lambda ids: {PERSON: "某律师事务所（X）"})
    assert [(x.reason, x.detail) for x in c.changes] == [("转出", "转出：现登记在某律师事务所（X）")]


def test_the_same_person_under_a_new_record_is_re_entered(forms) -> None:
    c = compare([line("r1", "A", id_number=PERSON)], [line("r2", "A", id_number=PERSON)], forms)
    assert {(x.change, x.reason) for x in c.changes} == {(REMOVED, "重新登记"),
                                                          (ADDED, "重新登记")}


def test_status_codes_that_leave_the_count_come_from_the_code_tables(forms) -> None:
    leaving = {(f.id, c.code): c.leaves for form in forms.forms.values() for f in form.fields
               if f.type == "code" and f.codes for c in f.codes.codes if c.leaves}
    assert ("party_status", "2") in leaving and ("transfer_case", "4") in leaving
    assert ("transfer_case", "1") not in leaving  # cases 1–3 stay registered
    was = line("r1", "A", name="王五", party_status="2")
    back = compare([was], [line("r1", "A", name="王五", party_status="1")], forms)
    assert [(x.change, x.reason) for x in back.changes] == [(ADDED, "恢复")]
    same = compare([was], [was], forms)
    assert same.changes == () and same.sentence() == "没有变化"


def test_the_society_cleanup_leaves_the_count_by_its_status(forms) -> None:
    """A member cleaned up (已清理-…, 暂时移出, 已退会) is removed with the table's word; 重新入会
    brings the member back."""
    def member(status: str) -> dict:
        return {"id": "m1", "unit": "S", "form_id": "society_member",
                "values": {"name": "赵六", "status": status}}

    words = {s: [(x.change, x.reason) for x in compare([member("1")], [member(s)],
                                                        forms).changes]
             for s in ("2", "3", "4", "5", "6")}
    assert words == {"2": [(REMOVED, "会员清理")], "3": [(REMOVED, "会员清理")],
                     "4": [(REMOVED, "会员清理")], "5": [(REMOVED, "暂时移出")],
                     "6": [(REMOVED, "退会")]}
    back = compare([member("5")], [member("7")], forms).changes
    assert [(x.change, x.reason) for x in back] == [(ADDED, "恢复")]


def test_gone_records_follow_the_last_audit_action(forms) -> None:
    from desktop.exchange.changes import gone_actions

    audit = [{"action": "record.void", "target": "r1"}, {"action": "record.save", "target": "r2"},
             {"action": "record.submit", "target": "r2"}, {"action": "export", "target": "p"}]
    assert gone_actions(audit) == {"r1": "record.void"}
    c = compare([line("r1", "A"), line("r2", "A")], [], forms, gone=gone_actions(audit))
    assert sorted(x.reason for x in c.changes) == sorted(["作废", NO_REASON])


def test_group_and_masked_fields_never_give_a_number_back(forms) -> None:
    c = compare([line("r1", "A", id_number=PERSON, birth_date="1949-12-31")],
                [line("r1", "A", id_number="110105194912310036", birth_date="1949-12-30")],
                forms)
    texts = {t for x in c.changes for f in x.fields for t in (f.old, f.new)}
    assert "1949-12" in texts and not any("19491231" in t or "1949-12-3" in t for t in texts)


@pytest.mark.parametrize("raw", [
    None, b"", b"not json", b"[]", json.dumps({"format": "other", "counts": []}).encode(),
    json.dumps({"format": "dengji-changes-summary-1", "counts": [{"unit": "A"}]}).encode(),
    json.dumps({"format": "dengji-changes-summary-1", "counts": [
        {"unit": "A", "form": "f", "added": -1, "changed": 0, "removed": {}}]}).encode(),
    json.dumps({"format": "dengji-changes-summary-1", "counts": [
        {"unit": "A", "form": "f", "added": True, "changed": 0, "removed": {}}]}).encode(),
    json.dumps({"format": "dengji-changes-summary-1", "counts": [
        {"unit": "A" * 101, "form": "f", "added": 1, "changed": 0, "removed": {}}]}).encode(),
    json.dumps({"format": "dengji-changes-summary-1", "counts": [
        {"unit": "A", "form": "f", "added": 1, "changed": 0, "removed": {"x": "1"}}]}).encode(),
])
def test_a_malformed_carried_summary_is_not_read(raw) -> None:
    assert read_summary(raw) is None


def test_a_summary_reads_back(forms) -> None:
    c = compare([line("r1", "A", party_status="1")], [line("r1", "A", party_status="2")], forms)
    assert read_summary(summary_member(c, None)) == c.counts() == [
        {"unit": "A", "form": "lawyer_member", "added": 0, "changed": 0,
         "removed": {"停止党籍": 1}}]

