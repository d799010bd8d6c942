"""The audit anchors a receiving register keeps: the head of each sender's audit chain as the
last package merged from it carried it (table audit_anchor). A later package must extend it
(exchange/format/chain.py). Repository functions: they add to the caller's session and never
commit, so an anchor moves in the same transaction as the merge that accepted it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from desktop.exchange.format.chain import Anchor, ChainEntry, anchor_of
from desktop.storage.tables import AuditAnchor, utcnow


def load_anchors(session: Session) -> dict[str, Anchor]:
    """sender code -> its anchor, for the register view."""
    return {row.sender_code: Anchor(row.seq, row.hash, row.trail)
            for row in session.execute(select(AuditAnchor)).scalars()}


def store_anchor(session: Session, sender_code: str, entries: tuple[ChainEntry, ...] | None,
                 package_id: str) -> Anchor | None:
    """Move `sender_code`'s anchor to the head of the chain a merged package carried (a package
    without a chain leaves the anchor where it was); the anchor now in force."""
    anchor = anchor_of(entries or ())
    row = session.get(AuditAnchor, sender_code)
    if anchor is None:
        return Anchor(row.seq, row.hash, row.trail) if row is not None else None
    if row is None:
        session.add(AuditAnchor(sender_code=sender_code, seq=anchor.seq, hash=anchor.hash,
                                trail=anchor.trail, package_id=package_id))
    else:
        row.seq, row.hash, row.trail = anchor.seq, anchor.hash, anchor.trail
        row.package_id, row.updated_at = package_id, utcnow()
    session.flush()
    return anchor


def anchors(session: Session) -> list[AuditAnchor]:
    """Every anchor, by sender code."""
    return list(session.execute(select(AuditAnchor).order_by(AuditAnchor.sender_code))
                .scalars())


def forget_anchor(session: Session, sender_code: str) -> AuditAnchor | None:
    """Remove `sender_code`'s anchor (its next merged package starts a new one); the row as it
    was, or None when there was none."""
    row = session.get(AuditAnchor, sender_code)
    if row is not None:
        session.delete(row)
        session.flush()
    return row
