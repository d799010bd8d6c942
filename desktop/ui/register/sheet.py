"""The recovery key shown once, to be saved and printed: the step after the first run, after
新的恢复密钥…, after 移交… and after the offer to a register that has none.

The key is shown only now (the register keeps no readable copy): the clerk saves the A4 sheet
as a PDF or prints it (services.secrets.write_recovery_sheet makes the PDF), and must tick
我已打印或保存恢复密钥，并将交单位保管 before 完成; closing without it asks once more. Ticking
and 完成 confirm the key in the register (confirm_recovery_saved, audited). Other papers of the
same step (the 移交清单) get their own 保存…/打印… buttons.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
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
from desktop.paths import scratch
from desktop.services.secrets import RecoveryKey, confirm_recovery_saved, write_recovery_sheet
from desktop.storage import Register
from desktop.ui.context import WindowContext
from desktop.ui.dialogs import fit_to_screen
from desktop.ui.files import FileHost, offer_folder, save_path
from desktop.ui.printing import job as print_job
from desktop.ui.printing.render import PdfPages

NAME = "recoveryKeyDialog"
CONFIRM_TEXT = "我已打印或保存恢复密钥，并将交单位保管"
PDF_FILTER = "PDF 文件 (*.pdf)"


@dataclass(frozen=True)
class Paper:
    """A paper of the step: its name on the buttons, the suggested file name, and how it is
    written (`write(out)` returns the path written)."""

    title: str
    file_name: str
    write: Callable[[Path], Path]


@dataclass
class Host:
    """A FileHost for a dialog shown before the window exists (the first run)."""

    settings: QSettings
    widget: QWidget


def recovery_paper(register: Register, key: RecoveryKey) -> Paper:
    return Paper("恢复密钥单", f"恢复密钥-{key.unit_name}-{key.key_id}.pdf",
                 lambda out: write_recovery_sheet(register, key, out))


def grouped(text: str, per_line: int = 4) -> str:
    """The key's groups four to a line, as on the sheet."""
    groups = text.split("-")
    return "\n".join("-".join(groups[i:i + per_line]) for i in range(0, len(groups), per_line))


def print_paper(parent: QWidget, paper: Paper, ctx: WindowContext | None,
                on_done: Callable[[int], object]) -> None:
    """Write the paper into an owner-only scratch folder, read it back and print it: through
    the window's print job (a worker) when there is a window, else at once (the first run:
    one page)."""
    with scratch("paper") as folder:
        pdf = paper.write(folder / "paper.pdf").read_bytes()
    if ctx is not None:
        print_job.start_print(ctx, parent, pdf, paper.title, lambda n, _p: on_done(n),
                              lambda message: QMessageBox.warning(parent, "打印未完成", message))
        return
    pages = PdfPages(pdf)
    printer = print_job.new_printer(pages, paper.title)
    count = len(pages)
    pages.close()
    if not print_job.choose_printer(parent, printer):
        return
    steps = print_job.paint_pages(printer, pdf, print_job.page_range(printer, count))
    try:
        while True:
            next(steps)
    except StopIteration as end:
        on_done(end.value or 0)
    except KnownError as err:
        QMessageBox.warning(parent, "打印未完成", str(err))


class RecoveryKeyDialog(QDialog):
    """The new recovery key with 保存为 PDF… and 打印… (and those of `papers`), the required
    checkbox and 完成. Accepted once the key is confirmed in the register."""

    def __init__(self, register: Register, key: RecoveryKey, actor: str, *,
                 ctx: WindowContext | None = None, intro: str = "",
                 papers: Sequence[Paper] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(NAME)
        self.setWindowTitle("恢复密钥 — 请打印或保存")
        self.register, self.key, self.actor = register, key, actor
        self.ctx = ctx
        self.host: FileHost = ctx if ctx is not None else Host(QSettings(), self)
        self.confirmed = False
        self.asked = False  # closing unconfirmed asks once
        self.saved: list[Path] = []
        self.printed = 0
        head = QLabel(
            (intro + "<br><br>" if intro else "")
            + "这是本登记库的<b>恢复密钥</b>。忘记口令时，凭它可以设置新口令、打开登记库。"
            "它<b>只在此时显示</b>，软件不保存可以读出的副本：请保存为 PDF 或打印恢复密钥单，"
            "盖章后交单位保险柜保管，不要和电脑放在一起。")
        head.setObjectName("recoveryKeyIntro")
        head.setWordWrap(True)
        head.setTextFormat(Qt.TextFormat.RichText)
        self.head = head
        self.key_label = QLabel(grouped(key.text))
        self.key_label.setObjectName("recoveryKeyText")
        self.key_label.setAccessibleName("恢复密钥")
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSize(max(mono.pointSize(), 10) + 4)
        mono.setWeight(QFont.Weight.Bold)
        self.key_label.setFont(mono)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.key_label.setStyleSheet("padding: 10px; border: 1px solid #999; background: #fff;")
        made = key.made_at.astimezone().strftime("%Y-%m-%d %H:%M")
        facts = QLabel(f"单位：{key.unit_name}（{key.unit_code}）　密钥编号：{key.key_id}　"
                       f"生成时间：{made}")
        facts.setObjectName("recoveryKeyFacts")
        facts.setWordWrap(True)
        grid = QGridLayout()
        self.paper_buttons: dict[str, tuple[QPushButton, QPushButton]] = {}
        for row, paper in enumerate((recovery_paper(register, key), *papers)):
            save = QPushButton(f"保存{paper.title}为 PDF…")
            save.clicked.connect(lambda _c=False, p=paper: self.save(p))
            printing = QPushButton(f"打印{paper.title}…")
            printing.clicked.connect(lambda _c=False, p=paper: self.print(p))
            grid.addWidget(QLabel(paper.title), row, 0)
            grid.addWidget(save, row, 1)
            grid.addWidget(printing, row, 2)
            self.paper_buttons[paper.title] = (save, printing)
        grid.setColumnStretch(3, 1)
        self.done_label = QLabel()
        self.done_label.setObjectName("recoveryKeyDone")
        self.done_label.setWordWrap(True)
        self.check = QCheckBox(CONFIRM_TEXT)
        self.check.setObjectName("recoveryKeyConfirm")
        self.check.toggled.connect(self._checked)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        self.finish_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.finish_button.setText("完成")
        self.finish_button.setEnabled(False)
        self.buttons.accepted.connect(self.finish)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(self.key_label)
        layout.addWidget(facts)
        layout.addLayout(grid)
        layout.addWidget(self.done_label)
        layout.addStretch(1)
        layout.addWidget(self.check)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        fit_to_screen(self, (720, self.sizeHint().height()))

    def _checked(self, on: bool) -> None:
        self.finish_button.setEnabled(on)
        self.error.clear()

    def _said(self, text: str) -> None:
        self.done_label.setText(text)
        if self.ctx is not None:
            self.ctx.status(text)

    def save(self, paper: Paper) -> Path | None:
        path = save_path(self.host, "recovery", f"保存{paper.title}", paper.file_name,
                         PDF_FILTER, self)
        if path is None:
            return None
        try:
            written = paper.write(path)
        except (KnownError, OSError) as err:
            QMessageBox.warning(self, "未能保存", f"{paper.title}未能保存：{err}\n请换一个位置再试。")
            return None
        self.saved.append(written)
        self._said(f"已保存{paper.title}：{written}")
        if self.ctx is not None:
            offer_folder(self.ctx, written)
        return written

    def print(self, paper: Paper) -> None:
        def printed(pages: int) -> None:
            self.printed += pages
            self._said(f"已发送到打印机：{paper.title}，{pages} 页")

        try:
            print_paper(self, paper, self.ctx, printed)
        except (KnownError, OSError) as err:
            QMessageBox.warning(self, "打印未完成", str(err))

    def finish(self) -> None:
        """完成: only with the box ticked; the key is confirmed in the register."""
        if not self.check.isChecked():
            self.error.setText(f"请先打印或保存恢复密钥单，然后勾选“{CONFIRM_TEXT}”。")
            return
        try:
            confirm_recovery_saved(self.register, self.key.key_id, self.actor)
        except KnownError as err:
            self.error.setText(str(err))
            return
        self.confirmed = True
        self.accept()

    def reject(self) -> None:
        """Closing unconfirmed asks once more: the key is not shown again."""
        if not self.confirmed and not self.asked:
            self.asked = True
            answer = QMessageBox.question(
                self, "恢复密钥尚未确认",
                "恢复密钥只在此时显示，关闭后无法再看到。忘记口令时没有它就无法打开登记库。\n\n"
                "确定不打印、不保存就关闭吗？（以后可在“登记库 → 新的恢复密钥…”重新生成）",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        super().reject()


def show_recovery_key(register: Register, key: RecoveryKey, actor: str, *,
                      ctx: WindowContext | None = None, parent: QWidget | None = None,
                      intro: str = "", papers: Sequence[Paper] = ()) -> bool:
    """Show the key modally until it is confirmed or the clerk closes it; whether confirmed."""
    dialog = RecoveryKeyDialog(register, key, actor, ctx=ctx, intro=intro, papers=papers,
                               parent=ctx.widget if ctx is not None else parent)
    confirmed = dialog.exec() == QDialog.DialogCode.Accepted
    dialog.deleteLater()
    return confirmed
