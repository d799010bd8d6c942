"""The law society's statistics table in packages (issue 7 with issue 4).

Export: a society-level unit's package carries its 个人会员清理工作情况统计表 as
stats/<unit code>.json — a county its own; a city or province its own summed with the tables
of the accepted packages whose records it forwards, so the level above sums them in turn.
Merge: the table read from a package (exchange/stats_check.py checks it against the package's
records) is kept in the package's summary with the finding, if any. `received_tables` is what
`dengji stats --received` sums: the received units' own tables, and for units whose packages
carried none, the table computed from their records.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from desktop.domain.society.stats import CleanupStats, stats_from_json, stats_to_json, sum_tables
from desktop.errors import KnownError
from desktop.exchange.format.manifest import KIND_REGISTRATION
from desktop.exchange.format.reader import Verification
from desktop.exchange.format.stats_check import stats_member, table_bytes
from desktop.storage import Register, Unit
from desktop.storage.tables import PACKAGE_RECEIVED, Package

STATS, FINDING = "stats", "stats_finding"


def received_stats(v: Verification) -> tuple[dict[str, Any] | None, str]:
    """The table a verified package carries (or None) and the finding about it ("")."""
    return v.stats, "；".join(v.findings)


def stats_summary(table: dict[str, Any] | None, finding: str) -> dict[str, Any]:
    """What a merged package's summary keeps of its table."""
    return {**({STATS: table} if table is not None else {}),
            **({FINDING: finding} if finding else {})}


def _received(register: Register, accepted_only: bool) -> list[tuple[str, dict[str, Any]]]:
    """(sender code, summary) of the current received registration packages."""
    query = (select(Package.sender_code, Package.summary)
             .where(Package.direction == PACKAGE_RECEIVED, Package.kind == KIND_REGISTRATION,
                    Package.superseded_by.is_(None)).order_by(Package.sender_code))
    if accepted_only:
        query = query.where(Package.status == "accepted")
    with register.session() as session:
        return [(code, json.loads(summary or "{}")) for code, summary in session.execute(query)]


def received_tables(register: Register, *, filed: str = "", accepted_only: bool = False
                    ) -> list[CleanupStats]:
    """The tables to sum for the units below: each current received package's own table, and
    the table computed from the records of any other unit (whose package carried none)."""
    from desktop.services.cleanup.members import stats_by_unit

    tables, covered = [], set()
    for code, summary in _received(register, accepted_only):
        if STATS not in summary:
            continue
        try:
            table = stats_from_json(summary[STATS], f"{code} 数据包中的统计表")
        except ValueError as err:  # read strictly at merge: only a damaged register gets here
            raise KnownError(str(err)) from None
        tables.append(table)
        covered |= {code, table.unit_code, *(p.unit_code for p in table.parts)}
    computed = [t for t in stats_by_unit(register, filed=filed, own=False)
                if t.unit_code not in covered]
    if accepted_only:
        with register.session() as session:
            accepted = {c for (c,) in session.execute(
                select(Unit.code).join(Package, Package.sender_unit_id == Unit.id)
                .where(Package.status == "accepted"))}
        computed = [t for t in computed if t.unit_code in accepted]
    return sorted(tables + computed, key=lambda t: t.unit_code)


def unit_table(register: Register, *, filed: str, received: bool = True,
               accepted_only: bool = False, added: Sequence[CleanupStats] = (),
               filler: str = "", contact: str = "") -> CleanupStats:
    """The own unit's table, summed with the tables of the units below (`received`) and any
    `added` ones when there are any — what `dengji stats`, the window's 统计表 and an upward
    package show."""
    from desktop.services.cleanup.members import register_stats

    own = register_stats(register, filler=filler, contact=contact, filed=filed)
    below = (received_tables(register, filed=filed, accepted_only=accepted_only)
             if received else []) + list(added)
    if not below:
        return own
    try:
        return sum_tables(([own] if own.entries else []) + below, unit=own.unit,
                          unit_code=own.unit_code, filler=filler, contact=contact, filed=filed)
    except ValueError as err:
        raise KnownError(str(err)) from None


def stats_members(register: Register, level: str, today: date) -> dict[str, bytes]:
    """stats/<own code>.json for a society-level export (nothing for other levels): the
    table of the own members summed with those of the accepted packages it forwards."""
    if not level.startswith("society"):
        return {}
    table = unit_table(register, filed=today.isoformat(), accepted_only=True)
    return {stats_member(table.unit_code): table_bytes(stats_to_json(table))}
