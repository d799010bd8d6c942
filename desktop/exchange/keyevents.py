"""Signing keys retired from a date, in the register (KeyEvent rows; format/rotation.py has
the statements): the own unit's rotation, a revocation made here, what the next package
carries upward, and what a merged package's tree brought.

Repository functions: they add to the caller's session and never commit.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from sqlalchemy import select
from sqlmodel import Session

from desktop.domain.levels import LEVEL_NAMES
from desktop.errors import KnownError
from desktop.exchange.format.keys import fingerprint, normalise_fingerprint, raw_public
from desktop.exchange.format.provenance import below
from desktop.exchange.format.reader import Verification
from desktop.exchange.format.rotation import (
    HOW_ROTATION,
    KIND_REVOCATION,
    KIND_ROTATION,
    REVOCATIONS,
    ROTATIONS,
    Revocation,
    Rotation,
    make_statement,
    read_statement,
)
from desktop.storage import Register, Unit, append_audit
from desktop.storage.keys import add_own_keys, own_key_pairs
from desktop.storage.tables import PACKAGE_RECEIVED, KeyEvent, Package, TrustedKey, utcnow


def _own(session: Session, register: Register) -> Unit:
    unit = session.get(Unit, register.own_unit_id)
    if unit is None:
        raise KnownError(f"登记库 {register.path} 中没有本单位信息，已损坏，请用备份恢复。")
    return unit


def rotate_own(session: Session, register: Register, actor: str) -> Rotation:
    """Make a new key pair for the own unit, announced by a statement signed by the current
    key (kept, no longer used to sign), audited ``keys.rotate``."""
    unit = _own(session, register)
    pairs = own_key_pairs(session, unit.id)
    if not pairs:
        raise KnownError("登记库中没有本单位的私钥，无法换钥。请确认打开的是本单位的登记库。")
    old = pairs[-1][0]
    new_sign, new_enc = add_own_keys(session, unit.id)
    statement = make_statement(unit.code, unit.name, unit.level, old, new_sign,
                               _x_public(new_enc), utcnow())
    session.add(KeyEvent(kind=KIND_ROTATION, unit_code=unit.code,
                         fingerprint=statement.old_fingerprint,
                         new_fingerprint=statement.new_fingerprint,
                         effective_from=statement.made_at, by_code=unit.code, by_name=unit.name,
                         statement=statement.text()))
    append_audit(session, actor, "keys.rotate", unit.code, {
        "old": statement.old_fingerprint, "new": statement.new_fingerprint,
        "made_at": statement.document["made_at"]})
    session.flush()
    return statement


def _x_public(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def known_keys(session: Session, code: str) -> list[str]:
    """The signing key fingerprints this register knows for unit `code`: trusted, or signers
    of the packages received from it."""
    out = list(session.execute(select(TrustedKey.fingerprint)
                               .where(TrustedKey.unit_code == code)
                               .order_by(TrustedKey.id)).scalars())
    for fp in session.execute(select(Package.signer_fingerprint).where(
            Package.sender_code == code, Package.direction == PACKAGE_RECEIVED)
            .order_by(Package.created)).scalars():
        if fp not in out:
            out.append(fp)
    return out


def revoke(session: Session, register: Register, code: str, effective_from: datetime,
           typed_key: str | None, actor: str) -> Revocation:
    """Revoke a signing key of unit `code` (below this level) from `effective_from`: the key
    named, or the only key this register knows for the unit. Audited ``keys.revoke``; the
    next package carries it upward."""
    own = _own(session, register)
    unit = session.execute(select(Unit).where(Unit.code == code, Unit.is_own.is_(False))
                           ).scalars().first() or session.execute(
        select(TrustedKey).where(TrustedKey.unit_code == code)).scalars().first()
    if isinstance(unit, TrustedKey):  # trusted, no package of it merged yet
        unit = Unit(code=code, name=unit.unit_name, level=unit.level)
    effective_from = effective_from.astimezone(UTC).replace(microsecond=0)  # as carried
    if code == own.code:
        raise KnownError("不能吊销本单位自己的公钥：本单位的密钥丢失时，请换用新的登记库和公钥，"
                         "由上级单位吊销旧公钥；密钥仍在手中时请用“换钥”。")
    if unit is None or not below(unit.level, own.level):
        what = (f"{unit.name}（{LEVEL_NAMES.get(unit.level, unit.level)}）" if unit
                else f"代码 {code} 的单位")
        raise KnownError(f"{what}不是本单位（{own.name}）的下级单位，本登记库中也没有它报送的数据包，"
                         "不能吊销它的公钥。请核对单位代码：只能吊销经本单位报送的下级单位的公钥。")
    known = known_keys(session, code)
    if typed_key:
        fp = normalise_fingerprint(typed_key)
        if fp is None:
            raise KnownError("输入的公钥指纹格式不正确：应为 64 位十六进制数字（可按每 4 位一组"
                             "用空格分隔）。")
    elif len(known) == 1:
        fp = known[0]
    elif not known:
        raise KnownError(f"本登记库还不知道 {unit.name} 的公钥，请用 --key 指定要吊销的公钥指纹。")
    else:
        raise KnownError(f"本登记库知道 {unit.name} 的 {len(known)} 个公钥：\n  "
                         + "\n  ".join(known) + "\n请用 --key 指定要吊销的是哪一个。")
    for e in session.execute(select(KeyEvent).where(
            KeyEvent.fingerprint == fp, KeyEvent.kind == KIND_REVOCATION,
            KeyEvent.unit_code == code)).scalars():
        if e.effective_from <= effective_from:
            raise KnownError(f"{unit.name} 的公钥 {fp} 已由 {e.by_name} 自 "
                             f"{e.effective_from.astimezone():%Y-%m-%d %H:%M} 起吊销，无需再吊销。")
    revocation = Revocation(code, fp, effective_from, own.code, own.name, utcnow())
    _store_revocation(session, revocation, None)
    append_audit(session, actor, "keys.revoke", code, {
        "unit": unit.name, "fingerprint": fp, "from": revocation.document()["from"],
        "known": fp in known})
    session.flush()
    return revocation


def _store_revocation(session: Session, r: Revocation, source: str | None) -> None:
    session.add(KeyEvent(kind=KIND_REVOCATION, unit_code=r.unit_code, fingerprint=r.fingerprint,
                         effective_from=r.effective_from, by_code=r.by_code, by_name=r.by_name,
                         statement=r.text(), source=source))
    for key in session.execute(select(TrustedKey).where(
            TrustedKey.unit_code == r.unit_code, TrustedKey.fingerprint == r.fingerprint)
            ).scalars():
        if key.revoked_at is None or key.revoked_at > r.effective_from:
            key.revoked_at = r.effective_from


def carried(session: Session, own_code: str) -> dict[str, list]:
    """What the own package's manifest says of keys: every rotation of the own unit (the chain
    from its first key) and every revocation this register made."""
    events = session.execute(select(KeyEvent).where(KeyEvent.source.is_(None),
                                                    KeyEvent.by_code == own_code)
                             .order_by(KeyEvent.id)).scalars().all()
    rotations = [json.loads(e.statement) for e in events
                 if e.kind == KIND_ROTATION and e.unit_code == own_code]
    revocations = [json.loads(e.statement) for e in events if e.kind == KIND_REVOCATION]
    return {**({ROTATIONS: rotations} if rotations else {}),
            **({REVOCATIONS: revocations} if revocations else {})}


def retired_view(session: Session) -> dict[str, list[tuple]]:
    """fingerprint -> rotation.Retired fields, for reader.RegisterView."""
    out: dict[str, list[tuple]] = {}
    for e in session.execute(select(KeyEvent).order_by(KeyEvent.id)).scalars():
        out.setdefault(e.fingerprint, []).append(
            (e.kind, e.unit_code, e.effective_from, e.by_code, e.by_name, e.new_fingerprint))
    return out


def older_keys(session: Session, unit_id: str) -> dict[str, bytes]:
    """The own unit's earlier signing key fingerprints -> their X25519 private keys (raw)."""
    pairs = own_key_pairs(session, unit_id)[:-1]
    return {fingerprint(raw_public(s)): e.private_bytes(Encoding.Raw, PrivateFormat.Raw,
                                                        NoEncryption()) for s, e in pairs}


def store_received(session: Session, v: Verification, actor: str) -> tuple[int, int]:
    """Take what a merged package's tree said of keys: each new key reached by rotation
    statements from a trusted key becomes trusted (confirmed_how HOW_ROTATION, audited
    ``keys.rotated``), each revocation accepted is kept (audited ``keys.revoked``).
    Returns (rotations taken, revocations taken)."""
    m = v.manifest
    taken = [0, 0]
    for r in v.rotations:
        rotation = read_statement(r.document)  # checked again: it is about to be trusted
        if session.execute(select(KeyEvent.id).where(
                KeyEvent.kind == KIND_ROTATION, KeyEvent.fingerprint == rotation.old_fingerprint,
                KeyEvent.unit_code == rotation.unit_code)).first() is None:
            session.add(KeyEvent(kind=KIND_ROTATION, unit_code=rotation.unit_code,
                                 fingerprint=rotation.old_fingerprint,
                                 new_fingerprint=rotation.new_fingerprint,
                                 effective_from=rotation.made_at, by_code=rotation.unit_code,
                                 by_name=rotation.unit_name, statement=rotation.text(),
                                 source=m.package_id))
        if session.execute(select(TrustedKey.id).where(
                TrustedKey.unit_code == rotation.unit_code,
                TrustedKey.fingerprint == rotation.new_fingerprint)).first() is not None:
            continue
        old = session.execute(select(TrustedKey).where(
            TrustedKey.unit_code == rotation.unit_code,
            TrustedKey.fingerprint == rotation.old_fingerprint)).scalars().first()
        session.add(TrustedKey(unit_code=rotation.unit_code, unit_name=rotation.unit_name,
                               level=old.level if old else rotation.level,
                               signing_key=rotation.new_signing_key,
                               encryption_key=rotation.new_encryption_key,
                               fingerprint=rotation.new_fingerprint, confirmed_how=HOW_ROTATION,
                               confirmed_by=actor, created_at=utcnow()))
        append_audit(session, actor, "keys.rotated", rotation.unit_code, {
            "unit": rotation.unit_name, "old": rotation.old_fingerprint,
            "new": rotation.new_fingerprint, "made_at": rotation.document["made_at"],
            "how": HOW_ROTATION, "package": m.package_id})
        taken[0] += 1
    for r in v.revocations:
        if any(e.effective_from == r.effective_from for e in session.execute(
                select(KeyEvent).where(KeyEvent.kind == KIND_REVOCATION,
                                       KeyEvent.fingerprint == r.fingerprint,
                                       KeyEvent.unit_code == r.unit_code,
                                       KeyEvent.by_code == r.by_code)).scalars()):
            continue
        _store_revocation(session, r, m.package_id)
        append_audit(session, actor, "keys.revoked", r.unit_code, {
            "fingerprint": r.fingerprint, "from": r.document()["from"], "by": r.by_code,
            "package": m.package_id})
        taken[1] += 1
    session.flush()
    return taken[0], taken[1]
