"""Listing the records of a form for the data-entry window's tables, without Qt.

A table knows every row's key and name at once (`load_index`, from covering indexes only, so
200,000 records list in a few tenths of a second) and fetches the rest — state, masked ID number
and phone, issue counts — a page at a time, for the rows on screen (`fetch_rows`). Showing an
identifier in full is an audited action (`reveal`).
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, select, text

from desktop.domain.context import Environment, Peer
from desktop.domain.findings import ERROR, WARNING
from desktop.domain.forms import FormSet, FormSpec
from desktop.domain.identifiers import normalise_id
from desktop.domain.masking import masked_text
from desktop.domain.summaries import cell_text
from desktop.domain.validation import Validator
from desktop.domain.values import upgrade_stored
from desktop.exchange.sqlfast import query
from desktop.progress import Progress, Task
from desktop.services.intake.checking import BatchKeys, RegisterKeys, RowResult
from desktop.storage import Register, Unit, append_audit, find_keys
from desktop.storage.concurrency import require_audit
from desktop.storage.server import open_value, open_values

CHUNK = 900


def on_file(register: Register) -> bool:
    """A SQLite register: rows are keyed by `rowid` (a PostgreSQL one keys them by `id`)."""
    return register.engine.dialect.name == "sqlite"


def _key(register: Register) -> str:
    return "rowid" if on_file(register) else "id"


def select_rows(conn, sql: str, params: Sequence[Any] = ()) -> Iterable[tuple]:
    """Rows of a SELECT written with `?` placeholders: through SQLite's driver itself (a list
    of 200,000 keys costs nothing more), through sqlfast.query on a server."""
    if conn.dialect.name == "sqlite":
        return conn.connection.dbapi_connection.execute(sql, tuple(params))
    return query(conn, sql, params)


def _name(register: Register, key: object, stored: str | None) -> str:
    return open_value(register.engine, "record", "name", key, stored) or ""

@dataclass
class FormIndex:
    """What the table knows of every row of a form at once: rowids (newest first) and names.

    Both come from covering indexes only (form_id, unit_id, name), never from the record rows,
    so a register of 200,000 records lists in a few tenths of a second.
    """

    rowids: list[int]
    names: list[str] | None  # None until `load_names` (a large table shows before they are read)
    _joined: str | None = None
    _starts: list[int] | None = None

    def changed(self) -> None:
        """Names or rows changed: the search text is made again on the next search."""
        self._joined = self._starts = None

    def find(self, query: str) -> list[int]:
        """Positions of the names that contain `query` (one C-speed scan of all names)."""
        assert self.names is not None, "load_names first"
        if self._joined is None:
            starts, pos = [], 0
            for name in self.names:
                starts.append(pos)
                pos += len(name) + 1
            self._joined, self._starts = "\n".join(self.names), starts
        out: list[int] = []
        last = -1
        for m in re.finditer(re.escape(query), self._joined):
            i = bisect_right(self._starts, m.start()) - 1
            if i != last:
                out.append(i)
                last = i
        return out


@dataclass(frozen=True, slots=True)
class RowInfo:
    """What the table shows of a record once it is on screen."""

    id: str
    name: str
    state: str
    updated: str  # as stored, UTC ("2026-11-22 02:06:35.991363"); sorts as text
    id_text: str  # masked ID number (full when revealed)
    phone_text: str
    errors: int  # -1: not counted
    warnings: int
    extra: tuple[str, ...] = ()  # the form's list_columns as a table shows them (masked)


@dataclass(frozen=True, slots=True)
class UnitRow:
    id: str
    code: str
    name: str
    level: str
    parent_code: str | None
    is_own: bool


def list_units(register: Register) -> list[UnitRow]:
    """The own unit first, then the units whose packages arrived, by name."""
    with register.session() as session:
        rows = session.exec(select(Unit.id, Unit.code, Unit.name, Unit.level, Unit.parent_code,
                                   Unit.is_own)).all()
    units = [UnitRow(*r) for r in rows]
    return sorted(units, key=lambda u: (not u.is_own, u.name))


def forms_for_level(forms: FormSet, level: str) -> list[FormSpec]:
    """The forms a unit of `level` keeps (FormSpec.levels), 附件 order first."""
    chosen = [f for f in forms.forms.values() if level in f.levels]
    return sorted(chosen, key=lambda f: f.order)


def count_form(register: Register, form_id: str) -> int:
    """How many records of a form the register holds (all units; the form index only)."""
    with register.engine.connect() as conn:
        return next(iter(select_rows(conn, "SELECT count(*) FROM record WHERE form_id = ?",
                               (form_id,))))[0]


def load_index(register: Register, form: FormSpec, unit_id: str, *,
               with_names: bool = True) -> FormIndex:
    """Row keys (and names) of the records of `form` for `unit_id`, newest first."""
    key = _key(register)
    order = "rowid DESC" if key == "rowid" else "created_at DESC, id DESC"
    with register.engine.connect() as conn:
        rowids = [r for (r,) in select_rows(
            conn, f"SELECT {key} FROM record WHERE form_id = ? ORDER BY {order}", (form.id,))]
        others = next(iter(select_rows(conn, "SELECT count(*) FROM record "
                                 "WHERE unit_id < ? OR unit_id > ?", (unit_id, unit_id))))[0]
        if others:
            mine = {r for (r,) in select_rows(conn, f"SELECT {key} FROM record WHERE unit_id = ?",
                                        (unit_id,))}
            rowids = [r for r in rowids if r in mine]
    return FormIndex(rowids, load_names(register, rowids) if with_names else None)


def load_names(register: Register, rowids: list[int]) -> list[str]:
    """The names of these rows, in their order (the name index only, for a large list)."""
    key = _key(register)
    with register.engine.connect() as conn:
        if len(rowids) > 5000:
            hint = " INDEXED BY ix_record_name" if key == "rowid" else ""
            names = dict(select_rows(conn, f"SELECT {key}, name FROM record{hint}"))
        else:
            names = {}
            for i in range(0, len(rowids), CHUNK):
                chunk = rowids[i:i + CHUNK]
                names.update(select_rows(conn, f"SELECT {key}, name FROM record WHERE {key} IN "
                                         f"({','.join('?' * len(chunk))})", chunk))
    if key == "rowid":
        return [names.get(r) or "" for r in rowids]
    opened = open_values(register.engine, "record", "name", ((r, names.get(r)) for r in rowids))
    return [name or "" for name in opened]


def key_matches(register: Register, form: FormSpec, query: str) -> set[int]:
    """Row keys of the records whose unique key (ID number, licence, …) is exactly `query`."""
    ids: set[str] = set()
    with register.session() as session:
        for key in form.keys:
            is_id = form.field(key.field).type == "id_number"
            value = normalise_id(query) if is_id else query.strip()
            if not value:
                continue
            stored = register.key_hash(key.kind, value) if key.hashed else value
            for found in find_keys(session, key.kind, [stored]).values():
                ids.update(rid for rid, fid in found if fid == form.id)
        if not ids:
            return set()
        rows = session.execute(text(f"SELECT {_key(register)} FROM record WHERE id IN :ids")
                               .bindparams(bindparam("ids", expanding=True)),
                               {"ids": sorted(ids)}).all()
    return {r for (r,) in rows}


def search_hint(form: FormSpec) -> str:
    """The search box's placeholder: what this form can be searched by (any part of its name
    field, or a whole value of one of its lookup keys), and nothing else."""
    name = form.field(form.name_field).label
    keys = list(dict.fromkeys(form.field(k.field).label for k in form.keys
                              if k.field != form.name_field))
    exact = f"，或完整的{'、'.join(keys)}" if keys else ""
    return f"搜索：输入{name}的任意部分{exact}（Ctrl+F）"


def search(index: FormIndex, query: str, exact: set[int] = frozenset()) -> list[int]:
    """Positions in `index` of the rows whose name contains `query`, or whose key is `query`."""
    q = query.strip()
    if not q:
        return list(range(len(index.rowids)))
    found = index.find(q)
    if exact:
        found = sorted(set(found) | {i for i, r in enumerate(index.rowids) if r in exact})
    return found


def rowids_in_state(register: Register, form: FormSpec, unit_id: str, state: str) -> set[int]:
    """Row keys of the unit's records of `form` in `state` (the list's 草稿 filter)."""
    with register.engine.connect() as conn:
        return {r for (r,) in select_rows(
            conn, f"SELECT {_key(register)} FROM record WHERE form_id = ? AND unit_id = ? "
            "AND state = ?", (form.id, unit_id, state))}


def rowid_of(register: Register, record_id: str) -> tuple[int, str] | None:
    """The row key and name of a record (a row the editor just saved)."""
    with register.engine.connect() as conn:
        row = next(iter(select_rows(conn, f"SELECT {_key(register)}, name FROM record WHERE id = ?",
                              (record_id,))), None)
    return (row[0], _name(register, record_id, row[1])) if row else None


def list_texts(form: FormSpec, values: Mapping, full: bool = False) -> tuple[str, ...]:
    """The form's list_columns of a record as its list shows them (code labels; masked unless
    `full`)."""
    return tuple(cell_text(form.field(f), values.get(f), full) for f in form.list_columns)


def rowids_with_code(register: Register, form: FormSpec, unit_id: str, field_id: str,
                     code: str) -> set[int]:
    """Row keys of the unit's records of `form` whose code field `field_id` holds `code` (a
    record without the field counts as its default: 会员状态 在册). On a server register the
    data is sealed: the unit's records of the form are opened and compared here."""
    spec = form.field(field_id)
    if not on_file(register):
        default = None if spec.default is None else str(spec.default)
        with register.engine.connect() as conn:
            rows = select_rows(conn, "SELECT id, data FROM record WHERE form_id = ? AND unit_id = ?",
                         (form.id, unit_id))
            return {rid for rid, data in rows if _field_text(json.loads(open_value(
                register.engine, "record", "data", rid, data)), field_id, default) == code}
    path = f"$.{field_id}"
    sql = ("SELECT rowid FROM record WHERE form_id = ? AND unit_id = ? AND "
           + ("coalesce(json_extract(data, ?), ?) = ?" if spec.default is not None
              else "json_extract(data, ?) = ?"))
    params = ((form.id, unit_id, path, str(spec.default), code) if spec.default is not None
              else (form.id, unit_id, path, code))
    with register.engine.connect() as conn:
        return {r for (r,) in select_rows(conn, sql, params)}


def _stored_time(value: Any) -> str:
    """updated_at as SQLite stores it (UTC, no offset): PostgreSQL gives an aware datetime."""
    if isinstance(value, datetime):
        return str(value.astimezone(UTC).replace(tzinfo=None))
    return str(value)


def _field_text(values: Mapping, field_id: str, default: str | None) -> str | None:
    """What json_extract(data, '$.field') (with coalesce to the default) gives SQLite."""
    value = values.get(field_id)
    if value is None:
        return default
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _masked_fields(form: FormSpec) -> tuple[str | None, str | None]:
    id_field = next((f.id for f in form.fields if f.mask == "id"), None)
    phone_field = next((f.id for f in form.fields if f.mask == "phone"), None)
    return id_field, phone_field


def fetch_rows(register: Register, forms: FormSet, form: FormSpec, rowids: Sequence[int], *,
               revealed: Iterable[int] = (), issues: bool = True, today: date | None = None
               ) -> dict[int, RowInfo]:
    """State, masked identifiers and issue counts (field, record and register rules) of rows."""
    revealed = set(revealed)
    id_field, phone_field = _masked_fields(form)
    out: dict[int, RowInfo] = {}
    with register.session() as session:
        for i in range(0, len(rowids), CHUNK):
            chunk = list(rowids[i:i + CHUNK])
            key = _key(register)
            rows = session.execute(
                text(f"SELECT {key}, id, name, state, updated_at, data FROM record "
                     f"WHERE {key} IN :r")
                .bindparams(bindparam("r", expanding=True)), {"r": chunk}).all()
            if key != "rowid":
                rows = [(k, rid, _name(register, rid, n), st, up,
                         open_value(register.engine, "record", "data", rid, d))
                        for k, rid, n, st, up, d in rows]
            results = [RowResult(rowid, rid, upgrade_stored(form.fields, json.loads(data)))
                       for rowid, rid, _n, _s, _u, data in rows]
            counts: dict[str, tuple[int, int]] = {}
            if issues:
                env = Environment(today=today or date.today())
                env.keys = RegisterKeys(register, session, forms, form, BatchKeys(form, results))
                validator = Validator(form, env)
                for r in results:
                    found = validator.check(r.values, r.record_id, cross=False)
                    counts[r.record_id] = (sum(f.severity == ERROR for f in found),
                                           sum(f.severity == WARNING for f in found))
            for (rowid, rid, name, state, updated, _d), r in zip(rows, results, strict=True):
                full = rowid in revealed
                idv = str(r.values.get(id_field) or "") if id_field else ""
                phone = str(r.values.get(phone_field) or "") if phone_field else ""
                errors, warnings = counts.get(rid, (-1, -1))
                out[rowid] = RowInfo(rid, name or "", state, _stored_time(updated),
                                     idv if full else masked_text("id", idv),
                                     phone if full else masked_text("phone", phone),
                                     errors, warnings, list_texts(form, r.values, full))
    return out


def scan_rows(register: Register, forms: FormSet, form: FormSpec, rowids: Sequence[int], *,
              issues: bool, chunk: int = 2000) -> Task[dict[int, RowInfo]]:
    """`fetch_rows` of many rows (to sort by a column the index lacks), with progress."""
    out: dict[int, RowInfo] = {}
    message = "统计问题" if issues else "读取记录"
    for i in range(0, len(rowids), chunk):
        yield Progress(i, len(rowids), message)
        out.update(fetch_rows(register, forms, form, rowids[i:i + chunk], issues=issues))
    yield Progress(len(rowids), len(rowids), message)
    return out


def reveal(register: Register, form: FormSpec, record_ids: Sequence[str], actor: str
           ) -> None:
    """Write to the audit log that `actor` showed these records' ID numbers and phones in full."""
    fields = [f.id for f in form.fields if f.mask]
    with register.session() as session:
        require_audit(session)  # the grants made before reviewers could append: said plainly
        append_audit(session, actor, "reveal", form.id,
                     {"form": form.id, "records": list(record_ids), "fields": fields})
        session.commit()




class PeerMap:
    """The unit's records per form as a PeerIndex (what cross rules read)."""

    def __init__(self, peers: Mapping[str, Sequence[Peer]]) -> None:
        self._peers = peers

    def records(self, form_id: str) -> Sequence[Peer]:
        return self._peers.get(form_id, ())


def has_cross_rules(forms: FormSet, form: FormSpec) -> bool:
    return Validator(form, Environment()).has_cross_rules


def _tally(found: Sequence) -> tuple[int, int]:
    return (sum(f.severity == ERROR for f in found), sum(f.severity == WARNING for f in found))


class CrossCheck:
    """The cross-record findings (a count against 附件3, two secretaries of one organisation, a
    firm no 附件3 covers) of a list's records, as the record's panel counts them, from the
    unit's records read once per refresh (`peers`, per form). What the rules derive from the
    peers (the firms of the 附件3 records, the secretaries per organisation) is derived once,
    in the shared memo, the first time a row asks; each row then costs a few look-ups, and its
    counts are kept. A worker can count every record at once (`cross_counts`) and hand the
    result over (`add`)."""

    def __init__(self, forms: FormSet, form: FormSpec, peers: Mapping[str, Sequence[Peer]],
                 today: date | None = None) -> None:
        self.forms, self.form, self.peers = forms, form, peers
        self._today = today
        self._validator: Validator | None = None
        self._values: dict[str, Any] = {}
        self._counts: dict[str, tuple[int, int]] = {}

    def _ready(self) -> Validator:
        if self._validator is None:
            env = Environment(today=self._today or date.today())
            env.peers = PeerMap(self.peers)
            self._values = {p.id: p.values for p in self.peers.get(self.form.id, ())}
            self._validator = Validator(self.form, env)
        return self._validator

    def counts(self, record_id: str) -> tuple[int, int]:
        found = self._counts.get(record_id)
        if found is None:
            validator = self._ready()
            values = self._values.get(record_id)  # the peer's own values: the memo holds
            found = (0, 0) if values is None else _tally(
                validator.check_cross(values, record_id))
            self._counts[record_id] = found
        return found

    def add(self, counts: Mapping[str, tuple[int, int]]) -> None:
        """Every record's counts, as `cross_counts` gave them (records without are (0, 0))."""
        self._counts.update({p.id: counts.get(p.id, (0, 0))
                             for p in self.peers.get(self.form.id, ())})

    def update(self, record_id: str, values: Mapping[str, Any]) -> None:
        """A record of this list was saved: it is counted again from its new values (the others
        keep theirs until the next refresh; what they derive from it is its peers' business)."""
        self._ready()
        self._values[record_id] = dict(values)
        self._counts.pop(record_id, None)


def cross_counts(forms: FormSet, form: FormSpec, peers: Mapping[str, Sequence[Peer]], *,
                 today: date | None = None, chunk: int = 250
                 ) -> Task[dict[str, tuple[int, int]]]:
    """(errors, warnings) of the cross-record findings of every record of `form` among `peers`
    by record id (records without any are left out): a worker's count of a whole large list
    (to filter or sort it by its issues), in small steps so the window keeps the interpreter."""
    check = CrossCheck(forms, form, peers, today)
    out: dict[str, tuple[int, int]] = {}
    if not has_cross_rules(forms, form):
        return out
    records = peers.get(form.id, ())
    for i, p in enumerate(records):
        if i % chunk == 0:
            yield Progress(i, len(records), "统计跨表问题")
        found = check.counts(p.id)
        if found != (0, 0):
            out[p.id] = found
    yield Progress(len(records), len(records), "统计跨表问题")
    return out


def scan_issues(register: Register, forms: FormSet, form: FormSpec, rowids: Sequence[int],
                peers: Mapping[str, Sequence[Peer]] | None
                ) -> Task[tuple[dict[int, RowInfo], dict[str, tuple[int, int]]]]:
    """`scan_rows` with issues and the cross-record counts of every record (a worker's work
    before a large list is sorted or filtered by its issues)."""
    details = yield from scan_rows(register, forms, form, rowids, issues=True)
    cross = (yield from cross_counts(forms, form, peers)) if peers else {}
    return details, cross
