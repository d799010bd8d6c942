"""Returning a package with comments, and importing a return file (no commits).

The receiving clerk writes comments on records or single fields; a return marks the package
and its records 已退回 and produces a small signed return file (.djret), encrypted for the
sender. The sender imports it: the comments are stored beside the records (the editor shows
them next to the fields), the records become 已退回, and the sender's next export answers them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from desktop.domain.forms import FormSet
from desktop.errors import KnownError, UsageError
from desktop.exchange import keyevents
from desktop.exchange.format.reader import Verification
from desktop.exchange.format.rotation import ROTATIONS
from desktop.exchange.format.writer import Sender, Written, write_return
from desktop.inputs import regular_file
from desktop.storage import Record
from desktop.storage.tables import (
    PACKAGE_RECEIVED,
    PACKAGE_SENT,
    Package,
    ReturnNote,
    utcnow,
)

RETURNED = "已退回"
_RECORD_KEYS = ("record_id", "记录编号", "id")
_FIELD_KEYS = ("field", "栏目", "label")
_COMMENT_KEYS = ("comment", "意见")


@dataclass(frozen=True)
class NoteInput:
    record_id: str | None
    form_id: str | None
    field: str | None  # field id
    label: str
    comment: str


def find_package(session: Session, text: str, *, direction: str = PACKAGE_RECEIVED) -> Package:
    """A registration package by its id, an id prefix of 8+ characters, or its file name."""
    text = text.strip()
    stmt = select(Package).where(Package.direction == direction,
                                 Package.kind == "registration")
    if len(text) >= 8:
        found = list(session.execute(stmt.where(
            Package.id.startswith(text, autoescape=True) | (Package.file_name == text)
        )).scalars())
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise UsageError(f"编号“{text}”对应不止一个数据包，请写出完整编号。")
    raise UsageError(f"登记库中没有编号为“{text}”的已收数据包。请用 dengji units list 查看各单位"
                     "最近收到的数据包编号。")


def read_comments(path: Path, session: Session, forms: FormSet, package_id: str
                  ) -> list[NoteInput]:
    """Read a comments file (.jsonl: record id, field label, comment); every line is checked
    against the package's records and forms, and all problems are reported together."""
    try:
        text = regular_file(path, "意见文件").read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"无法读取意见文件 {path}：{err}。请提供 UTF-8 编码的 .jsonl 文件。") from err
    lines: list[tuple[int, Any]] = []
    problems: list[str] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            lines.append((n, json.loads(line)))
        except (ValueError, RecursionError):
            problems.append(f"第 {n} 行不是有效的 JSON")
    return check_comments(lines, session, forms, package_id, f"意见文件 {path}", problems)


def check_comments(lines: Iterable[tuple[int, Any]], session: Session, forms: FormSet,
                   package_id: str, where: str = "意见", problems: list[str] | None = None
                   ) -> list[NoteInput]:
    """Check comments — (line number, {record id, field label, comment}) — against the
    package's records and forms; all problems are reported together."""
    records = {rid: fid for rid, fid in session.execute(
        select(Record.id, Record.form_id).where(Record.package_id == package_id))}
    out: list[NoteInput] = []
    problems = list(problems or [])
    for n, obj in lines:
        if not isinstance(obj, dict):
            problems.append(f"第 {n} 行应为一个 JSON 对象")
            continue
        rid = next((obj[k] for k in _RECORD_KEYS if obj.get(k)), None)
        label = next((obj[k] for k in _FIELD_KEYS if obj.get(k)), None)
        comment = next((obj[k] for k in _COMMENT_KEYS if obj.get(k)), None)
        if not isinstance(comment, str) or not comment.strip():
            problems.append(f"第 {n} 行缺少意见（comment）")
            continue
        if rid is not None and rid not in records:
            problems.append(f"第 {n} 行的记录编号 {rid} 不在这个数据包中")
            continue
        form = forms.forms.get(records[rid]) if rid else None
        field = None
        if label is not None:
            spec = form.field_by_label(str(label)) if form else None
            if spec is None and form and form.has_field(str(label)):
                spec = form.field(str(label))
            if spec is None:
                problems.append(f"第 {n} 行的栏目“{label}”不是该记录所在表单的栏目"
                                if form else f"第 {n} 行写了栏目但没有记录编号")
                continue
            field, label = spec.id, spec.label
        out.append(NoteInput(rid, form.id if form else None, field, label or "",
                             comment.strip()))
    if problems:
        raise KnownError(f"{where} 有 {len(problems)} 处问题，未退回：\n"
                         + "\n".join(problems[:20]))
    return out


def return_package(session: Session, package: Package, notes: list[NoteInput], sender: Sender,
                   recipient, form_set: str, actor: str) -> Written:
    """Store the comments (and any drafted ones), mark the package and its records returned,
    and write the signed return file."""
    drafts = list(session.execute(select(ReturnNote).where(
        ReturnNote.package_id == package.id, ReturnNote.status == "draft")).scalars())
    if not notes and not drafts:
        raise KnownError("没有任何意见，未退回。请在意见文件中写明退回的理由（每行一条：记录编号、"
                         "栏目、意见）。")
    lines = [{"record_id": n.record_id, "form_id": n.form_id, "field": n.field,
              "label": n.label, "comment": n.comment} for n in notes]
    lines += [{"record_id": d.record_id, "form_id": d.form_id, "field": d.field,
               "label": d.label, "comment": d.comment} for d in drafts]
    rotations = {k: v for k, v in keyevents.carried(session, sender.info.code).items()
                 if k == ROTATIONS}  # a return says nothing of other units' keys
    written = write_return(lines, package.id, sender, recipient, form_set, rotations)
    now = utcnow()
    for d in drafts:
        d.status, d.return_id = "open", written.package_id
    for n in notes:
        session.add(ReturnNote(return_id=written.package_id, package_id=package.id,
                               record_id=n.record_id, form_id=n.form_id, field=n.field,
                               label=n.label, comment=n.comment, direction=PACKAGE_SENT,
                               status="open", author=actor, created_at=now))
    package.status = "returned"
    session.execute(update(Record).where(Record.package_id == package.id)
                    .values(state=RETURNED, updated_at=now))
    m = written.manifest
    session.add(Package(
        id=written.package_id, kind="return", direction=PACKAGE_SENT,
        sender_code=sender.info.code, sender_name=sender.info.name,
        sender_level=sender.info.level, recipient_code=recipient.code,
        recipient_fingerprint=recipient.fingerprint, sequence=0, returns=package.id,
        created=datetime.fromisoformat(m["created"]), file_name=written.file_name,
        file_sha256=hashlib.sha256(written.data).hexdigest(), signer_fingerprint=sender.info.fingerprint,
        record_count=len(lines), status="sent",
        summary=json.dumps({"comments": len(lines)}, ensure_ascii=False)))
    session.flush()
    return written


def apply_return(session: Session, v: Verification, own_unit_id: str, file_name: str) -> int:
    """Store a verified return file's comments beside the own records; returns how many."""
    m, comments = v.manifest, v.comments
    assert m is not None and comments is not None and v.ok
    own_ids = set()
    ids = sorted({c.record_id for c in comments if c.record_id})
    for i in range(0, len(ids), 900):
        own_ids.update(session.execute(select(Record.id).where(
            Record.id.in_(ids[i:i + 900]), Record.unit_id == own_unit_id)).scalars())
    now = utcnow()
    for c in comments:
        session.add(ReturnNote(return_id=m.package_id, package_id=m.returns or "",
                               record_id=c.record_id, form_id=c.form_id, field=c.field,
                               label=c.label, comment=c.comment, direction=PACKAGE_RECEIVED,
                               status="open", author=m.sender.name, created_at=now))
    if own_ids:
        session.execute(update(Record).where(Record.id.in_(sorted(own_ids)))
                        .values(state=RETURNED, updated_at=now))
    session.add(Package(
        id=m.package_id, kind="return", direction=PACKAGE_RECEIVED, sender_code=m.sender.code,
        sender_name=m.sender.name, sender_level=m.sender.level,
        recipient_code=m.recipient.code, recipient_fingerprint=m.recipient_fingerprint,
        sequence=0, returns=m.returns, created=datetime.fromisoformat(m.created),
        file_name=file_name, file_sha256=v.sha256, signer_fingerprint=m.signer_fingerprint,
        record_count=len(comments), status="received",
        summary=json.dumps({"comments": len(comments)}, ensure_ascii=False)))
    session.flush()
    return len(comments)


@dataclass(frozen=True)
class NoteView:
    """A comment as the editor shows it beside a field."""

    id: int
    record_id: str | None
    field: str | None
    label: str
    comment: str
    author: str
    created_at: datetime
    status: str


def notes_for(session: Session, record_id: str | None = None, *, open_only: bool = True,
              direction: str = PACKAGE_RECEIVED) -> list[NoteView]:
    """Return comments (received by default) on one record, or on every record."""
    stmt = select(ReturnNote).where(ReturnNote.direction == direction)
    if record_id is not None:
        stmt = stmt.where(ReturnNote.record_id == record_id)
    if open_only:
        stmt = stmt.where(ReturnNote.status == "open")
    return [NoteView(n.id, n.record_id, n.field, n.label, n.comment, n.author, n.created_at,
                     n.status)
            for n in session.execute(stmt.order_by(ReturnNote.id)).scalars()]


def answer_notes(session: Session, package_id: str) -> int:
    """Mark the open received comments answered by the package just exported."""
    result = session.execute(update(ReturnNote).where(
        ReturnNote.direction == PACKAGE_RECEIVED, ReturnNote.status == "open")
        .values(status="answered", answered_in=package_id, answered_at=utcnow()))
    return result.rowcount or 0
