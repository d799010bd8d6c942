"""The SQLModel tables of schema version 1.

Forms are data, so a record keeps its field values as JSON text in `Record.data`; only what is
looked up often is promoted to an indexed column (`name`, `person_key`) or to `RecordKey` rows.
Timestamps are aware datetimes in UTC (SQLModel's UTCDateTime refuses naive ones, stores UTC and
reads back UTC on SQLite and PostgreSQL alike); the audit log keeps its own ISO-8601 strings
because they are part of what it hashes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from desktop.domain.levels import LEVELS as UNIT_LEVELS  # noqa: F401 (re-exported)

#: States of a record, in the order a record usually passes through them.
RECORD_STATES = ("草稿", "待提交", "已提交", "已退回", "已接收")

#: Kinds of unit key pair.
KEY_SIGNING = "ed25519"
KEY_ENCRYPTION = "x25519"


def utcnow() -> datetime:
    """Now, as an aware datetime in UTC (what every datetime column takes)."""
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class Meta(SQLModel, table=True):
    """Key/value facts about the register: schema_version, person_key_secret, own_unit_id,
    created_at, audit_head."""

    __tablename__ = "meta"

    key: str = Field(primary_key=True)
    value: str


class Unit(SQLModel, table=True):
    """A reporting unit: the register's own unit, or one whose packages arrived."""

    __tablename__ = "unit"

    id: str = Field(default_factory=new_id, primary_key=True)
    code: str = Field(index=True)
    name: str
    level: str
    parent_code: str | None = None
    is_own: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class UnitKey(SQLModel, table=True):
    """A unit's public key (raw bytes); the private key only for the own unit."""

    __tablename__ = "unit_key"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: str = Field(foreign_key="unit.id", index=True)
    kind: str  # KEY_SIGNING or KEY_ENCRYPTION
    public_key: bytes = Field(sa_type=LargeBinary)
    private_key: bytes | None = Field(default=None, sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow)


class Record(SQLModel, table=True):
    """One filled form. `id` is stable across levels; `data` is the JSON of its field values."""

    __tablename__ = "record"

    id: str = Field(default_factory=new_id, primary_key=True)
    form_id: str = Field(index=True)
    form_version: str
    unit_id: str = Field(foreign_key="unit.id", index=True)
    data: str = Field(sa_type=Text)  # json.dumps(values, ensure_ascii=False)
    name: str = Field(index=True)
    person_key: str | None = Field(default=None, index=True)  # Register.person_hash(ID number)
    state: str = "草稿"
    revision: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class RecordKey(SQLModel, table=True):
    """A unique-key value of a record (kind e.g. person, licence, org_name, firm_uscc), already
    hashed or normalised by the caller; the (kind, value) index finds duplicates."""

    __tablename__ = "record_key"
    __table_args__ = (Index("ix_record_key_kind_value", "kind", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    record_id: str = Field(foreign_key="record.id", index=True, ondelete="CASCADE")
    form_id: str
    kind: str
    value: str


class Override(SQLModel, table=True):
    """A warning a user confirmed, with the reason and who/when."""

    __tablename__ = "override"

    id: int | None = Field(default=None, primary_key=True)
    record_id: str = Field(foreign_key="record.id", index=True, ondelete="CASCADE")
    field: str
    rule: str
    reason: str
    actor: str
    created_at: datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """One append-only, hash-chained audit entry (see audit.py)."""

    __tablename__ = "audit_entry"

    # Set explicitly to last seq + 1 (not left to the database), because the hash covers it.
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    ts: str  # ISO-8601 UTC, e.g. 2025-03-01T08:00:00.000000Z
    actor: str
    action: str
    target: str
    detail: str = Field(sa_type=Text)  # canonical JSON
    prev_hash: str
    hash: str


#: The tables of this schema version, created together (other modules' tables are not included).
STORAGE_TABLES = [
    Meta.__table__,
    Unit.__table__,
    UnitKey.__table__,
    Record.__table__,
    RecordKey.__table__,
    Override.__table__,
    AuditEntry.__table__,
]
