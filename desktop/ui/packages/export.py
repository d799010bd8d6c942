"""导出上报包…: the own records are checked first (a refusal lists each error with its way
out, before any file is asked for); then the export dialog shows the recipient — the trusted
parent's key, or the key file chosen once and remembered in the register — with its fingerprint,
offers 更换… and 打印封面…, and writes the signed package on the write pool; the done dialog says
where it is and which fingerprint the paper cover must carry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import KnownError
from desktop.exchange.format.keys import PublicKeyInfo
from desktop.progress import Progress, Task
from desktop.services import packages as svc
from desktop.services.packages.files import print_package_cover
from desktop.services.printing import PrintResult
from desktop.ui.actions import Action
from desktop.ui.context import Changes, WindowContext
from desktop.ui.dialogs import show_one
from desktop.ui.files import folder_path, offer_folder, open_path
from desktop.ui.operations import Operation
from desktop.ui.packages.blockers import BlockersDialog
from desktop.ui.packages.changes import ChangesDialog, own_changes_into
from desktop.ui.packages.dashboard import confirm_outstanding
from desktop.ui.printing.actions import open_preview
from desktop.ui.printing.sources import PrintSource

__all__ = ["BlockersDialog", "ExportDialog", "ExportDoneDialog", "fingerprint_label",
           "start_export"]

KEY_FILTER = "公钥文件 (*.djkey);;所有文件 (*)"
#: the kind of exclusive work: one package export or import at a time
PACKAGES = "packages"
#: the entries that would start another export or import, disabled while one runs
STARTERS = (Action.EXPORT_PACKAGE, Action.EXPORT_PACKAGE_TO, Action.IMPORT_PACKAGE,
            Action.IMPORT_RETURN)
#: the folder the last package was saved in (a folder of this computer: kept in the settings)
FOLDER_SETTING = "packages/export_dir"


def fingerprint_label(fingerprint: str) -> QLabel:
    """A fingerprint in large monospaced type, in two lines of eight groups, selectable."""
    groups = fingerprint.split()
    text = " ".join(groups[:8]) + "\n" + " ".join(groups[8:])
    label = QLabel(text)
    label.setObjectName("fingerprint")
    font = QFont("monospace")
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSize(16)
    font.setBold(True)
    label.setFont(font)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet("QLabel#fingerprint { background: #f4f6f9; border: 1px solid #c9ced6;"
                        " padding: 10px; color: #1d2b3a; }")
    label.setAccessibleName("公钥指纹")
    return label


class ExportDoneDialog(QDialog):
    """Where the package was saved, and the fingerprint to print on the stamped cover."""

    def __init__(self, result: svc.ExportResult, own_fingerprint: str,
                 parent: QWidget | None = None, ctx: WindowContext | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.result = ctx, result
        self.setWindowTitle("上报包已导出")
        self.setObjectName("exportDone")
        r = result.recipient
        lines = [f"已保存到：{result.path}",
                 f"序号 {result.sequence}，{result.records} 条记录"
                 + (f"，内含 {result.inner} 个原始数据包" if result.inner else "")
                 + ("（取代上一次导出的数据包）" if result.supersedes else ""),
                 f"接收单位：{r.describe()}，已为其加密。"]
        if result.answered:
            lines.append(f"已答复 {result.answered} 条退回意见。")
        if result.changes:
            lines.append(f"与上一个数据包相比：{result.changes}（变化摘要已随包上报）。")
        info = QLabel("\n".join(lines))
        info.setObjectName("exportInfo")
        info.setWordWrap(True)
        info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        cover = QLabel("请在盖章的纸质封面上印出本单位的公钥指纹，接收单位据此核对：")
        cover.setWordWrap(True)
        self.fingerprint = own_fingerprint
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("知道了")
        copy = buttons.addButton("复制指纹", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(own_fingerprint))
        self.cover_button = None
        if ctx is not None:
            self.cover_button = buttons.addButton("打印封面…",
                                                  QDialogButtonBox.ButtonRole.ActionRole)
            self.cover_button.setToolTip("预览并打印这个数据包的封面（含本单位公钥指纹），盖章后随包交付")
            self.cover_button.clicked.connect(self.print_cover)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(info)
        layout.addSpacing(8)
        layout.addWidget(cover)
        layout.addWidget(fingerprint_label(own_fingerprint))
        layout.addWidget(buttons)
        self.setMinimumWidth(720)
        self.adjustSize()

    def print_cover(self) -> None:
        """Close this dialog and preview the exported package's cover page."""
        self.accept()
        if self.ctx is not None:
            preview_cover(self.ctx, self.result.package_id)


def cover_source(ctx: WindowContext, package_id: str | None) -> PrintSource:
    """The cover page of a package this unit sent (`dengji cover`'s PDF; the newest when
    `package_id` is None): nothing on it is masked."""
    def make(_full: bool) -> Iterator[Progress]:
        yield Progress(0, 1, "排版封面")
        result: PrintResult = print_package_cover(ctx.register, ctx.forms, package_id)
        yield Progress(1, 1, "排版封面")
        return result

    return PrintSource("上报包封面", package_id or "cover", make, can_full=False,
                       detail={"package": package_id or ""})


def preview_cover(ctx: WindowContext, package_id: str | None = None) -> None:
    open_preview(ctx, cover_source(ctx, package_id))


class ExportDialog(QDialog):
    """The recipient (name, level, code and fingerprint) with 更换…, the folder with 更改…,
    打印封面… of the last package, and 导出. Shown once the own records passed the check."""

    def __init__(self, ctx: WindowContext, recipient: svc.Recipient) -> None:
        super().__init__(ctx.widget)
        self.ctx, self.recipient = ctx, recipient
        self.setWindowTitle("导出上报包")
        self.unit = QLabel()
        self.unit.setObjectName("recipientUnit")
        self.unit.setWordWrap(True)
        self.unit.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.how = QLabel()
        self.how.setObjectName("recipientHow")
        self.fingerprint = fingerprint_label(recipient.key.fingerprint)
        self.fingerprint.setAccessibleName("接收单位的公钥指纹")
        self.change_button = QPushButton("更换…")
        self.change_button.setToolTip("选择另一个接收单位的公钥文件（.djkey），以后导出都用它")
        self.change_button.clicked.connect(self.change_key)
        self.folder_label = QLabel()
        self.folder_label.setObjectName("exportFolder")
        self.folder_label.setWordWrap(True)
        self.folder_button = QPushButton("更改…")
        self.folder_button.clicked.connect(self.choose_folder)
        grid = QGridLayout()
        grid.addWidget(QLabel("接收单位："), 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.unit, 0, 1)
        grid.addWidget(self.change_button, 0, 2, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.how, 1, 1)
        grid.addWidget(QLabel("公钥指纹："), 2, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.fingerprint, 2, 1, 1, 2)
        grid.addWidget(QLabel("保存到："), 3, 0)
        grid.addWidget(self.folder_label, 3, 1)
        grid.addWidget(self.folder_button, 3, 2)
        grid.setColumnStretch(1, 1)
        note = QLabel("本单位的记录已校验，没有错误。数据包将为上面的接收单位加密，只有它能打开；"
                      "请与其盖章纸质材料上的指纹核对一致。")
        note.setWordWrap(True)
        self.changes = QLabel("正在比较上次上报以来的变化…")
        self.changes.setObjectName("exportChanges")
        self.changes.setWordWrap(True)
        self.changes.setMinimumHeight(self.changes.fontMetrics().lineSpacing() * 3)
        own_changes_into(ctx, self.changes)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.export_button = buttons.addButton("导出", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        self.cover_button = buttons.addButton("打印上次的封面…",
                                              QDialogButtonBox.ButtonRole.ActionRole)
        self.cover_button.setToolTip("预览并打印最近一次导出的数据包的封面（含本单位公钥指纹）")
        self.cover_button.clicked.connect(lambda: preview_cover(ctx))
        self.cover_button.setEnabled(svc.last_sent_package(ctx.register) is not None)
        self.changes_button = buttons.addButton("本次变化…", QDialogButtonBox.ButtonRole.ActionRole)
        self.changes_button.setObjectName("exportChangesButton")
        self.changes_button.setToolTip("本单位上次上报以来的新增、减少（及原因）和逐项修改：本次上报的内容")
        self.changes_button.clicked.connect(
            lambda: show_one(ctx.widget, "changes", lambda: ChangesDialog(ctx, None)))
        self.export_button.clicked.connect(self.export)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(note)
        layout.addWidget(self.changes)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.show_recipient(recipient)
        self.show_folder()
        self.setMinimumWidth(760)
        self.adjustSize()

    def show_recipient(self, recipient: svc.Recipient) -> None:
        self.recipient = recipient
        self.unit.setText(recipient.key.describe())
        self.how.setText(f"来源：{recipient.how()}")
        groups = recipient.key.fingerprint.split()
        self.fingerprint.setText(" ".join(groups[:8]) + "\n" + " ".join(groups[8:]))

    def folder(self) -> str:
        return str(self.ctx.settings.value(FOLDER_SETTING, "") or "")

    def show_folder(self) -> None:
        self.folder_label.setText(self.folder() or "（导出时选择）")

    def choose_folder(self) -> bool:
        folder = folder_path(self.ctx, "packages", "上报包保存到哪个文件夹", self)
        if folder is None:
            return False
        self.ctx.settings.setValue(FOLDER_SETTING, str(folder))
        self.show_folder()
        return True

    def change_key(self) -> bool:
        """更换…: another key file, remembered in the register from now on."""
        if choose_key_file(self.ctx, self) is None:
            return False
        recipient = svc.export_recipient(self.ctx.register)
        if recipient is not None:
            self.show_recipient(recipient)
        return True

    def export(self) -> None:
        """导出: the folder (asked only when none was used before), then the export."""
        if not self.folder() and not self.choose_folder():
            return
        if not Path(self.folder()).is_dir() and not self.choose_folder():
            return
        self.accept()
        run_export(self.ctx, Path(self.folder()), self.recipient.key)


def choose_key_file(ctx: WindowContext, parent: QWidget) -> PublicKeyInfo | None:
    """Ask for the recipient's public key file and remember it in the register."""
    name = open_path(ctx, "keys", "接收单位的公钥文件", KEY_FILTER, parent)
    if name is None:
        return None
    try:
        return svc.choose_recipient(ctx.register, Path(name), actor=ctx.actor)
    except KnownError as err:
        QMessageBox.warning(parent, "不能使用这个公钥文件", str(err))
        return None


def _task(ctx: WindowContext, out_dir: Path, recipient: PublicKeyInfo) -> Iterator:
    """The export, with a refusal returned as a value (the worker would turn it into a bare
    message and lose the list)."""
    try:
        return (yield from svc.export_package(ctx.register, ctx.forms, out_dir,
                                              recipient=recipient, actor=ctx.actor))
    except svc.ExportBlocked as blocked:
        return blocked


def _check(ctx: WindowContext) -> Iterator:
    yield Progress(0, 1, "校验本单位记录")
    return svc.export_check(ctx.register, ctx.forms)


def hold(ctx: WindowContext, running: bool) -> None:
    """While a package is exported or imported, the entries that would start another wait."""
    for name in STARTERS:
        if ctx.has_action(name):
            ctx.action(name).setEnabled(not running)


def run_package_operation(ctx: WindowContext, make_task: Callable[[], Task], *, title: str,
                          done: Callable[[Any], object], writes: bool = True) -> None:
    """An export or import: on the write pool, one at a time, the starters disabled meanwhile."""
    op = Operation(ctx, make_task, title=title, writes=writes, exclusive=PACKAGES,
                   busy_text="正在处理上一批数据包，请稍候")
    if op.success(done).finally_(lambda: hold(ctx, False)).run() is not None:
        hold(ctx, True)  # the operation's callbacks come later, on this thread


def void_in_tab(ctx: WindowContext, form_id: str, record_id: str, name: str) -> bool:
    """作废草稿 of the refusal list: the draft is opened in its tab and voided there, as the
    editor's own 作废草稿… does (the confirmation names the person); True once it is gone."""
    tab = ctx.tab(form_id)
    if tab is None or not ctx.open_record(form_id, record_id, name):
        return False
    tab.void_draft()
    return not svc.blocker_records(ctx.register, [record_id])


def show_blockers(ctx: WindowContext, blocked: svc.ExportBlocked) -> None:
    ctx.status("未导出：有记录存在错误，请逐条处理")
    BlockersDialog(blocked, ctx, void=void_in_tab).exec()


def start_export(ctx: WindowContext, *, choose_key: bool = False) -> None:
    """Check the own records first (a refusal lists them and nothing is asked); then the
    recipient's key file only when none is known (or `choose_key`), then the export dialog."""
    if ctx.is_busy(PACKAGES):
        return
    ctx.save_drafts()

    def checked(blocked: svc.ExportBlocked | None) -> None:
        if blocked is not None:
            show_blockers(ctx, blocked)
            return
        if not confirm_outstanding(ctx):  # expected units not received or not accepted
            return
        recipient = svc.export_recipient(ctx.register)
        if recipient is None or choose_key:
            if recipient is None:
                QMessageBox.information(ctx.widget, "选择接收单位的公钥",
                                        "还没有核对过上级单位的公钥。请选择上级单位提供的公钥文件"
                                        "（.djkey），数据包将为它加密；本登记库会记住它，"
                                        "以后导出不再询问。")
            if choose_key_file(ctx, ctx.widget) is None:
                return
            recipient = svc.export_recipient(ctx.register)
        if recipient is not None:
            show_one(ctx.widget, "exportPackage", lambda: ExportDialog(ctx, recipient))

    run_package_operation(ctx, lambda: _check(ctx), title="无法校验本单位记录", done=checked,
                          writes=False)


def run_export(ctx: WindowContext, folder: Path, recipient: PublicKeyInfo) -> None:
    """Write the package on the write pool; then the done dialog, or the refusal list."""
    def done(result) -> None:
        if isinstance(result, svc.ExportBlocked):
            show_blockers(ctx, result)
            return
        ctx.status(f"已导出上报包 {result.path.name}")
        offer_folder(ctx, result.path)
        ctx.notify(Changes.RECORDS)  # the exported records' states, the answered comments
        own = svc.own_public_key(ctx.register).fingerprint
        ExportDoneDialog(result, own, ctx.widget, ctx).exec()

    run_package_operation(ctx, lambda: _task(ctx, folder, recipient), title="上报包未导出",
                          done=done)
