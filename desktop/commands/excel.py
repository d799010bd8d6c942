"""export-excel, template: the official tables and the fill-in templates as workbooks."""

from __future__ import annotations

import sys
from pathlib import Path

from desktop.commands.common import FormChoices, open_db, progress_printer, shipped
from desktop.errors import UsageError


def register(sub) -> None:
    s = sub.add_parser("export-excel", help="将表单记录或汇总表（附件4–6）导出为正式格式的 Excel 工作簿")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--form", required=True, choices=FormChoices(tables=True), metavar="FORM",
                   help="表单或汇总表：%(choices)s")
    s.add_argument("--out", type=Path, required=True, help="导出的 .xlsx 文件")
    s.add_argument("--full", action="store_true",
                   help="显示完整的公民身份号码和电话号码（默认部分遮蔽；此操作记入操作日志）")
    s.add_argument("--filler", default="", help="表头“填报人”（默认取本单位附件3的联系人）")
    s.add_argument("--phone", default="", help="表头“联系电话”（默认取本单位附件3的联系电话）")
    s.set_defaults(func=cmd_export_excel)

    s = sub.add_parser("template", help="生成表单的 Excel 填写模板（含下拉列表和填写提示）")
    s.add_argument("--form", required=True, choices=FormChoices(), metavar="FORM",
                   help="表单：%(choices)s")
    s.add_argument("--out", type=Path, required=True, help="模板 .xlsx 文件")
    s.set_defaults(func=cmd_template)


def _check_out(path: Path) -> None:
    if path.suffix.lower() != ".xlsx":
        raise UsageError(f"输出文件应以 .xlsx 结尾：{path}")
    if path.is_dir():
        raise UsageError(f"这是一个文件夹而不是文件：{path}")


def cmd_export_excel(args) -> int:
    from desktop.progress import run
    from desktop.services.exporting import export_excel

    _check_out(args.out)
    forms = shipped()
    existed = args.out.exists()
    try:
        with open_db(args.db) as reg:
            result = run(export_excel(reg, forms, args.form, args.out, full=args.full,
                                      filler=args.filler, phone=args.phone), progress_printer())
    except BaseException:  # no workbook without the audit entry that says it was made
        if not existed:
            args.out.unlink(missing_ok=True)
        raise
    sdef = forms.summaries.get(args.form)
    extra = (f"，另有 {result.excluded} {sdef.counter}（{sdef.excluded.reason}）列在单独的工作表"
             if result.excluded else "")
    masked = ("公民身份号码和电话号码为完整号码，已记入操作日志，请妥善保管文件" if result.full
              else "公民身份号码和电话号码已部分遮蔽、出生日期只显示年月（需要完整号码时加 --full）")
    if result.drafts:
        extra += f"（另有 {result.drafts} 条草稿未计入）"
    print(f"已导出 {result.title}：{result.records} 条记录{extra} → {result.path}。{masked}。",
          file=sys.stderr)
    return 0


def cmd_template(args) -> int:
    from desktop.services.exporting import write_template

    _check_out(args.out)
    form = shipped().form(args.form)
    path = write_template(form, args.out)
    print(f"已生成 {form.display_title} 的填写模板：{path}", file=sys.stderr)
    return 0
