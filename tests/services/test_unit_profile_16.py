"""本单位信息 (issue 16): the unit profile kept in the register, audited; the CLI `dengji unit`.
Every test runs on a file and on PostgreSQL (`db`, tests/services/conftest.py)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from desktop.errors import KnownError, UsageError
from desktop.services.unit import NO_HANDLER, save_unit_profile, unit_profile
from desktop.storage import AuditEntry, open_register
from desktop.storage.tables import Package, utcnow
from tests.conftest import PASSPHRASE, UNIT_CODE, UNIT_NAME
from tests.services.conftest import stored_actor

GOOD_FIRM_CODE = "311301028813998665"


def _audit(reg, action):
    with reg.session() as session:
        return [e for e in session.exec(select(AuditEntry)) if e.action == action]


def test_profile_starts_with_the_unit_and_no_people(db):
    with open_register(db, PASSPHRASE) as reg:
        p = unit_profile(reg)
    assert (p.code, p.name, p.level) == (UNIT_CODE, UNIT_NAME, "firm")
    assert (p.handler, p.approver, p.filler, p.phone) == ("", "", "", "")
    assert p.actor == NO_HANDLER and p.missing == ("经办人", "审批人", "填报人", "联系方式")


def test_names_are_saved_and_audited_without_the_people_in_the_log(db, forms):
    with open_register(db, PASSPHRASE) as reg:
        p = save_unit_profile(reg, "张三", {"handler": " 张三 ", "approver": "李四",
                                           "phone": "010-12345678", "name": "北京市新名律师事务所党支部"},
                              tables=forms.tables)
        assert (p.handler, p.approver, p.phone) == ("张三", "李四", "010-12345678")
        again = unit_profile(reg)
        assert again == p and again.actor == "张三"
        (entry,) = _audit(reg, "unit.profile")
        detail = json.loads(entry.detail)
        assert entry.actor == stored_actor(reg, "张三")
        assert detail["name"] == {"old": UNIT_NAME, "new": "北京市新名律师事务所党支部"}
        assert sorted(detail["changed"]) == sorted(["单位名称", "经办人", "审批人", "联系方式"])
        assert "李四" not in entry.detail and "12345678" not in entry.detail
        # saving the same values again changes nothing and logs nothing
        save_unit_profile(reg, "张三", {"handler": "张三"}, tables=forms.tables)
        assert len(_audit(reg, "unit.profile")) == 1


def test_bad_changes_are_refused_and_change_nothing(db, forms):
    with open_register(db, PASSPHRASE) as reg:
        before = unit_profile(reg)
        with pytest.raises(KnownError, match="单位名称.*不能为空"):
            save_unit_profile(reg, "x", {"name": "  ", "handler": "张三"}, tables=forms.tables)
        with pytest.raises(UsageError):
            save_unit_profile(reg, "x", {"password": "1"}, tables=forms.tables)
        with pytest.raises(KnownError, match="校验位"):
            save_unit_profile(reg, "x", {"code": "311301028813998660"}, tables=forms.tables)
        with pytest.raises(KnownError, match="31"):
            save_unit_profile(reg, "x", {"code": "91110108MA01C2DE3R"}, tables=forms.tables)
        assert unit_profile(reg) == before and not _audit(reg, "unit.profile")


def test_code_can_be_corrected_until_a_package_was_sent(db, forms):
    with open_register(db, PASSPHRASE) as reg:
        p = save_unit_profile(reg, "张三", {"code": GOOD_FIRM_CODE}, tables=forms.tables)
        assert p.code == GOOD_FIRM_CODE
        detail = json.loads(_audit(reg, "unit.profile")[0].detail)
        assert detail["code"] == {"old": UNIT_CODE, "new": GOOD_FIRM_CODE}
        with reg.session() as session:
            session.add(Package(id="p1", kind="registration", direction="sent",
                                sender_code=GOOD_FIRM_CODE, sender_name=p.name, sender_level="firm",
                                recipient_code="110100", recipient_fingerprint="x", sequence=1,
                                created=utcnow(), file_name="a.dengjipkg", file_sha256="0",
                                signer_fingerprint="x"))
            session.commit()
        with pytest.raises(KnownError, match="不能再改"):
            save_unit_profile(reg, "张三", {"code": "31110000MD0123456Y"}, tables=forms.tables)
        # the name still can be corrected
        assert save_unit_profile(reg, "张三", {"name": "新名称"}, tables=forms.tables).name == "新名称"
        assert unit_profile(reg).code == GOOD_FIRM_CODE


def test_cli_unit_shows_and_sets(dengji, db):
    shown = dengji("unit", "--db", db)
    assert shown.code == 0 and "经办人：（未填写）" in shown.out and UNIT_NAME in shown.out
    result = dengji("unit", "--db", db, "--handler", "王敏", "--approver", "赵六",
                    "--filler", "王敏", "--phone", "13800000000")
    assert result.code == 0, result.err
    assert "经办人：王敏" in result.out and "联系方式：13800000000" in result.out
    refused = dengji("unit", "--db", db, "--code", "12345")
    assert refused.code != 0 and "18 位" in refused.err and "Traceback" not in refused.err
    with open_register(db, PASSPHRASE) as reg:
        (entry,) = _audit(reg, "unit.profile")
        assert entry.actor == stored_actor(reg, "王敏")
        assert unit_profile(reg).code == UNIT_CODE


def test_a_printed_summary_header_names_the_filler_of_the_profile(db, forms, tmp_path):
    from desktop.progress import run
    from desktop.services.printing import print_tables
    from tests.reports.test_pdf_helpers import pdf_text, squeeze

    with open_register(db, PASSPHRASE) as reg:
        save_unit_profile(reg, "王敏", {"filler": "王敏", "phone": "13800000000"},
                          tables=forms.tables)
        table = next(iter(forms.summaries))
        result = run(print_tables(reg, forms, table, preview=True))
        text = squeeze(pdf_text(result.pdf, tmp_path))
        assert "王敏" in text and "13800000000" in text
        # given on the command line, the names given win
        result = run(print_tables(reg, forms, table, preview=True, filler="赵六",
                                  contact="010-12345678"))
        text = squeeze(pdf_text(result.pdf, tmp_path))
        assert "赵六" in text and "王敏" not in text
