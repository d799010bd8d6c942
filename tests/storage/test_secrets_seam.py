"""storage/secrets.py, the one seam of a register's secrets and copies: the same contract on
both stores (a SQLCipher file and a PostgreSQL database) — no key at first, a new key the meta
names, a confirmation only of the current key, a wrong old passphrase changing nothing, a
passphrase change and a recovery that leave the register opening with the new passphrase
only, and whether the program restores a backup of it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from desktop.errors import KnownError, WrongPassphrase
from desktop.storage import AuditEntry, Register, Unit, crypto, open_register
from desktop.storage import recovery as slots
from desktop.storage.secrets import secrets_at, secrets_of
from tests.storage.conftest import FAST_KDF, PASSPHRASE

NEW = "换了的口令 Xin-Kouling 2026"
NEWER = "又换了的口令 Zai-Huan 2027"


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch):
    """An open after a recovery re-keys to DEFAULT_KDF when it is stronger: keep it cheap."""
    monkeypatch.setattr(crypto, "DEFAULT_KDF", FAST_KDF)


def entries(register: Register) -> int:
    with register.session() as session:
        return session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def reopened_unit_name(register: Register) -> str:
    with register.session() as session:
        return session.get(Unit, register.own_unit_id).name


def test_the_same_contract_on_both_stores(store_register: Register, tmp_path) -> None:
    register = store_register
    secrets = secrets_of(register)
    assert secrets.recovery() is None
    secret = secrets.new_recovery_key("测试员", "2026-12-07T05:00:00Z")
    state = secrets.recovery()
    assert (state.key_id, state.made_at, state.confirmed) == (
        slots.key_id(secret), "2026-12-07T05:00:00Z", False)
    before = entries(register)
    assert not secrets.confirm("00000000", "测试员") and entries(register) == before
    assert secrets.confirm(state.key_id, "测试员") and secrets_of(register).recovery().confirmed

    def never() -> None:
        raise AssertionError("the new passphrase is judged only after the old one is right")

    before = entries(register)
    with pytest.raises(WrongPassphrase, match="原口令不正确"):
        secrets.change_passphrase(PASSPHRASE + "x", NEW, FAST_KDF, "测试员", never)
    assert entries(register) == before
    with pytest.raises(KnownError, match="太弱"):
        secrets.change_passphrase(PASSPHRASE, NEW, FAST_KDF, "测试员",
                                  lambda: (_ for _ in ()).throw(KnownError("太弱")))
    assert entries(register) == before
    backup = secrets.change_passphrase(PASSPHRASE, NEW, FAST_KDF, "测试员", lambda: None)
    assert (backup is None) is (register.kind == "server")
    assert entries(register) == before + 1  # still open and usable, on the new key
    refusal = secrets.restore_refusal()
    assert (refusal is None) is (register.kind == "file")
    place = secrets.backup_place("manual")
    assert place.parent.name == "备份" and "manual" in place.name
    location = register.path
    register.close()
    with pytest.raises(WrongPassphrase):
        open_register(location, PASSPHRASE, kdf=FAST_KDF)

    unopened = secrets_at(str(location))
    assert unopened.problem(slots.key_text(secret)) is None
    assert "不是本登记库的恢复密钥" in unopened.problem(slots.key_text(slots.new_secret()))
    seen: list[tuple[str, str]] = []
    reopened, backup = unopened.recover(slots.key_text(secret), NEWER, FAST_KDF, "测试员",
                                        lambda name, code: seen.append((name, code)))
    with reopened:
        assert len(seen) == 1 and seen[0][0] == reopened_unit_name(reopened)
        assert (backup is None) is (reopened.kind == "server")
    for old in (PASSPHRASE, NEW):
        with pytest.raises(WrongPassphrase):
            open_register(location, old, kdf=FAST_KDF)
    with open_register(location, NEWER, kdf=FAST_KDF) as again, again.session() as session:
        actions = session.execute(select(AuditEntry.action).order_by(AuditEntry.seq)
                                  ).scalars().all()
    assert actions[-4:] == ["recovery.new", "recovery.confirm", "register.passphrase",
                            "register.recover"]
