"""changes: what changed between a unit's packages (定期更新), or the own unit's changes since its
last package; as text, JSON (docs/packages.md, 变化清单) or a workbook."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from desktop.commands.common import open_db, shipped, shown

#: how many records the text output lists before it says how many more there are
LISTED = 200


def register(sub) -> None:
    s = sub.add_parser("changes", help="变化清单：下级单位本次数据包与上一个相比的新增、减少（及原因）和"
                       "修改；不加 --unit 时为本单位上次上报以来的变化")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--unit", help="单位代码（收件看板中的单位；不填：本单位自己的变化）")
    s.add_argument("--format", choices=["text", "json"], default="text", help="输出格式")
    s.add_argument("--out", type=Path, help="同时写出变化清单 Excel 工作簿（.xlsx）")
    s.add_argument("--full", action="store_true",
                   help="显示完整的公民身份号码和电话号码（默认部分遮蔽；此操作记入操作日志）")
    s.set_defaults(func=cmd_changes)


def cmd_changes(args: argparse.Namespace) -> int:
    from desktop.errors import UsageError
    from desktop.services.packages.changes import as_json, changes_report, write_workbook

    if args.out is not None:
        if args.out.suffix.lower() != ".xlsx":
            raise UsageError(f"--out {args.out}：变化清单应写成 .xlsx 工作簿。")
        if not args.out.parent.is_dir():
            raise UsageError(f"--out {args.out}：文件夹 {args.out.parent} 不存在。请先建好文件夹"
                             "或换一个位置。")
    forms = shipped()
    with open_db(args.db) as reg:
        report = changes_report(reg, forms, args.unit, full=args.full, actor="命令行")
        written = None
        if args.out is not None and report.comparison is not None:
            written = write_workbook(reg, forms, report, args.out, actor="命令行")
    if args.format == "json":
        print(json.dumps(as_json(report, forms), ensure_ascii=False, indent=1))
        return 0
    print(shown(report.heading))
    if report.comparison is not None:
        _print_text(report, forms)
    if report.carried is not None:
        print(shown("报送单位随数据包自报的变化：" + carried_text(report.carried)))
    if written is not None:
        print(shown(f"变化清单已写出：{written}"))
    elif args.out is not None:
        print("没有可以比较的内容，未写出工作簿。")
    return 0


def carried_text(rows: list[dict]) -> str:
    from desktop.exchange.changes import sentence, summed

    units = summed(rows)
    if not units:
        return "没有变化"
    return "；".join(f"单位 {code} {sentence(u['added'], u['removed'], u['changed'])}"
                    for code, u in sorted(units.items()))


def _print_text(report, forms) -> None:
    from desktop.services.packages.changes import form_title

    changes = report.comparison.changes
    for c in changes[:LISTED]:
        why = f"（{c.why}）" if c.why else ""
        print("\t".join(shown(t) for t in (c.change, c.unit_code, form_title(forms, c.form_id),
                                             c.name + why)))
        for f in c.fields:
            print("\t\t" + shown(f"{f.label}：{f.old or '（空）'} → {f.new or '（空）'}"))
    if len(changes) > LISTED:
        print(f"……另有 {len(changes) - LISTED} 条记录的变化未列出，请用 --out 写出 Excel 或 "
              "--format json 查看全部。")
    if not report.comparison.masked:
        print("以上含完整的身份证号码和电话号码，请勿外传。")
