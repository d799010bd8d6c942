"""A register's secrets over its life: changing the passphrase, the recovery key (made, printed,
confirmed, replaced), and recovering a register whose passphrase is forgotten.

The mechanism is storage/recovery.py (the key, its slots and side file) and storage/rekey.py
(re-keying in steps a kill cannot leave half done), and for a register on PostgreSQL
storage/server/secrets.py (the data key re-wrapped, one transaction); this module is the use
cases the window and the commands call, each audited without any secret in the log: ``register.passphrase``,
``register.recover``, ``recovery.new``, ``recovery.confirm``.
"""

from __future__ import annotations

import contextlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from desktop.errors import KnownError, UsageError, WrongPassphrase
from desktop.storage import Meta, Register, Unit, append_audit, crypto, lock, migrations
from desktop.storage import recovery as slots
from desktop.storage.engine import make_engine, open_register, recovery_meta, server_location
from desktop.storage.files import list_backups
from desktop.storage.rekey import rekey_file
from desktop.storage.server import is_server_url
from desktop.storage.server import secrets as server_keys
from desktop.storage.server.store import make_server_engine

#: what a passphrase change on a server leaves as it was, said instead of a backup's place
SERVER_UNCHANGED = ("登记库在服务器上，数据未改动；其他已打开此登记库的经办人不受影响。"
                    "要取消某人的访问，请数据库管理员收回其 PostgreSQL 角色。")


@dataclass(frozen=True)
class RecoveryKey:
    """A recovery key as the clerk is shown it once, and as the sheet prints it."""

    text: str  # 16 groups of 6 digits joined by "-"
    key_id: str  # 8 upper-case hex characters, printed to tell sheets apart
    made_at: datetime  # UTC
    unit_name: str
    unit_code: str


@dataclass(frozen=True)
class RecoveryState:
    has_key: bool
    key_id: str | None
    made_at: datetime | None
    confirmed: bool  # the clerk confirmed the sheet was printed or saved


@dataclass(frozen=True)
class PassphraseChanged:
    backup: Path | None  # the copy taken before, openable with the old passphrase (None on
    # a server: the data is not touched, only the data key's wrapping changes)
    recovery: RecoveryKey | None  # the new recovery key, when one was asked for


@dataclass(frozen=True)
class Recovered:
    register: Register  # open, on the new passphrase
    backup: Path | None  # the copy taken before the re-key (None on a server, as above)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_stamp(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _own_unit(register: Register) -> tuple[str, str]:
    with register.session() as session:
        unit = session.get(Unit, register.own_unit_id)
        return (unit.name, unit.code) if unit is not None else ("", "")


def _key_literal(register: Register) -> str:
    literal = register.key_literal
    if literal is None:
        raise KnownError("此登记库不是用口令打开的，无法修改口令或生成恢复密钥。请关闭后用口令重新打开。")
    return literal


def recovery_state(register: Register) -> RecoveryState:
    """Whether the register has a recovery key (registers made before this change have none),
    which, since when, and whether the clerk confirmed its sheet was kept."""
    if register.kind == "server":
        meta = server_keys.recovery_state(register.engine)
    else:
        meta = recovery_meta(register.engine)
    if meta is None:
        return RecoveryState(False, None, None, False)
    return RecoveryState(True, meta.key_id, _parse_stamp(meta.made_at), meta.confirmed)


def make_recovery_key(register: Register, actor: str) -> RecoveryKey:
    """A new recovery key for the open register; the old one (if any) opens nothing any more,
    here or in the backups beside it. Shown to the clerk once: it is stored nowhere.

    Order, so a kill at any moment leaves the register recoverable with the key its meta
    names: the side file gets the new key's slot beside the old key's; the meta switches (with
    the audit entry) in one transaction; then the side file keeps only the new key.
    On a server the data key's wrap under the new key replaces the old one's, one transaction."""
    if register.kind == "server":
        now = datetime.now(UTC).replace(microsecond=0)
        secret, _ = server_keys.new_recovery_key(register.engine, actor, str(register.path),
                                                 _stamp(now))
        return RecoveryKey(slots.key_text(secret), slots.key_id(secret), now,
                           *_own_unit(register))
    literal = _key_literal(register)
    path = register.path
    old = recovery_meta(register.engine)
    secret = slots.new_secret()
    now = datetime.now(UTC).replace(microsecond=0)
    voided = () if old is None else (
        *old.voided, slots.Voided(old.key_id, old.made_at, _stamp(now)))
    new = slots.RecoveryMeta(slots.kek(secret), slots.key_id(secret), _stamp(now), False,
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
    name, code = _own_unit(register)
    with register.session() as session:
        for key, value in new.rows().items():
            session.merge(Meta(key=key, value=value))
        append_audit(session, actor, "recovery.new", path.name,
                     {"key_id": new.key_id, "replaces": old.key_id if old else None})
        session.commit()
    with contextlib.suppress(OSError):  # the meta is the authority: the next open heals it
        slots.write_side(path, fresh)
    _rewrap_backups(path, old, new, literal)
    return RecoveryKey(slots.key_text(secret), new.key_id, now, name, code)


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


def confirm_recovery_saved(register: Register, key_id: str, actor: str) -> None:
    """The clerk confirmed the sheet of the key `key_id` was printed or saved."""
    if register.kind == "server":
        meta = None
        if server_keys.confirm(register.engine, key_id.strip().upper(), actor,
                               str(register.path)):
            return
    else:
        meta = recovery_meta(register.engine)
    if meta is None or not hmac.compare_digest(meta.key_id, key_id.strip().upper()):
        raise KnownError(f"密钥编号 {key_id} 不是本登记库当前的恢复密钥，未作确认。"
                         "请确认的是最新生成的那张恢复密钥页。")
    with register.session() as session:
        session.merge(Meta(key=slots.META_CONFIRMED, value="1"))
        append_audit(session, actor, "recovery.confirm", register.path.name,
                     {"key_id": meta.key_id})
        session.commit()


def write_recovery_sheet(register: Register, key: RecoveryKey, out: Path) -> Path:
    """The A4 recovery sheet of `key` as a PDF at `out`."""
    from desktop.reports.output import atomic_file
    from desktop.reports.pdf.recovery import RecoverySheet, recovery_sheet_pdf

    out = Path(out)
    if out.suffix.lower() != ".pdf":
        raise UsageError(f"恢复密钥页要保存为 PDF 文件（.pdf），{out.name} 不是。")
    data = recovery_sheet_pdf(RecoverySheet(
        key.unit_name, key.unit_code, register.path.name,
        key.made_at.astimezone().strftime("%Y-%m-%d"), key.key_id, key.text))
    with atomic_file(out) as part:
        part.write_bytes(data)
    return out


def _check_old(register: Register, old: str) -> None:
    literal = _key_literal(register)
    salt = crypto.read_header(register.path)[: crypto.SALT_BYTES]
    for kdf in crypto.kdf_candidates(salt):
        if hmac.compare_digest(crypto.raw_key(crypto.derive_key(old, salt, kdf), salt), literal):
            return
    raise WrongPassphrase("原口令不正确，口令未修改，登记库未作任何改动。请检查原口令（区分大小写）后重试。")


def _check_new(new: str, old: str | None, unit_name: str, unit_code: str) -> None:
    from desktop.services.registers import passphrase_problem

    if old is not None and new == old:
        raise KnownError("新口令与原口令相同，口令未修改。请设置一个不同的新口令。")
    problem = passphrase_problem(new, unit_name, unit_code)
    if problem:
        raise KnownError(f"新口令不能使用：{problem}口令未修改。")


_BUSY = ("口令未修改，登记库未作任何改动：登记库仍有未完成的操作，或文件夹不可写入、磁盘已满。"
         "请等其他操作结束（或腾出空间）后重试。")


def change_passphrase(register: Register, old: str, new: str, actor: str, *,
                      new_recovery: bool = False) -> PassphraseChanged:
    """Re-key the open register to a key from `new`, after checking `old` and the strength of
    `new` and backing the file up. The register stays open, on the new key. A kill at any
    moment leaves the file openable with the old or the new passphrase, and with the recovery
    key (storage/rekey.py, recovery.add_slot). On a server the data key is re-wrapped under
    `new` in one transaction (the sealed data and other clerks' open sessions are untouched)."""
    if register.kind == "server":
        name, code = _own_unit(register)
        server_keys.change_passphrase(register.engine, old, new, crypto.DEFAULT_KDF, actor,
                                      str(register.path), lambda: _check_new(new, old, name, code))
        key = make_recovery_key(register, actor) if new_recovery else None
        return PassphraseChanged(None, key)
    _check_old(register, old)
    name, code = _own_unit(register)
    _check_new(new, old, name, code)
    literal = _key_literal(register)
    meta = recovery_meta(register.engine)
    path = register.path
    register.engine.dispose()  # checkpointed: the file is the whole register
    rekeyed = rekey_file(path, literal, new, crypto.DEFAULT_KDF,
                         prepare=meta and (lambda salt, key: slots.add_slot(path, meta, salt, key)))
    if rekeyed is None:
        register.use_key(literal, old)
        raise KnownError(_BUSY)
    register.use_key(rekeyed.key_literal, new)
    with contextlib.suppress(OSError):
        slots.heal(path, meta, rekeyed.key_literal)  # the old salt's slot goes
    with register.session() as session:
        append_audit(session, actor, "register.passphrase", path.name,
                     {"backup": rekeyed.backup.name})
        session.commit()
    key = make_recovery_key(register, actor) if new_recovery else None
    return PassphraseChanged(rekeyed.backup, key)


def recovery_problem(path: Path, text: str) -> str | None:
    """Why the recovery key typed as `text` does not open the register at `path`, in Chinese
    (which group is mistyped, not this register's, voided by a newer key); None if it does."""
    if is_server_url(path):
        engine = make_server_engine(server_location(path))
        try:
            server_keys.unlock_dek(server_keys.recovery_facts(engine), text)
        except KnownError as err:
            return str(err)
        finally:
            engine.dispose()
        return None
    try:
        crypto.check_is_register(Path(path))
        slots.unlock(Path(path), text)
    except KnownError as err:
        return str(err)
    except OSError as err:
        return f"无法读取登记库 {path}（{err.strerror or err}）。"
    return None


def recover(path: Path, text: str, new_passphrase: str, actor: str) -> Recovered:
    """Open the register at `path` with its recovery key, re-key it to `new_passphrase` (after
    a backup) and return it open. A wrong key or a weak passphrase changes nothing."""
    if is_server_url(path):
        return _recover_on_server(server_location(path), text, new_passphrase, actor)
    path = Path(path)
    crypto.check_is_register(path)
    lock_key = lock.acquire(path)
    try:
        literal, secret = slots.unlock(path, text)
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
        _check_new(new_passphrase, None, *(unit or ("", "")))
        meta = slots.meta_from(facts)
        if meta is None or meta.key_id != slots.key_id(secret):
            # killed while a new key replaced this one: the typed key still wraps its slots
            meta = slots.RecoveryMeta(slots.kek(secret), slots.key_id(secret), "", False)
        rekeyed = rekey_file(path, literal, new_passphrase, crypto.DEFAULT_KDF,
                             prepare=lambda salt, key: slots.add_slot(path, meta, salt, key))
        if rekeyed is None:
            raise KnownError(_BUSY.replace("口令未修改", "未能恢复"))
        register = open_register(path, new_passphrase)
    finally:
        lock.release(lock_key)
    with register.session() as session:
        append_audit(session, actor, "register.recover", path.name,
                     {"key_id": slots.key_id(secret), "backup": rekeyed.backup.name})
        session.commit()
    return Recovered(register, rekeyed.backup)


def _recover_on_server(location, text: str, new_passphrase: str, actor: str) -> Recovered:
    def check_new(session, own_unit_id: str) -> None:
        version = session.get(Meta, "schema_version")
        found = int(version.value) if version is not None and version.value.isdigit() else 0
        if found > migrations.SCHEMA_VERSION:
            raise migrations.newer_schema_error(location, found)
        unit = session.get(Unit, own_unit_id)
        _check_new(new_passphrase, None, *((unit.name, unit.code) if unit else ("", "")))

    engine = make_server_engine(location)
    try:
        server_keys.recover(engine, text, new_passphrase, crypto.DEFAULT_KDF, actor,
                            str(location), check_new)
    finally:
        engine.dispose()
    return Recovered(open_register(location, new_passphrase), None)


def read_recovery_image(image: Path) -> str:
    """The recovery key's text from a scanned or photographed sheet (its QR code)."""
    from desktop.reports.scan import read_qr_texts

    texts = read_qr_texts(Path(image))
    for text in texts:
        with contextlib.suppress(slots.RecoveryKeyError):
            return slots.key_text(slots.parse_key(text))
    if texts:
        raise UsageError(f"图片 {Path(image).name} 上的二维码不是恢复密钥。"
                         "请扫描或拍摄恢复密钥页右上角的二维码。")
    raise UsageError(f"在图片 {Path(image).name} 上没有找到二维码。请把恢复密钥页平放、"
                     "拍清楚整个二维码（不要反光、不要太小）后重试，或直接输入 16 组数字。")
