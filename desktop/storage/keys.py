"""The own unit's key pairs: Ed25519 to sign packages, X25519 to receive encrypted ones.

Raw 32-byte keys are stored in `unit_key`; the private halves are protected by the register's
encryption at rest, and exist only for the own unit.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from sqlalchemy import select
from sqlmodel import Session

from desktop.errors import KnownError
from desktop.storage.tables import KEY_ENCRYPTION, KEY_SIGNING, UnitKey


def _raw_pair(private: Ed25519PrivateKey | X25519PrivateKey) -> tuple[bytes, bytes]:
    return (
        private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
        private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
    )


def add_own_keys(session: Session, unit_id: str) -> tuple[Ed25519PrivateKey, X25519PrivateKey]:
    """Make a signing and an encryption key pair for `unit_id` and add them (no commit).

    A unit may hold several pairs (a rotation adds one): the newest signs, every one still
    decrypts what was encrypted for it."""
    pair = (Ed25519PrivateKey.generate(), X25519PrivateKey.generate())
    for kind, private in zip((KEY_SIGNING, KEY_ENCRYPTION), pair, strict=True):
        public_raw, private_raw = _raw_pair(private)
        session.add(
            UnitKey(unit_id=unit_id, kind=kind, public_key=public_raw, private_key=private_raw)
        )
    return pair


def own_key_pairs(session: Session, unit_id: str
                  ) -> list[tuple[Ed25519PrivateKey, X25519PrivateKey]]:
    """Every signing and encryption key pair of `unit_id`, oldest first (the n-th signing key
    with the n-th encryption key: they are always added together)."""
    rows = session.execute(
        select(UnitKey.kind, UnitKey.private_key)
        .where(UnitKey.unit_id == unit_id, UnitKey.private_key.is_not(None))
        .order_by(UnitKey.id)
    ).all()
    signing = [Ed25519PrivateKey.from_private_bytes(raw) for kind, raw in rows
               if kind == KEY_SIGNING]
    encrypting = [X25519PrivateKey.from_private_bytes(raw) for kind, raw in rows
                  if kind == KEY_ENCRYPTION]
    return list(zip(signing, encrypting, strict=False))


def own_keys(session: Session, unit_id: str) -> tuple[Ed25519PrivateKey, X25519PrivateKey]:
    """The newest signing and encryption private keys of `unit_id`."""
    rows = session.execute(
        select(UnitKey.kind, UnitKey.private_key)
        .where(UnitKey.unit_id == unit_id, UnitKey.private_key.is_not(None))
        .order_by(UnitKey.id)
    ).all()
    newest = {kind: raw for kind, raw in rows}  # later rows win
    if KEY_SIGNING not in newest or KEY_ENCRYPTION not in newest:
        raise KnownError(
            f"登记库中没有单位 {unit_id} 的私钥，无法签名或解密数据包。"
            "请确认打开的是本单位的登记库；如密钥丢失，请用 dengji keys 重新生成并通知上级更新。"
        )
    return (
        Ed25519PrivateKey.from_private_bytes(newest[KEY_SIGNING]),
        X25519PrivateKey.from_private_bytes(newest[KEY_ENCRYPTION]),
    )
