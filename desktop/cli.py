"""The `dengji` command. Without arguments it opens the window (on the default register, or
`dengji --db PATH`); subcommands do batch work, one module per area in desktop/commands/. Exit status: 0 done, 1 input refused (the reasons printed), 2 wrong usage or
unreadable input, 3 internal error (a bug)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

import desktop.commands
from desktop.commands.common import TerminalGuard
from desktop.errors import KnownError, UsageError, write_crash_report

_ARGPARSE_ZH = [
    ("the following arguments are required", "缺少必需的参数"),
    ("unrecognized arguments", "无法识别的参数"),
    ("invalid choice", "无效的选项"),
    ("choose from", "可选"),
    ("expected one argument", "需要一个参数值"),
    ("argument ", "参数 "),
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own wording is English; users read Chinese
        for en, zh in _ARGPARSE_ZH:
            message = message.replace(en, zh)
        self.print_usage(sys.stderr)
        raise UsageError(f"用法错误：{message}（用 {self.prog} -h 查看帮助）")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="dengji", description="登记 Dengji：律师行业党组织和党员基本信息登记核查、"
                "法学会个人会员清理。不带参数运行时打开窗口。")
    p.add_argument("--db", type=Path, dest="main_db",
                   help="登记库文件路径（打开窗口时使用；各命令请在命令后写 --db）")
    p.add_argument("--smoke-test", action="store_true",
                   help="自检：在临时文件夹中建库、校验、导入，写出一个工作簿和一个 PDF，然后退出")
    sub = p.add_subparsers(dest="command", metavar="命令", parser_class=_Parser)
    for info in pkgutil.iter_modules(desktop.commands.__path__):
        if info.name != "common":
            importlib.import_module(f"desktop.commands.{info.name}").register(sub)
    _db_takes_urls(p)
    return p


def _db_takes_urls(parser: argparse.ArgumentParser) -> None:
    """Every ``--db`` also takes a ``postgresql://`` URL (docs/postgresql.md): a Path would fold
    its ``//``. The value is a Path for a file, a checked ServerLocation for a URL."""
    from desktop.storage.server import register_location

    for action in parser._actions:
        if "--db" in action.option_strings and action.type is Path:
            action.type = register_location
        choices = action.choices  # a sub-command's parsers; never iterate --form's (lazy)
        if isinstance(choices, dict):
            for child in choices.values():
                if isinstance(child, argparse.ArgumentParser):
                    _db_takes_urls(child)


def main(argv: list[str] | None = None) -> int:
    """Run one command. Everything it prints passes TerminalGuard: a value from a file or a
    package (a sender's name, a cell, a file name) cannot steer the terminal."""
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (s if s is None else TerminalGuard(s) for s in streams)  # None: pythonw
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = streams


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        from desktop.paths import tidy

        tidy()  # what a killed export, backup or restore left behind
        if args.smoke_test:
            from desktop.smoke import run_smoke_test

            return run_smoke_test()
        if args.command is None:
            from desktop.app import run_window  # lazy: batch commands never import Qt

            return run_window(args.main_db)
        if args.main_db is not None:
            raise UsageError(f"--db 应写在命令之后，例如：dengji {args.command} --db {args.main_db} …")
        return args.func(args)
    except KnownError as err:
        print(str(err), file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("已取消。", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `dengji validate … | head`: the reader has had enough
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:  # a bug: say so plainly, keep where it happened in a report file
        from desktop.storage.concurrency import refusal

        refused = refusal(err)  # a reviewer role wrote: PostgreSQL said permission denied
        if refused is not None:
            print(str(refused), file=sys.stderr)
            return refused.exit_code
        report = write_crash_report(err)
        print(f"程序内部错误，操作未完成。这是软件缺陷，请将报告文件发给维护人员：{report}", file=sys.stderr)
        return 3

