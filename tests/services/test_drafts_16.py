"""Issue 16, "Drafts stay drafts" and "No dead ends": a mistaken draft can be voided (audited,
gone from lists, outputs, packages and cross-record rules), a complete record can be taken back
to draft, and official outputs (附件4–6, a form's Excel and print, packages) take complete
records only and say how many drafts they left out."""

from __future__ import annotations

import json
import zipfile
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy import text as sql

from desktop.domain.states import COMPLETE, DRAFT, RECORD_STATES, SENT, VOIDED, WORDS, word
from desktop.errors import KnownError
from desktop.progress import run
from desktop.services import drafts, listing
from desktop.services.editing import EditSession
from desktop.services.exporting import export_excel
from desktop.services.packages.export import check_own_records, own_drafts
from desktop.services.printing import print_records, print_tables
from desktop.storage import AuditEntry, Record, RecordKey, crypto, verify_audit_chain
from desktop.storage.audit import check_records, content_hashes
from tests.conftest import make_firm_records
from tests.exchange.conftest import CITY, PASSPHRASE, World
from tests.exchange.formats import open_payload
from tests.services.conftest import on_server, stored_actor


def draft(world: World, reg, member: dict, form_id: str = "lawyer_member") -> str:
    """A record typed in the editor and left as a draft (label-keyed values)."""
    form = world.forms.form(form_id)
    session = EditSession(reg, world.forms, form, reg.own_unit_id, actor="测试员")
    try:
        for label, raw in member.items():
            session.set_raw(form.field_by_label(label).id, raw, check=False)
        assert session.save()
        return session.record_id
    finally:
        session.close()


def stranger(seed: int = 404) -> dict:
    """A member of another firm, valid, with an ID number no record of the register holds."""
    return make_firm_records(seed=seed, members=1, today=date.today()).members[0]


def states(reg) -> dict[str, str]:
    with reg.session() as s:
        return dict(s.execute(select(Record.id, Record.state)).all())


def blockers_of(world: World, reg) -> list:
    with reg.session() as s:
        return check_own_records(s, reg, world.forms, date.today())


@pytest.fixture
def world(store_world: World) -> World:
    """Every test with registers runs on files and on PostgreSQL (tests/services/conftest.py)."""
    return store_world


@pytest.fixture
def firm(world: World):
    city = world.register(CITY, "city.dengji")
    return world, city, world.firm(seed=61, parent=city)


# --- the words ----------------------------------------------------------------------------


def test_one_set_of_state_words_says_what_happens_next() -> None:
    assert [word(c) for c in RECORD_STATES] == ["草稿", "已完成（待上报）", "已上报", "已退回",
                                                "已接收"]
    assert word(VOIDED) == "已作废" and VOIDED not in RECORD_STATES
    shown = set(WORDS.values())
    assert "已提交" not in shown and "待提交" not in shown


def test_imported_records_are_complete_and_typed_ones_start_as_drafts(firm) -> None:
    world, _city, f = firm
    assert set(states(f.register).values()) == {COMPLETE}
    rid = draft(world, f.register, stranger())
    assert states(f.register)[rid] == DRAFT


# --- void ---------------------------------------------------------------------------------


def test_a_duplicate_draft_voided_no_longer_puts_an_error_on_the_genuine_record(firm) -> None:
    world, _city, f = firm
    genuine = f.members[0]
    copy = draft(world, f.register, genuine)
    blocked = blockers_of(world, f.register)
    assert blocked, "a draft with the same ID number makes the genuine record's number an E"
    assert copy not in {b.record_id for b in blocked}, "a draft itself never blocks a package"
    with pytest.raises(KnownError):
        world.export(f.register)

    with f.register.session() as s:
        digest = content_hashes(s, [copy])[copy]
    who = drafts.void_draft(f.register, world.forms, copy, actor="测试员")
    assert who.name == genuine["姓名"]
    number = genuine["公民身份号码"]
    assert who.masked_id and who.masked_id != number and number[-4:] in who.masked_id
    assert number[6:14] not in who.person  # the birth digits never appear

    assert blockers_of(world, f.register) == []
    with f.register.session() as s:
        assert s.get(Record, copy) is None
        assert s.execute(select(RecordKey).where(RecordKey.record_id == copy)).first() is None
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "record.void")).scalar_one()
        assert verify_audit_chain(s).ok and check_records(s).ok
    detail = json.loads(entry.detail)
    assert entry.target == copy and entry.actor == stored_actor(f.register, "测试员")
    assert detail["record_hash"] == digest and detail["state"] == VOIDED
    assert genuine["姓名"] not in entry.detail and number not in entry.detail

    sent = world.export(f.register)
    assert sent.records == len(f.members) + 1 and sent.drafts == 0


def test_a_voided_draft_is_gone_from_the_list_and_its_search(firm) -> None:
    world, _city, f = firm
    person = stranger()
    rid = draft(world, f.register, person)
    form = world.forms.form("lawyer_member")
    index = listing.load_index(f.register, form, f.register.own_unit_id)
    assert len(index.rowids) == len(f.members) + 1
    drafts.void_draft(f.register, world.forms, rid, actor="测试员")
    index = listing.load_index(f.register, form, f.register.own_unit_id)
    assert len(index.rowids) == len(f.members)
    assert listing.rowid_of(f.register, rid) is None


def test_only_a_draft_of_the_own_unit_can_be_voided(firm) -> None:
    world, city, f = firm
    complete = next(iter(states(f.register)))
    with pytest.raises(KnownError, match="只有草稿可以作废"):
        drafts.void_draft(f.register, world.forms, complete, actor="测试员")
    with pytest.raises(KnownError, match="没有编号为"):
        drafts.void_draft(f.register, world.forms, "00000000-0000-0000-0000-000000000000",
                          actor="测试员")
    world.merge(city, world.export(f.register).path)
    below = next(iter(states(city)))
    with pytest.raises(KnownError, match="下级单位"):
        drafts.void_draft(city, world.forms, below, actor="测试员")
    with pytest.raises(KnownError, match="下级单位"):
        drafts.reopen(city, world.forms, below, actor="测试员")
    assert complete in states(f.register)


# --- reopen -------------------------------------------------------------------------------


def test_reopen_takes_a_complete_record_back_to_draft_and_out_of_the_package(firm) -> None:
    world, _city, f = firm
    rid = next(iter(states(f.register)))
    who = drafts.reopen(f.register, world.forms, rid, actor="测试员")
    assert who.state == COMPLETE and states(f.register)[rid] == DRAFT
    with pytest.raises(KnownError, match="已经是草稿"):
        drafts.reopen(f.register, world.forms, rid, actor="测试员")
    with f.register.session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "record.reopen")
                          ).scalar_one()
        assert entry.target == rid and check_records(s).ok
    sent = world.export(f.register)
    assert sent.records == len(f.members) and sent.drafts == 1
    after = states(f.register)
    assert after[rid] == DRAFT, "export stamps only what it sent"
    assert {s for r, s in after.items() if r != rid} == {SENT}
    # a sent record can be taken back as well; voiding it then removes it
    other = next(r for r in after if r != rid)
    drafts.reopen(f.register, world.forms, other, actor="测试员")
    drafts.void_draft(f.register, world.forms, other, actor="测试员")
    assert other not in states(f.register)


# --- official outputs ---------------------------------------------------------------------


def test_the_package_leaves_drafts_out_and_says_how_many(firm, tmp_path) -> None:
    world, city, f = firm
    rid = draft(world, f.register, stranger())
    with f.register.session() as s:
        assert own_drafts(s, f.register) == 1
    sent = world.export(f.register)
    assert sent.drafts == 1 and sent.records == len(f.members) + 1
    assert states(f.register)[rid] == DRAFT
    with f.register.session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "export")).scalar_one()
    assert json.loads(entry.detail)["drafts_left_out"] == 1
    world.merge(city, sent.path)
    assert rid not in states(city) and len(states(city)) == len(f.members) + 1


def xlsx_text(path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist()
                       if n.startswith("xl/") and n.endswith(".xml"))


def test_summaries_excel_and_print_take_complete_records_only(firm, tmp_path) -> None:
    world, _city, f = firm
    person = stranger()
    draft(world, f.register, person)
    n = len(f.members)

    summary = run(export_excel(f.register, world.forms, "lawyer_summary",
                               tmp_path / "附件4.xlsx"))
    assert summary.records + summary.excluded == n and summary.drafts == 1
    text = xlsx_text(summary.path)
    assert "另有 1 条草稿未计入" in text and person["姓名"] not in text

    sheet = run(export_excel(f.register, world.forms, "lawyer_member", tmp_path / "附件1.xlsx"))
    assert sheet.records == n and sheet.drafts == 1
    assert person["姓名"] not in xlsx_text(sheet.path)

    table = run(print_tables(f.register, world.forms, "lawyer_summary"))
    assert table.records == n and table.drafts == 1
    pages = run(print_records(f.register, world.forms, "lawyer_member"))
    assert pages.records == n and pages.drafts == 1
    # a draft chosen by itself still prints (a clerk checks it on paper)
    rid = next(r for r, s in states(f.register).items() if s == DRAFT)
    assert run(print_records(f.register, world.forms, "lawyer_member", [rid])).records == 1

    drafts.void_draft(f.register, world.forms, rid, actor="测试员")
    again = run(export_excel(f.register, world.forms, "lawyer_summary", tmp_path / "b.xlsx"))
    assert again.drafts == 0 and "草稿未计入" not in xlsx_text(again.path)


def test_a_form_with_drafts_only_prints_nothing_and_says_why(world: World) -> None:
    city = world.register(CITY, "c.dengji")
    f = world.firm(seed=62, parent=city)
    for rid in list(states(f.register)):
        drafts.reopen(f.register, world.forms, rid, actor="测试员")
    with pytest.raises(KnownError, match="草稿不打印"):
        run(print_records(f.register, world.forms, "lawyer_member"))


# --- the command line ---------------------------------------------------------------------


def test_records_void_and_reopen_on_the_command_line(world: World, dengji, monkeypatch) -> None:
    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    # the cost the `dengji` fixture gives the command (it opens them without re-keying)
    city = world.register(CITY, "cli-city.dengji", kdf=crypto.DEFAULT_KDF)
    records = make_firm_records(seed=63, members=3, today=date.today())
    from desktop.storage import UnitInfo

    unit = UnitInfo(records.firm.uscc, f"中共{records.firm.name}支部委员会", "firm", CITY.code)
    reg = world.register(unit, "cli-firm.dengji", kdf=crypto.DEFAULT_KDF)
    world.import_records(reg, records.members, records.org)
    world.link(reg, city)
    copy = draft(world, reg, records.members[0])
    genuine = next(r for r, s in states(reg).items() if s == COMPLETE)

    refused = dengji("records", "void", "--db", reg.path, "--id", genuine)
    assert refused.code == 1 and "只有草稿可以作废" in refused.err
    voided = dengji("records", "void", "--db", reg.path, "--id", copy.upper())
    assert voided.code == 0, voided.err
    assert "已作废草稿" in voided.out and records.members[0]["姓名"] in voided.out
    assert records.members[0]["公民身份号码"] not in voided.out
    assert copy not in states(reg)

    back = dengji("records", "reopen", "--db", reg.path, "--id", genuine)
    assert back.code == 0 and "已退回草稿" in back.out
    assert states(reg)[genuine] == DRAFT

    out = world.folder / "cli-out"
    out.mkdir()
    sent = dengji("export", "--db", reg.path, "--out", out)
    assert sent.code == 0, sent.err
    assert "另有 1 条草稿未上报" in sent.err
    excel = dengji("export-excel", "--db", reg.path, "--form", "lawyer_summary",
                   "--out", world.folder / "s.xlsx")
    assert excel.code == 0 and "另有 1 条草稿未计入" in excel.err + excel.out
    for text in (voided.out, back.out, sent.out + sent.err, excel.out + excel.err):
        assert "已提交" not in text and "待提交" not in text


def test_no_old_state_words_in_what_people_read() -> None:
    """已提交 and 待提交 are stored codes only: no text shown by the window, the commands or
    the documentation uses them (domain/states.py defines them, once; the version-4 migration
    holds them frozen, as every migration holds what it changes)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found = []
    for path in [*root.joinpath("desktop").rglob("*.py"), *root.joinpath("docs").rglob("*.md"),
                 root / "README.md"]:
        if path.name in ("states.py", "migrations.py"):
            continue
        text = path.read_text("utf-8")
        found += [f"{path.relative_to(root)}: {w}" for w in ("已提交", "待提交") if w in text]
    assert found == []


def test_a_form_whose_records_are_all_drafts_gets_no_files_in_the_package(firm) -> None:
    """Its record pages would have nothing to print: the package leaves the form out."""
    world, _city, f = firm
    with f.register.session() as s:
        org = s.execute(select(Record.id).where(Record.form_id == "party_org")).scalar_one()
    drafts.reopen(f.register, world.forms, org, actor="测试员")
    sent = world.export(f.register)
    assert sent.records == len(f.members) and sent.drafts == 1
    names = set(open_payload(sent.path.read_bytes(), f.register))  # format 2: encrypted
    assert "xlsx/附件1律师党员基本信息登记表.xlsx" in names
    assert not [n for n in names if "附件3" in n or "附件6" in n], sorted(names)


def test_a_version_3_register_keeps_typed_drafts_and_completes_imported_ones(firm) -> None:
    """Before version 4 an import stored drafts: the migration makes those complete (no
    record.save entry ever targeted them) and leaves a draft typed in the editor a draft."""
    from desktop.storage import Meta, open_register
    from tests.exchange.conftest import FAST_KDF

    world, _city, f = firm
    typed = draft(world, f.register, stranger())
    imported = [r for r in states(f.register) if r != typed]
    with f.register.session() as s:
        for rec in s.execute(select(Record)).scalars():
            rec.state = DRAFT  # as version 3 stored an import
        s.get(Meta, "schema_version").value = "3"
        s.execute(sql("DROP TABLE key_event"))  # added by version 5
        s.execute(sql("DROP TABLE spot_sample"))  # added by version 5
        s.execute(sql("DROP TABLE spot_item"))
        if on_server(f.register):  # version 6 changed the indexes of record on PostgreSQL
            s.execute(sql("DROP INDEX IF EXISTS ix_record_form_created"))
            s.execute(sql("CREATE INDEX IF NOT EXISTS ix_record_name ON record (name)"))
        s.commit()
    f.register.close()
    reopened = open_register(f.register.path, PASSPHRASE, kdf=FAST_KDF)
    world.opened.append(reopened)
    after = states(reopened)
    assert after[typed] == DRAFT
    assert {after[r] for r in imported} == {COMPLETE}
    with reopened.session() as s:
        assert s.get(Meta, "schema_version").value == "6" and verify_audit_chain(s).ok
