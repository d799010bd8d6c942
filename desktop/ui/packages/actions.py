"""The 上报 menu: 导出上报包、导入上报包、导入退回意见、收件看板、退回、冲突、导出开放数据、本单位公钥, and
dropping .djpkg / .djret files onto the main window. Each entry is one function here or in a
desktop/ui/packages module; the work is in desktop/services/packages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMenu,
    QMessageBox,
    QVBoxLayout,
)

from desktop.errors import KnownError
from desktop.services import packages as svc
from desktop.ui.actions import Action
from desktop.ui.context import Changes, WindowContext
from desktop.ui.dialogs import show_one
from desktop.ui.files import offer_folder, open_path, save_path
from desktop.ui.packages.conflicts import ConflictsDialog
from desktop.ui.packages.dashboard import DashboardDialog
from desktop.ui.packages.export import KEY_FILTER, fingerprint_label, start_export
from desktop.ui.packages.importing import DropFilter, choose_and_import
from desktop.ui.packages.opendata import start_open_export
from desktop.ui.packages.returning import ReturnDialog
from desktop.ui.packages.trust import TrustDialog, rotate_own_key

#: levels that receive no packages from below (the lowest level of each chain)
RECEIVES_NOTHING = ("firm", "society-county")


def add_package_actions(ctx: WindowContext, menu: QMenu) -> None:
    """Add this menu's actions to `menu` (named by Action); also makes the window take dropped
    package files."""
    entries: tuple[tuple[Action | None, str, Callable[[], object], str], ...] = (
        (Action.EXPORT_PACKAGE, "导出上报包…", lambda: start_export(ctx),
         "先校验本单位的记录，再签名并加密，发给接收单位（已核对的上级单位或记住的公钥）"),
        (Action.EXPORT_PACKAGE_TO, "导出上报包（指定接收方公钥）…",
         lambda: start_export(ctx, choose_key=True),
         "选择接收单位的公钥文件；本登记库记住它，以后导出都为它加密"),
        (None, "", lambda: None, ""),
        (Action.IMPORT_PACKAGE, "导入上报包…", lambda: choose_and_import(ctx),
         "核验并合并下级单位报送的上报包（也可把文件拖到窗口上）"),
        (Action.DASHBOARD, "收件看板…", lambda: show_dashboard(ctx),
         "应报单位与收件、逾期、退回、接收情况"),
        (Action.RETURN_PACKAGE, "退回…", lambda: choose_and_return(ctx),
         "附意见退回一个已收到的数据包"),
        (Action.CONFLICTS, "冲突…", lambda: show_conflicts(ctx), "不同单位重复登记同一人的冲突"),
        (None, "", lambda: None, ""),
        (Action.IMPORT_RETURN, "导入退回意见…", lambda: choose_and_import(ctx, returns_only=True),
         "导入上级单位的退回文件，意见显示在相应栏目旁"),
        (None, "", lambda: None, ""),
        (Action.EXPORT_OPEN, "导出开放数据…", lambda: start_open_export(ctx),
         "把已完成、已接收的记录导出为开放格式（JSON Lines、JSON Schema、数据字典），"
         "供全国律师综合管理系统对接（完整数据，记入操作日志）"),
        (None, "", lambda: None, ""),
        (Action.OWN_KEY, "本单位公钥…", lambda: show_own_key(ctx),
         "显示本单位的公钥指纹，写出公钥文件"),
        (Action.TRUST_KEY, "核对并信任公钥文件…", lambda: trust_key_file(ctx),
         "核对上级或下级单位的公钥文件（.djkey）"),
        (Action.ROTATE_KEY, "换钥…", lambda: rotate_own_key(ctx),
         "生成本单位新的密钥对，由旧公钥签名的换钥声明随下一个数据包上报，上级据此改用新公钥"),
    )
    for name, text, slot, tip in entries:
        if name is None:
            menu.addSeparator()
        else:
            ctx.add_action(name, text, slot, menu=menu, tip=tip)
    if ctx.own.level in RECEIVES_NOTHING:  # a firm only sends, and imports return files
        for name in (Action.IMPORT_PACKAGE, Action.DASHBOARD, Action.RETURN_PACKAGE,
                     Action.CONFLICTS):
            ctx.action(name).setVisible(False)
    ctx.accept_drops(DropFilter(ctx))


def show_dashboard(ctx: WindowContext) -> QDialog:
    return show_one(ctx.widget, "dashboard", lambda: DashboardDialog(ctx),
                    reuse=DashboardDialog.reload)


def show_conflicts(ctx: WindowContext) -> QDialog:
    return show_one(ctx.widget, "conflicts", lambda: ConflictsDialog(ctx),
                    reuse=ConflictsDialog.reload)


def choose_and_return(ctx: WindowContext) -> None:
    """退回…: the package of the unit selected in the tree (the record open in the editor
    preselected); with the own unit selected, the dashboard to choose from."""
    unit_id = ctx.shown_unit_id()
    unit = next((u for u in ctx.units() if u.id == unit_id and not u.is_own), None)
    row = None
    if unit is not None:
        row = next((r for r in svc.dashboard(ctx.register)
                    if r.code == unit.code and r.package_id), None)
    if row is None:
        show_dashboard(ctx)
        ctx.status("在收件看板中选择一个已收到的单位，再点“退回…”")
        return
    if row.status == "已退回":
        QMessageBox.information(ctx.widget, "已退回",
                                f"{row.name} 的数据包已退回，等待其重新报送。")
        return
    editing = ctx.current_tab().session.record_id
    if ReturnDialog(ctx, row.package_id, row.name, record_id=editing).exec():
        ctx.notify(Changes.ALL)


def own_key_dialog(ctx: WindowContext) -> QDialog:
    """The own fingerprint in large type; 写出公钥文件… saves the .djkey for the other unit."""
    info = svc.own_public_key(ctx.register)
    dialog = QDialog(ctx.widget)
    dialog.setWindowTitle("本单位公钥")
    dialog.setObjectName("ownKey")
    text = QLabel(f"本单位：{info.describe()}\n公钥指纹（印在盖章的纸质封面上，供对方核对）：")
    text.setWordWrap(True)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
    save = buttons.addButton("写出公钥文件…", QDialogButtonBox.ButtonRole.ActionRole)
    save.clicked.connect(lambda: export_key_file(ctx))
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(text)
    layout.addWidget(fingerprint_label(info.fingerprint))
    layout.addWidget(buttons)
    dialog.setMinimumWidth(700)
    dialog.adjustSize()
    return dialog


def show_own_key(ctx: WindowContext) -> QDialog:
    return show_one(ctx.widget, "ownKey", lambda: own_key_dialog(ctx), reuse=QDialog.raise_)


def export_key_file(ctx: WindowContext) -> Path | None:
    info = svc.own_public_key(ctx.register)
    path = save_path(ctx, "keys", "写出本单位公钥文件", f"{info.code}-公钥.djkey", KEY_FILTER)
    if path is None:
        return None
    try:
        svc.export_public_key(ctx.register, path)
    except KnownError as err:
        QMessageBox.warning(ctx.widget, "未写出", str(err))
        return None
    ctx.status(f"已写出公钥文件 {path}")
    offer_folder(ctx, path)
    return path


def trust_key_file(ctx: WindowContext) -> bool:
    """Choose a .djkey (or a package), compare its fingerprint with the paper, trust it."""
    chosen = open_path(ctx, "keys", "选择要核对的公钥文件",
                       "公钥文件或上报包 (*.djkey *.djpkg);;所有文件 (*)")
    if chosen is None:
        return False
    name = str(chosen)
    try:
        info = svc.key_info_of_file(Path(name), ctx.forms)
    except KnownError as err:
        QMessageBox.warning(ctx.widget, "无法读取公钥", str(err))
        return False
    dialog = TrustDialog(info.name, info.code, info.level, info.fingerprint, Path(name).name,
                         ctx.widget)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    try:
        info, new = svc.trust_key(ctx.register, ctx.forms, Path(name), dialog.typed(),
                                  actor=ctx.actor)
    except KnownError as err:
        QMessageBox.warning(ctx.widget, "未信任", str(err))
        return False
    ctx.status(("已信任 " if new else "此前已信任 ") + info.describe())
    return True
