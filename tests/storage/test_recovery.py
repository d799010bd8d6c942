"""The recovery key (storage/recovery.py, services/secrets.py), written as attacks and as a
clumsy clerk types: every mistyped position is named, a key of another register, a voided key,
a side file of another register, tampered or truncated, a wrong old passphrase and a weak new
one — each refused with the file's bytes unchanged; and what works: a passphrase change keeps
the recovery key, a recovery sets a new passphrase, a new key voids the old one in the backups
too, a missing or stale side file is rewritten at the next open.

File only: the key's slots live in the side file beside the register file and in its backups.
The same use cases on a PostgreSQL register (the data key wrapped under the recovery key in
`meta`) are tests/pg/test_secrets_pg.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.errors import KnownError, WrongPassphrase
from desktop.services import secrets
from desktop.storage import AuditEntry, Meta, crypto, open_register, verify_audit_chain
from desktop.storage import recovery as slots
from desktop.storage.backup import backup_register, restore_register
from desktop.storage.files import list_backups
from tests.storage.conftest import FAST_KDF, PASSPHRASE

NEW = "海棠花开的小院子 Garden-2031"
THIRD = "秋天的银杏大道 Ginkgo-Lane-77"


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch):
    """A re-key derives with DEFAULT_KDF (read at call time): cheap here."""
    monkeypatch.setattr(crypto, "DEFAULT_KDF", FAST_KDF)


@pytest.fixture
def keyed(register):
    return register, secrets.make_recovery_key(register, "测试员")


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
            and not p.name.endswith((".lock", "-shm", "-wal"))}


def actions(register) -> list[str]:
    with register.session() as s:
        assert verify_audit_chain(s).ok
        return [a.action for a in s.execute(select(AuditEntry).order_by(AuditEntry.seq))
                .scalars()]


# --- the key as typed ------------------------------------------------------------------------

def test_the_key_is_16_groups_of_6_digits_each_a_multiple_of_11() -> None:
    for _ in range(50):
        secret = slots.new_secret()
        text = slots.key_text(secret)
        groups = text.split("-")
        assert len(groups) == 16 and all(len(g) == 6 and int(g) % 11 == 0 for g in groups)
        assert slots.parse_key(text) == secret
        assert slots.parse_key(text.replace("-", " ")) == secret
        assert slots.parse_key(text.replace("-", "")) == secret  # 96 digits in a row
        full_width = text.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
        assert slots.parse_key(f"  {full_width}\n") == secret
        assert slots.parse_key(text.replace("-", " — ")) == secret
    assert slots.key_text(b"\xff" * 32).split("-")[0] == "720885"  # 65535 × 11


def test_every_mistyped_digit_and_every_swap_is_named_by_its_group() -> None:
    text = slots.key_text(slots.new_secret())
    groups = text.split("-")
    for g in range(16):
        for pos in range(6):
            for digit in "0123456789":
                if groups[g][pos] == digit:
                    continue
                wrong = groups[g][:pos] + digit + groups[g][pos + 1:]
                typed = "-".join([*groups[:g], wrong, *groups[g + 1:]])
                with pytest.raises(slots.RecoveryKeyError) as err:
                    slots.parse_key(typed)
                assert err.value.group == g + 1 and f"第 {g + 1} 组输入有误" in str(err.value)
        for pos in range(5):  # two neighbouring digits swapped
            a, b = groups[g][pos], groups[g][pos + 1]
            if a == b:
                continue
            swapped = groups[g][:pos] + b + a + groups[g][pos + 2:]
            with pytest.raises(slots.RecoveryKeyError) as err:
                slots.parse_key("-".join([*groups[:g], swapped, *groups[g + 1:]]))
            assert err.value.group == g + 1


@pytest.mark.parametrize(("typed", "words"), [
    ("", "没有输入恢复密钥"),
    ("123456", "16 组"),
    ("000000-" * 15, "16 组"),  # 15 groups
    ("000000-" * 16 + "000000", "16 组"),  # 17
    ("000000-00000-" + "000000-" * 13 + "000000", "第 2 组输入有误（有 5 位数字"),
    ("000000-0000O0-" + "000000-" * 13 + "000000", "第 2 组输入有误（含有数字以外的字符"),
    ("720896-" + "000000-" * 14 + "000000", "第 1 组输入有误"),  # 65536 × 11: too big
])
def test_malformed_keys_say_what_is_wrong(typed: str, words: str) -> None:
    with pytest.raises(slots.RecoveryKeyError, match=words):
        slots.parse_key(typed)


# --- making a key, and opening with it --------------------------------------------------------

def test_a_register_without_a_key_says_so_and_gets_no_side_file(register) -> None:
    state = secrets.recovery_state(register)
    assert (state.has_key, state.key_id, state.made_at, state.confirmed) == (False, None, None,
                                                                             False)
    path = register.path
    register.close()
    with open_register(path, PASSPHRASE):
        pass
    assert not slots.side_path(path).exists()
    assert "没有恢复密钥文件" in secrets.recovery_problem(path, slots.key_text(bytes(32)))


def test_a_new_key_opens_the_register_and_nothing_secret_is_in_the_side_file(keyed) -> None:
    register, key = keyed
    state = secrets.recovery_state(register)
    assert state.has_key and state.key_id == key.key_id and not state.confirmed
    assert state.made_at == key.made_at and key.made_at.tzinfo is not None
    assert key.unit_name == "上海市明德律师事务所党支部" and key.unit_code == "31110000MD0123456X"
    assert len(key.key_id) == 8 and key.key_id == key.key_id.upper()
    side = slots.side_path(register.path).read_bytes()
    db_key, _ = slots.split_literal(register.key_literal)
    secret = slots.parse_key(key.text)
    for leak in (db_key, db_key.hex().encode(), secret, secret.hex().encode(),
                 key.text.encode(), slots.kek(secret).hex().encode()):
        assert leak not in side
    assert secrets.recovery_problem(register.path, key.text) is None
    literal, _ = slots.unlock(register.path, key.text)
    assert literal == register.key_literal
    assert "recovery.new" in actions(register)
    with register.session() as s:  # the audit log holds the key id, never the key
        details = " ".join(a.detail for a in s.execute(select(AuditEntry)).scalars())
    assert key.key_id in details and key.text not in details and secret.hex() not in details
    secrets.confirm_recovery_saved(register, key.key_id.lower(), "测试员")
    assert secrets.recovery_state(register).confirmed
    with pytest.raises(KnownError, match="不是本登记库当前的恢复密钥"):
        secrets.confirm_recovery_saved(register, "00000000", "测试员")


def test_a_key_of_another_register_a_voided_key_and_bad_side_files(make_register, keyed
                                                                  ) -> None:
    register, key = keyed
    other = make_register("other.dengji")
    other_key = secrets.make_recovery_key(other, "测试员")
    path = register.path
    assert "这不是本登记库的恢复密钥" in secrets.recovery_problem(path, other_key.text)
    newer = secrets.make_recovery_key(register, "测试员")
    voided = secrets.recovery_problem(path, key.text)
    assert "已被" in voided and newer.made_at.strftime("%Y-%m-%d") in voided
    assert secrets.recovery_problem(path, newer.text) is None
    side = slots.side_path(path)
    good = side.read_bytes()
    register.close()

    shutil.copyfile(slots.side_path(other.path), side)  # the other register's side file
    assert "这不是本登记库的恢复密钥" in secrets.recovery_problem(path, newer.text)
    assert "不属于这个登记库文件" in secrets.recovery_problem(path, other_key.text)
    side.write_bytes(good + b" " * 70_000)  # padded beyond what a side file holds
    assert "已损坏或不完整" in secrets.recovery_problem(path, newer.text)
    side.write_bytes(good[: len(good) // 2])  # truncated
    assert "已损坏或不完整" in secrets.recovery_problem(path, newer.text)
    data = json.loads(good)
    [salt] = data["keys"][0]["slots"]
    slot = bytearray(bytes.fromhex(data["keys"][0]["slots"][salt]))
    slot[20] ^= 1  # one bit of the wrapped key flipped
    data["keys"][0]["slots"][salt] = slot.hex()
    side.write_text(json.dumps(data))
    assert "已被改动或损坏" in secrets.recovery_problem(path, newer.text)
    data["keys"][0]["key_id"] = key.key_id  # relabelled as the voided key
    side.write_text(json.dumps(data))
    assert "这不是本登记库的恢复密钥" in secrets.recovery_problem(path, newer.text)
    side.unlink()
    assert "没有恢复密钥文件" in secrets.recovery_problem(path, newer.text)
    before = files(path.parent)
    with pytest.raises(slots.RecoveryKeyError):
        secrets.recover(path, newer.text, NEW, "测试员")
    assert files(path.parent) == before
    with open_register(path, PASSPHRASE):  # the passphrase heals the side file
        pass
    assert secrets.recovery_problem(path, newer.text) is None


# --- changing the passphrase -----------------------------------------------------------------

def test_a_wrong_old_or_weak_new_passphrase_changes_nothing(keyed) -> None:
    register, key = keyed
    folder = register.path.parent
    register.engine.dispose()
    before = files(folder)
    for old, new, words in [(PASSPHRASE + "x", NEW, "原口令不正确"),
                            (PASSPHRASE, "12345678", "新口令不能使用"),
                            (PASSPHRASE, "password", "新口令不能使用"),
                            (PASSPHRASE, "明德律师事务所 上海市明德律师事务所党支部", "新口令不能使用"),
                            (PASSPHRASE, PASSPHRASE, "相同")]:
        with pytest.raises(KnownError, match=words) as err:
            secrets.change_passphrase(register, old, new, "测试员")
        assert isinstance(err.value, WrongPassphrase) == ("原口令" in words)
        register.engine.dispose()
        assert files(folder) == before
    assert list_backups(register.path) == []
    assert secrets.recovery_state(register).key_id == key.key_id  # still open, still usable


def test_a_passphrase_change_keeps_the_recovery_key_and_the_register_open(keyed) -> None:
    register, key = keyed
    path = register.path
    old_salt = crypto.read_header(path)[:16]
    done = secrets.change_passphrase(register, PASSPHRASE, NEW, "测试员")
    assert done.recovery is None and done.backup.parent.name == "备份"
    assert crypto.read_header(path)[:16] != old_salt
    assert actions(register)[-1] == "register.passphrase"  # the same object, on the new key
    with register.session() as s:
        detail = s.execute(select(AuditEntry.detail).order_by(AuditEntry.seq.desc())).first()[0]
    assert PASSPHRASE not in detail and NEW not in detail
    side = json.loads(slots.side_path(path).read_text())
    assert list(side["keys"][0]["slots"]) == [crypto.read_header(path)[:16].hex()]  # old gone
    assert secrets.recovery_problem(path, key.text) is None
    # the backup opens with the old passphrase, and with the recovery key through its own slot
    with open_register(done.backup, PASSPHRASE, rekey=False):
        pass
    assert secrets.recovery_problem(done.backup, key.text) is None
    register.close()
    with pytest.raises(WrongPassphrase):
        open_register(path, PASSPHRASE)
    with open_register(path, NEW) as reg:
        # a backup from before the change restores: its key comes from its recovery slot
        restore_register(reg, done.backup, actor="测试员")
        assert actions(reg)[-1] == "restore"
        assert secrets.recovery_state(reg).key_id == key.key_id
    with open_register(path, NEW):
        pass


def test_a_change_with_a_new_recovery_key_voids_the_old_one(keyed) -> None:
    register, key = keyed
    done = secrets.change_passphrase(register, PASSPHRASE, NEW, "测试员", new_recovery=True)
    assert done.recovery is not None and done.recovery.key_id != key.key_id
    assert actions(register)[-2:] == ["register.passphrase", "recovery.new"]
    assert "已被" in secrets.recovery_problem(register.path, key.text)
    assert secrets.recovery_problem(register.path, done.recovery.text) is None
    assert "已被" in secrets.recovery_problem(done.backup, key.text)  # the backup follows
    assert secrets.recovery_problem(done.backup, done.recovery.text) is None


# --- recovering ------------------------------------------------------------------------------

def test_recover_sets_a_new_passphrase_and_returns_the_register_open(keyed) -> None:
    register, key = keyed
    path = register.path
    register.close()
    typed = " ".join(key.text.split("-"))  # as a clerk types it
    before = files(path.parent)
    with pytest.raises(KnownError, match="口令太短"):
        secrets.recover(path, typed, "short1", "测试员")
    assert files(path.parent) == before
    done = secrets.recover(path, typed, NEW, "测试员")
    with done.register as reg:
        assert actions(reg)[-1] == "register.recover"
        assert secrets.recovery_state(reg).key_id == key.key_id
        with reg.session() as s:
            kept = {m.key for m in s.execute(select(Meta)).scalars()}
        assert slots.META_KEK in kept
    with pytest.raises(WrongPassphrase):
        open_register(path, PASSPHRASE)
    with open_register(path, NEW, rekey=False):
        pass
    assert secrets.recovery_problem(path, key.text) is None  # the key keeps working
    assert secrets.recovery_problem(done.backup, key.text) is None
    with secrets.recover(path, key.text, THIRD, "测试员").register:
        pass
    with open_register(path, THIRD):
        pass


def test_a_restored_backup_does_not_bring_back_a_voided_key(keyed) -> None:
    register, key = keyed
    backup = backup_register(register, register.path.parent / "manual.dengji")
    assert secrets.recovery_problem(backup.path, key.text) is None  # it carries its slot
    newer = secrets.make_recovery_key(register, "测试员")
    # a backup the clerk keeps elsewhere (not in 备份) keeps the key it was made with
    assert secrets.recovery_problem(backup.path, key.text) is None
    restore_register(register, backup.path, actor="测试员")
    assert secrets.recovery_state(register).key_id == newer.key_id
    path = register.path
    register.close()
    with open_register(path, PASSPHRASE):  # heal must keep the newer key
        pass
    assert "已被" in secrets.recovery_problem(path, key.text)
    assert secrets.recovery_problem(path, newer.text) is None


def test_a_missing_or_stale_side_file_is_rewritten_at_the_next_open(keyed) -> None:
    register, key = keyed
    path = register.path
    side = slots.side_path(path)
    stale = side.read_bytes()
    newer = secrets.make_recovery_key(register, "测试员")
    register.close()
    side.write_bytes(stale)  # an old copy put back
    assert secrets.recovery_problem(path, key.text) is None  # (what a stale file does)
    with open_register(path, PASSPHRASE):
        pass
    assert "已被" in secrets.recovery_problem(path, key.text)
    assert secrets.recovery_problem(path, newer.text) is None
    side.unlink()
    with open_register(path, PASSPHRASE):
        pass
    assert secrets.recovery_problem(path, newer.text) is None
    mtime = side.stat().st_mtime_ns
    with open_register(path, PASSPHRASE):  # nothing to do: not rewritten
        pass
    assert side.stat().st_mtime_ns == mtime


def test_a_weaker_register_rekeyed_at_open_keeps_its_recovery_slot(keyed, monkeypatch) -> None:
    register, key = keyed
    path = register.path
    register.close()
    stronger = crypto.KdfParams(n=2**11, r=8, p=1)
    with open_register(path, PASSPHRASE, kdf=stronger):
        [backup] = list_backups(path)
    assert crypto.kdf_for_salt(crypto.read_header(path)[:16]) == stronger
    assert secrets.recovery_problem(path, key.text) is None
    assert secrets.recovery_problem(backup, key.text) is None


def test_an_older_copy_of_the_register_put_back_by_hand_does_not_revive_a_voided_key(keyed
                                                                                     ) -> None:
    register, key = keyed
    path = register.path
    register.engine.dispose()
    older = path.read_bytes()  # the file as it was, with the first key in its meta
    newer = secrets.make_recovery_key(register, "测试员")
    register.close()
    path.write_bytes(older)
    with open_register(path, PASSPHRASE) as reg:
        assert secrets.recovery_state(reg).key_id == key.key_id  # what the old file says
    assert "已被" in secrets.recovery_problem(path, key.text)
    assert secrets.recovery_problem(path, newer.text) is None  # same salt: the newer slot fits
