"""passphrase, recover, recovery-key: a register's passphrase and its recovery key."""

from __future__ import annotations

import sys
from pathlib import Path

from desktop.commands.common import (
    add_secret_option,
    new_passphrase,
    open_db,
    passphrase,
    secret_value,
)
from desktop.errors import KnownError, UsageError

ACTOR = "命令行"


def register(sub) -> None:
    s = sub.add_parser("passphrase", help="修改登记库口令（先自动备份；需要原口令）")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--new-recovery-key", action="store_true",
                   help="同时生成新的恢复密钥（原恢复密钥作废），需与 --sheet 一起用")
    s.add_argument("--sheet", type=Path, metavar="文件.pdf", help="新恢复密钥页（PDF）保存到此文件")
    s.add_argument("--yes", action="store_true", help="不询问，视为已打印或保存恢复密钥页（供脚本使用）")
    s.set_defaults(func=cmd_passphrase)

    s = sub.add_parser("recover", help="忘记口令时：用恢复密钥打开登记库并设置新口令")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--image", type=Path, metavar="扫描件",
                   help="从恢复密钥页的扫描件或照片（PNG、JPEG）读取二维码中的恢复密钥")
    add_secret_option(s, "--key", "恢复密钥")
    s.set_defaults(func=cmd_recover)

    s = sub.add_parser("recovery-key", help="生成新的恢复密钥并打印恢复密钥页（原恢复密钥作废）")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--sheet", type=Path, required=True, metavar="文件.pdf",
                   help="恢复密钥页（PDF）保存到此文件，打印后盖章存放在单位保险柜")
    s.add_argument("--yes", action="store_true", help="不询问，视为已打印或保存恢复密钥页（供脚本使用）")
    s.set_defaults(func=cmd_recovery_key)


def issue_recovery_key(reg, key, sheet: Path | None, yes: bool) -> None:
    """Show a new recovery key once, write its sheet when asked, and have the clerk confirm
    it was printed or saved (typing its last group; --yes for scripts). The key is written
    nowhere else."""
    from desktop.services.secrets import confirm_recovery_saved, write_recovery_sheet

    print(f"恢复密钥（编号 {key.key_id}，只显示这一次，请抄写或打印后存放在单位保险柜）：")
    groups = key.text.split("-")
    for i in range(0, len(groups), 4):
        print("    " + "  ".join(groups[i:i + 4]))
    if sheet is not None:
        write_recovery_sheet(reg, key, sheet)
        print(f"恢复密钥页已保存到 {sheet}：请打印、盖章后存放在单位保险柜，然后删除这个 PDF 文件。")
    if yes:
        confirm_recovery_saved(reg, key.key_id, ACTOR)
        return
    if not sys.stdin.isatty():
        print(f"恢复密钥尚未确认已保存。请在打印或抄写后运行 dengji recovery-key --db {reg.path} "
              "--sheet 文件.pdf 重新生成并确认，或在窗口中确认。", file=sys.stderr)
        return
    for _ in range(3):
        try:
            typed = input("请在打印或抄写后，输入恢复密钥的最后一组（6 位数字）以确认：").strip()
        except EOFError:  # Ctrl-D: not confirmed
            break
        if typed == groups[-1]:
            confirm_recovery_saved(reg, key.key_id, ACTOR)
            print("已确认恢复密钥已保存。")
            return
        print("与最后一组不一致，请对照恢复密钥重新输入。", file=sys.stderr)
    print("未确认恢复密钥已保存：请妥善保存后运行 dengji recovery-key 重新生成。", file=sys.stderr)


def cmd_passphrase(args) -> int:
    from desktop.services.secrets import SERVER_UNCHANGED, change_passphrase

    if args.sheet is not None and not args.new_recovery_key:
        raise UsageError("--sheet 只能与 --new-recovery-key 一起用")
    from desktop.commands.common import check_writable, settle_handover
    from desktop.storage import open_register

    check_writable(args.db)
    old = passphrase()  # asked once: it opens the register and is checked again by the change
    with open_register(args.db, old) as reg:
        settle_handover(reg, old)  # an interrupted handover first, on the passphrase it knew
        new = new_passphrase()
        done = change_passphrase(reg, old, new, ACTOR, new_recovery=args.new_recovery_key)
        kept = (f"修改前的登记库已备份到 {done.backup}（只能用原口令打开）。" if done.backup
                else SERVER_UNCHANGED)
        print(f"已修改登记库 {reg.path} 的口令。{kept}请把新口令告诉需要知道的人，不要写在电脑上。")
        if done.recovery is not None:
            issue_recovery_key(reg, done.recovery, args.sheet, args.yes)
    return 0


def cmd_recover(args) -> int:
    from desktop.commands.common import check_writable
    from desktop.services.secrets import read_recovery_image, recover, recovery_problem

    check_writable(args.db)
    if args.image is not None:
        if args.key is not None or args.key_file is not None:
            raise UsageError("--image 与 --key/--key-file 只能用一个")
        text = read_recovery_image(args.image)
    else:
        text = secret_value(args, "--key", "恢复密钥")
    problem = recovery_problem(args.db, text)
    if problem:
        raise KnownError(f"{problem}登记库未作任何改动。")
    result = recover(args.db, text, new_passphrase(), ACTOR)
    with result.register as reg:
        kept = f"恢复前的登记库已备份到 {result.backup}。" if result.backup else ""
        print(f"已用恢复密钥打开登记库 {reg.path} 并设置了新口令。{kept}"
              "恢复密钥仍然有效；如恢复密钥页可能被他人看到，请运行 "
              f"dengji recovery-key --db {reg.path} --sheet 文件.pdf 生成新的。")
    return 0


def cmd_recovery_key(args) -> int:
    from desktop.services.secrets import make_recovery_key, recovery_state

    if args.sheet.suffix.lower() != ".pdf":
        raise UsageError(f"--sheet 要给出 PDF 文件名（.pdf），{args.sheet.name} 不是。")
    if not args.sheet.parent.is_dir():
        raise UsageError(f"文件夹不存在：{args.sheet.parent}。请先建好文件夹，或换一个保存位置。")
    with open_db(args.db, hint=False) as reg:
        before = recovery_state(reg)
        key = make_recovery_key(reg, ACTOR)
        if before.has_key:
            print(f"已生成新的恢复密钥，原恢复密钥（编号 {before.key_id}）已作废，请销毁原恢复密钥页。")
        issue_recovery_key(reg, key, args.sheet, args.yes)
    return 0
