"""What a record page prints and the print hash over it (desktop/reports/pdf_content.py)."""

from __future__ import annotations

import pytest

from desktop.domain.context import Environment
from desktop.domain.identifiers import mask_id, mask_phone
from desktop.domain.validation import Validator
from desktop.errors import UsageError
from desktop.formspec import load_forms
from desktop.reports.pdf.content import is_wide, printed_record
from desktop.reports.pdf.qr import page_code, parse_code
from tests.conftest import TODAY

RID = "6f1c2a3b-1234-4abc-8def-0123456789ab"


@pytest.fixture
def lawyer(forms, firm_records):
    form = forms.form("lawyer_member")
    values, findings = Validator(form, Environment(today=TODAY)).parse(firm_records.members[0])
    assert not [f for f in findings if f.severity == "E"]
    return form, values


def _texts(rec):
    return {f.id: f.text for s in rec.sections for f in s.fields}


def test_the_page_shows_every_field_in_form_order_grouped_by_section(lawyer):
    form, values = lawyer
    rec = printed_record(form, RID, values)
    assert [s.label for s in rec.sections] == [s.label for s in form.sections]
    assert [f.id for s in rec.sections for f in s.fields] == [f.id for f in form.fields]
    texts = _texts(rec)
    assert texts["sex"] in ("男", "女")  # codes print as labels
    assert texts["transferred"] == "是"
    assert texts["remarks"] == ""  # empty fields are printed (as blanks) and hashed


def test_ids_and_phones_are_masked_unless_full(lawyer):
    form, values = lawyer
    masked = _texts(printed_record(form, RID, values))
    full = _texts(printed_record(form, RID, values, masked=False))
    assert masked["id_number"] == mask_id(values["id_number"]) != values["id_number"]
    assert masked["mobile"] == mask_phone(values["mobile"]) != values["mobile"]
    assert masked["landline"] == mask_phone(values["landline"])
    assert full["id_number"] == values["id_number"]
    assert full["mobile"] == values["mobile"]
    assert masked["licence"] == full["licence"] == values["licence"]  # not a masked field


def test_any_printed_change_changes_the_hash(lawyer):
    form, values = lawyer
    base = printed_record(form, RID, values).digest
    assert len(base) == 16 and int(base, 16) >= 0 and base == base.upper()
    assert printed_record(form, RID, dict(values)).digest == base  # stable
    for field_id, new in [("name", "张三丰"), ("address", values["address"] + "甲"),
                          ("remarks", "补充说明"), ("sex", "2" if values["sex"] == "1" else "1")]:
        assert printed_record(form, RID, dict(values, **{field_id: new})).digest != base, field_id
    other_id = RID.replace("6f", "7f")
    assert printed_record(form, other_id, values).digest != base
    assert printed_record(form, RID, values, masked=False).digest != base


def test_a_change_hidden_by_the_mask_does_not_change_the_masked_hash(lawyer):
    """The hash covers what the page prints: the masked middle of an ID is not on the page."""
    form, values = lawyer
    mobile = values["mobile"]
    changed = mobile[:4] + ("0" if mobile[4] != "0" else "1") + mobile[5:]
    assert printed_record(form, RID, dict(values, mobile=changed)).digest == \
        printed_record(form, RID, values).digest
    assert printed_record(form, RID, dict(values, mobile=changed), masked=False).digest != \
        printed_record(form, RID, values, masked=False).digest


def test_moving_a_value_to_another_field_changes_the_hash(lawyer):
    form, values = lawyer
    a = dict(values, remarks="甲", handling=None)
    b = dict(values, remarks=None, handling="甲")
    assert printed_record(form, RID, a).digest != printed_record(form, RID, b).digest


def test_the_serialisation_is_pinned():
    """Paper in the archive carries hashes made with this serialisation: changing it by
    accident would turn every archived page 不一致. Change HASH_FORMAT with it on purpose."""
    import hashlib

    from desktop.reports.pdf.content import PrintedField, PrintedSection, content_digest

    literal = '["dengji-print-1","R","f","1","id",[["a","甲"],["b",""],["g",[["x","y"]]]]]'
    expected = hashlib.sha256(literal.encode("utf-8")).hexdigest()[:16].upper()
    sections = (PrintedSection("一", (PrintedField("a", "A", "甲", False),
                                     PrintedField("b", "B", "", False))),
                PrintedSection("二", (PrintedField("g", "G", "", True, ("X", "Y"),
                                                   (("x", "y"),)),)))
    assert content_digest("f", "1", "id", sections) == expected == "23DA95C1AE32ADA0"


def test_group_rows_print_as_a_table_and_count_in_the_hash(forms, firm_records):
    form = forms.form("party_org")
    values, _ = Validator(form, Environment(today=TODAY)).parse(firm_records.org)
    rec = printed_record(form, RID, values)
    firms = next(f for s in rec.sections for f in s.fields if f.id == "firms")
    assert firms.columns == ("名称", "统一社会信用代码", "组织形式")
    assert firms.rows[0][0] == firm_records.firm.name
    assert firms.rows[0][2] == "普通合伙"
    more = dict(values, firms=values["firms"] * 2)
    assert printed_record(form, RID, more).digest != rec.digest


def test_a_field_added_in_toml_is_printed(tmp_path, lawyer):
    import shutil

    from desktop.paths import forms_dir

    folder = tmp_path / "forms"
    shutil.copytree(forms_dir(), folder)
    with (folder / "lawyer_member.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[[fields]]\nid = "wechat"\nlabel = "微信号"\nsection = "personal"\n'
                 'type = "text"\n')
    form = load_forms(folder).form("lawyer_member")
    _, values = lawyer
    rec = printed_record(form, RID, dict(values, wechat="zhang_88"))
    personal = rec.sections[0]
    assert ("微信号", "zhang_88") in [(f.label, f.text) for f in personal.fields]
    assert rec.digest != printed_record(form, RID, values).digest
    # and on paper
    from desktop.progress import run
    from desktop.reports.pdf.record import records_pdf
    from tests.reports.test_pdf_helpers import pdf_text, squeeze

    pdf, _ = run(records_pdf([(rec, "某单位")], "打印日期", "t"))
    assert "微信号zhang_88" in squeeze(pdf_text(pdf, tmp_path))


def test_wide_cells_come_from_the_form(forms):
    form = forms.form("lawyer_member")
    assert is_wide(form.field("address")) and is_wide(form.field("remarks"))
    assert not is_wide(form.field("name")) and not is_wide(form.field("id_number"))
    assert is_wide(forms.form("party_org").field("firms"))


@pytest.mark.parametrize("text", [
    "DJ1:R:6F1C2A3B-1234-4ABC-8DEF-0123456789AB:E37E544C20971A30",
    "QR-Code:DJ1:R:6F1C2A3B-1234-4ABC-8DEF-0123456789AB:E37E544C20971A30\n",
    "dj1 r 6f1c2a3b-1234-4abc-8def-0123456789ab e37e544c20971a30",
])
def test_a_code_reads_back_however_it_was_typed(text):
    code = parse_code(text)
    assert code == page_code("R", RID, "e37e544c20971a30")
    assert code.text == "DJ1:R:6F1C2A3B-1234-4ABC-8DEF-0123456789AB:E37E544C20971A30"


@pytest.mark.parametrize("text", ["", "hello", "DJ1:R:abc:123", "DJ1:X:abc:E37E544C20971A30"])
def test_a_code_that_is_not_ours_is_refused_in_chinese(text):
    with pytest.raises(UsageError, match="无法识别二维码"):
        parse_code(text)
