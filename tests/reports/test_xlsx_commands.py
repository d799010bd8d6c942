"""`dengji export-excel` and `dengji template` as a clerk runs them."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from desktop.storage import AuditEntry, open_register
from tests.conftest import PASSPHRASE, assert_no_crash

#: a register with records, read to write the workbooks, on both stores (tests/reports/conftest.py)
BOTH_STORES = {"test_export_with_records_masked_then_full"}

TARGETS = ["lawyer_member", "staff_member", "party_org", "society_member", "lawyer_summary",
           "staff_summary", "org_summary"]


def audit_details(db) -> list[dict]:
    with open_register(db, PASSPHRASE) as reg, reg.session() as session:
        rows = session.execute(select(AuditEntry.action, AuditEntry.detail)
                               .order_by(AuditEntry.seq)).all()
    return [dict(json.loads(detail), action=action) for action, detail in rows]


@pytest.mark.parametrize("target", TARGETS)
def test_every_table_exports_even_when_empty(dengji, db, tmp_path, target):
    out = tmp_path / f"{target}.xlsx"
    result = dengji("export-excel", "--db", db, "--form", target, "--out", out)
    assert result.code == 0, result.err
    assert "已导出" in result.err and "0 条记录" in result.err
    wb = load_workbook(out)
    assert wb.worksheets[0]["A1"].value.startswith(("附件", "法学会"))
    assert audit_details(db)[-1]["action"] == "export_excel"


def test_export_with_records_masked_then_full(dengji, db, tmp_path, jsonl, live_firm_records):
    assert dengji("import", "--db", db, "--form", "party_org",
                  jsonl([live_firm_records.org], "org.jsonl")).code == 0
    assert dengji("import", "--db", db, "--form", "lawyer_member",
                  jsonl(live_firm_records.members)).code == 0
    out = tmp_path / "附件4.xlsx"
    result = dengji("export-excel", "--db", db, "--form", "lawyer_summary", "--out", out)
    assert result.code == 0 and "4 条记录" in result.err and "部分遮蔽" in result.err
    cells = [c.value for row in load_workbook(out)["附件4"].iter_rows() for c in row]
    ids = {m["公民身份号码"] for m in live_firm_records.members}
    assert not ids & set(cells)
    assert any(isinstance(v, str) and "填报人：王敏" in v for v in cells)  # from 附件3

    result = dengji("export-excel", "--db", db, "--form", "lawyer_summary", "--out", out,
                    "--full")
    assert result.code == 0 and "记入操作日志" in result.err
    cells = [c.value for row in load_workbook(out)["附件4"].iter_rows() for c in row]
    assert ids <= set(cells)
    last = audit_details(db)[-1]
    assert last["full"] is True and last["records"] == 4


def test_export_usage_errors(dengji, db, tmp_path):
    result = dengji("export-excel", "--db", db, "--form", "lawyer_summary", "--out",
                    tmp_path / "x.pdf")
    assert result.code == 2 and ".xlsx" in result.err
    result = dengji("export-excel", "--db", db, "--form", "附件4", "--out", tmp_path / "x.xlsx")
    assert result.code == 2
    result = dengji("export-excel", "--db", db, "--form", "lawyer_summary", "--out",
                    tmp_path / "missing" / "x.xlsx")
    assert_no_crash(result)
    assert result.code == 1 and "文件夹不存在" in result.err
    result = dengji("export-excel", "--db", tmp_path / "none.dengji", "--form", "org_summary",
                    "--out", tmp_path / "x.xlsx")
    assert result.code == 2


def test_template_command(dengji, tmp_path):
    out = tmp_path / "附件1模板.xlsx"
    result = dengji("template", "--form", "lawyer_member", "--out", out)
    assert result.code == 0 and "填写模板" in result.err
    assert load_workbook(out).worksheets[0]["A1"].value == "姓名"
    assert dengji("template", "--form", "lawyer_member", "--out", tmp_path / "t.txt").code == 2
    assert dengji("template", "--form", "lawyer_summary", "--out", out).code == 2
