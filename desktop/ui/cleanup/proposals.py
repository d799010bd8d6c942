"""清理建议: the cleanup's proposals in four pages — 重复录入 groups (kept entry marked, the clerk
confirms, rejects or picks another entry to keep), 无身份证号, 长期失联或不履行义务 and 撤销资格 —
and one 应用 that applies every chosen decision all or nothing through `apply_decisions`."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.masking import masked_text
from desktop.domain.society.cleanup import DUPLICATE, INELIGIBLE, NO_ID, Member
from desktop.services.cleanup.propose import (
    ApplyResult,
    Decision,
    Proposal,
    apply_decisions,
    propose,
)
from desktop.services.cleanup.search import find_members
from desktop.ui.cleanup.common import (
    FORM_ID,
    LOADING_NOTE,
    FindingsList,
    PeopleRow,
    warm_member_search,
)
from desktop.ui.cleanup.models import CheckRowsModel, GroupsModel
from desktop.ui.cleanup.revoke import RevokePage
from desktop.ui.context import Changes, WindowContext
from desktop.ui.dialogs import fit_to_screen, guard_wheel
from desktop.ui.operations import Operation
from desktop.ui.records.reviewer import grey_out
from desktop.ui.register.unit_info import fill_people

PENDING, CONFIRMED, REJECTED = "待定", "确认重复", "不是重复"
KEEP_MARK, REMOVE_MARK = "★ 保留", "清理"
_DUP_COLS = ("决定 / 保留", "会员证号", "姓名", "公民身份号码", "出生日期", "工作单位", "手机",
             "会员状态", "判定依据")
#: the texts of the three lists: groups (head cells, [(record id, cells)]), no-ID, overdue
Rows = tuple[list[tuple[list[str], list[tuple[str, list[str]]]]], list[list[str]],
             list[list[str]]]
_NOID_COLS = ("暂时移出", "会员证号", "姓名", "出生日期", "工作单位", "手机", "会员状态")
_OVERDUE_COLS = ("不符合条件", "会员证号", "姓名", "工作单位", "最近联系日期", "最近履行义务日期",
                 "情形", "依据（可修改）")


def _view(model, widths: tuple[int, ...]) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(24)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setWordWrap(False)
    view.horizontalHeader().setStretchLastSection(True)
    for c, width in enumerate(widths):
        view.setColumnWidth(c, width)
    return view


class ProposalsDialog(QDialog):
    """The window's 清理建议. `proposal` is computed on the workers (`refresh`)."""

    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx.widget)
        self.ctx = ctx
        self.form = ctx.forms.form(FORM_ID)
        self.statuses = self.form.field("status").codes
        self.reasons = self.form.field("ineligible_reason").codes
        self.proposal: Proposal | None = None
        self.decisions: dict[int, str] = {}  # group index -> PENDING / CONFIRMED / REJECTED
        self.keep: dict[int, str] = {}  # group index -> record id kept
        self.last_result: ApplyResult | None = None
        self.setWindowTitle("清理建议 — 法学会个人会员清理")
        self._build()
        self.read_only = grey_out(ctx.register, (self.apply_button,))  # a reviewer role
        fit_to_screen(self, (1180, 760))

    # -- layout --

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.summary = QLabel("正在计算清理建议…")
        self.summary.setWordWrap(True)
        top.addWidget(self.summary, 1)
        top.addWidget(QLabel("失联或不履行义务年限"))
        self.years = QSpinBox()
        self.years.setRange(1, 20)
        self.years.setValue(3)
        self.years.setSuffix(" 年")
        guard_wheel(self.years)
        top.addWidget(self.years)
        self.recompute = QPushButton("重新计算")
        self.recompute.setAutoDefault(False)
        self.recompute.clicked.connect(self.refresh)
        top.addWidget(self.recompute)
        layout.addLayout(top)

        self.pages = QTabWidget()
        self.pages.addTab(self._dup_page(), "重复录入")
        self.noid = CheckRowsModel(_NOID_COLS)
        self.noid_view = _view(self.noid, (70, 120, 80, 95, 220, 110, 130))
        self.pages.addTab(self._checked_page(
            self.noid, self.noid_view,
            "勾选的会员暂时移出会员队伍（不是一律清理：补全身份证号并经本人同意后可重新入会）。"),
            "无身份证号")
        self.overdue = CheckRowsModel(_OVERDUE_COLS, editable=(7,))
        self.overdue_view = _view(self.overdue, (80, 110, 70, 150, 100, 125, 190))
        self.overdue_view.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked |
                                          QAbstractItemView.EditTrigger.EditKeyPressed)
        self.pages.addTab(self._checked_page(
            self.overdue, self.overdue_view,
            "勾选的会员按“不符合条件”撤销会员资格（须填审批人；依据可双击修改）。"),
            "长期失联或不履行义务")
        self.revoke = RevokePage(
            self.reasons, lambda q: find_members(self.ctx.register, q,
                                                 wait=not self.revoke.waiting_note),
            self.statuses)
        if warm_member_search(self.ctx, self, self.revoke.search_again):
            self.revoke.waiting_note = LOADING_NOTE
        self.revoke.changed.connect(self._count_chosen)
        self.pages.addTab(self.revoke, "撤销资格")
        for model in (self.noid, self.overdue):
            model.dataChanged.connect(lambda *_a: self._count_chosen())

        self.findings = FindingsList()
        self.findings.hide()  # shown when an 应用 has findings
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.pages)
        split.addWidget(self.findings)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout.addWidget(split, 1)

        self.people = PeopleRow("", approver_hint="长期失联等不符合条件须填")
        fill_people(self.ctx, self.people.handler, self.people.approver)
        layout.addWidget(self.people)
        bottom = QHBoxLayout()
        self.chosen_label = QLabel()
        bottom.addWidget(self.chosen_label, 1)
        self.apply_button = QPushButton("应用（全部无误才写入）")
        self.apply_button.setAutoDefault(False)
        self.apply_button.clicked.connect(self.apply)
        close = QPushButton("关闭")
        close.setAutoDefault(False)
        close.clicked.connect(self.close)
        bottom.addWidget(self.apply_button)
        bottom.addWidget(close)
        layout.addLayout(bottom)

    def _dup_page(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        hint = QLabel("每组是同一人的多个条目：★ 为建议保留的条目（最完整，其次会员证号最早），双击另一条目可改为保留它。"
                      "确认后其余条目按“已清理-重复录入”处理，并记录并入的会员证号。")
        hint.setWordWrap(True)
        v.addWidget(hint)
        self.groups = GroupsModel(_DUP_COLS, lambda gi: self.decisions.get(gi, PENDING),
                                  lambda gi: self.keep.get(gi, ""), KEEP_MARK, REMOVE_MARK,
                                  CONFIRMED, REJECTED)
        self.groups_view = _view(self.groups, (90, 120, 70, 150, 90, 180, 100, 110))
        self.groups_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.groups_view.doubleClicked.connect(lambda index: self.set_keep(index.row()))
        v.addWidget(self.groups_view, 1)
        row = QHBoxLayout()
        for text, slot in (("确认为重复", lambda: self.decide_selected(CONFIRMED)),
                           ("不是重复", lambda: self.decide_selected(REJECTED)),
                           ("恢复待定", lambda: self.decide_selected(PENDING)),
                           ("设为保留条目", lambda: self.set_keep(
                               self.groups_view.currentIndex().row())),
                           ("确认全部“同一公民身份号码”组", self.confirm_certain)):
            button = QPushButton(text)
            button.setAutoDefault(False)
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addStretch(1)
        v.addLayout(row)
        return page

    def _checked_page(self, model: CheckRowsModel, view: QTableView, hint: str) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        label = QLabel(hint)
        label.setWordWrap(True)
        v.addWidget(label)
        v.addWidget(view, 1)
        row = QHBoxLayout()
        for text, state in (("全选", True), ("全不选", False)):
            button = QPushButton(text)
            button.setAutoDefault(False)
            button.clicked.connect(lambda _c=False, s=state: model.set_all(s))
            row.addWidget(button)
        row.addStretch(1)
        v.addLayout(row)
        return page

    # -- computing --

    def refresh(self) -> None:
        """Compute the proposals on the workers; the pages fill when done."""
        ctx, years = self.ctx, self.years.value()
        self.recompute.setEnabled(False)
        self.apply_button.setEnabled(False)
        self.summary.setText("正在计算清理建议…")

        def ended() -> None:
            self.recompute.setEnabled(True)
            self.apply_button.setEnabled(not self.read_only)

        def task():
            proposal = yield from propose(ctx.register, ctx.forms, years=years)
            return proposal, self.rows_of(proposal)  # the texts too: plain Python, off the window

        Operation(ctx, task, title="无法计算清理建议").finally_(ended).success(
            lambda outcome: self.show_proposal(*outcome)).run()

    def rows_of(self, p: Proposal) -> Rows:
        """The texts the three lists show (no Qt: runs on the worker)."""
        groups = []
        for gi, g in enumerate(p.groups):
            kind = "确定重复（同一公民身份号码）" if g.certain else "候选（须经办人确认）"
            reasons = {r.member.id: r.reason for r in g.removals}
            groups.append(([f"第 {gi + 1} 组", g.keep.name, "", "", "", "", f"{len(g.members)} 条",
                            kind],
                           [(m.id, [*self._entry_cells(m), reasons.get(m.id, "")])
                            for m in g.members]))
        noid = [[c[0], c[1], c[3], c[4], c[5], c[6]] for c in map(self._entry_cells, p.no_id)]
        overdue = [[o.member.member_no, o.member.name, o.member.employer, o.last_contact,
                    o.last_duty, self._reason(o.reason), o.basis] for o in p.overdue]
        return groups, noid, overdue

    def show_proposal(self, p: Proposal, rows: Rows | None = None) -> None:
        groups, noid, overdue = rows or self.rows_of(p)
        self.proposal = p
        self.decisions = {i: PENDING for i in range(len(p.groups))}
        self.keep = {i: g.keep.id for i, g in enumerate(p.groups)}
        self.summary.setText(
            f"登记条目 {p.entries} 条（在册 {p.active} 条）。重复录入 {len(p.groups)} 组、建议清理 "
            f"{p.removals} 条；无身份证号 {len(p.no_id)} 人；长期失联或不履行义务 {len(p.overdue)} 人"
            + (f"（另有 {p.undated} 人两项日期都没有登记，无法判断）" if p.undated else "") + "。")
        self.groups.set_groups(groups)
        self.noid.set_rows(noid)
        self.overdue.set_rows(overdue)
        self._count_chosen()

    def _status(self, code: str) -> str:
        return self.statuses.label_of(code) if self.statuses else code

    def _reason(self, code: str) -> str:
        return self.reasons.label_of(code) if self.reasons else code

    def _entry_cells(self, m: Member) -> list[str]:
        return [m.member_no, m.name, masked_text("id", m.id_number) if m.id_number else "（无）",
                masked_text("birth", m.birth_date), m.employer, masked_text("phone", m.mobile),
                self._status(m.status)]

    # -- the clerk's choices --

    def _selected_groups(self) -> list[int]:
        rows = {i.row() for i in self.groups_view.selectionModel().selectedRows()}
        current = self.groups_view.currentIndex()
        if not rows and current.isValid():
            rows = {current.row()}
        return sorted({self.groups.group_of(r) for r in rows})

    def decide_selected(self, decision: str) -> None:
        for gi in self._selected_groups():
            self.decide(gi, decision)

    def decide(self, gi: int, decision: str) -> None:
        """Confirm (CONFIRMED), reject (REJECTED) or reset (PENDING) group `gi`."""
        self.decisions[gi] = decision
        self.groups.group_changed(gi)
        self._count_chosen()

    def confirm_certain(self) -> None:
        assert self.proposal is not None
        for gi, g in enumerate(self.proposal.groups):
            if g.certain and self.decisions[gi] == PENDING:
                self.decide(gi, CONFIRMED)

    def set_keep(self, row: int) -> None:
        """Keep the entry of `row` (an entry row) in its group instead of the suggested one."""
        if row < 0 or not self.groups.record_of(row):
            return
        gi = self.groups.group_of(row)
        self.keep[gi] = self.groups.record_of(row)
        self.groups.group_changed(gi)

    def _count_chosen(self) -> None:
        if self.proposal is None:
            return
        groups = sum(d == CONFIRMED for d in self.decisions.values())
        self.chosen_label.setText(
            f"已选：重复录入 {groups} 组，无身份证号 {len(self.noid.checked_rows())} 人，"
            f"长期失联或不履行义务 {len(self.overdue.checked_rows())} 人，"
            f"撤销资格 {self.revoke.count()} 人")

    # -- deciding --

    def chosen_decisions(self, handler: str, approver: str) -> list[Decision]:
        """Every decision the clerk chose, in the form `apply_decisions` takes."""
        assert self.proposal is not None
        out: list[Decision] = []
        for gi, g in enumerate(self.proposal.groups):
            if self.decisions[gi] != CONFIRMED:
                continue
            keep = next(m for m in g.members if m.id == self.keep[gi])
            reasons = {r.member.id: r.reason for r in g.removals}
            for m in g.members:
                if m.id == keep.id or m.status == DUPLICATE:
                    continue
                why = reasons.get(m.id, "") if keep.id == g.keep.id else ""
                out.append(Decision(
                    DUPLICATE, record_id=m.id, member_no=m.member_no, merged_into=keep.id,
                    basis=f"与会员证号 {keep.member_no or '（无）'}（{keep.name}）的条目重复录入"
                          f"（{why or '经办人确认为同一人'}），保留该条目",
                    handler=handler, row=f"重复录入第 {gi + 1} 组 {m.name}", proposed=True))
        for r in self.noid.checked_rows():
            m = self.proposal.no_id[r]
            out.append(Decision(NO_ID, record_id=m.id, member_no=m.member_no,
                                basis="会员管理信息系统中无身份证号，暂时移出会员队伍",
                                handler=handler, row=f"无身份证号：{m.name}", proposed=True))
        for r in self.overdue.checked_rows():
            o = self.proposal.overdue[r]
            out.append(Decision(INELIGIBLE, record_id=o.member.id, member_no=o.member.member_no,
                                basis=self.overdue.text(r, 7).strip(), handler=handler,
                                approver=approver, reason=o.reason,
                                row=f"长期失联或不履行义务：{o.member.name}", proposed=True))
        out += self.revoke.decisions(handler, approver)
        return out

    def apply(self) -> None:
        """Apply every chosen decision in one transaction on the write pool; none if any is
        refused, and the findings say why."""
        if self.proposal is None:
            return
        handler, approver, batch, when = self.people.values()
        if not handler:
            QMessageBox.warning(self, "请填写经办人", "请先填写经办人，每项处理决定都记录经办人。")
            self.people.handler.setFocus()
            return
        decisions = self.chosen_decisions(handler, approver)
        if not decisions:
            QMessageBox.information(self, "没有选择处理决定",
                                    "还没有确认任何一组重复录入、勾选任何会员或加入撤销资格。")
            return
        if not self.confirm(decisions):
            return
        ctx = self.ctx
        self.apply_button.setEnabled(False)

        def task():
            yield from ()
            return apply_decisions(ctx.register, ctx.forms, decisions,
                                   actor=ctx.actor, batch=batch, when=when,
                                   source="窗口：清理建议")

        Operation(ctx, task, title="清理决定未能应用", writes=True).finally_(
            lambda: self.apply_button.setEnabled(True)).success(self.applied).run()

    def confirm_text(self, decisions: list[Decision]) -> str:
        """What 应用 is about to do, with the count per category."""
        counts: dict[str, int] = {}
        for d in decisions:
            counts[d.target] = counts.get(d.target, 0) + 1
        lines = [f"{self._status(k)}：{v} 人" for k, v in sorted(counts.items())]
        return (f"将对 {len(decisions)} 条会员记录作出清理决定：\n" + "\n".join(lines)
                + "\n\n应用后这些会员的状态随即改变（已处理过的会跳过），每项改动记入操作日志。"
                "如有误，可用“清理 → 恢复在册…”逐条恢复。")

    def confirm(self, decisions: list[Decision]) -> bool:
        """Ask before 应用, naming the counts per category; True: go on."""
        box = QMessageBox(QMessageBox.Icon.Question, "确认应用清理决定",
                          self.confirm_text(decisions), QMessageBox.StandardButton.NoButton,
                          self)
        box.setObjectName("cleanupConfirm")
        go = box.addButton("应用", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(box.addButton("取消", QMessageBox.ButtonRole.RejectRole))
        box.exec()
        return box.clickedButton() is go

    def applied(self, result: ApplyResult) -> None:
        self.last_result = result
        self.findings.show_findings(result.findings)
        self.findings.setVisible(bool(result.findings))
        if result.refused:
            errors = sum(f.severity == "E" for f in result.findings)
            QMessageBox.warning(self, "未作任何改动",
                                f"有 {errors} 项决定不能执行（见下方列表），本次未作任何改动。"
                                "改正后再点“应用”。")
            return
        counts: dict[str, int] = {}
        for ch in result.changes:
            counts[ch.after] = counts.get(ch.after, 0) + 1
        parts = "，".join(f"{self._status(k)} {v} 条" for k, v in sorted(counts.items()))
        self.ctx.notify(Changes.RECORDS)  # the member tab and its open record
        self.ctx.status(f"清理决定已应用：{len(result.changes)} 条")
        QMessageBox.information(self, "清理决定已应用",
                                f"已处理 {len(result.changes)} 条" + (f"：{parts}" if parts else "")
                                + (f"；{result.skipped} 项无需处理" if result.skipped else "")
                                + "。每项改动都已记入操作日志。")
        self.revoke.clear()
        self.refresh()
