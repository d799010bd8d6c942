"""The 清理（法学会个人会员清理） menu entries of the main window.

清理建议… (the proposals, decided and applied in the window), 导出建议到Excel… / 从Excel应用…
(the same through the workbook of `dengji cleanup propose/apply`), 重新入会…, 到期退会…,
统计表…, 通报… and 下一个会员证号…. The work is in desktop/services/cleanup/.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
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
from desktop.services.cleanup.workbook import read_decisions, write_proposal
from desktop.storage.concurrency import require_audit_of
from desktop.ui.actions import Action
from desktop.ui.cleanup.common import FORM_ID, FindingsDialog, PeopleRow, status_label
from desktop.ui.cleanup.dialogs import (
    NextNumberDialog,
    ReadmitDialog,
    RestoreDialog,
    WithdrawDialog,
)
from desktop.ui.cleanup.proposals import ProposalsDialog
from desktop.ui.cleanup.stats import NoticeDialog, StatsDialog
from desktop.ui.context import Changes, WindowContext
from desktop.ui.dialogs import fit_to_screen, show_one
from desktop.ui.files import offer_folder, open_path, save_path
from desktop.ui.operations import Operation
from desktop.ui.register.unit_info import fill_people

XLSX = "Excel 工作簿 (*.xlsx)"


def add_cleanup_actions(ctx: WindowContext, menu: QMenu) -> None:
    """Add this menu's actions to `menu` (named by Action); a new member record starts with the
    next free 会员证号."""
    entries = (
        (Action.CLEANUP_PROPOSALS, "清理建议…", open_proposals),
        (Action.CLEANUP_EXPORT, "导出建议到Excel…", export_proposal),
        (Action.CLEANUP_IMPORT, "从Excel应用…", apply_workbook),
        None,
        (Action.CLEANUP_READMIT, "重新入会…", open_readmit),
        (Action.CLEANUP_WITHDRAW, "到期退会…", open_withdraw),
        (Action.CLEANUP_RESTORE, "恢复在册…", open_restore),
        None,
        (Action.CLEANUP_STATS, "统计表…", open_stats),
        (Action.CLEANUP_NOTICE, "通报…", open_notice),
        None,
        (Action.CLEANUP_NUMBER, "下一个会员证号…", open_next_number),
    )
    for entry in entries:
        if entry is None:
            menu.addSeparator()
            continue
        name, text, slot = entry
        ctx.add_action(name, text, lambda s=slot: s(ctx), menu=menu)
    tab = ctx.tab(FORM_ID)
    if tab is not None:
        tab.new_record_values = lambda: prefilled_number(ctx)


def prefilled_number(ctx: WindowContext) -> dict[str, str]:
    """A new member record starts with the next free 会员证号 (none while the numbering rule is
    not set up: the clerk then types it)."""
    try:
        return {"member_no": next_number(ctx.register, ctx.forms).number}
    except KnownError:
        return {}


def open_proposals(ctx: WindowContext) -> ProposalsDialog:
    dialog = show_one(ctx.widget, "cleanupProposals", lambda: ProposalsDialog(ctx))
    dialog.refresh()
    return dialog


def open_readmit(ctx: WindowContext) -> QDialog:
    return show_one(ctx.widget, "cleanupReadmit", lambda: ReadmitDialog(ctx))


def open_withdraw(ctx: WindowContext) -> QDialog:
    return show_one(ctx.widget, "cleanupWithdraw", lambda: WithdrawDialog(ctx))


def open_restore(ctx: WindowContext) -> QDialog:
    return show_one(ctx.widget, "cleanupRestore", lambda: RestoreDialog(ctx))


def open_stats(ctx: WindowContext) -> QDialog:
    return show_one(ctx.widget, "cleanupStats", lambda: StatsDialog(ctx))


def open_notice(ctx: WindowContext) -> QDialog:
    return show_one(ctx.widget, "cleanupNotice", lambda: NoticeDialog(ctx))


def open_next_number(ctx: WindowContext) -> QDialog:
    return show_one(ctx.widget, "cleanupNumber", lambda: NextNumberDialog(ctx))


# --- the Excel route --------------------------------------------------------------------------


def export_proposal(ctx: WindowContext, path: Path | None = None) -> None:
    """Write the proposal workbook (the sheets of `dengji cleanup propose`) on the workers."""
    if path is None:
        path = save_path(ctx, "cleanup", "导出清理建议", "个人会员清理表.xlsx", XLSX)
        if path is None:
            return
        if path.suffix.lower() != ".xlsx":
            path = path.with_name(path.name + ".xlsx")
    form = society_form(ctx.forms)
    unit = ctx.own.name

    def task():
        proposal = yield from propose(ctx.register, ctx.forms)
        try:
            require_audit_of(ctx.register)  # logged: refused before the file if it cannot be
            write_proposal(path, proposal, form, unit_name=unit, full=False)
        except OSError as err:
            raise KnownError(f"无法写入 {path}（{err.strerror}）。如文件已在 Excel 中打开，请先关闭。"
                             ) from None
        log_export(ctx.register, "cleanup.propose", path,
                   {"full": False, "removals": proposal.removals, "no_id": len(proposal.no_id),
                    "overdue": len(proposal.overdue)}, actor=ctx.actor)
        return proposal

    def done(proposal) -> None:
        ctx.status(f"清理表已导出：{path}")
        offer_folder(ctx, path)
        QMessageBox.information(
            ctx.widget, "清理表已导出",
            f"已导出到：\n{path}\n\n重复录入 {len(proposal.groups)} 组（建议清理 {proposal.removals} 条），"
            f"无身份证号 {len(proposal.no_id)} 人，长期失联或不履行义务 {len(proposal.overdue)} 人。\n"
            "在“处理决定”列填“同意”，在“撤销资格”页列出撤销的会员，然后用“从Excel应用…”导入。")

    Operation(ctx, task, title="未能导出清理表").success(done).run()


class WorkbookPeopleDialog(QDialog):
    """Who applies the workbook: 经办人 (rows without one), 审批人, 批次 and 日期."""

    def __init__(self, ctx: WindowContext, path: Path) -> None:
        super().__init__(ctx.widget)
        self.setWindowTitle("从Excel应用清理决定")
        layout = QVBoxLayout(self)
        label = QLabel(f"导入填好的清理表 {path.name}：全部无误才写入，有问题逐格列出。\n"
                       "各页未填经办人、审批人的行使用下面填写的人。")
        label.setWordWrap(True)
        layout.addWidget(label)
        self.people = PeopleRow("", approver_hint="撤销资格须填")
        fill_people(ctx, self.people.handler, self.people.approver)
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
        fit_to_screen(self, (760, 140))


def apply_workbook(ctx: WindowContext, path: Path | None = None,
                   people: tuple[str, str, str, object] | None = None) -> None:
    """Read a filled workbook and apply it all or nothing; the findings are shown per cell."""
    if path is None:
        path = open_path(ctx, "cleanup", "选择填好的清理表", XLSX)
        if path is None:
            return
    if people is None:
        ask = WorkbookPeopleDialog(ctx, path)
        if ask.exec() != QDialog.DialogCode.Accepted:
            return
        people = ask.people.values()
    handler, approver, batch, when = people
    if not handler:
        QMessageBox.warning(ctx.widget, "请填写经办人", "请填写经办人后再应用清理表。")
        return
    form = society_form(ctx.forms)

    def task():
        yield from ()
        read = read_decisions(path, form, handler=handler, approver=approver)
        if any(f.severity == "E" for f in read.findings):
            return read, None
        return read, apply_decisions(ctx.register, ctx.forms, read.decisions,
                                     actor=ctx.actor, batch=batch, when=when,
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
            parts = "，".join(f"{status_label(ctx.forms, k)} {v} 条"
                             for k, v in sorted(counts.items()))
            summary = (f"已处理 {len(result.changes)} 条" + (f"：{parts}" if parts else "")
                       + (f"；{result.skipped} 项无需处理" if result.skipped else "") + "。")
            ctx.notify(Changes.RECORDS)  # the member tab and its open record show the statuses
            ctx.status(summary)
        show_one(ctx.widget, "cleanupWorkbookResult",
                 lambda: FindingsDialog("清理表导入结果", summary, findings, ctx.widget))

    Operation(ctx, task, title="未能应用清理表", writes=True).success(done).run()
