"""Signing keys retired from a date, as packages carry them (docs/packages.md, "Key rotation
and revocation"):

- a rotation statement: a unit announces its new key pair (Ed25519 and X25519), signed by the
  old Ed25519 key (which vouches for the new one) and by the new one (which proves the unit
  holds it). A unit's packages carry all its own statements in their manifest
  (``key_rotations``), so a level that missed one package still follows the chain A→B→C.
- a revocation: the level responsible for a unit declares one of the unit's keys lost from a
  date; the revoking level's packages carry the revocations it made (``key_revocations``),
  signed with the manifest, so every level above applies them at any depth.

`standing` is the one decision on a signing key: trusted (directly or through a chain of
statements from a trusted key), and not retired at the package's creation time. No database:
the receiving register's knowledge comes in as plain values (reader.RegisterView).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from desktop.domain.levels import LEVEL_NAMES
from desktop.exchange.format.keys import b64, fingerprint, raw_public, unb64
from desktop.exchange.format.manifest import KEY_STATEMENT_ENTRIES
from desktop.exchange.format.signing import signature_ok

STATEMENT_FORMAT = "dengji-key-rotation"
STATEMENT_VERSION = 1
ROTATIONS, REVOCATIONS = KEY_STATEMENT_ENTRIES  # manifest entries (format version 3 on)
KIND_ROTATION, KIND_REVOCATION = "rotation", "revocation"
#: how a key taken from a verified statement was confirmed (TrustedKey.confirmed_how)
HOW_ROTATION = "由旧公钥签名的换钥声明"
#: the most a manifest may carry: statements cost two signature checks each (about 0.45 ms), a
#: unit rotating a hundred times is implausible; revocations are plain (a level's many units)
MAX_STATEMENTS = {"key_rotations": 100, "key_revocations": 10_000}


class StatementError(Exception):
    """A rotation statement or revocation is malformed or wrongly signed (Chinese message)."""


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def stamp(moment: datetime) -> str:
    """An aware time as the ISO text statements carry (UTC, seconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(value: Any, what: str) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise StatementError(f"{what}缺失或格式不正确")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as err:
        raise StatementError(f"{what}不是有效的时间") from err
    if moment.tzinfo is None:
        raise StatementError(f"{what}缺少时区")
    return moment.astimezone(UTC)


def _text(obj: dict, key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise StatementError(f"{what}缺失或格式不正确")
    return value


@dataclass(frozen=True)
class Rotation:
    """A verified rotation statement: unit `unit_code` replaced `old_key` by the new pair."""

    unit_code: str
    unit_name: str
    level: str
    old_key: bytes
    new_signing_key: bytes
    new_encryption_key: bytes
    made_at: datetime
    document: dict[str, Any]  # as signed and carried

    @property
    def old_fingerprint(self) -> str:
        return fingerprint(self.old_key)

    @property
    def new_fingerprint(self) -> str:
        return fingerprint(self.new_signing_key)

    def text(self) -> str:
        return json.dumps(self.document, ensure_ascii=False, sort_keys=True)


def make_statement(code: str, name: str, level: str, old: Ed25519PrivateKey,
                   new: Ed25519PrivateKey, new_encryption_key: bytes, made_at: datetime
                   ) -> Rotation:
    """The statement announcing `new` (and its X25519 key), signed by `old` and by `new`."""
    body = {"format": STATEMENT_FORMAT, "format_version": STATEMENT_VERSION,
            "unit": {"code": code, "name": name, "level": level},
            "old_key": b64(raw_public(old)), "old_fingerprint": fingerprint(raw_public(old)),
            "new_signing_key": b64(raw_public(new)),
            "new_encryption_key": b64(new_encryption_key),
            "new_fingerprint": fingerprint(raw_public(new)), "made_at": stamp(made_at)}
    raw = _canonical(body)
    return read_statement({**body, "signature": b64(old.sign(raw)),
                           "new_signature": b64(new.sign(raw))})


def read_statement(document: Any) -> Rotation:
    """Check a rotation statement whole: its form, both signatures, the fingerprints it names.
    StatementError (Chinese) on anything wrong."""
    if not isinstance(document, dict) or document.get("format") != STATEMENT_FORMAT:
        raise StatementError("换钥声明缺少格式标识")
    if document.get("format_version") != STATEMENT_VERSION:
        raise StatementError("换钥声明的格式版本无效（请升级登记软件）")
    unit = document.get("unit")
    if not isinstance(unit, dict):
        raise StatementError("换钥声明缺少单位信息")
    code, name, level = (_text(unit, k, "换钥声明的单位信息") for k in ("code", "name", "level"))
    if level not in LEVEL_NAMES:
        raise StatementError("换钥声明的单位层级无效")
    old, new = unb64(document.get("old_key"), 32), unb64(document.get("new_signing_key"), 32)
    enc = unb64(document.get("new_encryption_key"), 32)
    sig, new_sig = unb64(document.get("signature"), 64), unb64(document.get("new_signature"), 64)
    if None in (old, new, enc, sig, new_sig):
        raise StatementError(f"{code} 的换钥声明中公钥或签名格式不正确")
    if old == new:
        raise StatementError(f"{code} 的换钥声明中新旧公钥相同")
    if (document.get("old_fingerprint") != fingerprint(old)
            or document.get("new_fingerprint") != fingerprint(new)):
        raise StatementError(f"{code} 的换钥声明中的指纹与公钥不符")
    body = {k: v for k, v in document.items() if k not in ("signature", "new_signature")}
    raw = _canonical(body)
    if not signature_ok(old, sig, raw):
        raise StatementError(f"{code} 的换钥声明不是用其旧公钥（指纹 {fingerprint(old)}）签名的，"
                             "或签名后被改动过")
    if not signature_ok(new, new_sig, raw):
        raise StatementError(f"{code} 的换钥声明没有新公钥的签名，或签名后被改动过")
    return Rotation(code, name, level, old, new, enc,
                    _time(document.get("made_at"), "换钥声明的时间"), dict(document))


@dataclass(frozen=True)
class Revocation:
    """A key of unit `unit_code` declared lost from `effective_from` by unit `by_code`."""

    unit_code: str
    fingerprint: str
    effective_from: datetime
    by_code: str
    by_name: str
    made_at: datetime

    def document(self) -> dict[str, Any]:
        return {"unit_code": self.unit_code, "fingerprint": self.fingerprint,
                "from": stamp(self.effective_from), "by_code": self.by_code,
                "by_name": self.by_name, "made_at": stamp(self.made_at)}

    def text(self) -> str:
        return json.dumps(self.document(), ensure_ascii=False, sort_keys=True)


def read_revocation(document: Any) -> Revocation:
    if not isinstance(document, dict):
        raise StatementError("吊销记载格式不正确")
    fp = _text(document, "fingerprint", "吊销记载的公钥指纹")
    if len(fp) != 79:
        raise StatementError("吊销记载的公钥指纹格式不正确")
    return Revocation(_text(document, "unit_code", "吊销记载的单位代码"), fp,
                      _time(document.get("from"), "吊销记载的起始时间"),
                      _text(document, "by_code", "吊销记载的吊销单位"),
                      _text(document, "by_name", "吊销记载的吊销单位名称"),
                      _time(document.get("made_at"), "吊销记载的时间"))


@dataclass(frozen=True)
class Statements:
    """What one signed manifest says about keys: its sender's rotations, and the revocations
    its sender made."""

    rotations: tuple[Rotation, ...] = ()
    revocations: tuple[Revocation, ...] = ()


NONE = Statements()


def statements_of(raw: Mapping[str, Any], sender_code: str) -> Statements:
    """The statements of a (signature-checked) manifest's dict. A unit carries only its own
    rotations and the revocations it made itself; StatementError otherwise."""
    out: dict[str, list] = {ROTATIONS: [], REVOCATIONS: []}
    for entry, reader in ((ROTATIONS, read_statement), (REVOCATIONS, read_revocation)):
        items = raw.get(entry, [])
        if not isinstance(items, list) or len(items) > MAX_STATEMENTS[entry]:
            raise StatementError(f"清单中的“{entry}”格式不正确")
        out[entry] = [reader(item) for item in items]
    for r in out[ROTATIONS]:
        if r.unit_code != sender_code:
            raise StatementError(f"数据包中有代码 {r.unit_code} 的换钥声明，但发送单位是 "
                                 f"{sender_code}：一个单位只能携带本单位的换钥声明")
    for r in out[REVOCATIONS]:
        if r.by_code != sender_code:
            raise StatementError(f"数据包中有 {r.by_code} 作出的吊销，但发送单位是 {sender_code}："
                                 "一个单位只能携带本单位作出的吊销")
        if r.unit_code == sender_code:
            raise StatementError("一个单位不能吊销自己的公钥（应由负责它的上级单位吊销）")
    return Statements(tuple(out[ROTATIONS]), tuple(out[REVOCATIONS]))


@dataclass(frozen=True)
class Retired:
    """A key retired from a time (as RegisterView.retired holds it: plain values only)."""

    kind: str  # KIND_ROTATION or KIND_REVOCATION
    unit_code: str
    effective_from: datetime
    by_code: str
    by_name: str
    new_fingerprint: str | None = None


@dataclass(frozen=True)
class Standing:
    """The decision on one signing key of a package."""

    ok: bool
    message: str
    #: rotations this decision used that the register does not hold yet (to record on merge)
    rotations: tuple[Rotation, ...] = ()


def _when(moment: datetime) -> str:
    local = moment.astimezone()
    return local.strftime("%Y-%m-%d %H:%M")


def retirement_problem(who: str, fp: str, created: datetime,
                       retired: Iterable[Retired]) -> str | None:
    """Why a key may not sign a package created at `created`: it was retired before."""
    for r in sorted(retired, key=lambda r: r.effective_from):
        # a revoked key signs nothing made on or after the date; a rotated key nothing made
        # after the statement (times are to the second: the same second is before)
        if created < r.effective_from or (r.kind == KIND_ROTATION
                                          and created <= r.effective_from):
            continue
        if r.kind == KIND_REVOCATION:
            return (f"{who}的签名公钥（指纹 {fp}）已由 {r.by_name}（代码 {r.by_code}）吊销，"
                    f"自 {_when(r.effective_from)} 起用它签名的数据包一律不接受，而此数据包生成于 "
                    f"{_when(created)}。请联系该单位：用新登记库的公钥重新导出数据包，并由上级"
                    "对照新的盖章纸质封面核对新公钥")
        return (f"{who}已于 {_when(r.effective_from)} 把签名公钥从 {fp} 换为 {r.new_fingerprint}，"
                f"此后不再使用旧公钥，而此数据包生成于 {_when(created)} 却仍用旧公钥签名："
                "可能是冒充该单位的伪造数据包。请与该单位核实")
    return None


def standing(who: str, unit_code: str, fp: str, created: datetime, trusted: set[str],
             retired: Mapping[str, list[Retired]], rotations: Iterable[Rotation]) -> Standing:
    """Whether key `fp` may sign unit `unit_code`'s package created at `created`.

    Trusted: in `trusted` (keys this register confirmed), or reached from one of them by a
    chain of the unit's rotation statements. A statement is followed only from a key that
    was not revoked (a lost key cannot vouch for another) and not already rotated to a
    different key (a statement replayed for a second new key is refused). Then: not retired
    (rotated away or revoked) at `created`."""
    chain = [r for r in rotations if r.unit_code == unit_code]
    seen: dict[str, str] = {}
    for r in chain:
        earlier = seen.setdefault(r.old_fingerprint, r.new_fingerprint)
        if earlier != r.new_fingerprint:
            return Standing(False, f"{who}的旧公钥（指纹 {r.old_fingerprint}）有两份换钥声明，"
                                   f"分别换为 {earlier} 和 {r.new_fingerprint}：可能有人盗用了旧公钥，"
                                   "未接受任何一个新公钥。请与该单位核实并对照纸质封面核对")
    by_old = {r.old_fingerprint: r for r in chain}  # one statement per old key (checked)
    reached, used, queue = set(trusted), [], list(trusted)
    while queue and fp not in reached:
        r = by_old.get(queue.pop())
        if r is None or r.new_fingerprint in reached:
            continue
        stored = [x for x in retired.get(r.old_fingerprint, []) if x.unit_code == unit_code]
        if any(x.kind == KIND_REVOCATION for x in stored):
            continue  # a revoked key vouches for nothing new
        before = [x.new_fingerprint for x in stored if x.kind == KIND_ROTATION]
        if before and r.new_fingerprint not in before:
            return Standing(False, f"{who}的旧公钥（指纹 {r.old_fingerprint}）已换为 "
                                   f"{before[0]}，而此数据包带来的换钥声明要换为 "
                                   f"{r.new_fingerprint}：声明是重放或伪造的，未接受")
        reached.add(r.new_fingerprint)
        used.append(r)
        queue.append(r.new_fingerprint)
    if fp not in reached:
        revoked = any(x.kind == KIND_REVOCATION and x.unit_code == unit_code
                      for old in {r.old_fingerprint for r in chain} for x in retired.get(old, []))
        hint = ("；包内的换钥声明出自已吊销的公钥，不能据此接受新公钥" if revoked else "")
        return Standing(False, f"签名所用的公钥（指纹 {fp}）不是已核对的{who}的公钥，也没有由"
                               f"已核对公钥签名的换钥声明{hint}：可能是冒充该单位的伪造数据包；如果对方确实"
                               "更换了密钥，请对照新的纸质封面重新核对")
    why = retirement_problem(who, fp, created, [x for x in retired.get(fp, [])
                                                 if x.unit_code == unit_code])
    if why is not None:
        return Standing(False, why)
    # keep only the rotations on the path that reached fp and that the register lacks
    path = _path(used, trusted, fp)
    how = "公钥已核对" if fp in trusted else f"新公钥经{HOW_ROTATION}确认"
    return Standing(True, how, tuple(r for r in path if r.new_fingerprint not in trusted))


def former_keys(fp: str, rotations: Iterable[Rotation]) -> set[str]:
    """The keys `fp` replaced, following `rotations` (one unit's statements) back from it."""
    back = {r.new_fingerprint: r.old_fingerprint for r in rotations}
    out: set[str] = set()
    while fp in back and back[fp] not in out:
        fp = back[fp]
        out.add(fp)
    return out


def _path(used: list[Rotation], trusted: set[str], fp: str) -> list[Rotation]:
    by_new = {r.new_fingerprint: r for r in used}
    out: list[Rotation] = []
    while fp not in trusted and fp in by_new:
        r = by_new[fp]
        out.append(r)
        fp = r.old_fingerprint
    return out[::-1]
