"""Conflicts: the same person (or licence) in records of two units, for the clerk to decide.

Decisions: keep one (the other record leaves this register; it stays in its package's
history), keep both with a note, or return one to its sender (a comment drafted for that
package's next return file). Repository functions: no commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlmodel import Session

from desktop.errors import KnownError, UsageError
from desktop.storage import Record, Unit
from desktop.storage.tables import Conflict, ReturnNote, utcnow

ACTIONS = ("keep_a", "keep_b", "keep_both", "return_a", "return_b")
ACTION_NAMES = {"keep_a": "保留甲（删除乙）", "keep_b": "保留乙（删除甲）",
                "keep_both": "两条都保留", "return_a": "退回甲的报送单位",
                "return_b": "退回乙的报送单位", "removed": "记录已在处理其他冲突时删除"}
KIND_NAMES = {"person": "公民身份号码", "licence": "律师执业证号", "org_name": "党组织名称"}


@dataclass(frozen=True)
class ConflictView:
    id: int
    kind: str
    status: str
    resolution: str | None
    note: str
    record_a: str
    name_a: str
    unit_a: str  # unit name (code)
    record_b: str
    name_b: str
    unit_b: str
    created_at: datetime

    @property
    def what(self) -> str:
        return KIND_NAMES.get(self.kind, self.kind)


def list_conflicts(session: Session, *, open_only: bool = True) -> list[ConflictView]:
    stmt = select(Conflict)
    if open_only:
        stmt = stmt.where(Conflict.status == "open")
    conflicts = list(session.execute(stmt.order_by(Conflict.id)).scalars())
    ids = sorted({c.record_a for c in conflicts} | {c.record_b for c in conflicts})
    names: dict[str, str] = {}
    for i in range(0, len(ids), 900):
        names.update(dict(session.execute(select(Record.id, Record.name)
                                          .where(Record.id.in_(ids[i:i + 900]))).all()))
    units = {u.id: f"{u.name}（{u.code}）" for u in session.execute(select(Unit)).scalars()}
    return [ConflictView(c.id, c.kind, c.status, c.resolution, c.note, c.record_a,
                         names.get(c.record_a, "（已删除）"), units.get(c.unit_a, c.unit_a),
                         c.record_b, names.get(c.record_b, "（已删除）"),
                         units.get(c.unit_b, c.unit_b), c.created_at)
            for c in conflicts]


def resolve(session: Session, conflict_id: int, action: str, note: str, actor: str
            ) -> Conflict:
    """Apply a decision to an open conflict (no commit)."""
    if action not in ACTIONS:
        raise UsageError(f"处理方式“{action}”无效，可选：{'、'.join(ACTIONS)}")
    conflict = session.get(Conflict, conflict_id)
    if conflict is None:
        raise UsageError(f"没有编号为 {conflict_id} 的冲突。请用 dengji conflicts list 查看。")
    if conflict.status != "open":
        raise KnownError(f"冲突 {conflict_id} 已处理过（{ACTION_NAMES.get(conflict.resolution or '', '')}）。")
    note = note.strip()
    if action == "keep_both" and not note:
        raise KnownError("两条都保留时请写明理由（--note），例如“同一人在两所兼职，已核实”。")
    now = utcnow()
    if action in ("keep_a", "keep_b"):
        gone = conflict.record_b if action == "keep_a" else conflict.record_a
        session.execute(delete(Record).where(Record.id == gone))
        for other in session.execute(select(Conflict).where(
                Conflict.status == "open", Conflict.id != conflict.id,
                (Conflict.record_a == gone) | (Conflict.record_b == gone))).scalars():
            other.status, other.resolution, other.resolved_at = "resolved", "removed", now
            other.resolved_by = actor
    elif action in ("return_a", "return_b"):
        rid = conflict.record_a if action == "return_a" else conflict.record_b
        other = conflict.record_b if action == "return_a" else conflict.record_a
        record = session.get(Record, rid)
        if record is None or record.package_id is None:
            raise KnownError("这条记录不是收到的数据包中的记录（是本单位自己的记录），无法退回；"
                             "请改用“保留”处理。")
        other_rec = session.get(Record, other)
        unit = session.get(Unit, other_rec.unit_id) if other_rec else None
        text = note or (f"此人已由{unit.name}登记（{other_rec.name}），请核实后删除或说明。"
                        if unit and other_rec else "此人已由其他单位登记，请核实。")
        session.add(ReturnNote(package_id=record.package_id, record_id=rid,
                               form_id=record.form_id, field=None, label="", comment=text,
                               direction="sent", status="draft", author=actor,
                               created_at=now))
    conflict.status, conflict.resolution, conflict.note = "resolved", action, note
    conflict.resolved_by, conflict.resolved_at = actor, now
    session.flush()
    return conflict
