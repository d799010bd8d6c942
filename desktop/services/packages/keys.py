"""Key use cases: the own unit's public key (show, export as a file) and trusting another
unit's key once its fingerprint matches the stamped paper cover; the recipient of the own
package, remembered in the register once chosen; rotating the own key and revoking a lost key
of a unit below (docs/packages.md, "Key rotation and revocation"). UI-free; re-exported by
desktop.services.packages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from desktop.domain.forms import FormSet
from desktop.errors import KnownError
from desktop.exchange import keyevents, trust
from desktop.exchange.format.keys import PublicKeyInfo, public_key_file, read_public_key_file
from desktop.exchange.format.reader import verify_package
from desktop.exchange.format.rotation import Revocation, Rotation
from desktop.services.packages.io import ACTOR, read_file, write_atomic
from desktop.storage import Meta, Register, append_audit
from desktop.storage.tables import KeyEvent

#: the register's fact holding the recipient key file the clerk chose for the own packages
RECIPIENT_FACT = "export_recipient"


def own_public_key(register: Register) -> PublicKeyInfo:
    """The own unit's public keys and fingerprint (made on first use)."""
    with register.session() as session:
        return trust.own_sender(session, register)[0].info


def export_public_key(register: Register, out: Path) -> PublicKeyInfo:
    """Write the own unit's public key file (names the unit; both public keys; self-signed)."""
    with register.session() as session:
        sender, _ = trust.own_sender(session, register)
    write_atomic(Path(out), public_key_file(sender.info, sender.signing_private))
    return sender.info


def key_info_of_file(path: Path, forms: FormSet) -> PublicKeyInfo:
    """The unit and public keys named by a public key file, or by a package's signer."""
    data = read_file(path, "文件")
    if not data.startswith(b"PK"):
        return read_public_key_file(data, str(path))
    v = verify_package(data, Path(path).name, forms)
    if v.manifest is None or not v.ok:
        raise v.refused()
    s = v.manifest.sender
    return PublicKeyInfo(s.code, s.name, s.level, v.manifest.signing_key,
                         v.manifest.encryption_key)


def trust_key(register: Register, forms: FormSet, path: Path, typed_fingerprint: str,
              actor: str = ACTOR) -> tuple[PublicKeyInfo, bool]:
    """Trust the key in `path` (a .djkey file or a package) once its fingerprint matches what
    the clerk typed from the stamped paper cover. Returns (key, newly trusted)."""
    info = key_info_of_file(path, forms)
    with register.session() as session:
        if info.code == trust.own_unit(session, register).code:
            raise KnownError("这是本单位自己的公钥，无需信任。")
        key, new = trust.trust(session, info, typed_fingerprint, actor)
        if new:
            append_audit(session, actor, "keys.trust", info.code, {
                "unit": info.name, "level": info.level, "fingerprint": info.fingerprint,
                "how": key.confirmed_how})
        session.commit()
    return info, new


def list_trusted(register: Register) -> list:
    """The trusted keys of other units (exchange.trust's rows), for `dengji keys list`."""
    with register.session() as session:
        return trust.trusted_keys(session)


@dataclass(frozen=True)
class Recipient:
    """Whom the own package is encrypted for: a key file the clerk chose (remembered in the
    register) or the trusted key of the unit it reports to."""

    key: PublicKeyInfo
    chosen: bool  # True: a key file chosen at export; False: the trusted parent's key

    def how(self) -> str:
        return ("导出时选择的公钥文件（已记在本登记库中）" if self.chosen
                else "已核对并信任的上级单位公钥")


def export_recipient(register: Register) -> Recipient | None:
    """The recipient the next package is for: the key file chosen last (it stays with the
    register), else the trusted parent's key, else None (the clerk chooses a key file)."""
    with register.session() as session:
        fact = session.get(Meta, RECIPIENT_FACT)
        if fact is not None:
            try:
                d = json.loads(fact.value)
                return Recipient(PublicKeyInfo(d["code"], d["name"], d["level"],
                                               bytes.fromhex(d["signing_key"]),
                                               bytes.fromhex(d["encryption_key"])), True)
            except (ValueError, KeyError, TypeError):
                pass  # an unreadable fact is as if none was chosen: the clerk chooses again
        try:
            return Recipient(trust.parent_recipient(session, register), False)
        except KnownError:
            return None


def choose_recipient(register: Register, path: Path, actor: str = ACTOR) -> PublicKeyInfo:
    """Remember the public key file `path` as the recipient of the own packages (audited);
    the own unit's key is refused."""
    info = read_public_key_file(read_file(path, "公钥文件"), Path(path).name)
    with register.session() as session:
        if info.code == trust.own_unit(session, register).code:
            raise KnownError("这是本单位自己的公钥文件。请选择上级单位（接收单位）提供的公钥文件。")
        value = json.dumps({"code": info.code, "name": info.name, "level": info.level,
                            "signing_key": info.signing_key.hex(),
                            "encryption_key": info.encryption_key.hex()}, ensure_ascii=False)
        fact = session.get(Meta, RECIPIENT_FACT)
        if fact is None:
            session.add(Meta(key=RECIPIENT_FACT, value=value))
        elif fact.value != value:
            fact.value = value
        else:
            return info
        append_audit(session, actor, "keys.recipient", info.code, {
            "unit": info.name, "level": info.level, "fingerprint": info.fingerprint,
            "file": Path(path).name})
        session.commit()
    return info


def rotate_key(register: Register, actor: str = ACTOR) -> Rotation:
    """Replace the own signing and encryption key pair by a new one, announced by a statement
    signed by the old key (kept: it still opens what was encrypted for it, and no longer
    signs). The next package carries the statement; the level above takes the new key without
    a new fingerprint check. One transaction: a kill leaves the old or the new key in force."""
    with register.session() as session:
        statement = keyevents.rotate_own(session, register, actor)
        session.commit()
    return statement


def parse_from(text: str) -> datetime:
    """The time a revocation starts from, as a clerk types it: a date (from its local
    midnight) or a date and time; KnownError otherwise."""
    value = (text or "").strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day).astimezone()
        moment = datetime.fromisoformat(value)
    except ValueError as err:
        raise KnownError(f"吊销起始日期“{value}”格式不正确，请写成 2026-12-01 这样的日期"
                         "（或 2026-12-01 08:30 这样的日期和时间）。") from err
    return moment if moment.tzinfo else moment.astimezone()


def revoke_key(register: Register, unit_code: str, effective_from: datetime,
               key: str | None = None, actor: str = ACTOR) -> Revocation:
    """Revoke a signing key of a unit below this level from `effective_from` (the key named
    by its fingerprint, or the only one this register knows for the unit). Packages it
    signed from then on are refused here, and at every level above once the next own
    package has carried the revocation there."""
    with register.session() as session:
        revocation = keyevents.revoke(session, register, unit_code.strip(), effective_from,
                                      key, actor)
        session.commit()
    return revocation


def unit_keys(register: Register, unit_code: str) -> list[str]:
    """The signing key fingerprints this register knows for a unit (trusted, or signers of
    packages received from it), oldest first."""
    with register.session() as session:
        return keyevents.known_keys(session, unit_code)


def key_events(register: Register) -> list[KeyEvent]:
    """Every rotation and revocation the register knows, oldest first (for `dengji keys
    list` and the window)."""
    with register.session() as session:
        return list(session.execute(select(KeyEvent).order_by(KeyEvent.id)).scalars())
