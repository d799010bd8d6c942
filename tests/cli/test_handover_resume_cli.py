"""Every command's open (commands/common.open_db) settles a handover a kill interrupted, on
both stores: with the incoming clerk's passphrase it is finished (经办人, audit entry) and the
clerk is told to print a new recovery key; with the outgoing one it is dropped, said."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desktop.errors import KnownError
from desktop.services import handover
from desktop.services.secrets import make_recovery_key
from desktop.services.unit import save_unit_profile
from desktop.storage import AuditEntry, Meta, open_register
from tests.conftest import PASSPHRASE

NEW = "海棠花开的小院子 Garden-2031"


def actions(db, passphrase: str) -> list[str]:
    with open_register(db, passphrase) as reg, reg.session() as session:
        return list(session.execute(select(AuditEntry.action).order_by(AuditEntry.seq))
                    .scalars())


def test_an_interrupted_handover_is_finished_by_the_next_command(dengji, db, monkeypatch):
    with open_register(db, PASSPHRASE) as reg:
        make_recovery_key(reg, "张三")
        save_unit_profile(reg, "张三", {"handler": "张三"})
        real_change = handover.change_passphrase
        monkeypatch.setattr(handover, "change_passphrase", lambda *a, **k: real_change(
            *a, **{**k, "new_recovery": False}))  # cut short before the new recovery key
        with pytest.raises(KnownError):
            handover.hand_over(reg, PASSPHRASE, NEW, "张三", "李四", "张三")
    monkeypatch.setenv("DENGJI_PASSPHRASE", NEW)
    result = dengji("unit", "--db", db)
    assert result.code == 0
    assert "上次的移交（张三 → 李四）在更换口令之后中断，现已完成" in result.err
    assert "dengji recovery-key" in result.err and "经办人：李四" in result.out
    again = dengji("unit", "--db", db)
    assert "移交" not in again.err
    done = actions(db, NEW)
    assert done.count(handover.ACTION) == 1 and "recovery.new" in done[-4:]


def test_an_intent_the_rekey_never_followed_is_dropped(dengji, db):
    with open_register(db, PASSPHRASE) as reg:
        save_unit_profile(reg, "张三", {"handler": "张三"})
        with reg.session() as session:
            session.merge(Meta(key=handover.PENDING_KEY, value="{}"))
            session.commit()
    result = dengji("unit", "--db", db)
    assert result.code == 0 and "没有完成，已撤销" in result.err and "经办人：张三" in result.out
    assert actions(db, PASSPHRASE)[-1] == handover.DROPPED
