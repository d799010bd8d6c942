"""Make the README's screenshot (docs/screenshot.png) of the window at 1366×768.

Run under a virtual screen of the commonest laptop size:

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python tools/screenshot.py [out.png]

A firm register in a temporary folder with generated people (desktop/sampledata.py): its
附件3, twelve members marked complete and one draft with an error and a warning, selected.
"""

from __future__ import annotations

import random
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from sqlalchemy import text  # noqa: E402

from desktop import sampledata  # noqa: E402
from desktop.formspec import shipped_forms  # noqa: E402
from desktop.services.editing import EditSession  # noqa: E402
from desktop.services.registers import init_register  # noqa: E402
from desktop.storage.crypto import KdfParams  # noqa: E402

ACTOR = "王敏"


def store(reg, forms, form_id: str, by_label: dict, *, complete: bool,
          record_id: str | None = None) -> str:
    """Save a label-keyed record (or mark the stored `record_id` complete) as the editor does."""
    form = forms.form(form_id)
    session = EditSession(reg, forms, form, reg.own_unit_id, actor=ACTOR)
    if record_id is not None:
        session.load(record_id)
    try:
        for label, raw in by_label.items():
            spec = form.field_by_label(label)
            if spec is not None:
                session.set_raw(spec.id, raw)
        session.save()
        if complete:
            session.submit({(w.field, w.code): "已核对" for w in session.submit_check().warnings})
        return session.record_id
    finally:
        session.close()


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshot.png"
    app = QApplication(sys.argv)
    tmp = Path(tempfile.mkdtemp(prefix="dengji-shot-"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp))
    from desktop.ui.files import install_chinese
    from desktop.ui.mainwindow import MainWindow

    install_chinese(app)
    forms = shipped_forms()
    rng = random.Random(11)
    firm = sampledata.firms(rng, 1)[0]
    members = []
    while len(members) < 13:
        m = sampledata.lawyer_member(rng, firm, date.today())
        if m["人员类别"] == "正式党员":
            members.append(m)
    reg = init_register(tmp / "登记库.dengji", "截图用口令 Qx7-vRt9-Lm2", level="firm",
                        unit_name=f"{firm.name}党支部", unit_code=firm.uscc,
                        kdf=KdfParams(n=2**10, r=8, p=1))
    org = store(reg, forms, "party_org", sampledata.party_org(firm, members), complete=False)
    for m in members:
        store(reg, forms, "lawyer_member", m, complete=False)
    with reg.session() as session:  # the members are counted now: complete them and 附件3
        ids = [r for (r,) in session.execute(text(
            "SELECT id FROM record WHERE form_id = 'lawyer_member' ORDER BY rowid"))]
    for record_id in ids[:-1]:
        store(reg, forms, "lawyer_member", {}, complete=True, record_id=record_id)
    store(reg, forms, "party_org", {}, complete=True, record_id=org)
    chosen = store(reg, forms, "lawyer_member", {"出生日期": "", "固定电话": "85551234"},
                   complete=False, record_id=ids[-1])
    window = MainWindow(reg, forms, actor=ACTOR, settings=QSettings())
    window.resize(1366, 768)
    window.show()
    window.show_tab("lawyer_member")
    tab = window.tab("lawyer_member")

    def select() -> None:
        row = next(r for r in range(tab.model.rowCount()) if tab.model.record_id(r) == chosen)
        tab.view.selectRow(row)
        QTimer.singleShot(600, shoot)

    def shoot() -> None:
        window.grab().save(str(out))
        print(out)
        window.close()
        reg.close()
        app.quit()

    QTimer.singleShot(600, select)
    app.exec()


if __name__ == "__main__":
    main()
