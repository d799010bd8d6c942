"""Lookup values on PostgreSQL are keyed hashes (`Sealer.blind`): a hash read back and written
again stays itself, and nothing else passes through unhashed — also text typed to look like a
hash, which would otherwise be stored in clear and compared as if it were one."""

from __future__ import annotations

import os

import pytest

from desktop.storage.server.sealing import BLIND_SHAPE, Sealer


@pytest.fixture
def sealer() -> Sealer:
    return Sealer.from_key(os.urandom(32))


def test_a_hash_is_stable_and_hashing_it_again_changes_nothing(sealer):
    once = sealer.blind("13101201510123456")
    assert BLIND_SHAPE.fullmatch(once) and sealer.blind(once) == once
    assert sealer.blind("13101201510123456") == once != sealer.blind("13101201510123457")
    assert Sealer.from_key(os.urandom(32)).blind("13101201510123456") != once  # keyed


@pytest.mark.parametrize("typed", ["h1.", "h1.abc", "h1." + "A" * 40, "h1." + "0" * 39,
                                   "h1." + "0" * 41, " h1." + "0" * 40, "h1." + "0" * 40 + "\n",
                                   "H1." + "0" * 40])
def test_text_that_only_looks_like_a_hash_is_hashed(sealer, typed):
    stored = sealer.blind(typed)
    assert stored != typed and BLIND_SHAPE.fullmatch(stored)
