"""The append-only, hash-chained audit log.

Each entry's hash is SHA-256 over the canonical JSON of its fields and the previous entry's hash
(64 zeros for the first). The newest ``seq:hash`` is also kept in ``meta.audit_head``, so cutting
entries off the end is noticed as well as editing or deleting one in the middle.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from desktop.storage.tables import AuditEntry, Meta

GENESIS_HASH = "0" * 64
HEAD_KEY = "audit_head"


@dataclass(frozen=True)
class AuditCheck:
    """The result of verify_audit_chain; `message` is Chinese, for the user."""

    ok: bool
    entries: int
    first_bad_seq: int | None
    message: str


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def entry_hash(
    seq: int, ts: str, actor: str, action: str, target: str, detail: Any, prev_hash: str
) -> str:
    payload = {
        "seq": seq,
        "ts": ts,
        "actor": actor,
        "action": action,
        "target": target,
        "detail": detail,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def append_audit(
    session: Session, actor: str, action: str, target: str, detail: dict
) -> AuditEntry:
    """Add the next entry of the chain to `session` (flushed, not committed) and return it."""
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS_HASH)
    ts = _now_iso()
    # Round-trip through JSON so what is hashed now is exactly what verification will re-read.
    detail = json.loads(canonical_json(detail))
    entry = AuditEntry(
        seq=seq,
        ts=ts,
        actor=actor,
        action=action,
        target=target,
        detail=canonical_json(detail),
        prev_hash=prev_hash,
        hash=entry_hash(seq, ts, actor, action, target, detail, prev_hash),
    )
    session.add(entry)
    head = session.get(Meta, HEAD_KEY)
    if head is None:
        session.add(Meta(key=HEAD_KEY, value=f"{seq}:{entry.hash}"))
    else:
        head.value = f"{seq}:{entry.hash}"
    session.flush()
    return entry


def verify_audit_chain(session: Session) -> AuditCheck:
    """Recompute the whole chain; report the first entry that does not fit."""
    where = session.info.get("register_path")
    prefix = f"登记库 {where} 的审计日志" if where else "审计日志"
    total = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()

    def bad(seq: int, what: str) -> AuditCheck:
        return AuditCheck(
            ok=False,
            entries=total,
            first_bad_seq=seq,
            message=f"{prefix}第 {seq} 条{what}，日志可能被改动过。"
            "请保留此文件、不要再修改，并联系上级或技术人员核查。",
        )

    expected_seq, prev_hash = 1, GENESIS_HASH
    rows = session.execute(select(AuditEntry.__table__).order_by(AuditEntry.seq)).yield_per(2000)
    for row in rows:
        if row.seq != expected_seq:
            return bad(expected_seq, "记录缺失")
        try:
            detail = json.loads(row.detail)
        except ValueError:
            return bad(row.seq, "记录内容无法读取")
        if row.prev_hash != prev_hash:
            return bad(row.seq, "记录与前一条对不上")
        digest = entry_hash(
            row.seq, row.ts, row.actor, row.action, row.target, detail, row.prev_hash
        )
        if digest != row.hash:
            return bad(row.seq, "记录的内容与其哈希不符")
        expected_seq, prev_hash = row.seq + 1, row.hash
    last_seq = expected_seq - 1

    head = session.get(Meta, HEAD_KEY)
    if head is not None or last_seq:
        head_seq, _, head_hash = (head.value if head else "0:").partition(":")
        head_seq_n = int(head_seq) if head_seq.isdigit() else -1
        if head_seq_n > last_seq:
            return bad(last_seq + 1, f"及以后的记录缺失（应有 {head_seq_n} 条，实有 {last_seq} 条）")
        if head_seq_n < last_seq:
            return bad(max(head_seq_n, 0) + 1, "记录不是由登记软件正常写入的")
        if head_hash != prev_hash:
            return bad(last_seq, "记录的内容与其哈希不符")
    return AuditCheck(
        ok=True,
        entries=total,
        first_bad_seq=None,
        message=f"{prefix}完整：共 {total} 条记录，哈希链校验通过。",
    )
