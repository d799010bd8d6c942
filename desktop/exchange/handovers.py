"""The handovers (移交, services/handover.py) a unit below reported in its packages' audit
chains: kept in the summary of the package that brought them (``handovers``), for the
receiving level's review and `dengji handover --received`. Repository functions: they never
commit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from desktop.exchange.format.chain import HANDOVER, ChainEntry
from desktop.storage.tables import PACKAGE_RECEIVED, AuditAnchor, Package

SUMMARY_KEY = "handovers"


@dataclass(frozen=True)
class ReportedHandover:
    """A handover a sender's package reported: when, and the two clerks it names."""

    sender_name: str
    sender_code: str
    package_id: str
    sequence: int  # the package's
    entry: int  # the audit entry's sequence number in the sender's chain
    when: str  # the entry's time, ISO-8601 UTC as the chain holds it
    from_name: str
    to_name: str


def new_handovers(session: Session, sender_code: str,
                  chain: tuple[ChainEntry, ...] | None) -> list[list]:
    """The handover entries of a carried chain that are newer than the sender's anchor (what
    earlier packages already brought), as a summary lists them: [entry, time, from, to]."""
    anchor = session.get(AuditAnchor, sender_code)
    after = anchor.seq if anchor is not None else 0
    return [[e.seq, e.ts, *(list(e.said) + ["", ""])[:2]] for e in chain or ()
            if e.action == HANDOVER and e.seq > after]


def reported_handovers(session: Session) -> list[ReportedHandover]:
    """Every handover the received packages reported, oldest first."""
    out = []
    for pid, name, code, seq, summary in session.execute(
            select(Package.id, Package.sender_name, Package.sender_code, Package.sequence,
                   Package.summary).where(Package.direction == PACKAGE_RECEIVED,
                                          Package.kind == "registration")):
        try:
            listed = json.loads(summary or "{}").get(SUMMARY_KEY) or []
        except (ValueError, AttributeError):
            continue
        for item in listed:
            if isinstance(item, list) and len(item) == 4 and isinstance(item[0], int):
                out.append(ReportedHandover(name, code, pid, seq, int(item[0]), str(item[1]),
                                            str(item[2]), str(item[3])))
    # the chain's times are ISO-8601 UTC strings of one width: they sort as text
    return sorted(out, key=lambda h: (h.when, h.sender_code, h.entry))



def local_when(ts: str) -> str:
    """An audit entry's UTC time as the clerk's clock shows it, to the minute (the text as it
    is when it is no time)."""
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone().strftime(
            "%Y-%m-%d %H:%M")
    except ValueError:
        return ts
