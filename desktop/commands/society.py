"""cleanup, stats, members: the law society's member register and its cleanup campaign
(个人会员清理, 辽会〔2020〕28号)."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from desktop.commands.common import (
    add_secret_option,
    open_db,
    progress_printer,
    secret_value,
    shipped,
    shown,
)
from desktop.errors import KnownError, UsageError
from desktop.inputs import regular_file
from desktop.storage.concurrency import require_audit_of

CATEGORY_NAMES = {"重复录入": "2", "严重违法违纪": "3", "不符合条件": "4", "无身份证号": "5",
                  "已退会": "6"}


def _date(text: str) -> date:
    from desktop.domain.values import parse_date

    value = parse_date(text)
    if value is None:
        raise UsageError(f"日期“{text}”无法识别，请写作 2021-04-30")
    return value


def register(sub) -> None:
    c = sub.add_parser("cleanup", help="个人会员清理：生成清理表、导入处理决定、重新入会、逾期退会、通报")
    cs = c.add_subparsers(dest="cleanup_command", metavar="操作")
    cs.required = True

    s = cs.add_parser("propose", help="生成清理表（重复录入、无身份证号、长期失联或不履行义务、撤销资格）")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--out", type=Path, required=True, help="输出的清理表（.xlsx）")
    s.add_argument("--years", type=int, default=3, help="失去联系或不履行义务的年限（默认 3 年）")
    s.add_argument("--full", action="store_true",
                   help="身份证号码和手机号码全号导出（默认部分遮蔽；全号导出会记入操作日志）")
    s.set_defaults(func=cmd_propose)

    s = cs.add_parser("apply", help="导入填好的清理表：全部无误才写入，有问题逐格列出")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("file", type=Path, help="填好的清理表（.xlsx）")
    s.add_argument("--handler", required=True, help="经办人（各页未填经办人的行都用此人）")
    s.add_argument("--approver", default="", help="审批人（撤销资格各行未填审批人时使用）")
    s.add_argument("--batch", default="", help="清理批次（默认“某年个人会员清理”）")
    s.add_argument("--date", type=_date, help="清理日期（默认今天）")
    s.add_argument("--format", choices=["text", "json"], default="text", help="问题的输出格式")
    s.set_defaults(func=cmd_apply)

    s = cs.add_parser("readmit", help="重新入会：暂时移出的会员补全身份证号并经本人同意")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--member-no", default="", help="会员证号")
    s.add_argument("--record", default="", help="记录编号（会员证号重复时使用）")
    add_secret_option(s, "--id-number", "补全的公民身份号码")
    s.add_argument("--agreed", action="store_true", help="确认本人同意重新入会")
    s.add_argument("--handler", required=True, help="经办人")
    s.add_argument("--approver", default="", help="审批人")
    s.add_argument("--basis", default="", help="依据（默认：本人同意，补全身份证号后重新办理入会手续）")
    s.set_defaults(func=cmd_readmit)

    s = cs.add_parser("restore", help="恢复在册：撤销误作的清理决定（作为新的决定记入操作日志）")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--member-no", default="", help="会员证号")
    s.add_argument("--record", default="", help="记录编号（会员证号重复时使用）")
    s.add_argument("--basis", required=True, help="恢复的依据，如“经核实，误作重复录入清理”")
    s.add_argument("--handler", required=True, help="经办人")
    s.add_argument("--approver", default="", help="审批人")
    s.set_defaults(func=cmd_restore)

    s = cs.add_parser("withdraw-overdue", help="期限过后仍未补全身份证号的暂时移出会员按退会处理")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--deadline", type=_date, required=True, help="补全期限，如 2021-04-30")
    s.add_argument("--handler", required=True, help="经办人")
    s.add_argument("--approver", default="", help="审批人")
    s.set_defaults(func=cmd_withdraw)

    s = cs.add_parser("notice", help="清理结果通报（PDF 或 Excel），可选列出姓名和清理类别")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--out", type=Path, required=True, help="输出文件（.pdf 或 .xlsx）")
    s.add_argument("--names", action="store_true", help="列出姓名和清理类别（默认只通报数量）")
    s.add_argument("--category", action="append", choices=list(CATEGORY_NAMES),
                   help="列出哪些类别的人员（可重复；默认：严重违法违纪、不符合条件、无身份证号、已退会）")
    s.add_argument("--deadline", type=_date, help="暂时移出人员补全信息、重新入会的期限（写入通报）")
    s.set_defaults(func=cmd_notice)

    s = sub.add_parser("stats", help="个人会员清理工作情况统计表（可汇总下级的统计表）")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--format", choices=["text", "json"], default="text", help="输出格式")
    s.add_argument("--add", type=Path, action="append", default=[], metavar="FILE.json",
                   help="下级法学会的统计表（stats.json，可重复），与本会的一并汇总")
    s.add_argument("--received", action="store_true",
                   help="连同已收到的下级法学会数据包中的统计表（未附统计表的按其会员记录计算）一并汇总")
    s.add_argument("--out", type=Path, help="另存为 .xlsx、.pdf 或 .json（供上报）")
    s.add_argument("--filler", default="", help="填报人（默认：本单位信息中的填报人）")
    s.add_argument("--contact", default="", help="联系方式（默认：本单位信息中的联系电话）")
    s.add_argument("--date", type=_date, help="填报时间（默认今天）")
    s.set_defaults(func=cmd_stats)

    m = sub.add_parser("members", help="会员证号：下一个可用号码、核对已有号码")
    ms = m.add_subparsers(dest="members_command", metavar="操作")
    ms.required = True
    s = ms.add_parser("next-number", help="本会下一个可用的会员证号")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--society", default="", help="本会代码（会员证号前缀，默认按本单位名称在发证法学会代码表中查找）")
    s.set_defaults(func=cmd_next_number)
    s = ms.add_parser("check", help="核对会员证号：编号规则、发证法学会、重复的号码")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--format", choices=["text", "json"], default="text", help="输出格式")
    s.set_defaults(func=cmd_check_numbers)


def _batch(text: str, when: date) -> str:
    return text.strip() or f"{when.year}年个人会员清理"


def cmd_propose(args) -> int:
    from desktop.progress import run
    from desktop.services.cleanup.paper import log_export
    from desktop.services.cleanup.propose import propose, society_form
    from desktop.services.cleanup.workbook import write_proposal

    if args.out.suffix.lower() != ".xlsx":
        raise UsageError(f"清理表应保存为 .xlsx 文件：{args.out}")
    if args.years < 1:
        raise UsageError("--years 至少为 1")
    forms = shipped()
    with open_db(args.db) as reg:
        proposal = run(propose(reg, forms, years=args.years), progress_printer())
        unit = _unit_name(reg)
        try:
            require_audit_of(reg)  # logged: refused before the file if it cannot be
            write_proposal(args.out, proposal, society_form(forms), unit_name=unit, full=args.full)
        except OSError as err:
            raise KnownError(f"无法写入 {args.out}（{err.strerror}）。如文件已在 Excel 中打开，请先关闭。"
                             ) from None
        log_export(reg, "cleanup.propose", args.out, {"full": args.full,
                   "removals": proposal.removals, "no_id": len(proposal.no_id),
                   "overdue": len(proposal.overdue)})
    print(f"已生成清理表：{args.out}")
    print(f"登记条目 {proposal.entries} 条；重复录入 {len(proposal.groups)} 组、建议清理 "
          f"{proposal.removals} 条；无身份证号 {len(proposal.no_id)} 人；长期失联或不履行义务 "
          f"{len(proposal.overdue)} 人；会员证号问题 {len(proposal.number_issues)} 项。")
    if proposal.undated:
        print(f"另有 {proposal.undated} 人没有登记最近联系日期和最近履行会员义务日期，无法判断是否长期失联。")
    return 0


def cmd_apply(args) -> int:
    from desktop.services.cleanup.propose import apply_decisions, society_form
    from desktop.services.cleanup.workbook import read_decisions

    forms = shipped()
    when = args.date or date.today()
    read = read_decisions(args.file, society_form(forms), handler=args.handler,
                          approver=args.approver)
    with open_db(args.db) as reg:
        result = apply_decisions(reg, forms, read.decisions, actor=args.handler,
                                 batch=_batch(args.batch, when), when=when,
                                 source=args.file.name)
    findings = read.findings + result.findings
    _print_cells(findings, args.format)
    refused = any(f.severity == "E" for f in findings)
    if refused:
        errors = sum(f.severity == "E" for f in findings)
        print(f"清理表有 {errors} 处错误（E），未作任何改动。改正后重新导入。", file=sys.stderr)
        return 1
    by = {}
    for ch in result.changes:
        by[ch.after] = by.get(ch.after, 0) + 1
    status = society_form(forms).field("status").codes
    parts = "，".join(f"{status.label_of(k)} {v} 条" for k, v in sorted(by.items()))
    print(f"已处理 {len(result.changes)} 条" + (f"：{parts}" if parts else "") +
          (f"；{result.skipped} 条无需处理（见上）" if result.skipped else "") + "。", file=sys.stderr)
    return 0


def _print_cells(findings, fmt: str) -> None:
    if fmt == "json":
        json.dump([{"cell": f.cell, "severity": f.severity, "message": f.message}
                   for f in findings], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return
    for f in findings:
        print(f"{shown(f.cell)}\t{f.severity}\t{shown(f.message)}")


def cmd_readmit(args) -> int:
    from desktop.services.cleanup.members import readmit

    number = secret_value(args, "--id-number", "补全的公民身份号码")  # asked before the passphrase
    with open_db(args.db) as reg:
        change = readmit(reg, shipped(), id_number=number, handler=args.handler,
                         agreed=args.agreed, record_id=args.record, member_no=args.member_no,
                         approver=args.approver, basis=args.basis,
                         batch=_batch("", date.today()))
    print(f"{shown(change.name)}（会员证号 {shown(change.member_no or '无')}）已重新入会。")
    return 0


def cmd_restore(args) -> int:
    from desktop.services.cleanup.members import restore
    from desktop.services.cleanup.propose import society_form

    forms = shipped()
    with open_db(args.db) as reg:
        change = restore(reg, forms, basis=args.basis, handler=args.handler,
                         record_id=args.record, member_no=args.member_no,
                         approver=args.approver, batch=_batch("", date.today()))
    was = society_form(forms).field("status").codes.label_of(change.before)
    print(f"{shown(change.name)}（会员证号 {shown(change.member_no or '无')}）已由"
          f"“{shown(was)}”恢复为在册。")
    return 0


def cmd_withdraw(args) -> int:
    from desktop.services.cleanup.members import withdraw_overdue

    with open_db(args.db) as reg:
        changes = withdraw_overdue(reg, shipped(), deadline=args.deadline, handler=args.handler,
                                   approver=args.approver, batch=_batch("", date.today()))
    print(f"{len(changes)} 名暂时移出的会员在 {args.deadline.isoformat()} 前未补全身份证号，已按退会处理。")
    return 0


def cmd_notice(args) -> int:
    from desktop.services.cleanup.paper import build_notice, log_export, write_notice

    if args.out.suffix.lower() not in (".pdf", ".xlsx"):
        raise UsageError(f"通报应保存为 .pdf 或 .xlsx 文件：{args.out}")
    chosen = [CATEGORY_NAMES[c] for c in args.category] if args.category else None
    if chosen and not args.names:
        raise UsageError("--category 只在列出姓名时使用，请同时加上 --names")
    with open_db(args.db) as reg:
        notice = build_notice(reg, shipped(), names=args.names, categories=chosen,
                              deadline=args.deadline)
        require_audit_of(reg)  # logged: refused before the file if it cannot be
        write_notice(args.out, notice)
        log_export(reg, "cleanup.notice", args.out, {"names": args.names,
                   "categories": chosen or [], "listed": len(notice.rows)})
    listed = f"，列出 {len(notice.rows)} 人" if args.names else "（只通报数量，不列姓名）"
    print(f"已生成清理结果通报{listed}：{args.out}")
    return 0


def cmd_stats(args) -> int:
    from desktop.domain.society.stats import stats_from_json
    from desktop.services.cleanup.paper import log_export, print_stats, write_stats
    from desktop.services.packages.stats import unit_table
    from desktop.services.unit import unit_profile

    when = (args.date or date.today()).isoformat()
    added = []
    for path in args.add:
        try:
            obj = json.loads(regular_file(path, "统计表").read_text(encoding="utf-8-sig"))
            added.append(stats_from_json(obj, f"统计表 {path.name} "))
        except FileNotFoundError:
            raise UsageError(f"找不到文件：{path}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise UsageError(f"无法读取统计表 {path}：{err}") from None
        except ValueError as err:
            raise KnownError(str(err)) from None
    with open_db(args.db) as reg:
        profile = unit_profile(reg)  # 本单位信息 fills what the options leave out
        stats = unit_table(reg, filed=when, received=args.received, added=added,
                           filler=args.filler or profile.filler,
                           contact=args.contact or profile.phone)
        if args.out:
            require_audit_of(reg)  # logged: refused before the file if it cannot be
            write_stats(args.out, stats)
            log_export(reg, "stats.export", args.out, {"parts": len(stats.parts)})
    print_stats(stats, args.format)
    if args.out:
        print(f"已保存：{args.out}", file=sys.stderr)
    return 0


def cmd_next_number(args) -> int:
    from desktop.services.cleanup.members import next_number

    with open_db(args.db) as reg:
        found = next_number(reg, shipped(), args.society)
    print(found.number)
    print(f"{found.society.name}（前缀 {found.society.code}）已发 {found.issued} 个会员证号。",
          file=sys.stderr)
    return 0


def cmd_check_numbers(args) -> int:
    from desktop.domain.society.member_numbers import SOCIETIES_TABLE, check_member_numbers
    from desktop.services.cleanup.propose import load_members

    forms = shipped()
    with open_db(args.db) as reg:
        loaded = load_members(reg)
    issues = check_member_numbers(((m.id, m.member_no, loaded.issuers.get(m.id, ""), m.name)
                                   for m in loaded.members), forms.tables[SOCIETIES_TABLE])
    if args.format == "json":
        json.dump([{"member_no": i.member_no, "severity": i.severity, "code": i.code,
                    "message": i.message, "records": list(i.record_ids)} for i in issues],
                  sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        for i in issues:
            print(f"{shown(i.member_no)}\t{i.severity}\t{shown(i.message)}")
    missing = sum(1 for m in loaded.members if not m.member_no)
    print(f"共 {len(loaded.members)} 条，会员证号问题 {len(issues)} 项" +
          (f"，{missing} 条没有会员证号" if missing else "") + "。", file=sys.stderr)
    return 1 if any(i.severity == "E" for i in issues) else 0


def _unit_name(reg) -> str:
    from desktop.storage import Unit

    with reg.session() as session:
        unit = session.get(Unit, reg.own_unit_id)
    return unit.name if unit else ""
