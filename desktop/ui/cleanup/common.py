"""Pieces the 清理 screens share: the findings list, the 经办人/审批人/批次/日期 row, the dates,
and one modeless dialog of each kind on the window."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from desktop.domain.forms import FormSet
from desktop.services.cleanup.model import FORM_ID, CellFinding
from desktop.services.cleanup.search import index_ready, load_member_index
from desktop.ui.cleanup.models import LinesModel
from desktop.ui.context import WindowContext
from desktop.ui.dialogs import fit_to_screen, guard_wheel
from desktop.ui.operations import Operation
from desktop.ui.style import SEVERITY_WORDS

_COLOURS = {"E": "#c62828", "W": "#b26a00", "I": "#555555"}


def default_batch(when: date | None = None) -> str:
    """The batch name the command line uses when none is given."""
    return f"{(when or date.today()).year}年个人会员清理"


#: what a search list says while a PostgreSQL register's member names are being opened
LOADING_NOTE = "正在载入会员名单……可先输入完整的会员证号或公民身份号码查找。"


def warm_member_search(ctx: WindowContext, owner: QWidget, then: Callable[[], None]) -> bool:
    """On a PostgreSQL register whose member names are not opened yet (services/cleanup/
    search.py), open them on a worker and call `then` (the search again) when done, unless
    `owner` was closed meanwhile. True while that runs; False when searches are ready."""
    if index_ready(ctx.register):
        return False
    register = ctx.register
    Operation(ctx, lambda: load_member_index(register), title="未能载入会员名单").success(
        lambda _n: then() if isValid(owner) else None).run()
    return True


def to_date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def date_edit(value: date) -> QDateEdit:
    edit = QDateEdit(QDate(value.year, value.month, value.day))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    guard_wheel(edit)
    return edit


class FindingsList(QListView):
    """The per-item findings of a set of decisions (errors first), each with its cell/row.
    (A model: a refused workbook may have thousands of findings.)"""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("处理问题")
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.lines = LinesModel()
        self.setModel(self.lines)

    def show_findings(self, findings: Iterable[CellFinding]) -> None:
        order = {"E": 0, "W": 1, "I": 2}
        lines = []
        for f in sorted(findings, key=lambda f: order.get(f.severity, 3)):
            where = f"〔{f.cell}〕" if f.cell else ""
            lines.append((f"{SEVERITY_WORDS.get(f.severity, f.severity)}  {where}{f.message}",
                          _COLOURS.get(f.severity, "#000000")))
        self.lines.set_lines(lines)

    def messages(self) -> list[str]:
        return [text for text, _colour in self.lines.lines]


class FindingsDialog(QDialog):
    """Findings of an Excel workbook applied from the window (nothing changed on an error)."""

    def __init__(self, title: str, summary: str, findings: list[CellFinding],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        self.summary = QLabel(summary)
        self.summary.setWordWrap(True)
        error = any(f.severity == "E" for f in findings)
        self.summary.setStyleSheet("color: #c62828;" if error else "")
        layout.addWidget(self.summary)
        self.findings = FindingsList()
        self.findings.show_findings(findings)
        layout.addWidget(self.findings, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_to_screen(self, (760, 420))


class PeopleRow(QWidget):
    """经办人, 审批人, 清理批次 and 日期: who decides, for every decision of one 应用."""

    def __init__(self, actor: str, *, approver_hint: str = "", parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.handler = QLineEdit(actor)
        self.handler.setAccessibleName("经办人")
        self.approver = QLineEdit()
        self.approver.setAccessibleName("审批人")
        self.approver.setPlaceholderText(approver_hint)
        self.batch = QLineEdit(default_batch())
        self.batch.setAccessibleName("清理批次")
        self.when = date_edit(date.today())
        self.when.setAccessibleName("清理日期")
        for label, widget, stretch in (("经办人", self.handler, 1), ("审批人", self.approver, 1),
                                       ("清理批次", self.batch, 2), ("日期", self.when, 0)):
            row.addWidget(QLabel(label))
            row.addWidget(widget, stretch)

    def values(self) -> tuple[str, str, str, date]:
        return (self.handler.text().strip(), self.approver.text().strip(),
                self.batch.text().strip() or default_batch(to_date(self.when.date())),
                to_date(self.when.date()))


def status_label(forms: FormSet, code: str) -> str:
    codes = forms.form(FORM_ID).field("status").codes
    return codes.label_of(code or "1") if codes else code
