"""Ed25519 signatures (from `cryptography`) over exact bytes."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def sign(private: Ed25519PrivateKey, data: bytes) -> bytes:
    """The 64-byte Ed25519 signature of `data`."""
    return private.sign(data)


def signature_ok(public_key: bytes, signature: bytes, data: bytes) -> bool:
    """Whether `signature` is `public_key`'s signature of exactly `data` (never raises)."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
