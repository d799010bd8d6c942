"""换钥… and 收件看板 → 吊销公钥… in the real window (issue 19), driven as a clerk would: the
firm rotates its key from the 上报 menu and the city takes the new key from its next package;
the city revokes a firm's lost key in the dashboard and that key's later packages are refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QDate, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialog  # noqa: E402
from sqlalchemy import select  # noqa: E402

from desktop.exchange.format.rotation import HOW_ROTATION, stamp  # noqa: E402
from desktop.services import packages as svc  # noqa: E402
from desktop.storage import AuditEntry  # noqa: E402
from desktop.storage.tables import KeyEvent, TrustedKey  # noqa: E402
from desktop.ui.actions import Action  # noqa: E402
from desktop.ui.packages.dashboard import DashboardDialog  # noqa: E402
from tests.exchange.conftest import CITY, World, fingerprint_of  # noqa: E402
from tests.exchange.test_rotation import signed_by, signing_key, write  # noqa: E402


def when_shown(name: str, act: Callable[[QDialog], None], tries: int = 500) -> None:
    """When the dialog named `name` opens (it runs exec()), do `act` with it."""
    def poll(left: int) -> None:
        dialog = next((w for w in QApplication.topLevelWidgets()
                       if isinstance(w, QDialog) and w.objectName() == name and w.isVisible()),
                      None)
        if dialog is None:
            if left:
                QTimer.singleShot(20, lambda: poll(left - 1))
            return
        act(dialog)
    QTimer.singleShot(0, lambda: poll(tries))


@pytest.fixture
def linked(world: World):
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=93, parent=city).register
    assert [r.status for r in world.merge(city, world.export(firm).path)] == ["merged"]
    return world, city, firm


def test_the_firm_rotates_its_key_from_the_menu(linked, make_window, boxes, qtbot) -> None:
    world, city, firm = linked
    old = fingerprint_of(firm)
    window = make_window(firm)
    seen: list[str] = []

    def cancel(dialog) -> None:
        seen.append(dialog.rotate_button.text())
        dialog.reject()

    when_shown("rotateKeyDialog", cancel)
    window.action(Action.ROTATE_KEY).trigger()
    assert seen and fingerprint_of(firm) == old  # cancelled: nothing changed

    when_shown("rotateKeyDialog", lambda d: d.rotate_button.click())
    window.action(Action.ROTATE_KEY).trigger()
    new = fingerprint_of(firm)
    assert new != old
    [(kind, title, text)] = boxes
    assert (kind, title) == ("information", "已换钥") and old in text and new in text
    with firm.session() as session:
        actions = session.execute(select(AuditEntry.action)).scalars().all()
    assert actions[-1] == "keys.rotate"
    # the city takes the new key from the firm's next package, without a fingerprint check
    assert [r.status for r in world.merge(city, world.export(firm).path)] == ["merged"]
    with city.session() as session:
        how = session.execute(select(TrustedKey.confirmed_how).where(
            TrustedKey.fingerprint == new)).scalar_one()
    assert how == HOW_ROTATION


def test_the_city_revokes_a_lost_key_in_the_dashboard(linked, make_window, boxes,
                                                       qtbot) -> None:
    world, city, firm = linked
    window = make_window(city)
    window.action(Action.DASHBOARD).trigger()
    dialog = window.findChild(DashboardDialog, "dashboard")
    assert not dialog.revoke_button.isEnabled()  # nothing selected
    [row] = [i for i, r in enumerate(dialog.model.rows) if r.package_id]
    code = dialog.model.rows[row].code
    dialog.select_code(code)
    assert dialog.revoke_button.isEnabled()
    lost = datetime.now().date() - timedelta(days=1)

    def revoke(d) -> None:
        assert d.key.currentText() == fingerprint_of(firm)  # the only key known
        d.since.setDate(QDate(lost.year, lost.month, lost.day))
        d.revoke_button.click()

    when_shown("revokeKeyDialog", revoke)
    dialog.revoke_button.click()
    assert not boxes, boxes
    with city.session() as session:
        [event] = session.execute(select(KeyEvent)).scalars().all()
    assert (event.kind, event.unit_code, event.fingerprint) == ("revocation", code,
                                                                fingerprint_of(firm))
    assert event.effective_from.astimezone().date() == lost
    # the firm's next package is signed by the lost key after the date: refused
    later = world.export(firm)
    v = svc.verify_file(later.path, world.forms, city)
    assert not v.ok and "吊销" in v.reason() and lost.isoformat() in v.reason()
    # revoking again is refused with a message, nothing more written
    when_shown("revokeKeyDialog", lambda d: d.revoke_button.click())
    dialog.revoke_button.click()
    [(kind, title, text)] = boxes
    assert (kind, title) == ("warning", "未吊销") and "无需再吊销" in text


def test_a_backdated_package_of_the_revoked_key_is_what_the_date_still_lets_in(
        linked, make_window, qtbot) -> None:
    world, city, firm = linked
    window = make_window(city)
    window.action(Action.DASHBOARD).trigger()
    dialog = window.findChild(DashboardDialog, "dashboard")
    dialog.select_code(next(r.code for r in dialog.model.rows if r.package_id))
    when_shown("revokeKeyDialog", lambda d: d.revoke_button.click())  # from today
    dialog.revoke_button.click()
    later = world.export(firm).path.read_bytes()
    backdated = signed_by(later, signing_key(firm, -1), lambda m: m.__setitem__(
        "created", stamp(datetime.now(UTC) - timedelta(days=2))))
    assert svc.verify_file(write(world, "b.djpkg", backdated), world.forms, city).ok
