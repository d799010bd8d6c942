"""A large .xlsx sheet read in parts on several workers (services/sheetparts.py) says exactly
what a read of the whole sheet says, at the same cells, and imports the same records; what the
part reader cannot read is read whole."""

from __future__ import annotations

import re

import pytest
from openpyxl import Workbook

from desktop.errors import UsageError
from desktop.progress import run
from desktop.reports.xlsx.columns import column_letter
from desktop.reports.xlsx.parts import Unusable
from desktop.services.intake import parts as sheetparts
from desktop.services.intake import rowcheck
from desktop.services.intake import workbook as excel
from desktop.services.intake.importing import import_file
from desktop.services.intake.workbook import check_workbook
from desktop.storage import open_register
from tests.conftest import (
    PASSPHRASE,
    TODAY,
    UNIT_CODE,
    UNIT_NAME,
    make_firm_records,
    stored_data,
)
from tests.reports.test_xlsx_parts import rewrite
from tests.services.test_speedpath_sheet import summary, tricky_book
from tests.stores import is_server


@pytest.fixture
def in_parts(monkeypatch):
    """Read every sheet in many small parts, on two workers; returns the parts read."""
    seen = []
    monkeypatch.setattr(sheetparts, "SPLIT_FROM_BYTES", 1)
    monkeypatch.setattr(sheetparts, "PARTS_PER_WORKER", 6)
    monkeypatch.setattr(rowcheck, "workers", lambda: 2)
    real = sheetparts.parallel_parts

    def counted(read, *args, **kwargs):
        seen.append(read)
        return (yield from real(read, *args, **kwargs))

    monkeypatch.setattr(sheetparts, "parallel_parts", counted)
    return seen


def read_whole(forms, form, path, **kwargs):
    saved = sheetparts.SPLIT_FROM_BYTES
    sheetparts.SPLIT_FROM_BYTES = 1 << 40
    try:
        return run(check_workbook(forms, form, path, today=TODAY, **kwargs))
    finally:
        sheetparts.SPLIT_FROM_BYTES = saved


def columns(results):
    return [(c.index, c.letter, c.header, c.path) for c in results[0].layout.columns]


@pytest.mark.parametrize("fork", [True, False])
def test_parts_say_the_same_at_the_same_cells(forms, tmp_path, monkeypatch, in_parts, fork):
    monkeypatch.setattr(rowcheck, "use_fork", lambda: fork)
    path = tricky_book(tmp_path / "名册.xlsx")
    form = forms.form("lawyer_member")
    whole = read_whole(forms, form, path)
    parts = run(check_workbook(forms, form, path, today=TODAY))
    assert in_parts and in_parts[-1].size < path.stat().st_size
    assert summary(parts) == summary(whole)
    assert columns(parts) == columns(whole)
    codes = {f.code for r in parts for f in r.findings}
    assert {"xlsx_number_rounded", "xlsx_extra_column", "xlsx_duplicate_column",
            "xlsx_rows_after_foot", "xlsx_birth_from_id"} <= codes


def long_book(path, *, foot_at=None, late_extra=None, lead=False):
    """Two hundred members of one firm; a 合计 row in the middle with records after it, content
    in a column without a header far down the sheet, an empty column A."""
    firm = make_firm_records(seed=23, members=200)
    labels = list(firm.members[0])
    wb = Workbook()
    ws = wb.active
    ws.title = "名册"
    pad = [None] if lead else []
    ws.append(pad + ["某所党员名册"])
    ws.append(pad + ["序号", *labels])
    for i, r in enumerate(firm.members, start=1):
        if i == foot_at:
            ws.append(pad + ["合计", i - 1])
        row = pad + [i] + [r.get(h, "") for h in labels]
        if i == late_extra:
            row += [None, None, "漏在表外的内容"]
        ws.append(row)
    wb.save(path)
    return path, firm, len(labels) + 1


@pytest.mark.parametrize("shape", [
    {"foot_at": 60}, {"late_extra": 190}, {"lead": True, "late_extra": 150}, {}])
def test_what_only_the_whole_sheet_shows_is_gathered_from_the_parts(forms, tmp_path, in_parts,
                                                                       shape):
    path, _, width = long_book(tmp_path / "长.xlsx", **shape)
    form = forms.form("lawyer_member")
    whole = read_whole(forms, form, path)
    parts = run(check_workbook(forms, form, path, today=TODAY))
    assert in_parts
    assert summary(parts) == summary(whole)
    assert columns(parts) == columns(whole)
    notes = {f.code: r.where(f) for r in parts[:1] for f in r.findings}
    if "foot_at" in shape:
        assert len(parts) == 59 and notes["xlsx_rows_after_foot"] == "名册!A62"
        assert in_parts[-1].below  # whole parts below the foot were counted again
    if "late_extra" in shape:
        letter = column_letter(width + 2 + bool(shape.get("lead")))
        assert notes["xlsx_extra_column"] == f"名册!{letter}2"


def test_a_chosen_mapping_is_read_the_same(forms, tmp_path, in_parts):
    path, _, width = long_book(tmp_path / "长.xlsx", late_extra=120)
    form = forms.form("lawyer_member")
    mapping = {0: None, width + 2: "remarks", 9: None}
    whole = read_whole(forms, form, path, mapping=mapping)
    parts = run(check_workbook(forms, form, path, today=TODAY, mapping=mapping))
    assert summary(parts) == summary(whole)
    assert parts[119].values["remarks"] == "漏在表外的内容"


def test_rows_without_row_numbers_are_read_whole(forms, tmp_path, in_parts):
    path, _, _ = long_book(tmp_path / "长.xlsx")
    bare = rewrite(path, tmp_path / "无行号.xlsx",
                   lambda x: re.sub(rb'<c r="[A-Z]+\d+"', b"<c",
                                    re.sub(rb'<row r="\d+"', b"<row", x)))
    form = forms.form("lawyer_member")
    parts = run(check_workbook(forms, form, bare, today=TODAY))
    assert not in_parts  # the head showed rows without numbers: read whole
    assert summary(parts) == summary(read_whole(forms, form, path))


def failing_part(monkeypatch, row):
    """Workers that cannot read the part holding Excel row `row`."""
    real = sheetparts.read_part

    def read_part(book, xml):
        if f'r="{row}"'.encode() in xml:
            raise Unusable("不能分块读取")
        return real(book, xml)

    monkeypatch.setattr(sheetparts, "read_part", read_part)
    monkeypatch.setattr(rowcheck, "use_fork", lambda: True)  # the workers see the patch


def test_a_first_part_the_workers_cannot_read_is_read_whole(forms, tmp_path, monkeypatch,
                                                            in_parts):
    path, _, _ = long_book(tmp_path / "长.xlsx")
    form = forms.form("lawyer_member")
    failing_part(monkeypatch, 3)
    parts = run(check_workbook(forms, form, path, today=TODAY))
    assert in_parts and summary(parts) == summary(read_whole(forms, form, path))


def test_a_later_part_after_rows_were_handed_on_is_a_clear_error(forms, tmp_path,
                                                                 monkeypatch, in_parts):
    path, _, _ = long_book(tmp_path / "长.xlsx")
    form = forms.form("lawyer_member")
    failing_part(monkeypatch, 150)
    handed: list[int] = []
    with pytest.raises(UsageError, match="文件可能已损坏"):
        run(excel.read_sheet(form, path, today=TODAY,
                             on_rows=lambda rows, packed: handed.append(len(rows))))
    assert handed  # an import would roll back what it wrote; the rows are not read twice


@pytest.fixture
def second_db(dengji, db, tmp_path, new_database):
    """A second register on the store of `db` (tests/services/conftest.py: both stores)."""
    where = new_database() if is_server(db) else tmp_path / "second.dengji"
    assert dengji("init", "--db", where, "--level", "firm", "--unit-name", UNIT_NAME,
                  "--unit-code", UNIT_CODE).code == 0
    return where


def test_import_in_parts_stores_what_the_whole_read_stores(db, second_db, forms, tmp_path,
                                                          monkeypatch, in_parts, jsonl):
    path, firm, _ = long_book(tmp_path / "长.xlsx", foot_at=150)
    form = forms.form("lawyer_member")
    org = jsonl([firm.org], "附件3.jsonl")
    with open_register(db, PASSPHRASE) as reg:
        run(import_file(reg, forms, forms.form("party_org"), org))
        result = run(import_file(reg, forms, form, path))
    assert in_parts and result.imported == 149
    monkeypatch.setattr(sheetparts, "SPLIT_FROM_BYTES", 1 << 40)
    with open_register(second_db, PASSPHRASE) as reg:
        run(import_file(reg, forms, forms.form("party_org"), org))
        again = run(import_file(reg, forms, form, path))
    assert again.imported == 149
    assert stored_data(second_db, "lawyer_member") == stored_data(db, "lawyer_member")


def test_the_import_preview_reads_only_the_first_rows_of_an_xlsx(forms, tmp_path, monkeypatch):
    from desktop.services.intake import preview as excel_preview

    path, _, width = long_book(tmp_path / "长.xlsx", late_extra=190)
    form = forms.form("lawyer_member")
    whole = excel_preview.preview_workbook(path, form)
    assert len(whole.columns) == width + 3  # the content far right and far down

    def refuse(*args):
        raise AssertionError("the whole sheet was read")

    monkeypatch.setattr(excel_preview, "first_rows_whole", refuse)
    quick = excel_preview.preview_workbook(path, form)
    assert quick == whole and quick.header_row == 2 and quick.data_rows == 200
    jsonl = tmp_path / "名册.xls"  # not a zip workbook: read whole (and worded there)
    jsonl.write_bytes(b"no workbook")
    with pytest.raises(AssertionError):
        excel_preview.preview_workbook(jsonl, form)


def test_a_used_range_out_to_column_xfd_is_not_believed_by_the_preview(forms, tmp_path):
    from desktop.services.intake import preview as excel_preview

    path, _, width = long_book(tmp_path / "长.xlsx")
    wide = rewrite(path, tmp_path / "宽.xlsx", lambda x: re.sub(
        rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD202"/>', x))
    preview = excel_preview.preview_workbook(wide, forms.form("lawyer_member"))
    assert len(preview.columns) == width and preview.data_rows == 200
