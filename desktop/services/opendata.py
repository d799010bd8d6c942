"""开放数据 for the national lawyer management system (issue #17, 对接): the register's accepted
records in an open, versioned form another system loads without Dengji (docs/opendata.md).

`export_open(register, forms, out, actor=…)` writes into the folder `out` (new, or empty):

- `<form>-<version>.jsonl`: one line per record (formspec.jsonschema.LineMaker: record id,
  unit, form and version, state, every field; codes with their labels, dates ISO);
- `<form>-<version>.schema.json`: the JSON Schema (draft 2020-12) of those lines;
- 数据字典.xlsx and 数据字典.md: every field, its type, code table and rules with their source;
- manifest.json: the format, the unit, the time, and per file its records and SHA-256.

What is exported is what a package would carry upward (exchange/outbound.py): the own unit's
records that are no draft, and the accepted records of the units below from their current
packages. Values are FULL (no masking): the export is for the national system and is audited
(``open.export``) before the set appears.

A folder that exists and holds anything is refused before anything is written. The files are
written into a hidden part folder beside `out`, flushed, then the audit entry is committed and
the part folder renamed to `out` in one step: a kill leaves no export or all of it (the part
folder is noted while it exists and removed at the next start, paths.tidy).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
from sqlalchemy import func, or_, select

from desktop.domain.forms import FormSet, FormSpec
from desktop.domain.levels import LEVEL_NAMES
from desktop.domain.states import ACCEPTED, DRAFT
from desktop.domain.values import upgrade_stored
from desktop.errors import KnownError, UsageError
from desktop.exchange.format.manifest import KIND_REGISTRATION
from desktop.formspec.dictionary import Dictionary
from desktop.formspec.jsonschema import FORMAT, LineMaker, file_stem, form_schema
from desktop.paths import tracked_part
from desktop.progress import Progress, Task
from desktop.reports.dictionary.markdown import dictionary_markdown
from desktop.reports.dictionary.workbook import write_dictionary
from desktop.services.listing import forms_for_level
from desktop.storage import Record, Register, Unit, append_audit
from desktop.storage.concurrency import require_audit
from desktop.storage.files import fsync, write_error
from desktop.storage.tables import PACKAGE_RECEIVED, Package

MANIFEST = "manifest.json"
DICTIONARY = "数据字典"
#: records read and written between two progress reports
STEP = 5000

__all__ = ["OpenExport", "check_folder", "export_open", "open_counts", "open_lines"]


@dataclass(frozen=True)
class OpenExport:
    folder: Path
    counts: dict[str, int]  # form id → records
    files: tuple[str, ...]

    @property
    def records(self) -> int:
        return sum(self.counts.values())


def check_folder(out: Path) -> None:
    """Refuse a target that is a file or a folder holding anything (nothing is written)."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UsageError(f"导出位置 {out} 已有同名文件。开放数据导出到一个新的空文件夹，"
                         "请换一个文件夹名称。")
    if out.is_dir() and any(out.iterdir()):
        raise UsageError(f"文件夹 {out} 不是空的，未导出任何文件。开放数据须导出到一个新的"
                         "空文件夹（以免与旧文件混在一起），请新建或另选一个空文件夹。")


def _accepted(register: Register, form_id: str):
    """What a package would carry of a form (exchange/outbound.py's rule): own records that
    are no draft, and accepted records of current received packages."""
    current = select(Package.id).where(Package.direction == PACKAGE_RECEIVED,
                                       Package.kind == KIND_REGISTRATION,
                                       Package.superseded_by.is_(None))
    return (select(Record.id, Record.unit_id, Record.state, Record.data)
            .where(Record.form_id == form_id,
                   or_((Record.unit_id == register.own_unit_id) & (Record.state != DRAFT),
                       (Record.state == ACCEPTED) & Record.package_id.in_(current))))


def open_lines(register: Register, session, form: FormSpec) -> Iterator[bytes]:
    """The open lines (UTF-8, each ending in a newline) of the form's exported records, in the
    register's order (no sort: a receiving system reads them by record id)."""
    units = {u.id: {"code": u.code, "name": u.name, "level": u.level}
             for u in session.execute(select(Unit)).scalars()}
    maker = LineMaker(form)
    renamed = any(f.renamed_from for f in form.fields)
    rows = session.execute(_accepted(register, form.id), execution_options={"yield_per": 2000})
    loads, dumps, line = orjson.loads, orjson.dumps, maker.line
    for rid, unit_id, state, data in rows:
        values = loads(data)
        if renamed:
            values = upgrade_stored(form.fields, values)
        yield dumps(line(rid, units[unit_id], state, values)) + b"\n"


class _Part:
    """A file of the part folder, hashed and counted as it is written."""

    def __init__(self, folder: Path, name: str) -> None:
        self.name, self.path = name, folder / name
        self.sha, self.size, self.lines = hashlib.sha256(), 0, 0
        self.fh = open(self.path, "xb")  # noqa: SIM115 (closed by close())

    def write(self, data: bytes) -> None:
        self.fh.write(data)
        self.sha.update(data)
        self.size += len(data)

    def close(self) -> dict:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        return {"sha256": self.sha.hexdigest(), "bytes": self.size}


def _write(path: Path, data: bytes) -> dict:
    """A new file of the part folder, flushed to disk; its manifest entry."""
    with open(path, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _flushed(path: Path) -> dict:
    """A file another writer made (the workbook), flushed to disk; its manifest entry."""
    with open(path, "rb+") as fh:
        data = fh.read()
        os.fsync(fh.fileno())
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def export_open(register: Register, forms: FormSet, out: Path, *, actor: str = "命令行",
                now: datetime | None = None) -> Task[OpenExport]:
    """Write the open data export into the new or empty folder `out` (see the module)."""
    out = Path(out).absolute()
    check_folder(out)
    if not out.parent.is_dir():
        raise UsageError(f"找不到上级文件夹 {out.parent}，请先建立它或另选位置。")
    now = now or datetime.now(UTC)
    with register.session() as session:
        require_audit(session)  # a role that may not append to the audit log: nothing written
        own = session.get(Unit, register.own_unit_id)
        chosen = _chosen(forms, own)
        part = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.part"
        with tracked_part(part):
            try:
                files, counts = yield from _write_all(register, session, chosen, part, own, now)
                append_audit(session, actor, "open.export", out.name, {
                    "folder": out.name, "format": FORMAT, "full": True, "records": counts,
                    "files": {name: entry["sha256"] for name, entry in files.items()}})
                session.flush()
                check_folder(out)  # nothing appeared there meanwhile
                session.commit()
            except BaseException as err:
                shutil.rmtree(part, ignore_errors=True)
                if isinstance(err, OSError):
                    raise write_error(out, err) from err
                raise
            _publish(part, out)
    yield Progress(1, 1, "已导出")
    return OpenExport(out, counts, tuple(files))


def _write_all(register: Register, session, chosen: list[FormSpec], part: Path, own: Unit | None,
               now: datetime):
    part.mkdir(mode=0o700)
    files: dict[str, dict] = {}
    counts: dict[str, int] = {}
    # the progress bar's total: the forms' records (the form index alone, no row is read);
    # the export takes fewer (no drafts, nothing unaccepted), so the bar is filled at the end
    total = session.execute(select(func.count()).select_from(Record)
                            .where(Record.form_id.in_([f.id for f in chosen]))).scalar_one()
    done = 0
    yield Progress(0, max(total, 1), "导出开放数据")
    for form in chosen:
        stem = file_stem(form)
        schema = (json.dumps(form_schema(form), ensure_ascii=False, indent=1) + "\n").encode()
        files[f"{stem}.schema.json"] = _write(part / f"{stem}.schema.json", schema) | {
            "form": form.id, "form_version": form.version}
        data = _Part(part, f"{stem}.jsonl")
        try:
            n = 0
            for line in open_lines(register, session, form):
                data.write(line)
                n += 1
                if n % STEP == 0:
                    yield Progress(done + n, max(total, 1), f"导出 {form.display_title}")
        finally:
            entry = data.close()
        done += n
        counts[form.id] = n
        files[data.name] = entry | {"form": form.id, "form_version": form.version,
                                    "records": n, "schema": f"{stem}.schema.json"}
    yield Progress(total, max(total, 1), "编写数据字典")
    dictionary = Dictionary(tuple(chosen))
    title = "登记 Dengji 开放数据 数据字典"
    write_dictionary(part / f"{DICTIONARY}.xlsx", dictionary, title)
    intro = [f"格式 {FORMAT}；导出单位：{own.name if own else ''}（{own.code if own else ''}）；"
             f"导出时间 {now.isoformat(timespec='seconds')}。",
             "每个表单版本一个 JSON Lines 文件（每行一条记录）和它的 JSON Schema（draft 2020-12）。"
             "有代码表的栏目同时给出代码和名称，日期为 ISO 格式。数据为完整号码，请按涉密要求保管。"]
    files[f"{DICTIONARY}.xlsx"] = _flushed(part / f"{DICTIONARY}.xlsx")
    files[f"{DICTIONARY}.md"] = _write(
        part / f"{DICTIONARY}.md",
        (dictionary_markdown(dictionary, title, intro) + "\n").encode("utf-8"))
    manifest = {
        "format": FORMAT,
        "created": now.isoformat(timespec="seconds"),
        "unit": ({"code": own.code, "name": own.name, "level": own.level,
                  "level_name": LEVEL_NAMES.get(own.level, own.level)} if own else None),
        "full_values": True,
        "forms": [{"form": f.id, "form_version": f.version, "title": f.display_title,
                   "records": counts[f.id], "data": f"{file_stem(f)}.jsonl",
                   "schema": f"{file_stem(f)}.schema.json"} for f in chosen],
        "files": dict(sorted(files.items())),
    }
    _write(part / MANIFEST, (json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True)
                             + "\n").encode("utf-8"))
    fsync(part, directory=True)
    return files, counts


def open_counts(register: Register, forms: FormSet) -> Task[dict[str, int]]:
    """How many records of each form the export would take (what the window's confirmation
    says before anything is written; each count reads the form's rows)."""
    with register.session() as session:
        chosen = _chosen(forms, session.get(Unit, register.own_unit_id))
        counts = {}
        for i, form in enumerate(chosen):
            yield Progress(i, len(chosen), f"统计 {form.display_title}")
            counts[form.id] = _count(register, session, form)
    return counts


def _chosen(forms: FormSet, own: Unit | None) -> list[FormSpec]:
    """The forms the unit keeps (all of them without an own unit)."""
    return forms_for_level(forms, own.level) if own else list(forms.forms.values())


def _count(register: Register, session, form: FormSpec) -> int:
    inner = _accepted(register, form.id).subquery()
    return session.execute(select(func.count()).select_from(inner)).scalar_one()


def _publish(part: Path, out: Path) -> None:
    """The part folder becomes `out` in one rename (an empty `out` is removed first)."""
    try:
        if out.is_dir():
            out.rmdir()  # empty: check_folder said so, and a non-empty one refuses to go
        os.replace(part, out)
        fsync(out.parent, directory=True)
    except OSError as err:
        with contextlib.suppress(OSError):
            shutil.rmtree(part)
        raise KnownError(f"开放数据已写好并记入操作日志，但无法保存为文件夹 {out}"
                         f"（{err.strerror or err}）。请检查该位置后重新导出到一个空文件夹。"
                         ) from err

