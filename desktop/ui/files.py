"""Where files go: every save and open dialog of the window starts in the clerk's Documents
folder, or in the last folder used for that kind of file (remembered per kind in the settings),
never in the hidden data folder; after a file is saved the status bar offers 打开所在文件夹.
Qt's own dialogs speak Chinese (`install_chinese`, called when the application starts)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import (
    QLibraryInfo,
    QLocale,
    QSettings,
    QStandardPaths,
    QTimer,
    QTranslator,
    QUrl,
)
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QMainWindow, QWidget

from desktop.paths import user_data_dir
from desktop.ui.context import WindowContext

#: how long 打开所在文件夹 stays in the status bar
OFFER_MS = 120_000


class FileHost(Protocol):
    """What a file dialog needs: the settings (the last folder per kind) and the parent. The
    WindowContext is one; a dialog shown before the window exists (the first run, 忘记口令…)
    gives its own settings and itself."""

    settings: QSettings
    widget: QWidget


def documents() -> Path:
    """The clerk's Documents folder (the home folder when there is none)."""
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    folder = Path(found) if found else Path.home()
    return folder if folder.is_dir() else Path.home()


def hidden(folder: Path) -> bool:
    """Inside the program's data folder, or below a hidden folder of the home (.local…)."""
    folder = folder.resolve()
    if folder.is_relative_to(user_data_dir().resolve()):
        return True
    home = Path.home().resolve()
    inside = folder.relative_to(home).parts if folder.is_relative_to(home) else ()
    return any(part.startswith(".") for part in inside)


def start_folder(ctx: FileHost, kind: str) -> Path:
    """Where a dialog for files of `kind` opens: the last folder used for it, else Documents."""
    last = str(ctx.settings.value(f"files/{kind}", "") or "")
    if last and Path(last).is_dir() and not hidden(Path(last)):
        return Path(last)
    return documents()


def remember(ctx: FileHost, kind: str, path: Path) -> None:
    """The folder of `path` is where the next dialog for `kind` opens."""
    folder = path if path.is_dir() else path.parent
    ctx.settings.setValue(f"files/{kind}", str(folder))


def _with_suffix(name: str, file_filter: str) -> Path:
    """The chosen name, with the filter's extension added when the clerk typed none of its."""
    path = Path(name)
    suffixes = re.findall(r"\*(\.[\w.]+)", file_filter.split(";;")[0])
    if suffixes and path.suffix.lower() not in suffixes:
        path = path.with_name(path.name + suffixes[0])
    return path


def save_path(ctx: FileHost, kind: str, title: str, suggested_name: str, file_filter: str,
              parent: QWidget | None = None) -> Path | None:
    """Ask where to save a file of `kind` (None when cancelled); the extension of the filter is
    added when missing and the folder is remembered."""
    start = start_folder(ctx, kind) / suggested_name
    name, _ = QFileDialog.getSaveFileName(parent or ctx.widget, title, str(start), file_filter)
    if not name:
        return None
    path = _with_suffix(name, file_filter)
    remember(ctx, kind, path)
    return path


def open_path(ctx: FileHost, kind: str, title: str, file_filter: str,
              parent: QWidget | None = None) -> Path | None:
    """Ask for a file of `kind` to read (None when cancelled); its folder is remembered."""
    name, _ = QFileDialog.getOpenFileName(parent or ctx.widget, title,
                                          str(start_folder(ctx, kind)), file_filter)
    if not name:
        return None
    remember(ctx, kind, Path(name))
    return Path(name)


def open_paths(ctx: WindowContext, kind: str, title: str, file_filter: str,
               parent: QWidget | None = None) -> list[Path]:
    """Ask for files of `kind` to read (empty when cancelled); their folder is remembered."""
    names, _ = QFileDialog.getOpenFileNames(parent or ctx.widget, title,
                                            str(start_folder(ctx, kind)), file_filter)
    if names:
        remember(ctx, kind, Path(names[0]))
    return [Path(n) for n in names]


def folder_path(ctx: WindowContext, kind: str, title: str,
                parent: QWidget | None = None) -> Path | None:
    """Ask for a folder to write files of `kind` into (None when cancelled); remembered."""
    name = QFileDialog.getExistingDirectory(parent or ctx.widget, title,
                                            str(start_folder(ctx, kind)))
    if not name:
        return None
    remember(ctx, kind, Path(name))
    return Path(name)


def open_folder(folder: Path) -> bool:
    """Show the folder in the system's file manager."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def offer_folder(ctx: WindowContext, path: Path) -> QLabel | None:
    """After a file is saved: 已保存 <name> · 打开所在文件夹 in the status bar (a link), until the
    next offer or for two minutes."""
    window = ctx.widget
    if not isinstance(window, QMainWindow):
        return None
    bar = window.statusBar()
    for old in bar.findChildren(QLabel, "openFolder"):
        bar.removeWidget(old)
        old.deleteLater()
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    label = QLabel(f'已保存 {path.name}　<a href="open">打开所在文件夹</a>')
    label.setObjectName("openFolder")
    label.setToolTip(str(folder))
    label.setAccessibleName(f"打开所在文件夹：{folder}")
    label.linkActivated.connect(lambda _link: open_folder(folder))
    bar.addPermanentWidget(label)
    QTimer.singleShot(OFFER_MS, label, label.hide)
    return label


# -- Qt's own dialogs in Chinese ---------------------------------------------------------------


class MnemonicTranslator(QTranslator):
    """Qt 6 gave some of its texts an access key ("&Look in:", "Files of &type:") while its
    Chinese translation still knows them without one, so they showed in English. This asks the
    Chinese translation for the text without the "&" and puts the key back as 查找范围(&L)："""

    def __init__(self, base: QTranslator, parent=None) -> None:
        super().__init__(parent)
        self.base = base

    def isEmpty(self) -> bool:  # noqa: N802 (Qt's name)
        return False

    def translate(self, context, source_text, disambiguation=None, n=-1):  # noqa: D102
        if not source_text or "&" not in source_text or "&&" in source_text:
            return ""
        index = source_text.index("&")
        key = source_text[index + 1:index + 2]
        plain = source_text.replace("&", "", 1)
        found = self.base.translate(context, plain, disambiguation, n)
        if not found or not key:
            return ""
        colon = found[-1] if found[-1] in "：:" else ""
        body = found[:-1] if colon else found
        return f"{body}(&{key.upper()}){colon}"


def install_chinese(app: QApplication) -> None:
    """Qt's own dialogs (file, print, message box buttons) in Chinese, whatever the system's
    language: the translations ship with Qt."""
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    translator = QTranslator(app)
    if translator.load("qtbase_zh_CN", folder):
        # installed first, so it is asked last: only for what the translation itself misses
        app.installTranslator(MnemonicTranslator(translator, app))
        app.installTranslator(translator)
