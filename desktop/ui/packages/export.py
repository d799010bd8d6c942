"""导出上报包…: refuse with the records that have an E, else write the signed package for the
parent unit's trusted key (or a chosen public key file) on the write pool, then say where it is
and which fingerprint the paper cover must carry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import KnownError
from desktop.progress import Task
from desktop.services import packages as svc
from desktop.ui.actions import Action
from desktop.ui.context import Changes, WindowContext
from desktop.ui.files import folder_path, offer_folder, open_path
from desktop.ui.operations import Operation

KEY_FILTER = "公钥文件 (*.djkey);;所有文件 (*)"
#: the kind of exclusive work: one package export or import at a time
PACKAGES = "packages"
#: the entries that would start another export or import, disabled while one runs
STARTERS = (Action.EXPORT_PACKAGE, Action.EXPORT_PACKAGE_TO, Action.IMPORT_PACKAGE,
            Action.IMPORT_RETURN)


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


class BlockersDialog(QDialog):
    """Why the package was not exported: every E (or open conflict), one row each."""

    def __init__(self, blocked: svc.ExportBlocked, ctx: WindowContext | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent if parent is not None or ctx is None else ctx.widget)
        self.setWindowTitle("不能导出上报包")
        self.setObjectName("exportBlockers")
        heading = QLabel(f"{blocked}\n以下问题改正后再导出（双击一行，到主窗口中打开该记录）：")
        heading.setWordWrap(True)
        self.table = QTableWidget(len(blocked.blockers), 4)
        self.table.setObjectName("blockers")
        self.table.setHorizontalHeaderLabels(["表", "姓名/名称", "栏目", "问题"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        for row, b in enumerate(blocked.blockers):
            for col, text in enumerate((b.form_title, b.name, b.field or "整条记录", b.message)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
        self.table.cellDoubleClicked.connect(self._open)
        self.blockers = blocked.blockers
        self.ctx = ctx
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(860, 420)


    def _open(self, row: int, _column: int = 0) -> None:
        b = self.blockers[row]
        if self.ctx is not None and open_record(self.ctx, b.form_title, b.name, b.record_id):
            self.accept()


def open_record(ctx: WindowContext, form_title: str, name: str, record_id: str) -> bool:
    """Show an own record in its tab's editor (found by its form's title, name and id)."""
    tab = next((t for t in ctx.tabs() if form_title in (t.form.display_title, t.form.id)), None)
    if tab is None:
        return False
    if tab.unit_id != ctx.own.id:
        ctx.select_unit(ctx.own.id)
    ctx.show_tab(tab.form.id)
    tab.search.setText(name)
    for row in range(tab.model.rowCount()):  # a handful of rows: those of this name
        if tab.model.record_id(row) == record_id:
            tab.view.selectRow(row)
            return True
    return False


class ExportDoneDialog(QDialog):
    """Where the package was saved, and the fingerprint to print on the stamped cover."""

    def __init__(self, result: svc.ExportResult, own_fingerprint: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(info)
        layout.addSpacing(8)
        layout.addWidget(cover)
        layout.addWidget(fingerprint_label(own_fingerprint))
        layout.addWidget(buttons)
        self.setMinimumWidth(720)
        self.adjustSize()


def _task(ctx: WindowContext, out_dir: Path, to: Path | None) -> Iterator:
    """The export, with a refusal for E records returned as a value (the worker would turn it
    into a bare message and lose the list)."""
    try:
        return (yield from svc.export_package(ctx.register, ctx.forms, out_dir, to=to,
                                              actor=ctx.actor))
    except svc.ExportBlocked as blocked:
        return blocked


def hold(ctx: WindowContext, running: bool) -> None:
    """While a package is exported or imported, the entries that would start another wait."""
    for name in STARTERS:
        if ctx.has_action(name):
            ctx.action(name).setEnabled(not running)


def run_package_operation(ctx: WindowContext, make_task: Callable[[], Task], *, title: str,
                          done: Callable[[Any], object]) -> None:
    """An export or import: on the write pool, one at a time, the starters disabled meanwhile."""
    op = Operation(ctx, make_task, title=title, writes=True, exclusive=PACKAGES,
                   busy_text="正在处理上一批数据包，请稍候")
    if op.success(done).finally_(lambda: hold(ctx, False)).run() is not None:
        hold(ctx, True)  # the operation's callbacks come later, on this thread


def parent_known(ctx: WindowContext) -> bool:
    """Whether a parent unit's key has been trusted (else a public key file is chosen)."""
    from desktop.exchange.trust import parent_recipient

    with ctx.register.session() as session:
        try:
            parent_recipient(session, ctx.register)
        except KnownError:
            return False
    return True


def start_export(ctx: WindowContext, *, choose_key: bool = False) -> None:
    """Ask for the folder (and, without a trusted parent, the recipient's key file), then
    export on the write pool."""
    if ctx.is_busy(PACKAGES):
        return
    ctx.save_drafts()
    parent = ctx.widget
    to: Path | None = None
    if choose_key or not parent_known(ctx):
        if not choose_key:
            QMessageBox.information(parent, "选择接收单位的公钥",
                                    "还没有核对过上级单位的公钥。请选择上级单位提供的公钥文件"
                                    "（.djkey），数据包将为它加密。")
        to = open_path(ctx, "keys", "接收单位的公钥文件", KEY_FILTER)
        if to is None:
            return
    chosen = folder_path(ctx, "packages", "上报包保存到哪个文件夹")
    if chosen is None:
        return
    folder = str(chosen)
    ctx.settings.setValue("packages/export_dir", folder)

    def done(result) -> None:
        if isinstance(result, svc.ExportBlocked):
            ctx.status("未导出：有记录存在错误")
            BlockersDialog(result, ctx).exec()
            return
        ctx.status(f"已导出上报包 {result.path.name}")
        offer_folder(ctx, result.path)
        ctx.notify(Changes.RECORDS)  # the exported records' states, the answered comments
        own = svc.own_public_key(ctx.register).fingerprint
        ExportDoneDialog(result, own, ctx.widget).exec()

    run_package_operation(ctx, lambda: _task(ctx, Path(folder), to), title="上报包未导出",
                          done=done)
