"""Opening a workbook file: what is not a workbook, or is password protected, is a clear
UsageError (exit status 2) and nothing is read.

python-calamine picks its reader by the file's suffix; a workbook saved under the wrong suffix
(an .xlsx renamed .xls) is retried by content. An encrypted Office file is an OLE container with
an EncryptedPackage stream: calamine says "password protected" only when the suffix lets it
look, so the container is recognised here too.

Before calamine sees a file: it must be a regular file (desktop.inputs.regular_file: a FIFO or
a device is refused at once), and a zip workbook (.xlsx, .xlsm, .xlsb, .ods) must not inflate
past a limit set from its size (desktop.inputs.check_zip, by its central directory and by
inflating it once as a stream, since calamine believes the stream and not the declared sizes).
"""

from __future__ import annotations

from pathlib import Path

import python_calamine as pc

from desktop.errors import UsageError
from desktop.inputs import check_zip, regular_file

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")


def open_book(path: Path) -> pc.CalamineWorkbook:
    """Open a workbook with python-calamine, or say clearly why it cannot be read."""
    regular_file(path, "工作簿")
    check_zip(path, inflate=True)
    try:
        return pc.CalamineWorkbook.from_path(str(path))
    except pc.PasswordError:
        raise _locked(path) from None
    except pc.CalamineError:
        pass  # perhaps the wrong suffix: let calamine look at the content
    except OSError as err:
        raise UsageError(f"无法读取文件 {path}：{err}") from None
    if _is_encrypted(path):
        raise _locked(path)
    try:
        with path.open("rb") as fh:
            return pc.CalamineWorkbook.from_filelike(fh)
    except pc.PasswordError:
        raise _locked(path) from None
    except (pc.CalamineError, OSError):
        raise UsageError(f"{path} 不是 Excel 工作簿（或已损坏），无法读取。请提供 .xlsx 文件，"
                         f"或在 Excel/WPS 中打开后另存为 .xlsx") from None


def _locked(path: Path) -> UsageError:
    return UsageError(f"工作簿 {path} 设有打开密码，无法读取。请在 Excel 或 WPS 中输入密码打开，"
                      f"另存为不设密码的 .xlsx 后再导入")


def _is_encrypted(path: Path) -> bool:
    """An encrypted Office workbook is an OLE container with an EncryptedPackage stream."""
    try:
        with path.open("rb") as fh:
            if fh.read(8) != _OLE_MAGIC:
                return False
            return _ENCRYPTED_MARK in fh.read(8 << 20)
    except OSError:
        return False


def worksheet_names(book: pc.CalamineWorkbook, path: Path, sheet: str | None) -> list[str]:
    """The sheet asked for, or every visible worksheet (hidden sheets such as a template's
    code lists are never read)."""
    if sheet is not None:
        if sheet not in book.sheet_names:
            raise UsageError(f"{path} 中没有名为“{sheet}”的工作表。现有工作表："
                             f"{'、'.join(book.sheet_names)}")
        return [sheet]
    return [m.name for m in book.sheets_metadata
            if m.visible == pc.SheetVisibleEnum.Visible and m.typ == pc.SheetTypeEnum.WorkSheet]
