"""Checking the rows of a file on their own, chunk by chunk, on every core, in file order.

A source — a .jsonl file (cut at line ends) or the rows of a workbook sheet — is cut into
chunks of a few thousand rows. Worker processes parse each row and run its field and record
rules (Validator.parse, defaults, Validator.check_local) and pack what the parent needs besides:
the row's normalised key values (no secret is needed for them) and, when the rows are to be
stored, the JSON text of the values and the person's normalised ID number. The parent receives
the chunks in file order and hands each to `on_chunk` as soon as it has arrived, so an import
inserts chunk k while the workers still check chunk k+1.

On Linux the workers are forked after the workbook has been read: they see the parent's rows
without copying them. Elsewhere (spawn) each job carries its rows.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from desktop.domain.context import Environment
from desktop.domain.digest import canonical
from desktop.domain.findings import Finding
from desktop.domain.forms import FormSpec
from desktop.domain.identifiers import normalise_id
from desktop.domain.keys import key_value
from desktop.domain.validation import Validator, unparsed_fields
from desktop.domain.values import filled_from_id
from desktop.processes import die_with_parent
from desktop.progress import Progress, Task
from desktop.services.intake.jsonl import Segment, open_record, read_segment, split_lines

#: one checked row: (row or line number, values (None: unreadable), findings, normalised key
#: values in the order of form.keys (None where empty), JSON of the values for storage (None
#: when not asked for or not serialisable), normalised ID number of the person key or None)
Packed = tuple[int, dict | None, list[Finding], tuple, str | None, str | None]
OnChunk = Callable[[list[Packed]], None]

#: rows per chunk of a workbook; a .jsonl chunk is about as many bytes as CHUNK_BYTES
CHUNK_ROWS = 4000
CHUNK_BYTES = 4 << 20
#: reading notes that replace the "required" finding of the same field (the value was unusable)
REPLACES_REQUIRED = ("xlsx_number_rounded", "xlsx_yearmonth_ambiguous")


def workers() -> int:
    return min(os.cpu_count() or 1, 4)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hundreds of thousands of acyclic objects are made here: collecting them is all cost.

    On the way out the objects made meanwhile join the oldest generation (a freeze and thaw
    moves them there without looking at them): else the first young collection after this
    would go through every one of them, a tenth of a second per few hundred thousand."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def use_fork() -> bool:
    """Fork (workers see the parent's rows without copying) where it is safe and available."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


class RowChecker:
    """The local checks of one form, and the packing of their result."""

    def __init__(self, form: FormSpec, today: date, storage: bool) -> None:
        self.form = form
        self.validator = Validator(form, Environment(today=today, convert_legacy=True))
        self.defaults = [(s.id, s.default) for s in form.fields if s.default is not None]
        self.storage = storage
        self._person = next((k.field for k in form.keys if k.kind.endswith("person")), None)
        self._from_id = filled_by_id(form)

    def fill_from_id(self, values: dict[str, Any], findings: list[Finding]) -> None:
        get = values.get
        if any(get(f) is None for f in self._from_id):  # the common row has them all
            fill_from_id(self.validator, values, findings)

    def jsonl_row(self, no: int, raw: dict[str, Any]) -> Packed:
        """A line's record: parse, defaults, local rules (as checking.check_rows does)."""
        validator = self.validator
        raw, other = open_record(self.form, no, raw)
        if other is not None:
            return (no, None, [other], (), None, None)
        values, findings = validator.parse(raw)
        for fid, default in self.defaults:
            if fid not in values:
                values[fid] = default
        self.fill_from_id(values, findings)
        findings = findings + validator.check_local(values, unparsed=unparsed_fields(findings))
        return self.pack(no, values, findings)

    def sheet_row(self, no: int, values: dict[str, Any], findings: list[Finding],
                  notes: list[Finding]) -> Packed:
        """A workbook row parsed by Layout.parse_row, with its reading notes."""
        for fid, default in self.defaults:
            if fid not in values:
                values[fid] = default
        self.fill_from_id(values, findings)
        findings += self.validator.check_local(values)
        if notes:
            gone = {n.field for n in notes if n.code in REPLACES_REQUIRED}
            findings = notes + [f for f in findings
                                if not (f.code == "required" and f.field in gone)]
        return self.pack(no, values, findings)

    def pack(self, no: int, values: dict[str, Any], findings: list[Finding]) -> Packed:
        form = self.form
        keys = tuple(key_value(form, k, values) for k in form.keys)
        data = person = None
        if self.storage:
            raw_person = values.get(self._person) if self._person else None
            if raw_person is None or isinstance(raw_person, str):
                try:
                    data = canonical(values)  # sorted: its digest is one hash (importing)
                except (TypeError, ValueError):  # the parent tries again and says why
                    data = None
                person = normalise_id(raw_person) if raw_person else None
        return (no, values, findings, keys, data, person)


def filled_by_id(form: FormSpec) -> tuple[str, ...]:
    """The fields the form ties to the ID number (birth_matches_id, sex_matches_id), which an
    import fills when they are empty."""
    return tuple(r.params[key] for r in form.rules
                 for rule, key in (("birth_matches_id", "birth_field"),
                                   ("sex_matches_id", "sex_field")) if r.rule == rule)


def fill_from_id(validator: Validator, values: dict[str, Any], findings: list[Finding]) -> None:
    """An empty 出生日期 or 性别 read from a valid ID number, as the window proposes it
    (domain.values.filled_from_id); a value the row gives is kept and checked, and one it
    gives that cannot be read stays unread (its finding says so)."""
    filled = filled_from_id(validator.form, values, lambda id_field: not any(
        f.severity == "E" for f in validator.check_field(id_field, values)))
    if filled:
        unread = unparsed_fields(findings)
        values.update((k, v) for k, v in filled.items() if k not in unread)


# --- workers ---------------------------------------------------------------------------------

_CHECKERS: dict[tuple[str, str, date, bool], RowChecker] = {}
#: forked workers find the sheet here: (layout, rows as (Excel row number, cells))
_SHARED: tuple[Any, Sequence[tuple[int, list[Any]]]] | None = None


def checker_for(forms_dir: str, form_id: str, today: date, storage: bool,
             form: FormSpec | None = None) -> RowChecker:
    key = (forms_dir, form_id, today, storage)
    checker = _CHECKERS.get(key)
    if checker is None:
        if form is None:
            from desktop.formspec import shipped_forms

            form = shipped_forms(Path(forms_dir)).form(form_id)
        checker = _CHECKERS[key] = RowChecker(form, today, storage)
    return checker


def check_lines(forms_dir: str, form_id: str, path: str, seg: Segment, today: date,
                storage: bool = False) -> list[Packed]:
    """In a worker: read a segment of a .jsonl file and check its rows locally."""
    with gc_paused():
        checker = checker_for(forms_dir, form_id, today, storage)
        out: list[Packed] = []
        for row in read_segment(Path(path), seg):
            if row.raw is None:
                out.append((row.no, None, [row.problem] if row.problem else [], (), None, None))
            else:
                out.append(checker.jsonl_row(row.no, row.raw))
        return out


def check_lines_here(checker: RowChecker, path: Path) -> list[Packed]:
    """The same for a whole (small) file, in this process."""
    out: list[Packed] = []
    for row in read_segment(path, Segment(0, None, 1)):
        if row.raw is None:
            out.append((row.no, None, [row.problem] if row.problem else [], (), None, None))
        else:
            out.append(checker.jsonl_row(row.no, row.raw))
    return out


@dataclass
class SheetJob:
    """A chunk of a sheet's rows: `span` of the shared rows (forked), or the rows themselves
    and what rebuilds the layout in a spawned process."""

    forms_dir: str
    form_id: str
    today: date
    storage: bool
    span: tuple[int, int]
    rows: list[tuple[int, list[Any]]] | None = None
    columns: tuple[tuple[int, str, str, str | None, int], ...] = ()
    sheet: str = ""
    header_row: int = 0


def check_sheet_rows(checker: RowChecker, layout: Any,
                     rows: Sequence[tuple[int, list[Any]]]) -> list[Packed]:
    """Convert and parse (Layout.parse_row) and check workbook rows; empty rows are left
    out."""
    out: list[Packed] = []
    parse, check, validator = layout.parse_row, checker.sheet_row, checker.validator
    for no, cells in rows:
        values, findings, notes = parse(cells, no, validator)
        if values is not None:
            out.append(check(no, values, findings, notes))
    return out


def check_sheet_job(job: SheetJob) -> list[Packed]:
    """In a worker: one chunk of a sheet."""
    with gc_paused():
        if job.rows is None:
            assert _SHARED is not None, "a forked job without the parent's rows"
            layout, rows = _SHARED
            rows = rows[job.span[0]:job.span[1]]
        else:
            layout, rows = layout_of(job), job.rows
        checker = checker_for(job.forms_dir, job.form_id, job.today, job.storage, layout.form)
        return check_sheet_rows(checker, layout, rows)


def layout_columns(layout: Any) -> tuple[tuple[int, str, str, str | None, int], ...]:
    """What layout_of needs to make the layout again in a spawned worker."""
    return tuple((rc.index, rc.letter, rc.header, rc.path, rc.column.index if rc.column else 0)
                 for rc in layout.columns)


def layout_of(job: SheetJob) -> Any:
    from desktop.formspec import shipped_forms
    from desktop.reports.xlsx.columns import column_for
    from desktop.reports.xlsx.read import Layout, ReadColumn

    form = shipped_forms(Path(job.forms_dir)).form(job.form_id)
    columns = []
    for i, letter, header, path, index in job.columns:
        col = column_for(form, path) if path else None
        columns.append(ReadColumn(i, letter, header, col and replace(col, index=index)))
    return Layout(form, job.sheet, job.header_row, tuple(columns))


# --- the parent ------------------------------------------------------------------------------


def parallel_lines(form: FormSpec, path: Path, size: int, today: date, storage: bool,
                   on_chunk: OnChunk) -> Task[int]:
    """Check a large .jsonl file on every core; return the number of rows."""
    assert form.path is not None
    n = workers()
    segments = split_lines(path, max(n * 4, size // CHUNK_BYTES))
    args = [(str(form.path.parent), form.id, str(path), seg, today, storage)
            for seg in segments]
    return (yield from _pool(check_lines, args, fork=use_fork(), total_rows=0,
                             on_chunk=on_chunk))


def parallel_sheet(form: FormSpec, layout: Any, data: Sequence[tuple[int, list[Any]]],
                   today: date, storage: bool, on_chunk: OnChunk, *, fork: bool | None = None
                   ) -> Task[int]:
    """Convert and check a large sheet on every core; return the number of records."""
    global _SHARED
    assert form.path is not None
    fork = use_fork() if fork is None else fork
    n = workers()
    count = max(-(-len(data) // CHUNK_ROWS), n * 4)
    count = -(-count // n) * n  # as many chunks for each worker: none waits for another's last
    size = max(-(-len(data) // count), 1)
    columns = layout_columns(layout)
    jobs = [(SheetJob(str(form.path.parent), form.id, today, storage, (a, a + size),
                      None if fork else list(data[a:a + size]), columns, layout.sheet,
                      layout.header_row),) for a in range(0, len(data), size)]
    _SHARED = (layout, data) if fork else None
    try:
        return (yield from _pool(check_sheet_job, jobs, fork=fork, total_rows=len(data),
                                 on_chunk=on_chunk))
    finally:
        _SHARED = None


def _pool(fn: Callable[..., list[Packed]], args: list[tuple], *, fork: bool, total_rows: int,
          on_chunk: OnChunk) -> Task[int]:
    rows = 0

    def receive(chunk: list[Packed], k: int, n: int) -> Progress:
        nonlocal rows
        rows += len(chunk)
        on_chunk(chunk)
        total = total_rows or max(rows * n // (k + 1), rows)
        return Progress(rows, total * 2, "读取")

    yield from run_pool(fn, args, fork=fork, receive=receive)
    return rows


def run_pool(fn: Callable[..., Any], args: Iterable[tuple], *, fork: bool,
             receive: Callable[[Any, int, int], Progress],
             init: Callable[..., None] | None = None, initargs: tuple = ()) -> Task[None]:
    """Run fn(*a) for every a of `args` on every core (forked or spawned workers that end with
    this process; `init(*initargs)` first in each) and hand the results to `receive(result, k,
    n)` in the order of `args`. Every job is submitted before the first result is handed on,
    so an exception from `args` leaves nothing handed on."""
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if fork else "spawn")
    gc.freeze()  # forked workers must not touch (and so copy) every object of the parent
    pool = ProcessPoolExecutor(workers(), mp_context=context, initializer=_start_worker,
                               initargs=(os.getpid(), init, initargs))
    try:
        futures: list[Any] = [pool.submit(fn, *a) for a in args]
        for k in range(len(futures)):
            result = futures[k].result()
            futures[k] = None  # let the result go once it is handed on
            yield receive(result, k, len(futures))
    except BaseException:  # an error, or the task closed: do not wait for the other jobs
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
        gc.unfreeze()


def _start_worker(parent: int, init: Callable[..., None] | None, initargs: tuple) -> None:
    die_with_parent(parent)
    if init is not None:
        init(*initargs)


def serial_rows(checker: RowChecker, packed: Callable[[], list[Packed]], on_chunk: OnChunk
                ) -> Task[int]:
    """The same in this process (small files): one chunk."""
    chunk = packed()
    on_chunk(chunk)
    yield Progress(len(chunk), max(len(chunk), 1) * 2, "读取")
    return len(chunk)
