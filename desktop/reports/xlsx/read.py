"""Reading the records of a form from a real workbook (python-calamine).

    read_workbook(path, form, *, sheet=None) -> WorkbookRows

finds the sheet and its header row (the row of the first 30 that names most fields of the form,
by label or FieldSpec.aliases, in any order; a title and unit line above it are fine), maps each
column to a field path (reports.xlsx.columns), and turns every data row into a
`desktop.services.intake.jsonl.SourceRow(no, raw)` keyed by the fields' labels — `no` is the Excel
row number. Rows stop at a 合计/分类统计/填报人 row (the foot of an exported table); empty rows
are skipped. `WorkbookRows.cell(no, path)` gives the cell of a finding ("D17"), `where()` the
whole reference ("附件1!D17", or "附件1!第17行" for a finding on the record as a whole).

What is said about the file (`notes`, each with its header cell in `note_cells`): columns that
are no field of the form (ignored), two columns for one field, required columns that are
missing, data rows after the foot. What is said about a cell (`row_notes[no]`): an ID number
Excel has rounded, a 年月 it made ambiguous, a phone number that lost its leading 0, a birth
year-month completed from the ID number. A file that is no workbook, is password protected or
has no header row is a UsageError, and nothing is read.

The reading is split in steps so the service can convert and check rows on several cores:
`open_sheet()` (calamine, header, layout) and `Layout.convert(cells, no)` (one row), or for a
large .xlsx sheet read in parts (reports.xlsx.parts, services.intake.parts): `pick_sheet()` on the first
rows, `sheet_layout()`, then `scan_rows()` on each part. The workers use
`Layout.parse_row(cells, no, validator)`, which is convert() and Validator.parse() in one pass
(the hot loop).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import python_calamine as pc

from desktop.domain.findings import Finding
from desktop.domain.forms import FieldSpec, FormSpec
from desktop.domain.identifiers import compact, id_birth_date
from desktop.domain.sources import SourceRow
from desktop.domain.validation import Validator
from desktop.domain.values import parse_date, parse_value, parse_yearmonth
from desktop.errors import UsageError
from desktop.reports.xlsx.book import open_book, worksheet_names
from desktop.reports.xlsx.cells import MISSING, clean_text, converter
from desktop.reports.xlsx.columns import FormColumn, HeaderMatcher, column_for, column_letter

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
HEADER_SCAN_ROWS = 30
_FOOT = re.compile(r"^(合计|总计|小计|分类统计|填报人|审核人|单位负责人|（单位盖章）)")
_SPLIT = re.compile(r"\s*[；;\n]\s*")
#: field types whose text cells are used as they are (trimmed)
_PLAIN_TYPES = ("text", "code", "id_number", "licence", "uscc", "mobile", "landline", "phone",
                "bool", "int", "region")


@dataclass(frozen=True, slots=True)
class ReadColumn:
    index: int  # 0-based column
    letter: str  # "D"
    header: str  # as written in the workbook
    column: FormColumn | None  # the field it fills; None = ignored

    @property
    def path(self) -> str | None:
        return self.column.path if self.column else None


@dataclass
class Layout:
    """How the cells of one sheet map to a form's fields."""

    form: FormSpec
    sheet: str
    header_row: int  # 1-based
    columns: tuple[ReadColumn, ...]
    #: per used column: (index, label, plain text?, converter, column if in a group)
    _used: list[tuple[int, str, bool, Any, FormColumn | None]] = field(default_factory=list,
                                                                       repr=False)
    _letters: dict[str, str] = field(default_factory=dict, repr=False)
    _birth: tuple[str, str] | None = None  # (birth field id, id field id) of birth_matches_id
    #: parse_row's columns per validator
    _parsing: dict[int, list[tuple]] = field(default_factory=dict, repr=False)
    _widest: int = -1  # the highest index of a used column

    def __post_init__(self) -> None:
        for rc in self.columns:
            c = rc.column
            if c is None:
                continue
            plain = c.spec.type in _PLAIN_TYPES and c.group is None
            self._used.append((rc.index, c.spec.label, plain, converter(c.spec),
                               c if c.group is not None else None))
            self._letters.setdefault(c.path, rc.letter)
            if c.group is not None:
                self._letters.setdefault(f"{c.group.id}[*].{c.spec.id}", rc.letter)
                self._letters.setdefault(c.group.id, rc.letter)
        self._widest = max((u[0] for u in self._used), default=-1)
        for ref in self.form.rules:
            if ref.rule == "birth_matches_id":
                self._birth = (ref.params["birth_field"], ref.params["id_field"])

    def letter(self, path: str) -> str | None:
        """The column letter of a finding's field path, if the sheet has that column."""
        if not path:
            return None
        found = self._letters.get(path)
        if found is None and "[" in path:
            head, _, rest = path.partition("[")
            sub = rest.partition("].")[2]
            found = self._letters.get(f"{head}[*].{sub}") if sub else None
            found = found or self._letters.get(head)
        if found is None:
            found = self._letters.get(path.split("[", 1)[0].split(".", 1)[0])
        return found

    def convert(self, cells: list[Any], no: int) -> tuple[dict[str, Any] | None, list[Finding]]:
        """One row's raw values by label (None for an empty row) and its reading notes."""
        raw: dict[str, Any] = {}
        notes: list[Finding] = []
        groups: dict[str, dict[int, dict[str, Any]]] = {}
        width = len(cells)
        for index, label, plain, convert, group_col in self._used:
            if index < width:
                value = self._cell(cells[index], plain, convert, label, group_col, notes, groups)
                if value is not MISSING:
                    raw.setdefault(label, value)
        if not raw and not groups:
            return (None, notes) if not notes else ({}, notes)
        for gid, rows in groups.items():
            group = self.form.field(gid)
            raw[group.label] = [rows.get(i, {}) for i in range(1, max(rows) + 1)]
        if self._birth is not None:
            self._complete_birth(raw, notes)
        return raw, notes

    def parse_row(self, cells: list[Any], no: int, validator: Validator
                  ) -> tuple[dict[str, Any] | None, list[Finding], list[Finding]]:
        """convert() and validator.parse() of one row in one pass, without the values by
        label in between: (values by field id, None for an empty row; the findings of parsing;
        the reading notes). The same as `raw, notes = convert(cells, no)` and
        `validator.parse(raw)`, in the same order."""
        columns = self._parsing.get(id(validator))
        if columns is None:
            columns = self._parsing[id(validator)] = self._parse_columns(validator)
        values: dict[str, Any] = {}
        findings: list[Finding] = []
        notes: list[Finding] = []
        groups: dict[str, dict[int, dict[str, Any]]] = {}
        kept: dict[str, Any] = {}  # the raw birth date and ID number (_complete_birth)
        legacy, rows = validator.start_record()
        if len(cells) <= self._widest:  # a short row: its missing cells are empty
            cells = cells + [""] * (self._widest + 1 - len(cells))
        for index, label, plain, convert, group_col, plan, fid, watch in columns:
            value = cells[index]
            if not (plain and value.__class__ is str and value and value.isprintable()
                    and value[0] != " " and value[-1] != " "):  # else: text used as it is
                # (a group's cells go to `groups` here; each other field has one column)
                value = self._cell(value, plain, convert, label, group_col, notes, groups)
                if value is MISSING:
                    continue
            if watch:
                kept[fid] = value
            hit = plan.parse(value, legacy, rows)
            values[fid] = hit[0]
            if hit[1]:
                findings += validator.word_value(hit[1], fid)
        if not values and not groups:
            return (None if not notes else {}), findings, notes
        for gid, found in groups.items():
            plan = validator.plan(gid)
            hit = parse_value(plan.spec, [found.get(i, {}) for i in range(1, max(found) + 1)],
                              convert_legacy=legacy)
            values[gid] = hit[0]
            if hit[1]:
                findings += validator.word_value(hit[1], gid)
        if kept:
            birth_id, id_id = self._birth  # type: ignore[misc]
            done = self._birth_from_id(kept.get(birth_id), kept.get(id_id), notes)
            if done is not None:
                findings = [f for f in findings if f.field != birth_id]
                hit = validator.plan(birth_id).miss(done, legacy, rows)
                values[birth_id] = hit[0]
                findings += validator.word_value(hit[1], birth_id)
        return values, findings, notes

    def _cell(self, value: Any, plain: bool, convert: Any, label: str,
              group_col: FormColumn | None, notes: list[Finding],
              groups: dict[str, dict[int, dict[str, Any]]]) -> Any:
        """What a cell gives its field, or MISSING when it gives nothing or went to its group
        in `groups`; its reading note goes to `notes`."""
        if value.__class__ is str:
            if plain:
                if value and (not value.isprintable() or value[0] == " " or value[-1] == " "):
                    value = clean_text(value)
                return value or MISSING
            if not value or value.isspace():
                return MISSING
        elif value is None:
            return MISSING
        value, note = convert(value, label)
        if note is not None:
            path = group_col.path if group_col else self._path_of(label)
            notes.append(Finding(path, note[0], note[1], note[2], "value"))
        if value is not MISSING and group_col is not None:
            _put_group(groups.setdefault(group_col.group.id, {}), group_col, value)
            return MISSING
        return value

    def _parse_columns(self, validator: Validator) -> list[tuple]:
        watch = set(self._birth or ())
        out = []
        for index, label, plain, convert, group_col in self._used:
            plan = validator.plan(label) if group_col is None else None
            fid = plan.id if plan is not None else ""
            out.append((index, label, plain, convert, group_col, plan, fid, fid in watch))
        return out

    def _path_of(self, label: str) -> str:
        return next(rc.column.path for rc in self.columns
                    if rc.column is not None and rc.column.spec.label == label)

    def _complete_birth(self, raw: dict[str, Any], notes: list[Finding]) -> None:
        """A birth year-month (出生年月 1980.01) completed from the ID number when they agree."""
        label = self.form.field(self._birth[0]).label  # type: ignore[index]
        done = self._birth_from_id(raw.get(label),
                                   raw.get(self.form.field(self._birth[1]).label),  # type: ignore[index]
                                   notes)
        if done is not None:
            raw[label] = done

    def _birth_from_id(self, value: Any, number: Any, notes: list[Finding]) -> str | None:
        """The birth date when `value` is only a year-month that the ID number agrees with (and
        the note saying so), else None."""
        if not isinstance(value, str) or len(value) > 8 or parse_date(value) is not None:
            return None
        ym = parse_yearmonth(value)
        born = id_birth_date(compact(number)) if isinstance(number, str) and ym else None
        if born is None or f"{born.year:04d}-{born.month:02d}" != ym:
            return None
        spec = self.form.field(self._birth[0])  # type: ignore[index]
        notes.append(Finding(spec.id, "I", "xlsx_birth_from_id",
                             f"{spec.label}只写到年月（{value}），已按公民身份号码补全为 "
                             f"{born.isoformat()}", "value"))
        return born.isoformat()


def _put_group(rows: dict[int, dict[str, Any]], col: FormColumn, value: Any) -> None:
    label = col.spec.label
    if col.index == 0 and isinstance(value, str):  # unnumbered: several rows in one cell
        for i, part in enumerate((p for p in _SPLIT.split(value) if p), start=1):
            rows.setdefault(i, {}).setdefault(label, part)
    else:
        rows.setdefault(max(col.index, 1), {}).setdefault(label, value)


@dataclass
class WorkbookRows:
    """The records of one sheet, with what was said while reading it."""

    path: Path
    layout: Layout
    rows: list[SourceRow]
    notes: list[Finding]
    note_cells: dict[Finding, str]
    row_notes: dict[int, list[Finding]]

    @property
    def sheet(self) -> str:
        return self.layout.sheet

    @property
    def header_row(self) -> int:
        return self.layout.header_row

    def cell(self, no: int, path: str) -> str | None:
        letter = self.layout.letter(path)
        return f"{letter}{no}" if letter else None

    def cells(self, no: int) -> dict[str, str]:
        """Field path → cell reference for every mapped column of row `no`."""
        return {rc.path: f"{rc.letter}{no}" for rc in self.layout.columns if rc.path}

    def where(self, no: int, finding: Finding) -> str:
        return where(self.layout, no, finding, self.note_cells)


def where(layout: Layout, no: int, finding: Finding, note_cells: dict[Finding, str]) -> str:
    """"附件1!D17" for a finding on a cell, "附件1!第17行" for one on the record as a whole."""
    ref = note_cells.get(finding)
    if ref is None:
        letter = layout.letter(finding.field)
        ref = f"{letter}{no}" if letter else f"第{no}行"
    return f"{layout.sheet}!{ref}"


def read_workbook(path: Path, form: FormSpec, *, sheet: str | None = None,
                  mapping: Mapping[int, str | None] | None = None) -> WorkbookRows:
    """Read the records of `form` from a workbook (see the module docstring). `mapping`
    overrides the columns found from the headers: 0-based column → field path, or None to
    ignore the column (what a person chose in the import dialog)."""
    layout, data, notes, note_cells = open_sheet(path, form, sheet=sheet, mapping=mapping)
    rows: list[SourceRow] = []
    row_notes: dict[int, list[Finding]] = {}
    for no, cells in data:
        raw, found = layout.convert(cells, no)
        if found:
            row_notes[no] = found
        if raw is not None:
            rows.append(SourceRow(no, raw))
    if not rows:
        raise no_data(path, layout)
    return WorkbookRows(Path(path), layout, rows, notes, note_cells, row_notes)


def no_data(path: Path, layout: Layout) -> UsageError:
    return UsageError(f"{path}：工作表“{layout.sheet}”的表头（第 {layout.header_row} 行）下面没有"
                      f"任何记录")


def open_sheet(path: Path, form: FormSpec, *, sheet: str | None = None,
               mapping: Mapping[int, str | None] | None = None
               ) -> tuple[Layout, list[tuple[int, list[Any]]], list[Finding], dict[Finding, str]]:
    """Open the workbook, pick the sheet and header; return the layout, the data rows as
    (Excel row number, cells), and the notes about the sheet with their header cells."""
    path = Path(path)
    book = open_book(path)
    try:
        grids = [(name, book.get_sheet_by_name(name).to_python(skip_empty_area=False))
                 for name in worksheet_names(book, path, sheet)]
    except pc.CalamineError as err:
        raise UsageError(f"无法读取工作簿 {path}：文件可能已损坏（{err}）") from None
    finally:
        book.close()
    name, hrow, grid = pick_sheet(path, form, grids, sheet, mapping)
    scan = scan_rows(grid, hrow + 2)
    data = scan.data
    width = max([len(grid[hrow]), *(len(cells) for _, cells in data[:200])])
    layout, notes, note_cells = sheet_layout(form, name, hrow, grid[hrow], width,
                                             filled_in(data), mapping or {})
    if scan.after:
        foot_note(notes, note_cells, scan.foot, scan.after)
    return layout, data, notes, note_cells


def pick_sheet(path: Path, form: FormSpec, heads: list[tuple[str, list[list[Any]]]],
               sheet: str | None, mapping: Mapping[int, str | None] | None
               ) -> tuple[str, int, list[list[Any]]]:
    """(name, 0-based header row, rows) of the sheet whose header names most fields, among
    (name, its first rows at least); no header row anywhere is a UsageError."""
    matcher = HeaderMatcher(form)
    best: tuple[int, str, int, list[list[Any]]] | None = None
    for name, grid in heads:
        score, row = header_row(grid, matcher, 1 if mapping else min(2, len(form.fields)))
        if row >= 0 and (best is None or score > best[0]):
            best = (score, name, row, grid)
    if best is None:
        raise UsageError(
            f"{path}：在{'工作表“' + sheet + '”' if sheet else '各工作表'}的前 {HEADER_SCAN_ROWS} 行"
            f"中没有找到表头行（应有一行写着本表的栏目名称，如 {_examples(form)}）。请确认选择的表单"
            f"是 {form.display_title}，或在数据上方加上栏目名称")
    return best[1], best[2], best[3]


@dataclass
class Scan:
    """The data rows of (a part of) a sheet: the rows above the foot (合计, 填报人 …)."""

    data: list[tuple[int, list[Any]]]  # (Excel row number, cells) of the non-empty rows
    foot: int = 0  # Excel row number of the foot row (0: none)
    after: int = 0  # rows below the foot that look like records (4 cells or more)


def scan_rows(grid: list[list[Any]], first: int, *, row0: int = 0, col0: int = 0,
              below_foot: bool = False) -> Scan:
    """The rows of `grid` from Excel row `first` on; grid[i] holds Excel row row0 + i + 1 from
    column col0 on (0-based). `below_foot`: every row is below an earlier part's foot."""
    scan = Scan([])
    data = scan.data
    pad = [""] * col0
    foot = -1 if below_foot else 0
    for i in range(max(first - 1 - row0, 0), len(grid)):
        cells = pad + grid[i] if col0 else grid[i]
        lead = cells[0] if cells else None  # the first cell that is not empty
        if lead is None or lead == "":
            lead = next((c for c in cells if c not in ("", None)), None)
        if lead is None:
            continue
        if foot:  # below the foot: say so if something there looks like a record
            scan.after += sum(1 for c in cells if c not in ("", None)) >= 4
            continue
        if isinstance(lead, str) and (m := _FOOT.match(lead.strip())):
            foot = 0 if m[1] == "小计" else row0 + i + 1
            continue
        data.append((row0 + i + 1, cells))
    scan.foot = max(foot, 0)
    return scan


def filled_in(data: list[tuple[int, list[Any]]]) -> Callable[[int], bool]:
    """sheet_layout's `filled`: whether one of these data rows has something in column j."""
    return lambda j: any(j < len(r) and r[j] not in ("", None) for _, r in data)


def foot_note(notes: list[Finding], note_cells: dict[Finding, str], foot: int, after: int
              ) -> None:
    """Say that `after` rows below the foot row (Excel row `foot`) look like records."""
    f = Finding("", "W", "xlsx_rows_after_foot",
                f"第 {foot} 行是合计或签字行，其后还有 {after} 行像是记录，没有读取", "value")
    notes.append(f)
    note_cells[f] = f"A{foot}"


def header_row(grid: list[list[Any]], matcher: HeaderMatcher, needed: int
                ) -> tuple[int, int]:
    """(number of fields named, 0-based row) of the best header row among the first rows;
    (0, -1) when no row names `needed` fields (a hand-made mapping needs one)."""
    best, best_row = 0, -1
    for i, cells in enumerate(grid[:HEADER_SCAN_ROWS]):
        named = {c.path for c in (matcher.match(v) for v in cells if isinstance(v, str) and v)
                 if c is not None}
        if len(named) > best:
            best, best_row = len(named), i
    return (best, best_row) if best >= needed else (0, -1)


def sheet_layout(form: FormSpec, sheet: str, hrow: int, header: list[Any], width: int,
                 filled: Callable[[int], bool], mapping: Mapping[int, str | None]
                 ) -> tuple[Layout, list[Finding], dict[Finding, str]]:
    """How the `width` columns map to fields, from the header row (0-based `hrow`) and a
    person's `mapping`; the notes about the columns with their header cells. `filled(j)`:
    whether a data row has something in column j (asked only for columns without a header)."""
    matcher = HeaderMatcher(form)
    notes: list[Finding] = []
    note_cells: dict[Finding, str] = {}
    columns: list[ReadColumn] = []
    seen: dict[str, str] = {}
    for j in range(width):
        text = clean_text(str(header[j])) if j < len(header) and header[j] not in (None, "") \
            else ""
        letter = column_letter(j)
        if j in mapping:
            chosen = mapping[j]
            col = column_for(form, chosen) if chosen else None
            if chosen and col is None:
                raise UsageError(f"列 {letter} 指定的栏目“{chosen}”不是{form.display_title}的栏目")
            if col is None:
                columns.append(ReadColumn(j, letter, text, None))
                continue
        else:
            col = matcher.match(text) if text else None
        note: Finding | None = None
        if col is not None and col.path in seen:
            note = Finding(col.path, "W", "xlsx_duplicate_column",
                           f"列 {letter}“{text}”与列 {seen[col.path]} 都对应“{col.spec.label}”，"
                           f"只读取了列 {seen[col.path]}", "value")
            col = None
        elif col is not None:
            seen[col.path] = letter
        elif text and not matcher.is_row_number(text):
            note = Finding("", "I", "xlsx_extra_column",
                           f"列 {letter}“{text}”不是{form.display_title}的栏目，已忽略", "value")
        elif not text and filled(j):
            note = Finding("", "I", "xlsx_extra_column",
                           f"列 {letter} 没有栏目名称，其中的内容已忽略", "value")
        if note is not None:
            notes.append(note)
            note_cells[note] = f"{letter}{hrow + 1}"
        columns.append(ReadColumn(j, letter, text, col))
    layout = Layout(form, sheet, hrow + 1, tuple(columns))
    for spec in form.fields:
        if spec.required and not _has_column(layout, spec) and spec.default is None:
            f = Finding(spec.id, "W", "xlsx_missing_column",
                        f"表中没有“{spec.label}”列（必填栏目），每条记录都会缺少此项", "value")
            notes.append(f)
            note_cells[f] = f"A{hrow + 1}"
    return layout, notes, note_cells


def _has_column(layout: Layout, spec: FieldSpec) -> bool:
    return any(rc.column is not None and (rc.column.spec is spec or rc.column.group is spec)
               for rc in layout.columns)


def _examples(form: FormSpec) -> str:
    return "、".join(f.label for f in form.fields[:3])
