"""Issue 18: the window on a PostgreSQL register opened by a reviewer role (SELECT only) says
so, shows the records read-only and greys out what writes; a clerk's role gets the full
window."""

from __future__ import annotations

from desktop.storage import open_register
from desktop.ui.actions import Action
from desktop.ui.records.reviewer import WHY, WRITES
from tests.pg.cluster import pg_cluster, pg_database, pg_url  # noqa: F401 (fixtures)
from tests.pg.test_concurrency import new_record, office  # noqa: F401 (a fixture)
from tests.storage.conftest import FAST_KDF, PASSPHRASE


def test_a_reviewer_sees_the_records_and_cannot_change_them(office, make_window):  # noqa: F811
    rid = new_record(office["owner"])
    with open_register(office["reviewer_c"], PASSPHRASE, kdf=FAST_KDF) as register:
        window = make_window(register)
        assert window.windowTitle().endswith("（只读：审阅角色）")
        assert window.statusBar().currentMessage() == WHY
        greyed = [a for a in WRITES if window.ctx.has_action(a)]
        assert Action.NEW_RECORD in greyed and Action.IMPORT_PACKAGE in greyed
        assert not any(window.action(a).isEnabled() for a in greyed)
        assert window.action(Action.EXCEL_EXPORT).isEnabled()
        assert window.action(Action.PRINT_PREVIEW).isEnabled()
        window.show_tab("lawyer_member")
        tab = window.tab("lawyer_member")
        assert tab.model.total == 1
        tab.view.selectRow(0)
        assert tab.session.record_id == rid and tab.session.values  # opened, not dj1.…
        assert tab.editor.read_only and not tab.editor.submit_button.isEnabled()
        tab.new_record()
        assert tab.session.record_id == rid  # nothing new: the status bar says why
        assert not tab.editor.save_draft()
        window.close()
    with open_register(office["clerk_a"], PASSPHRASE, kdf=FAST_KDF) as register:
        window = make_window(register)
        assert "只读" not in window.windowTitle()
        assert window.action(Action.NEW_RECORD).isEnabled()
        window.show_tab("lawyer_member")
        assert not window.tab("lawyer_member").editor.read_only
        window.close()
