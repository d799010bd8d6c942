"""A renamed unit in the 收件看板: its own package's new name waits for the clerk, who sees it
in the summary and confirms it with the button; nothing changes before."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QMessageBox  # noqa: E402
from sqlalchemy import select, update  # noqa: E402

from desktop.storage import Unit  # noqa: E402
from desktop.ui.actions import Action  # noqa: E402
from desktop.ui.packages.dashboard import DashboardDialog  # noqa: E402
from tests.exchange.conftest import CITY, World  # noqa: E402

NEW = "中共改名后的律师事务所支部委员会"


def unit_name(register, code: str) -> str:
    with register.session() as session:
        return session.execute(select(Unit.name).where(Unit.code == code)).scalar_one()


@pytest.mark.parametrize("answer", ["no", "yes"])
def test_a_renamed_unit_is_confirmed_in_the_dashboard(world: World, make_window, monkeypatch,
                                                      answer) -> None:
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=83, parent=city)
    world.merge(city, world.export(firm.register).path)
    with firm.register.session() as session:
        session.execute(update(Unit).where(Unit.is_own.is_(True)).values(name=NEW))
        session.commit()
    world.merge(city, world.export(firm.register).path)
    asked: list[str] = []
    button = QMessageBox.StandardButton.Yes if answer == "yes" else QMessageBox.StandardButton.No
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or button)
    window = make_window(city)
    window.action(Action.DASHBOARD).trigger()
    dialog = window.findChild(DashboardDialog, "dashboard")
    [row] = dialog.model.rows
    old = unit_name(city, row.code)
    assert old != NEW and "有 1 个单位的信息变更待确认" in dialog.summary.text()
    dialog.select_code(row.code)
    assert dialog.change_button.isEnabled()
    dialog.change_button.click()
    assert NEW in asked[0] and old in asked[0]
    if answer == "no":
        assert unit_name(city, row.code) == old and dialog.change_button.isEnabled()
        return
    assert unit_name(city, row.code) == NEW
    assert "待确认" not in dialog.summary.text() and not dialog.change_button.isEnabled()
    dialog.close()
