"""The data key of a PostgreSQL register, wrapped by a key derived from its passphrase.

What `meta` holds (nothing else of the keys is stored):

- ``server.kdf``: JSON ``{"salt": hex, "n": …, "r": …, "p": …}``: scrypt's parameters and salt
  (storage/crypto.py's KDF, the same one a SQLCipher file's key comes from);
- ``server.dek``: hex of nonce + AES-GCM(KEK, DEK): the random 32-byte data key that seals the
  personal columns (sealing.py), wrapped by the key derived from the passphrase;
- ``server.hash_secret``: hex of nonce + AES-GCM(DEK, secret): the keyed-hash secret of the
  record_key lookups (Register.key_hash), never stored in clear.

A wrong passphrase fails the DEK's tag (`WrongKey`); a DEK that opens while the hash secret
does not, or facts that are missing or malformed, mean a damaged register (`DamagedKeys`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from desktop.storage import crypto
from desktop.storage.crypto import KdfParams

KDF_KEY, DEK_KEY, SECRET_KEY = "server.kdf", "server.dek", "server.hash_secret"
META_KEYS = (KDF_KEY, DEK_KEY, SECRET_KEY)
_DEK_AAD, _SECRET_AAD = b"dengji-dek-1", b"dengji-hash-secret-1"
_NONCE = 12


class WrongKey(Exception):
    """The passphrase does not unwrap the data key."""


class DamagedKeys(Exception):
    """The key facts in `meta` are missing, malformed or do not fit together."""


@dataclass(frozen=True)
class DataKeys:
    """What an open register holds in memory: the data key and the keyed-hash secret."""

    dek: bytes
    hash_secret: bytes


def _wrap(key: bytes, plain: bytes, aad: bytes) -> str:
    nonce = os.urandom(_NONCE)
    return (nonce + AESGCM(key).encrypt(nonce, plain, aad)).hex()


def _unwrap(key: bytes, stored: str, aad: bytes) -> bytes:
    raw = bytes.fromhex(stored)
    return AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], aad)


def new_keys(passphrase: str, kdf: KdfParams) -> tuple[DataKeys, dict[str, str]]:
    """Fresh keys for a new register and the `meta` facts that keep them."""
    keys = DataKeys(os.urandom(32), os.urandom(32))
    return keys, wrapped_facts(keys, passphrase, kdf)


def wrapped_facts(keys: DataKeys, passphrase: str, kdf: KdfParams) -> dict[str, str]:
    """The `meta` facts of `keys` under `passphrase` (a new salt each time)."""
    salt = crypto.new_salt(kdf)
    kek = crypto.derive_key(passphrase, salt, kdf)
    return {
        KDF_KEY: json.dumps({"salt": salt.hex(), "n": kdf.n, "r": kdf.r, "p": kdf.p}),
        DEK_KEY: _wrap(kek, keys.dek, _DEK_AAD),
        SECRET_KEY: _wrap(keys.dek, keys.hash_secret, _SECRET_AAD),
    }


def stored_kdf(facts: dict[str, str]) -> tuple[bytes, KdfParams]:
    """The salt and parameters `meta` records (DamagedKeys when they are not usable)."""
    try:
        kdf = json.loads(facts[KDF_KEY])
        salt = bytes.fromhex(kdf["salt"])
        params = KdfParams(n=int(kdf["n"]), r=int(kdf["r"]), p=int(kdf["p"]))
    except (KeyError, TypeError, ValueError) as err:
        raise DamagedKeys("no usable key derivation facts") from err
    # a stored salt records its own parameters (crypto.new_salt): both must agree, so a
    # tampered row cannot ask for hours of work or gigabytes of memory
    if len(salt) != crypto.SALT_BYTES or crypto.kdf_for_salt(salt) != params:
        raise DamagedKeys("key derivation facts do not agree")
    return salt, params


def unlock(passphrase: str, facts: dict[str, str]) -> tuple[DataKeys, KdfParams]:
    """The keys `meta` holds, opened with `passphrase`, and the parameters used."""
    salt, kdf = stored_kdf(facts)
    kek = crypto.derive_key(passphrase, salt, kdf)
    try:
        dek = _unwrap(kek, facts[DEK_KEY], _DEK_AAD)
    except InvalidTag as err:
        raise WrongKey from err
    except (KeyError, ValueError) as err:
        raise DamagedKeys("the wrapped data key is missing or malformed") from err
    try:
        secret = _unwrap(dek, facts[SECRET_KEY], _SECRET_AAD)
    except (KeyError, ValueError, InvalidTag) as err:
        raise DamagedKeys("the keyed-hash secret does not open with the data key") from err
    if len(dek) != 32 or len(secret) != 32:
        raise DamagedKeys("keys of the wrong length")
    return DataKeys(dek, secret), kdf
