"""A sampled record's fields as its printed page shows them (masked), and that page's code,
made without building the page.

The verification workbook shows each record's fields as its page prints them and the page's
QR code text, whose hash is over exactly those printed texts (reports/pdf/content.py). Built
through printed_record, 10,000 records take 1.6 s, a third of it deciding each field's place
on a page the workbook never draws. Here a form's printed order is worked out once, from the
same definition (its sections, then the fields of sections it does not list, as printed_record
groups them), and each record's texts come from the same print_text and digest_of; a test
checks the codes equal printed_record's for every form, and the CLI test that archive-check
reads them as its printed pages. A large sample is printed half here, half on another process.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from desktop.domain.forms import FieldSpec, FormSpec
from desktop.domain.values import upgrade_stored
from desktop.processes import die_with_parent
from desktop.reports.pdf.content import HASH_FORMAT, digest_of, print_text


class FormPrinter:
    """The printed texts and page digest of a form's records (masked, as every output)."""

    def __init__(self, form: FormSpec) -> None:
        self.form = form
        by_section: dict[str | None, list[FieldSpec]] = {}
        for spec in form.fields:
            by_section.setdefault(spec.section, []).append(spec)
        order = [spec for s in form.sections if s.id in by_section
                 for spec in by_section.pop(s.id)]
        order += [spec for specs in by_section.values() for spec in specs]
        self.fields = tuple(order)
        self.labels = tuple(spec.label for spec in order)
        self.renamed = any(spec.renamed_from for spec in form.fields)
        self._texts: list[tuple[str, Callable[[Any], Any]]] = [
            (spec.id, _group(spec) if spec.type == "group" else _plain(spec))
            for spec in order]

    def print(self, record_id: str, values: dict[str, Any]) -> tuple[tuple[str, ...], str]:
        """The record's cells (a group: one line per row, sub-values by ／) and its page's
        digest (the 16 characters of its QR code's hash)."""
        if self.renamed:
            values = upgrade_stored(self.form.fields, dict(values))
        get = values.get
        printed = [[fid, text(get(fid))] for fid, text in self._texts]
        digest = digest_of([HASH_FORMAT, "R", self.form.id, self.form.version, record_id,
                            printed])
        return tuple(v if v.__class__ is str else "\n".join("／".join(r) for r in v)
                     for _, v in printed), digest


def _plain(spec: FieldSpec) -> Callable[[Any], str]:
    return lambda value: print_text(spec, value, masked=True)


def _group(spec: FieldSpec) -> Callable[[Any], list[list[str]]]:
    subs = spec.fields

    def rows(value: Any) -> list[list[str]]:
        return [[print_text(sub, row.get(sub.id) if isinstance(row, dict) else None,
                            masked=True) for sub in subs]
                for row in (value if isinstance(value, list) else [])]
    return rows


PARALLEL_PRINT = 2000  # from this many records on, half are printed on another process
_printers: dict[str, FormPrinter] = {}  # a print worker's printers (set when it starts)


def print_rows(printers: dict[str, FormPrinter], rows: Sequence[tuple[str, str, str]], *,
               parallel: bool | None = None) -> list[tuple[tuple[str, ...], str]]:
    """The cells and page digest of each (record id, form id, stored JSON) row, in order, by
    the printers of their forms. From PARALLEL_PRINT rows on (forked, on Linux with two cores
    or more) the second half is printed on another process meanwhile."""
    if parallel is None:
        parallel = (len(rows) >= PARALLEL_PRINT and sys.platform.startswith("linux")
                    and (os.cpu_count() or 1) > 1)
    if not parallel or len(rows) < 2:
        return _print(printers, rows)
    half = len(rows) // 2
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                               initializer=_start, initargs=(os.getpid(), printers))
    try:
        other = pool.submit(_print_part, list(rows[half:]))
        return _print(printers, rows[:half]) + other.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _print(printers: dict[str, FormPrinter], rows: Sequence[tuple[str, str, str]]
           ) -> list[tuple[tuple[str, ...], str]]:
    return [printers[form_id].print(rid, json.loads(data)) for rid, form_id, data in rows]


def _start(parent: int, printers: dict[str, FormPrinter]) -> None:
    die_with_parent(parent)
    _printers.update(printers)


def _print_part(rows: list[tuple[str, str, str]]) -> list[tuple[tuple[str, ...], str]]:
    return _print(_printers, rows)
