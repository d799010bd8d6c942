"""Field encryption of a PostgreSQL register: the personal columns are sealed by the application.

A sealed value is ``dj1.`` + base64(96-bit nonce + AES-GCM ciphertext and tag) of the UTF-8
text, under the register's data key (DEK, datakey.py), with ``table``, ``column`` and the
row's anchor (its primary key) as associated data: a value copied into another row or column
does not open. Sealed text is ASCII (base64), so it fits the existing text columns unchanged.

The column type `Sealed` (a SQLAlchemy TypeDecorator, used by storage/tables.py) does the
work for the ORM and Core:

- on SQLite it passes values through (the file is encrypted whole by SQLCipher);
- on PostgreSQL a write is sealed before the statement is compiled (`install`: a
  ``before_execute`` hook on the engine finds each row's anchor in its parameters, in the
  statement's inline values or in a ``WHERE anchor = value`` clause, and takes the next value
  of an integer key's sequence when an INSERT leaves the key to the database); a plain string
  that reaches the column's bind processor is refused (`SealingError`), so nothing personal is
  ever written in clear by a path that was not converted;
- a read selects ``length(anchor) || ':' || anchor || value`` (the type's column expression)
  and opens it with the data key of the engine the result came from.

Raw SQL (``text()``, ``exec_driver_sql``, exchange/sqlfast.py) binds no type: it seals and
opens values itself through the documented pair `seal_value` / `open_value`, given the
register's engine (docs/postgresql.md lists the sites that still need it).

This module imports nothing else of storage, so tables.py can use the type.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    BinaryExpression,
    BindParameter,
    Engine,
    Insert,
    LargeBinary,
    Text,
    Update,
    event,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator
from sqlmodel.sql.sqltypes import AutoString

PREFIX = "dj1."
BLIND_PREFIX = "h1."
BLIND_SHAPE = re.compile(r"h1\.[0-9a-f]{40}")
NONCE_BYTES = 12
_AAD = b"dengji-sealed-1"


class SealingError(RuntimeError):
    """A personal value that would be written in clear, or a sealed value that does not open:
    a programming error or a damaged (or tampered) row, never the user's doing."""


class SealedText(str):
    """A value already sealed for its row: the column's bind processor passes it through."""


@dataclass(frozen=True, eq=False)
class Sealer:
    """The data key of one open register, sealing and opening field values."""

    aead: AESGCM
    keys: tuple[bytes, bytes]  # the data key, and the key of the lookup values derived from it

    @classmethod
    def from_key(cls, dek: bytes) -> Sealer:
        return cls(AESGCM(dek), (dek, hmac.digest(dek, b"dengji-blind-1", "sha256")))

    def seal(self, table: str, column: str, anchor: object, plain: str) -> SealedText:
        nonce = os.urandom(NONCE_BYTES)
        body = self.aead.encrypt(nonce, plain.encode("utf-8"), _aad(table, column, anchor))
        return SealedText(PREFIX + base64.b64encode(nonce + body).decode("ascii"))

    def blind(self, value: str) -> str:
        """A lookup value as stored (`Blinded`): a keyed hash, equal for equal values. A value
        that already is one (read back from the table, written again) stays as it is; anything
        else is hashed, also text typed to look like a hash ("h1.…")."""
        if BLIND_SHAPE.fullmatch(value):
            return value
        digest = hmac.digest(self.blind_key, value.encode("utf-8"), "sha256")
        return BLIND_PREFIX + digest.hex()[:40]

    @property
    def blind_key(self) -> bytes:
        return self.keys[1]

    def open(self, table: str, column: str, anchor: object, sealed: str) -> str:
        if not sealed.startswith(PREFIX):
            raise SealingError(f"{table}.{column} of row {anchor}: the value is not sealed")
        try:
            raw = base64.b64decode(sealed[len(PREFIX):], validate=True)
            plain = self.aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                      _aad(table, column, anchor))
        except (ValueError, InvalidTag) as err:
            raise SealingError(f"{table}.{column} of row {anchor}: the sealed value does not "
                               "open (damaged, or moved from another row)") from err
        return plain.decode("utf-8")

    def open_many(self, table: str, column: str,
                  rows: Iterable[tuple[object, str | None]]) -> list[str | None]:
        """`open` for many (anchor, stored) pairs of one column, in their order (None stays
        None): the associated data's common part is built once, so 200,000 names open in
        about a third of the time one call each takes."""
        head = _aad(table, column, "")
        decrypt, out = self.aead.decrypt, []
        for anchor, sealed in rows:
            if sealed is None:
                out.append(None)
                continue
            try:
                if not sealed.startswith(PREFIX):
                    raise ValueError("not sealed")
                raw = binascii.a2b_base64(sealed[len(PREFIX):], strict_mode=True)
                out.append(decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                   head + str(anchor).encode()).decode("utf-8"))
            except (ValueError, InvalidTag):
                out.append(self.open(table, column, anchor, sealed))  # raises, saying which
        return out


def _aad(table: str, column: str, anchor: object) -> bytes:
    return b"\x00".join((_AAD, table.encode(), column.encode(), str(anchor).encode()))


#: the sealer of each engine's dialect (a dialect object belongs to one engine)
_SEALERS: weakref.WeakKeyDictionary[Dialect, Sealer] = weakref.WeakKeyDictionary()


def install(engine: Engine, sealer: Sealer) -> None:
    """Bind `sealer` to `engine`: its writes of sealed columns are sealed, its reads opened."""
    _SEALERS[engine.dialect] = sealer
    if not event.contains(engine, "before_execute", _seal_statement):
        event.listen(engine, "before_execute", _seal_statement, retval=True)


def sealer_of(engine_or_dialect: Engine | Dialect) -> Sealer | None:
    """The sealer bound to an engine (None: a SQLite register, values are stored as given)."""
    dialect = getattr(engine_or_dialect, "dialect", engine_or_dialect)
    return _SEALERS.get(dialect)


def seal_value(engine: Engine, table: str, column: str, anchor: object,
               value: str | None) -> str | None:
    """What raw SQL writes into `table.column` of the row `anchor` (its primary key): the
    value sealed on a PostgreSQL register, the value itself on SQLite; None stays None."""
    sealer = sealer_of(engine)
    if sealer is None or value is None:
        return value
    return sealer.seal(table, column, anchor, value)


def open_value(engine: Engine, table: str, column: str, anchor: object,
               stored: str | None) -> str | None:
    """The plain text of what raw SQL read from `table.column` of the row `anchor`: opened
    on a PostgreSQL register (SealingError when it does not open), as read on SQLite."""
    sealer = sealer_of(engine)
    if sealer is None or stored is None:
        return stored
    return sealer.open(table, column, anchor, stored)


def open_values(engine: Engine, table: str, column: str,
                rows: Iterable[tuple[object, str | None]]) -> list[str | None]:
    """`open_value` for many (anchor, stored) pairs of one column, in their order."""
    sealer = sealer_of(engine)
    if sealer is None:
        return [stored for _anchor, stored in rows]
    return sealer.open_many(table, column, rows)


class Sealed(TypeDecorator):
    """A text column sealed on PostgreSQL (see the module's docstring). `anchor` is the
    column of the row's primary key; with `prefixes`, only the rows whose anchor starts with
    one of them are sealed (meta: the unit's people), the others are stored in clear."""

    impl = Text
    cache_ok = True

    def __init__(self, table: str, column: str, anchor: str = "id",
                 prefixes: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.table, self.column, self.anchor, self.prefixes = table, column, anchor, prefixes

    def seals(self, anchor: object) -> bool:
        return not self.prefixes or str(anchor).startswith(self.prefixes)

    def copy(self, **kw: Any) -> Sealed:
        return type(self)(self.table, self.column, self.anchor, self.prefixes)

    def to_text(self, value: Any) -> str:
        """The text that is sealed for `value` (SealingError for a value of another kind)."""
        if not isinstance(value, str):
            raise SealingError(f"{self.table}.{self.column}: text is sealed here, not "
                               f"{type(value).__name__}")
        return value

    def from_text(self, plain: str) -> Any:
        return plain

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name == "sqlite" or isinstance(value, SealedText):
            return value
        if self.prefixes:  # the hook sealed what is personal; the rest is stored in clear
            return value
        raise SealingError(f"{self.table}.{self.column} written on PostgreSQL without its row "
                           "(seal it with seal_value)")

    def column_expression(self, colexpr: ColumnElement) -> ColumnElement:
        anchor = getattr(getattr(colexpr, "table", None), "c", {}).get(self.anchor)
        if anchor is None:
            return colexpr
        return _AnchoredRead(colexpr, anchor)

    def result_processor(self, dialect: Dialect, coltype: object):
        sealer = _SEALERS.get(dialect)
        if sealer is None:
            return super().result_processor(dialect, coltype)
        table, column, from_text = self.table, self.column, self.from_text

        def process(value: str | None) -> str | None:
            if value is None:
                return None
            size, sep, rest = value.partition(":")
            if not sep or not size.isdigit():
                raise SealingError(f"{table}.{column}: read without its row")
            anchor, stored = rest[:int(size)], rest[int(size):]
            if not self.seals(anchor) and not stored.startswith(PREFIX):
                return stored
            return from_text(sealer.open(table, column, anchor, stored))

        return process


def blind_value(engine: Engine, value: str | None) -> str | None:
    """What raw SQL compares a `Blinded` column (record_key.value, record_conflict.key_value)
    with: the keyed hash of `value` on PostgreSQL, `value` itself on SQLite."""
    sealer = sealer_of(engine)
    if sealer is None or value is None:
        return value
    return sealer.blind(value)


class Blinded(TypeDecorator):
    """A lookup column (a unique key's value: a licence number, an organisation's name) kept
    as a keyed hash on PostgreSQL, so equality and IN lists still find it through its index
    while the database holds no number; as given on SQLite. Reads give the stored hash back
    (storage/records.find_keys maps it to the value asked for); a hash is never hashed again."""

    impl = AutoString
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        sealer = _SEALERS.get(dialect)
        if value is None or sealer is None or not isinstance(value, str):
            return value
        return sealer.blind(value)


class SealedString(Sealed):
    """`Sealed` over VARCHAR, for columns that were strings before sealing (the SQLite schema
    stays what it was)."""

    impl = AutoString
    cache_ok = True


class SealedBytes(Sealed):
    """`Sealed` over a binary column (a private key): the bytes are sealed as their base64
    text, stored as ASCII bytes on PostgreSQL; bytes as given on SQLite."""

    impl = LargeBinary
    cache_ok = True

    def to_text(self, value: Any) -> str:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise SealingError(f"{self.table}.{self.column}: bytes are sealed here, not "
                               f"{type(value).__name__}")
        return base64.b64encode(bytes(value)).decode("ascii")

    def from_text(self, plain: str) -> Any:
        return base64.b64decode(plain)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        value = super().process_bind_param(value, dialect)
        return value.encode("ascii") if isinstance(value, SealedText) else value


class _AnchoredRead(ColumnElement):
    """``length(anchor) || ':' || anchor || value`` on PostgreSQL (the row the value is read
    from, told apart from the value whatever either holds); the value itself elsewhere."""

    inherit_cache = True

    def __init__(self, value: ColumnElement, anchor: ColumnElement) -> None:
        self.value, self.anchor_column = value, anchor
        self.type = value.type

    def _gen_cache_key(self, anon_map, bindparams):  # cached like the column it wraps
        return (type(self), self.value._gen_cache_key(anon_map, bindparams),
                self.anchor_column._gen_cache_key(anon_map, bindparams))


@compiles(_AnchoredRead)
def _read_plain(element: _AnchoredRead, compiler, **kw) -> str:
    return compiler.process(element.value, **kw)


@compiles(_AnchoredRead, "postgresql")
def _read_anchored(element: _AnchoredRead, compiler, **kw) -> str:
    anchor = f"CAST({compiler.process(element.anchor_column, **kw)} AS TEXT)"
    value = compiler.process(element.value, **kw)
    if isinstance(element.type, SealedBytes):  # sealed bytes are ASCII: 'escape' is the text
        value = f"encode({value}, 'escape')"
    return f"(CAST(char_length({anchor}) AS TEXT) || ':' || {anchor} || {value})"


def _sealed_columns(table) -> list:
    return [c for c in getattr(table, "columns", ()) if isinstance(c.type, Sealed)]


def _seal_statement(conn, elem, multiparams, params, execution_options):
    """before_execute: seal the sealed columns of an INSERT or UPDATE for their rows."""
    if not isinstance(elem, Insert | Update):
        return elem, multiparams, params
    columns = _sealed_columns(elem.table)
    sealer = _SEALERS.get(conn.dialect)
    if not columns or sealer is None:
        return elem, multiparams, params
    anchor = elem.table.c[columns[0].type.anchor]
    fixed = _where_anchor(elem, anchor)
    inline = dict(getattr(elem, "_values", None) or {})
    rows = [dict(p) for p in multiparams] if multiparams else [dict(params or {})]
    for row in rows:
        row_anchor = _row_anchor(conn, elem, anchor, row, inline, fixed)
        for col in columns:
            key = _param_key(inline, col, row)
            if key is not None:  # a value of this row's parameters
                value = row[key]
                if value is not None and not isinstance(value, SealedText) \
                        and col.type.seals(row_anchor):
                    row[key] = sealer.seal(col.type.table, col.type.column, row_anchor,
                                           _checked(value, col, row_anchor))
                continue
            plain = _inline_value(inline, col)  # a literal in the statement itself
            if plain is None or isinstance(plain, SealedText) or not col.type.seals(row_anchor):
                continue
            if len(rows) > 1:
                raise SealingError(f"{col.table.name}.{col.key}: one literal value written to "
                                   "several rows (pass it per row, with the row's key)")
            elem = elem.values({col.key: sealer.seal(col.type.table, col.type.column,
                                                     row_anchor, _checked(plain, col, row_anchor))})
    if multiparams:
        return elem, rows, {}
    return elem, [], rows[0]


def _checked(value: Any, col, anchor: object) -> str:
    if anchor is None:
        raise SealingError(f"{col.table.name}.{col.key}: written without its row's "
                           f"{col.type.anchor} (seal it with seal_value)")
    return col.type.to_text(value)


def _param_key(inline: dict, col, row: dict) -> str | None:
    """Which of the row's parameters holds `col`'s value: its own key, or the name of the
    bound parameter the statement's values give it (``values(name=bindparam("new"))``)."""
    if col.key in row:
        return col.key
    for key, bound in inline.items():
        if getattr(key, "key", key) == col.key and isinstance(bound, BindParameter) \
                and bound.key in row:
            return bound.key
    return None


def _inline_value(inline: dict, col) -> Any:
    for key, bound in inline.items():
        if getattr(key, "key", key) == col.key:
            return getattr(bound, "value", bound)
    return None


def _where_anchor(elem, anchor) -> object:
    """The anchor value an UPDATE's ``WHERE anchor = value`` names (None when it names none)."""
    clause = getattr(elem, "whereclause", None)
    parts = [clause] if isinstance(clause, BinaryExpression) else list(
        getattr(clause, "clauses", ()))
    for part in parts:
        if (isinstance(part, BinaryExpression) and part.operator is operators.eq
                and getattr(part.left, "key", None) == anchor.key
                and getattr(part.left, "table", None) is anchor.table
                and isinstance(part.right, BindParameter)):
            return part.right.value if part.right.value is not None else ("bind", part.right.key)
    return None


def _row_anchor(conn, elem, anchor, row: dict, inline: dict, fixed: object) -> object:
    for key in (anchor.key, anchor._label):
        if row.get(key) is not None:
            return row[key]
    if isinstance(fixed, tuple) and fixed[:1] == ("bind",):
        return row.get(fixed[1])
    if fixed is not None:
        return fixed
    if _inline_value(inline, anchor) is not None:
        return _inline_value(inline, anchor)
    if isinstance(elem, Insert) and anchor.autoincrement is not False and anchor.type.python_type \
            is int:
        # the database would number the row after it is sealed: take its number first
        value = conn.execute(text("SELECT nextval(pg_get_serial_sequence(:t, :c))"),
                             {"t": elem.table.name, "c": anchor.name}).scalar_one()
        row[anchor.key] = value
        return value
    return None
