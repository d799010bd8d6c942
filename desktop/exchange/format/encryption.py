"""Encrypting a package's data for its recipients: X25519 + HKDF-SHA256 + AES-256-GCM.

The data is encrypted once with a random 256-bit content key (AES-GCM, a random 96-bit nonce,
the package id as associated data). For each recipient (the receiving unit and the sender
itself) the content key is wrapped: a fresh ephemeral X25519 key agrees a secret with the
recipient's X25519 public key, HKDF-SHA256 (salt = ephemeral public key + recipient public key)
turns it into a key-encryption key, and AES-GCM wraps the content key. Only `cryptography`'s
primitives are used; nothing here is a home-made cipher.

The envelope (scheme and one entry per recipient) sits in the signed manifest, so it cannot
be changed without breaking the signature.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from desktop.exchange.format.keys import b64, unb64

SCHEME = "x25519-hkdf-sha256-aes256gcm"
_INFO = b"dengji package content key v1"
_NONCE = 12


class DecryptionFailed(Exception):
    """The data cannot be decrypted with this key (not a recipient, or changed data)."""


def _x_public(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _kek(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=ephemeral + recipient, info=_INFO).derive(shared)


def encrypt(plaintext: bytes, recipients: list[tuple[str, bytes]], aad: bytes
            ) -> tuple[bytes, dict[str, Any]]:
    """Encrypt for every (fingerprint, X25519 public key) of `recipients`.

    Returns the ciphertext (nonce + AES-GCM output) and the envelope for the manifest.
    """
    key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(_NONCE)
    ciphertext = nonce + AESGCM(key).encrypt(nonce, plaintext, aad)
    entries = []
    for fp, public in recipients:
        ephemeral = X25519PrivateKey.generate()
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
        eph_public = _x_public(ephemeral)
        wrap_nonce = os.urandom(_NONCE)
        wrapped = wrap_nonce + AESGCM(_kek(shared, eph_public, public)).encrypt(
            wrap_nonce, key, aad)
        entries.append({"fingerprint": fp, "x25519": b64(public), "ephemeral": b64(eph_public),
                        "wrapped_key": b64(wrapped)})
    return ciphertext, {"scheme": SCHEME, "recipients": entries}


def _ring(private: X25519PrivateKey | Sequence[X25519PrivateKey], envelope: dict[str, Any]
          ) -> X25519PrivateKey:
    """The key of a ring (a unit's keys after rotations: trust.own_decrypt_keys) that the
    envelope is for, else the first one."""
    if isinstance(private, X25519PrivateKey):
        return private
    listed = {e.get("x25519") for e in envelope.get("recipients", ())}
    return next((k for k in private if b64(_x_public(k)) in listed), private[0])


def can_decrypt(envelope: dict[str, Any],
                private: X25519PrivateKey | Sequence[X25519PrivateKey]) -> bool:
    """Whether `private` (or one key of a ring) is one of the envelope's recipients."""
    own = b64(_x_public(_ring(private, envelope)))
    return any(e.get("x25519") == own for e in envelope.get("recipients", ()))


def decrypt(ciphertext: bytes, envelope: dict[str, Any],
            private: X25519PrivateKey | Sequence[X25519PrivateKey], aad: bytes) -> bytes:
    """Decrypt with the entry of the envelope that is for `private`'s public key (or the
    public key of the ring's key it is for)."""
    private = _ring(private, envelope)
    own = _x_public(private)
    for entry in envelope.get("recipients", ()):
        if unb64(entry.get("x25519"), 32) != own:
            continue
        ephemeral = unb64(entry.get("ephemeral"), 32)
        wrapped = unb64(entry.get("wrapped_key"))
        if ephemeral is None or wrapped is None or len(wrapped) <= _NONCE:
            raise DecryptionFailed("wrapped key is malformed")
        try:
            shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral))
            kek = _kek(shared, ephemeral, own)
            key = AESGCM(kek).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], aad)
            if len(ciphertext) <= _NONCE:
                raise DecryptionFailed("ciphertext too short")
            return AESGCM(key).decrypt(ciphertext[:_NONCE], ciphertext[_NONCE:], aad)
        except (InvalidTag, ValueError) as err:
            raise DecryptionFailed(str(err) or "authentication failed") from err
    raise DecryptionFailed("not a recipient")
