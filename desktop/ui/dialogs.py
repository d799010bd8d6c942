"""Dialogs: first run (a new register), the passphrase (open or unlock),
`WorkDialog`, the base of a feature's dialog that runs work through an Operation, and
`show_one`, how a feature shows a modeless dialog of which the window has one at a time;
`fit_to_screen`, the size every window opens at, and `guard_wheel`, which keeps the mouse wheel
from changing a value."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.levels import LEVEL_NAMES
from desktop.domain.units import CODE_HINTS
from desktop.errors import KnownError, WrongPassphrase
from desktop.formspec import shipped_forms
from desktop.services.registers import (
    MIN_PASSPHRASE,
    MIN_SCORE,
    PassphraseTries,
    init_register,
    judge_passphrase,
)
from desktop.storage import Register
from desktop.ui.waiting import wait_for

#: room left for the window's title bar and frame, which Qt does not know before it is shown
FRAME = QSize(16, 40)


def available_geometry(widget: QWidget) -> QRect:
    """The part of the widget's screen that windows may cover (without the task bar)."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def fit_to_screen(widget: QWidget, preferred: QSize | tuple[int, int]) -> QSize:
    """Give a window its preferred size, but no larger than its screen's free area (a 1366×768
    laptop with its task bar leaves about 1366×728), and centre it there. The size given."""
    if isinstance(preferred, tuple):
        preferred = QSize(*preferred)
    room = available_geometry(widget)
    width = max(min(preferred.width(), room.width() - FRAME.width()), 1)
    height = max(min(preferred.height(), room.height() - FRAME.height()), 1)
    widget.resize(width, height)
    widget.move(room.x() + (room.width() - width - FRAME.width()) // 2,
                room.y() + (room.height() - height - FRAME.height()) // 2)
    return QSize(width, height)


class WheelGuard(QObject):
    """The mouse wheel never changes a value: over a drop-down, a date or a number it scrolls
    the enclosing scroll area (the form, the table) as it does anywhere else. A value changes
    only when the clerk types or picks it (the open drop-down list still scrolls by wheel)."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() != QEvent.Type.Wheel:
            return False
        area = obj.parentWidget() if isinstance(obj, QWidget) else None
        while area is not None and not isinstance(area, QAbstractScrollArea):
            area = area.parentWidget()
        if area is not None:
            viewport = area.viewport()
            where = event.globalPosition()
            local = viewport.mapFromGlobal(where.toPoint())
            forwarded = QWheelEvent(local.toPointF(), where, event.pixelDelta(),
                                    event.angleDelta(), event.buttons(), event.modifiers(),
                                    event.phase(), event.inverted(), event.source())
            QApplication.sendEvent(viewport, forwarded)
        event.accept()
        return True


_guard: list[WheelGuard] = []


def guard_wheel(*widgets: QWidget) -> None:
    """Keep the wheel from changing these editors (and their own line edits), and let them
    take focus only by click or Tab, never by wheel."""
    if not _guard:
        _guard.append(WheelGuard(QApplication.instance()))
    for widget in widgets:
        for w in (widget, *widget.findChildren(QWidget)):
            if isinstance(w, QComboBox | QAbstractSpinBox | QLineEdit):
                w.installEventFilter(_guard[0])
                if w.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                    w.setFocusPolicy(Qt.FocusPolicy.StrongFocus)


def guard_all_wheels(root: QWidget) -> None:
    """`guard_wheel` for every drop-down, date and number editor under `root` (a dialog)."""
    guard_wheel(*root.findChildren(QComboBox), *root.findChildren(QAbstractSpinBox))


class WorkDialog(QDialog):
    """A feature's dialog that runs work (`self.job`, set while an Operation runs): it is deleted
    once it is closed and its work has ended, so closed dialogs do not pile up on the window
    (tests find the open one by its object name). A dialog closed while its work still runs
    stays until the work reports, so the work's callbacks never meet a deleted dialog."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = None

    def done(self, result: int) -> None:
        super().done(result)
        if self.job is None:
            self.deleteLater()

    def job_ended(self) -> None:
        """Call when the work has ended (the Operation's finally_)."""
        self.job = None
        if not self.isVisible():
            self.deleteLater()

    def show_step(self, done: int, total: int, message: str) -> None:
        """A step of the work on the dialog's own bar, `self.progress` (Operation.on_progress)."""
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(min(done, total))
        self.progress.setFormat(f"{message} %p%")

    def work_ended(self) -> None:
        """The work has ended (Operation.finally_): the bar hidden, `self.buttons` usable."""
        self.job_ended()
        self.progress.hide()
        self.buttons.setEnabled(True)


def show_one(parent: QWidget, name: str, make: Callable[[], QDialog], *,
             reuse: Callable[[QDialog], object] | None = None) -> QDialog:
    """Show a modeless dialog as `parent`'s only one of its kind (objectName `name`); it is
    deleted when it is closed. With `reuse`, an open one stays: `reuse(dialog)` (e.g. reading
    it again) and it is raised; without, an open one is closed and `make()` makes a new one."""
    open_now = [d for d in parent.findChildren(QDialog, name) if d.isVisible()]
    if reuse is not None and open_now:
        dialog = open_now[0]
        reuse(dialog)
    else:
        for old in open_now:
            old.close()
        dialog = make()
        dialog.setObjectName(name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    dialog.raise_()
    return dialog


STRENGTH = (("太短", "#c62828"), ("弱", "#c62828"), ("中等", "#e08a00"), ("强", "#2e7d32"))


def passphrase_strength(text: str, unit_name: str = "", unit_code: str = "") -> tuple[int, str]:
    """0 too short, 1 weak (refused), 2 fair, 3 strong — with a hint in Chinese; the same
    judgement (services.registers.judge_passphrase) that creating the register makes."""
    verdict = judge_passphrase(text, unit_name, unit_code)
    if len(text) < MIN_PASSPHRASE:
        return 0, f"太短：至少 {MIN_PASSPHRASE} 个字符"
    if not verdict.ok:
        return 1, f"弱，不能使用：{verdict.problem.removeprefix('口令太弱：')}。{verdict.advice}"
    if verdict.score <= MIN_SCORE:
        return 2, "中等：可以使用；再长一些（例如一句好记的话）会更安全"
    return 3, "强"


class NewPassphrase(QObject):
    """A new passphrase typed twice, with zxcvbn's verdict shown live under it: the rows
    (`labels`, then the verdict) are added to `form`. `unit()` gives the unit's name and code
    (words an attacker knows). Every dialog that sets a passphrase uses it: the first run,
    修改口令…, 忘记口令… and 移交…."""

    def __init__(self, form: QFormLayout, unit: Callable[[], tuple[str, str]], *,
                 labels: tuple[str, str] = ("设置口令", "再次输入口令"),
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.unit = unit
        self.secret = QLineEdit()
        self.again = QLineEdit()
        for edit, label in zip((self.secret, self.again), labels, strict=True):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setAccessibleName(label)
            edit.textChanged.connect(self.update)
            form.addRow(label, edit)
        self.strength = QLabel()
        self.strength.setWordWrap(True)
        self.strength.setAccessibleName("口令强度")
        form.addRow("", self.strength)
        self.update()

    def text(self) -> str:
        return self.secret.text()

    def update(self) -> None:
        name, code = self.unit()
        level, hint = passphrase_strength(self.secret.text(), name, code)
        word, colour = STRENGTH[level]
        if not self.secret.text():
            self.strength.setText(f"口令至少 {MIN_PASSPHRASE} 个字符，可以使用汉字。")
        else:
            self.strength.setText(f'口令强度：<span style="color:{colour}">{hint}</span>')
        if self.again.text() and self.again.text() != self.secret.text():
            self.strength.setText(self.strength.text() + "；两次输入不一致")

    def mismatch(self) -> str | None:
        """The two entries differ: the message, with the second entry cleared for a retry."""
        if self.secret.text() == self.again.text():
            return None
        self.again.clear()
        self.again.setFocus()
        return "两次输入的口令不一致，请重新输入。"


def error_label(name: str = "") -> QLabel:
    """The red line under a dialog's fields that says what to fix."""
    label = QLabel()
    if name:
        label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet("color: #c62828;")
    label.setAccessibleName("错误信息")
    return label


class FirstRunDialog(QDialog):
    """No register yet: choose the level, the unit and a passphrase; the register is made."""

    def __init__(self, path: Path, parent: QWidget | None = None, *, kdf=None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRunDialog")
        self.setWindowTitle("登记 — 新建登记库")
        self.path, self._kdf = path, kdf
        self.register: Register | None = None
        intro = QLabel("欢迎使用登记。第一次使用需要新建一个加密的登记库，并为本单位生成签名密钥。"
                       "口令用于加密登记库，<b>忘记口令将无法打开登记库</b>，请妥善保管。")
        intro.setWordWrap(True)
        self.level = QComboBox()
        for code, name in LEVEL_NAMES.items():
            self.level.addItem(name, code)
        guard_wheel(self.level)
        self.unit_name = QLineEdit()
        self.unit_name.setPlaceholderText("如：某某律师事务所党支部")
        self.unit_code = QLineEdit()
        self.unit_code.setPlaceholderText(CODE_HINTS[self.level.currentData()])
        self.level.currentIndexChanged.connect(
            lambda _i: self.unit_code.setPlaceholderText(CODE_HINTS[self.level.currentData()]))
        self.parent_code = QLineEdit()
        self.parent_code.setPlaceholderText("可不填")
        self.where = QLabel(f"登记库文件：{path}")
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = error_label()
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for label, widget in (("本单位层级", self.level), ("本单位名称", self.unit_name),
                              ("本单位代码", self.unit_code), ("上级单位代码", self.parent_code)):
            widget.setAccessibleName(label)
            form.addRow(label, widget)
        self.passphrase = NewPassphrase(
            form, lambda: (self.unit_name.text(), self.unit_code.text()), parent=self)
        self.secret, self.again = self.passphrase.secret, self.passphrase.again
        self.strength = self.passphrase.strength
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                        QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("创建登记库")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("退出")
        self.buttons.accepted.connect(self.create)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.where)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(560)

    def create(self) -> None:
        """Make the register (or say in Chinese what to fix)."""
        mismatch = self.passphrase.mismatch()
        if mismatch:
            self.error.setText(mismatch)
            return
        kwargs = {"kdf": self._kdf} if self._kdf is not None else {}
        try:
            self.register = init_register(
                self.path, self.secret.text(), level=self.level.currentData(),
                unit_name=self.unit_name.text(), unit_code=self.unit_code.text(),
                parent_code=self.parent_code.text() or None, tables=shipped_forms().tables,
                **kwargs)
        except KnownError as err:
            self.error.setText(str(err))
            return
        self.accept()


#: after this many seconds of opening, the passphrase dialog says why it may take long
SLOW_OPEN_S = 3


class PassphraseDialog(QDialog):
    """Asks for the passphrase until `opener` accepts it (open a register, or unlock one).

    After FREE_TRIES wrong passphrases in a row the 确定 button stays disabled for a while
    that doubles with each further one (services.registers.PassphraseTries, which also keeps
    the count when the dialog or the program is closed); a countdown says how long.

    With `forgot`, a 忘记口令… button runs `forgot(self)` (the recovery with the recovery key,
    ui/register/recovery.py); what it returns (the register, open) ends the dialog as an
    accepted passphrase does, None leaves it open."""

    def __init__(self, path: Path, opener: Callable[[str], object], *, locked: bool = False,
                 idle: bool = False, parent: QWidget | None = None,
                 tries: PassphraseTries | None = None,
                 forgot: Callable[[QWidget], object] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("passphraseDialog")
        self.setWindowTitle("登记 — 已锁定" if locked else "登记 — 打开登记库")
        self.opener = opener
        self.opening = False  # the register is being opened (`busy`)
        self.tries = tries or PassphraseTries(path)
        self.result_value: object = None
        # idle: locked by the idle timer; otherwise by the clerk (Ctrl+L)
        what = (("登记库已锁定（长时间未操作）。" if idle else "登记库已锁定。") + "请输入口令继续。"
                if locked else "请输入登记库口令。")
        # the window holds the register while it is locked: a recovery starts from the next open
        hint = ("<br><span style='color:#555'>忘记口令：请点“退出”（已输入的内容已保存），"
                "再打开登记软件，在口令对话框中点“忘记口令…”，用恢复密钥单设置新口令。</span>"
                if locked and forgot is None else "")
        intro = QLabel(f"{what}<br><span style='color:#555'>{path}</span>{hint}")
        intro.setObjectName("passphraseIntro")
        intro.setWordWrap(True)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName("口令")
        self.error = error_label()
        self.wait = QLabel()
        self.wait.setObjectName("passphraseWait")
        self.wait.setAccessibleName("等待提示")
        self.wait.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("解锁" if locked else "打开")
        self.quit_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.quit_button.setText("退出")
        self.forgot_button = None
        if forgot is not None:
            self.forgot_button = buttons.addButton("忘记口令…",
                                                   QDialogButtonBox.ButtonRole.ResetRole)
            self.forgot_button.setObjectName("forgotPassphrase")
            self.forgot_button.setToolTip("用单位保管的恢复密钥（纸质恢复密钥单）设置新口令")
            self.forgot_button.clicked.connect(lambda: self.recover(forgot))
        buttons.accepted.connect(self.try_open)
        buttons.rejected.connect(self.reject)
        self.timer = QTimer(self)
        self.timer.setInterval(250)
        self.timer.timeout.connect(self.tick)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        form = QFormLayout()
        form.addRow("口令", self.secret)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.wait)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)
        self.tick()  # a wait begun before the dialog was (re)opened goes on

    def tick(self) -> None:
        """Show how long is left to wait, or take tries again."""
        left = self.tries.remaining()
        waiting = left > 0
        self.ok.setEnabled(not waiting)
        if waiting:
            self.wait.setText(f"口令已连续输错 {self.tries.failures} 次。为防止他人猜测口令，"
                              f"请等待 {math.ceil(left)} 秒后再试。")
            if not self.timer.isActive():
                self.timer.start()
        else:
            self.wait.clear()
            self.timer.stop()

    def try_open(self) -> None:
        if self.tries.remaining() > 0:  # Enter pressed while the button is disabled
            self.tick()
            return
        secret = self.secret.text()
        self.busy(True)
        try:
            try:
                self.result_value = wait_for(lambda: self.opener(secret), self.waiting)
            finally:
                self.busy(False)
        except WrongPassphrase as err:
            self.tries.failed()
            self._refused(str(err))
            return
        except KnownError as err:
            self._refused(str(err))
            return
        self.tries.succeeded()
        self.accept()

    def busy(self, on: bool) -> None:
        """While the register opens: nothing to click or close, a line saying what happens."""
        self.opening = on
        for widget in (self.ok, self.secret, self.forgot_button, self.quit_button):
            if widget is not None:
                widget.setEnabled(not on)
        self.wait.setText("正在打开登记库……" if on else "")
        if not on:
            self.tick()  # the wait after wrong passphrases, if any, holds the button again

    def waiting(self, seconds: float) -> None:
        if seconds >= SLOW_OPEN_S:
            self.wait.setText(f"正在打开登记库……已用 {int(seconds)} 秒。新版本第一次打开较大的"
                              "登记库时，会先备份再升级，可能需要几十秒，请勿关闭。")

    def reject(self) -> None:  # noqa: D102 (退出, Esc or the window's close box)
        if not self.opening:  # not while the register opens: the open finishes first
            super().reject()

    def recover(self, forgot: Callable[[QWidget], object]) -> None:
        """忘记口令…: the register opened with the recovery key ends the dialog."""
        opened = forgot(self)
        if opened is None:
            return
        self.result_value = opened
        self.tries.succeeded()
        self.accept()

    def _refused(self, message: str) -> None:
        self.error.setText(message)
        # a long message (a refused server connection: what to fix, then libpq's words) grows
        # the dialog; a top-level window does not follow a wrapped label's height by itself
        self.adjustSize()
        self.secret.clear()
        self.secret.setFocus()
        self.tick()
