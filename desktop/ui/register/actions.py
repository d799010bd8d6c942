"""The 登记库 menu's 备份…, 恢复… and 关于 entries: file dialogs, progress, clear messages.

The work itself is in desktop/storage/backup.py; a backup runs on the write pool so the window
stays responsive, a restore runs after every editor has let go of the register.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from importlib import metadata
from pathlib import Path

from PySide6.QtWidgets import QMenu, QMessageBox

from desktop.errors import KnownError
from desktop.progress import Progress
from desktop.storage import SCHEMA_VERSION, Register
from desktop.storage.backup import (
    BackupInfo,
    backup_register,
    check_restore,
    restore_register,
)
from desktop.storage.files import backup_dir
from desktop.ui.actions import Action
from desktop.ui.context import WindowContext
from desktop.ui.files import offer_folder, open_path, save_path
from desktop.ui.operations import Operation
from desktop.ui.register.handover import show_handover
from desktop.ui.register.passphrase import show_change_passphrase
from desktop.ui.register.renewal import new_recovery_key
from desktop.ui.register.unit_info import show_unit_info

FILE_FILTER = "登记库备份 (*.dengji);;所有文件 (*)"


def add_register_actions(ctx: WindowContext, menu: QMenu) -> None:
    """Add 本单位信息…, 修改口令…, 新的恢复密钥…, 移交…, 备份…, 恢复… and 关于 to `menu` (found by
    name: `ctx.action(Action.BACKUP)`)."""
    menu.addSeparator()
    ctx.add_action(Action.UNIT_INFO, "本单位信息…", lambda: show_unit_info(ctx), menu=menu,
                   tip="本单位名称、代码，经办人、审批人、填报人和联系方式")
    menu.addSeparator()
    ctx.add_action(Action.CHANGE_PASSPHRASE, "修改口令…", lambda: show_change_passphrase(ctx),
                   menu=menu, tip="修改打开登记库的口令（先自动备份）")
    ctx.add_action(Action.NEW_RECOVERY_KEY, "新的恢复密钥…", lambda: new_recovery_key(ctx),
                   menu=menu, tip="生成并打印新的恢复密钥单；原来的恢复密钥单作废")
    ctx.add_action(Action.HANDOVER, "移交…", lambda: show_handover(ctx), menu=menu,
                   tip="经办人更换：接收人设置新口令，生成新的恢复密钥，打印移交清单")
    menu.addSeparator()
    ctx.add_action(Action.BACKUP, "备份…", lambda: start_backup(ctx), menu=menu)
    ctx.add_action(Action.RESTORE, "恢复…", lambda: start_restore(ctx), menu=menu)
    ctx.add_action(Action.ABOUT, "关于", lambda: show_about(ctx), menu=menu)


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


def about_text(ctx: WindowContext) -> str:
    """What 关于 shows: versions and where the register lives."""
    forms = "\n".join(f"  {form.display_title}：{form.version}"
                      for form in ctx.forms.forms.values())
    return (f"登记 Dengji {app_version()}\n\n"
            f"登记库结构版本：{SCHEMA_VERSION}\n"
            f"表单版本：\n{forms}\n\n"
            f"登记库文件：{ctx.register.path}\n"
            f"自动备份文件夹：{backup_dir(ctx.register.path)}")


def show_about(ctx: WindowContext) -> None:
    QMessageBox.about(ctx.widget, "关于登记", about_text(ctx))


def _backup_task(register: Register, target: Path) -> Iterator[Progress]:
    yield Progress(0, 1, "正在备份登记库…")
    info = backup_register(register, target)
    yield Progress(1, 1, "备份完成")
    return info


def start_backup(ctx: WindowContext) -> None:
    """Ask where to put the backup, then write it on the write pool."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    target = save_path(ctx, "backup", "备份登记库", f"{ctx.register.path.stem}-备份-{stamp}.dengji",
                       FILE_FILTER)
    if target is None:
        return

    def done(info: BackupInfo) -> None:
        ctx.status(f"已备份到 {info.path}")
        offer_folder(ctx, info.path)
        QMessageBox.information(
            ctx.widget, "备份完成",
            f"已备份到：\n{info.path}\n\n共 {info.records} 条记录，备份已核对无误。"
            "恢复时用同一口令打开。请把备份保存到另一个磁盘或 U 盘上。")

    Operation(ctx, lambda: _backup_task(ctx.register, target), title="备份未完成",
              writes=True).success(done).run()


def start_restore(ctx: WindowContext) -> bool:
    """Ask for a backup, check it, confirm, then restore it; the window closes afterwards so the
    restored register is read afresh. Returns whether the register was restored."""
    source = open_path(ctx, "backup", "选择要恢复的备份", FILE_FILTER)
    if source is None:
        return False
    try:
        info = check_restore(ctx.register, source)
    except KnownError as err:
        QMessageBox.warning(ctx.widget, "不能恢复", str(err))
        return False
    answer = QMessageBox.question(
        ctx.widget, "恢复登记库",
        f"用备份 {source.name}（{info.records} 条记录）替换当前登记库？\n"
        "当前登记库会先自动备份到“备份”文件夹。恢复后窗口将关闭，请重新打开登记软件。")
    if answer != QMessageBox.StandardButton.Yes:
        return False
    ctx.workers.cancel_all()
    ctx.workers.wait(10000)
    for tab in ctx.tabs():  # every editor lets go of the register first
        tab.close_session()
    try:
        safety = restore_register(ctx.register, source, actor=ctx.actor)
    except KnownError as err:
        QMessageBox.warning(ctx.widget, "恢复未完成", f"{err}\n\n窗口将关闭，请重新打开登记软件。")
        ctx.widget.close()
        return False
    QMessageBox.information(
        ctx.widget, "恢复完成",
        f"已用 {source.name} 恢复登记库。\n恢复前的登记库已备份到：\n{safety.path}\n\n"
        "窗口将关闭，请重新打开登记软件。")
    ctx.widget.close()
    return True
