"""本单位信息…: the clerk corrects the unit's name (and, before the first package, its code) and
sets once the names outputs and the audit log default to (经办人, 审批人, 填报人, 联系方式).

The work is desktop/services/unit.py; this is the form. After a save the window's actor (who the
audit log names) is the new 经办人, for the context and every form tab.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from desktop.errors import KnownError
from desktop.services.unit import (
    FIELD_LABELS,
    MAX_LENGTH,
    UnitProfile,
    code_is_known,
    save_unit_profile,
    unit_profile,
)
from desktop.ui.context import Changes, WindowContext
from desktop.ui.dialogs import WorkDialog, fit_to_screen, show_one

NAME = "unitInfoDialog"
HINTS = {
    "name": "改名后随下一个数据包报送上级，由上级确认",
    "code": "",
    "handler": "操作日志和各类输出默认署此名",
    "approver": "清理撤销等须审批的事项默认填此名",
    "filler": "统计表、导出的表格默认填此名",
    "phone": "统计表、导出的表格默认填此电话",
}


def profile_of(ctx: WindowContext) -> UnitProfile:
    """The own unit's profile (read when asked: a dialog always shows what is stored)."""
    return unit_profile(ctx.register)


def use_actor(ctx: WindowContext, profile: UnitProfile) -> None:
    """From now on the audit log names the profile's 经办人 for work done in this window."""
    ctx.actor = profile.actor
    for tab in ctx.tabs():
        tab.actor = profile.actor
        tab.session.actor = profile.actor


class UnitInfoDialog(WorkDialog):
    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx.widget)
        self.ctx = ctx
        self.setWindowTitle("本单位信息")
        profile = profile_of(ctx)
        self.edits: dict[str, QLineEdit] = {}
        form = QFormLayout()
        form.addRow("本单位层级：", QLabel(profile.level_name))
        with ctx.register.session() as session:
            code_fixed = code_is_known(session)
        for field, label in FIELD_LABELS.items():
            edit = QLineEdit(getattr(profile, field))
            edit.setObjectName(f"unit:{field}")
            edit.setAccessibleName(label)
            edit.setMaxLength(MAX_LENGTH)
            hint = HINTS[field]
            if field == "code" and code_fixed:
                edit.setReadOnly(True)
                hint = "已收发过数据包，上下级按此代码识别本单位，不能再改"
            elif field == "code":
                hint = "尚未收发数据包，填错可在此改正"
            if hint:
                edit.setPlaceholderText(hint)
                edit.setToolTip(hint)
            self.edits[field] = edit
            form.addRow(f"{label}：", edit)
        self.missing = QLabel("")
        self.missing.setWordWrap(True)
        if profile.missing:
            self.missing.setText(f"尚未填写：{'、'.join(profile.missing)}。填写后，操作日志和各类"
                                 "输出默认使用这些名字，而不是电脑的登录名。")
        self.error = QLabel("")
        self.error.setObjectName("unitInfoError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("保存")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.missing)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        fit_to_screen(self, (520, self.sizeHint().height()))

    def save(self) -> None:
        before = profile_of(self.ctx)
        changes = {f: e.text() for f, e in self.edits.items()
                   if e.text().strip() != getattr(before, f)}
        if not changes:
            self.accept()
            return
        actor = changes.get("handler", "").strip() or before.actor
        try:
            profile = save_unit_profile(self.ctx.register, actor, changes,
                                        tables=self.ctx.forms.tables)
        except KnownError as e:
            self.error.setText(str(e))
            return
        use_actor(self.ctx, profile)
        renamed = profile.name != before.name or profile.code != before.code
        if renamed:
            self.ctx.notify(Changes.UNITS)
        self.ctx.status("本单位信息已保存" + ("；单位名称随下一个数据包报送上级，由上级确认"
                                          if renamed else ""))
        self.accept()


def show_unit_info(ctx: WindowContext) -> UnitInfoDialog:
    return show_one(ctx.widget, NAME, lambda: UnitInfoDialog(ctx))  # type: ignore[return-value]


def fill_people(ctx: WindowContext, handler: QLineEdit, approver: QLineEdit | None = None
                ) -> None:
    """A form's 经办人 (and 审批人) start as 本单位信息 names them; an unset one stays empty and
    says where to set it (never the computer's login name)."""
    profile = profile_of(ctx)
    for edit, value in ((handler, profile.handler), (approver, profile.approver)):
        if edit is None:
            continue
        edit.setText(value)
        if not value:
            edit.setPlaceholderText("可在“登记库 → 本单位信息…”中设定默认姓名")
