"""Starting the window: the Qt application, the font, first run or the passphrase, the main
window and the idle lock. desktop/app.py (the composition root) calls `start`."""

from __future__ import annotations

import sys
import threading
from datetime import date
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from desktop.domain.forms import FormSet
from desktop.errors import KnownError, crash_report, write_crash_report
from desktop.paths import tidy
from desktop.services.handover import settle_handover
from desktop.services.secrets import make_recovery_key
from desktop.services.unit import unit_profile
from desktop.storage import Register, open_register
from desktop.ui.dialogs import FirstRunDialog, PassphraseDialog
from desktop.ui.files import install_chinese
from desktop.ui.fonts import load_cjk_font
from desktop.ui.mainwindow import MainWindow
from desktop.ui.register.recovery import recover_register
from desktop.ui.register.renewal import offer_recovery
from desktop.ui.register.sheet import show_recovery_key
from desktop.ui.style import STYLE_SHEET

ORGANISATION = APPLICATION = "Dengji"


def application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, with the CJK font and the style sheet."""
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    # a worker thread reading records holds the GIL in turns; 1 ms turns keep typing smooth
    sys.setswitchinterval(0.001)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("登记")
    install_chinese(app)
    load_cjk_font(app)
    app.setStyleSheet(STYLE_SHEET)
    return app


def warm_up() -> None:
    """Load the validation tables (python-stdnum's address codes) while the passphrase is being
    typed, so the first page of a large table is not kept waiting for them."""
    from desktop.domain.identifiers import check_resident_id

    check_resident_id("11010519491231002X", date.today())


def open_or_create(path: Path) -> Register | None:
    """First run: the first-run dialog makes the register, then its recovery key is shown to
    be printed or saved; else ask for the passphrase until it opens (or 忘记口令… opens it with
    the recovery key). None when the user gives up."""
    if not path.exists():
        dialog = FirstRunDialog(path)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.register is None:
            return None
        first_recovery_key(dialog.register)
        return dialog.register
    typed: list[str] = []

    def opener(secret: str) -> Register:
        register = open_register(path, secret)
        typed.append(secret)
        return register

    dialog = PassphraseDialog(path, opener,
                              forgot=lambda parent: recover_register(path, parent))
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    register: Register = dialog.result_value  # type: ignore[assignment]
    settle_at_open(register, typed[-1] if typed else "")
    return register


def settle_at_open(register: Register, secret: str) -> None:
    """A handover a kill interrupted is finished or dropped now (services/handover.py) and
    said; a recovery key made to void the outgoing clerk's is shown to be printed."""
    actor = unit_profile(register).actor
    try:
        settled = settle_handover(register, secret, actor)
    except KnownError as err:
        QMessageBox.warning(None, "移交", f"{err}\n\n下次打开登记库时会再处理未完成的移交。")
        return
    if settled is None:
        return
    if settled.recovery is not None:
        show_recovery_key(register, settled.recovery, unit_profile(register).actor,
                          intro=f"{settled.message}请打印新的恢复密钥，交接收人保管：")
    else:
        QMessageBox.information(None, "移交", settled.message)


def first_recovery_key(register: Register) -> bool:
    """The first run's last step: the new register's recovery key, shown once to be printed
    or saved and confirmed. Whether it was confirmed (if not, it is offered at the next open)."""
    actor = unit_profile(register).actor
    try:
        key = make_recovery_key(register, actor)
    except KnownError as err:
        QMessageBox.warning(None, "未能生成恢复密钥",
                            f"{err}\n\n登记库已建立；下次打开时会再提示生成恢复密钥。")
        return False
    return show_recovery_key(register, key, actor, intro="登记库已建立。最后一步：")


def unlocker(path: Path, parent=None):
    """For the lock (idle: the idle timer's, else Ctrl+L): ask for the passphrase again and
    check it against the file."""

    def check(secret: str) -> bool:
        open_register(path, secret, rekey=False).close()  # the window has it open
        return True

    def unlock(idle: bool) -> bool:
        dialog = PassphraseDialog(path, check, locked=True, idle=idle, parent=parent)
        return dialog.exec() == QDialog.DialogCode.Accepted

    return unlock


def _report_bug(kind, value, tb) -> None:
    """A bug in the window: keep the details in a report file, tell the user plainly."""
    error = value if isinstance(value, BaseException) else kind()
    if error.__traceback__ is None:
        error = error.with_traceback(tb)
    print(crash_report(error), file=sys.stderr)  # never the message: it can hold personal data
    where = write_crash_report(error)
    QMessageBox.critical(None, "程序内部错误", "操作未完成。这是软件缺陷，已保存的数据不受影响。\n"
                         f"请将报告文件发给维护人员：{where}")


def start(path: Path, forms: FormSet) -> int:
    """Run the window on the register at `path` until it is closed; the exit status. The audit
    log names the 经办人 set in 本单位信息 (never the computer's login name)."""
    app = application()
    tidy()  # what a killed export, backup or restore left behind
    previous, sys.excepthook = sys.excepthook, _report_bug
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    try:
        created = not path.exists()
        register = open_or_create(path)
        if register is None:
            return 0
        window = MainWindow(register, forms, actor=unit_profile(register).actor,
                            settings=QSettings(),
                            unlock=unlocker(path))
        window.show()
        if not created:  # shown at first run
            QTimer.singleShot(0, window, lambda: offer_recovery(window.ctx))
        try:
            return app.exec()
        finally:
            register.close()
    finally:
        sys.excepthook = previous
