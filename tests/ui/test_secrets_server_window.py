"""忘记口令… on a register in PostgreSQL (issues 18, 19), as start.open_or_create shows it: the
passphrase dialog offers it, a voided key is named, the current key sets a new passphrase and
the register opens on it; the change of passphrase says no backup but who is not locked out."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from desktop.errors import WrongPassphrase  # noqa: E402
from desktop.services.registers import init_register  # noqa: E402
from desktop.services.secrets import SERVER_UNCHANGED, make_recovery_key  # noqa: E402
from desktop.storage import Register, crypto, open_register  # noqa: E402
from desktop.storage.server import ServerLocation  # noqa: E402
from desktop.ui.dialogs import PassphraseDialog  # noqa: E402
from desktop.ui.register.recovery import RecoverDialog  # noqa: E402
from desktop.ui.start import open_or_create  # noqa: E402
from tests.pg.cluster import pg_cluster, pg_database, pg_url  # noqa: E402, F401 (fixtures)
from tests.ui.conftest import FAST_KDF, SECRET, UNIT_CODE, UNIT_NAME  # noqa: E402
from tests.ui.secrets_steps import on_modal, record_boxes  # noqa: E402

NEW_SECRET = "海棠花开的院子 Garden-2031"


def test_forgot_opens_a_server_register_with_its_recovery_key(pg_url, qtbot, monkeypatch):  # noqa: F811
    monkeypatch.setattr(crypto, "DEFAULT_KDF", FAST_KDF)
    boxes = record_boxes(monkeypatch)
    reg = init_register(pg_url, SECRET, level="firm", unit_name=UNIT_NAME,
                        unit_code=UNIT_CODE, kdf=FAST_KDF)
    old = make_recovery_key(reg, "测试员")
    key = make_recovery_key(reg, "测试员")  # voids the old one
    reg.close()
    location = ServerLocation.parse(pg_url)
    seen: list[str] = []

    def clerk(recover: RecoverDialog) -> None:
        recover.key.set_text(old.text)
        recover.new.secret.setText(NEW_SECRET)
        recover.new.again.setText(NEW_SECRET)
        recover.ok.click()
        seen.append(recover.error.text())
        recover.key.set_text(key.text)
        recover.ok.click()

    def asked(dialog: PassphraseDialog) -> None:
        assert dialog.forgot_button is not None  # offered on a server too
        on_modal(clerk, kind=RecoverDialog)
        dialog.forgot_button.click()

    on_modal(asked, kind=PassphraseDialog)
    register = open_or_create(location)
    try:
        assert isinstance(register, Register) and register.kind == "server"
        assert "已被" in seen[0]
        title, text = boxes[-1][1:]
        assert title == "已设置新口令" and SERVER_UNCHANGED in text and "None" not in text
    finally:
        if register is not None:
            register.close()
    with pytest.raises(WrongPassphrase):
        open_register(location, SECRET)
    open_register(location, NEW_SECRET).close()
