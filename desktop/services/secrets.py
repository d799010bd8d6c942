"""A register's secrets over its life: changing the passphrase, the recovery key (made, printed,
confirmed, replaced), and recovering a register whose passphrase is forgotten.

The mechanism is storage/secrets.py, which decides once what kind of register it is: a file
(storage/recovery.py: the key, its slots and side file; storage/rekey.py: re-keying in steps a
kill cannot leave half done) or a register on PostgreSQL (storage/server/secrets.py: the data
key re-wrapped, one transaction). This module is the use cases the window and the commands
call, each audited without any secret in the log: ``register.passphrase``,
``register.recover``, ``recovery.new``, ``recovery.confirm``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from desktop.errors import KnownError, UsageError
from desktop.storage import Register, Unit, crypto
from desktop.storage import recovery as slots
from desktop.storage.secrets import secrets_at, secrets_of

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


def recovery_state(register: Register) -> RecoveryState:
    """Whether the register has a recovery key (registers made before this change have none),
    which, since when, and whether the clerk confirmed its sheet was kept."""
    meta = secrets_of(register).recovery()
    if meta is None:
        return RecoveryState(False, None, None, False)
    return RecoveryState(True, meta.key_id, _parse_stamp(meta.made_at), meta.confirmed)


def make_recovery_key(register: Register, actor: str) -> RecoveryKey:
    """A new recovery key for the open register; the old one (if any) opens nothing any more,
    here or in the backups beside it. Shown to the clerk once: it is stored nowhere. A kill at
    any moment leaves the register recoverable with the key its meta names (storage/secrets.py)."""
    now = datetime.now(UTC).replace(microsecond=0)
    secret = secrets_of(register).new_recovery_key(actor, _stamp(now))
    return RecoveryKey(slots.key_text(secret), slots.key_id(secret), now, *_own_unit(register))


def confirm_recovery_saved(register: Register, key_id: str, actor: str) -> None:
    """The clerk confirmed the sheet of the key `key_id` was printed or saved."""
    if not secrets_of(register).confirm(key_id.strip().upper(), actor):
        raise KnownError(f"密钥编号 {key_id} 不是本登记库当前的恢复密钥，未作确认。"
                         "请确认的是最新生成的那张恢复密钥页。")


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


def _check_new(new: str, old: str | None, unit_name: str, unit_code: str) -> None:
    from desktop.services.registers import passphrase_problem

    if old is not None and new == old:
        raise KnownError("新口令与原口令相同，口令未修改。请设置一个不同的新口令。")
    problem = passphrase_problem(new, unit_name, unit_code)
    if problem:
        raise KnownError(f"新口令不能使用：{problem}口令未修改。")


def change_passphrase(register: Register, old: str, new: str, actor: str, *,
                      new_recovery: bool = False) -> PassphraseChanged:
    """Re-key the open register to a key from `new`, after checking `old` and the strength of
    `new` and backing the file up. The register stays open, on the new key. A kill at any
    moment leaves the file openable with the old or the new passphrase, and with the recovery
    key (storage/rekey.py, recovery.add_slot). On a server the data key is re-wrapped under
    `new` in one transaction (the sealed data and other clerks' open sessions are untouched)."""
    name, code = _own_unit(register)
    backup = secrets_of(register).change_passphrase(
        old, new, crypto.DEFAULT_KDF, actor, lambda: _check_new(new, old, name, code))
    key = make_recovery_key(register, actor) if new_recovery else None
    return PassphraseChanged(backup, key)


def recovery_problem(path: Path, text: str) -> str | None:
    """Why the recovery key typed as `text` does not open the register at `path`, in Chinese
    (which group is mistyped, not this register's, voided by a newer key); None if it does."""
    return secrets_at(path).problem(text)


def recover(path: Path, text: str, new_passphrase: str, actor: str) -> Recovered:
    """Open the register at `path` with its recovery key, re-key it to `new_passphrase` (after
    a backup) and return it open. A wrong key or a weak passphrase changes nothing."""
    register, backup = secrets_at(path).recover(
        text, new_passphrase, crypto.DEFAULT_KDF, actor,
        lambda name, code: _check_new(new_passphrase, None, name, code))
    return Recovered(register, backup)


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
