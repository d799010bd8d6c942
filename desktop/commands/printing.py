"""print, archive-check: paper copies in the form's layout, and matching paper to the register."""

from __future__ import annotations

import sys
from pathlib import Path

from desktop.commands.common import FormChoices, open_db, progress_printer, shipped
from desktop.services.printing import STATS_ID


def register(sub) -> None:
    s = sub.add_parser(
        "print", help="打印为 PDF：登记表按纸质表样式逐条一页，汇总表横向（含二维码、签字栏、盖章框）",
        description="登记表逐条打印，汇总表和统计表打印全部记录（表单见 --form 的说明）。"
        "身份证号码和电话号码默认遮蔽。")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--form", required=True, metavar="FORM", help="登记表或汇总表：%(choices)s",
                   choices=FormChoices(tables=True, extra=((STATS_ID, _stats_title),)))
    s.add_argument("--record", action="append", metavar="ID",
                   help="只打印这条记录（可重复）；不写则打印该登记表的全部记录")
    s.add_argument("--out", type=Path, required=True, help="输出的 PDF 文件")
    s.add_argument("--full", action="store_true",
                   help="身份证号码和电话号码全号打印（默认遮蔽；全号打印会记入操作日志）")
    s.add_argument("--filler", default="", help="汇总表表头的填报人")
    s.add_argument("--contact", default="", help="汇总表表头的联系电话")
    s.set_defaults(func=cmd_print)

    s = sub.add_parser("archive-check", help="核对纸质件二维码与登记库中的记录是否一致")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--qr", required=True, metavar="TEXT",
                   help="扫描得到的二维码内容，或二维码下方印的一行（DJ1:R:…:…）")
    s.set_defaults(func=cmd_archive_check)

    s = sub.add_parser("cover", help="打印已导出数据包的封面（含公钥指纹、盖章框），供接收方核对")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--package", metavar="ID", help="数据包编号（可只写前几位；默认最近导出的一个）")
    s.add_argument("--out", type=Path, required=True, help="输出的 PDF 文件")
    s.set_defaults(func=cmd_cover)


def _stats_title() -> str:
    from desktop.domain.society.stats import TITLE

    return TITLE


def cmd_print(args) -> int:
    from desktop.errors import UsageError
    from desktop.progress import run
    from desktop.services.printing import print_records, print_tables, table_ids, write_pdf

    forms = shipped()
    tables = table_ids(forms)
    if args.form in tables and args.record:
        raise UsageError(f"--record 只用于登记表；{args.form} 是汇总表，打印时包含全部记录。")
    with open_db(args.db) as reg:
        if args.form in tables:
            result = run(print_tables(reg, forms, args.form, full=args.full, filler=args.filler,
                                      contact=args.contact), progress_printer())
            what = f"{result.records} 行"
        else:
            result = run(print_records(reg, forms, args.form, args.record, full=args.full),
                         progress_printer())
            what = f"{result.records} 条记录"
    write_pdf(args.out, result)
    if result.drafts:
        what += f"（另有 {result.drafts} 条草稿未计入）"
    print(f"已打印 {what}，共 {result.pages} 页：{args.out}")
    if args.full:
        print("本次为全号打印，已记入操作日志。", file=sys.stderr)
    return 0


def cmd_archive_check(args) -> int:
    from desktop.services.printing import archive_check

    with open_db(args.db) as reg:
        check = archive_check(reg, shipped(), args.qr)
    print(check.message, file=sys.stdout if check.ok else sys.stderr)
    return 0 if check.ok else 1


def cmd_cover(args) -> int:
    from desktop.services.packages.files import print_package_cover
    from desktop.services.printing import write_pdf

    with open_db(args.db) as reg:
        result = print_package_cover(reg, shipped(), args.package)
    write_pdf(args.out, result)
    print(f"已打印数据包封面：{args.out}", file=sys.stderr)
    return 0
