"""Passphrase change and the recovery key of a PostgreSQL register (docs/postgresql.md).

The data key (DEK) never changes: a passphrase change re-wraps it under a key from the new
passphrase (a new salt), and a recovery key R is a second wrapping of it, under R's
key-encryption key (storage/recovery.py: the key's format, group checks, id and HKDF). `meta`
keeps, beside the passphrase's wrap (datakey.py):

- ``server.recovery``: hex of nonce + AES-GCM(KEK_R, DEK), with the key id as associated data;
- ``recovery.key_id``, ``recovery.made_at``, ``recovery.confirmed``, ``recovery.voided``: the
  same facts a file register keeps (never ``recovery.kek``: `meta` is not encrypted here).

Every change is one transaction with its audit entry, the key rows locked first (FOR UPDATE),
so a kill leaves the old or the new wrapping and two clerks changing at once are serialised.
Sessions already open keep working: the DEK they hold is the same.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, text
from sqlmodel import Session

from desktop.errors import NotARegister, WrongPassphrase
from desktop.storage import recovery as slots
from desktop.storage.audit import append_audit
from desktop.storage.crypto import KdfParams
from desktop.storage.server import datakey
from desktop.storage.server.sealing import Sealer, install, sealer_of
from desktop.storage.tables import Meta

WRAP_KEY = "server.recovery"
_AAD = b"dengji-server-recovery-1\x00"
_KEYS = (*datakey.META_KEYS, WRAP_KEY, *slots.META_KEYS)
#: a passphrase change whose old passphrase is wrong (on either kind of register)
WRONG_OLD = "原口令不正确，口令未修改，登记库未作任何改动。请检查原口令（区分大小写）后重试。"


@dataclass(frozen=True)
class ServerRecovery:
    """The recovery key a server register's `meta` describes (no secret in it)."""

    key_id: str
    made_at: str
    confirmed: bool
    voided: tuple[slots.Voided, ...]


def _locked_facts(session: Session) -> dict[str, str]:
    rows = session.execute(text("SELECT key, value FROM meta WHERE key = ANY(:keys) FOR UPDATE"),
                           {"keys": list(_KEYS)}).all()
    return dict(rows)


def recovery_facts(engine: Engine) -> dict[str, str]:
    """The key facts of the register behind `engine` (read without a key bound); NotARegister
    for a database without a register's tables."""
    with engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('meta')")).scalar() is None:
            raise NotARegister("这个数据库中没有登记库（没有登记库的表），无法用恢复密钥打开。"
                               "请核对登记库的地址（数据库名）。")
        return dict(conn.execute(text("SELECT key, value FROM meta WHERE key = ANY(:keys)"),
                                 {"keys": list(_KEYS)}).all())


def state_of(facts: dict[str, str]) -> ServerRecovery | None:
    """The recovery key `facts` describe; None when the register has none (or a damaged one)."""
    ident = facts.get(slots.META_ID, "")
    if not facts.get(WRAP_KEY) or len(ident) != 8:
        return None
    try:
        voided = slots.voided_from(facts)
    except (ValueError, TypeError, KeyError):
        voided = ()
    return ServerRecovery(ident, facts.get(slots.META_MADE, ""),
                          facts.get(slots.META_CONFIRMED) == "1", voided)


def recovery_state(engine: Engine) -> ServerRecovery | None:
    """The recovery key of the open register behind `engine`."""
    return state_of(recovery_facts(engine))


def _wrap(secret: bytes, dek: bytes) -> str:
    nonce = os.urandom(12)
    aad = _AAD + slots.key_id(secret).encode()
    return (nonce + AESGCM(slots.kek(secret)).encrypt(nonce, dek, aad)).hex()


def _write(session: Session, facts: dict[str, str]) -> None:
    for key, value in facts.items():
        session.merge(Meta(key=key, value=value))


def new_recovery_key(engine: Engine, actor: str, target: str, made_at: str
                     ) -> tuple[bytes, str | None]:
    """A new recovery key for the open register (its secret, and the id of the key it voids):
    the DEK wrapped under it replaces the old wrap, in one transaction with ``recovery.new``."""
    sealer = sealer_of(engine)
    if sealer is None:
        raise ValueError("the engine is not bound to a register's data key")
    secret = slots.new_secret()
    with Session(engine) as session:
        facts = _locked_facts(session)
        old = state_of(facts)
        voided = () if old is None else (
            *old.voided, slots.Voided(old.key_id, old.made_at, made_at))
        rows = slots.RecoveryMeta(b"", slots.key_id(secret), made_at, False, voided).rows()
        del rows[slots.META_KEK]
        _write(session, {**rows, WRAP_KEY: _wrap(secret, sealer.keys[0])})
        append_audit(session, actor, "recovery.new", target,
                     {"key_id": slots.key_id(secret), "replaces": old.key_id if old else None})
        session.commit()
    return secret, old.key_id if old else None


def confirm(engine: Engine, key_id: str, actor: str, target: str) -> bool:
    """Mark the sheet of `key_id` kept; False (nothing written) when it is not the current key."""
    with Session(engine) as session:
        current = state_of(_locked_facts(session))
        if current is None or not hmac.compare_digest(current.key_id, key_id):
            return False
        session.merge(Meta(key=slots.META_CONFIRMED, value="1"))
        append_audit(session, actor, "recovery.confirm", target, {"key_id": current.key_id})
        session.commit()
    return True


def change_passphrase(engine: Engine, old: str, new: str, kdf: KdfParams, actor: str,
                      target: str, check_new: Callable[[], None]) -> None:
    """Re-wrap the DEK under `new` after checking `old` against the stored wrap (then
    `check_new()` judges `new`), in one transaction with ``register.passphrase``; the sealed
    data is not touched."""
    with Session(engine) as session:
        facts = _locked_facts(session)
        try:
            keys, _ = datakey.unlock(old, facts)
        except datakey.WrongKey:
            raise WrongPassphrase(WRONG_OLD) from None
        check_new()
        _write(session, _passphrase_facts(keys.dek, new, kdf))
        append_audit(session, actor, "register.passphrase", target, {"backup": None})
        session.commit()


def _passphrase_facts(dek: bytes, passphrase: str, kdf: KdfParams) -> dict[str, str]:
    # the hash secret's wrap is under the DEK, which does not change: it is kept as it is
    facts = datakey.wrapped_facts(datakey.DataKeys(dek, bytes(32)), passphrase, kdf)
    return {datakey.KDF_KEY: facts[datakey.KDF_KEY], datakey.DEK_KEY: facts[datakey.DEK_KEY]}


def unlock_dek(facts: dict[str, str], typed: str) -> tuple[bytes, str]:
    """The DEK the recovery key typed as `typed` unwraps, and the key's id. RecoveryKeyError
    says why not: a mistyped group, a voided key, another register's key, no key at all."""
    secret = slots.parse_key(typed)
    ident = slots.key_id(secret)
    current = state_of(facts)
    for voided in current.voided if current else ():
        if hmac.compare_digest(voided.key_id, ident):
            raise slots.RecoveryKeyError(
                f"这把恢复密钥（编号 {ident}）已被 {voided.voided_at[:10]} 生成的新恢复密钥取代，"
                "不能再用。请找到较新的那张恢复密钥页。")
    if current is None:
        raise slots.RecoveryKeyError(
            "这个登记库还没有恢复密钥，无法用恢复密钥打开。请用口令打开；"
            "如口令已遗忘，请联系保管口令的负责人。")
    if not hmac.compare_digest(current.key_id, ident):
        raise slots.RecoveryKeyError(
            f"这不是本登记库的恢复密钥（输入的密钥编号 {ident}，本登记库的是 {current.key_id}）。"
            "请核对恢复密钥页上的登记库名称和密钥编号。")
    try:
        raw = bytes.fromhex(facts[WRAP_KEY])
        dek = AESGCM(slots.kek(secret)).decrypt(raw[:12], raw[12:], _AAD + ident.encode())
    except (ValueError, InvalidTag) as err:
        raise slots.RecoveryKeyError(
            "登记库中的恢复密钥信息已被改动或损坏，无法用恢复密钥打开。"
            "请用备份恢复（pg_restore）。") from err
    return dek, ident


def recover(engine: Engine, typed: str, new: str, kdf: KdfParams, actor: str, target: str,
            check_new: Callable[[Session, str], None]) -> str:
    """Re-wrap the DEK the recovery key opens under the passphrase `new`, in one transaction
    with ``register.recover``; `check_new(session, own_unit_id)` judges `new` first (the engine
    is bound to the DEK by then). The key's id."""
    recovery_facts(engine)  # a database without a register is said so
    with Session(engine) as session:
        facts = _locked_facts(session)
        dek, ident = unlock_dek(facts, typed)
        install(engine, Sealer.from_key(dek))
        own = session.execute(text("SELECT value FROM meta WHERE key = 'own_unit_id'")).scalar()
        check_new(session, own or "")
        _write(session, _passphrase_facts(dek, new, kdf))
        append_audit(session, actor, "register.recover", target, {"key_id": ident, "backup": None})
        session.commit()
    return ident
