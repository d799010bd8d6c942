"""The 清理（法学会个人会员清理） menu entries of the main window.

清理建议… (the proposals, decided and applied in the window), 导出建议到Excel… / 从Excel应用…
(the same through the workbook of `dengji cleanup propose/apply`), 重新入会…, 到期退会…,
统计表…, 通报… and 下一个会员证号…. The work is in desktop/services/cleanup*.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QVBoxLayout,
)

from desktop.errors import KnownError
from desktop.services.cleanup.members import next_number
from desktop.services.cleanup.paper import log_export
from desktop.services.cleanup.propose import apply_decisions, propose, society_form
from desktop.services.cleanup.workbook import write_proposal
from desktop.services.cleanup.workbook_read import read_decisions
from desktop.ui.cleanup.common import (
    FindingsDialog,
    PeopleRow,
    refresh_members,
    run_task,
    status_label,
)

if TYPE_CHECKING:
    from desktop.ui.mainwindow import MainWindow

XLSX = "Excel 工作簿 (*.xlsx)"


def add_cleanup_actions(window: MainWindow, menu: QMenu) -> None:
    """Add this menu's actions to `menu`; keep each QAction on the window for tests."""
    entries = (
        ("cleanup_proposals_action", "清理建议…", open_proposals),
        ("cleanup_export_action", "导出建议到Excel…", export_proposal),
        ("cleanup_import_action", "从Excel应用…", apply_workbook),
        None,
        ("cleanup_readmit_action", "重新入会…", open_readmit),
        ("cleanup_withdraw_action", "到期退会…", open_withdraw),
        None,
        ("cleanup_stats_action", "统计表…", open_stats),
        ("cleanup_notice_action", "通报…", open_notice),
        None,
        ("cleanup_number_action", "下一个会员证号…", open_next_number),
    )
    for entry in entries:
        if entry is None:
            menu.addSeparator()
            continue
        attr, text, slot = entry
        action = QAction(text, window)
        action.triggered.connect(lambda _checked=False, s=slot: s(window))
        setattr(window, attr, action)
        menu.addAction(action)
    tab = next((t for t in window.form_tabs if t.form.id == "society_member"), None)
    if tab is not None:
        tab.new_record_values = lambda: prefilled_number(window)


def prefilled_number(window: MainWindow) -> dict[str, str]:
    """A new member record starts with the next free 会员证号 (none while the numbering rule is
    not set up: the clerk then types it)."""
    try:
        return {"member_no": next_number(window.register, window.forms).number}
    except KnownError:
        return {}


def _show(window: MainWindow, attr: str, dialog: QDialog) -> QDialog:
    """Keep the dialog on the window (tests reach it there) and show it without blocking."""
    old = getattr(window, attr, None)
    if old is not None:
        old.close()
        old.deleteLater()
    setattr(window, attr, dialog)
    dialog.show()
    return dialog


def open_proposals(window: MainWindow):
    from desktop.ui.cleanup.proposals import ProposalsDialog

    dialog = _show(window, "cleanup_dialog", ProposalsDialog(window))
    dialog.refresh()
    return dialog


def open_readmit(window: MainWindow):
    from desktop.ui.cleanup.dialogs import ReadmitDialog

    return _show(window, "readmit_dialog", ReadmitDialog(window))


def open_withdraw(window: MainWindow):
    from desktop.ui.cleanup.dialogs import WithdrawDialog

    return _show(window, "withdraw_dialog", WithdrawDialog(window))


def open_stats(window: MainWindow):
    from desktop.ui.cleanup.stats import StatsDialog

    return _show(window, "stats_dialog", StatsDialog(window))


def open_notice(window: MainWindow):
    from desktop.ui.cleanup.stats import NoticeDialog

    return _show(window, "notice_dialog", NoticeDialog(window))


def open_next_number(window: MainWindow):
    from desktop.ui.cleanup.dialogs import NextNumberDialog

    return _show(window, "number_dialog", NextNumberDialog(window))


# --- the Excel route --------------------------------------------------------------------------


def export_proposal(window: MainWindow, path: Path | None = None) -> None:
    """Write the proposal workbook (the sheets of `dengji cleanup propose`) on the workers."""
    if path is None:
        default = window.register.path.with_name("个人会员清理表.xlsx")
        name, _ = QFileDialog.getSaveFileName(window, "导出清理建议", str(default), XLSX)
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() != ".xlsx":
            path = path.with_name(path.name + ".xlsx")
    form = society_form(window.forms)
    unit = window.own.name

    def task():
        proposal = yield from propose(window.register, window.forms)
        try:
            write_proposal(path, proposal, form, unit_name=unit, full=False)
        except OSError as err:
            raise KnownError(f"无法写入 {path}（{err.strerror}）。如文件已在 Excel 中打开，请先关闭。"
                             ) from None
        log_export(window.register, "cleanup.propose", path,
                   {"full": False, "removals": proposal.removals, "no_id": len(proposal.no_id),
                    "overdue": len(proposal.overdue)}, actor=window.actor)
        return proposal

    def done(proposal) -> None:
        window.show_status(f"清理表已导出：{path}")
        QMessageBox.information(
            window, "清理表已导出",
            f"已导出到：\n{path}\n\n重复录入 {len(proposal.groups)} 组（建议清理 {proposal.removals} 条），"
            f"无身份证号 {len(proposal.no_id)} 人，长期失联或不履行义务 {len(proposal.overdue)} 人。\n"
            "在“处理决定”列填“同意”，在“撤销资格”页列出撤销的会员，然后用“从Excel应用…”导入。")

    run_task(window, task, done=done, failed_title="未能导出清理表")


class WorkbookPeopleDialog(QDialog):
    """Who applies the workbook: 经办人 (rows without one), 审批人, 批次 and 日期."""

    def __init__(self, window: MainWindow, path: Path) -> None:
        super().__init__(window)
        self.setWindowTitle("从Excel应用清理决定")
        layout = QVBoxLayout(self)
        label = QLabel(f"导入填好的清理表 {path.name}：全部无误才写入，有问题逐格列出。\n"
                       "各页未填经办人、审批人的行使用下面填写的人。")
        label.setWordWrap(True)
        layout.addWidget(label)
        self.people = PeopleRow(window.actor, approver_hint="撤销资格须填")
        form = QFormLayout()
        form.addRow(self.people)
        layout.addLayout(form)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                               QDialogButtonBox.StandardButton.Cancel)
        box.button(QDialogButtonBox.StandardButton.Ok).setText("应用")
        box.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout.addWidget(box)
        self.resize(760, 140)


def apply_workbook(window: MainWindow, path: Path | None = None,
                   people: tuple[str, str, str, object] | None = None) -> None:
    """Read a filled workbook and apply it all or nothing; the findings are shown per cell."""
    if path is None:
        name, _ = QFileDialog.getOpenFileName(window, "选择填好的清理表",
                                              str(window.register.path.parent), XLSX)
        if not name:
            return
        path = Path(name)
    if people is None:
        ask = WorkbookPeopleDialog(window, path)
        if ask.exec() != QDialog.DialogCode.Accepted:
            return
        people = ask.people.values()
    handler, approver, batch, when = people
    if not handler:
        QMessageBox.warning(window, "请填写经办人", "请填写经办人后再应用清理表。")
        return
    form = society_form(window.forms)

    def task():
        yield from ()
        read = read_decisions(path, form, handler=handler, approver=approver)
        if any(f.severity == "E" for f in read.findings):
            return read, None
        return read, apply_decisions(window.register, window.forms, read.decisions,
                                     actor=window.actor, batch=batch, when=when,
                                     source=path.name)

    def done(outcome) -> None:
        read, result = outcome
        findings = read.findings + (result.findings if result else [])
        errors = sum(f.severity == "E" for f in findings)
        if errors:
            summary = f"清理表有 {errors} 处错误，未作任何改动。改正后重新导入。"
        else:
            counts: dict[str, int] = {}
            for ch in result.changes:
                counts[ch.after] = counts.get(ch.after, 0) + 1
            parts = "，".join(f"{status_label(window, k)} {v} 条" for k, v in sorted(counts.items()))
            summary = (f"已处理 {len(result.changes)} 条" + (f"：{parts}" if parts else "")
                       + (f"；{result.skipped} 项无需处理" if result.skipped else "") + "。")
            refresh_members(window)
            window.show_status(summary)
        dialog = FindingsDialog("清理表导入结果", summary, findings, window)
        window.workbook_result = dialog
        dialog.show()

    run_task(window, task, done=done, failed_title="未能应用清理表", writes=True)
