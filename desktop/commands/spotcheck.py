"""spotcheck: spot checks of the accepted records (抽查核验): draw a sample and write its
verification workbook, record the filled workbook, report per unit with the accountable
parties (desktop/services/spotcheck)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop.commands.common import open_db, progress_printer, shipped, shown


def register(sub) -> None:
    s = sub.add_parser("spotcheck", help="抽查核验：从已接收的记录中分层随机抽取样本、导入核验结果、"
                                         "按单位出具抽查报告")
    ops = s.add_subparsers(dest="spotcheck_op", metavar="操作", parser_class=type(s),
                           required=True)
    o = ops.add_parser("sample", help="抽取样本并生成抽查核验表（每个上报了记录的单位至少 1 条，"
                                      "同一随机种子和同一批记录抽出同一样本）")
    o.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    amount = o.add_mutually_exclusive_group(required=True)
    amount.add_argument("--size", type=int, help="样本量（条数）")
    amount.add_argument("--rate", help="抽样比例，如 5%% 或 0.05（样本量向上取整）")
    o.add_argument("--seed", help="随机种子（4–64 个英文字母、数字、_ 或 -；不写则自动生成，"
                                  "印在核验表和报告上）")
    o.add_argument("--out", type=Path, required=True, help="输出的抽查核验表（.xlsx）")
    o.set_defaults(func=cmd_sample)

    o = ops.add_parser("record", help="导入填好的抽查核验表：全部无误才写入，有问题逐格列出")
    o.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    o.add_argument("file", type=Path, help="填好的抽查核验表（.xlsx）")
    o.add_argument("--format", choices=["text", "json"], default="text", help="问题的输出格式")
    o.set_defaults(func=cmd_record)

    o = ops.add_parser("report", help="抽查报告（PDF 或 Excel）：各单位抽查、核验、不实条数和不实率，"
                                      "签名公钥、书记和联系人")
    o.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    o.add_argument("--sample", help="样本编号（默认最近一次抽取的样本）")
    o.add_argument("--out", type=Path, required=True, help="输出文件（.pdf 或 .xlsx）")
    o.set_defaults(func=cmd_report)

    o = ops.add_parser("list", help="列出本登记库抽取过的样本")
    o.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    o.set_defaults(func=cmd_list)


def cmd_sample(args: argparse.Namespace) -> int:
    from desktop.progress import run
    from desktop.services.spotcheck import draw_sample

    with open_db(args.db) as reg:
        drawn = run(draw_sample(reg, shipped(), args.out, size=args.size, rate=args.rate,
                                seed=args.seed), progress_printer())
    print(f"已抽取样本 {drawn.sample_id}：从 {drawn.units} 个单位的 {drawn.population} 条已接收记录中"
          f"抽取 {drawn.size} 条（{drawn.rule}）。")
    print(f"随机种子：{drawn.seed}（用同一种子和同一批已接收记录可重新抽出同一样本）")
    for title, n in drawn.forms.items():
        print(f"{title}\t{n} 条")
    print(f"抽查核验表：{drawn.path}")
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from desktop.services.spotcheck import record_results

    with open_db(args.db) as reg:
        result = record_results(reg, args.file)
    if args.format == "json":
        json.dump([{"cell": f.cell, "severity": f.severity, "message": f.message}
                   for f in result.findings], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        for f in result.findings:
            print(f"{shown(f.cell)}\t{f.severity}\t{shown(f.message)}")
    if result.refused:
        errors = sum(f.severity == "E" for f in result.findings)
        print(f"抽查核验表有 {errors} 处错误（E），未导入任何结果。改正后重新导入。", file=sys.stderr)
        return 1
    counts = "，".join(f"{k} {v} 条" for k, v in result.counts.items())
    print(f"已导入样本 {result.sample_id} 的核验结果 {result.verdicts} 条（{counts}）"
          + (f"，其中 {result.changed} 条改变了此前导入的结果" if result.changed else "") + "。",
          file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from desktop.progress import run
    from desktop.services.spotcheck import write_report

    with open_db(args.db) as reg:
        report = run(write_report(reg, shipped(), args.out, sample_id=args.sample),
                     progress_printer())
    print(report.summary())
    print(f"抽查报告：{args.out}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from desktop.services.spotcheck import samples

    with open_db(args.db) as reg:
        found = samples(reg)
    if not found:
        print("本登记库还没有抽取过样本。")
    for s in found:
        print(f"{s.id}\t{s.created_at:%Y-%m-%d %H:%M}\t{s.rule}\t{s.size}/{s.population} 条\t"
              f"{s.units} 个单位\t种子 {s.seed}\t{s.created_by}")
    return 0
