"""The 登记库 menu's 备份…, 恢复… and 关于 entries: file dialogs, progress, clear messages.

The work itself is in desktop/storage/backup.py; a backup runs on the write pool so the window
stays responsive, a restore runs after every editor has let go of the register.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from desktop.errors import KnownError
from desktop.progress import Progress
from desktop.storage import SCHEMA_VERSION
from desktop.storage.backup import (
    BackupInfo,
    backup_dir,
    backup_register,
    check_restore,
    restore_register,
)

if TYPE_CHECKING:
    from desktop.ui.mainwindow import MainWindow

FILE_FILTER = "登记库备份 (*.dengji);;所有文件 (*)"


def add_register_actions(window: MainWindow, menu: QMenu) -> None:
    """Add 备份…, 恢复… and 关于 to `menu`; the actions are kept on the window for tests."""
    menu.addSeparator()
    window.backup_action = QAction("备份…", window)
    window.backup_action.triggered.connect(lambda: start_backup(window))
    window.restore_action = QAction("恢复…", window)
    window.restore_action.triggered.connect(lambda: start_restore(window))
    window.about_action = QAction("关于", window)
    window.about_action.triggered.connect(lambda: show_about(window))
    for action in (window.backup_action, window.restore_action, window.about_action):
        menu.addAction(action)


def app_version() -> str:
    """The installed version of dengji, or the one in pyproject.toml in a source checkout."""
    try:
        return metadata.version("dengji")
    except metadata.PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"
        try:
            return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
        except (OSError, KeyError, ValueError):
            return "未知"


def about_text(window: MainWindow) -> str:
    """What 关于 shows: versions and where the register lives."""
    forms = "\n".join(f"  {form.display_title}：{form.version}"
                      for form in window.forms.forms.values())
    return (f"登记 Dengji {app_version()}\n\n"
            f"登记库结构版本：{SCHEMA_VERSION}\n"
            f"表单版本：\n{forms}\n\n"
            f"登记库文件：{window.register.path}\n"
            f"自动备份文件夹：{backup_dir(window.register.path)}")


def show_about(window: MainWindow) -> None:
    QMessageBox.about(window, "关于登记", about_text(window))


def _backup_task(window: MainWindow, target: Path) -> Iterator[Progress]:
    yield Progress(0, 1, "正在备份登记库…")
    info = backup_register(window.register, target)
    yield Progress(1, 1, "备份完成")
    return info


def start_backup(window: MainWindow) -> None:
    """Ask where to put the backup, then write it on the write pool."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    suggested = window.register.path.with_name(f"{window.register.path.stem}-备份-{stamp}.dengji")
    name, _ = QFileDialog.getSaveFileName(window, "备份登记库", str(suggested), FILE_FILTER)
    if not name:
        return
    target = Path(name)

    def done(info: BackupInfo) -> None:
        window.progress.hide()
        window.show_status(f"已备份到 {info.path}")
        QMessageBox.information(
            window, "备份完成",
            f"已备份到：\n{info.path}\n\n共 {info.records} 条记录，备份已核对无误。"
            "恢复时用同一口令打开。请把备份保存到另一个磁盘或 U 盘上。")

    def failed(message: str) -> None:
        window.progress.hide()
        QMessageBox.warning(window, "备份未完成", message)

    window.workers.start(lambda: _backup_task(window, target), on_done=done,
                         on_progress=window._progress, on_error=failed, writes=True)


def start_restore(window: MainWindow) -> bool:
    """Ask for a backup, check it, confirm, then restore it; the window closes afterwards so the
    restored register is read afresh. Returns whether the register was restored."""
    name, _ = QFileDialog.getOpenFileName(window, "选择要恢复的备份", str(
        backup_dir(window.register.path)), FILE_FILTER)
    if not name:
        return False
    source = Path(name)
    try:
        info = check_restore(window.register, source)
    except KnownError as err:
        QMessageBox.warning(window, "不能恢复", str(err))
        return False
    answer = QMessageBox.question(
        window, "恢复登记库",
        f"用备份 {source.name}（{info.records} 条记录）替换当前登记库？\n"
        "当前登记库会先自动备份到“备份”文件夹。恢复后窗口将关闭，请重新打开登记软件。")
    if answer != QMessageBox.StandardButton.Yes:
        return False
    window.workers.cancel_all()
    window.workers.wait(10000)
    for tab in window.form_tabs:  # every editor lets go of the register first
        tab.close_session()
    try:
        safety = restore_register(window.register, source, actor=window.actor)
    except KnownError as err:
        QMessageBox.warning(window, "恢复未完成", f"{err}\n\n窗口将关闭，请重新打开登记软件。")
        window.close()
        return False
    QMessageBox.information(
        window, "恢复完成",
        f"已用 {source.name} 恢复登记库。\n恢复前的登记库已备份到：\n{safety.path}\n\n"
        "窗口将关闭，请重新打开登记软件。")
    window.close()
    return True
