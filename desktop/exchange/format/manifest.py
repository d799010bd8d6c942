"""The package format (version 1): member names, the manifest and its strict reading.

A package is a zip holding ``manifest.json`` (what the package is, SHA-256 and size of every
other member, the signer's public keys), ``manifest.sig`` (the Ed25519 signature of the
manifest's exact bytes), the encrypted data, the sender's audit log, optional ``xlsx/`` and
``pdf/`` attachments, a law society's statistics table
under ``stats/`` and, for a city or province, the merged packages unchanged under
``inner/``. A return file (.djret) has the same frame with kind "return".
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
FORMAT_VERSION = 1
KIND_REGISTRATION, KIND_RETURN = "registration", "return"
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
RECORDS = "data/records.jsonl.enc"
COMMENTS = "data/comments.jsonl.enc"
AUDIT = "audit/audit.jsonl"
PACKAGE_SUFFIX, RETURN_SUFFIX, KEY_SUFFIX = ".djpkg", ".djret", ".djkey"
#: the level a unit reports to, and the form set of each level (used in file names)
PARENT_LEVEL = {"firm": "city", "city": "province", "province": "national",
                "society-county": "society-city", "society-city": "society-province"}
FORM_SETS = {"firm": "party", "city": "party", "province": "party", "national": "party",
             "society-county": "society", "society-city": "society",
             "society-province": "society"}
_FIXED = {MANIFEST, SIGNATURE, RECORDS, COMMENTS, AUDIT}
#: stats/<unit code>.json: a law society's 个人会员清理工作情况统计表 (exchange/stats_check.py)
_FOLDERS = re.compile(r"^(xlsx/[^/]+\.xlsx|pdf/[^/]+\.pdf|inner/[^/]+\.djpkg|stats/[^/]+\.json)$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
MAX_TEXT = 500


def member_allowed(name: str) -> bool:
    """Whether a (safe) member name belongs to the package format."""
    return name in _FIXED or bool(_FOLDERS.match(name))


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
    members: dict[str, tuple[str, int]]  # name -> (sha256, size)
    signing_key: bytes
    encryption_key: bytes
    encryption: dict[str, Any]

    @property
    def signer_fingerprint(self) -> str:
        return fingerprint(self.signing_key)

    @property
    def data_member(self) -> str:
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
    members: dict[str, tuple[str, int]] = {}
    for name, entry in _dict(doc.get("members"), "members").items():
        entry = _dict(entry, f"members.{name}")
        digest = entry.get("sha256")
        _need(member_allowed(name) and name not in (MANIFEST, SIGNATURE),
              f"清单列出了格式以外的文件 {name[:80]}")
        _need(isinstance(digest, str) and bool(_HEX64.match(digest)), f"{name} 的哈希格式不正确")
        members[name] = (digest, _int(entry, "size"))
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
    )
