"""The package format: member names, the manifest and its strict reading (docs/packages.md).

Version 2 (written): a zip of exactly ``manifest.json`` (what the package is, SHA-256 and size
of every member of the payload and of the payload itself, the signer's public keys),
``manifest.sig`` (the Ed25519 signature of the manifest's exact bytes) and ``payload.enc``: one
zip, encrypted for the recipient and the sender (payload.py), holding the data, the sender's
audit log, the ``xlsx/`` and ``pdf/`` copies, a law society's statistics table under
``stats/`` and, for a city or province, the merged packages unchanged under ``inner/``.

Version 1 (still read): the same members side by side in the outer zip, only the data
(``data/records.jsonl.enc``, ``data/comments.jsonl.enc``) encrypted. A return file (.djret)
has the same frame with kind "return".
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from desktop.domain.levels import LEVEL_NAMES
from desktop.exchange.format.keys import fingerprint, unb64

FORMAT = "dengji-package"
FORMAT_VERSION = 3  # the version written; 1 and 2 are still read
PAYLOAD_FORMAT = 2  # from this version on, everything but the manifest is in PAYLOAD
#: from this version on, the payload may hold CHANGES and the manifest the sender's key
#: statements (format/rotation.py): a reader of version 2 would ignore a revocation in silence,
#: so it is told to upgrade instead
STATEMENTS_FORMAT = 3
KEY_STATEMENT_ENTRIES = ("key_rotations", "key_revocations")
KIND_REGISTRATION, KIND_RETURN = "registration", "return"
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
RECORDS = "data/records.jsonl.enc"  # version 1: the encrypted data in the outer zip
COMMENTS = "data/comments.jsonl.enc"
PAYLOAD = "payload.enc"  # version 2: the one encrypted member
PLAIN_RECORDS = "data/records.jsonl"  # version 2: the data inside the payload
PLAIN_COMMENTS = "data/comments.jsonl"
AUDIT = "audit/audit.jsonl"
#: the change summary since the sender's previous package (counts per unit and form; from
#: version 3 on, inside the payload only: exchange/changes.py)
CHANGES = "changes/summary.json"
PACKAGE_SUFFIX, RETURN_SUFFIX, KEY_SUFFIX = ".djpkg", ".djret", ".djkey"
#: the level a unit reports to, and the form set of each level (used in file names)
PARENT_LEVEL = {"firm": "city", "city": "province", "province": "national",
                "society-county": "society-city", "society-city": "society-province"}
FORM_SETS = {"firm": "party", "city": "party", "province": "party", "national": "party",
             "society-county": "society", "society-city": "society",
             "society-province": "society"}
_FIXED = {MANIFEST, SIGNATURE, RECORDS, COMMENTS, AUDIT}  # version 1's outer zip
_INSIDE = {PLAIN_RECORDS, PLAIN_COMMENTS, AUDIT, CHANGES}  # version 2's payload
#: stats/<unit code>.json: a law society's 个人会员清理工作情况统计表 (exchange/stats_check.py)
_FOLDERS = re.compile(r"^(xlsx/[^/]+\.xlsx|pdf/[^/]+\.pdf|inner/[^/]+\.djpkg|stats/[^/]+\.json)$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
MAX_TEXT = 500


def member_allowed(name: str) -> bool:
    """Whether a (safe) member name may sit in a package's outer zip (of either version; the
    manifest's version then decides which of them it must hold)."""
    return name in _FIXED or name == PAYLOAD or bool(_FOLDERS.match(name))


def payload_member_allowed(name: str, version: int = FORMAT_VERSION) -> bool:
    """Whether a (safe) member name may sit inside the payload of a package of `version`
    (2 or later; the change summary from STATEMENTS_FORMAT on)."""
    if name == CHANGES:
        return version >= STATEMENTS_FORMAT
    return name in _INSIDE or bool(_FOLDERS.match(name))


def _listed_allowed(name: str, version: int) -> bool:
    if version >= PAYLOAD_FORMAT:
        return payload_member_allowed(name, version)
    return name in _FIXED - {MANIFEST, SIGNATURE} or bool(_FOLDERS.match(name))


def canonical(manifest: dict[str, Any]) -> bytes:
    """The bytes of manifest.json that are written and signed."""
    return (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()


class ManifestError(Exception):
    """manifest.json is unreadable or malformed; the message is Chinese."""


@dataclass(frozen=True)
class UnitRef:
    code: str
    name: str
    level: str
    parent_code: str | None = None


@dataclass(frozen=True)
class InnerRef:
    name: str
    package_id: str
    sender_code: str
    fingerprint: str


@dataclass(frozen=True)
class Manifest:
    raw: dict[str, Any]
    format_version: int
    kind: str
    package_id: str
    created: str
    sender: UnitRef
    recipient: UnitRef
    recipient_fingerprint: str
    sequence: int
    supersedes: str | None
    returns: str | None
    answers: tuple[str, ...]
    form_set: str
    forms: tuple[tuple[str, str, int], ...]  # (form id, version, records)
    record_count: int
    units: tuple[UnitRef, ...]
    inner: tuple[InnerRef, ...]
    record_digests: frozenset[str]
    members: dict[str, tuple[str, int]]  # name -> (sha256, size); version 2: in the payload
    signing_key: bytes
    encryption_key: bytes
    encryption: dict[str, Any]
    payload: tuple[str, int] | None = None  # version 2: (sha256, size) of PAYLOAD
    #: (seq, hash) of the sender's last audit entry, signed here (exchange/format/chain.py);
    #: packages written before it may lack it
    audit_head: tuple[int, str] | None = None

    @property
    def sealed(self) -> bool:
        """Whether everything but the manifest is in the encrypted payload (version 2)."""
        return self.format_version >= PAYLOAD_FORMAT

    @property
    def signer_fingerprint(self) -> str:
        return fingerprint(self.signing_key)

    @property
    def data_member(self) -> str:
        if self.sealed:
            return PLAIN_COMMENTS if self.kind == KIND_RETURN else PLAIN_RECORDS
        return COMMENTS if self.kind == KIND_RETURN else RECORDS


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise ManifestError(what)


def _text(obj: dict, key: str, *, optional: bool = False, limit: int = MAX_TEXT) -> str | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    _need(isinstance(value, str) and 0 < len(value.strip()) and len(value) <= limit,
          f"“{key}”缺失或格式不正确")
    return value


def _int(obj: dict, key: str, minimum: int = 0) -> int:
    value = obj.get(key)
    _need(isinstance(value, int) and not isinstance(value, bool) and minimum <= value < 2**53,
          f"“{key}”不是有效的数字")
    return value


def _uuid(obj: dict, key: str, *, optional: bool = False) -> str | None:
    value = _text(obj, key, optional=optional, limit=36)
    if value is None:
        return None
    try:
        _need(str(uuid.UUID(value)) == value, f"“{key}”不是有效的编号")
    except ValueError as err:
        raise ManifestError(f"“{key}”不是有效的编号") from err
    return value


def _list(obj: dict, key: str, limit: int = 1_000_000) -> list:
    value = obj.get(key, [])
    _need(isinstance(value, list) and len(value) <= limit, f"“{key}”格式不正确")
    return value


def _dict(obj: Any, what: str) -> dict:
    _need(isinstance(obj, dict), f"“{what}”格式不正确")
    return obj


def _unit(obj: Any, what: str) -> UnitRef:
    d = _dict(obj, what)
    level = _text(d, "level")
    _need(level in LEVEL_NAMES, f"“{what}”的层级无效")
    return UnitRef(_text(d, "code", limit=100), _text(d, "name"), level,
                   _text(d, "parent_code", optional=True, limit=100))


def parse_manifest(raw: bytes) -> Manifest:
    """Read manifest.json strictly; ManifestError (Chinese) on anything unexpected.

    A newer format version is reported before anything else is looked at, because a newer
    format may have changed everything else.
    """
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ManifestError("清单 manifest.json 不是有效的 JSON") from err
    _need(isinstance(doc, dict) and doc.get("format") == FORMAT, "缺少登记软件数据包的格式标识")
    version = _int(doc, "format_version", 1)
    if version > FORMAT_VERSION:
        raise ManifestError(f"数据包格式版本为 {version}，本软件只支持到 {FORMAT_VERSION}，"
                            "请升级登记软件后再导入")
    kind = doc.get("kind")
    _need(kind in (KIND_REGISTRATION, KIND_RETURN), "“kind”无效")
    for entry in KEY_STATEMENT_ENTRIES:
        _need(version >= STATEMENTS_FORMAT or entry not in doc,
              f"格式版本 {version} 的数据包不应有“{entry}”")
    members: dict[str, tuple[str, int]] = {}
    for name, entry in _dict(doc.get("members"), "members").items():
        entry = _dict(entry, f"members.{name}")
        digest = entry.get("sha256")
        _need(_listed_allowed(name, version), f"清单列出了格式以外的文件 {name[:80]}")
        _need(isinstance(digest, str) and bool(_HEX64.match(digest)), f"{name} 的哈希格式不正确")
        members[name] = (digest, _int(entry, "size"))
    payload = None
    if version >= PAYLOAD_FORMAT:
        entry = _dict(doc.get("payload"), "payload")
        _need(entry.get("name") == PAYLOAD, f"“payload”应为 {PAYLOAD}")
        _need(isinstance(entry.get("sha256"), str) and bool(_HEX64.match(entry["sha256"])),
              "payload 的哈希格式不正确")
        payload = (entry["sha256"], _int(entry, "size"))
    else:
        _need("payload" not in doc, "格式版本 1 的数据包不应有“payload”")
    signer = _dict(doc.get("signer"), "signer")
    signing = unb64(signer.get("signing_key"), 32)
    encryption_key = unb64(signer.get("encryption_key"), 32)
    _need(signing is not None and encryption_key is not None, "签名者公钥格式不正确")
    recipient = _dict(doc.get("recipient"), "recipient")
    encryption = _dict(doc.get("encryption"), "encryption")
    _need(isinstance(encryption.get("recipients"), list) and len(encryption["recipients"]) <= 16,
          "“encryption”格式不正确")
    forms = tuple((_text(f, "id", limit=100), _text(f, "version", limit=100),
                   _int(f, "records")) for f in map(lambda x: _dict(x, "forms"),
                                                     _list(doc, "forms", 100)))
    inner = tuple(InnerRef(_text(i, "name"), _uuid(i, "package_id"), _text(i, "sender_code"),
                           _text(i, "fingerprint", limit=100))
                  for i in map(lambda x: _dict(x, "inner"), _list(doc, "inner", 50_000)))
    digests = _list(doc, "record_digests", 5_000_000)
    _need(all(isinstance(d, str) and _HEX64.match(d) for d in digests), "记录摘要格式不正确")
    created = _text(doc, "created", limit=40)
    try:
        _need(datetime.fromisoformat(created).tzinfo is not None, "“created”缺少时区")
    except ValueError as err:
        raise ManifestError("“created”不是有效的时间") from err
    answers = _list(doc, "answers", 10_000)
    _need(all(isinstance(a, str) and len(a) <= 36 for a in answers), "“answers”格式不正确")
    head = doc.get("audit_head")
    if head is not None:
        _need(isinstance(head, dict) and set(head) == {"seq", "hash"}
              and isinstance(head["hash"], str) and bool(_HEX64.match(head["hash"]))
              and type(head["seq"]) is int and 1 <= head["seq"] < 2**53,
              "“audit_head”格式不正确")
        head = (head["seq"], head["hash"])
    return Manifest(
        raw=doc, format_version=version, kind=kind, package_id=_uuid(doc, "package_id"),
        created=created, sender=_unit(doc.get("sender"), "sender"),
        recipient=_unit(recipient, "recipient"),
        recipient_fingerprint=_text(recipient, "fingerprint", limit=100),
        sequence=_int(doc, "sequence", 1 if kind == KIND_REGISTRATION else 0),
        supersedes=_uuid(doc, "supersedes", optional=True),
        returns=_uuid(doc, "returns", optional=True), answers=tuple(answers),
        form_set=_text(doc, "form_set", limit=40), forms=forms,
        record_count=_int(doc, "record_count"),
        units=tuple(_unit(u, "units") for u in _list(doc, "units", 100_000)),
        inner=inner, record_digests=frozenset(digests), members=members,
        signing_key=signing, encryption_key=encryption_key, encryption=encryption,
        payload=payload, audit_head=head,
    )
