"""导入上报包… and dropping .djpkg / .djret files on the window: every file verified whole before
anything is written (the merge service), a Chinese reason per refused file, the trust prompt for
a new sender, and the unit tree and tabs read again afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor
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
from desktop.services import packages as svc
from desktop.ui.context import Changes, WindowContext
from desktop.ui.dialogs import fit_to_screen
from desktop.ui.files import open_paths
from desktop.ui.packages.export import PACKAGES, run_package_operation
from desktop.ui.packages.trust import TrustDialog
from desktop.ui.style import MARK_COLOURS

PACKAGE_FILTER = "上报包和退回文件 (*.djpkg *.djret);;上报包 (*.djpkg);;退回文件 (*.djret);;所有文件 (*)"
RETURN_FILTER = "退回文件 (*.djret);;所有文件 (*)"
SUFFIXES = (".djpkg", ".djret")
STATUS_WORDS = {"merged": "已合并", "already": "已合并过", "returned": "已导入退回意见",
                "refused": "已拒绝"}


def describe(report: svc.MergeReport) -> str:
    """What happened to one file, in a sentence."""
    if report.status == "merged":
        o = report.outcome
        text = f"{o.sender.name}，序号 {o.sequence}，{o.records} 条记录"
        if o.replaced:
            text += f"，取代旧数据包中的 {o.replaced} 条"
        issues = [f"{what} {n} 个" for what, n in (("错误", o.errors), ("未确认警告", o.warnings))
                  if n]
        if issues:
            text += "；" + "、".join(issues)
        if o.conflicts:
            text += f"；重复登记冲突 {o.conflicts} 个（上报 → 冲突… 处理）"
        if report.stats_finding:
            text += f"；注意：{report.stats_finding}"
        return text
    if report.status == "already":
        return "此前已合并过，未重复写入"
    if report.status == "returned":
        return f"{report.comments} 条意见，已显示在相应记录的栏目旁"
    if unknown_sender(report):
        m = report.verification.manifest
        return (f"未写入任何内容。{m.sender.name}（代码 {m.sender.code}）的公钥尚未核对，未信任。"
                f"请对照其盖章纸质封面上的公钥指纹 {m.signer_fingerprint}，一致时重新导入此文件"
                "并在提示中输入该指纹。")
    return f"未写入任何内容。{report.reason}"


def unknown_sender(report: svc.MergeReport) -> bool:
    """Refused only because the sender's key has not been compared with its paper cover yet."""
    v = report.verification
    if report.status != "refused" or v is None or v.manifest is None:
        return False
    failures = v.failures
    return bool(failures) and all(c.name == "发送单位" and "尚未核对" in c.message
                                  for c in failures)


class ImportResultsDialog(QDialog):
    """One row per file: its result and, when refused, the reason in Chinese."""

    def __init__(self, reports: list[svc.MergeReport], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("导入结果")
        self.setObjectName("importResults")
        refused = sum(r.status == "refused" for r in reports)
        summary = QLabel(f"共 {len(reports)} 个文件：{len(reports) - refused} 个已处理，"
                         f"{refused} 个被拒绝" + ("（被拒绝的文件未写入任何内容）。" if refused
                                                else "。"))
        summary.setObjectName("importSummary")
        summary.setWordWrap(True)
        self.table = QTableWidget(len(reports), 3)
        self.table.setObjectName("importTable")
        self.table.setHorizontalHeaderLabels(["文件", "结果", "说明"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        for row, r in enumerate(reports):
            status = QTableWidgetItem(STATUS_WORDS.get(r.status, r.status))
            if r.status == "refused":
                status.setForeground(QColor(MARK_COLOURS["E"]))
            text = describe(r)
            for col, item in enumerate((QTableWidgetItem(r.path.name), status,
                                        QTableWidgetItem(text))):
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        fit_to_screen(self, (900, min(600, 160 + 40 * len(reports))))

    def text(self, row: int, col: int) -> str:
        return self.table.item(row, col).text()


def offer_trust(ctx: WindowContext, reports: list[svc.MergeReport]) -> list[Path]:
    """For each new sender refused only for want of trust: the paper cover check. Returns the
    files whose sender is now trusted (to be merged again)."""
    again: list[Path] = []
    seen: dict[str, bool] = {}
    for r in reports:
        if not unknown_sender(r):
            continue
        m = r.verification.manifest
        key = (m.sender.code, m.signer_fingerprint)
        if key not in seen:
            dialog = TrustDialog(m.sender.name, m.sender.code, m.sender.level,
                                 m.signer_fingerprint, r.path.name, ctx.widget)
            trusted = False
            if dialog.exec() == QDialog.DialogCode.Accepted and dialog.matches():
                try:
                    svc.trust_key(ctx.register, ctx.forms, r.path, dialog.typed(),
                                  actor=ctx.actor)
                    trusted = True
                except KnownError as err:
                    QMessageBox.warning(ctx.widget, "未信任", str(err))
            seen[key] = trusted
        if seen[key]:
            again.append(r.path)
    return again


def start_import(ctx: WindowContext, paths: Sequence[Path], *, retry: bool = True) -> None:
    """Verify and merge `paths` on the write pool; report, offer trust, refresh."""
    paths = [Path(p) for p in paths]
    if not paths:
        return
    if ctx.is_busy(PACKAGES):
        ctx.status("正在处理上一批数据包，请稍候再导入")
        return
    ctx.save_drafts()

    def done(reports: list[svc.MergeReport]) -> None:
        if any(r.status in ("merged", "returned") for r in reports):
            ctx.notify(Changes.ALL)  # the units merged, their records, the comments
        again = offer_trust(ctx, reports) if retry else []
        if again:
            done_now = [r for r in reports if r.path not in again]
            if done_now:
                ImportResultsDialog(done_now, ctx.widget).exec()
            start_import(ctx, again, retry=False)
            return
        merged = sum(r.status in ("merged", "returned") for r in reports)
        ctx.status(f"导入完成：{merged} 个文件已处理，"
                   f"{sum(r.status == 'refused' for r in reports)} 个被拒绝")
        ImportResultsDialog(reports, ctx.widget).exec()

    ctx.status(f"正在核验 {len(paths)} 个文件…")
    run_package_operation(ctx, lambda: svc.merge_packages(ctx.register, ctx.forms, paths,
                                                          actor=ctx.actor),
                          title="导入未完成", done=done)


def choose_and_import(ctx: WindowContext, returns_only: bool = False) -> None:
    """The file dialog (several files), then the import."""
    paths = open_paths(ctx, "packages", "选择退回文件" if returns_only else "选择要导入的上报包",
                       RETURN_FILTER if returns_only else PACKAGE_FILTER)
    if paths:
        start_import(ctx, paths)


def dropped_packages(mime) -> list[Path]:
    """The .djpkg / .djret files among dropped URLs."""
    if not mime.hasUrls():
        return []
    return [Path(u.toLocalFile()) for u in mime.urls()
            if u.isLocalFile() and u.toLocalFile().lower().endswith(SUFFIXES)]


class DropFilter(QObject):
    """Accepts .djpkg / .djret files dropped anywhere on the main window."""

    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx)
        self.ctx = ctx

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if dropped_packages(event.mimeData()):
                event.acceptProposedAction()
                return True
        elif kind == QEvent.Type.Drop:
            paths = dropped_packages(event.mimeData())
            if paths:
                event.acceptProposedAction()
                start_import(self.ctx, paths)
                return True
        return False
