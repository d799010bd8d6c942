"""Opening and creating registers: the engine factory, keying, schema checks, migrations.

One open register is one `Register`: its location, a SQLAlchemy engine and the keyed hash for
lookups. A location is a file path (SQLCipher: every connection keyed with a key derived once
per open, the file held by a lock) or a ``postgresql://`` URL (storage/server: the personal
columns sealed with the register's data key; no lock, several processes may open it).
Services open sessions from it and commit themselves.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3
from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, SQLModel

from desktop.errors import KnownError, NotARegister, UsageError, WrongPassphrase
from desktop.inputs import regular_file
from desktop.paths import tracked_part
from desktop.storage import crypto, lock, migrations, recovery
from desktop.storage.audit import append_audit
from desktop.storage.crypto import KdfParams
from desktop.storage.files import (
    DiskFull,
    backup_file,
    fsync,
    has_side_files,
    prune_backups,
    remove_with_side_files,
)
from desktop.storage.keys import add_own_keys
from desktop.storage.rekey import rekey_file
from desktop.storage.server import store
from desktop.storage.server.location import ServerLocation, is_server_url
from desktop.storage.tables import STORAGE_TABLES, UNIT_LEVELS, Meta, Unit, utcnow


@dataclass(frozen=True)
class UnitInfo:
    """The own unit of a new register."""

    code: str
    name: str
    level: str
    parent_code: str | None = None


class Register:
    """An open, encrypted register."""

    def __init__(self, path: Path, engine: Engine, own_unit_id: str, secret: bytes, *,
                 key_literal: str | None = None, lock_key: str | None = None,
                 passphrase: str | None = None) -> None:
        self.path = path
        self.engine = engine
        self.own_unit_id = own_unit_id
        self._secret = secret
        self._key_literal = key_literal
        self._lock_key = lock_key
        self._passphrase = passphrase  # for files of this register keyed before a re-key

    def __repr__(self) -> str:
        return f"Register({str(self.path)!r})"

    @property
    def kind(self) -> str:
        """"server" for a register on PostgreSQL (`path` is then its ServerLocation), "file"
        for a SQLCipher file."""
        return "server" if isinstance(self.path, ServerLocation) else "file"

    @property
    def key_literal(self) -> str | None:
        """The raw SQLCipher key of the file (None when not opened with a passphrase): a backup
        is written and checked with it, so that it opens with the same passphrase."""
        return self._key_literal

    def key_for(self, path: Path) -> str | None:
        """The raw key that opens `path` — this register's own, or for a file of it made
        before a re-key (a backup: another salt, older parameters) one derived from the
        passphrase with the parameters its salt records. None when nothing opens it."""
        if self.kind == "server" or isinstance(path, ServerLocation):
            return None
        salt = crypto.read_header(path)[: crypto.SALT_BYTES]
        if self._key_literal is not None and self._key_literal.endswith(f"{salt.hex()}'"):
            return self._key_literal
        if self._passphrase is None or len(salt) != crypto.SALT_BYTES:
            return None
        for kdf in crypto.kdf_candidates(salt):
            literal = crypto.raw_key(crypto.derive_key(self._passphrase, salt, kdf), salt)
            try:
                crypto.connect(path, literal, configure=False).close()
            except crypto.DatabaseError:
                continue
            return literal
        return self._slot_key(path, salt)

    def _slot_key(self, path: Path, salt: bytes) -> str | None:
        """The raw key of a file of this register (a backup from before a passphrase change)
        that its recovery side file gives, unwrapped with this register's recovery key."""
        meta = recovery_meta(self.engine)
        try:
            side = recovery.read_side(path)
        except recovery.SideFileError:
            return None
        if meta is None or side is None:
            return None
        for entry in side.keys:
            slot = entry.slots.get(salt.hex())
            key = slot and recovery.unwrap(meta.kek, meta.key_id, salt, slot)
            if entry.key_id == meta.key_id and key:
                literal = crypto.raw_key(key, salt)
                try:
                    crypto.connect(path, literal, configure=False).close()
                except crypto.DatabaseError:
                    return None
                return literal
        return None

    def use_key(self, key_literal: str, passphrase: str) -> None:
        """After the file was re-keyed (a passphrase change): open a new engine with the new
        key (the old engine is disposed); files of it keyed before are found by `key_for`."""
        self.engine.dispose()
        self._key_literal = key_literal
        self._passphrase = passphrase
        self.engine = make_engine(self.path, key_literal)

    def is_same_register(self, facts: dict[str, str]) -> bool:
        """Whether the `meta` facts read from another file (a backup) belong to this register:
        the same own unit and the same person-key secret."""
        return facts.get("own_unit_id") == self.own_unit_id and hmac.compare_digest(
            facts.get("person_key_secret", ""), self._secret.hex()
        )

    def reopen(self, schema_version: int) -> None:
        """Open a new engine over `path` after its file was replaced (a restore; the old
        engine is disposed) and migrate it from `schema_version` when that is older."""
        if self._key_literal is None:
            raise KnownError("此登记库不是用口令打开的，无法恢复。")
        self.engine.dispose()
        self.engine = make_engine(self.path, self._key_literal)
        if schema_version < migrations.SCHEMA_VERSION:
            migrate_register(self.path, self.engine, schema_version)

    def session(self) -> Session:
        """A new session; the caller commits. Loaded objects stay readable after commit."""
        return Session(self.engine, expire_on_commit=False, info={"register_path": str(self.path)})

    def key_hash(self, kind: str, value: str) -> str:
        """Keyed hash (HMAC-SHA256, 32 hex digits) of a normalised unique-key value.

        The key is this register's own secret, so the hashes mean nothing outside it, and a
        record that arrives from elsewhere is hashed again from its plain value.
        """
        return hmac.digest(self._secret, f"{kind}\x00{value}".encode(), "sha256").hex()[:32]

    def person_hash(self, normalised_id: str) -> str:
        """`person_key` of a record: key_hash("person", normalised ID number)."""
        return self.key_hash("person", normalised_id)

    def close(self) -> None:
        """Close pooled connections (the last one checkpoints the WAL into the file) and let go
        of the register's lock."""
        self.engine.dispose()
        if self._lock_key is not None:
            lock.release(self._lock_key)
            self._lock_key = None

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_engine(path: Path, key_literal: str) -> Engine:
    """An engine over `path` whose every connection is keyed and configured (crypto.connect)."""
    engine = create_engine(
        "sqlite://",
        creator=lambda: crypto.connect(path, key_literal),
        module=sqlcipher3.dbapi2,
        poolclass=QueuePool,
    )
    event.listen(engine, "begin", _begin)
    event.listen(engine, "handle_error", _disk_full)
    return engine


SQLITE_FULL = 13


def _disk_full(context) -> BaseException | None:
    """Turn SQLite's "database or disk is full" into a message the user can act on."""
    err = context.original_exception
    if getattr(err, "sqlite_errorcode", None) == SQLITE_FULL or "disk is full" in str(err):
        return DiskFull(
            "磁盘空间已满，本次操作未完成，已全部撤销，登记库保持操作前的状态。"
            "请腾出磁盘空间（或把登记库移到空间足够的磁盘）后重试。"
        )
    return None


def _begin(conn: Connection) -> None:
    """Begin transactions ourselves (SQLAlchemy's pysqlite recipe), so reads share the writer's
    transaction and SAVEPOINTs work; the driver's implicit transactions stay off. A connection
    with isolation_level="AUTOCOMMIT" (for VACUUM or a WAL checkpoint) gets no BEGIN."""
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return
    # SQLAlchemy's reset after an AUTOCOMMIT use turns the driver's implicit mode back on.
    conn.connection.driver_connection.isolation_level = None
    conn.exec_driver_sql("BEGIN")


def create_register(
    path: str | os.PathLike[str],
    passphrase: str,
    unit: UnitInfo,
    *,
    kdf: KdfParams | None = None,
    actor: str = "system",
) -> Register:
    """Create a new encrypted register with its own unit, key pairs and first audit entry.

    Built in a temporary file beside `path` and renamed at the end, so an interruption never
    leaves half a register under the real name.
    """
    if is_server_url(path):
        return _create_on_server(server_location(path), passphrase, unit, kdf=kdf, actor=actor)
    path = Path(path)
    if path.exists():
        raise KnownError(
            f"{path} 已存在，未作任何改动。如要新建登记库，请换一个文件名，或先把原文件移走。"
        )
    _check_new(path, passphrase, unit)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise KnownError(
            f"无法创建文件夹 {path.parent}（{err.strerror}）。请换一个有写入权限的位置。"
        ) from err

    kdf = kdf or crypto.DEFAULT_KDF  # read at call time: tests may make it cheaper
    salt = crypto.new_salt(kdf)
    key_literal = crypto.raw_key(crypto.derive_key(passphrase, salt, kdf), salt)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.creating")
    lock_key = lock.acquire(path)
    engine = make_engine(tmp, key_literal)
    # a killed init leaves no half register behind after the next start (paths.tidy)
    with tracked_part(tmp):
        try:
            secret = os.urandom(32)
            own_unit_id = _fill_new(engine, unit, {"person_key_secret": secret.hex()}, actor)
            engine.dispose()
            if crypto.read_header(tmp)[: crypto.SALT_BYTES] != salt:
                raise RuntimeError("SQLCipher did not write the chosen salt as the file header")
            if has_side_files(tmp):
                raise RuntimeError("the WAL was not checkpointed when the new register was closed")
            fsync(tmp)
            if path.exists():
                raise KnownError(f"{path} 已存在（刚被别的程序创建），未作任何改动。请换一个文件名。")
            os.replace(tmp, path)
            fsync(path.parent, directory=True)
        except BaseException:
            engine.dispose()
            remove_with_side_files(tmp)
            lock.release(lock_key)
            raise
    return Register(path, make_engine(path, key_literal), own_unit_id, secret,
                    key_literal=key_literal, lock_key=lock_key, passphrase=passphrase)


def server_location(location: str | os.PathLike[str]) -> ServerLocation:
    """The checked ServerLocation of a ``postgresql://`` location (a str or one already)."""
    return location if isinstance(location, ServerLocation) else ServerLocation.parse(
        str(location))


def _check_new(where: object, passphrase: str, unit: UnitInfo) -> None:
    if not passphrase:
        raise KnownError(f"新建登记库 {where} 需要设置口令，口令不能为空。")
    if unit.level not in UNIT_LEVELS:
        raise KnownError(
            f"新建登记库 {where}：单位级别“{unit.level}”无效，应为 {'、'.join(UNIT_LEVELS)} 之一。"
        )
    if not unit.code.strip() or not unit.name.strip():
        raise KnownError(f"新建登记库 {where}：请填写本单位的代码和名称。")


def _fill_new(engine: Engine, unit: UnitInfo, facts: dict[str, str], actor: str) -> str:
    """Create the tables and write the own unit, its key pairs, `meta` (with `facts`) and the
    first audit entry, in one transaction; the own unit's id."""
    with Session(engine) as session:
        SQLModel.metadata.create_all(session.connection(), tables=STORAGE_TABLES)
        own = Unit(code=unit.code.strip(), name=unit.name.strip(), level=unit.level,
                   parent_code=unit.parent_code, is_own=True)
        session.add(own)
        session.flush()
        facts = {
            "schema_version": str(migrations.SCHEMA_VERSION),
            **facts,
            "own_unit_id": own.id,
            "created_at": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        session.add_all(Meta(key=k, value=v) for k, v in facts.items())
        add_own_keys(session, own.id)
        append_audit(session, actor, "init", own.id,
                     {"code": own.code, "name": own.name, "level": own.level,
                      "schema_version": migrations.SCHEMA_VERSION})
        session.commit()
        return own.id


def _create_on_server(location: ServerLocation, passphrase: str, unit: UnitInfo, *,
                      kdf: KdfParams | None, actor: str) -> Register:
    """A new register in the empty PostgreSQL database at `location`: the schema, the keys and
    the first facts in one transaction (PostgreSQL's DDL is transactional)."""
    _check_new(location, passphrase, unit)
    engine, keys, facts = store.prepare_new(location, passphrase, kdf or crypto.DEFAULT_KDF)
    try:
        own_unit_id = _fill_new(engine, unit, facts, actor)
    except BaseException:
        engine.dispose()
        raise
    return Register(location, engine, own_unit_id, keys.hash_secret, passphrase=passphrase)


def _open_on_server(location: ServerLocation, passphrase: str, kdf: KdfParams | None,
                    rekey: bool) -> Register:
    def migrate(engine: Engine, found: int, reason: str) -> object:
        backup = store.schema_backup(location, engine, reason)
        _migrate_in(engine, location.name, found, backup.name)
        return backup

    engine, own_unit_id, secret = store.open_server(
        location, passphrase, kdf or crypto.DEFAULT_KDF, rekey=rekey, migrate=migrate)
    return Register(location, engine, own_unit_id, secret, passphrase=passphrase)


def _probe(path: Path, key_literal: str) -> int:
    """Check the key and read the schema version without configuring or writing anything."""
    try:
        conn = crypto.connect(path, key_literal, configure=False)
    except crypto.DatabaseError as err:
        if getattr(err, "sqlite_errorcode", None) == crypto.SQLITE_NOTADB:
            raise WrongPassphrase(
                f"口令不正确，无法打开登记库 {path}。请检查口令（区分大小写）后重试。"
            ) from err
        raise KnownError(
            f"无法打开登记库 {path}（{err}）。如果登记软件的另一个窗口或其他程序正在使用它，"
            "请关闭后重试；否则请检查文件是否可读。"
        ) from err
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0])
    except (crypto.DatabaseError, TypeError, ValueError) as err:
        raise NotARegister(
            f"{path} 是加密数据库，但不是登记库，或已损坏（缺少版本信息）。"
            "请确认选择的是登记软件创建的登记库文件；如已损坏，请用备份恢复。"
        ) from err
    finally:
        conn.close()


def open_register(
    path: str | os.PathLike[str], passphrase: str, *, kdf: KdfParams | None = None,
    rekey: bool = True,
) -> Register:
    """Open an existing register: refuse what is not one, a wrong passphrase and a newer schema
    (all without changing the file); re-key one whose key derivation is weaker than `kdf`
    (default DEFAULT_KDF) unless `rekey` is False (a check of the passphrase while the same
    process has the register open), and back up and migrate an older schema."""
    if is_server_url(path):
        return _open_on_server(server_location(path), passphrase, kdf, rekey)
    path = Path(path)
    if not path.exists():
        raise UsageError(
            f"找不到登记库文件 {path}。请检查路径；如需新建登记库，请运行 dengji init --db \"{path}\"。"
        )
    if path.is_dir():
        raise NotARegister(f"{path} 是文件夹，不是登记库文件。请选择登记库文件（.dengji）。")
    regular_file(path, "登记库")  # a FIFO or a device is said so, never opened
    try:
        salt = crypto.check_is_register(path)
    except OSError as err:
        raise KnownError(f"无法读取登记库 {path}（{err.strerror}）。请检查文件的访问权限后重试。") from err
    target = kdf or crypto.DEFAULT_KDF
    lock_key = lock.acquire(path)
    try:
        key_literal, used, found = _unlock(path, passphrase, salt)
        if found > migrations.SCHEMA_VERSION:
            raise migrations.newer_schema_error(path, found)
    except BaseException:
        lock.release(lock_key)
        raise

    engine = make_engine(path, key_literal)
    try:
        backup = None
        if found < migrations.SCHEMA_VERSION:
            backup = migrate_register(path, engine, found)
        if rekey and crypto.cost(used) < crypto.cost(target):
            meta = recovery_meta(engine)
            engine.dispose()  # closed and checkpointed: the file is the whole register
            rekeyed = rekey_file(path, key_literal, passphrase, target, backup=backup,
                                 prepare=meta and (lambda salt, key: recovery.add_slot(
                                     path, meta, salt, key)))
            if rekeyed is not None:
                key_literal = rekeyed.key_literal
            engine = make_engine(path, key_literal)
            if rekeyed is not None:
                with Session(engine) as session:
                    append_audit(session, "system", "rekey", str(path.name), {
                        "from": _kdf_text(used), "to": _kdf_text(target),
                        "backup": rekeyed.backup.name})
                    session.commit()
        with engine.connect() as conn:
            facts = dict(conn.execute(select(Meta.key, Meta.value)).all())
        own_unit_id = facts.get("own_unit_id")
        try:
            secret = bytes.fromhex(facts.get("person_key_secret", ""))
        except ValueError:
            secret = b""
        if not own_unit_id or len(secret) != 32:
            raise NotARegister(
                f"登记库 {path} 已损坏（缺少本单位或密钥信息）。请用备份恢复。"
            )
        with contextlib.suppress(OSError):  # a read-only folder: the side file stays as it is
            recovery.heal(path, recovery.meta_from(facts), key_literal)
    except BaseException:
        engine.dispose()
        lock.release(lock_key)
        raise
    return Register(path, engine, own_unit_id, secret, key_literal=key_literal, lock_key=lock_key,
                    passphrase=passphrase)


def recovery_meta(engine: Engine) -> recovery.RecoveryMeta | None:
    """The recovery key the register behind `engine` has (None: none, made before them)."""
    with engine.connect() as conn:
        return recovery.meta_from(dict(conn.execute(
            select(Meta.key, Meta.value).where(Meta.key.in_(recovery.META_KEYS))).all()))


def _unlock(path: Path, passphrase: str, salt: bytes) -> tuple[str, KdfParams, int]:
    """The key literal that opens `path`, the parameters it was derived with and the schema
    version, trying the parameters the salt records, then KDF_V1 (crypto.kdf_candidates)."""
    wrong: WrongPassphrase | None = None
    for kdf in crypto.kdf_candidates(salt):
        key_literal = crypto.raw_key(crypto.derive_key(passphrase, salt, kdf), salt)
        try:
            return key_literal, kdf, _probe(path, key_literal)
        except WrongPassphrase as err:
            wrong = err
    assert wrong is not None
    raise wrong


def _kdf_text(kdf: KdfParams) -> str:
    return f"scrypt n=2^{kdf.n.bit_length() - 1} r={kdf.r} p={kdf.p}"


def migrate_register(path: Path, engine: Engine, found: int) -> Path:
    """Back up the register file at `path` (schema version `found`) into its 备份 folder and
    migrate it to SCHEMA_VERSION through `engine`, with an audit entry; the backup's path."""
    backup = backup_file(path)
    recovery.carry(path, backup)
    prune_backups(path)
    _migrate_in(engine, str(path.name), found, backup.name)
    return backup


def _migrate_in(engine: Engine, target: str, found: int, backup: str) -> None:
    """Migrate from `found` to SCHEMA_VERSION in one transaction with its audit entry (on
    PostgreSQL the DDL is part of it: a failed step leaves the schema as it was)."""
    with Session(engine) as session:
        new_version = migrations.migrate(session.connection(), found)
        append_audit(session, "system", "migrate", target,
                     {"from": found, "to": new_version, "backup": backup})
        session.commit()
