"""Explicit schema versions (qutebrowser's habit): refuse newer, back up, then migrate older.

The version lives in the `meta` table (key ``schema_version``). A migration is a function that
takes a SQLAlchemy Connection inside the transaction that also bumps the version, so a failed
migration leaves the register as it was (and its backup in the 备份 folder beside it).

The same functions migrate a register on PostgreSQL (storage/server/store.py: a pg_dump into
the 备份 folder first; the DDL is part of the transaction there too). They use only Core
constructs and SQL both databases read; a new one must too (tests/storage/test_stores.py
migrates a PostgreSQL register from version 4 and checks its schema equals a new one's).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import (
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

from desktop.errors import NewerSchema

SCHEMA_VERSION = 6


def _v2_tables() -> list[Table]:
    """The tables version 2 added, frozen as they were in version 2 (tables.py may change
    later; this migration must keep producing the version-2 schema). A test checks that a
    migrated register has exactly the schema of a new one."""
    md = MetaData()
    Table("unit", md, Column("id", AutoString, primary_key=True))  # for the foreign key only

    def col(name: str, type_=AutoString, nullable: bool = False, **kw) -> Column:
        return Column(name, type_, nullable=nullable, **kw)

    package = Table(
        "package", md,
        col("id", primary_key=True), col("kind"), col("direction"), col("sender_code"),
        col("sender_name"), col("sender_level"),
        Column("sender_unit_id", AutoString, ForeignKey("unit.id"), nullable=True),
        col("recipient_code"), col("recipient_fingerprint"), col("sequence", Integer),
        col("supersedes", nullable=True), col("superseded_by", nullable=True),
        col("returns", nullable=True), col("created", UTCDateTime),
        col("handled_at", UTCDateTime), col("file_name"), col("file_sha256"),
        col("signer_fingerprint"), col("record_count", Integer), col("errors", Integer),
        col("warnings", Integer), col("status"), col("summary", Text),
        col("content", LargeBinary, nullable=True),
        Index("ix_package_sender_code", "sender_code"),
        Index("ix_package_direction", "direction"),
    )
    trusted = Table(
        "trusted_key", md,
        col("id", Integer, primary_key=True), col("unit_code"), col("unit_name"), col("level"),
        col("signing_key", LargeBinary), col("encryption_key", LargeBinary), col("fingerprint"),
        col("confirmed_how"), col("confirmed_by"), col("created_at", UTCDateTime),
        col("revoked_at", UTCDateTime, nullable=True),
        Index("ix_trusted_key_unit_code", "unit_code"),
        Index("ix_trusted_key_fingerprint", "fingerprint"),
    )
    note = Table(
        "return_note", md,
        col("id", Integer, primary_key=True), col("return_id", nullable=True),
        col("package_id"), col("record_id", nullable=True), col("form_id", nullable=True),
        col("field", nullable=True), col("label"), col("comment", Text), col("direction"),
        col("status"), col("author"), col("created_at", UTCDateTime),
        col("answered_in", nullable=True), col("answered_at", UTCDateTime, nullable=True),
        Index("ix_return_note_return_id", "return_id"),
        Index("ix_return_note_package_id", "package_id"),
        Index("ix_return_note_record_id", "record_id"),
    )
    expected = Table(
        "expected_unit", md,
        col("id", Integer, primary_key=True), col("code"), col("name"),
        col("deadline", nullable=True), col("note"), col("created_at", UTCDateTime),
        UniqueConstraint("code"),
    )
    conflict = Table(
        "record_conflict", md,
        col("id", Integer, primary_key=True), col("kind"), col("key_value"), col("record_a"),
        col("unit_a"), col("record_b"), col("unit_b"), col("package_b", nullable=True),
        col("status"), col("resolution", nullable=True), col("note"),
        col("resolved_by", nullable=True), col("resolved_at", UTCDateTime, nullable=True),
        col("created_at", UTCDateTime),
        Index("ix_record_conflict_key_value", "key_value"),
        Index("ix_record_conflict_record_a", "record_a"),
        Index("ix_record_conflict_record_b", "record_b"),
    )
    return [package, trusted, note, expected, conflict]


def _v1_to_v2(connection: Connection) -> None:
    """Packages, trusted keys, return notes, expected units, conflicts; Record.package_id."""
    connection.execute(text("ALTER TABLE record ADD COLUMN package_id VARCHAR"))
    connection.execute(text("CREATE INDEX ix_record_package_id ON record (package_id)"))
    for table in _v2_tables():
        table.create(connection)


def _v2_to_v3(connection: Connection) -> None:
    """The audit anchors: the last accepted audit chain head of each sender (frozen as in
    version 3)."""
    md = MetaData()
    Table("audit_anchor", md,
          Column("sender_code", AutoString, primary_key=True),
          Column("seq", Integer, nullable=False), Column("hash", AutoString, nullable=False),
          Column("trail", LargeBinary, nullable=False),
          Column("package_id", AutoString, nullable=False),
          Column("updated_at", UTCDateTime, nullable=False)).create(connection)


def _v3_to_v4(connection: Connection) -> None:
    """No table changes: imports store their records complete since version 4 (issue 16:
    official outputs take no drafts). A draft of an older register that the editor never saved
    (no ``record.save`` entry targets it) came from an import, and becomes complete as it would
    be now; a draft typed in the editor stays a draft. The state codes are frozen here as
    stored in version 3 (domain.states: 草稿 DRAFT, 待提交 COMPLETE)."""
    connection.execute(text(
        "UPDATE record SET state = '待提交' WHERE state = '草稿' AND package_id IS NULL "
        "AND id NOT IN (SELECT target FROM audit_entry WHERE action = 'record.save')"))


def _v4_to_v5(connection: Connection) -> None:
    """Key events: signing keys retired from a date, by a rotation statement of their unit or
    a revocation of the level responsible for it; the spot-check samples and their items
    (frozen as in version 5)."""
    md = MetaData()
    Table("key_event", md,
          Column("id", Integer, primary_key=True),
          Column("kind", AutoString, nullable=False),
          Column("unit_code", AutoString, nullable=False),
          Column("fingerprint", AutoString, nullable=False),
          Column("new_fingerprint", AutoString, nullable=True),
          Column("effective_from", UTCDateTime, nullable=False),
          Column("by_code", AutoString, nullable=False),
          Column("by_name", AutoString, nullable=False),
          Column("statement", Text, nullable=False),
          Column("source", AutoString, nullable=True),
          Column("created_at", UTCDateTime, nullable=False),
          Index("ix_key_event_unit_code", "unit_code"),
          Index("ix_key_event_fingerprint", "fingerprint")).create(connection)
    # spot checks (抽查核验): a drawn sample and its records with their verification results
    Table("spot_sample", md,
          Column("id", AutoString, primary_key=True),
          Column("seed", AutoString, nullable=False),
          Column("method", AutoString, nullable=False),
          Column("rule", AutoString, nullable=False),
          Column("population", Integer, nullable=False),
          Column("size", Integer, nullable=False),
          Column("units", Integer, nullable=False),
          Column("created_by", AutoString, nullable=False),
          Column("created_at", UTCDateTime, nullable=False)).create(connection)
    Table("spot_item", md,
          Column("id", Integer, primary_key=True),
          Column("sample_id", AutoString, nullable=False),
          Column("position", Integer, nullable=False),
          Column("record_id", AutoString, nullable=False),
          Column("unit_code", AutoString, nullable=False),
          Column("form_id", AutoString, nullable=False),
          Column("package_id", AutoString, nullable=True),
          Column("result", AutoString, nullable=True),
          Column("note", Text, nullable=False),
          Column("verifier", AutoString, nullable=False),
          Column("verified_on", AutoString, nullable=True),
          Column("recorded_by", AutoString, nullable=True),
          Column("recorded_at", UTCDateTime, nullable=True),
          Index("ix_spot_item_sample_id", "sample_id"),
          Index("ix_spot_item_record_id", "record_id")).create(connection)


def _v5_to_v6(connection: Connection) -> None:
    """PostgreSQL lists a form's records newest first from an index of (form, creation time,
    key) — SQLite lists them by rowid — and drops the index of the record names, which holds
    only sealed values there (each sealed with its own nonce: nothing can be looked up by it).
    Nothing changes on SQLite."""
    if connection.dialect.name == "sqlite":
        return
    connection.execute(text("CREATE INDEX ix_record_form_created "
                            "ON record (form_id, created_at, id)"))
    connection.execute(text("DROP INDEX ix_record_name"))


#: {from_version: fn(connection)} — each brings the schema from `from_version` to the next one.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _v1_to_v2, 2: _v2_to_v3,
                                                       3: _v3_to_v4, 4: _v4_to_v5,
                                                       5: _v5_to_v6}


def newer_schema_error(path: Path, found: int) -> NewerSchema:
    """What to tell of a register made by a newer version: a file, or a database (a register on
    PostgreSQL: `path` is its ServerLocation)."""
    kept = "文件" if isinstance(path, Path) else "数据库"
    return NewerSchema(
        f"无法打开 {path}：此登记库由更新版本的登记软件创建（版本 {found}），"
        f"本版本只支持到 {SCHEMA_VERSION}，请升级软件；{kept}未作任何改动。"
    )


def migrate(connection: Connection, found: int) -> int:
    """Run the migrations from `found` up to SCHEMA_VERSION on `connection`; return the new
    version. The caller owns the transaction."""
    version = found
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise RuntimeError(f"no migration from schema version {version}")
        step(connection)
        version += 1
        connection.execute(
            text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": str(version)}
        )
    return version
