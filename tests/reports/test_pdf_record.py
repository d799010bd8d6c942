"""Record pages (附件1/2/3) laid out like the paper form: text, fonts, pages, QR, no overflow."""

from __future__ import annotations

import pytest

from desktop.domain.context import Environment
from desktop.domain.validation import Validator
from desktop.progress import run
from desktop.reports.pdf.content import printed_record
from desktop.reports.pdf.page import MARGIN_X
from desktop.reports.pdf.record import GRID_W, PAGE_H, PAGE_W, records_pdf
from tests.conftest import TODAY, as_staff
from tests.reports.test_pdf_helpers import (
    decode_qr,
    page_count,
    page_size,
    pdf_fonts,
    pdf_text,
    squeeze,
    words,
)

RID = "6f1c2a3b-1234-4abc-8def-0123456789ab"
UNIT = "中共北京市测试律师事务所支部委员会"
NOTE = "打印日期：2026-11-22　身份证号码、电话号码已遮蔽"


def _values(forms, form_id, raw):
    form = forms.form(form_id)
    values, findings = Validator(form, Environment(today=TODAY)).parse(raw)
    assert not [f for f in findings if f.severity == "E"], findings
    return form, values


def _pdf(*records):
    return run(records_pdf([(r, UNIT) for r in records], NOTE, "测试"))


@pytest.fixture
def lawyer(forms, firm_records):
    return _values(forms, "lawyer_member", firm_records.members[0])


def test_a_lawyer_page_reads_like_the_paper_form(lawyer, tmp_path):
    form, values = lawyer
    pdf, pages = _pdf(printed_record(form, RID, values))
    assert pages == 1 == page_count(pdf, tmp_path)
    assert page_size(pdf, tmp_path) == pytest.approx((595.28, 841.89), abs=0.1)  # A4 portrait
    text = squeeze(pdf_text(pdf, tmp_path))
    for expected in ["附件1", "律师党员基本信息登记表", f"填报单位：{UNIT}", "填表日期",
                     "个人基本信息", "执业信息", "党员信息",  # section bands read top-down
                     "姓名", values["name"], "公民身份号码", "律师执业证号", values["licence"],
                     "本人签字", "党支部书记签字", "党组织（盖章）", "盖章处", "年月日",
                     "第1页共1页", "身份证号码、电话号码已遮蔽"]:
        assert squeeze(expected) in text, expected
    assert values["id_number"] not in text and values["id_number"][:6] + "********" in text
    assert values["mobile"] not in text


def test_the_font_is_embedded_as_a_subset_and_nothing_else_is_used(lawyer, tmp_path):
    form, values = lawyer
    pdf, _ = _pdf(printed_record(form, RID, values))
    fonts = pdf_fonts(pdf, tmp_path)
    assert fonts and all(f.embedded and f.subset and f.type == "TrueType" for f in fonts)
    assert all("WenQuanYiMicroHei" in f.name for f in fonts)


def test_the_qr_code_decodes_to_the_record_id_and_its_hash(lawyer, tmp_path):
    form, values = lawyer
    rec = printed_record(form, RID, values)
    pdf, _ = _pdf(rec)
    line = f"DJ1:R:{RID.upper()}:{rec.digest}"
    assert decode_qr(pdf, tmp_path, dpi=80) == [line]  # at the preview resolution, too
    assert line in squeeze(pdf_text(pdf, tmp_path))  # the same line printed under it


def test_long_values_wrap_or_shrink_inside_their_cells(lawyer, tmp_path):
    form, values = lawyer
    long_address = "河北省石家庄市长安区建设北大街某某小区一期二号楼三单元一千二百零一室" * 3
    values = dict(values, address=long_address, firm="北京市" + "某" * 60 + "律师事务所",
                  org_name="中共" + "很长的名称" * 15 + "支部委员会", remarks="备注" * 240)
    pdf, pages = _pdf(printed_record(form, RID, values))
    found = words(pdf, tmp_path)
    assert found
    for w in found:  # nothing crosses the grid's edges or the page
        assert MARGIN_X - 1 <= w.x0 and w.x1 <= MARGIN_X + GRID_W + 1, w
        assert 0 <= w.y0 and w.y1 <= PAGE_H, w
    text = squeeze(pdf_text(pdf, tmp_path))
    assert squeeze(long_address) in text  # every character printed, in order
    assert "备注" * 240 in text
    assert text.count("第") >= pages


def test_a_record_too_long_for_a_page_continues_with_page_numbers(forms, firm_records, tmp_path):
    form, values = _values(forms, "party_org", firm_records.org)
    firms = [dict(values["firms"][0], name=f"第{i}号合作律师事务所（特殊的普通合伙）")
             for i in range(1, 31)]
    rec = printed_record(form, RID, dict(values, firms=firms))
    pdf, pages = _pdf(rec)
    assert pages >= 2 and page_count(pdf, tmp_path) == pages
    texts = [squeeze(pdf_text(pdf, tmp_path, page=p)) for p in range(1, pages + 1)]
    for n, text in enumerate(texts, start=1):
        assert f"第{n}页共{pages}页" in text
        assert ("党组织基本信息登记表（续）" in text) == (n > 1)
        assert ("填表人签字" in text) == (n == pages)  # the signatures close the record
    for i in range(1, 31):
        assert f"第{i}号合作律师事务所" in "".join(texts)
    codes = decode_qr(pdf, tmp_path)
    assert codes == [f"DJ1:R:{RID.upper()}:{rec.digest}"] * pages


def test_several_records_number_their_pages_through_the_document(forms, firm_records, tmp_path):
    lawyer_form, a = _values(forms, "lawyer_member", firm_records.members[0])
    staff_form, b = _values(forms, "staff_member", as_staff(firm_records.members[1]))
    org_form, c = _values(forms, "party_org", firm_records.org)
    recs = [printed_record(lawyer_form, RID, a),
            printed_record(staff_form, RID.replace("6f", "7f"), b),
            printed_record(org_form, RID.replace("6f", "8f"), c)]
    pdf, pages = _pdf(*recs)
    assert pages == 3
    for n, title in enumerate(["律师党员基本信息登记表", "律师事务所工作人员党员基本信息登记表",
                               "党组织基本信息登记表"], start=1):
        page = squeeze(pdf_text(pdf, tmp_path, page=n))
        assert title in page and f"第{n}页共3页" in page
    assert "党组织书记签字" in squeeze(pdf_text(pdf, tmp_path, page=3))
    assert decode_qr(pdf, tmp_path) == [f"DJ1:R:{r.record_id.upper()}:{r.digest}" for r in recs]


def test_an_empty_record_still_prints_its_grid(forms, tmp_path):
    form = forms.form("lawyer_member")
    pdf, pages = _pdf(printed_record(form, RID, {}))
    assert pages == 1
    text = squeeze(pdf_text(pdf, tmp_path))
    assert all(squeeze(f.label) in text for f in form.fields)
    assert PAGE_W > 0
