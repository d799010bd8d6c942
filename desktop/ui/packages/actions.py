"""The 上报 menu: 导出上报包、导入上报包、导入退回意见、收件看板、退回、冲突、本单位公钥, and
dropping .djpkg / .djret files onto the main window. Each entry is one function in a
desktop/ui/package_*.py module; the work is in desktop/services/packages.py."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from desktop.errors import KnownError
from desktop.services import packages as svc
from desktop.ui.packages.conflicts import ConflictsDialog
from desktop.ui.packages.dashboard import DashboardDialog
from desktop.ui.packages.export import KEY_FILTER, start_export
from desktop.ui.packages.importing import DropFilter, choose_and_import
from desktop.ui.packages.returning import choose_and_return

if TYPE_CHECKING:
    from desktop.ui.mainwindow import MainWindow

#: levels that receive no packages from below (the lowest level of each chain)
RECEIVES_NOTHING = ("firm", "society-county")


def add_package_actions(window: MainWindow, menu: QMenu) -> None:
    """Add this menu's actions to `menu`; keep each QAction on the window for tests. Also makes
    the window take dropped package files."""

    def action(name: str, text: str, slot, tip: str = "") -> QAction:
        a = QAction(text, window)
        a.setStatusTip(tip)
        a.triggered.connect(lambda _checked=False: slot())
        setattr(window, name, a)
        menu.addAction(a)
        return a

    window.last_package_dialog = None
    window.last_import = []
    action("export_package_action", "导出上报包…", lambda: start_export(window),
           "签名并加密本单位的登记，发给已核对的上级单位")
    action("export_package_to_action", "导出上报包（指定接收方公钥）…",
           lambda: start_export(window, choose_key=True), "为所选公钥文件的单位加密")
    menu.addSeparator()
    action("import_package_action", "导入上报包…", lambda: choose_and_import(window),
           "核验并合并下级单位报送的上报包（也可把文件拖到窗口上）")
    action("dashboard_action", "收件看板…", lambda: show_dashboard(window),
           "应报单位与收件、逾期、退回、接收情况")
    action("return_action", "退回…", lambda: choose_and_return(window),
           "附意见退回一个已收到的数据包")
    action("conflicts_action", "冲突…", lambda: show_conflicts(window),
           "不同单位重复登记同一人的冲突")
    menu.addSeparator()
    action("import_return_action", "导入退回意见…",
           lambda: choose_and_import(window, returns_only=True),
           "导入上级单位的退回文件，意见显示在相应栏目旁")
    menu.addSeparator()
    action("own_key_action", "本单位公钥…", lambda: show_own_key(window),
           "显示本单位的公钥指纹，写出公钥文件")
    action("trust_key_action", "核对并信任公钥文件…", lambda: trust_key_file(window),
           "核对上级或下级单位的公钥文件（.djkey）")
    if window.own.level in RECEIVES_NOTHING:  # a firm only sends, and imports return files
        for a in (window.import_package_action, window.dashboard_action, window.return_action,
                  window.conflicts_action):
            a.setVisible(False)
    window.package_drop_filter = DropFilter(window)
    window.installEventFilter(window.package_drop_filter)
    window.setAcceptDrops(True)


def _modeless(window: MainWindow, dialog) -> None:
    window.last_package_dialog = dialog
    dialog.show()
    dialog.raise_()


def show_dashboard(window: MainWindow) -> None:
    _modeless(window, DashboardDialog(window))


def show_conflicts(window: MainWindow) -> None:
    _modeless(window, ConflictsDialog(window))


def show_own_key(window: MainWindow) -> None:
    """The own fingerprint in large type; 写出公钥文件… saves the .djkey for the other unit."""
    from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout

    from desktop.ui.packages.export import fingerprint_label

    info = svc.own_public_key(window.register)
    dialog = QDialog(window)
    dialog.setWindowTitle("本单位公钥")
    dialog.setObjectName("ownKey")
    text = QLabel(f"本单位：{info.describe()}\n公钥指纹（印在盖章的纸质封面上，供对方核对）：")
    text.setWordWrap(True)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
    save = buttons.addButton("写出公钥文件…", QDialogButtonBox.ButtonRole.ActionRole)
    save.clicked.connect(lambda: export_key_file(window))
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(text)
    layout.addWidget(fingerprint_label(info.fingerprint))
    layout.addWidget(buttons)
    dialog.setMinimumWidth(700)
    dialog.adjustSize()
    _modeless(window, dialog)


def export_key_file(window: MainWindow) -> Path | None:
    info = svc.own_public_key(window.register)
    suggested = window.register.path.with_name(f"{info.code}-公钥.djkey")
    name, _ = QFileDialog.getSaveFileName(window, "写出本单位公钥文件", str(suggested), KEY_FILTER)
    if not name:
        return None
    try:
        svc.export_public_key(window.register, Path(name))
    except KnownError as err:
        QMessageBox.warning(window, "未写出", str(err))
        return None
    window.show_status(f"已写出公钥文件 {name}")
    return Path(name)


def trust_key_file(window: MainWindow) -> bool:
    """Choose a .djkey (or a package), compare its fingerprint with the paper, trust it."""
    from PySide6.QtWidgets import QDialog

    from desktop.ui.packages.trust import TrustDialog

    name, _ = QFileDialog.getOpenFileName(window, "选择要核对的公钥文件", "",
                                          "公钥文件或上报包 (*.djkey *.djpkg);;所有文件 (*)")
    if not name:
        return False
    try:
        info = svc.key_info_of_file(Path(name), window.forms)
    except KnownError as err:
        QMessageBox.warning(window, "无法读取公钥", str(err))
        return False
    dialog = TrustDialog(info.name, info.code, info.level, info.fingerprint, Path(name).name,
                         window)
    window.last_package_dialog = dialog
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    try:
        info, new = svc.trust_key(window.register, window.forms, Path(name), dialog.typed(),
                                  actor=window.actor)
    except KnownError as err:
        QMessageBox.warning(window, "未信任", str(err))
        return False
    window.show_status(("已信任 " if new else "此前已信任 ") + info.describe())
    return True
