"""忘记口令… (from the passphrase dialog): the recovery key typed into its 16 boxes or read from
a scanned or photographed sheet (选择扫描件…), then a new passphrase twice; the register is
re-keyed to it (services.secrets.recover, a backup first) and returned open, as the passphrase
would have opened it.

Shown before the window exists, so it has no WindowContext: the file dialog remembers its
folder in the application's settings, and the work runs at once (the unlock needs no slow key
derivation; the re-key takes a few seconds on a large register, under a wait cursor).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import KnownError
from desktop.services.secrets import (
    SERVER_UNCHANGED,
    read_recovery_image,
    recover,
    recovery_problem,
)
from desktop.storage import Register
from desktop.ui.dialogs import NewPassphrase, error_label, fit_to_screen
from desktop.ui.files import open_path
from desktop.ui.register.keyentry import KeyEntry
from desktop.ui.register.sheet import Host

NAME = "recoverDialog"
IMAGE_FILTER = "图片 (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.gif);;所有文件 (*)"
#: who the audit log names for a recovery (the register's 经办人 is not known before it opens)
RECOVERY_ACTOR = "恢复密钥持有人"


class RecoverDialog(QDialog):
    """The key, the new passphrase, 设置新口令并打开. `register` is the open register once
    accepted."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(NAME)
        self.setWindowTitle("忘记口令 — 用恢复密钥设置新口令")
        self.path = path
        self.host = Host(QSettings(), self)
        self.register: Register | None = None
        self.backup: Path | None = None
        intro = QLabel("请取出单位保管的<b>恢复密钥单</b>，按上面印的 16 组数字逐组输入"
                       "（也可以选择恢复密钥单的扫描件或照片，自动识别二维码），"
                       f"然后设置新口令。<br><span style='color:#555'>{path}</span>")
        intro.setWordWrap(True)
        self.key = KeyEntry()
        self.key.changed.connect(self._key_changed)
        self.scan_button = QPushButton("选择扫描件…")
        self.scan_button.setObjectName("recoveryScan")
        self.scan_button.setToolTip("选择恢复密钥单的扫描件或手机照片（PNG、JPG），从二维码读出恢复密钥")
        self.scan_button.clicked.connect(self.choose_scan)
        self.key_state = QLabel()
        self.key_state.setObjectName("recoveryKeyState")
        self.key_state.setWordWrap(True)
        self.key_state.setAccessibleName("恢复密钥检查结果")
        scan_row = QHBoxLayout()
        scan_row.addWidget(self.key_state, 1)
        scan_row.addWidget(self.scan_button, 0, Qt.AlignmentFlag.AlignTop)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.new = NewPassphrase(form, lambda: ("", ""), labels=("新口令", "再次输入新口令"),
                                 parent=self)
        self.error = error_label("recoverError")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("设置新口令并打开")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.run)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(QLabel("恢复密钥："))
        layout.addWidget(self.key)
        layout.addLayout(scan_row)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self._key_changed()
        fit_to_screen(self, (640, self.sizeHint().height()))

    def key_problem(self) -> str | None:
        """What is wrong with the key as typed so far (None: it opens this register)."""
        problem = self.key.problem()
        if problem or not self.key.complete():
            return problem
        return recovery_problem(self.path, self.key.text())

    def _key_changed(self) -> None:
        problem = self.key_problem()
        filled = sum(len(g) == 6 for g in self.key.groups())
        if problem:
            self.key_state.setText(f'<span style="color:#c62828">{problem}</span>')
        elif self.key.complete():
            self.key_state.setText('<span style="color:#2e7d32">恢复密钥正确，可以打开本登记库。</span>')
        else:
            self.key_state.setText(f"已输入 {filled} 组，共 16 组。")

    def choose_scan(self) -> None:
        image = open_path(self.host, "scan", "选择恢复密钥单的扫描件或照片", IMAGE_FILTER, self)
        if image is None:
            return
        try:
            text = read_recovery_image(image)
        except KnownError as err:
            self.error.setText(str(err))
            return
        self.error.clear()
        self.key.set_text(text)
        self.new.secret.setFocus()

    def run(self) -> None:
        """Check the key and the new passphrase, then recover; the dialog ends with the
        register open."""
        problem = self.key_problem() if self.key.complete() else (
            self.key.problem() or "请输入完整的恢复密钥（16 组，每组 6 位数字）。")
        if problem:
            self.error.setText(problem)
            return
        mismatch = self.new.mismatch()
        if mismatch:
            self.error.setText(mismatch)
            return
        self.error.clear()
        self.ok.setEnabled(False)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            done = recover(self.path, self.key.text(), self.new.text(), RECOVERY_ACTOR)
        except KnownError as err:
            self.error.setText(str(err))
            return
        finally:
            QApplication.restoreOverrideCursor()
            self.ok.setEnabled(True)
        self.register, self.backup = done.register, done.backup
        QMessageBox.information(
            self, "已设置新口令",
            "已用恢复密钥设置新口令，登记库将打开。以后请用新口令打开登记库。\n"
            "恢复密钥单仍然有效，请放回原处保管。\n\n"
            + (f"设置前的登记库已备份到：\n{done.backup}" if done.backup else SERVER_UNCHANGED))
        self.accept()


def recover_register(path: Path, parent: QWidget | None = None) -> Register | None:
    """忘记口令…: the register opened with a new passphrase, or None when the clerk gives up."""
    dialog = RecoverDialog(path, parent)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    register = dialog.register if accepted else None
    dialog.deleteLater()
    return register
