"""Taking packages of either format apart and putting them back, for the tests.

- `open_members(data, register)`: the members the reader checks (version 2: the outer
  manifest and signature with the payload's members, decrypted with `register`'s key).
- `reseal(data, register, ...)`: a version 2 package with members replaced or removed and its
  manifest changed, re-encrypted for the same recipients and re-signed with `register`'s key
  (a consistent forgery by whoever holds that key).
- `to_v1(data, register)`: the same package in the version 1 layout (members side by side,
  only the data encrypted), signed by `register`: what the software wrote before version 2,
  so the old format's reading stays tested.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable

from desktop.exchange.format import encryption, payload
from desktop.exchange.format.keys import b64
from desktop.exchange.format.manifest import (
    CHANGES,
    COMMENTS,
    KEY_STATEMENT_ENTRIES,
    PAYLOAD,
    PLAIN_COMMENTS,
    PLAIN_RECORDS,
    RECORDS,
    canonical,
)
from desktop.exchange.trust import own_sender
from desktop.storage import Register


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def manifest_of(data: bytes) -> dict:
    return json.loads(unzip(data)["manifest.json"])


def version(data: bytes) -> int:
    return manifest_of(data)["format_version"]


def keys_of(register: Register):
    """(Sender, X25519 private key) of `register`'s own unit."""
    with register.session() as session:
        return own_sender(session, register)


def open_payload(data: bytes, register: Register) -> dict[str, bytes]:
    """The members inside a version 2 package's payload, decrypted with `register`'s key."""
    parts = unzip(data)
    manifest = json.loads(parts["manifest.json"])
    _, x = keys_of(register)
    plain = encryption.decrypt(parts[PAYLOAD], manifest["encryption"], x,
                               payload.aad(manifest["package_id"]))
    return unzip(plain)


def open_members(data: bytes, register: Register) -> dict[str, bytes]:
    """The members the reader checks, of either version."""
    parts = unzip(data)
    if json.loads(parts["manifest.json"])["format_version"] < 2:
        return parts
    return {"manifest.json": parts["manifest.json"], "manifest.sig": parts["manifest.sig"],
            **open_payload(data, register)}


def data_lines(data: bytes, register: Register) -> list[dict]:
    """The record (or comment) lines of a package of either version."""
    parts = unzip(data)
    manifest = json.loads(parts["manifest.json"])
    if manifest["format_version"] >= 2:
        inside = open_payload(data, register)
        plain = inside.get(PLAIN_RECORDS, inside.get(PLAIN_COMMENTS))
    else:
        _, x = keys_of(register)
        plain = encryption.decrypt(parts.get(RECORDS, parts.get(COMMENTS)),
                                   manifest["encryption"], x, manifest["package_id"].encode())
    return [json.loads(line) for line in plain.splitlines()]


def _recipients(manifest: dict) -> list[tuple[str, bytes]]:
    return [(r["fingerprint"], base64.b64decode(r["x25519"]))
            for r in manifest["encryption"]["recipients"]]


def _digest(content: bytes) -> dict:
    return {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}


def _signed(manifest: dict, register: Register) -> tuple[bytes, bytes]:
    sender, _ = keys_of(register)
    manifest["signer"] = {"signing_key": b64(sender.info.signing_key),
                          "encryption_key": b64(sender.info.encryption_key),
                          "fingerprint": sender.info.fingerprint}
    raw = canonical(manifest)
    return raw, sender.signing_private.sign(raw)


def zipped(members: Iterable[tuple[str, bytes]]) -> bytes:
    """A zip as the writer makes one (stored or deflated by kind), in the given order."""
    return payload.zip_members(list(members), (2026, 1, 1, 0, 0, 0))


def reseal(data: bytes, register: Register, change: Callable[[dict], None] | None = None,
           members: dict[str, bytes] | None = None, remove: Iterable[str] = (),
           reader: Register | None = None, rehash: bool = True, sign: bool = True) -> bytes:
    """A version 2 package re-sealed and re-signed by `register` (see the module docstring).

    `reader` (default `register`) decrypts the payload when members change; `rehash=False`
    keeps the manifest's member list as it was (the signer lies about the contents);
    `sign=False` keeps the manifest and its signature as they were (only the payload is
    swapped, as by someone who cannot sign)."""
    parts = unzip(data)
    manifest = json.loads(parts["manifest.json"])
    if members or remove:
        inside = open_payload(data, reader or register)
        inside.update(members or {})
        for name in remove:
            inside.pop(name, None)
        plain = zipped(sorted(inside.items()))
        sealed, envelope = encryption.encrypt(plain, _recipients(manifest),
                                              payload.aad(manifest["package_id"]))
        if rehash:
            manifest["members"] = {n: _digest(c) for n, c in sorted(inside.items())}
        manifest["encryption"] = envelope
        manifest["payload"] = {"name": PAYLOAD, **_digest(sealed)}
        parts[PAYLOAD] = sealed
    if change:
        change(manifest)
    raw, sig = _signed(manifest, register) if sign else (parts["manifest.json"],
                                                         parts["manifest.sig"])
    return zipped([("manifest.json", raw), ("manifest.sig", sig),
                   *((n, c) for n, c in parts.items() if n not in ("manifest.json",
                                                                   "manifest.sig"))])


def to_v2(data: bytes, register: Register) -> bytes:
    """A package written by the software (version 3), as version 2 wrote it: the same payload
    without the change summary, no key statements in the manifest, format_version 2; re-sealed
    and signed by `register` (its sender)."""
    assert manifest_of(data)["format_version"] == 3

    def older(manifest: dict) -> None:
        manifest["format_version"] = 2
        for entry in KEY_STATEMENT_ENTRIES:
            manifest.pop(entry, None)

    return reseal(data, register, older, remove=[CHANGES])


def to_v1(data: bytes, register: Register) -> bytes:
    """A version 2 package or return file written by the software, in the version 1 layout,
    signed by `register` (its sender): the data encrypted alone for the same recipients, the
    other members in the clear beside it, format_version 1 and no payload."""
    manifest = manifest_of(data)
    assert manifest["format_version"] == 3
    inside = open_payload(data, register)
    inside.pop(CHANGES, None)  # what versions 1 and 2 did not have
    for entry in KEY_STATEMENT_ENTRIES:
        manifest.pop(entry, None)
    plain_name = PLAIN_COMMENTS if manifest["kind"] == "return" else PLAIN_RECORDS
    ciphertext, envelope = encryption.encrypt(inside.pop(plain_name), _recipients(manifest),
                                              manifest["package_id"].encode())
    inside[COMMENTS if manifest["kind"] == "return" else RECORDS] = ciphertext
    manifest.update(format_version=1, encryption=envelope,
                    members={n: _digest(c) for n, c in sorted(inside.items())})
    del manifest["payload"]
    raw, sig = _signed(manifest, register)
    return zipped([("manifest.json", raw), ("manifest.sig", sig), *sorted(inside.items())])
