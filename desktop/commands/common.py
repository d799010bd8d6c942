"""What the command modules share: passphrase, opening a register, findings output, progress."""

from __future__ import annotations

import errno
import getpass
import io
import json
import os
import re
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from desktop.errors import KnownError, UsageError
from desktop.inputs import regular_file

PASSPHRASE_ENV = "DENGJI_PASSPHRASE"


class _Named(str):
    """A choice that reads "lawyer_member（附件1 律师党员基本信息登记表）" in the help."""

    def __str__(self) -> str:
        return f"{str.__str__(self)}（{self.title}）"


class FormChoices:
    """The choices of a --form argument, read from forms/ (FormSet is the only list of forms)
    when argparse first asks, so a command without --form never loads the forms. `tables`
    adds the summaries (附件4–6) and `extra` more ids, each with a function giving its title
    (called only then too: building the parser imports nothing a command does not need)."""

    def __init__(self, *, tables: bool = False,
                 extra: tuple[tuple[str, Callable[[], str]], ...] = ()):
        self.tables, self.extra = tables, extra

    def _choices(self) -> list[_Named]:
        forms = shipped()
        titled = [(f.id, f.display_title) for f in forms.forms.values()]
        if self.tables:
            titled += [(s.id, s.display_title) for s in forms.summaries.values()]
        out = []
        titled += [(ident, title()) for ident, title in self.extra]
        for ident, title in titled:
            choice = _Named(ident)
            choice.title = title
            out.append(choice)
        return out

    def __contains__(self, value: object) -> bool:
        return value in self._choices()

    def __iter__(self):
        return iter(self._choices())


# --- what reaches the terminal ----------------------------------------------------------------

#: characters that steer a terminal rather than show: C0 controls, DEL, C1 controls (ESC and
#: CSI among them), and the bidi embeddings, overrides and isolates that reorder a line
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str, *, keep: str = "") -> str:
    """`text` with every terminal control character (but those in `keep`) written as a visible
    escape: ESC → \\u001b, U+202E → \\u202e. Values from files and packages (a sender's name,
    a cell, a file name) can hold them; printed raw they could clear the screen, move the
    cursor or reorder a line to show a fake 通过. The \\uXXXX form is also a valid escape
    inside a JSON string, so --format json output reads back to the very value."""
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub(lambda m: m.group() if m.group() in keep
                         else f"\\u{ord(m.group()):04x}", text)


def shown(value: object) -> str:
    """A value from a file or a package inside a line the command prints: every control
    escaped, the newline and tab too, so it cannot start a line of its own (a fake 通过)."""
    return escape_controls(str(value))


class TerminalGuard(io.TextIOBase):
    """A stream that passes everything written to it through `escape_controls`, keeping only
    the newline and tab the commands use as separators. `cli.main` puts one in front of
    sys.stdout and sys.stderr, so no print of a command can bypass it."""

    def __init__(self, raw) -> None:
        super().__init__()
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(escape_controls(text, keep="\n\t"))
        return len(text)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self):  # type: ignore[override]
        return getattr(self.raw, "encoding", "utf-8")


def passphrase(*, confirm: bool = False) -> str:
    return _typed(PASSPHRASE_ENV, f"需要登记库口令：请设置环境变量 {PASSPHRASE_ENV}，或在终端中运行以便输入口令",
                  "登记库口令：", "再次输入口令：" if confirm else None,
                  "两次输入的口令不一致，未创建登记库")


NEW_PASSPHRASE_ENV = "DENGJI_NEW_PASSPHRASE"


def new_passphrase() -> str:
    """A new passphrase (dengji passphrase, recover, handover): from DENGJI_NEW_PASSPHRASE, or
    typed twice at the terminal."""
    return _typed(NEW_PASSPHRASE_ENV,
                  f"需要新口令：请设置环境变量 {NEW_PASSPHRASE_ENV}，或在终端中运行以便输入",
                  "新口令：", "再次输入新口令：", "两次输入的新口令不一致，口令未修改。")


def _typed(env: str, needed: str, prompt: str, again: str | None, mismatch: str) -> str:
    """A passphrase from the environment variable `env`, or typed at the terminal (twice when
    `again` asks for it)."""
    value = os.environ.get(env)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise UsageError(needed)
    first = getpass.getpass(prompt)
    if again is not None and getpass.getpass(again) != first:
        raise KnownError(mismatch)
    return first


#: an identifier read from a file or standard input is one short line; more is not one
_SECRET_MAX = 200


def add_secret_option(parser, option: str, what: str) -> None:
    """`option` (e.g. --id-number) for a personal identifier, which must never be written on
    the command line (other users see it in the process list, the shell keeps it in its
    history): `option -` reads it from standard input, `option-file PATH` from a file, and
    without either it is asked for at the terminal. `secret_value` reads it."""
    dest = option.lstrip("-").replace("-", "_")
    parser.add_argument(option, dest=dest, metavar="-",
                        help=f"写 - 时从标准输入读取{what}（为免号码留在命令历史和进程列表中，不接受直接写在命令行上的号码）")
    parser.add_argument(f"{option}-file", dest=f"{dest}_file", type=Path, metavar="FILE",
                        help=f"从文件读取{what}（文件中只写这一个号码）；两者都不写时在终端提示输入")


def secret_value(args, option: str, what: str) -> str:
    """The value of an `add_secret_option` option: from standard input (`-`), its file, or a
    prompt at the terminal. A value written on the command line itself is refused."""
    dest = option.lstrip("-").replace("-", "_")
    given, path = getattr(args, dest), getattr(args, f"{dest}_file")
    if given is not None and given != "-":
        raise UsageError(f"{what}不能直接写在命令行上（其他用户能在进程列表中看到，终端也会记入命令历史）。"
                         f"请改用 {option} -（从标准输入读取）、{option}-file 文件，或两者都不写（在终端提示输入）")
    if given is not None and path is not None:
        raise UsageError(f"{option} 和 {option}-file 只能用一个")
    if path is not None:
        try:
            with open(regular_file(path, f"{what}文件"), encoding="utf-8-sig") as f:
                text = f.read(_SECRET_MAX + 1)
        except (OSError, UnicodeDecodeError) as err:
            raise UsageError(f"无法读取{what}文件 {path}（{getattr(err, 'strerror', None) or err}）"
                             ) from None
        where = f"文件 {path}"
    elif given == "-":
        text, where = sys.stdin.read(_SECRET_MAX + 1), "标准输入"
    elif sys.stdin.isatty():
        text, where = getpass.getpass(f"{what}："), "输入"
    else:
        raise UsageError(f"需要{what}：请用 {option} -（从标准输入读取）或 {option}-file 文件，"
                         f"或在终端中运行以便输入")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(text) > _SECRET_MAX or len(lines) != 1:
        raise UsageError(f"{where}中应只有一行：{what}（现有 {len(lines)} 行非空内容）")
    return lines[0]


def progress_printer():
    if not sys.stderr.isatty():
        return None

    def show(step) -> None:
        if step.total:
            width = 30
            filled = int(width * step.done / step.total)
            out = getattr(sys.stderr, "raw", sys.stderr)  # past TerminalGuard: the \r is ours
            out.write(f"\r{escape_controls(step.message)} [{'#' * filled}{'.' * (width - filled)}] "
                      f"{100 * step.done // step.total:3d}%")
            out.flush()
            if step.done >= step.total:
                print(file=sys.stderr)

    return show


def shipped():
    from desktop.formspec import shipped_forms

    return shipped_forms()


def print_findings(form, rows, fmt: str) -> None:
    out = []
    for row in rows:
        where = getattr(row, "where", None)  # a workbook row: "附件1!D17"
        for f in row.findings:
            label = form.label_of(f.field) if f.field else ""
            item = {"row": row.no, "field": label, "severity": f.severity, "code": f.code,
                    "message": f.message}
            if where is not None:
                item["sheet"], _, item["cell"] = where(f).partition("!")
            out.append(item)
    if fmt == "json":
        json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        write = sys.stdout.write
        for o in out:  # one line of four columns, whatever the typed text contains
            field, message = _one_line(o["field"]), _one_line(o["message"])
            at = _one_line(f"{o['sheet']}!{o['cell']}") if "cell" in o else o["row"]
            write(f"{at}\t{field}\t{o['severity']}\t{message}\n")


@contextmanager
def open_db(path: Path, *, hint: bool = True):
    """The register at `path`, open for the `with` block. A register that cannot be written
    (a read-only file or folder, a read-only disk) is refused before any work is done, and a
    write refused while working (the permissions changed meanwhile) is said as such: its
    transaction is rolled back, nothing is written. A register without a recovery key (made
    before there were any) is said so on standard error, with the command that makes one."""
    from desktop.storage import open_register

    check_writable(path)
    secret = passphrase()
    try:
        with open_register(path, secret) as register:
            settle_handover(register, secret)
            if hint:
                _recovery_hint(register)
            yield register
    except Exception as err:
        if not _write_refused(err):
            raise
        raise KnownError(_unwritable(path, "写入时被拒绝"), exit_code=2) from None


def settle_handover(register, secret: str) -> None:
    """A handover a kill interrupted is finished or dropped at open (services/handover.py),
    said on standard error; a recovery key it had to void is replaced by one to print."""
    from desktop.services.handover import settle_handover as settle

    settled = settle(register, secret, "命令行")
    if settled is None:
        return
    print(f"提示：{settled.message}", file=sys.stderr)
    if settled.recovery is not None:
        print(f"请接收人运行 dengji recovery-key --db \"{register.path}\" --sheet 恢复密钥.pdf "
              "生成新的恢复密钥，打印后盖章存放在单位保险柜。", file=sys.stderr)


def _recovery_hint(register) -> None:
    from desktop.services.secrets import recovery_state

    if not recovery_state(register).has_key:
        print(f"提示：登记库 {register.path} 还没有恢复密钥，忘记口令时将无法打开。请运行 "
              f"dengji recovery-key --db \"{register.path}\" --sheet 恢复密钥.pdf 生成，"
              "打印后盖章存放在单位保险柜。", file=sys.stderr)


def check_writable(path: Path) -> None:
    """Refuse a register whose file or folder this user cannot write (SQLite writes its
    journal files beside the register)."""
    if not path.is_file():
        return  # open_register says what is wrong with it
    folder = path.resolve().parent
    if not os.access(path, os.W_OK):
        raise KnownError(_unwritable(path, "登记库文件是只读的"), exit_code=2)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise KnownError(_unwritable(path, f"登记库所在的文件夹 {folder} 不可写入（登记库要在同一文件夹中写日志文件）"),
                         exit_code=2)


def _unwritable(path: Path, why: str) -> str:
    return (f"无法写入登记库 {path}：{why}。未写入任何内容。请检查文件的“只读”属性和文件夹权限"
            f"（或把登记库复制到可写入的文件夹），然后重试。")


#: SQLite's answers when it may not write (sqlite_errorname of the driver's error)
_REFUSED = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")


def _write_refused(err: BaseException) -> bool:
    """Whether `err` (or what it wraps) says the disk or the system refused a write."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [err]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, PermissionError) or getattr(e, "errno", None) in (errno.EROFS,
                                                                          errno.EACCES,
                                                                          errno.EPERM):
            return True
        name = getattr(e, "sqlite_errorname", "")
        if isinstance(name, str) and name.startswith(_REFUSED):
            return True
        orig = getattr(e, "orig", None)
        stack += [orig if isinstance(orig, BaseException) else None, e.__cause__, e.__context__]
    return False




def _one_line(text: str) -> str:
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")
