"""The SQLModel tables of schema version 5 (version 2 added packages, trust, returns, expected
units and conflicts; version 3 the audit anchors; version 4 changed no table: imported drafts
became complete; version 5 the key events: rotations and revocations, and the spot-check
samples; see migrations.py).

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
from desktop.domain.states import DRAFT
from desktop.domain.states import RECORD_STATES as RECORD_STATES  # re-exported
from desktop.storage.server.sealing import Blinded, Sealed, SealedBytes, SealedString

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
    created_at, audit_head, export_recipient (the key file chosen for the own packages)."""

    __tablename__ = "meta"

    key: str = Field(primary_key=True)
    #: sealed on PostgreSQL for the unit's people (unit.handler, unit.phone, …)
    value: str = Field(sa_type=SealedString("meta", "value", anchor="key", prefixes=("unit.",)))


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
    #: sealed on PostgreSQL: a DBA who read it could sign packages as the unit
    private_key: bytes | None = Field(default=None, sa_type=SealedBytes("unit_key", "private_key"))
    created_at: datetime = Field(default_factory=utcnow)


class Record(SQLModel, table=True):
    """One filled form. `id` is stable across levels; `data` is the JSON of its field values."""

    __tablename__ = "record"

    id: str = Field(default_factory=new_id, primary_key=True)
    form_id: str = Field(index=True)
    form_version: str
    unit_id: str = Field(foreign_key="unit.id", index=True)
    data: str = Field(sa_type=Sealed("record", "data"))  # json.dumps(values, ensure_ascii=False)
    name: str = Field(sa_type=SealedString("record", "name"))
    person_key: str | None = Field(default=None, index=True)  # Register.person_hash(ID number)
    state: str = DRAFT  # a code of domain.states
    revision: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    #: the received package that delivered this record (None for the own unit's records)
    package_id: str | None = Field(default=None, index=True)

    __table_args__ = (
        # SQLite lists a form's names from this covering index; on PostgreSQL names are sealed
        # (each with its own nonce), so an index of them could find nothing
        Index("ix_record_name", "name").ddl_if(dialect="sqlite"),
        # PostgreSQL lists a form newest first from this one (SQLite by rowid)
        Index("ix_record_form_created", "form_id", "created_at", "id")
        .ddl_if(dialect="postgresql"),
    )


class RecordKey(SQLModel, table=True):
    """A unique-key value of a record (kind e.g. person, licence, org_name, firm_uscc), already
    hashed or normalised by the caller; the (kind, value) index finds duplicates."""

    __tablename__ = "record_key"
    __table_args__ = (Index("ix_record_key_kind_value", "kind", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    record_id: str = Field(foreign_key="record.id", index=True, ondelete="CASCADE")
    form_id: str
    kind: str
    value: str = Field(sa_type=Blinded)  # a keyed hash on PostgreSQL (server/sealing.py)


class Override(SQLModel, table=True):
    """A warning a user confirmed, with the reason and who/when."""

    __tablename__ = "override"

    id: int | None = Field(default=None, primary_key=True)
    record_id: str = Field(foreign_key="record.id", index=True, ondelete="CASCADE")
    field: str
    rule: str
    reason: str = Field(sa_type=SealedString("override", "reason"))
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
    detail: str = Field(sa_type=Sealed("audit_entry", "detail", anchor="seq"))  # canonical JSON
    prev_hash: str
    hash: str


#: Directions and states of a package (Package.direction / Package.status).
PACKAGE_SENT, PACKAGE_RECEIVED = "sent", "received"
PACKAGE_STATES = ("sent", "received", "accepted", "returned", "superseded")


class Package(SQLModel, table=True):
    """Every package sent or received (registration packages and return files alike).

    `content` keeps a received registration package's file unchanged, so an upward package can
    carry it under inner/; it is a large column, so list queries select columns explicitly.
    """

    __tablename__ = "package"

    id: str = Field(primary_key=True)  # the package id of its manifest
    kind: str  # "registration" or "return"
    direction: str = Field(index=True)  # PACKAGE_SENT or PACKAGE_RECEIVED
    sender_code: str = Field(index=True)
    sender_name: str
    sender_level: str
    sender_unit_id: str | None = Field(default=None, foreign_key="unit.id")
    recipient_code: str
    recipient_fingerprint: str
    sequence: int
    supersedes: str | None = None
    superseded_by: str | None = None
    returns: str | None = None  # a return file: the package it returns
    created: datetime  # as the manifest says
    handled_at: datetime = Field(default_factory=utcnow)  # when it was written or merged
    file_name: str
    file_sha256: str
    signer_fingerprint: str
    record_count: int = 0
    errors: int = 0  # E findings of its records when merged
    warnings: int = 0  # W findings not confirmed by the sender
    status: str = "received"  # PACKAGE_STATES
    summary: str = Field(default="{}", sa_type=Sealed("package", "summary"))  # forms, counts, …
    content: bytes | None = Field(default=None, sa_type=LargeBinary)


class TrustedKey(SQLModel, table=True):
    """A public key whose packages are accepted, with how it was confirmed."""

    __tablename__ = "trusted_key"

    id: int | None = Field(default=None, primary_key=True)
    unit_code: str = Field(index=True)
    unit_name: str
    level: str
    signing_key: bytes = Field(sa_type=LargeBinary)  # Ed25519, raw 32 bytes
    encryption_key: bytes = Field(sa_type=LargeBinary)  # X25519, raw 32 bytes
    fingerprint: str = Field(index=True)
    confirmed_how: str
    confirmed_by: str
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class ReturnNote(SQLModel, table=True):
    """A comment on a record (or one field of it) of a returned package.

    direction "sent": written by this register's clerk; "received": from a return file.
    status: "draft" (not yet in a return file), "open", "answered".
    """

    __tablename__ = "return_note"

    id: int | None = Field(default=None, primary_key=True)
    return_id: str | None = Field(default=None, index=True)  # the return file's package id
    package_id: str = Field(index=True)  # the package being returned
    record_id: str | None = Field(default=None, index=True)
    form_id: str | None = None
    field: str | None = None  # field id (None: the record, or the package, as a whole)
    label: str = ""
    comment: str = Field(sa_type=Sealed("return_note", "comment"))
    direction: str
    status: str = "open"
    author: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    answered_in: str | None = None  # the package that answered it
    answered_at: datetime | None = None


class ExpectedUnit(SQLModel, table=True):
    """A unit whose package this register expects (the city's list of firms)."""

    __tablename__ = "expected_unit"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True)
    name: str
    deadline: str | None = None  # YYYY-MM-DD
    note: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class Conflict(SQLModel, table=True):
    """The same unique key (a person's ID number, a licence) in records of two units.

    Record ids are plain columns (no foreign key): a resolution that removes a record keeps
    the conflict as history.
    """

    __tablename__ = "record_conflict"

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    key_value: str = Field(index=True, sa_type=Blinded)  # as stored in record_key
    record_a: str = Field(index=True)  # the record that was there first
    unit_a: str
    record_b: str = Field(index=True)  # the record that arrived
    unit_b: str
    package_b: str | None = None
    status: str = "open"  # "open" or "resolved"
    resolution: str | None = None  # keep_a, keep_b, keep_both, return_a, return_b
    note: str = Field(default="", sa_type=SealedString("record_conflict", "note"))
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class AuditAnchor(SQLModel, table=True):
    """The last accepted audit chain head of a unit whose packages arrive here (schema version
    3): a later package of that unit must carry a chain that extends it (exchange/format/
    anchor.py), so a rewrite of history already sent is seen."""

    __tablename__ = "audit_anchor"

    sender_code: str = Field(primary_key=True)
    seq: int
    hash: str
    #: the first 8 bytes of the hash of every entry 1..seq, to name the entries that differ
    trail: bytes = Field(sa_type=LargeBinary)
    package_id: str  # the package that set it
    updated_at: datetime = Field(default_factory=utcnow)


class KeyEvent(SQLModel, table=True):
    """A signing key retired from a date (schema version 5): rotated by its own unit (a
    statement signed by the old key, exchange/format/rotation.py) or revoked by the level
    responsible for the unit. Kept for the own unit's rotations too; `statement` is what the
    next package carries upward; `source` the package it arrived in (None: made here)."""

    __tablename__ = "key_event"

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # "rotation" or "revocation"
    unit_code: str = Field(index=True)
    fingerprint: str = Field(index=True)  # the retired key
    new_fingerprint: str | None = None  # a rotation's new key
    effective_from: datetime  # packages it signs from this time on are refused
    by_code: str  # the unit that stated it (the unit itself, or the revoking level)
    by_name: str
    statement: str = Field(sa_type=Text)  # JSON, as carried in a manifest
    source: str | None = None  # package id it arrived in; None when made in this register
    created_at: datetime = Field(default_factory=utcnow)


class SpotSample(SQLModel, table=True):
    """A spot-check sample drawn from the accepted records (schema version 5; 抽查核验,
    docs/spotcheck.md): the seed and method redraw it; `rule` is what was asked (a size, or a
    rate such as 5%)."""

    __tablename__ = "spot_sample"

    id: str = Field(primary_key=True)
    seed: str
    method: str  # domain.spotcheck METHOD, e.g. dengji-spotcheck-1
    rule: str  # "200" or "5%"
    population: int  # accepted records it was drawn from
    size: int
    units: int  # units in the population
    created_by: str
    created_at: datetime = Field(default_factory=utcnow)


class SpotItem(SQLModel, table=True):
    """One record of a sample, with its verification result once recorded (核验结果 属实,
    不实 or 无法核实; None: not verified yet). The record id is a plain column: the record may
    later be replaced by a newer package of its unit, the sample keeps what was checked."""

    __tablename__ = "spot_item"

    id: int | None = Field(default=None, primary_key=True)
    sample_id: str = Field(index=True)
    position: int  # 序号 in the workbook
    record_id: str = Field(index=True)
    unit_code: str
    form_id: str
    package_id: str | None = None  # the received package the record was accepted in
    result: str | None = None
    note: str = Field(default="", sa_type=Sealed("spot_item", "note"))
    verifier: str = ""
    verified_on: str | None = None  # YYYY-MM-DD
    recorded_by: str | None = None
    recorded_at: datetime | None = None


#: The tables of this schema version, created together (other modules' tables are not included).
STORAGE_TABLES = [
    Meta.__table__,
    Unit.__table__,
    UnitKey.__table__,
    Record.__table__,
    RecordKey.__table__,
    Override.__table__,
    AuditEntry.__table__,
    Package.__table__,
    TrustedKey.__table__,
    ReturnNote.__table__,
    ExpectedUnit.__table__,
    Conflict.__table__,
    AuditAnchor.__table__,
    KeyEvent.__table__,
    SpotSample.__table__,
    SpotItem.__table__,
]
