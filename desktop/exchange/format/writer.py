"""Writing packages and return files (format version 2, docs/packages.md): zip every member
into the payload and encrypt it for the recipient and the sender, hash every member and the
payload into the manifest, sign the manifest's exact bytes, and zip the manifest, its
signature and the payload. No database here: the services hand over plain data."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from desktop.exchange.format import payload
from desktop.exchange.format.keys import PublicKeyInfo, b64
from desktop.exchange.format.manifest import (
    AUDIT,
    FORMAT,
    FORMAT_VERSION,
    KIND_REGISTRATION,
    KIND_RETURN,
    MANIFEST,
    PACKAGE_SUFFIX,
    PAYLOAD,
    PLAIN_COMMENTS,
    PLAIN_RECORDS,
    RETURN_SUFFIX,
    SIGNATURE,
    canonical,
)


@dataclass(frozen=True)
class Sender:
    """The own unit as it signs: its description and its key pairs' private halves' owner."""

    info: PublicKeyInfo
    parent_code: str | None
    signing_private: Ed25519PrivateKey

    def unit(self) -> dict[str, Any]:
        return {"code": self.info.code, "name": self.info.name, "level": self.info.level,
                "parent_code": self.parent_code}


@dataclass
class PackageContent:
    """What goes into one registration package."""

    form_set: str
    sequence: int
    supersedes: str | None
    records: list[dict[str, Any]]  # record lines (see exchange/records.py)
    forms: list[dict[str, Any]]  # [{"id", "version", "records"}]
    units: list[dict[str, Any]]  # every unit whose records are included
    digests: list[str]
    audit: list[dict[str, Any]] = field(default_factory=list)
    attachments: dict[str, bytes] = field(default_factory=dict)  # "xlsx/附件4.xlsx" -> bytes
    inner: list[tuple[dict[str, Any], bytes]] = field(default_factory=list)  # (ref, file)
    answers: list[str] = field(default_factory=list)  # return files this package answers
    #: the sender's key statements (format/rotation.py: key_rotations, key_revocations)
    key_statements: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Written:
    package_id: str
    file_name: str
    data: bytes
    manifest: dict[str, Any]


def _software() -> str:
    try:
        return f"dengji {metadata.version('dengji')}"
    except metadata.PackageNotFoundError:
        return "dengji"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def jsonl(lines: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
                    for line in lines)


def _digest(data: bytes) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def assemble(manifest: dict[str, Any], members: dict[str, bytes], sender: Sender,
             recipient: PublicKeyInfo) -> tuple[bytes, dict[str, Any]]:
    """Seal `members` into the payload for `recipient` and the sender, hash them and the
    payload into `manifest`, add the signer's keys, sign, and zip the three outer members.

    Returns the package's bytes and the complete manifest."""
    targets = [(recipient.fingerprint, recipient.encryption_key)]
    if recipient.fingerprint != sender.info.fingerprint:
        targets.append((sender.info.fingerprint, sender.info.encryption_key))
    stamp = datetime.fromisoformat(manifest["created"]).timetuple()[:6]
    sealed, envelope = payload.seal(members, targets, manifest["package_id"], stamp)
    manifest = {
        **manifest,
        "encryption": envelope,
        "members": {name: _digest(data) for name, data in sorted(members.items())},
        "payload": {"name": PAYLOAD, **_digest(sealed)},
        "signer": {"signing_key": b64(sender.info.signing_key),
                   "encryption_key": b64(sender.info.encryption_key),
                   "fingerprint": sender.info.fingerprint},
    }
    raw = canonical(manifest)
    data = payload.zip_members([(MANIFEST, raw), (SIGNATURE, sender.signing_private.sign(raw)),
                                (PAYLOAD, sealed)], stamp)
    return data, manifest


def _frame(kind: str, sender: Sender, recipient: PublicKeyInfo, package_id: str
           ) -> dict[str, Any]:
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind,
        "package_id": package_id, "created": _now(), "software": _software(),
        "sender": sender.unit(),
        "recipient": {"code": recipient.code, "name": recipient.name, "level": recipient.level,
                      "fingerprint": recipient.fingerprint},
    }


def _safe(code: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in code)[:60] or "unit"


def file_name(unit_code: str, form_set: str, created: str, sequence: int) -> str:
    """`<unit code>-<form set>-<yyyymmdd>-<seq>.djpkg`, safe as a file name on every system."""
    return f"{_safe(unit_code)}-{form_set}-{created[:10].replace('-', '')}-{sequence}" \
        f"{PACKAGE_SUFFIX}"


def write_registration(content: PackageContent, sender: Sender, recipient: PublicKeyInfo
                       ) -> Written:
    """A signed registration package, its data encrypted for `recipient` and the sender."""
    package_id = str(uuid.uuid4())
    members = {PLAIN_RECORDS: jsonl(content.records), AUDIT: jsonl(content.audit),
               **content.attachments}
    inner_refs = []
    for ref, data in content.inner:
        members[ref["name"]] = data
        inner_refs.append(ref)
    manifest = {
        **_frame(KIND_REGISTRATION, sender, recipient, package_id),
        "sequence": content.sequence, "supersedes": content.supersedes,
        "form_set": content.form_set, "forms": content.forms,
        "record_count": len(content.records), "units": content.units,
        "inner": inner_refs, "record_digests": sorted(content.digests),
        "answers": content.answers, **content.key_statements,
    }
    if content.audit:  # the chain's head, signed: the level above anchors to it (chain.py)
        manifest["audit_head"] = {"seq": content.audit[-1]["seq"],
                                  "hash": content.audit[-1]["hash"]}
    data, manifest = assemble(manifest, members, sender, recipient)
    name = file_name(sender.info.code, content.form_set, manifest["created"], content.sequence)
    return Written(package_id, name, data, manifest)


def write_return(comments: list[dict[str, Any]], returned_package: str, sender: Sender,
                 recipient: PublicKeyInfo, form_set: str,
                 key_statements: dict[str, list[dict[str, Any]]] | None = None) -> Written:
    """A signed return file: comments on records of `returned_package`, for its sender (with
    the sender's rotation statements, so a unit below follows a rotated key)."""
    package_id = str(uuid.uuid4())
    manifest = {
        **_frame(KIND_RETURN, sender, recipient, package_id),
        "sequence": 0, "returns": returned_package, "form_set": form_set, "forms": [],
        "record_count": len(comments), "units": [], "inner": [], "record_digests": [],
        "answers": [], **(key_statements or {}),
    }
    data, manifest = assemble(manifest, {PLAIN_COMMENTS: jsonl(comments)}, sender, recipient)
    day = manifest["created"][:10].replace("-", "")
    name = f"{_safe(recipient.code)}-{form_set}-{day}-退回-{package_id[:8]}{RETURN_SUFFIX}"
    return Written(package_id, name, data, manifest)


def inner_ref(name: str, package_id: str, sender_code: str, signer_fingerprint: str
              ) -> dict[str, Any]:
    """The manifest entry of an original package carried under inner/."""
    return {"name": name, "package_id": package_id, "sender_code": sender_code,
            "fingerprint": signer_fingerprint}


