"""The own unit's key pairs and the register's keyed hashes, on both stores (a SQLCipher file
and a PostgreSQL database)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlmodel import select

from desktop.storage import (
    KEY_ENCRYPTION,
    KEY_SIGNING,
    Register,
    UnitInfo,
    UnitKey,
    open_register,
    own_keys,
)
from tests.storage.conftest import FAST_KDF, PASSPHRASE

ID_NUMBER = "11010519491231002X"


@pytest.fixture
def register(store_register: Register) -> Register:
    """These tests hold on both stores: a SQLCipher file and a PostgreSQL database."""
    return store_register


def test_key_pairs_exist_and_load(register: Register) -> None:
    with register.session() as session:
        rows = {k.kind: k for k in session.exec(select(UnitKey))}
        signing, encryption = own_keys(session, register.own_unit_id)
    assert set(rows) == {KEY_SIGNING, KEY_ENCRYPTION}
    assert all(k.unit_id == register.own_unit_id and len(k.public_key) == 32 for k in rows.values())
    assert all(len(k.private_key) == 32 for k in rows.values())

    public = Ed25519PublicKey.from_public_bytes(rows[KEY_SIGNING].public_key)
    public.verify(signing.sign(b"manifest"), b"manifest")  # raises if the pair does not match

    peer = X25519PrivateKey.generate()
    shared = encryption.exchange(peer.public_key())
    peer_shared = peer.exchange(X25519PublicKey.from_public_bytes(rows[KEY_ENCRYPTION].public_key))
    assert shared == peer_shared
    assert encryption.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) == rows[
        KEY_ENCRYPTION].public_key


def test_person_hash_is_stable_across_reopen(register: Register) -> None:
    before = register.person_hash(ID_NUMBER)
    register.close()
    with open_register(register.path, PASSPHRASE, kdf=FAST_KDF) as reopened:
        assert reopened.person_hash(ID_NUMBER) == before
    assert len(before) == 32 and int(before, 16) >= 0


def test_person_hash_differs_between_registers(make_store_register) -> None:
    first = make_store_register()
    second = make_store_register("two.dengji", unit=UnitInfo(code="B", name="乙所", level="firm"))
    assert first.person_hash(ID_NUMBER) != second.person_hash(ID_NUMBER)


def test_person_hash_is_the_person_key_hash(register: Register) -> None:
    assert register.person_hash(ID_NUMBER) == register.key_hash("person", ID_NUMBER)
    assert register.key_hash("licence", ID_NUMBER) != register.person_hash(ID_NUMBER)
    assert register.person_hash(ID_NUMBER) != register.person_hash(ID_NUMBER.lower())


def test_repr_does_not_leak_the_secret(register: Register) -> None:
    assert repr(register) == f"Register({str(register.path)!r})"
