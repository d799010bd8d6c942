"""What the command modules share: passphrase, opening a register, findings output, progress."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from desktop.errors import KnownError, UsageError

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


def passphrase(*, confirm: bool = False) -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise UsageError(f"需要登记库口令：请设置环境变量 {PASSPHRASE_ENV}，或在终端中运行以便输入口令")
    first = getpass.getpass("登记库口令：")
    if confirm and getpass.getpass("再次输入口令：") != first:
        raise KnownError("两次输入的口令不一致，未创建登记库")
    return first


def progress_printer():
    if not sys.stderr.isatty():
        return None

    def show(step) -> None:
        if step.total:
            width = 30
            filled = int(width * step.done / step.total)
            print(f"\r{step.message} [{'#' * filled}{'.' * (width - filled)}] "
                  f"{100 * step.done // step.total:3d}%", end="", file=sys.stderr, flush=True)
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


def open_db(path: Path):
    from desktop.storage import open_register

    return open_register(path, passphrase())




def _one_line(text: str) -> str:
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")
