"""init, validate, import, audit, records void / reopen: the register and its records."""

from __future__ import annotations

import sys
from pathlib import Path

from desktop.commands.common import (
    FormChoices,
    open_db,
    passphrase,
    print_findings,
    progress_printer,
    shipped,
    shown,
)
from desktop.domain.levels import LEVELS
from desktop.errors import UsageError


def register(sub) -> None:
    s = sub.add_parser("init", help="新建加密登记库及本单位的签名密钥")
    s.add_argument("--db", type=Path, required=True, help="新登记库的文件路径")
    s.add_argument("--level", required=True, choices=LEVELS, help="本单位层级")
    s.add_argument("--unit-name", required=True, help="本单位名称")
    s.add_argument("--unit-code", required=True, help="本单位代码（如统一社会信用代码）")
    s.add_argument("--parent-code", help="上级单位代码")
    s.add_argument("--recovery-sheet", type=Path, metavar="文件.pdf",
                   help="把恢复密钥页（PDF）保存到此文件，打印后盖章存放在单位保险柜")
    s.add_argument("--yes", action="store_true",
                   help="不询问，视为已打印或保存恢复密钥页（供脚本使用）")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("validate", help="校验文件中的记录（不改动任何登记库）")
    s.add_argument("--form", required=True, choices=FormChoices(), metavar="FORM",
                   help="表单：%(choices)s")
    s.add_argument("--format", choices=["text", "json"], default="text", help="输出格式")
    s.add_argument("--db", type=Path, help="同时对照此登记库校验（查重、跨表规则）")
    s.add_argument("--annotate", type=Path, metavar="OUT.xlsx",
                   help="把问题标注在工作簿的副本上：错误的单元格填红色，警告填黄色，并加批注")
    s.add_argument("file", type=Path,
                   help=".jsonl 文件（每行一个 JSON 对象，键为栏目名称）或 Excel 工作簿（.xlsx）")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("import", help="将文件中的记录导入登记库（默认全部通过才导入）")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--form", required=True, choices=FormChoices(), metavar="FORM",
                   help="表单：%(choices)s")
    s.add_argument("--partial", action="store_true", help="只导入没有错误的记录，报告其余记录")
    s.add_argument("--format", choices=["text", "json"], default="text", help="问题的输出格式")
    s.add_argument("--annotate", type=Path, metavar="OUT.xlsx",
                   help="把问题标注在工作簿的副本上：错误的单元格填红色，警告填黄色，并加批注")
    s.add_argument("file", type=Path, help=".jsonl 文件或 Excel 工作簿（.xlsx）")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("records", help="作废误建的草稿，或把已完成的记录退回草稿")
    which = s.add_subparsers(dest="records_command", required=True, metavar="操作")
    v = which.add_parser("void", help="作废草稿：从列表、汇总表、导出和数据包中移除（记入操作日志）")
    v.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    v.add_argument("--id", required=True, dest="record_id", help="记录编号（窗口中记录详情可复制）")
    v.set_defaults(func=cmd_void)
    r = which.add_parser("reopen", help="把本单位已完成的记录退回草稿（修改后须重新标记完成）")
    r.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    r.add_argument("--id", required=True, dest="record_id", help="记录编号")
    r.set_defaults(func=cmd_reopen)

    s = sub.add_parser("audit", help="检查登记库的操作日志哈希链是否完整，记录是否与日志一致")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.set_defaults(func=cmd_audit)


def cmd_init(args) -> int:
    from desktop.commands.secrets import ACTOR, issue_recovery_key
    from desktop.domain.levels import LEVEL_NAMES
    from desktop.services.registers import init_register
    from desktop.services.secrets import make_recovery_key

    sheet = args.recovery_sheet
    if sheet is not None and (sheet.suffix.lower() != ".pdf" or not sheet.parent.is_dir()):
        raise UsageError(f"--recovery-sheet 要给出已有文件夹中的 PDF 文件名（.pdf），{sheet} 不行。")
    secret = passphrase(confirm=True)
    with init_register(args.db, secret, level=args.level, unit_name=args.unit_name,
                       unit_code=args.unit_code, parent_code=args.parent_code,
                       tables=shipped().tables) as reg:
        print(f"已创建登记库：{reg.path}（{LEVEL_NAMES[args.level]}：{args.unit_name}，"
              f"代码 {args.unit_code}），并生成本单位签名密钥。")
        # the recovery key opens the register on its own when the passphrase is forgotten
        issue_recovery_key(reg, make_recovery_key(reg, ACTOR), sheet, args.yes)
    return 0


def cmd_validate(args) -> int:
    from desktop.domain.findings import has_errors
    from desktop.progress import run
    from desktop.services.intake.read import check_file

    forms = shipped()
    form = forms.form(args.form)
    if args.db:
        with open_db(args.db) as reg, reg.session() as session:
            results = run(check_file(forms, form, args.file, register=reg, session=session),
                          progress_printer())
    else:
        results = run(check_file(forms, form, args.file), progress_printer())
    print_findings(form, results, args.format)
    _annotate(args, form, results)
    errors = sum(1 for r in results if has_errors(r.findings))
    if errors:
        print(f"共 {len(results)} 条记录，{errors} 条有错误（E）。", file=sys.stderr)
    else:
        print(f"共 {len(results)} 条记录，没有错误。", file=sys.stderr)
    return 1 if errors else 0


def cmd_import(args) -> int:
    from desktop.progress import run
    from desktop.services.intake.importing import import_file

    forms = shipped()
    form = forms.form(args.form)
    with open_db(args.db) as reg:
        result = run(import_file(reg, forms, form, args.file, partial=args.partial),
                     progress_printer())
    print_findings(form, result.rows, args.format)
    _annotate(args, form, result.rows)
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


def _annotate(args, form, rows) -> None:
    """--annotate: the user's workbook back with the bad cells marked."""
    if not args.annotate:
        return
    from desktop.errors import UsageError
    from desktop.services.exporting import annotate_results
    from desktop.services.intake.read import is_workbook

    if not is_workbook(args.file):
        raise UsageError("--annotate 只能用于 Excel 工作簿（.xlsx）")
    path = annotate_results(args.file, args.annotate, form, rows)
    print(f"已把问题标注在 {path}（错误填红色，警告填黄色，批注中是说明）。", file=sys.stderr)


def cmd_void(args) -> int:
    from desktop.services.drafts import void_draft

    return _change(args, void_draft, "已作废草稿", "（已记入操作日志）。")


def cmd_reopen(args) -> int:
    from desktop.services.drafts import reopen

    return _change(args, reopen, "已退回草稿",
                   "。修改后请重新标记完成，否则不计入汇总表、导出和上报。")


def _change(args, change, done: str, then: str) -> int:
    """records void / reopen: the change, then who it was (masked ID number)."""
    with open_db(args.db) as reg:
        who = change(reg, shipped(), args.record_id, actor="命令行")
    print(f"{done}：{shown(who.person)}，{who.form_title}，记录 {who.record_id}{then}")
    return 0


def cmd_audit(args) -> int:
    """The hash chain, then every stored record against the last entry that changed it."""
    from desktop.storage import verify_audit_chain
    from desktop.storage.audit import check_records

    with open_db(args.db) as reg, reg.session() as session:
        chain = verify_audit_chain(session)
        records = check_records(session)
    for check in (chain, records):
        print(check.message, file=sys.stdout if check.ok else sys.stderr)
    return 0 if chain.ok and records.ok else 1
