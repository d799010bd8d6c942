"""The audit anchors a receiving register keeps (docs/packages.md, "Audit anchoring"): list
them, and forget one when a sender's broken chain has been settled with it (a restored backup),
so that its next package starts a new anchor. Forgetting is audited, so the level above sees
it in this register's own chain."""

from __future__ import annotations

from desktop.errors import KnownError, UsageError
from desktop.exchange import anchor
from desktop.services.packages.io import ACTOR
from desktop.storage import Register, append_audit
from desktop.storage.tables import AuditAnchor


def list_anchors(register: Register) -> list[AuditAnchor]:
    with register.session() as session:
        rows = anchor.anchors(session)
        for row in rows:
            session.expunge(row)
    return rows


def forget_anchor(register: Register, sender_code: str, reason: str, actor: str = ACTOR
                  ) -> AuditAnchor:
    """Forget `sender_code`'s anchor, with the reason the clerk gives (audited)."""
    if not reason.strip():
        raise UsageError("请用 --reason 写明为什么接受该单位改变了的审计日志（例如：已电话核实，"
                         "该单位于某日用备份恢复了登记库）。")
    with register.session() as session:
        row = anchor.forget_anchor(session, sender_code)
        if row is None:
            raise KnownError(f"本登记库没有单位代码 {sender_code} 的审计日志锚点（尚未合并过它的数据包，"
                             "或已清除）。可用 dengji anchors list --db 登记库 查看。")
        append_audit(session, actor, "anchor.forget", sender_code, {
            "seq": row.seq, "hash": row.hash, "package": row.package_id,
            "reason": reason.strip()})
        session.commit()
        session.expunge(row)
    return row
