"""Finding the own unit's member entries (the 清理 screens' search lists), on both stores.

- A whole 公民身份号码 is found by its keyed hash (`record.person_key`, Register.person_hash):
  the number is never compared in the database nor kept in memory. A whole 会员证号 is found
  through `record_key` (a keyed hash on PostgreSQL, blind_value). Both answer at once, before
  anything else is loaded.
- Any part of a name or 会员证号: on SQLite (SQLCipher encrypts the whole file) json_extract
  and instr inside the query (a search of 50,000 entries in about 0.1 s). On PostgreSQL the
  names and member numbers are sealed, so a `MemberIndex` of the unit's entries (record id,
  会员证号, name, 工作单位, status — opened once) is kept in this process's memory, never
  written anywhere: the first search loads it (the window does that on a worker,
  `load_member_index`), later ones check it against the database by one aggregate over the
  clear columns (id, revision, updated_at) and read again only the entries that changed,
  came or went — another clerk's save included.

Results are the same on both stores (tests/services/test_cleanup_search.py).
"""

from __future__ import annotations

import heapq
import json
import threading
import weakref
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Text, cast, func, select

from desktop.domain.identifiers import id_birth_date, normalise_id
from desktop.domain.society.cleanup import ACTIVE, NO_ID
from desktop.progress import Progress, Task
from desktop.services.cleanup.stored import DEFAULT_STATUS, FORM_ID, member_fields, on_sqlite
from desktop.storage import Record, RecordKey, Register
from desktop.storage.server import blind_value

_RECORD, _KEY = Record.__table__, RecordKey.__table__
CHUNK = 900
#: (record id, 会员证号, name, 工作单位, status): what a search list shows of an entry
Hit = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class MemberHit:
    record_id: str
    member_no: str
    name: str
    employer: str
    status: str


def find_members(register: Register, query: str, *, active: bool | None = None,
                 limit: int = 200, wait: bool = True) -> list[MemberHit]:
    """The own member entries whose name or 会员证号 holds `query`, or whose 公民身份号码 or
    会员证号 is `query` whole (spaces around it ignored; every entry when it is empty), by
    number, name and record id: only members (`active` True), only those a cleanup decision
    took out (False), or all (None). At most `limit`.

    `wait=False` on a PostgreSQL register whose index is not loaded yet (`index_ready`) gives
    only the whole-value matches instead of waiting for the load."""
    needle = query.strip()
    unit = register.own_unit_id
    with register.engine.connect() as conn:
        hits = {h[0]: h for h in whole_value_hits(conn, register, unit, needle)}
        if on_sqlite(conn):
            hits.update((h[0], h) for h in _sqlite_search(conn, unit, needle, active, limit))
        elif wait or index_ready(register):
            hits.update((h[0], h) for h in _index(register, unit).search(conn, needle, active,
                                                                          limit))
    chosen = (h for h in hits.values() if active is None or (h[4] in ACTIVE) == active)
    return [MemberHit(*h) for h in heapq.nsmallest(limit, chosen, key=_order)]


def index_ready(register: Register) -> bool:
    """Whether a search can use the opened member index without loading it first (always on
    SQLite, which needs none)."""
    if register.kind != "server":
        return True
    index = _INDEXES.get(register, {}).get(register.own_unit_id)
    return index is not None and index.loaded


def load_member_index(register: Register) -> Task[int]:
    """Load (or bring up to date) the own unit's member index on a PostgreSQL register, for a
    worker: the number of entries read. Nothing to do on SQLite."""
    yield Progress(0, 0, "正在载入会员名单…")
    if register.kind != "server":
        return 0
    with register.engine.connect() as conn:
        return _index(register, register.own_unit_id).refresh(conn)


def moved_out(register: Register) -> list[tuple[str, str, str]]:
    """(record id, 会员证号, 姓名) of the own members moved out for having no ID number, by
    number, name and record id."""
    unit = register.own_unit_id
    with register.engine.connect() as conn:
        if on_sqlite(conn):
            hits = [(rid, str(no or ""), name or "") for rid, _, name, (no,)
                    in member_fields(conn, ("member_no",), unit_id=unit, status={NO_ID})]
        else:
            hits = [h[:3] for h in _index(register, unit).statuses(conn, {NO_ID})]
    return sorted(hits, key=lambda h: (h[1], h[2], h[0]))


def whole_value_hits(conn: Connection, register: Register, unit_id: str, needle: str
                     ) -> list[Hit]:
    """The unit's entries whose 公民身份号码 (by its keyed hash) or 会员证号 (by record_key)
    is `needle` whole."""
    ids: set[str] = set()
    number = normalise_id(needle) if needle else ""
    if id_birth_date(number) is not None:  # 18 characters with a date: a whole ID number
        ids.update(conn.execute(select(_RECORD.c.id).where(
            _RECORD.c.person_key == register.person_hash(number),
            _RECORD.c.form_id == FORM_ID, _RECORD.c.unit_id == unit_id)).scalars())
    if needle and "-" in needle:  # a 会员证号 is prefix-serial
        ids.update(conn.execute(select(_KEY.c.record_id).where(
            _KEY.c.kind == "member_no", _KEY.c.form_id == FORM_ID,
            _KEY.c.value == blind_value(conn.engine, needle))).scalars())
    return [h[:-1] for h in _read_hits(conn, sorted(ids)) if h[-1] == unit_id]


def _order(hit: Hit) -> tuple[str, str, str]:
    return hit[1], hit[2], hit[0]


def _entry(rid: str, name: Any, data: str | None) -> Hit:
    values = json.loads(data) if data else {}
    return (rid, str(values.get("member_no") or ""), str(name or ""),
            str(values.get("employer") or ""), str(values.get("status") or DEFAULT_STATUS))


def _read_hits(conn: Connection, ids: list[str]) -> list[tuple[str, ...]]:
    """The hits of `ids` (those of the member form), each followed by its unit id."""
    out = []
    for i in range(0, len(ids), CHUNK):
        query = select(_RECORD.c.id, _RECORD.c.name, _RECORD.c.data, _RECORD.c.form_id,
                       _RECORD.c.unit_id).where(_RECORD.c.id.in_(ids[i:i + CHUNK]))
        out += [(*_entry(rid, name, data), unit) for rid, name, data, form, unit
                in conn.execute(query) if form == FORM_ID]
    return out


def _sqlite_search(conn: Connection, unit_id: str, needle: str, active: bool | None,
                   limit: int) -> list[Hit]:
    """Sorted and cut by SQLite: json_extract and instr inside the query."""
    sql = ("SELECT id, coalesce(json_extract(data, '$.member_no'), '') AS no, "
           "coalesce(name, '') AS nm, coalesce(json_extract(data, '$.employer'), ''), "
           "coalesce(json_extract(data, '$.status'), ?) AS s FROM record "
           "WHERE form_id = ? AND unit_id = ?")
    params: list[Any] = [DEFAULT_STATUS, FORM_ID, unit_id]
    if needle:
        sql += " AND (instr(nm, ?) > 0 OR instr(no, ?) > 0)"
        params += [needle, needle]
    if active is not None:
        codes = sorted(ACTIVE)
        sql += f" AND s {'IN' if active else 'NOT IN'} ({', '.join('?' * len(codes))})"
        params += codes
    return [tuple(map(str, r)) for r in
            conn.exec_driver_sql(sql + " ORDER BY no, nm, id LIMIT ?", (*params, limit))]


# --- the opened index of a PostgreSQL register ---------------------------------------------


class MemberIndex:
    """The opened search fields of one unit's member entries, in memory only, with the
    revision and updated_at each was read at. Thread-safe (a worker loads it while the
    window may search)."""

    def __init__(self, unit_id: str) -> None:
        self.unit_id = unit_id
        self.entries: dict[str, tuple[tuple[Any, Any], Hit]] = {}
        self.fingerprint: tuple[Any, ...] | None = None
        self.loaded = False
        self.lock = threading.Lock()

    def _where(self, query):
        return query.where(_RECORD.c.form_id == FORM_ID, _RECORD.c.unit_id == self.unit_id)

    def _fingerprint(self, conn: Connection) -> tuple[Any, ...]:
        """One row over the clear columns: changes whenever an entry is added, removed,
        replaced (a re-import: new updated_at) or saved (revision + 1)."""
        stamp = func.hashtextextended(
            _RECORD.c.id + ":" + cast(_RECORD.c.revision, Text) + ":"
            + cast(_RECORD.c.updated_at, Text), 0)
        return tuple(conn.execute(self._where(select(
            func.count(), func.coalesce(func.sum(stamp), 0),
            func.max(_RECORD.c.updated_at)))).one())

    def refresh(self, conn: Connection) -> int:
        """Bring the index up to date: the number of entries read (0 when nothing changed)."""
        with self.lock:
            fingerprint = self._fingerprint(conn)
            if self.loaded and fingerprint == self.fingerprint:
                return 0
            if not self.loaded:
                read = self._read(conn, self._where(select(
                    _RECORD.c.id, _RECORD.c.revision, _RECORD.c.updated_at, _RECORD.c.name,
                    _RECORD.c.data)))
            else:
                stamps = {rid: (rev, at) for rid, rev, at in conn.execute(self._where(select(
                    _RECORD.c.id, _RECORD.c.revision, _RECORD.c.updated_at)))}
                for gone in self.entries.keys() - stamps.keys():
                    del self.entries[gone]
                changed = sorted(rid for rid, stamp in stamps.items()
                                 if self.entries.get(rid, (None,))[0] != stamp)
                read = 0
                for i in range(0, len(changed), CHUNK):
                    read += self._read(conn, self._where(select(
                        _RECORD.c.id, _RECORD.c.revision, _RECORD.c.updated_at,
                        _RECORD.c.name, _RECORD.c.data).where(
                            _RECORD.c.id.in_(changed[i:i + CHUNK]))))
            self.fingerprint, self.loaded = fingerprint, True
            return read

    def _read(self, conn: Connection, query) -> int:
        rows: Iterable = conn.execute(query)
        n = 0
        for rid, revision, updated_at, name, data in rows:  # the typed columns open them
            self.entries[rid] = ((revision, updated_at), _entry(rid, name, data))
            n += 1
        return n

    def search(self, conn: Connection, needle: str, active: bool | None, limit: int
               ) -> list[Hit]:
        self.refresh(conn)
        with self.lock:
            hits = [h for _, h in self.entries.values()
                    if (not needle or needle in h[2] or needle in h[1])
                    and (active is None or (h[4] in ACTIVE) == active)]
        return heapq.nsmallest(limit, hits, key=_order)

    def statuses(self, conn: Connection, wanted: Collection[str]) -> list[Hit]:
        """The entries whose status is one of `wanted`."""
        self.refresh(conn)
        with self.lock:
            return [h for _, h in self.entries.values() if h[4] in wanted]


#: the indexes of each open PostgreSQL register, by unit id (gone with the register object)
_INDEXES: weakref.WeakKeyDictionary[Register, dict[str, MemberIndex]] = \
    weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _index(register: Register, unit_id: str) -> MemberIndex:
    with _LOCK:
        return _INDEXES.setdefault(register, {}).setdefault(unit_id, MemberIndex(unit_id))
