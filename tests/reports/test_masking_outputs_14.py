"""No masked output gives an ID number back (issue 14): for generated people, every masked
output the program writes — the window's list rows, each workbook of export-excel, each PDF of
print (read back with pdftotext) — is searched for the full number and for the 8 birth digits
in any layout. Reconstructing a number from a masked output must fail; the full outputs
(--full) are the control that shows the search finds them."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from desktop.domain.masking import mask_id
from desktop.formspec import shipped_forms
from desktop.services.listing import fetch_rows, load_index
from desktop.storage import open_register
from tests.conftest import PASSPHRASE, as_staff, make_firm_records

MEMBERS = 10
#: the window's list rows on both stores (tests/reports/conftest.py); the workbooks and PDFs
#: of both stores are compared in test_outputs_both_stores.py
BOTH_STORES = {"test_list_rows_give_no_number_back"}


@pytest.fixture
def people(dengji, db, jsonl) -> list[dict]:
    records = make_firm_records(seed=1414, members=MEMBERS, today=date.today())
    staff = [as_staff(m) for m in make_firm_records(seed=1415, members=3,
                                                   today=date.today()).members]
    staff = [dict(s, 所在律师事务所=records.firm.name, 所在律师事务所统一社会信用代码=records.firm.uscc)
             for s in staff]
    for form, rows in (("party_org", [records.org]), ("lawyer_member", records.members),
                       ("staff_member", staff)):
        result = dengji("import", "--db", db, "--form", form, jsonl(rows, f"{form}.jsonl"))
        assert result.code == 0, result.err
    return records.members + staff


def birth_layouts(born: str) -> list[str]:
    """The ways a birth date can be printed (ISO, compact, dotted, slashed, Chinese)."""
    y, m, d = born.split("-")
    return [f"{y}-{m}-{d}", f"{y}{m}{d}", f"{y}.{m}.{d}", f"{y}/{m}/{d}",
            f"{y}年{int(m)}月{int(d)}日", f"{y}年{m}月{d}日", f"{y}-{int(m)}-{int(d)}"]


def leaks(text: str, people: list[dict]) -> list[str]:
    """What of each person's number `text` gives back: the number itself, or its birth date
    written out in full (with the masked number in the same output, that is the number)."""
    flat = re.sub(r"\s+", "", text)
    found = []
    for p in people:
        number, born = p["公民身份号码"], p["出生日期"]
        if number in flat or number.lower() in flat:
            found.append(f"{p['姓名']}: full number")
        if mask_id(number) in flat and any(b in flat for b in birth_layouts(born)):
            found.append(f"{p['姓名']}: masked number with the full birth date {born}")
        elif any(b in flat for b in birth_layouts(born)):
            found.append(f"{p['姓名']}: full birth date {born}")
    return found


def xlsx_text(path: Path) -> str:
    wb = CalamineWorkbook.from_path(str(path))
    return "\n".join("\t".join(str(c) for c in row)
                     for name in wb.sheet_names for row in wb.get_sheet_by_name(name).to_python())


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


FORMS = ["lawyer_member", "staff_member", "lawyer_summary", "staff_summary"]


def masked_and_full(dengji, db, people, tmp_path, command, form, suffix, read) -> None:
    """`command` (export-excel or print) of `form`, masked: no number given back, though the
    masked numbers are there (the search looks at the right place); with --full the same
    search finds the numbers (it would find a leak)."""
    out, full = tmp_path / f"{form}{suffix}", tmp_path / f"{form}-full{suffix}"
    assert dengji(command, "--db", db, "--form", form, "--out", out).code == 0
    text = read(out)
    assert leaks(text, people) == []
    shown = [p for p in people if mask_id(p["公民身份号码"]) in re.sub(r"\s+", "", text)]
    assert len(shown) == (MEMBERS if form.startswith("lawyer") else 3)
    assert dengji(command, "--db", db, "--form", form, "--out", full, "--full").code == 0
    assert len(leaks(read(full), people)) >= len(shown)


@pytest.mark.parametrize("form", FORMS)
def test_export_excel_masked_gives_no_number_back(dengji, db, people, tmp_path, form):
    masked_and_full(dengji, db, people, tmp_path, "export-excel", form, ".xlsx", xlsx_text)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler) not installed")
@pytest.mark.parametrize("form", FORMS)
def test_print_masked_gives_no_number_back(dengji, db, people, tmp_path, form):
    masked_and_full(dengji, db, people, tmp_path, "print", form, ".pdf", pdf_text)


def test_list_rows_give_no_number_back(db, people):
    forms = shipped_forms()
    with open_register(db, PASSPHRASE) as reg:
        for form_id in ("lawyer_member", "staff_member"):
            form = forms.form(form_id)
            index = load_index(reg, form, reg.own_unit_id)
            rows = fetch_rows(reg, forms, form, index.rowids, issues=False)
            assert rows
            for info in rows.values():
                row = " ".join(str(v) for v in (info.name, info.id_text, info.phone_text))
                assert leaks(row, people) == [], row
                assert "*" in info.id_text
