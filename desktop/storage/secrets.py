"""A register's secrets and copies, whichever store holds it: the one place the kind is decided.

`secrets_of(register)` hands out the open register's `Secrets`, and `secrets_at(location)` the
`Unopened` of a register that is not open (what its recovery key does). Both kinds offer the
same operations: the recovery key's state, a new recovery key, confirming its sheet, a
passphrase change, recovering with the recovery key, and what a backup does (write one, where
the automatic ones go and how many are kept, whether the program restores one).

- `FileSecrets`, a SQLCipher file: the key's recovery slots in the side file beside it and in
  its backups (storage/recovery.py), re-keying the file in steps a kill cannot leave half done
  after a backup (storage/rekey.py), backups as checked copies beside it (storage/copies.py);
- `ServerSecrets`, a register on PostgreSQL: the data key re-wrapped in one transaction
  (storage/server/secrets.py), backups with pg_dump (storage/server/dump.py), restored by the
  database's administrator with pg_restore.

services/secrets.py and storage/backup.py call these and never ask which kind a register is.
Every change is audited without a secret in the log.
"""

from __future__ import annotations

import contextlib
import hmac
import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sqlalchemy import func, select, text

from desktop.errors import KnownError, WrongPassphrase
from desktop.storage import crypto, lock, migrations
from desktop.storage import recovery as slots
from desktop.storage.audit import append_audit
from desktop.storage.copies import BackupInfo, copy_register, write_error
from desktop.storage.crypto import KdfParams
from desktop.storage.engine import (
    Register,
    make_engine,
    open_register,
    recovery_meta,
    server_location,
)
from desktop.storage.files import REASONS, backup_path, list_backups, prune_backups
from desktop.storage.rekey import rekey_file
from desktop.storage.server import datakey, dump, is_server_url
from desktop.storage.server import secrets as server_keys
from desktop.storage.server.location import ServerLocation
from desktop.storage.server.store import make_server_engine
from desktop.storage.tables import AuditEntry, Meta, Record, Unit

#: a passphrase change (or a recovery) that could not re-key the file changed nothing
BUSY = ("口令未修改，登记库未作任何改动：登记库仍有未完成的操作，或文件夹不可写入、磁盘已满。"
        "请等其他操作结束（或腾出空间）后重试。")

#: check_new(unit_name, unit_code) judges a new passphrase (raises to refuse it)
CheckNew = Callable[[str, str], None]


class Recovery(Protocol):
    """What a register's meta says of its recovery key (no secret in it)."""

    key_id: str
    made_at: str  # "%Y-%m-%dT%H:%M:%SZ"
    confirmed: bool


class Secrets(Protocol):
    """The secrets and copies of an open register (see the module's docstring)."""

    def recovery(self) -> Recovery | None:
        """The recovery key the register has (None: none)."""

    def new_recovery_key(self, actor: str, made_at: str) -> bytes:
        """A new recovery key's secret; the old key opens nothing any more."""

    def confirm(self, key_id: str, actor: str) -> bool:
        """Mark the sheet of `key_id` kept; False (nothing written) if it is not the current."""

    def opens_with(self, passphrase: str) -> bool:
        """Whether `passphrase` opens the register as it is now."""

    def change_passphrase(self, old: str, new: str, kdf: KdfParams, actor: str,
                          check_new: Callable[[], None]) -> Path | None:
        """Re-key to `new` after checking `old` (then `check_new()`); the backup taken first
        (None when the data is not touched)."""

    def backup(self, out: Path) -> BackupInfo:
        """A checked backup of the register at `out`."""

    def backup_place(self, reason: str) -> Path:
        """Where a new automatic backup taken for `reason` goes."""

    def keep_newest(self, made: Path, keep: int) -> None:
        """Delete all but the newest `keep` automatic backups (`made` is the newest)."""

    def restore_refusal(self) -> str | None:
        """Why the program does not restore a backup of this register (None: it does)."""


class Unopened(Protocol):
    """A register that is not open, opened with its recovery key."""

    def problem(self, typed: str) -> str | None:
        """Why the recovery key `typed` does not open it, in Chinese; None if it does."""

    def recover(self, typed: str, new: str, kdf: KdfParams, actor: str,
                check_new: CheckNew) -> tuple[Register, Path | None]:
        """Re-key it to `new` with the recovery key (a wrong key or a passphrase `check_new`
        refuses changes nothing); the register open on `new`, and the backup taken first."""


def secrets_of(register: Register) -> Secrets:
    """The secrets of the open `register`, of its kind."""
    if register.kind == "server":
        return ServerSecrets(register)
    return FileSecrets(register)


def secrets_at(location: str | Path | ServerLocation) -> Unopened:
    """The register at `location` (a file path or a ``postgresql://`` URL), not open."""
    if is_server_url(location):
        return UnopenedServer(server_location(location))
    return UnopenedFile(Path(location))


class FileSecrets:
    """A register file's secrets: slots in its side file, re-keying the file, copies beside it."""

    def __init__(self, register: Register) -> None:
        self.register = register

    def _literal(self) -> str:
        literal = self.register.key_literal
        if literal is None:
            raise KnownError("此登记库不是用口令打开的，无法修改口令或生成恢复密钥。"
                             "请关闭后用口令重新打开。")
        return literal

    def recovery(self) -> Recovery | None:
        return recovery_meta(self.register.engine)

    def new_recovery_key(self, actor: str, made_at: str) -> bytes:
        """Order, so a kill at any moment leaves the register recoverable with the key its meta
        names: the side file gets the new key's slot beside the old key's; the meta switches
        (with the audit entry) in one transaction; then the side file keeps only the new key,
        and the backups beside the register follow (their slots re-wrapped)."""
        register, literal = self.register, self._literal()
        path = register.path
        old = recovery_meta(register.engine)
        secret = slots.new_secret()
        voided = () if old is None else (
            *old.voided, slots.Voided(old.key_id, old.made_at, made_at))
        new = slots.RecoveryMeta(slots.kek(secret), slots.key_id(secret), made_at, False,
                                 voided)
        fresh = slots.current_side(new, literal)
        try:
            side = slots.read_side(path)
        except slots.SideFileError:
            side = None
        kept = tuple(k for k in (side.keys if side else ()) if old and k.key_id == old.key_id)
        try:
            slots.write_side(path, slots.Side((*fresh.keys, *kept), old.voided if old else ()))
        except OSError as err:
            raise KnownError(f"无法在 {path.parent} 中写入恢复密钥文件（{err.strerror or err}），"
                             "未生成新的恢复密钥。请检查文件夹的写入权限后重试。") from err
        with register.session() as session:
            for key, value in new.rows().items():
                session.merge(Meta(key=key, value=value))
            append_audit(session, actor, "recovery.new", path.name,
                         {"key_id": new.key_id, "replaces": old.key_id if old else None})
            session.commit()
        with contextlib.suppress(OSError):  # the meta is the authority: the next open heals it
            slots.write_side(path, fresh)
        _rewrap_backups(path, old, new, literal)
        return secret

    def confirm(self, key_id: str, actor: str) -> bool:
        meta = recovery_meta(self.register.engine)
        if meta is None or not hmac.compare_digest(meta.key_id, key_id):
            return False
        with self.register.session() as session:
            session.merge(Meta(key=slots.META_CONFIRMED, value="1"))
            append_audit(session, actor, "recovery.confirm", self.register.path.name,
                         {"key_id": meta.key_id})
            session.commit()
        return True

    def opens_with(self, passphrase: str) -> bool:
        """Whether `passphrase` gives the file's key (under any parameters its salt allows)."""
        literal = self.register.key_literal or ""
        salt = crypto.read_header(self.register.path)[: crypto.SALT_BYTES]
        return any(hmac.compare_digest(crypto.raw_key(crypto.derive_key(passphrase, salt, kdf),
                                                      salt), literal)
                   for kdf in crypto.kdf_candidates(salt))

    def _check_old(self, old: str) -> None:
        self._literal()  # a register opened without a passphrase: said as such
        if not self.opens_with(old):
            raise WrongPassphrase(server_keys.WRONG_OLD)

    def change_passphrase(self, old: str, new: str, kdf: KdfParams, actor: str,
                          check_new: Callable[[], None]) -> Path | None:
        """A kill at any moment leaves the file openable with the old or the new passphrase,
        and with the recovery key (storage/rekey.py, recovery.add_slot). The register stays
        open, on the new key."""
        register = self.register
        self._check_old(old)
        check_new()
        literal = self._literal()
        meta = recovery_meta(register.engine)
        path = register.path
        register.engine.dispose()  # checkpointed: the file is the whole register
        rekeyed = rekey_file(path, literal, new, kdf, prepare=meta and (
            lambda salt, key: slots.add_slot(path, meta, salt, key)))
        if rekeyed is None:
            register.use_key(literal, old)
            raise KnownError(BUSY)
        register.use_key(rekeyed.key_literal, new)
        with contextlib.suppress(OSError):
            slots.heal(path, meta, rekeyed.key_literal)  # the old salt's slot goes
        with register.session() as session:
            append_audit(session, actor, "register.passphrase", path.name,
                         {"backup": rekeyed.backup.name})
            session.commit()
        return rekeyed.backup

    def backup(self, out: Path) -> BackupInfo:
        return copy_register(self.register, out)

    def backup_place(self, reason: str) -> Path:
        return backup_path(self.register.path, reason)

    def keep_newest(self, made: Path, keep: int) -> None:
        prune_backups(self.register.path, keep)

    def restore_refusal(self) -> str | None:
        return None


def _rewrap_backups(path: Path, old: slots.RecoveryMeta | None, new: slots.RecoveryMeta,
                    literal: str) -> None:
    """The backups beside the register follow the new key: their slots are re-wrapped (the
    old key opens them no more); a backup of the current file without a slot gets one."""
    key, salt = slots.split_literal(literal)
    for backup in list_backups(path):
        with contextlib.suppress(OSError, ValueError):
            if old is not None and slots.rewrap(backup, old, new):
                continue
            if crypto.read_header(backup)[: crypto.SALT_BYTES] == salt:
                slots.write_side(backup, slots.side_for(
                    new, {salt.hex(): slots.wrap(new.kek, new.key_id, salt, key)}))


class UnopenedFile:
    """A register file opened with its recovery key: re-keyed to a new passphrase."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def problem(self, typed: str) -> str | None:
        try:
            crypto.check_is_register(self.path)
            slots.unlock(self.path, typed)
        except KnownError as err:
            return str(err)
        except OSError as err:
            return f"无法读取登记库 {self.path}（{err.strerror or err}）。"
        return None

    def recover(self, typed: str, new: str, kdf: KdfParams, actor: str,
                check_new: CheckNew) -> tuple[Register, Path | None]:
        path = self.path
        crypto.check_is_register(path)
        lock_key = lock.acquire(path)
        try:
            literal, secret = slots.unlock(path, typed)
            engine = make_engine(path, literal)
            try:
                with engine.connect() as conn:
                    facts = dict(conn.execute(select(Meta.key, Meta.value)).all())
                    unit = conn.execute(select(Unit.name, Unit.code).where(
                        Unit.id == facts.get("own_unit_id"))).first()
            finally:
                engine.dispose()  # closed and checkpointed: the file is the whole register
            found = int(facts.get("schema_version", "0") or 0)
            if found > migrations.SCHEMA_VERSION:
                raise migrations.newer_schema_error(path, found)
            check_new(*(unit or ("", "")))
            meta = slots.meta_from(facts)
            if meta is None or meta.key_id != slots.key_id(secret):
                # killed while a new key replaced this one: the typed key still wraps its slots
                meta = slots.RecoveryMeta(slots.kek(secret), slots.key_id(secret), "", False)
            rekeyed = rekey_file(path, literal, new, kdf,
                                 prepare=lambda salt, key: slots.add_slot(path, meta, salt, key))
            if rekeyed is None:
                raise KnownError(BUSY.replace("口令未修改", "未能恢复"))
            register = open_register(path, new)
        finally:
            lock.release(lock_key)
        with register.session() as session:
            append_audit(session, actor, "register.recover", path.name,
                         {"key_id": slots.key_id(secret), "backup": rekeyed.backup.name})
            session.commit()
        return register, rekeyed.backup


class ServerSecrets:
    """A PostgreSQL register's secrets: its data key's wraps in `meta`, pg_dump backups."""

    def __init__(self, register: Register) -> None:
        self.register = register

    def recovery(self) -> Recovery | None:
        return server_keys.recovery_state(self.register.engine)

    def new_recovery_key(self, actor: str, made_at: str) -> bytes:
        secret, _ = server_keys.new_recovery_key(self.register.engine, actor,
                                                 str(self.register.path), made_at)
        return secret

    def confirm(self, key_id: str, actor: str) -> bool:
        return server_keys.confirm(self.register.engine, key_id, actor, str(self.register.path))

    def opens_with(self, passphrase: str) -> bool:
        """Whether `passphrase` unwraps the data key as `meta` holds it now."""
        try:
            datakey.unlock(passphrase, server_keys.recovery_facts(self.register.engine))
        except (datakey.WrongKey, datakey.DamagedKeys):
            return False
        return True

    def change_passphrase(self, old: str, new: str, kdf: KdfParams, actor: str,
                          check_new: Callable[[], None]) -> Path | None:
        """The data key re-wrapped under `new` in one transaction: the sealed data and other
        clerks' open sessions are untouched, so there is no backup."""
        server_keys.change_passphrase(self.register.engine, old, new, kdf, actor,
                                      str(self.register.path), check_new)
        return None

    def backup(self, out: Path) -> BackupInfo:
        """pg_dump of the register (one snapshot: pg_dump reads in one transaction)."""
        if out.is_dir():
            raise KnownError(f"{out} 是文件夹。请给出备份文件的完整文件名，例如 {out / '登记库备份.dump'}。")
        with self.register.session() as session:
            version = int(session.get(Meta, "schema_version").value)
            records = session.execute(select(func.count()).select_from(Record)).scalar_one()
            entries = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        try:
            dump.dump(self.register.path, out)
        except OSError as err:
            raise write_error(err, out) from err
        return BackupInfo(out, version, records, entries)

    def backup_place(self, reason: str) -> Path:
        with self.register.engine.connect() as conn:
            database = conn.execute(text("SELECT current_database()")).scalar_one()
        return dump.backup_folder() / dump.backup_name(database, reason)

    def keep_newest(self, made: Path, keep: int) -> None:
        """Of the automatic pg_dumps of the database `made` is one of (dump.backup_name:
        ``<database>-<UTC time>-<reason>.dump``, the time sorts by name)."""
        found = re.fullmatch(r"(.+)-\d{8}T\d{12}Z-\w+\.dump", made.name)
        if found is None or keep <= 0:
            return
        mine = re.compile(re.escape(found[1]) + r"-\d{8}T\d{12}Z-(" + "|".join(REASONS)
                          + r")\.dump")
        for old in sorted(p for p in made.parent.iterdir() if mine.fullmatch(p.name))[:-keep]:
            with contextlib.suppress(FileNotFoundError):
                old.unlink()

    def restore_refusal(self) -> str | None:
        return (f"PostgreSQL 登记库 {self.register.path.name} 不能在本软件中恢复，未作任何改动。"
                "请由数据库管理员用 pg_restore 把备份（.dump）恢复到一个新建的空数据库，再打开它"
                "（见 docs/postgresql.md）。")


class UnopenedServer:
    """A PostgreSQL register opened with its recovery key: its data key re-wrapped."""

    def __init__(self, location: ServerLocation) -> None:
        self.location = location

    def problem(self, typed: str) -> str | None:
        engine = make_server_engine(self.location)
        try:
            server_keys.unlock_dek(server_keys.recovery_facts(engine), typed)
        except KnownError as err:
            return str(err)
        finally:
            engine.dispose()
        return None

    def recover(self, typed: str, new: str, kdf: KdfParams, actor: str,
                check_new: CheckNew) -> tuple[Register, Path | None]:
        location = self.location

        def check(session, own_unit_id: str) -> None:
            version = session.get(Meta, "schema_version")
            found = int(version.value) if version is not None and version.value.isdigit() else 0
            if found > migrations.SCHEMA_VERSION:
                raise migrations.newer_schema_error(location, found)
            unit = session.get(Unit, own_unit_id)
            check_new(*((unit.name, unit.code) if unit else ("", "")))

        engine = make_server_engine(location)
        try:
            server_keys.recover(engine, typed, new, kdf, actor, str(location), check)
        finally:
            engine.dispose()
        return open_register(location, new), None

