"""Reading and checking a large .xlsx sheet part by part, on every core.

A read of the whole sheet (python-calamine) runs on one core for seconds before the first row
exists. Here the sheet's XML is cut into parts (reports.xlsx.parts) while the workers already
read and check the first ones: each worker reads its part with python-calamine, finds the data
rows (reports.xlsx.read.scan_rows), converts and checks them (rowcheck.check_sheet_rows) and returns
them packed as rowcheck does. The parent hands the parts on in sheet order.

The results are those of a read of the whole sheet: the header and layout come from the
sheet's first rows, exactly as there; what can only be known from every row — columns without
a header that hold something, the sheet's width, a foot row (合计, 填报人 …) with rows after it —
is gathered from the parts and turned into the same notes at the end (`PartsRead.finish`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from desktop.domain.findings import Finding
from desktop.domain.forms import FormSpec
from desktop.progress import Progress, Task
from desktop.reports.xlsx.parts import Book, Package, read_part
from desktop.reports.xlsx.read import Layout, foot_note, scan_rows, sheet_layout
from desktop.services.intake import rowcheck
from desktop.services.intake.rowcheck import OnChunk, Packed, SheetJob, gc_paused

#: sheets with at least this much XML are read in parts (about 5,000 rows of 30 columns)
SPLIT_FROM_BYTES = 8 << 20
#: parts per worker; fewer (not under MIN_PER_WORKER) when the shared strings are large: every
#: part reads all of them
PARTS_PER_WORKER = 4
MIN_PER_WORKER = 2


@dataclass
class PartJob:
    forms_dir: str
    form_id: str
    today: date
    storage: bool
    xml: bytes | tuple[int, int]  # the part's XML, or its span in the shared file (forked)
    first: int  # Excel row number of the first row below the header
    blank: frozenset[int]  # columns without a header: is there something in them?
    blank_from: int  # ... and every column from this one on


#: a checked part: (packed rows above the foot, foot row or 0, rows after it that look like
#: records, columns of `blank` with something in them, width of the part's rows)
PartResult = tuple[list[Packed], int, int, set[int], int]

#: in a worker: what every part shares (the book), the layout and (forked) the descriptor of
#: the file the parent writes the sheet's XML to
_PARTS: tuple[Book, Layout, Any] | None = None


def _init_spawned(book: Book, job: SheetJob) -> None:
    global _PARTS
    _PARTS = (book, rowcheck.layout_of(job), None)


def check_part(job: PartJob) -> PartResult:
    """In a worker: read one part, find its data rows, convert and check them."""
    assert _PARTS is not None, "a worker without its book"
    book, layout, shared = _PARTS
    with gc_paused():
        xml = (job.xml if isinstance(job.xml, bytes)
               else os.pread(shared, job.xml[1] - job.xml[0], job.xml[0]))
        row0, col0, grid = read_part(book, xml)
        scan = scan_rows(grid, job.first, row0=row0, col0=col0)
        width = col0 + max((len(r) for r in grid), default=0)
        filled: set[int] = set()
        if job.blank or width > job.blank_from:
            for _, cells in scan.data:
                filled.update(j for j in job.blank if j < len(cells) and cells[j] not in ("", None))
                filled.update(j for j in range(job.blank_from, len(cells))
                              if cells[j] not in ("", None))
        checker = rowcheck.checker_for(job.forms_dir, job.form_id, job.today, job.storage,
                                         layout.form)
        return (rowcheck.check_sheet_rows(checker, layout, scan.data), scan.foot, scan.after,
                filled, width)


@dataclass
class PartsRead:
    """A sheet being read in parts: what the parts said besides their rows."""

    package: Package
    sheet: str
    form: FormSpec
    layout: Layout  # from the first rows; finish() completes its columns
    header: list[Any]
    mapping: dict[int, str | None]
    size: int = 0  # bytes per part
    handed_on: int = 0  # rows handed on
    foot: int = 0
    after: int = 0
    below: list[int] = field(default_factory=list)  # parts wholly below the foot
    filled: set[int] = field(default_factory=set)
    width: int = 0

    def receive(self, result: PartResult, k: int, on_chunk: OnChunk) -> None:
        packed, foot, after, filled, width = result
        self.width = max(self.width, width)
        if self.foot:  # an earlier part had the foot: nothing here is read
            self.below.append(k)
            return
        self.filled |= filled
        if foot:
            self.foot, self.after = foot, after
        if packed:
            self.handed_on += len(packed)
            on_chunk(packed)

    def finish(self) -> tuple[list[Finding], dict[Finding, str]]:
        """The notes about the sheet, as a read of the whole sheet makes them; the layout's
        columns completed to the sheet's width."""
        if self.below:
            self._count_below()
        width = max(self.width, len(self.header))
        layout, notes, cells = sheet_layout(self.form, self.sheet, self.layout.header_row - 1,
                                            self.header, width, self.filled.__contains__,
                                            self.mapping)
        self.layout.columns = layout.columns
        if self.after:
            foot_note(notes, cells, self.foot, self.after)
        return notes, cells

    def _count_below(self) -> None:
        """Rows that look like records in the parts wholly below the foot (read again here:
        a foot in the middle of a large sheet is rare)."""
        book = self.package.book(self.sheet)
        wanted = set(self.below)
        for k, xml in enumerate(self.package.parts(self.sheet, self.size)):
            if k in wanted:
                row0, col0, grid = read_part(book, xml)
                self.after += scan_rows(grid, 0, row0=row0, col0=col0, below_foot=True).after


def parallel_parts(read: PartsRead, today: date, storage: bool, on_chunk: OnChunk
                   ) -> Task[None]:
    """Read, convert and check the sheet's parts on every core, handing the rows on in order."""
    global _PARTS
    form, layout = read.form, read.layout
    assert form.path is not None
    book = read.package.book(read.sheet)
    total = read.package.sheet(read.sheet).size
    n = rowcheck.workers()
    per_worker = PARTS_PER_WORKER
    if book.strings:  # every part reads all shared strings: keep that small
        per_worker = max(MIN_PER_WORKER, min(per_worker, total // (4 * n * len(book.strings))))
    read.size = -(-total // (n * per_worker))
    header_width = len(read.header)
    blank = frozenset(rc.index for rc in layout.columns
                      if rc.column is None and not rc.header and rc.index not in read.mapping)
    blank_from = max(header_width, max(read.mapping, default=-1) + 1)
    forms_dir = str(form.path.parent)

    fork = rowcheck.use_fork()
    # forked workers read their parts from a file the XML is written to (unnamed, owner-only,
    # gone when closed or killed: no process holds the whole sheet in memory); spawned ones
    # get each part with its job
    spool = tempfile.TemporaryFile(prefix=".dengji-") if fork else None
    last: list[bytes] = []

    def store(start: int, xml: bytes) -> None:
        if spool is not None:
            os.pwrite(spool.fileno(), xml, start)
        else:
            last.append(xml)

    def jobs() -> Iterator[tuple[PartJob]]:
        for start, end in read.package.spans(read.sheet, read.size, store):
            xml = (start, end) if spool is not None else last.pop()
            yield (PartJob(forms_dir, form.id, today, storage, xml, layout.header_row + 1,
                           blank, blank_from),)

    def receive(result: PartResult, k: int, count: int) -> Progress:
        read.receive(result, k, on_chunk)
        return Progress(k + 1, count * 2, "读取")

    spawn_args = (book, SheetJob(forms_dir, form.id, today, storage, (0, 0), None,
                                 rowcheck.layout_columns(layout), layout.sheet,
                                 layout.header_row))
    _PARTS = (book, layout, spool.fileno()) if spool is not None else None
    try:
        yield from rowcheck.run_pool(check_part, jobs(), fork=fork, receive=receive,
                                     init=None if fork else _init_spawned,
                                     initargs=() if fork else spawn_args)
    finally:
        _PARTS = None
        if spool is not None:
            spool.close()
