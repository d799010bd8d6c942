"""`dengji print` and `dengji archive-check`, and the print service the window calls."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from desktop.formspec import shipped_forms
from desktop.services.printing import archive_check, preview_pdf, print_cover
from desktop.storage import AuditEntry, Record, open_register
from tests.conftest import PASSPHRASE, UNIT_CODE, UNIT_NAME, assert_no_crash
from tests.reports.test_pdf_helpers import decode_qr, page_count, pdf_text, squeeze

#: the prints, previews and archive checks that read records, on both stores
#: (tests/reports/conftest.py); the summaries' texts are compared between the stores in
#: test_outputs_both_stores.py
BOTH_STORES = {"test_print_every_lawyer_one_page_each_masked",
               "test_full_printing_shows_the_numbers_and_is_logged",
               "test_archive_check_matches_then_notices_a_change",
               "test_archive_check_of_a_full_print_and_of_unknown_records",
               "test_the_window_preview_gets_bytes_and_pages_without_an_audit_entry",
               "test_the_cover_carries_the_key_fingerprint"}


@pytest.fixture
def filled(dengji, db, jsonl, live_firm_records):
    """The test register with a 附件3 record and four 附件1 records."""
    assert dengji("import", "--db", db, "--form", "party_org",
                  jsonl([live_firm_records.org], "org.jsonl")).code == 0
    assert dengji("import", "--db", db, "--form", "lawyer_member",
                  jsonl(live_firm_records.members, "m.jsonl")).code == 0
    return db


def _records(db, form_id="lawyer_member"):
    with open_register(db, PASSPHRASE) as reg, reg.session() as s:
        rows = s.execute(select(Record.id, Record.data).where(Record.form_id == form_id)).all()
    return {rid: json.loads(data) for rid, data in rows}


def _audit(db):
    with open_register(db, PASSPHRASE) as reg, reg.session() as s:
        return [(e.action, json.loads(e.detail)) for e in s.execute(
            select(AuditEntry).order_by(AuditEntry.seq)).scalars()]


def test_print_every_lawyer_one_page_each_masked(dengji, filled, tmp_path, live_firm_records):
    out = tmp_path / "附件1.pdf"
    result = dengji("print", "--db", filled, "--form", "lawyer_member", "--out", out)
    assert result.code == 0, result.err
    assert "已打印 4 条记录，共 4 页" in result.out
    pdf = out.read_bytes()
    assert page_count(pdf, tmp_path) == 4
    text = squeeze(pdf_text(pdf, tmp_path))
    for m in live_firm_records.members:
        assert m["姓名"] in text
        assert m["公民身份号码"] not in text and m["手机号码"] not in text
    assert f"填报单位：{UNIT_NAME}" in text and "第4页共4页" in text
    assert sorted(c.split(":")[2].lower() for c in decode_qr(pdf, tmp_path)) == \
        sorted(_records(filled))
    assert _audit(filled)[-1][0] == "print"


def test_full_printing_shows_the_numbers_and_is_logged(dengji, filled, tmp_path,
                                                       live_firm_records):
    rid, values = next(iter(_records(filled).items()))
    out = tmp_path / "full.pdf"
    result = dengji("print", "--db", filled, "--form", "lawyer_member", "--record", rid,
                    "--out", out, "--full")
    assert result.code == 0 and "全号打印" in result.err
    text = squeeze(pdf_text(out.read_bytes(), tmp_path))
    assert values["id_number"] in text and values["mobile"] in text and "全号打印" in text
    action, detail = _audit(filled)[-1]
    assert action == "print_full"
    assert detail["masked"] is False and detail["record_ids"] == [rid]
    assert dengji("audit", "--db", filled).code == 0  # the chain still holds


def test_archive_check_matches_then_notices_a_change(dengji, filled, tmp_path):
    rid = next(iter(_records(filled)))
    out = tmp_path / "one.pdf"
    assert dengji("print", "--db", filled, "--form", "lawyer_member", "--record", rid,
                  "--out", out).code == 0
    [code] = decode_qr(out.read_bytes(), tmp_path)
    same = dengji("archive-check", "--db", filled, "--qr", code)
    assert same.code == 0 and same.out.startswith("一致") and "遮蔽打印" in same.out
    with open_register(filled, PASSPHRASE) as reg, reg.session() as s:
        data = json.loads(s.get(Record, rid).data)
        data["address"] = data["address"] + "（已搬迁）"
        s.execute(update(Record).where(Record.id == rid)
                  .values(data=json.dumps(data, ensure_ascii=False), revision=2))
        s.commit()
    changed = dengji("archive-check", "--db", filled, "--qr", code)
    assert changed.code == 1 and changed.err.startswith("不一致") and "第 2 版" in changed.err


def test_archive_check_of_a_full_print_and_of_unknown_records(dengji, filled, tmp_path):
    rid = next(iter(_records(filled)))
    out = tmp_path / "full.pdf"
    dengji("print", "--db", filled, "--form", "lawyer_member", "--record", rid, "--out", out,
           "--full")
    [code] = decode_qr(out.read_bytes(), tmp_path)
    assert "全号打印" in dengji("archive-check", "--db", filled, "--qr", code).out
    gone = code.replace(rid.upper()[:8], "00000000")
    missing = dengji("archive-check", "--db", filled, "--qr", gone)
    assert missing.code == 1 and missing.err.startswith("找不到记录")
    bad = dengji("archive-check", "--db", filled, "--qr", "https://example.com/x")
    assert bad.code == 2 and "无法识别二维码" in bad.err
    table = dengji("archive-check", "--db", filled, "--qr", "DJ1:T:ABC-FJ4-1:0123456789ABCDEF")
    assert table.code == 1 and "汇总表页" in table.err


def test_print_refuses_what_it_cannot_print(dengji, db, filled, tmp_path):
    out = tmp_path / "x.pdf"
    rid = next(iter(_records(filled)))
    cases = [
        (("--form", "staff_member"), 1, "还没有"),
        (("--form", "lawyer_member", "--record", "no-such-id"), 1, "没有编号为 no-such-id"),
        (("--form", "party_org", "--record", rid), 1, "--form lawyer_member"),
        (("--form", "lawyer_summary", "--record", rid), 2, "--record 只用于登记表"),
        (("--form", "nonsense"), 2, "无效的选项"),
    ]
    for args, code, message in cases:
        result = dengji("print", "--db", filled, *args, "--out", out)
        assert_no_crash(result)
        assert result.code == code and message in result.err, (args, result.err)
    assert not out.exists()
    result = dengji("print", "--db", filled, "--form", "lawyer_member",
                    "--out", tmp_path / "no" / "such" / "dir.pdf")
    assert result.code == 1 and "无法写入" in result.err


def test_summaries_print_as_landscape_tables(dengji, filled, tmp_path, live_firm_records):
    out = tmp_path / "附件4.pdf"
    result = dengji("print", "--db", filled, "--form", "lawyer_summary", "--out", out,
                    "--filler", "王敏", "--contact", "0311-85551234")
    assert result.code == 0, result.err
    pdf = out.read_bytes()
    text = squeeze(pdf_text(pdf, tmp_path))
    assert "附件4" in text and "律师党员基本信息汇总表" in text and "填报人：王敏" in text
    assert "合计：4人" in text and "年龄" in text and "学历" in text
    for m in live_firm_records.members:
        assert m["姓名"] in text and m["公民身份号码"] not in text
    codes = decode_qr(pdf, tmp_path)
    assert len(codes) == page_count(pdf, tmp_path)
    assert all(c.startswith(f"DJ1:T:{UNIT_CODE}-FJ4-") for c in codes)
    for form in ("org_summary", "staff_summary", "society_stats"):
        result = dengji("print", "--db", filled, "--form", form, "--out", tmp_path / f"{form}.pdf")
        assert result.code == 0, (form, result.err)


def test_the_window_preview_gets_bytes_and_pages_without_an_audit_entry(filled):
    before = len(_audit(filled))
    with open_register(filled, PASSPHRASE) as reg:
        result = preview_pdf(reg, shipped_forms(), "lawyer_member")
        full = preview_pdf(reg, shipped_forms(), "lawyer_member", full=True)
    assert result.pdf.startswith(b"%PDF") and result.pages == result.records == 4
    assert full.pages == 4
    log = _audit(filled)
    assert len(log) == before + 1 and log[-1][0] == "print_full"  # only the full preview
    with open_register(filled, PASSPHRASE) as reg:
        table = preview_pdf(reg, shipped_forms(), "lawyer_summary")
    assert table.pdf.startswith(b"%PDF") and table.pages >= 1 and table.records == 4
    assert len(_audit(filled)) == before + 1


def test_the_cover_carries_the_key_fingerprint(filled, tmp_path):
    from desktop.exchange.format.keys import fingerprint
    from desktop.storage import KEY_SIGNING, UnitKey

    with open_register(filled, PASSPHRASE) as reg:
        result = print_cover(reg, shipped_forms(), package_id=f"{UNIT_CODE}-a1-20261122-2",
                             sequence=2, created="2026-11-22 10:30")
        with reg.session() as s:
            public = s.execute(select(UnitKey.public_key).where(
                UnitKey.unit_id == reg.own_unit_id, UnitKey.kind == KEY_SIGNING)).scalar_one()
    assert result.pages == 1 and result.records == 5
    text = pdf_text(result.pdf, tmp_path)
    assert squeeze(fingerprint(public)) in squeeze(text)
    flat = squeeze(text)
    for expected in ["数据包封面", UNIT_NAME, f"{UNIT_CODE}-a1-20261122-2", "第2次报送",
                     "附件1律师党员基本信息登记表4条", "附件3党组织基本信息登记表1条", "合计5条",
                     "经办人签字", "报送单位（盖章）"]:
        assert expected in flat, expected
    [code] = decode_qr(result.pdf, tmp_path)
    assert code.startswith(f"DJ1:P:{UNIT_CODE}-A1-20261122-2:")
    with open_register(filled, PASSPHRASE) as reg:
        check = archive_check(reg, shipped_forms(), code)
    assert check.status == "无法核对" and "数据包封面" in check.message


def test_members_listed_apart_print_and_export_on_their_own_table(dengji, db, jsonl, tmp_path,
                                                                   live_firm_records):
    """Case 4 and 5 members (未转入情形) print after 附件4 as the list apart, and export to its own
    sheet, each counted in 人 ([summary.excluded] and counter of forms/lawyer_member.toml)."""
    members = [dict(m) for m in live_firm_records.members]
    members[0].update({"组织关系是否已转入本所党组织": "否", "未转入情形": "4",
                       "处理情况": "已书面报告"})
    assert dengji("import", "--db", db, "--form", "party_org",
                  jsonl([live_firm_records.org], "org.jsonl")).code == 0
    assert dengji("import", "--db", db, "--form", "lawyer_member",
                  jsonl(members, "m.jsonl")).code == 0
    out = tmp_path / "附件4.pdf"
    result = dengji("print", "--db", db, "--form", "lawyer_summary", "--out", out)
    assert result.code == 0, result.err
    text = squeeze(pdf_text(out.read_bytes(), tmp_path))
    assert "合计：3人" in text and "不纳入登记的党员（未转入情形4、5）" in text and "合计：1人" in text
    book = tmp_path / "附件4.xlsx"
    result = dengji("export-excel", "--db", db, "--form", "lawyer_summary", "--out", book)
    assert result.code == 0, result.err
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(book))
    assert "未纳入汇总（情形4、5）" in wb.sheet_names
    cells = [c for row in wb.get_sheet_by_name("未纳入汇总（情形4、5）").to_python() for c in row]
    assert members[0]["姓名"] in cells and "合计：1 人" in cells
    assert any(str(c).startswith("注：公民身份号码和电话号码已部分遮蔽") for c in cells)
