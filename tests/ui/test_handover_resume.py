"""The window's open (start.open_or_create) settles a handover a kill interrupted
(services/handover.py): after the re-key it finishes it and shows the recovery key that
replaced the outgoing clerk's; before the re-key it drops it and says so."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.errors import KnownError  # noqa: E402
from desktop.services import handover  # noqa: E402
from desktop.services.secrets import make_recovery_key, recovery_problem, recovery_state  # noqa: E402
from desktop.services.unit import save_unit_profile, unit_profile  # noqa: E402
from desktop.storage import Meta, crypto, open_register  # noqa: E402
from desktop.ui.dialogs import PassphraseDialog  # noqa: E402
from desktop.ui.register.sheet import RecoveryKeyDialog  # noqa: E402
from tests.ui.conftest import FAST_KDF, SECRET  # noqa: E402
from tests.ui.secrets_steps import on_modal, record_boxes  # noqa: E402

NEW = "海棠花开的院子 Garden-2031"


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch):
    monkeypatch.setattr(crypto, "DEFAULT_KDF", FAST_KDF)


def type_passphrase(secret: str) -> None:
    def clerk(dialog: PassphraseDialog) -> None:
        dialog.secret.setText(secret)
        dialog.try_open()

    on_modal(clerk, kind=PassphraseDialog)


def test_opened_with_the_new_passphrase_the_handover_is_finished(make_register, monkeypatch,
                                                                qtbot):
    import desktop.ui.start as start

    boxes = record_boxes(monkeypatch)
    reg = make_register()
    old_key = make_recovery_key(reg, "张三")
    save_unit_profile(reg, "张三", {"handler": "张三"})
    # a kill after the re-key: the new passphrase in force, no recovery key made yet (the
    # outgoing clerk's still opens it) and the handover's own transaction never ran
    real_change = handover.change_passphrase
    monkeypatch.setattr(handover, "change_passphrase", lambda *a, **k: real_change(
        *a, **{**k, "new_recovery": False}))
    with pytest.raises(KnownError):  # no new recovery key: where a kill would have cut it short
        handover.hand_over(reg, SECRET, NEW, "张三", "李四", "张三")
    path = reg.path
    reg.close()
    monkeypatch.undo()
    monkeypatch.setattr(crypto, "DEFAULT_KDF", FAST_KDF)
    boxes = record_boxes(monkeypatch)
    with open_register(path, NEW) as left, left.session() as session:
        assert session.get(Meta, handover.PENDING_KEY) is not None
        assert unit_profile(left).handler == "张三"
    assert recovery_problem(path, old_key.text) is None  # the outgoing clerk's key still opens

    shown: list[str] = []

    def sheet(dialog: RecoveryKeyDialog) -> None:
        shown.append(dialog.head.text())
        dialog.done(0)

    type_passphrase(NEW)
    on_modal(sheet, kind=RecoveryKeyDialog)
    register = start.open_or_create(path)
    try:
        assert shown and "现已完成" in shown[0] and "李四" in shown[0] and "原恢复密钥已作废" in shown[0]
        assert unit_profile(register).handler == "李四"
        assert recovery_state(register).key_id != old_key.key_id
        with register.session() as session:
            assert session.get(Meta, handover.PENDING_KEY) is None
    finally:
        register.close()
    assert recovery_problem(path, old_key.text) is not None  # void now
    assert not [b for b in boxes if b[0] == "warning"]
    assert QApplication.activeModalWidget() is None


def test_opened_with_the_old_passphrase_the_handover_is_dropped(make_register, monkeypatch,
                                                               qtbot):
    import desktop.ui.start as start

    boxes = record_boxes(monkeypatch)
    reg = make_register()
    save_unit_profile(reg, "张三", {"handler": "张三"})
    with reg.session() as session:  # an intent the re-key never followed (a damaged one here)
        session.merge(Meta(key=handover.PENDING_KEY, value="{}"))
        session.commit()
    path = reg.path
    reg.close()
    type_passphrase(SECRET)
    register = start.open_or_create(path)
    try:
        assert boxes[-1][:2] == ("information", "移交") and "没有完成" in boxes[-1][2]
        assert unit_profile(register).handler == "张三"
        with register.session() as session:
            assert session.get(Meta, handover.PENDING_KEY) is None
    finally:
        register.close()
