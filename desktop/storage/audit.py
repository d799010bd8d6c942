"""The append-only, hash-chained audit log.

Each entry's hash is SHA-256 over the canonical JSON of its fields and the previous entry's hash
(64 zeros for the first). The newest ``seq:hash`` is also kept in ``meta.audit_head``, so cutting
entries off the end is noticed as well as editing or deleting one in the middle.

Every entry that changes records holds their content digest (domain/digest.py, the digest a
package lists): ``record_hash`` for the one record it targets, ``record_hashes`` ({id: digest})
for many, or a ``hash`` in each of its ``changes``. `check_records` compares every stored
record with the last entry that changed it, so an edit made outside the application shows up
unless the chain is rewritten too (which the level above sees through its anchor).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, func, select, type_coerce
from sqlalchemy import text as sql_text
from sqlmodel import Session

from desktop.domain.digest import record_digest
from desktop.storage.server.sealing import SealingError, open_value
from desktop.storage.tables import AuditEntry, Meta, Record

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
    """Add the next entry of the chain to `session` (flushed, not committed) and return it.

    On PostgreSQL the chain's head row is locked first (until the transaction ends): two
    clerks saving at once append one after the other instead of both taking the same `seq`.
    Services append just before they commit, so the wait is the other's commit, no more."""
    if session.get_bind().dialect.name != "sqlite":
        session.get(Meta, HEAD_KEY, with_for_update=True, populate_existing=True)
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS_HASH)
    actor = _with_role(session, actor)
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


def _with_role(session: Session, actor: str) -> str:
    """On PostgreSQL the entry names the database role that wrote it (``张三@clerk_zhang``;
    the role alone for the program's own work): several clerks share one register there."""
    if session.get_bind().dialect.name != "postgresql":
        return actor
    role = session.execute(sql_text("SELECT current_user")).scalar_one()
    return role if actor in ("system", role) else f"{actor}@{role}"


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
    # the detail as stored, opened here (sealed on PostgreSQL): a row whose detail does not
    # open (written in clear behind the program's back, or moved) is reported, not raised
    table, bind = AuditEntry.__table__, session.get_bind()
    columns = [type_coerce(c, Text).label(c.name) if c.name == "detail" else c
               for c in table.columns]
    rows = session.execute(select(*columns).order_by(table.c.seq)).yield_per(2000)
    for row in rows:
        if row.seq != expected_seq:
            return bad(expected_seq, "记录缺失")
        try:
            detail = json.loads(open_value(bind, "audit_entry", "detail", row.seq, row.detail))
        except (ValueError, TypeError, SealingError):
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


# --- records against the chain ------------------------------------------------------------

#: detail keys of an entry that changes records
RECORD_HASH, RECORD_HASHES = "record_hash", "record_hashes"
#: actions whose target is the one record they change (older entries hold no hash)
RECORD_ACTIONS = frozenset({"record.save", "record.submit"})
_CHUNK = 900
_SHOWN = 10


def _content_hash(record_id: str, form_id: str, version: str, revision: int, data: str) -> str:
    try:
        values = json.loads(data)
    except ValueError:
        return "unreadable"
    return record_digest(record_id, form_id, version, revision, values)


def content_hashes(session: Session, record_ids: Any) -> dict[str, str]:
    """{record id: content digest} of records as stored now (flushed), for an audit entry."""
    ids, out = list(record_ids), {}
    for i in range(0, len(ids), _CHUNK):
        for rid, form_id, version, revision, data in session.execute(
                select(Record.id, Record.form_id, Record.form_version, Record.revision,
                       Record.data).where(Record.id.in_(ids[i:i + _CHUNK]))):
            out[rid] = _content_hash(rid, form_id, version, revision, data)
    return out


@dataclass(frozen=True)
class ChangedRecord:
    """A stored record that is not what the last audit entry about it says."""

    record_id: str
    form_id: str
    name: str  # masked: the first character only
    seq: int  # the audit entry that last changed it through the application


@dataclass(frozen=True)
class RecordsCheck:
    """The result of check_records; `message` is Chinese, for the user."""

    checked: int  # records compared with the content digest of their last audit entry
    unhashed: int  # records whose last change is older than content digests in the log
    changed: tuple[ChangedRecord, ...]
    message: str

    @property
    def ok(self) -> bool:
        return not self.changed


def _expected(session: Session) -> dict[str, tuple[int, str | None]]:
    """{record id: (seq, digest or None)} of the last entry that changed each record."""
    out: dict[str, tuple[int, str | None]] = {}
    rows = session.execute(select(AuditEntry.seq, AuditEntry.action, AuditEntry.target,
                                  AuditEntry.detail).order_by(AuditEntry.seq)).yield_per(2000)
    for seq, action, target, text in rows:
        if action not in RECORD_ACTIONS and "hash" not in text and '"changes"' not in text:
            continue
        try:
            detail = json.loads(text)
        except ValueError:
            continue
        if not isinstance(detail, dict):
            continue
        if action in RECORD_ACTIONS or RECORD_HASH in detail:
            out[target] = (seq, detail.get(RECORD_HASH))
        many = [detail.get(RECORD_HASHES)]
        many += [p.get(RECORD_HASHES) for p in detail.get("packages") or []
                 if isinstance(p, dict)]
        for hashes in many:
            if isinstance(hashes, dict):
                out.update((rid, (seq, h)) for rid, h in hashes.items())
        changes = detail.get("changes")
        for change in changes if isinstance(changes, list) else []:
            if isinstance(change, dict) and isinstance(change.get("record"), str):
                out[change["record"]] = (seq, change.get("hash"))
    return out


def check_records(session: Session) -> RecordsCheck:
    """Compare every stored record with the content digest of the last audit entry that
    changed it. Records whose last change predates content digests are counted, not judged."""
    expected = _expected(session)
    checked = unhashed = 0
    changed: list[ChangedRecord] = []
    rows = session.execute(select(Record.id, Record.form_id, Record.form_version,
                                  Record.revision, Record.data, Record.name)
                           .order_by(Record.unit_id, Record.form_id, Record.id)).yield_per(2000)
    for rid, form_id, version, revision, data, name in rows:
        seq, wanted = expected.get(rid, (0, None))
        if not isinstance(wanted, str):
            unhashed += 1
            continue
        checked += 1
        if _content_hash(rid, form_id, version, revision, data) != wanted:
            masked = (name or "")[:1] + "*" * max(len(name or "") - 1, 0)
            changed.append(ChangedRecord(rid, form_id, masked, seq))
    return RecordsCheck(checked, unhashed, tuple(changed),
                        _records_message(session, checked, unhashed, changed))


def _records_message(session: Session, checked: int, unhashed: int,
                     changed: list[ChangedRecord]) -> str:
    where = session.info.get("register_path")
    prefix = f"登记库 {where} 中" if where else "登记库中"
    later = (f"另有 {unhashed} 条记录的最后一次改动早于审计日志记录内容摘要，无法核对"
             "（这些记录下次保存后即可核对）。" if unhashed else "")
    if not changed:
        return f"{prefix} {checked} 条记录的内容与审计日志一致。{later}"
    shown = "；".join(f"表单 {c.form_id} 的记录 {c.record_id}（{c.name}，审计日志第 {c.seq} 条"
                     "之后被改动）" for c in changed[:_SHOWN])
    more = f"等共 {len(changed)} 条" if len(changed) > _SHOWN else f"共 {len(changed)} 条"
    return (f"{prefix}有记录的内容与审计日志不符，{more}：{shown}。这些记录是在登记软件之外被直接"
            "改动的。请保留此文件、不要再修改，联系技术人员核查；确认无误前不要导出数据包，可用"
            f"备份恢复改动前的登记库（dengji restore）。已核对 {checked} 条记录。{later}")
