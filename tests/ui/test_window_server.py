"""The window on a register in PostgreSQL (issue 18, `dengji --db postgresql://…`): the
passphrase dialog keeps its count of wrong tries in the user data folder (a server register
has no folder beside it), and the tests of the list (model tester, masking and the audited
reveal, search, pinyin and issue sorting) and of the editor (filling and saving a record with
the keyboard, submitting with a confirmed warning and reopening, a draft kept field by field)
run again here on a server register. The rest of the window's tests hold for both stores
through the same services."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.errors import WrongPassphrase
from desktop.services import registers
from desktop.services.registers import init_register, tries_file
from desktop.storage import Register, open_register
from desktop.storage.server import ServerLocation
from desktop.ui.dialogs import PassphraseDialog
from tests.pg.cluster import pg_cluster, pg_database, pg_url  # noqa: F401 (fixtures)
from tests.ui.conftest import FAST_KDF, SECRET, UNIT_CODE, UNIT_NAME, type_into
from tests.ui.test_window import (  # noqa: F401 (run again here, on a server register)
    test_search_as_you_type_filters_by_name_or_a_whole_id,
    test_sorting_by_name_is_pinyin_order_and_by_issues,
    test_table_model_passes_the_model_tester,
    test_table_shows_masked_ids_and_reveal_is_audited,
)
from tests.ui.test_workflow import (  # noqa: F401
    test_a_crash_loses_at_most_the_field_being_typed,
    test_fill_a_complete_lawyer_record_with_the_keyboard_only,
    test_submit_confirms_a_warning_with_a_reason_and_reopening_finds_everything,
)


@pytest.fixture
def register(pg_url: str) -> Iterator[Register]:  # noqa: F811
    """The unit's register in a new PostgreSQL database."""
    reg = init_register(pg_url, SECRET, level="firm", unit_name=UNIT_NAME,
                        unit_code=UNIT_CODE, kdf=FAST_KDF)
    assert reg.engine.dialect.name == "postgresql"
    try:
        yield reg
    finally:
        reg.close()


def test_wrong_passphrases_of_a_server_register_are_counted_in_the_user_data_folder(
        register: Register, qtbot, monkeypatch, pg_url: str) -> None:  # noqa: F811
    monkeypatch.setattr(registers, "_tries", {})  # a fresh process
    location = ServerLocation.parse(pg_url)
    side = tries_file(location)
    home = Path(os.environ["DENGJI_HOME"])
    assert side.is_relative_to(home) and side.parent.stat().st_mode & 0o077 == 0
    assert side.name == hashlib.sha256(pg_url.encode()).hexdigest()[:32] + ".tries"
    assert tries_file(ServerLocation.parse(pg_url + "x")) != side  # one count per register
    opened: list[Register] = []

    def opener(secret: str) -> Register:
        reg = open_register(location, secret)
        opened.append(reg)
        return reg

    dialog = PassphraseDialog(location, opener)
    qtbot.addWidget(dialog)
    assert location.name in dialog.findChild(type(dialog.wait), "passphraseIntro").text()
    for n in range(1, 4):
        type_into(qtbot, dialog.secret, "wrong-passphrase")
        dialog.try_open()
        dialog.secret.clear()
        assert json.loads(side.read_text("utf-8"))["failures"] == n
    assert not dialog.ok.isEnabled()  # the third wrong one: a wait begins
    monkeypatch.setattr(registers, "_tries", {})  # the program restarted: the count is kept
    again = PassphraseDialog(location, opener)
    qtbot.addWidget(again)
    assert again.tries.failures == 3 and not again.ok.isEnabled()
    again.tries.succeeded()  # as if the wait had passed and the right one was typed …
    monkeypatch.setattr(registers, "_tries", {})
    right = PassphraseDialog(location, opener)
    qtbot.addWidget(right)
    type_into(qtbot, right.secret, "Pass-1234")  # keyClicks types ASCII only: set the rest
    right.secret.setText(SECRET)
    right.try_open()
    try:
        assert isinstance(right.result_value, Register) and not side.exists()
        assert right.result_value.engine.dialect.name == "postgresql"
    finally:
        for reg in opened:
            reg.close()
    with pytest.raises(WrongPassphrase):
        open_register(location, "wrong-passphrase")
