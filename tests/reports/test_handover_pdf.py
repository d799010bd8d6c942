"""The 移交清单 as a rendered PDF (reports/pdf/handover.py): what it states, read back with
pdftotext; A4 with the embedded font; a long list of trusted units continues over pages with
its header repeated and the signatures at the end; long names wrap inside the page."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from desktop.domain.states import RECORD_STATES, WORDS
from desktop.reports.pdf.handover import (
    FormCount,
    HandoverFacts,
    ReturnedBelow,
    SentPackage,
    TrustedUnit,
    handover_pdf,
)
from desktop.reports.pdf.page import MARGIN_X
from tests.reports.test_pdf_helpers import (
    page_count,
    page_size,
    pdf_fonts,
    pdf_text,
    squeeze,
    words,
)

OWN_FP = " ".join(f"{i:X}{i:X}0{i % 10}" for i in range(16))
CITY_FP = " ".join(f"C{i:X}7{i % 10}" for i in range(16))
MADE = datetime(2026, 12, 7, 2, 30, tzinfo=UTC)


def _counts(*n: int) -> tuple[tuple[str, int], ...]:
    return tuple(zip(RECORD_STATES, n, strict=True))


def firm_facts(**changes) -> HandoverFacts:
    facts = HandoverFacts(
        unit_name="中共北京市某某律师事务所支部委员会", unit_code="31110000MD01234564",
        level="firm", register_file="支部.dengji", made_at=MADE, handler="张三",
        own_records=(FormCount("lawyer_member", "附件1 律师党员基本信息登记表",
                               _counts(3, 17, 29, 2, 0)),
                     FormCount("party_org", "附件3 律师事务所党组织基本信息登记表",
                               _counts(0, 0, 1, 0, 0))),
        received_records=(), packages_sent=4,
        last_sent=SentPackage("0193a5b2-7c1d-7f00-8a00-1234567890ab", 4, MADE,
                              "北京市律师行业党委（11000000CITY00001X）", 30),
        notes_to_answer=5, returned_below=(), open_conflicts=0,
        trusted=(TrustedUnit("北京市律师行业党委", "11000000CITY00001X", "city", CITY_FP),),
        fingerprint=OWN_FP, recovery_key_id="3FA9C2D1", recovery_made_at=MADE,
        audit_entries=412, audit_head="412:" + "ab12" * 16, from_name="张三", to_name="李四")
    return replace(facts, **changes)


def test_the_checklist_states_what_was_handed_over(tmp_path):
    pdf, pages = handover_pdf(firm_facts(), "打印日期：2026-12-07")
    assert pages == 1 == page_count(pdf, tmp_path)
    text = squeeze(pdf_text(pdf, tmp_path))
    for expected in ("登记库移交清单", "中共北京市某某律师事务所支部委员会", "31110000MD01234564",
                     "律师事务所党组织", "支部.dengji", "移交人（原经办人）张三",
                     "接收人（新经办人）李四",
                     # records per form and state: the states' words head the columns
                     "附件1律师党员基本信息登记表317292051",
                     "附件3律师事务所党组织基本信息登记表001001", "合计317302052",
                     "第4次报送（共导出4次）", "30条记录", "北京市律师行业党委（11000000CITY00001X）",
                     "0193a5b2-7c1d-7f00-8a00-1234567890ab",
                     "5条待答复", "未处理的冲突无",
                     squeeze(OWN_FP), squeeze(CITY_FP), "编号3FA9C2D1",
                     "共412条，末条为第412条，校验值AB12AB12AB12AB12",
                     "移交人签字", "接收人签字", "监交人签字", "单位（盖章）", "盖章处",
                     "打印日期：2026-12-07", "第1页共1页"):
        assert squeeze(expected) in text, expected
    for state in RECORD_STATES:
        assert squeeze(WORDS[state]) in text
    # the clerks' names are printed in their own signature cells, under the cell's label
    found = {w.text: w for w in words(pdf, tmp_path)}
    giver, taker = found["（张三）"], found["（李四）"]
    left, middle, right = (found[f"{who}签字："] for who in ("移交人", "接收人", "监交人"))
    assert left.x0 <= giver.x0 < middle.x0 <= taker.x0 < right.x0
    assert giver.y0 > left.y1 and taker.y0 > middle.y1  # top-down: below the label


def test_a4_with_the_font_embedded(tmp_path):
    pdf, _ = handover_pdf(firm_facts(), "打印日期：2026-12-07")
    assert page_size(pdf, tmp_path) == pytest.approx((595.3, 841.9), abs=0.5)
    fonts = pdf_fonts(pdf, tmp_path)
    assert fonts and all(f.embedded for f in fonts)


def test_nothing_done_yet_is_said_so(tmp_path):
    facts = firm_facts(own_records=(), last_sent=None, packages_sent=0, notes_to_answer=0,
                       trusted=(), recovery_key_id=None, recovery_made_at=None,
                       audit_head="", audit_entries=0)
    text = squeeze(pdf_text(handover_pdf(facts, "")[0], tmp_path))
    for expected in ("登记库中还没有任何记录", "本单位尚未导出过上报数据包", "尚未信任任何单位的公钥",
                     "尚未生成恢复密钥", "上级退回意见无"):
        assert expected in text, expected


def test_a_city_lists_every_firm_over_pages_with_the_header_repeated(tmp_path):
    firms = tuple(TrustedUnit(f"北京市第{i:03d}律师事务所党支部", f"3111000{i:04d}MD0123X",
                              "firm", CITY_FP) for i in range(60))
    returned = (ReturnedBelow("北京市某退回律师事务所党支部", "31110000999MD0123X", 3),)
    facts = firm_facts(level="city", trusted=firms, returned_below=returned, open_conflicts=2,
                       received_records=(FormCount("lawyer_member", "附件1 律师党员基本信息登记表",
                                                   _counts(0, 0, 0, 1, 240)),))
    pdf, pages = handover_pdf(facts, "打印日期：2026-12-07")
    assert pages > 2 and page_count(pdf, tmp_path) == pages
    whole = squeeze(pdf_text(pdf, tmp_path))
    for i in range(60):  # every firm exactly once
        assert whole.count(f"北京市第{i:03d}律师事务所党支部3111000{i:04d}MD0123X") == 1, i
    assert "本单位录入：附件1律师党员基本信息登记表" in whole
    assert "下级单位报送：附件1律师党员基本信息登记表0001240241" in whole
    assert "1个，等待下级重新报送" in whole and "北京市某退回律师事务所党支部31110000999MD0123X第3次" in whole
    assert "2个（上报→冲突…中处理）" in whole
    for n in range(2, pages + 1):
        page = squeeze(pdf_text(pdf, tmp_path, page=n))
        assert f"第{n}页共{pages}页" in page
        if n < pages or "律师事务所党支部3111" in page:
            assert page.count("公钥指纹（SHA-256）") == 1, n  # the table's header, repeated
    last = squeeze(pdf_text(pdf, tmp_path, page=pages))
    assert "监交人签字" in last and "双方核对以上内容无误后签字" in last
    assert "监交人签字" not in squeeze(pdf_text(pdf, tmp_path, page=pages - 1))


def test_long_names_wrap_inside_the_page(tmp_path):
    long_unit = "中共" + "北京市朝阳区某某某某某某某某某某律师事务所" * 4 + "联合支部委员会"
    facts = firm_facts(unit_name=long_unit, from_name="欧阳" + "某" * 60, to_name="Li" * 50,
                       trusted=(TrustedUnit(long_unit, "31110000MD01234564", "firm",
                                            CITY_FP),))
    pdf, _ = handover_pdf(facts, "打印日期：2026-12-07")
    width, _ = page_size(pdf, tmp_path)
    for w in words(pdf, tmp_path):
        assert MARGIN_X - 2 <= w.x0 and w.x1 <= width - MARGIN_X + 2, w
    text = squeeze(pdf_text(pdf, tmp_path))
    assert squeeze(long_unit) in text


def test_the_same_facts_give_the_same_bytes():
    assert handover_pdf(firm_facts(), "x")[0] == handover_pdf(firm_facts(), "x")[0]
