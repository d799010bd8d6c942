"""The own keys as a sender, and the trust list: public keys of units whose packages are
accepted, each confirmed once against the fingerprint on a stamped paper cover page.

Repository functions: they add to the caller's session and never commit.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlmodel import Session

from desktop.domain.levels import LEVEL_NAMES
from desktop.errors import KnownError
from desktop.exchange import keyevents
from desktop.exchange.anchor import load_anchors
from desktop.exchange.format.keys import PublicKeyInfo, normalise_fingerprint, raw_public
from desktop.exchange.format.manifest import KIND_REGISTRATION, KIND_RETURN, PARENT_LEVEL
from desktop.exchange.format.reader import RegisterView
from desktop.exchange.format.writer import Sender
from desktop.exchange.merge import record_owners
from desktop.storage import Register, Unit, own_keys
from desktop.storage.keys import own_key_pairs
from desktop.storage.tables import (
    PACKAGE_RECEIVED,
    PACKAGE_SENT,
    Package,
    TrustedKey,
    utcnow,
)

HOW_PAPER = "与盖章纸质封面上的公钥指纹核对一致"


def own_unit(session: Session, register: Register) -> Unit:
    unit = session.get(Unit, register.own_unit_id)
    if unit is None:
        raise KnownError(f"登记库 {register.path} 中没有本单位信息，已损坏，请用备份恢复。")
    return unit


def own_sender(session: Session, register: Register) -> tuple[Sender, X25519PrivateKey]:
    """The own unit as a signer, and its X25519 private key (to decrypt)."""
    unit = own_unit(session, register)
    signing, decrypting = own_keys(session, unit.id)
    info = PublicKeyInfo(unit.code, unit.name, unit.level, raw_public(signing),
                         decrypting.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    return Sender(info, unit.parent_code, signing), decrypting


def own_decrypt_keys(session: Session, register: Register) -> list[X25519PrivateKey]:
    """Every X25519 private key of the own unit, newest first: a package kept in the register
    was encrypted for the key of its time (encryption.decrypt takes the ring)."""
    unit = own_unit(session, register)
    return [enc for _, enc in own_key_pairs(session, unit.id)][::-1]


def register_view(session: Session, register: Register) -> RegisterView:
    """What verification needs to know about this register, read in a few queries (and, while
    `session` is open, who holds the record ids of a package: merge.record_owners)."""
    sender, decrypting = own_sender(session, register)
    trusted: dict[str, set[str]] = {}
    # a revoked key stays known: what it signed before the revocation's date still verifies
    # (keyevents.retired_view says from when it is refused)
    for code, fp in session.execute(select(TrustedKey.unit_code, TrustedKey.fingerprint)):
        trusted.setdefault(code, set()).add(fp)
    merged: dict[str, dict[int, str]] = {}
    sent, returns_seen = set(), set()
    rows = session.execute(select(Package.id, Package.kind, Package.direction,
                                  Package.sender_code, Package.sequence))
    for pid, kind, direction, code, seq in rows:
        if direction == PACKAGE_SENT and kind == KIND_REGISTRATION:
            sent.add(pid)
        elif direction == PACKAGE_RECEIVED and kind == KIND_REGISTRATION:
            merged.setdefault(code, {})[seq] = pid
        elif direction == PACKAGE_RECEIVED and kind == KIND_RETURN:
            returns_seen.add(pid)
    return RegisterView(sender.info.code, sender.info.fingerprint, decrypting, trusted, merged,
                        sent, returns_seen,
                        owners=lambda ids: record_owners(session.connection(), ids),
                        audit_heads=load_anchors(session),
                        retired=keyevents.retired_view(session),
                        older_keys=keyevents.older_keys(session, register.own_unit_id),
                        parents=dict(session.execute(select(Unit.code, Unit.parent_code)
                                                     .where(Unit.is_own.is_(False))).all()))


def trusted_keys(session: Session) -> list[TrustedKey]:
    return list(session.execute(select(TrustedKey).where(TrustedKey.revoked_at.is_(None))
                             .order_by(TrustedKey.unit_code, TrustedKey.id)).scalars())


def _info(key: TrustedKey) -> PublicKeyInfo:
    return PublicKeyInfo(key.unit_code, key.unit_name, key.level, key.signing_key,
                         key.encryption_key)


def trusted_info(session: Session, code: str, fingerprint: str | None = None
                 ) -> PublicKeyInfo | None:
    """The newest trusted key of unit `code` (the one with `fingerprint`, when given)."""
    stmt = select(TrustedKey).where(TrustedKey.unit_code == code, TrustedKey.revoked_at.is_(None))
    if fingerprint:
        stmt = stmt.where(TrustedKey.fingerprint == fingerprint)
    key = session.execute(stmt.order_by(TrustedKey.id.desc())).scalars().first()
    return _info(key) if key else None


def trust(session: Session, info: PublicKeyInfo, typed: str, actor: str) -> tuple[TrustedKey,
                                                                                     bool]:
    """Trust `info` once the fingerprint a clerk typed from the paper cover matches it.

    Returns the trusted key and whether it is new. Raises KnownError on a mismatch.
    """
    wanted = normalise_fingerprint(typed)
    if wanted is None:
        raise KnownError("输入的指纹格式不正确：应为 64 位十六进制数字（可按每 4 位一组用空格分隔），"
                         "请照纸质封面上印的指纹完整输入。")
    if wanted != info.fingerprint:
        raise KnownError(f"指纹不一致，未信任此公钥。文件中 {info.describe()} 的公钥指纹是\n"
                         f"  {info.fingerprint}\n而输入的是\n  {wanted}\n"
                         "请与对方核实：公钥文件可能被调换过，或纸质封面不是同一次生成的。")
    existing = session.execute(select(TrustedKey).where(
        TrustedKey.unit_code == info.code, TrustedKey.fingerprint == info.fingerprint,
        TrustedKey.revoked_at.is_(None))).scalars().first()
    if existing is not None:
        return existing, False
    key = TrustedKey(unit_code=info.code, unit_name=info.name, level=info.level,
                     signing_key=info.signing_key, encryption_key=info.encryption_key,
                     fingerprint=info.fingerprint, confirmed_how=HOW_PAPER, confirmed_by=actor,
                     created_at=utcnow())
    session.add(key)
    session.flush()
    return key, True


def parent_recipient(session: Session, register: Register) -> PublicKeyInfo:
    """The trusted key of the unit this register reports to (its parent, or the one trusted
    unit of the next level up)."""
    unit = own_unit(session, register)
    if unit.parent_code:
        info = trusted_info(session, unit.parent_code)
        if info:
            return info
    level = PARENT_LEVEL.get(unit.level)
    candidates = [k for k in trusted_keys(session) if k.level == level]
    codes = {k.unit_code for k in candidates}
    if len(codes) == 1:
        return _info(candidates[-1])
    up = LEVEL_NAMES.get(level or "", "上级单位")
    if not codes:
        raise KnownError(f"还没有核对过{up}的公钥，不知道数据包发给谁。请先用 dengji keys --db 登记库 "
                         "trust 上级公钥文件 --fingerprint 指纹 核对上级公钥，或用 --to 指定接收方公钥文件。")
    raise KnownError(f"已核对的{up}不止一个（{'、'.join(sorted(codes))}），请用 --to 指定接收方公钥文件。")
