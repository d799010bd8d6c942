"""The record use cases behind the window, without Qt: live checks, drafts, submit with
confirmed warnings, audit, listing, search, masking and the audited show-in-full."""

from __future__ import annotations

import json
import random
from datetime import date

import pytest
from sqlmodel import select

from desktop import sampledata
from desktop.errors import KnownError
from desktop.formspec import shipped_forms
from desktop.progress import run
from desktop.services import listing
from desktop.services.editing import EditSession, load_peers, peer_forms
from desktop.services.registers import init_register
from desktop.storage import AuditEntry, KdfParams, Override, Record, RecordKey, verify_audit_chain
from tests.stores import pg_cluster, pg_database, pg_url, store  # noqa: F401 (fixtures)

FAST = KdfParams(n=2**10, r=8, p=1)


@pytest.fixture
def reg(store):  # noqa: F811 (the fixture)
    """Every test here runs on a register file and on a PostgreSQL register."""
    r = init_register(store, "服务测试口令-1234", level="firm",
                      unit_name="测试律师事务所党支部", unit_code="31110000MD0123456X", kdf=FAST)
    yield r
    r.close()


@pytest.fixture
def forms():
    return shipped_forms()


def people(n=3, seed=5):
    rng = random.Random(seed)
    firm = sampledata.firms(rng, 1)[0]
    out = []
    while len(out) < n:
        m = sampledata.lawyer_member(rng, firm, date.today())
        if m["人员类别"] == "正式党员":
            out.append(m)
    return firm, out, sampledata.party_org(firm, out)


def session_for(reg, forms, form_id, **kw) -> EditSession:
    return EditSession(reg, forms, forms.form(form_id), reg.own_unit_id, actor="测试员", **kw)


def fill(session: EditSession, by_label: dict) -> list:
    for label, raw in by_label.items():
        findings = session.set_raw(session.form.field_by_label(label).id, raw)
    return findings


def codes(findings) -> set[str]:
    return {f.code for f in findings}


def test_a_new_record_is_stored_on_its_first_save_with_keys_and_audit(reg, forms):
    firm, members, org = people()
    s = session_for(reg, forms, "party_org")
    fill(s, org)
    assert s.save() and s.record_id and s.state == "草稿"
    assert not s.save()  # nothing changed: nothing written
    s2 = session_for(reg, forms, "lawyer_member")
    assert codes(fill(s2, members[0])) == set()
    s2.save()
    with reg.session() as db:
        rec = db.get(Record, s2.record_id)
        keys = db.exec(select(RecordKey.kind).where(RecordKey.record_id == s2.record_id)).all()
        audit = [tuple(r) for r in db.exec(select(AuditEntry.action, AuditEntry.target,
                                                  AuditEntry.detail)).all()]
        assert verify_audit_chain(db).ok
    assert json.loads(rec.data)["id_number"] == members[0]["公民身份号码"]
    assert rec.person_key == reg.person_hash(members[0]["公民身份号码"])
    assert sorted(keys) == ["licence", "person"]
    assert ("record.save", s2.record_id) in [a[:2] for a in audit]
    # the audit names the fields changed, never their values
    assert members[0]["公民身份号码"] not in json.dumps([a for a in audit], ensure_ascii=False)


def test_register_rules_see_another_record_with_the_same_id(reg, forms):
    _, members, _ = people()
    first = session_for(reg, forms, "lawyer_member")
    fill(first, members[0])
    first.save()
    second = session_for(reg, forms, "lawyer_member")
    findings = second.set_raw("id_number", members[0]["公民身份号码"])
    assert "duplicate_in_register" in codes(findings)
    assert members[0]["姓名"] in next(f.message for f in findings
                                     if f.code == "duplicate_in_register")
    assert "duplicate_in_register" not in codes(second.set_raw("id_number", ""))


def test_cross_rules_see_the_current_state(reg, forms):
    firm, members, org = people()
    lawyer = session_for(reg, forms, "lawyer_member")
    assert "firm_not_registered" in codes(fill(lawyer, members[0]))
    orgs = session_for(reg, forms, "party_org")
    fill(orgs, org)
    orgs.save()
    lawyer.peer_saved("party_org", orgs.record_id, orgs.values)
    assert "firm_not_registered" not in codes(lawyer.check())
    # a fresh session reads it from the register
    assert "firm_not_registered" not in codes(fill(session_for(reg, forms, "lawyer_member"),
                                                   members[1]))


def test_deferred_peers_wait_for_attach(reg, forms):
    firm, members, org = people()
    s = session_for(reg, forms, "lawyer_member", defer_peers=True)
    assert "firm_not_registered" not in codes(fill(s, members[0]))
    assert not s.cross_ready
    wanted = peer_forms(forms, forms.form("lawyer_member"))
    assert sorted(wanted) == ["lawyer_member", "party_org", "staff_member"]
    s.attach_peers(run(load_peers(reg, forms, wanted, reg.own_unit_id)))
    assert "firm_not_registered" in codes(s.check())


def test_birth_and_sex_are_proposed_only_from_a_valid_id(reg, forms):
    s = session_for(reg, forms, "lawyer_member")
    s.set_raw("id_number", "11010519491231002")
    assert s.proposals() == {}
    s.set_raw("id_number", "11010519491231002X")
    assert s.proposals() == {"birth_date": "1949-12-31", "sex": "2"}
    s.set_raw("sex", "男")
    assert s.proposals() == {"birth_date": "1949-12-31"}
    assert "sex_id_mismatch" in codes(s.findings) or any("性别" in f.message for f in s.findings)


def test_unparseable_input_is_one_finding_not_two(reg, forms):
    s = session_for(reg, forms, "lawyer_member")
    findings = [f for f in s.set_raw("join_date", "2020-13-01") if f.field == "join_date"]
    assert [f.code for f in findings] == ["date_invalid"]


def test_submit_needs_no_errors_and_a_reason_for_every_warning(reg, forms):
    firm, members, org = people()
    o = session_for(reg, forms, "party_org")
    fill(o, org)
    o.save()
    s = session_for(reg, forms, "lawyer_member")
    fill(s, {**members[0], "固定电话": "85551234"})
    s.set_raw("mobile", "123")
    with pytest.raises(KnownError, match="错误"):
        s.submit({})
    s.set_raw("mobile", members[0]["手机号码"])
    check = s.submit_check()
    assert not check.blocked and [w.code for w in check.warnings] == ["landline"]
    with pytest.raises(KnownError, match="理由"):
        s.submit({("landline", "landline"): "  "})
    s.submit({("landline", "landline"): "经核实无误"})
    assert s.state == "待提交"
    with reg.session() as db:
        rec = db.get(Record, s.record_id)
        overrides = db.exec(select(Override)).all()
        submit = db.exec(select(AuditEntry).where(AuditEntry.action == "record.submit")).one()
    assert rec.state == "待提交"
    assert [(x.field, x.rule, x.reason, x.actor) for x in overrides] == [
        ("landline", "landline", "经核实无误", "测试员")]
    assert "landline" in submit.detail
    # reopened: the reasons come back; an edit makes it a draft again
    again = session_for(reg, forms, "lawyer_member")
    again.load(s.record_id)
    assert again.reasons == {("landline", "landline"): "经核实无误"}
    again.set_raw("remarks", "补充备注")
    again.save()
    assert again.state == "草稿"


def test_loading_a_missing_record_is_a_known_error(reg, forms):
    with pytest.raises(KnownError, match="不存在"):
        session_for(reg, forms, "lawyer_member").load("no-such-id")


def test_listing_search_details_and_audited_reveal(reg, forms):
    firm, members, org = people(n=4)
    form = forms.form("lawyer_member")
    ids = []
    for m in members:
        s = session_for(reg, forms, "lawyer_member")
        fill(s, m)
        s.save()
        ids.append(s.record_id)
    index = listing.load_index(reg, form, reg.own_unit_id)
    assert len(index.rowids) == 4
    assert index.names == [m["姓名"] for m in reversed(members)]  # newest first
    target = members[1]
    assert [index.names[i] for i in listing.search(index, target["姓名"][-1:])].count(
        target["姓名"]) == 1
    exact = listing.key_matches(reg, form, target["公民身份号码"].lower())
    assert [index.names[i] for i in listing.search(index, "不存在", exact)] == [target["姓名"]]
    assert listing.key_matches(reg, form, target["律师执业证号"]) == exact
    details = listing.fetch_rows(reg, forms, form, index.rowids)
    masked = {d.id_text for d in details.values()}
    assert not masked & {m["公民身份号码"] for m in members}
    # list counts: field, record and register rules (cross rules are shown in the editor)
    assert all((d.errors, d.warnings) == (0, 0) for d in details.values())
    assert {d.state for d in details.values()} == {"草稿"}
    full = listing.fetch_rows(reg, forms, form, index.rowids[:1], revealed=index.rowids[:1])
    assert full[index.rowids[0]].id_text == members[-1]["公民身份号码"]
    listing.reveal(reg, form, [ids[-1]], "测试员")
    with reg.session() as db:
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "reveal")).one()
    assert ids[-1] in entry.detail and "id_number" in entry.detail


def test_index_of_another_unit_is_empty(reg, forms):
    assert listing.load_index(reg, forms.form("lawyer_member"), "other-unit").rowids == []
    assert listing.search(listing.FormIndex([], []), "张") == []


def test_no_peers_for_a_form_without_cross_rules(forms):
    assert peer_forms(forms, forms.form("society_member")) == []


def test_forms_for_level():
    forms = shipped_forms()
    assert [f.id for f in listing.forms_for_level(forms, "firm")] == [
        "lawyer_member", "staff_member", "party_org"]
    assert [f.id for f in listing.forms_for_level(forms, "society-county")] == ["society_member"]


def test_the_code_filter_and_the_state_filter_of_the_list(reg, forms):
    """rowids_with_code compares a field inside the record's data (json_extract on SQLite; on a
    server register the data is sealed: opened and compared in Python) — same answers."""
    _firm, members, _org = people(n=4, seed=9)
    form = forms.form("lawyer_member")
    for m in members:
        s = session_for(reg, forms, "lawyer_member")
        fill(s, m)
        s.save()
    index = listing.load_index(reg, form, reg.own_unit_id)
    details = listing.fetch_rows(reg, forms, form, index.rowids, issues=False)
    by_id = {info.id: key for key, info in details.items()}
    with reg.session() as db:
        records = db.exec(select(Record).where(Record.form_id == "lawyer_member")).all()
        stored = {r.id: json.loads(r.data) for r in records}
        bare = records[0]  # a record without the field counts as its default
        values = json.loads(bare.data)
        values.pop("id_type", None)
        bare.data = json.dumps(values, ensure_ascii=False)
        db.add(bare)
        db.commit()
    for sex in ("1", "2"):
        want = {by_id[rid] for rid, v in stored.items() if v.get("sex") == sex}
        assert listing.rowids_with_code(reg, form, reg.own_unit_id, "sex", sex) == want
    assert listing.rowids_with_code(reg, form, reg.own_unit_id, "id_type", "1") == set(
        index.rowids)
    assert listing.rowids_with_code(reg, form, reg.own_unit_id, "id_type", "2") == set()
    assert listing.rowids_with_code(reg, form, "other-unit", "sex", "1") == set()
    assert listing.rowids_in_state(reg, form, reg.own_unit_id, "草稿") == set(index.rowids)
    assert listing.rowid_of(reg, bare.id) == (by_id[bare.id], bare.name)
    assert listing.count_form(reg, "lawyer_member") == 4
