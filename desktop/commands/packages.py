"""export, verify, merge, accept, return, keys, units, conflicts: signed packages up the chain."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop.commands.common import open_db, progress_printer, shipped, shown
from desktop.errors import UsageError


def _db(p, required: bool = True, nested: bool = False) -> None:
    kw = {"default": argparse.SUPPRESS} if nested else {"required": required}
    p.add_argument("--db", type=Path, help="登记库文件路径", **kw)


def _nested(parser, name: str):
    return parser.add_subparsers(dest=name, metavar="操作", parser_class=type(parser),
                                 required=True)


def register(sub) -> None:
    s = sub.add_parser("export", help="导出本单位签名、加密的数据包（.djpkg）")
    _db(s)
    s.add_argument("--out", type=Path, required=True, help="数据包写入的文件夹")
    s.add_argument("--to", type=Path, help="接收单位的公钥文件（默认：已核对的上级单位）")
    s.add_argument("--attach", type=Path, action="append", default=[],
                   help="随包附上的 .xlsx 或 .pdf 文件（可多次；默认自动生成各表的 Excel 和 PDF）")
    s.add_argument("--no-files", action="store_true",
                   help="不附 Excel 和 PDF 文件，只含数据")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("verify", help="核验数据包或退回文件（不改动任何登记库）")
    s.add_argument("package", type=Path, help=".djpkg 或 .djret 文件")
    _db(s, required=False)
    s.add_argument("--fingerprint", help="应有的签名者公钥指纹（纸质封面上印的）")
    s.add_argument("--format", choices=["text", "json"], default="text", help="输出格式")
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser("merge", help="核验并合并收到的数据包（也导入退回文件）")
    _db(s)
    s.add_argument("packages", type=Path, nargs="+", help=".djpkg / .djret 文件")
    s.set_defaults(func=cmd_merge)

    s = sub.add_parser("accept", help="接收（审核通过）一个已合并的数据包")
    _db(s)
    s.add_argument("--package", required=True, help="数据包编号（或其前 8 位以上）")
    s.set_defaults(func=cmd_accept)

    s = sub.add_parser("return", help="附意见退回一个数据包，生成签名的退回文件")
    _db(s)
    s.add_argument("--package", required=True, help="数据包编号（或其前 8 位以上）")
    s.add_argument("--comments", type=Path,
                   help=".jsonl 意见文件：每行 record_id、field（栏目名称）、comment"
                   "（处理冲突时已拟好的意见会一并退回）")
    s.add_argument("--out", type=Path, required=True, help="退回文件（.djret）或所在文件夹")
    s.set_defaults(func=cmd_return)

    s = sub.add_parser("keys", help="本单位公钥；核对并信任其他单位的公钥")
    _db(s, required=False)
    ops = _nested(s, "keys_op")
    o = ops.add_parser("show", help="显示本单位的公钥和指纹")
    _db(o, nested=True)
    o.add_argument("--format", choices=["text", "json"], default="text")
    o = ops.add_parser("export-public", help="写出本单位的公钥文件（.djkey）")
    _db(o, nested=True)
    o.add_argument("--out", type=Path, required=True, help="公钥文件路径")
    o = ops.add_parser("trust", help="核对指纹后信任一个公钥文件（或数据包的签名者）")
    _db(o, nested=True)
    o.add_argument("file", type=Path, help=".djkey 公钥文件或 .djpkg 数据包")
    o.add_argument("--fingerprint", required=True, help="纸质封面上印的公钥指纹")
    o = ops.add_parser("list", help="列出已信任的公钥，以及换钥、吊销记载")
    _db(o, nested=True)
    o = ops.add_parser("rotate", help="换钥：生成本单位新的密钥对，由旧公钥签名的换钥声明随下一个"
                       "数据包上报，上级据此改用新公钥")
    _db(o, nested=True)
    o = ops.add_parser("revoke", help="吊销下级单位丢失的公钥：自某日起用它签名的数据包一律拒绝，"
                       "吊销随下一个数据包上报")
    _db(o, nested=True)
    o.add_argument("--unit", required=True, help="下级单位代码")
    o.add_argument("--from", dest="since", required=True, metavar="日期",
                   help="自此日期（YYYY-MM-DD，或日期和时间）起吊销；宜取确知密钥仍安全的最后一天")
    o.add_argument("--key", help="要吊销的公钥指纹（本登记库只知道该单位一个公钥时可省略）")
    s.set_defaults(func=cmd_keys)

    s = sub.add_parser("units", help="应报单位名单与收件情况")
    _db(s, required=False)
    ops = _nested(s, "units_op")
    o = ops.add_parser("import", help="从 .xlsx / .csv / .jsonl 导入应报单位名单")
    _db(o, nested=True)
    o.add_argument("file", type=Path)
    o.add_argument("--deadline", help="报送截止日期（名单中未写时使用）")
    o = ops.add_parser("add", help="添加一个应报单位")
    _db(o, nested=True)
    o.add_argument("--code", required=True)
    o.add_argument("--name", required=True)
    o.add_argument("--deadline")
    o = ops.add_parser("list", help="收件情况：应报、已收、逾期、退回、接收")
    _db(o, nested=True)
    o.add_argument("--format", choices=["text", "json"], default="text")
    o = ops.add_parser("changes", help="待确认的单位信息变更（单位自己的数据包所报的新名称等）")
    _db(o, nested=True)
    o = ops.add_parser("confirm", help="确认一个单位的信息变更，改用其数据包所报的名称等")
    _db(o, nested=True)
    o.add_argument("code", help="单位代码")
    s.set_defaults(func=cmd_units)

    s = sub.add_parser("conflicts", help="不同单位重复登记同一人的冲突")
    _db(s, required=False)
    ops = _nested(s, "conflicts_op")
    o = ops.add_parser("list", help="列出冲突（默认只列未处理的）")
    _db(o, nested=True)
    o.add_argument("--all", action="store_true", help="也列出已处理的")
    o.add_argument("--format", choices=["text", "json"], default="text")
    o = ops.add_parser("resolve", help="处理一个冲突")
    _db(o, nested=True)
    o.add_argument("id", type=int, help="冲突编号")
    how = o.add_mutually_exclusive_group(required=True)
    how.add_argument("--keep", choices=["a", "b", "both"], help="保留甲、乙或两条都保留")
    how.add_argument("--return", dest="ret", choices=["a", "b"], help="退回甲或乙的报送单位")
    o.add_argument("--note", default="", help="说明（两条都保留时必填）")
    s.set_defaults(func=cmd_conflicts)


def _require_db(args, example: str) -> None:
    if not getattr(args, "db", None):
        raise UsageError(f"请用 --db 指定登记库，例如：dengji {example}")


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _attachments(paths: list[Path]) -> dict[str, bytes]:
    out = {}
    for i, p in enumerate(paths, start=1):
        folder = {".xlsx": "xlsx", ".pdf": "pdf"}.get(p.suffix.lower())
        if folder is None:
            raise UsageError(f"{p}：只能附上 .xlsx 或 .pdf 文件。")
        try:  # numbered: member names are in the manifest, readable outside the encryption,
            # and a file's own name often names a person (docs/packages.md)
            out[f"{folder}/随附文件{i}.{folder}"] = p.read_bytes()
        except OSError as err:
            raise UsageError(f"无法读取附件 {p}（{err.strerror}）。") from err
    return out


def cmd_export(args) -> int:
    from desktop.progress import run
    from desktop.services import packages as svc

    with open_db(args.db) as reg:
        try:
            result = run(svc.export_package(reg, shipped(), args.out, to=args.to,
                                            attachments=({} if args.no_files else
                                                         _attachments(args.attach) or None)),
                         progress_printer())
        except svc.ExportBlocked as blocked:
            for b in blocked.blockers:
                print(f"{b.form_title}\t{shown(b.name)}\t{b.field}\t{shown(b.message)}")
            _err(f"{blocked}未导出。")
            return 1
    print(result.path)
    r = result.recipient
    _err(f"已导出数据包（序号 {result.sequence}，{result.records} 条记录"
         + (f"，内含 {result.inner} 个原始数据包" if result.inner else "") + "），"
         f"加密发给 {r.describe()}，其公钥指纹 {r.fingerprint}。"
         + (f"已答复 {result.answered} 条退回意见。" if result.answered else "")
         + (f"另有 {result.drafts} 条草稿未上报（标记完成后随下次上报发出）。"
            if result.drafts else ""))
    if result.changes:  # the change summary the package carries (dengji changes lists it)
        _err(f"与上一个数据包（序号 {result.sequence - 1}）相比：{result.changes}。")
    return 0


def _verification_json(v) -> dict:
    m = v.manifest
    return {"file": v.source, "ok": v.ok, "sha256": v.sha256,
            "package_id": m.package_id if m else None, "kind": m.kind if m else None,
            "sender": m.raw.get("sender") if m else None,
            "recipient": m.raw.get("recipient") if m else None,
            "sequence": m.sequence if m else None, "created": m.created if m else None,
            "records": m.record_count if m else None,
            "forms": [{"id": f, "version": ver, "records": n} for f, ver, n in m.forms] if m
            else [], "checks": [{"name": c.name, "ok": c.ok, "message": c.message}
                                for c in v.checks], "findings": list(v.findings)}


def _describe(v) -> list[str]:
    from desktop.domain.levels import LEVEL_NAMES

    m = v.manifest
    if m is None:
        return [f"文件：{shown(v.source)}"]
    s = m.sender
    what = "退回文件" if m.kind == "return" else "数据包"
    lines = [f"{what}：{shown(v.source)}", f"编号：{shown(m.package_id)}",
             f"发送单位：{shown(s.name)}（{shown(LEVEL_NAMES.get(s.level, s.level))}，"
             f"代码 {shown(s.code)}）",
             f"接收单位：{shown(m.recipient.name)}（代码 {shown(m.recipient.code)}）",
             f"生成时间：{shown(m.created)}"]
    if m.kind == "return":
        lines.append(f"退回的数据包：{shown(m.returns)}；意见 {m.record_count} 条")
    else:
        forms = "，".join(f"{shown(f)} {n} 条" for f, _, n in m.forms) or "无"
        lines += [f"序号：{m.sequence}" + (f"（取代 {shown(m.supersedes)}）" if m.supersedes else ""),
                  f"记录：{m.record_count} 条（{forms}）"
                  + (f"；内含原始数据包 {len(m.inner)} 个" if m.inner else "")]
    return lines


def cmd_verify(args) -> int:
    from desktop.exchange.format.keys import normalise_fingerprint
    from desktop.services import packages as svc

    expected = None
    if args.fingerprint:
        expected = normalise_fingerprint(args.fingerprint)
        if expected is None:
            raise UsageError("--fingerprint 应为 64 位十六进制数字（可每 4 位一组用空格分隔）。")
    if getattr(args, "db", None):
        with open_db(args.db) as reg:
            v = svc.verify_file(args.package, shipped(), reg, expected)
    else:
        v = svc.verify_file(args.package, shipped(), None, expected)
    if args.format == "json":
        json.dump(_verification_json(v), sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        for line in _describe(v):
            print(line)
        for c in v.checks:
            mark = {True: "通过", False: "未通过", None: "未检查"}[c.ok]
            print(f"[{mark}] {c.name}：{shown(c.message)}")
        for finding in v.findings:
            print(f"[注意] {shown(finding)}")
    if v.ok:
        _err("核验通过。")
        return 0
    _err(f"核验未通过：{shown(v.reason())}")
    return 1


def cmd_merge(args) -> int:
    from desktop.exchange.handovers import local_when
    from desktop.progress import run
    from desktop.services import packages as svc

    with open_db(args.db) as reg:
        reports = run(svc.merge_packages(reg, shipped(), args.packages), progress_printer())
    refused = conflicts = findings = 0
    for r in reports:
        if r.status == "merged":
            o = r.outcome
            extra = f"，取代旧数据包中的 {o.replaced} 条" if o.replaced else ""
            issues = f"，错误 {o.errors} 个、未确认警告 {o.warnings} 个" if (
                o.errors or o.warnings) else ""
            print(f"已合并\t{shown(r.path.name)}\t{shown(o.sender.name)}\t序号 {o.sequence}\t"
                  f"{o.records} 条记录"
                  f"{extra}{issues}" + (f"\t重复登记冲突 {o.conflicts} 个" if o.conflicts else ""))
            conflicts += o.conflicts
            for _, when, given, taken in o.handovers:  # services/handover.py, reported upward
                print(f"移交\t{shown(o.sender.name)}\t{shown(local_when(when))}\t"
                      f"{shown(given)} → {shown(taken)}（经办人已更换，请更新联系人）")
            if r.stats_finding:
                findings += 1
                print(f"注意\t{shown(r.path.name)}\t{shown(r.stats_finding)}")
        elif r.status == "already":
            print(f"已合并过\t{shown(r.path.name)}\t未重复写入")
        elif r.status == "returned":
            print(f"已导入退回意见\t{shown(r.path.name)}\t{r.comments} 条")
        else:
            refused += 1
            print(f"已拒绝\t{shown(r.path.name)}\t{shown(r.reason)}")
    done = len(reports) - refused
    _err(f"共 {len(reports)} 个文件：{done} 个已处理，{refused} 个被拒绝（被拒绝的未写入任何内容）。"
         + (f"发现 {conflicts} 个重复登记冲突，请用 dengji conflicts --db 登记库 list 查看并处理。"
            if conflicts else "")
         + (f"{findings} 个数据包的统计表与其记录不符（见“注意”行），已照收，请与报送单位核对。"
            if findings else ""))
    return 1 if refused else 0


def cmd_accept(args) -> int:
    from desktop.services import packages as svc

    with open_db(args.db) as reg:
        p = svc.accept_package(reg, args.package)
    print(f"已接收 {shown(p.sender_name)} 的数据包 {p.id}（序号 {p.sequence}，{p.record_count} 条记录）。")
    return 0


def cmd_return(args) -> int:
    from desktop.services import packages as svc

    with open_db(args.db) as reg:
        p, written, target = svc.return_package(reg, shipped(), args.package, args.comments,
                                                args.out)
    print(target)
    _err(f"已退回 {shown(p.sender_name)} 的数据包（序号 {p.sequence}），意见 "
         f"{written.manifest['record_count']} 条。请将退回文件交给该单位导入。")
    return 0


def cmd_keys(args) -> int:
    from desktop.services import packages as svc

    _require_db(args, "keys --db 登记库 show")
    with open_db(args.db) as reg:
        if args.keys_op == "show":
            info = svc.own_public_key(reg)
            if args.format == "json":
                json.dump({"unit_code": info.code, "unit_name": info.name, "level": info.level,
                           "fingerprint": info.fingerprint,
                           "public_key": _b64(info.signing_key),
                           "encryption_key": _b64(info.encryption_key)},
                          sys.stdout, ensure_ascii=False, indent=1)
                print()
            else:
                print(f"本单位：{shown(info.describe())}\n公钥指纹：\n  {info.fingerprint}")
        elif args.keys_op == "export-public":
            info = svc.export_public_key(reg, args.out)
            print(args.out)
            _err(f"已写出 {info.name} 的公钥文件。公钥指纹：{info.fingerprint}")
        elif args.keys_op == "trust":
            info, new = svc.trust_key(reg, shipped(), args.file, args.fingerprint)
            print(("已信任 " if new else "此前已信任 ") + f"{shown(info.describe())} 的公钥，指纹 {info.fingerprint}。")
        elif args.keys_op in ("rotate", "revoke"):
            return _rotate_or_revoke(reg, args)
        else:
            from desktop.services.packages.keys import key_events

            for k in svc.list_trusted(reg):
                print(f"{shown(k.unit_code)}\t{shown(k.unit_name)}\t{k.level}\t{k.fingerprint}\t"
                      f"{k.created_at:%Y-%m-%d}\t{k.confirmed_how}")
            for e in key_events(reg):
                what = (f"换钥为 {e.new_fingerprint}" if e.kind == "rotation"
                        else f"由 {shown(e.by_name)}（{shown(e.by_code)}）吊销")
                print(f"{shown(e.unit_code)}\t{e.fingerprint}\t自 "
                      f"{e.effective_from.astimezone():%Y-%m-%d %H:%M} 起{what}")
    return 0


def _rotate_or_revoke(reg, args) -> int:
    from desktop.services.packages import keys

    if args.keys_op == "rotate":
        r = keys.rotate_key(reg)
        print(r.new_fingerprint)
        _err(f"已换钥。旧公钥指纹：{r.old_fingerprint}\n新公钥指纹：{r.new_fingerprint}\n"
             "换钥声明由旧公钥签名，随下一个数据包上报，上级据此改用新公钥（无需重新核对指纹）。"
             "旧私钥保留在本登记库中，只用于打开以前的数据包，不再签名。"
             "请重新导出公钥文件（keys export-public）并打印新的封面存档。")
        return 0
    r = keys.revoke_key(reg, args.unit, keys.parse_from(args.since), args.key)
    print(r.fingerprint)
    _err(f"已吊销 {shown(r.unit_code)} 的公钥 {r.fingerprint}，自 "
         f"{r.effective_from.astimezone():%Y-%m-%d %H:%M} 起用它签名的数据包一律拒绝。"
         "吊销随本单位下一个数据包上报，上级各级同样拒绝。请该单位用新登记库的公钥报送，"
         "并对照其新的盖章封面核对新公钥（keys trust）。")
    return 0


def _b64(data: bytes) -> str:
    from desktop.exchange.format.keys import b64

    return b64(data)


def cmd_units(args) -> int:
    from desktop.services import packages as svc

    _require_db(args, "units --db 登记库 list")
    with open_db(args.db) as reg:
        if args.units_op == "import":
            added, updated = svc.import_expected_units(reg, args.file, args.deadline)
            print(f"已导入应报单位名单：新增 {added} 个，更新 {updated} 个。")
            return 0
        if args.units_op == "add":
            svc.add_expected_unit(reg, args.code, args.name, args.deadline)
            print(f"已添加应报单位 {args.name}（{args.code}）。")
            return 0
        if args.units_op in ("changes", "confirm"):
            return _unit_changes(reg, args)
        rows = svc.dashboard(reg)
    if args.format == "json":
        json.dump([{**r.__dict__, "received_at": r.received_at.isoformat() if r.received_at
                    else None, "unit_changes": [c.describe() for c in r.unit_changes]}
                   for r in rows], sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    print("单位代码\t单位名称\t状态\t逾期\t序号\t记录数\t错误\t警告\t冲突\t未答复意见\t数据包编号")
    for r in rows:
        print(f"{shown(r.code)}\t{shown(r.name)}\t{r.status}\t{'逾期' if r.late else ''}\t{r.sequence or ''}\t"
              f"{r.records}\t{r.errors}\t{r.warnings}\t{r.conflicts}\t{r.open_comments}\t"
              f"{r.package_id or ''}")
    expected = [r for r in rows if r.expected]
    _err(f"应报 {len(expected)} 个单位：已收到 {sum(1 for r in expected if r.package_id)} 个，"
         f"未收到 {sum(1 for r in expected if not r.package_id)} 个，"
         f"逾期 {sum(1 for r in expected if r.late)} 个；名单外来件 "
         f"{sum(1 for r in rows if not r.expected)} 个。")
    return 0


def _unit_changes(reg, args) -> int:
    from desktop.services import packages as svc

    if args.units_op == "confirm":
        change = svc.confirm_unit_change(reg, args.code)
        print(f"已确认：{shown(change.describe())}。")
        return 0
    changes = svc.unit_changes(reg)
    for c in changes:
        print(f"{shown(c.code)}\t{shown(c.describe())}\t数据包 {c.package_id}")
    _err(f"待确认的单位信息变更 {len(changes)} 个。确认：dengji units --db 登记库 confirm 单位代码")
    return 0


def cmd_conflicts(args) -> int:
    from desktop.services import packages as svc

    _require_db(args, "conflicts --db 登记库 list")
    with open_db(args.db) as reg:
        if args.conflicts_op == "resolve":
            action = f"keep_{args.keep}" if args.keep else f"return_{args.ret}"
            svc.resolve_conflict(reg, args.id, action, args.note)
            print(f"冲突 {args.id} 已处理。")
            return 0
        rows = svc.list_conflicts(reg, open_only=not args.all)
    if args.format == "json":
        json.dump([{**c.__dict__, "created_at": c.created_at.isoformat()} for c in rows],
                  sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    for c in rows:
        print(f"{c.id}\t{c.what}相同\t甲：{shown(c.name_a)}（{shown(c.unit_a)}）\t"
              f"乙：{shown(c.name_b)}（{shown(c.unit_b)}）\t"
              f"{'未处理' if c.status == 'open' else c.resolution}\t{shown(c.note)}")
    _err(f"共 {len(rows)} 个冲突。处理：dengji conflicts --db 登记库 resolve 编号 "
         "--keep a|b|both [--note 说明] 或 --return a|b")
    return 0
