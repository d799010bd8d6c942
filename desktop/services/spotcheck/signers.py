"""Who signed a unit's records (追责): the key that signed the unit's own package, found
through the accepted package that carried it, at any depth.

A received package is opened with the own key; every package it carries names its sender and
the fingerprint of its signer in the carrier's signed inner list (exchange/format/provenance.py
reads the same list), so a firm's key is known at the national level too, where the firm's own
package (encrypted for the city) cannot be opened: the city's manifest, which can, names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from desktop.exchange.format.errors import PackageRefused
from desktop.exchange.format.manifest import MANIFEST, ManifestError, member_allowed, parse_manifest
from desktop.exchange.format.payload import open_payload
from desktop.exchange.format.zipcheck import read_members

MAX_DEPTH = 6
Ring = X25519PrivateKey | Sequence[X25519PrivateKey]


@dataclass
class Signers:
    """unit code → the fingerprints that signed its packages in one received package's tree,
    and the names of the units whose packages carried it (outermost last)."""

    keys: dict[str, set[str]] = field(default_factory=dict)
    routes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, code: str, fingerprint: str, route: tuple[str, ...]) -> None:
        self.keys.setdefault(code, set()).add(fingerprint)
        self.routes.setdefault(code, route)

    def of(self, code: str) -> tuple[tuple[str, ...], str]:
        """(fingerprints, route text) of a unit ("（未知）" when the tree does not name it)."""
        route = self.routes.get(code)
        if route is None:
            return (), "（数据包中未找到）"
        text = "直接报送" if not route else "经 " + " → ".join(route) + " 转报"
        return tuple(sorted(self.keys.get(code, ()))), text


def package_signers(content: bytes, source: str, key: Ring | None) -> Signers:
    """The signers of a stored (already verified) package and of every package it carries;
    `key` is the own decryption key, or the ring of them (the keys of before a rotation)."""
    out = Signers()
    _walk(content, source, key, (), out, 0)
    return out


def _walk(data: bytes, source: str, key: Ring | None, route: tuple[str, ...],
          out: Signers, depth: int) -> None:
    try:
        members = read_members(data, source, member_allowed)
        manifest = parse_manifest(members[MANIFEST])
    except (PackageRefused, ManifestError, KeyError):
        return
    out.add(manifest.sender.code, manifest.signer_fingerprint, route)
    below = (manifest.sender.name, *route)
    for ref in manifest.inner:
        out.add(ref.sender_code, ref.fingerprint, below)
    if not manifest.inner or depth + 1 >= MAX_DEPTH:
        return
    if manifest.sealed:
        if key is None:
            return
        opened = open_payload(members, manifest, key, source)  # type: ignore[arg-type]
        if opened.members is None:
            return
        members = opened.members
    for ref in manifest.inner:
        inner = members.get(ref.name)
        if inner is not None:  # its own tree; only the outermost package opens with our key
            _walk(inner, ref.name, None, below, out, depth + 1)
