"""handover: hand the register over to a new clerk (移交) — a new passphrase set by the incoming
clerk, a new recovery key, the 经办人 changed, the 移交清单 written; or list the handovers that
units below reported in their packages."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from desktop.commands.common import check_writable, new_passphrase, open_db, passphrase, shown
from desktop.errors import UsageError


def register(sub) -> None:
    s = sub.add_parser(
        "handover", help="移交登记库：接收人设新口令，生成新的恢复密钥，写出移交清单",
        description="把登记库移交给新的经办人。原口令从环境变量 DENGJI_PASSPHRASE 读取或在终端输入；"
                    "接收人的新口令从环境变量 DENGJI_NEW_PASSPHRASE 读取或在终端输入两次。"
                    "移交后原口令和原恢复密钥都不能再打开登记库。"
                    "加 --received 时只列出下级单位报来的移交记录。")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--from", dest="from_name", metavar="姓名", help="移交人（原经办人）姓名")
    s.add_argument("--to", dest="to_name", metavar="姓名", help="接收人（新经办人）姓名")
    s.add_argument("--checklist", type=Path, metavar="移交清单.pdf",
                   help="移交清单 PDF 的保存位置（默认：登记库所在文件夹中的 移交清单-日期.pdf；"
                        "PostgreSQL 上的登记库：当前文件夹）")
    s.add_argument("--recovery-sheet", type=Path, metavar="恢复密钥.pdf",
                   help="新恢复密钥页（PDF）保存到此文件，打印后盖章存放在单位保险柜（不写时只在终端显示一次）")
    s.add_argument("--yes", action="store_true",
                   help="不询问，视为已打印或保存恢复密钥页（供脚本使用）")
    s.add_argument("--received", action="store_true",
                   help="不移交，只列出下级单位数据包中报来的移交记录")
    s.set_defaults(func=cmd_handover)


def cmd_handover(args) -> int:
    if args.received:
        return _received(args)
    from desktop.commands.secrets import issue_recovery_key
    from desktop.services.handover import hand_over, names_problem, write_handover_pdf
    from desktop.services.secrets import SERVER_UNCHANGED
    from desktop.storage import open_register

    if args.from_name is None or args.to_name is None:
        raise UsageError("移交需要写明双方姓名：dengji handover --db 登记库 --from 移交人 --to 接收人")
    problem = names_problem(args.from_name, args.to_name)
    if problem:  # said before any passphrase is asked
        raise UsageError(f"未移交：{problem}")
    today = date.today()
    checklist = args.checklist or _beside(args.db) / f"移交清单-{today.isoformat()}.pdf"
    # the PDFs' places are checked before anything changes: once handed over, the new
    # recovery key exists only on its sheet
    for path in (checklist, args.recovery_sheet):
        if path is not None:
            _check_target(path)
    check_writable(args.db)
    old = passphrase()  # asked once: it opens the register and is checked again by the change
    with open_register(args.db, old) as reg:
        new = new_passphrase()
        done = hand_over(reg, old, new, args.from_name, args.to_name, actor=args.from_name)
        facts = done.facts
        print(f"已移交：{shown(facts.from_name)} → {shown(facts.to_name)}。登记库已改用接收人设的新口令，"
              f"原口令不能再打开登记库；经办人已改为 {shown(facts.to_name)}。移交已记入操作日志，"
              "随下次上报报送上级。")
        print(f"移交前的登记库已备份到 {done.backup}（只能用原口令打开，请妥善保管或销毁）。"
              if done.backup else SERVER_UNCHANGED)
        print("原恢复密钥已作废，请当场销毁原恢复密钥页。")
        issue_recovery_key(reg, done.recovery, args.recovery_sheet, args.yes)
    write_handover_pdf(done, checklist, today=today)
    print(f"移交清单已保存到 {checklist}：请打印，由移交人、接收人、监交人签字并加盖单位公章。")
    return 0


def _beside(db) -> Path:
    """The folder a register's papers go to by default: the file's own folder, or the current
    folder for a register on a server (it has no folder on this computer)."""
    from desktop.storage.server import is_server_url

    return Path.cwd() if is_server_url(db) else db.resolve().parent


def _received(args) -> int:
    from desktop.exchange.handovers import local_when
    from desktop.services.handover import received_handovers

    with open_db(args.db) as reg:
        found = received_handovers(reg)
    if not found:
        print("下级单位的数据包中没有移交记录。")
        return 0
    for h in found:
        print(f"{local_when(h.when)}\t{shown(h.sender_name)}（{shown(h.sender_code)}）\t"
              f"{shown(h.from_name)} → {shown(h.to_name)}\t第 {h.sequence} 次报送的数据包")
    return 0


def _check_target(path: Path) -> None:
    """Refuse a PDF target that cannot be written (a folder, a missing or read-only folder)."""
    if path.suffix.lower() != ".pdf":
        raise UsageError(f"未移交：{path.name} 不是 PDF 文件名，请写以 .pdf 结尾的文件名。")
    if path.is_dir():
        raise UsageError(f"未移交：{path} 是一个文件夹，请写 PDF 文件的路径。")
    folder = path.resolve().parent
    if not folder.is_dir():
        raise UsageError(f"未移交：文件夹 {folder} 不存在，请先建好文件夹或换一个保存位置。")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"未移交：文件夹 {folder} 不能写入，请换一个保存位置。")
