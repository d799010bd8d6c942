"""The `dengji` command. Without arguments it opens the window (once the window lands it will;
for now it prints the help); subcommands do batch work. Exit status: 0 done, 1 input refused
(the reasons printed), 2 wrong usage or unreadable input, 3 internal error (a bug)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import traceback
from datetime import datetime
from pathlib import Path

from desktop.errors import KnownError, UsageError

FORM_IDS = ("lawyer_member", "staff_member", "party_org", "society_member")
PASSPHRASE_ENV = "DENGJI_PASSPHRASE"

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
    p = _Parser(prog="dengji", description="登记 Dengji：律师行业党组织和党员基本信息登记核查、法学会个人会员清理。"
                "不带参数运行时打开窗口。")
    p.add_argument("--db", type=Path, help="登记库文件路径（默认在用户数据文件夹中）")
    sub = p.add_subparsers(dest="command", metavar="命令", parser_class=_Parser)

    s = sub.add_parser("init", help="新建加密登记库及本单位的签名密钥")
    s.add_argument("--db", type=Path, required=True, help="新登记库的文件路径")
    s.add_argument("--level", required=True,
                   choices=["firm", "city", "province", "national", "society-county",
                            "society-city", "society-province"], help="本单位层级")
    s.add_argument("--unit-name", required=True, help="本单位名称")
    s.add_argument("--unit-code", required=True, help="本单位代码（如统一社会信用代码）")
    s.add_argument("--parent-code", help="上级单位代码")

    s = sub.add_parser("validate", help="校验文件中的记录（不改动任何登记库）")
    s.add_argument("--form", required=True, choices=FORM_IDS, help="表单")
    s.add_argument("--format", choices=["text", "json"], default="text", help="输出格式")
    s.add_argument("--db", type=Path, help="同时对照此登记库校验（查重、跨表规则）")
    s.add_argument("file", type=Path, help=".jsonl 文件，每行一个 JSON 对象，键为栏目名称")

    s = sub.add_parser("import", help="将文件中的记录导入登记库（默认全部通过才导入）")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--form", required=True, choices=FORM_IDS, help="表单")
    s.add_argument("--partial", action="store_true", help="只导入没有错误的记录，报告其余记录")
    s.add_argument("--format", choices=["text", "json"], default="text", help="问题的输出格式")
    s.add_argument("file", type=Path, help=".jsonl 文件")

    s = sub.add_parser("audit", help="检查登记库的操作日志哈希链是否完整")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        return _COMMANDS[args.command](args)
    except KnownError as err:
        print(str(err), file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("已取消。", file=sys.stderr)
        return 130
    except Exception:  # a bug: say so plainly, keep the details in a report file
        report = _write_crash_report()
        print(f"程序内部错误，操作未完成。这是软件缺陷，请将报告文件发给维护人员：{report}", file=sys.stderr)
        return 3


def _write_crash_report() -> Path | str:
    from desktop.paths import user_data_dir

    try:
        folder = user_data_dir() / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crash-{datetime.now():%Y%m%d-%H%M%S}.txt"
        path.write_text(traceback.format_exc(), encoding="utf-8")
        return path
    except OSError:
        return "（无法写入报告文件）"


# --- helpers ---------------------------------------------------------------------------------


def _passphrase(*, confirm: bool = False) -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise UsageError(f"需要登记库口令：请设置环境变量 {PASSPHRASE_ENV}，或在终端中运行以便输入口令")
    first = getpass.getpass("登记库口令：")
    if confirm and getpass.getpass("再次输入口令：") != first:
        raise KnownError("两次输入的口令不一致，未创建登记库")
    return first


def _progress_printer():
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


def _forms():
    from desktop.formspec import shipped_forms

    return shipped_forms()


def _print_findings(form, rows, fmt: str) -> None:
    out = []
    for row in rows:
        for f in row.findings:
            label = form.label_of(f.field) if f.field else ""
            out.append({"row": row.no, "field": label, "severity": f.severity, "code": f.code,
                        "message": f.message})
    if fmt == "json":
        json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        write = sys.stdout.write
        for o in out:
            write(f"{o['row']}\t{o['field']}\t{o['severity']}\t{o['message']}\n")


def _open(path: Path):
    from desktop.storage import open_register

    return open_register(path, _passphrase())


# --- commands --------------------------------------------------------------------------------


def cmd_init(args) -> int:
    from desktop.services.registers import LEVEL_NAMES, init_register

    passphrase = _passphrase(confirm=True)
    with init_register(args.db, passphrase, level=args.level, unit_name=args.unit_name,
                       unit_code=args.unit_code, parent_code=args.parent_code) as reg:
        print(f"已创建登记库：{reg.path}（{LEVEL_NAMES[args.level]}：{args.unit_name}，"
              f"代码 {args.unit_code}），并生成本单位签名密钥。")
    return 0


def cmd_validate(args) -> int:
    from desktop.domain.findings import has_errors
    from desktop.services.checking import check_file
    from desktop.services.progress import run

    forms = _forms()
    form = forms.form(args.form)
    if args.db:
        with _open(args.db) as reg, reg.session() as session:
            results = run(check_file(forms, form, args.file, register=reg, session=session),
                          _progress_printer())
    else:
        results = run(check_file(forms, form, args.file), _progress_printer())
    _print_findings(form, results, args.format)
    errors = sum(1 for r in results if has_errors(r.findings))
    if errors:
        print(f"共 {len(results)} 条记录，{errors} 条有错误（E）。", file=sys.stderr)
    else:
        print(f"共 {len(results)} 条记录，没有错误。", file=sys.stderr)
    return 1 if errors else 0


def cmd_import(args) -> int:
    from desktop.services.importing import import_file
    from desktop.services.progress import run

    forms = _forms()
    form = forms.form(args.form)
    with _open(args.db) as reg:
        result = run(import_file(reg, forms, form, args.file, partial=args.partial),
                     _progress_printer())
    _print_findings(form, result.rows, args.format)
    total = len(result.rows)
    if result.imported == 0 and result.refused:
        print(f"未导入任何记录：{total} 条中有 {result.refused} 条有错误（E）。改正后重新导入，"
              f"或用 --partial 只导入没有错误的记录。", file=sys.stderr)
        return 1
    print(f"已导入 {result.imported} 条记录到 {form.display_title}。", file=sys.stderr)
    if result.refused:
        print(f"{result.refused} 条记录有错误，未导入。", file=sys.stderr)
        return 1
    return 0


def cmd_audit(args) -> int:
    from desktop.storage import verify_audit_chain

    with _open(args.db) as reg, reg.session() as session:
        check = verify_audit_chain(session)
    print(check.message, file=sys.stdout if check.ok else sys.stderr)
    return 0 if check.ok else 1


_COMMANDS = {"init": cmd_init, "validate": cmd_validate, "import": cmd_import,
             "audit": cmd_audit}
