"""anchors: the audit anchors this register keeps of its senders' chains (list, forget)."""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop.commands.common import open_db


def register(sub) -> None:
    s = sub.add_parser("anchors", help="下级单位审计日志的锚点：查看；核实后清除")
    ops = s.add_subparsers(dest="anchors_op", metavar="操作", parser_class=type(s),
                           required=True)
    o = ops.add_parser("list", help="列出各发送单位上次被接收的审计日志末条")
    o.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    o = ops.add_parser("forget", help="清除一个单位的锚点（与该单位核实其审计日志为何改变之后）："
                       "它的下一个数据包重新开始锚定")
    o.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    o.add_argument("unit_code", help="发送单位代码")
    o.add_argument("--reason", required=True, help="核实的经过和原因（写入本登记库的审计日志）")
    s.set_defaults(func=cmd_anchors)


def cmd_anchors(args: argparse.Namespace) -> int:
    from desktop.services.packages.anchors import forget_anchor, list_anchors

    with open_db(args.db) as reg:
        if args.anchors_op == "forget":
            row = forget_anchor(reg, args.unit_code, args.reason, actor="cli")
            print(f"已清除单位 {row.sender_code} 的审计日志锚点（原为第 {row.seq} 条）。"
                  "该单位的下一个数据包将重新开始锚定；此操作已记入本登记库的审计日志。")
            return 0
        rows = list_anchors(reg)
    if not rows:
        print("本登记库还没有任何发送单位的审计日志锚点。")
    for row in rows:
        print(f"{row.sender_code}\t第 {row.seq} 条\t{row.hash}\t数据包 {row.package_id}\t"
              f"{row.updated_at:%Y-%m-%d %H:%M}")
    return 0
