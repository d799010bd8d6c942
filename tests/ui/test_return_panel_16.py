"""退回 shows the record's values beside the comment being written (issue 16): a read-only panel
of the selected record's fields, masked as the lists mask them; clicking a value aims the
comment at its field, and picking a field marks its value."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox, QTableWidget  # noqa: E402

from desktop.domain.masking import mask_id, mask_phone  # noqa: E402
from desktop.ui.actions import Action  # noqa: E402
from desktop.ui.packages.dashboard import DashboardDialog  # noqa: E402
from desktop.ui.packages.returning import ReturnDialog  # noqa: E402
from tests.exchange.conftest import CITY, World  # noqa: E402


@pytest.fixture
def merged(world: World):
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=85, parent=city)
    sent = world.export(firm.register)
    world.merge(city, sent.path)
    return city, firm, sent


def id_and_phone(member: dict) -> tuple[str, str]:
    idv = next(v for k, v in member.items() if "身份" in k and isinstance(v, str))
    phone = next(v for k, v in member.items() if "手机" in k and isinstance(v, str))
    return idv, phone


def test_the_record_is_shown_beside_the_comment(merged, make_window, qtbot, monkeypatch
                                                ) -> None:
    city, firm, sent = merged
    window = make_window(city)
    # opened from the 收件看板's 退回… in the real window
    window.action(Action.DASHBOARD).trigger()
    board = window.findChild(DashboardDialog, "dashboard")
    board.view.selectRow(0)
    opened: list[ReturnDialog] = []
    monkeypatch.setattr(ReturnDialog, "exec", lambda self: opened.append(self) or 0)
    board.return_button.click()
    [dialog] = opened
    dialog.show()
    qtbot.waitExposed(dialog)
    panel = dialog.findChild(QTableWidget, "returnRecordValues")
    assert panel is dialog.values and panel.isVisible()
    assert panel.editTriggers() == QTableWidget.EditTrigger.NoEditTriggers
    # beside the comment editor, between the records and the comments
    def left(w) -> int:
        return w.mapTo(dialog, w.rect().topLeft()).x()

    assert left(dialog.records) + dialog.records.width() <= left(panel)
    assert left(panel) + panel.width() <= left(dialog.text)

    for member in sorted(firm.members, key=lambda m: m["姓名"])[:2]:
        assert dialog.select_record(member["姓名"])
        shown = dialog.shown_record_values()
        assert shown["姓名"] == member["姓名"]
        idv, phone = id_and_phone(member)
        texts = list(shown.values())
        # masked as the lists mask them: never the whole number, the masked form instead
        assert not any(idv in t for t in texts) and mask_id(idv) in texts
        assert not any(phone in t for t in texts) and mask_phone(phone) in texts
    # the panel follows the selection: the other member's name is not shown
    first, second = sorted(firm.members, key=lambda m: m["姓名"])[:2]
    assert first["姓名"] not in dialog.shown_record_values().values()

    # clicking a value aims the comment at its field, and the editor takes the focus
    row = next(r for r in range(panel.rowCount()) if panel.item(r, 0).text() == "手机号码")
    rect = panel.visualItemRect(panel.item(row, 1))
    qtbot.mouseClick(panel.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert dialog.field.currentText() == "手机号码"
    # picking a field in the list marks its value; the whole record marks none
    dialog.field.setCurrentIndex(dialog.field.findText("姓名"))
    [selected] = {i.row() for i in panel.selectedIndexes()}
    assert panel.item(selected, 0).text() == "姓名"
    dialog.field.setCurrentIndex(0)
    assert panel.selectedIndexes() == []
    # a comment is added as before, on the field picked from the panel
    qtbot.mouseClick(panel.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dialog.text.setPlainText("手机号码与花名册不一致，请核实")
    assert dialog.add_current()
    assert dialog.comments[-1]["field"] == "手机号码"
    assert dialog.comments[-1]["name"] == second["姓名"]
    # the panel cannot change the record: an edit attempt leaves the value as it was
    before = panel.item(row, 1).text()
    panel.editItem(panel.item(row, 1))
    assert panel.item(row, 1).text() == before
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    dialog.reject()
    window.close()
