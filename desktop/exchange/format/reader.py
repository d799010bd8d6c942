"""Verifying a package or return file: every check, in order, with a reason a clerk understands.

`verify_package` needs no database. With a `RegisterView` (what the receiving register knows:
its own key, the trusted keys, the packages already merged) it also checks the sender's trust,
the recipient, the sequence, decrypts the data and reads every record strictly. A package is
merged only when every check passed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from desktop.domain.forms import FormSet
from desktop.exchange.format import chain, encryption, provenance, rotation
from desktop.exchange.format.errors import PackageRefused
from desktop.exchange.format.manifest import (
    AUDIT,
    KIND_REGISTRATION,
    KIND_RETURN,
    MANIFEST,
    SIGNATURE,
    Manifest,
    ManifestError,
    member_allowed,
    parse_manifest,
)
from desktop.exchange.format.payload import data_plaintext, open_payload
from desktop.exchange.format.records import (
    Comment,
    Incoming,
    Origins,
    RecordsError,
    parse_comment_lines,
    parse_record_lines,
)
from desktop.exchange.format.signing import signature_ok
from desktop.exchange.format.stats_check import check_stats
from desktop.exchange.format.zipcheck import LIMITS, Limits, read_members

MAX_DEPTH = 4


@dataclass(frozen=True)
class Check:
    """One check's result: ok True/False, or None when it could not be run here."""

    name: str
    ok: bool | None
    message: str


@dataclass
class RegisterView:
    """What the receiving register knows, read once before verifying (no session needed)."""

    own_code: str
    own_fingerprint: str
    decrypt_key: X25519PrivateKey
    trusted: dict[str, set[str]]  # unit code -> fingerprints of its trusted keys
    merged: dict[str, dict[int, str]]  # sender code -> {sequence: package id} received
    sent: set[str] = field(default_factory=set)  # ids of packages this register sent
    returns_seen: set[str] = field(default_factory=set)  # return files already imported
    #: record ids -> who holds those of them already in the register (provenance.Owners),
    #: asked once a package's records are read; None where the register is out of reach (a
    #: worker process: the merge asks again before writing, see recheck)
    owners: Callable[[list[str]], provenance.Owners] | None = None
    #: sender code -> the head of its audit chain accepted last (chain.py)
    audit_heads: dict[str, chain.Anchor] = field(default_factory=dict)
    #: fingerprint -> the times that key was retired: tuples of rotation.Retired's fields
    #: (plain values: the view travels to worker processes as a dict)
    retired: dict[str, list[tuple]] = field(default_factory=dict)
    #: the own unit's earlier signing key fingerprints -> their X25519 private keys (raw): a
    #: package for (or from) the own unit before a rotation still opens
    older_keys: dict[str, bytes] = field(default_factory=dict)
    #: unit code -> its parent's code, as this register knows the units
    parents: dict[str, str | None] = field(default_factory=dict)

    def own_key(self, fp: str) -> bool:
        """Whether `fp` is a signing key of the own unit (the current one or an earlier one)."""
        return fp == self.own_fingerprint or fp in self.older_keys

    def key_for(self, manifest: Manifest) -> X25519PrivateKey:
        """The own X25519 key a package was encrypted for (an earlier one before a rotation)."""
        for fp in (manifest.recipient_fingerprint, manifest.signer_fingerprint):
            if fp in self.older_keys:
                return X25519PrivateKey.from_private_bytes(self.older_keys[fp])
        return self.decrypt_key

    def retirements(self) -> dict[str, list[rotation.Retired]]:
        return {fp: [rotation.Retired(*t) for t in rows] for fp, rows in self.retired.items()}


@dataclass
class Verification:
    source: str
    size: int
    sha256: str
    checks: list[Check] = field(default_factory=list)
    manifest: Manifest | None = None
    members: dict[str, bytes] = field(default_factory=dict)
    records: list[Incoming] | None = None
    comments: list[Comment] | None = None
    inner: dict[str, Manifest] = field(default_factory=dict)  # package id -> manifest
    already: bool = False  # merged or imported before: nothing to do
    stats: dict | None = None  # a society's statistics table (stats/<code>.json), as read
    findings: list[str] = field(default_factory=list)  # for the clerk; they refuse nothing
    #: the signed packages of its tree, each with the unit it speaks for (provenance.py)
    speakers: list[provenance.Speaker] = field(default_factory=list)
    #: unit code -> what the package may say of that unit (from the unit's own signed package)
    units: dict[str, provenance.Detail] = field(default_factory=dict)
    audit_chain: tuple[chain.ChainEntry, ...] | None = None  # the sender's, as carried
    #: key statements its tree carries that the register takes on merge (rotation.py)
    rotations: list[rotation.Rotation] = field(default_factory=list)
    revocations: list[rotation.Revocation] = field(default_factory=list)

    def named_units(self) -> set[str]:
        """Every unit the package speaks for or names: its tree's senders, its unit list, the
        units of its records."""
        m = self.manifest
        return (set(self.units) | ({u.code for u in m.units} if m else set())
                | {r.unit_code for r in self.records or ()})

    @property
    def ok(self) -> bool:
        return self.manifest is not None and all(c.ok is not False for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.ok is False]

    def reason(self) -> str:
        """The failed checks, in one Chinese sentence per check."""
        return "；".join(f"{c.name}：{c.message}" for c in self.failures)

    def refused(self) -> PackageRefused:
        return PackageRefused(f"数据包 {self.source} 被拒绝，未写入任何内容。{self.reason()}")


def verify_package(data: bytes, source: str, forms: FormSet, view: RegisterView | None = None,
                   *, expected_fingerprint: str | None = None, depth: int = 0,
                   limits: Limits = LIMITS) -> Verification:
    """Check a package (or return file) and, with a register view, read its data."""
    result = Verification(source, len(data), hashlib.sha256(data).hexdigest())
    add = result.checks.append
    try:
        members = read_members(data, source, member_allowed, limits)
    except PackageRefused as err:
        add(Check("文件", False, err.reason))
        return result
    result.members = members
    add(Check("文件", True, f"zip 结构完好，共 {len(members)} 个文件"))
    if MANIFEST not in members or SIGNATURE not in members:
        add(Check("清单", False, "缺少清单 manifest.json 或签名 manifest.sig"))
        return result
    try:
        manifest = parse_manifest(members[MANIFEST])
    except ManifestError as err:
        add(Check("格式", False, str(err)))
        return result
    add(Check("格式", True, f"格式版本 {manifest.format_version}"))
    if not signature_ok(manifest.signing_key, members[SIGNATURE], members[MANIFEST]):
        add(Check("签名", False, "清单的签名不正确：数据包在签名后被改动过，或签名是伪造的"))
        return result
    add(Check("签名", True, f"签名正确（签名者公钥指纹 {manifest.signer_fingerprint}）"))
    try:
        statements = rotation.statements_of(manifest.raw, manifest.sender.code)
    except rotation.StatementError as err:
        add(Check("换钥声明", False, f"{err}；数据包未被接受，登记库未作任何改动"))
        return result
    result.manifest = manifest
    _set_speakers(result, provenance.listed_speakers(manifest, statements))
    if (why := provenance.listed_problem(manifest)) is not None:
        add(Check("内含数据包", False, why))
        return result
    if expected_fingerprint and manifest.signer_fingerprint != expected_fingerprint:
        add(Check("签名者", False, f"签名者公钥指纹 {manifest.signer_fingerprint} 与应有的 "
                                 f"{expected_fingerprint} 不符"))
    if manifest.sealed:  # version 2: the members to check are inside the encrypted payload
        opened = open_payload(members, manifest, view.key_for(manifest) if view else None,
                              source, limits)
        add(Check(opened.check, opened.ok, opened.message))
        if opened.members is None:
            if opened.ok is None:
                add(_sender_unchecked(manifest))
            return result
        members = result.members = opened.members
    if not _hashes(result, manifest, members):
        return result
    origins = (_inner(result, manifest, forms, depth, limits, statements) if manifest.inner
               else {})
    _listed_units(result, manifest)
    if view is None:
        add(_sender_unchecked(manifest))
        return result
    retired = _retired(result, view)
    _trust(result, manifest, view, retired)
    _vouched_keys(result, view, retired)
    if manifest.kind == KIND_REGISTRATION:
        _sequence(result, manifest, view)
    else:
        _returned(result, manifest, view)
    if result.ok:
        _data(result, manifest, forms, view, origins)
    if result.ok and result.records is not None:
        _scope(result, view)
        _anchor(result, view)
    if result.ok and result.records is not None:
        _stats(result, manifest)
    return result


def _sender_unchecked(manifest: Manifest) -> Check:
    return Check("发送单位", None, "未核对（未指定登记库）。请对照纸质封面上印的公钥指纹："
                               f"{manifest.signer_fingerprint}")


def _stats(result: Verification, manifest: Manifest) -> None:
    found = check_stats(result.members, manifest.sender.code, manifest.sender.level,
                        result.records)
    if found.error:
        result.checks.append(Check("统计表", False, found.error))
        return
    result.stats = found.table
    if found.finding:
        result.findings.append(found.finding)
    if found.table is not None:
        result.checks.append(Check("统计表", True, "个人会员清理工作情况统计表格式正确、合计无误"
                                   + ("；但与记录不符（见提示）" if found.finding else "，与记录一致")))


def _hashes(result: Verification, manifest: Manifest, members: dict[str, bytes]) -> bool:
    present = set(members) - {MANIFEST, SIGNATURE}
    listed = set(manifest.members)
    problems = []
    if manifest.data_member not in listed:
        problems.append(f"清单中没有数据文件 {manifest.data_member}")
    problems += [f"缺少文件 {name}" for name in sorted(listed - present)]
    problems += [f"多出清单未列出的文件 {name}" for name in sorted(present - listed)]
    for name in sorted(listed & present):
        digest, size = manifest.members[name]
        if len(members[name]) != size or hashlib.sha256(members[name]).hexdigest() != digest:
            problems.append(f"{name} 的内容与清单中的哈希不符（被改动过或已损坏）")
    if problems:
        result.checks.append(Check("完整性", False, "；".join(problems[:5])))
        return False
    result.checks.append(Check("完整性", True, f"{len(listed)} 个文件的 SHA-256 均与清单一致"))
    return True


def _set_speakers(result: Verification, speakers: list[provenance.Speaker]) -> None:
    result.speakers = speakers
    result.units = provenance.unit_details(speakers)


def _inner(result: Verification, manifest: Manifest, forms: FormSet, depth: int,
           limits: Limits, statements: rotation.Statements) -> dict[str, Origins]:
    """Verify every original package carried under inner/ against the manifest's list, and
    that the package may carry it (provenance.carry_problem)."""
    problems: list[str] = []
    origins: dict[str, Origins] = {}
    children: list[tuple[Manifest, list[provenance.Speaker]]] = []
    names = {ref.name for ref in manifest.inner}
    on_disk = {name for name in result.members if name.startswith("inner/")}
    if names != on_disk or len(names) != len(manifest.inner):
        problems.append("内含数据包与清单所列不一致")
    elif depth + 1 >= MAX_DEPTH:
        problems.append("数据包嵌套层数过多")
    else:
        for ref in manifest.inner:
            inner = verify_package(result.members[ref.name], ref.name, forms,
                                   expected_fingerprint=ref.fingerprint, depth=depth + 1,
                                   limits=limits)
            m = inner.manifest
            if not inner.ok or m is None:
                problems.append(f"{ref.name}：{inner.reason()}")
            elif (m.package_id != ref.package_id or m.sender.code != ref.sender_code
                  or m.kind != KIND_REGISTRATION):
                problems.append(f"{ref.name} 与清单中的记载不符")
            elif (why := provenance.carry_problem(manifest, m, statements)) is not None:
                problems.append(why)
            else:
                result.inner[m.package_id] = m
                children.append((m, inner.speakers))
                origins[m.package_id] = Origins(provenance.signed_digests(inner.speakers))
            if len(problems) >= 3:
                break
    if problems:
        result.checks.append(Check("内含数据包", False, "；".join(problems)))
        return {}
    _set_speakers(result, provenance.speakers_of(manifest, children, statements))
    result.checks.append(Check("内含数据包", True,
                               f"{len(origins)} 个原始数据包的签名和哈希均正确，"
                               "均由下级单位签名并发给本数据包的发送单位"))
    return origins


def _listed_units(result: Verification, manifest: Manifest) -> None:
    """The package's unit list names only its sender and units whose packages it carries."""
    covered = {s.unit.code for s in result.speakers}
    why = provenance.units_problem(manifest, covered)
    if why is not None:
        result.checks.append(Check("报送范围", False, why))


def _retired(result: Verification, view: RegisterView) -> dict[str, list[rotation.Retired]]:
    """The register's retired keys and the revocations the package's tree carries (each from
    the level responsible for its unit; Verification.revocations keeps them for the merge)."""
    retired = view.retirements()
    why, revocations = provenance.revocations_problem(result.speakers, view.parents)
    if why is not None:
        result.checks.append(Check("吊销", False, why))
        return retired
    result.revocations = revocations
    for r in revocations:
        retired.setdefault(r.fingerprint, []).append(rotation.Retired(
            rotation.KIND_REVOCATION, r.unit_code, r.effective_from, r.by_code, r.by_name))
    return retired


def _vouched_keys(result: Verification, view: RegisterView,
                  retired: dict[str, list[rotation.Retired]]) -> None:
    """Carried packages of units whose keys this level trusts directly are signed by them (or
    by a key their own rotation statements lead to), and none by a retired key."""
    why, taken = provenance.key_problem(result.speakers, view.trusted, retired)
    if why is not None:
        result.checks.append(Check("内含数据包", False, why))
    else:
        result.rotations += [r for r in taken if r not in result.rotations]


def _scope(result: Verification, view: RegisterView) -> None:
    """What this register refuses of a sound package (the own unit named, a record id held by
    another unit or package): provenance.refusal, the decision merge takes too."""
    m = result.manifest
    if m is None or result.records is None or m.sender.code == view.own_code:
        return
    ids = [r.id for r in result.records]
    owners = view.owners(ids) if view.owners is not None and ids else {}
    why = provenance.refusal(m.sender, view.own_code, result.named_units(), ids, owners)
    if why is not None:
        result.checks.append(Check("记录归属", False, why))
    elif view.owners is not None:
        result.checks.append(Check("记录归属", True, "记录编号均未被登记库中其他单位或数据包使用"))


def _trust(result: Verification, manifest: Manifest, view: RegisterView,
           retired: dict[str, list[rotation.Retired]]) -> None:
    sender = manifest.sender
    who = provenance.unit_text(sender)
    fp = manifest.signer_fingerprint
    if sender.code == view.own_code:
        ok = view.own_key(fp)
        result.checks.append(Check("发送单位", ok, "本单位自己发出的数据包" if ok else
                                   f"自称由本单位发出，但签名密钥不是本单位的（指纹 {fp}）"))
        return
    known = view.trusted.get(sender.code)
    if not known:
        result.checks.append(Check(
            "发送单位", False,
            f"{who}的公钥尚未核对。请对照该单位盖章纸质封面上印的公钥指纹，确认与 {fp} 一致后运行："
            f"dengji keys --db 登记库 trust \"{result.source}\" --fingerprint \"{fp}\"，再重新导入"))
    else:
        st = rotation.standing(who, sender.code, fp, datetime.fromisoformat(manifest.created),
                               known, retired, [r for s in result.speakers
                                                for r in s.statements.rotations])
        result.checks.append(Check("发送单位", st.ok, f"{who}，{st.message}" if st.ok
                                   else st.message))
        if st.ok:
            result.rotations += [r for r in st.rotations if r not in result.rotations]
    if not view.own_key(manifest.recipient_fingerprint):
        r = manifest.recipient
        result.checks.append(Check("接收单位", False, f"这是发给 "
                                   f"{provenance.unit_text(r)} 的，不是发给本单位的"))
    else:
        result.checks.append(Check("接收单位", True, "发给本单位"))


def _sequence(result: Verification, manifest: Manifest, view: RegisterView) -> None:
    if manifest.sender.code == view.own_code:
        result.checks.append(Check("序号", None, f"序号 {manifest.sequence}：本单位自己发出的"
                                   "数据包，只能核验，不能合并到本登记库"))
        return
    merged = view.merged.get(manifest.sender.code, {})
    seq = manifest.sequence
    if manifest.package_id in merged.values():
        result.already = True
        result.checks.append(Check("序号", True, f"序号 {seq}：此数据包已合并过，不会重复写入"))
    elif merged and seq < max(merged):
        result.checks.append(Check("序号", False, f"序号 {seq} 比已合并的序号 {max(merged)} 旧："
                                   "这是一个过时的数据包（或重放的旧数据包）"))
    elif seq in merged:
        result.checks.append(Check("序号", False, f"序号 {seq} 已被另一个已合并的数据包使用："
                                   "数据包可能是伪造或重放的"))
    else:
        last = f"（上次合并的是序号 {max(merged)}）" if merged else "（首次收到该单位的数据包）"
        result.checks.append(Check("序号", True, f"序号 {seq}{last}"))


def recheck(result: Verification, view: RegisterView) -> None:
    """Check the sequence (or the returned package) again against `view` as it is now: a
    package verified ahead of time must still be new after the ones merged before it."""
    m = result.manifest
    if m is None or not result.ok:
        return
    result.checks = [c for c in result.checks
                     if c.name not in ("序号", "退回对象", "记录归属", "审计日志")]
    result.already = False
    (_sequence if m.kind == KIND_REGISTRATION else _returned)(result, m, view)
    if result.ok and result.records is not None:
        _scope(result, view)
        _anchor(result, view)


def _anchor(result: Verification, view: RegisterView) -> None:
    """The sender's audit chain extends the head this register accepted last (chain.py)."""
    m = result.manifest
    if m.sender.code != view.own_code and not result.already:
        result.audit_chain, ok, message = chain.check(
            result.audit_chain, result.members.get(AUDIT), m.audit_head,
            view.audit_heads.get(m.sender.code))
        result.checks.append(Check("审计日志", ok, message))


def _returned(result: Verification, manifest: Manifest, view: RegisterView) -> None:
    if manifest.package_id in view.returns_seen:
        result.already = True
        result.checks.append(Check("退回对象", True, "此退回文件已导入过，不会重复写入"))
    elif manifest.returns not in view.sent:
        result.checks.append(Check("退回对象", False, "退回的数据包不是本单位发出的"))
    else:
        result.checks.append(Check("退回对象", True, f"退回本单位的数据包 {manifest.returns}"))


def _data(result: Verification, manifest: Manifest, forms: FormSet, view: RegisterView,
          origins: dict[str, Origins]) -> None:
    try:
        plaintext = data_plaintext(result.members, manifest, view.key_for(manifest))
    except encryption.DecryptionFailed:
        result.checks.append(Check("数据", False, "无法用本单位的密钥解密数据（本单位不是接收方，"
                                   "或数据被改动过）"))
        return
    try:
        if manifest.kind == KIND_RETURN:
            result.comments = parse_comment_lines(plaintext)
            n = len(result.comments)
        else:
            result.records = parse_record_lines(plaintext, forms, manifest.sender.code, origins,
                                                manifest.record_digests,
                                                provenance.unit_text(manifest.sender))
            n = len(result.records)
            counts = Counter(r.form.id for r in result.records)
            declared = {form_id: count for form_id, _, count in manifest.forms}
            if counts != Counter({k: v for k, v in declared.items() if v}):
                raise RecordsError("各表记录数与清单不符")
    except RecordsError as err:
        result.checks.append(Check("数据", False, str(err)))
        return
    if n != manifest.record_count:
        result.checks.append(Check("数据", False, f"记录数 {n} 与清单中的 {manifest.record_count}"
                                   " 不符"))
        return
    what = "条意见" if manifest.kind == KIND_RETURN else "条记录"
    result.checks.append(Check("数据", True, f"已解密，{n} {what}逐条核对无误"))
