"""The recovery key: a second secret that opens a register on its own, and its side file.

A register's SQLCipher key K comes from the passphrase (crypto.derive_key, with the file's
salt). A recovery key R is 256 random bits, written as 16 groups of 6 decimal digits, each group
a 16-bit value times 11 (BitLocker's scheme, extended to 256 bits), so a mistyped group is found
and named. R is high-entropy: HKDF-SHA256 derives its wrapping key KEK_R, no slow KDF.

Two secrets open one file because K is wrapped for R: a slot = AES-GCM(KEK_R, K) with the file's
salt and the key id as associated data. The slots live OUTSIDE the encrypted file, in a small
JSON side file beside it (`<register>-recovery`); holding it without R gives nothing. Inside the
register, ``meta`` keeps KEK_R itself (``recovery.kek``, a secret only the passphrase reaches),
the key id, when R was made, whether the clerk confirmed the sheet was kept, and the keys it
replaced, so an open register can wrap a new K without R being typed (a passphrase change) and
rewrites a missing or stale side file whenever it is opened by passphrase (`heal`).

The side file holds one entry per key (normally one; two for a moment while a new key replaces
the old) with a slot per salt (normally one; two while a re-key renames the new file over the
old), and the ids of voided keys with the date of the key that replaced them, so a typed key
can be told apart: not this register's, voided, or mistyped. Each write is atomic: part file,
fsync, rename, fsync of the folder. A backup carries its own side file (`carry`).

Nothing here opens the register's engine: engine.py, rekey.py and the services build on this.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desktop.errors import KnownError
from desktop.storage import crypto
from desktop.storage.files import fsync, write_durably

SIDE_SUFFIX = "-recovery"
FORMAT = "dengji-recovery-1"
GROUPS = 16
GROUP_DIGITS = 6
SECRET_BYTES = 2 * GROUPS  # 256 bits
_SIDE_MAX = 64 * 1024  # a side file holds a few hundred bytes; more is not one
_KEK_INFO = b"dengji recovery key-encryption key v1"
_ID_PREFIX = b"dengji-recovery-key-id\x00"
_AAD_PREFIX = b"dengji-recovery-slot-1\x00"
# what people type between groups: spaces, dashes of every kind, dots, commas, underscores
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\uff0d\u30fc._,;:/\u3001\u3002]+")

#: the meta rows of the register that describe its recovery key
META_KEK, META_ID, META_MADE, META_CONFIRMED, META_VOIDED = (
    "recovery.kek", "recovery.key_id", "recovery.made_at", "recovery.confirmed",
    "recovery.voided")
META_KEYS = (META_KEK, META_ID, META_MADE, META_CONFIRMED, META_VOIDED)


class RecoveryKeyError(KnownError):
    """A typed recovery key that is not well formed, or does not open this register.
    `group` is the 1-based group that is mistyped, when one is."""

    def __init__(self, message: str, group: int | None = None) -> None:
        super().__init__(message)
        self.group = group


# --- the key as printed --------------------------------------------------------------------

def new_secret() -> bytes:
    """A new recovery key: 256 random bits."""
    return os.urandom(SECRET_BYTES)


def key_text(secret: bytes) -> str:
    """The 16 groups of 6 digits, joined by "-", as printed on the sheet."""
    if len(secret) != SECRET_BYTES:
        raise ValueError("a recovery key is 32 bytes")
    return "-".join(f"{int.from_bytes(secret[i:i + 2], 'big') * 11:06d}"
                     for i in range(0, SECRET_BYTES, 2))


def parse_key(text: str) -> bytes:
    """The recovery key typed as `text`: spaces, any dashes and full-width digits are
    tolerated. Raise RecoveryKeyError naming the first mistyped group."""
    norm = unicodedata.normalize("NFKC", text or "").strip()
    groups = [g for g in _SEPARATORS.split(norm) if g]
    if not groups:
        raise RecoveryKeyError("没有输入恢复密钥。请按恢复密钥页上印的 16 组数字输入。")
    if len(groups) != GROUPS:
        digits = "".join(groups)
        if digits.isdigit() and len(digits) == GROUPS * GROUP_DIGITS:
            groups = [digits[i:i + GROUP_DIGITS] for i in range(0, len(digits), GROUP_DIGITS)]
        else:
            # a group of the wrong form is named; a wrong count with well-formed groups is said
            first_bad = next((i for i, g in enumerate(groups) if len(g) != GROUP_DIGITS
                              or not (g.isascii() and g.isdigit())), None)
            if first_bad is not None and first_bad < GROUPS:
                raise RecoveryKeyError(_group_message(first_bad + 1, groups[first_bad]),
                                       first_bad + 1)
            raise RecoveryKeyError(
                f"恢复密钥应为 16 组、每组 6 位数字，现在输入的是 {len(groups)} 组。"
                "请对照恢复密钥页，逐组检查是否漏输或多输了一组。")
    out = bytearray()
    for i, group in enumerate(groups):
        value = _group_value(group)
        if value is None:
            raise RecoveryKeyError(_group_message(i + 1, group), i + 1)
        out += value.to_bytes(2, "big")
    return bytes(out)


def _group_value(group: str) -> int | None:
    if len(group) != GROUP_DIGITS or not group.isascii() or not group.isdigit():
        return None
    number = int(group)
    if number % 11 or number // 11 > 0xFFFF:
        return None
    return number // 11


def _group_message(n: int, group: str) -> str:
    if not group.isascii() or not group.isdigit():
        what = "含有数字以外的字符"
    elif len(group) != GROUP_DIGITS:
        what = f"有 {len(group)} 位数字，应为 6 位"
    else:
        what = "校验不通过，可能有数字输错或前后颠倒"
    return f"第 {n} 组输入有误（{what}）。请对照恢复密钥页重新输入第 {n} 组。"


def key_id(secret: bytes) -> str:
    """8 upper-case hex characters that tell sheets apart (a hash of the key: nothing of the
    key can be learnt from it)."""
    return hashlib.sha256(_ID_PREFIX + secret).hexdigest()[:8].upper()


def kek(secret: bytes) -> bytes:
    """The key-encryption key of a recovery key (HKDF-SHA256; the key is 256 random bits)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEK_INFO).derive(secret)


# --- slots ----------------------------------------------------------------------------------

def split_literal(key_literal: str) -> tuple[bytes, bytes]:
    """(key, salt) of a SQLCipher raw-key literal (crypto.raw_key)."""
    body = key_literal[2:-1]
    return bytes.fromhex(body[:2 * crypto.KEY_BYTES]), bytes.fromhex(body[2 * crypto.KEY_BYTES:])


def wrap(kek_bytes: bytes, ident: str, salt: bytes, key: bytes) -> str:
    """A slot: the database key `key` of the file with `salt`, encrypted for `kek_bytes`."""
    nonce = os.urandom(12)
    return (nonce + AESGCM(kek_bytes).encrypt(nonce, key, _AAD_PREFIX + salt + ident.encode())
            ).hex()


def unwrap(kek_bytes: bytes, ident: str, salt: bytes, slot: str) -> bytes | None:
    """The database key in `slot`, or None if it was not made for this key and salt."""
    try:
        blob = bytes.fromhex(slot)
        key = AESGCM(kek_bytes).decrypt(blob[:12], blob[12:], _AAD_PREFIX + salt + ident.encode())
    except (ValueError, TypeError, InvalidTag):
        return None
    return key if len(key) == crypto.KEY_BYTES else None


# --- what the register keeps (meta) ---------------------------------------------------------

@dataclass(frozen=True)
class Voided:
    key_id: str
    made_at: str  # when the voided key was made
    voided_at: str  # when the key that replaced it was made


@dataclass(frozen=True)
class RecoveryMeta:
    """The register's recovery key as its `meta` rows hold it."""

    kek: bytes
    key_id: str
    made_at: str  # ISO 8601, UTC, "Z"
    confirmed: bool = False
    voided: tuple[Voided, ...] = field(default=())

    def rows(self) -> dict[str, str]:
        return {META_KEK: self.kek.hex(), META_ID: self.key_id, META_MADE: self.made_at,
                META_CONFIRMED: "1" if self.confirmed else "0",
                META_VOIDED: json.dumps([v.__dict__ for v in self.voided], ensure_ascii=True)}


def meta_from(facts: dict[str, str]) -> RecoveryMeta | None:
    """The recovery key described by `meta` facts; None for a register without one."""
    try:
        kek_bytes = bytes.fromhex(facts.get(META_KEK, ""))
        voided = voided_from(facts)
    except (ValueError, TypeError, KeyError):
        return None
    ident = facts.get(META_ID, "")
    if len(kek_bytes) != 32 or not re.fullmatch(r"[0-9A-F]{8}", ident):
        return None
    return RecoveryMeta(kek_bytes, ident, facts.get(META_MADE, ""),
                        facts.get(META_CONFIRMED) == "1", voided)


def voided_from(facts: dict[str, str]) -> tuple[Voided, ...]:
    """The keys the `meta` facts record as voided (ValueError, TypeError or KeyError when the
    row is malformed)."""
    return tuple(Voided(str(v["key_id"]), str(v["made_at"]), str(v["voided_at"]))
                 for v in json.loads(facts.get(META_VOIDED) or "[]"))


# --- the side file --------------------------------------------------------------------------

def side_path(path: Path) -> Path:
    """The side file beside the register (or backup) at `path`."""
    return path.with_name(path.name + SIDE_SUFFIX)


@dataclass(frozen=True)
class SideKey:
    key_id: str
    made_at: str
    slots: dict[str, str]  # salt hex -> slot


@dataclass(frozen=True)
class Side:
    """What a side file holds: the keys (current first) and the voided ones."""

    keys: tuple[SideKey, ...]
    voided: tuple[Voided, ...] = ()

    def to_json(self) -> bytes:
        return json.dumps({
            "format": FORMAT,
            "keys": [{"key_id": k.key_id, "made_at": k.made_at, "slots": dict(k.slots)}
                     for k in self.keys],
            "voided": [v.__dict__ for v in self.voided],
        }, ensure_ascii=True, sort_keys=True, indent=1).encode()


class SideFileError(Exception):
    """The side file exists but cannot be read as one (damaged, truncated, another format)."""


def read_side(path: Path) -> Side | None:
    """The side file of the register at `path`; None when there is none. Raise SideFileError
    when it is there but damaged."""
    side = side_path(path)
    try:
        with open(side, "rb") as fh:
            raw = fh.read(_SIDE_MAX + 1)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise SideFileError(str(err)) from err
    try:
        data = json.loads(raw)
        if len(raw) > _SIDE_MAX or data.get("format") != FORMAT:
            raise ValueError("not a recovery side file")
        keys = tuple(SideKey(str(k["key_id"]), str(k["made_at"]),
                             {str(s): str(v) for s, v in dict(k["slots"]).items()})
                     for k in data["keys"])
        voided = tuple(Voided(str(v["key_id"]), str(v["made_at"]), str(v["voided_at"]))
                       for v in data.get("voided", []))
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise SideFileError(str(err)) from err
    return Side(keys, voided)


def write_side(path: Path, side: Side | None) -> None:
    """Replace the side file of the register at `path` atomically (None removes it)."""
    target = side_path(path)
    if side is None:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
            fsync(target.parent, directory=True)
        return
    write_durably(target, side.to_json())


def side_for(meta: RecoveryMeta, slots: dict[str, str]) -> Side:
    return Side((SideKey(meta.key_id, meta.made_at, slots),), meta.voided)


def current_side(meta: RecoveryMeta, key_literal: str) -> Side:
    """The side file an open register with `meta` and `key_literal` should have."""
    key, salt = split_literal(key_literal)
    return side_for(meta, {salt.hex(): wrap(meta.kek, meta.key_id, salt, key)})


def heal(path: Path, meta: RecoveryMeta | None, key_literal: str) -> bool:
    """Rewrite the side file of the register at `path` (open with `key_literal`) when it is
    missing, damaged or stale: another key, another salt, extra slots left by an interrupted
    re-key or key change. True when it was rewritten. The register's meta is the authority,
    except that a key the side file lists as voided is never brought back."""
    if meta is None:
        return False
    key, salt = split_literal(key_literal)
    try:
        side = read_side(path)
    except SideFileError:
        side = None
    if side is not None and any(hmac.compare_digest(v.key_id, meta.key_id)
                                for v in side.voided):
        # the side file says this key was replaced: the register file is an older copy put
        # back by hand; a voided key never comes back, the newer key's slots stay
        return False
    if (side is not None and len(side.keys) == 1 and side.voided == meta.voided
            and side.keys[0].key_id == meta.key_id and side.keys[0].made_at == meta.made_at
            and list(side.keys[0].slots) == [salt.hex()]
            and unwrap(meta.kek, meta.key_id, salt, side.keys[0].slots[salt.hex()]) == key):
        return False
    write_side(path, current_side(meta, key_literal))
    return True


def add_slot(path: Path, meta: RecoveryMeta, salt: bytes, key: bytes) -> None:
    """Before a re-key renames a file with `salt` over the register at `path`: a side file with
    the new salt's slot beside the slots it has (the old file stays recoverable until then)."""
    try:
        side = read_side(path)
    except SideFileError:
        side = None
    slots: dict[str, str] = {}
    if side is not None:
        for entry in side.keys:
            if entry.key_id == meta.key_id:
                slots.update(entry.slots)
    slots[salt.hex()] = wrap(meta.kek, meta.key_id, salt, key)
    write_side(path, side_for(meta, slots))


def carry(register_path: Path, backup: Path) -> None:
    """Give the backup (or migrated/re-keyed copy) `backup` of the register at
    `register_path` its own side file: the current key's slot for the backup's salt. Nothing
    when the register has no recovery key or no slot for that salt."""
    try:
        side = read_side(register_path)
    except SideFileError:
        return
    if side is None or not side.keys:
        return
    salt = crypto.read_header(backup)[: crypto.SALT_BYTES].hex()
    current = side.keys[0]
    if salt in current.slots:
        write_side(backup, Side((SideKey(current.key_id, current.made_at,
                                         {salt: current.slots[salt]}),), side.voided))


def rewrap(path: Path, old: RecoveryMeta, new: RecoveryMeta) -> bool:
    """Re-wrap the slots of the side file beside `path` (a backup) from the old key to the new
    one, so the voided key opens it no more and the new one does. False when it had none."""
    try:
        side = read_side(path)
    except SideFileError:
        return False
    if side is None:
        return False
    slots: dict[str, str] = {}
    for entry in side.keys:
        if entry.key_id != old.key_id:
            continue
        for salt_hex, slot in entry.slots.items():
            key = unwrap(old.kek, old.key_id, bytes.fromhex(salt_hex), slot)
            if key is not None:
                slots[salt_hex] = wrap(new.kek, new.key_id, bytes.fromhex(salt_hex), key)
    write_side(path, side_for(new, slots) if slots else None)
    return bool(slots)


# --- opening with a recovery key ------------------------------------------------------------

def unlock(path: Path, text: str) -> tuple[str, bytes]:
    """The raw-key literal that opens the register file at `path` with the recovery key typed
    as `text`, and the key's secret. Raise RecoveryKeyError saying why not: a mistyped group,
    no or a damaged side file, a key of another register, a voided key."""
    secret = parse_key(text)
    ident = key_id(secret)
    salt = crypto.read_header(path)[: crypto.SALT_BYTES]
    name = side_path(path).name
    try:
        side = read_side(path)
    except SideFileError as err:
        raise RecoveryKeyError(
            f"恢复密钥文件 {name} 已损坏或不完整，无法用恢复密钥打开。请从备份或原电脑中找回"
            f"与登记库放在一起的 {name} 文件。") from err
    if side is None:
        raise RecoveryKeyError(
            f"登记库旁没有恢复密钥文件 {name}（它与登记库放在同一文件夹中）。请把登记库和"
            f"{name} 一起复制过来后重试。")
    for voided in side.voided:
        if hmac.compare_digest(voided.key_id, ident):
            raise RecoveryKeyError(
                f"这把恢复密钥（编号 {ident}）已被 {voided.voided_at[:10]} 生成的新恢复密钥取代，"
                "不能再用。请找到较新的那张恢复密钥页。")
    entry = next((k for k in side.keys if hmac.compare_digest(k.key_id, ident)), None)
    if entry is None:
        current = side.keys[0].key_id if side.keys else "无"
        raise RecoveryKeyError(
            f"这不是本登记库的恢复密钥（输入的密钥编号 {ident}，本登记库的是 {current}）。"
            "请核对恢复密钥页上的登记库文件名和密钥编号。")
    slot = entry.slots.get(salt.hex())
    if slot is None:
        raise RecoveryKeyError(
            f"恢复密钥文件 {name} 不属于这个登记库文件（可能是从另一个登记库或另一份备份旁"
            "复制来的）。请使用与这个登记库文件放在一起的恢复密钥文件。")
    key = unwrap(kek(secret), ident, salt, slot)
    if key is None:
        raise RecoveryKeyError(f"恢复密钥文件 {name} 已被改动或损坏，无法用恢复密钥打开。"
                               "请从备份中找回它。")
    literal = crypto.raw_key(key, salt)
    try:
        crypto.connect(path, literal, configure=False).close()
    except crypto.DatabaseError as err:
        raise RecoveryKeyError(
            f"恢复密钥文件 {name} 与登记库文件不一致，无法打开。请从备份中找回它们。") from err
    return literal, secret
