"""Writing packages and return files: encrypt the data, hash every member into the manifest,
sign the manifest's exact bytes, and zip it all. No database here: the services hand over
plain data."""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from io import BytesIO
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from desktop.exchange.format import encryption
from desktop.exchange.format.keys import PublicKeyInfo, b64
from desktop.exchange.format.manifest import (
    AUDIT,
    COMMENTS,
    FORMAT,
    FORMAT_VERSION,
    KIND_REGISTRATION,
    KIND_RETURN,
    MANIFEST,
    PACKAGE_SUFFIX,
    RECORDS,
    RETURN_SUFFIX,
    SIGNATURE,
    canonical,
    member_allowed,
)
from desktop.exchange.format.zipcheck import name_problem

_STORED_SUFFIXES = (".enc", ".djpkg", ".xlsx", ".pdf")


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


def assemble(manifest: dict[str, Any], members: dict[str, bytes], sender: Sender
             ) -> tuple[bytes, dict[str, Any]]:
    """Hash `members` into `manifest`, add the signer's keys, sign, and zip everything.

    Returns the package's bytes and the complete manifest."""
    for name in members:
        if name_problem(name) or not member_allowed(name) or name in (MANIFEST, SIGNATURE):
            raise ValueError(f"not a package member name: {name!r}")
    manifest = {
        **manifest,
        "members": {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                    for name, data in sorted(members.items())},
        "signer": {"signing_key": b64(sender.info.signing_key),
                   "encryption_key": b64(sender.info.encryption_key),
                   "fingerprint": sender.info.fingerprint},
    }
    raw = canonical(manifest)
    stamp = datetime.fromisoformat(manifest["created"]).timetuple()[:6]
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in [(MANIFEST, raw), (SIGNATURE, sender.signing_private.sign(raw)),
                           *sorted(members.items())]:
            method = (zipfile.ZIP_STORED if name.endswith(_STORED_SUFFIXES) or name == SIGNATURE
                      else zipfile.ZIP_DEFLATED)
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data, compress_type=method)
    return out.getvalue(), manifest


def _frame(kind: str, sender: Sender, recipient: PublicKeyInfo, envelope: dict[str, Any],
           package_id: str) -> dict[str, Any]:
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind,
        "package_id": package_id, "created": _now(), "software": _software(),
        "sender": sender.unit(),
        "recipient": {"code": recipient.code, "name": recipient.name, "level": recipient.level,
                      "fingerprint": recipient.fingerprint},
        "encryption": envelope,
    }


def _encrypt(plaintext: bytes, sender: Sender, recipient: PublicKeyInfo, package_id: str
             ) -> tuple[bytes, dict[str, Any]]:
    targets = [(recipient.fingerprint, recipient.encryption_key)]
    if recipient.fingerprint != sender.info.fingerprint:
        targets.append((sender.info.fingerprint, sender.info.encryption_key))
    return encryption.encrypt(plaintext, targets, package_id.encode())


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
    ciphertext, envelope = _encrypt(jsonl(content.records), sender, recipient, package_id)
    members = {RECORDS: ciphertext, AUDIT: jsonl(content.audit), **content.attachments}
    inner_refs = []
    for ref, data in content.inner:
        members[ref["name"]] = data
        inner_refs.append(ref)
    manifest = {
        **_frame(KIND_REGISTRATION, sender, recipient, envelope, package_id),
        "sequence": content.sequence, "supersedes": content.supersedes,
        "form_set": content.form_set, "forms": content.forms,
        "record_count": len(content.records), "units": content.units,
        "inner": inner_refs, "record_digests": sorted(content.digests),
        "answers": content.answers,
    }
    data, manifest = assemble(manifest, members, sender)
    name = file_name(sender.info.code, content.form_set, manifest["created"], content.sequence)
    return Written(package_id, name, data, manifest)


def write_return(comments: list[dict[str, Any]], returned_package: str, sender: Sender,
                 recipient: PublicKeyInfo, form_set: str) -> Written:
    """A signed return file: comments on records of `returned_package`, for its sender."""
    package_id = str(uuid.uuid4())
    ciphertext, envelope = _encrypt(jsonl(comments), sender, recipient, package_id)
    manifest = {
        **_frame(KIND_RETURN, sender, recipient, envelope, package_id),
        "sequence": 0, "returns": returned_package, "form_set": form_set, "forms": [],
        "record_count": len(comments), "units": [], "inner": [], "record_digests": [],
        "answers": [],
    }
    data, manifest = assemble(manifest, {COMMENTS: ciphertext}, sender)
    day = manifest["created"][:10].replace("-", "")
    name = f"{_safe(recipient.code)}-{form_set}-{day}-退回-{package_id[:8]}{RETURN_SUFFIX}"
    return Written(package_id, name, data, manifest)


def inner_ref(name: str, package_id: str, sender_code: str, signer_fingerprint: str
              ) -> dict[str, Any]:
    """The manifest entry of an original package carried under inner/."""
    return {"name": name, "package_id": package_id, "sender_code": sender_code,
            "fingerprint": signer_fingerprint}


