"""backup, restore, roles: a checked copy of a register, putting one back, and the SQL an
administrator runs for the clerks' and reviewers' roles of a server register."""

from __future__ import annotations

from pathlib import Path

from desktop.commands.common import open_db


def register(sub) -> None:
    s = sub.add_parser("backup", help="备份登记库（一致的加密副本，用同一口令打开）")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--out", type=Path, required=True, help="备份文件路径（如 备份.dengji）")
    s.set_defaults(func=cmd_backup)

    s = sub.add_parser("restore", help="用备份文件恢复登记库（先自动备份当前登记库）")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("file", type=Path, help="本登记库的备份文件")
    s.set_defaults(func=cmd_restore)

    s = sub.add_parser("roles", help="输出 PostgreSQL 登记库的经办人组和审阅人组角色的 SQL"
                                     "（由数据库所有者执行，如 … | psql -d 库名；见 docs/postgresql.md）")
    s.add_argument("--database", required=True, help="数据库名")
    s.add_argument("--owner", help="数据库所有者角色（以后版本升级新增的表也自动授权）")
    s.add_argument("--clerks", default="dengji_clerks", help="经办人组角色名（默认 %(default)s）")
    s.add_argument("--reviewers", default="dengji_reviewers",
                   help="审阅人组角色名（默认 %(default)s）")
    s.add_argument("--again", action="store_true",
                   help="角色已建立：只输出授权和行级安全策略（旧版本建立的库重新执行）")
    s.set_defaults(func=cmd_roles)


def cmd_backup(args) -> int:
    from desktop.storage.backup import backup_register
    from desktop.storage.recovery import side_path

    with open_db(args.db) as reg:
        info = backup_register(reg, args.out)
    print(f"已备份到 {info.path}：{info.records} 条记录，审计日志 {info.audit_entries} 条，"
          "校验通过。备份用登记库的同一口令打开。")
    side = side_path(info.path)
    if side.exists():  # the register has a recovery key: the backup's slot is beside it
        print(f"忘记口令时，备份可用恢复密钥打开：请把 {side.name} 与备份文件放在一起复制和保存。")
    return 0


def cmd_restore(args) -> int:
    from desktop.storage.backup import restore_register

    with open_db(args.db) as reg:
        safety = restore_register(reg, args.file, actor="cli")
    print(f"已用 {args.file} 恢复登记库 {args.db}。恢复前的登记库已自动备份到 {safety.path}。")
    return 0


def cmd_roles(args) -> int:
    from desktop.errors import UsageError
    from desktop.storage.concurrency import role_statements

    try:
        statements = role_statements(args.database, clerks=args.clerks, reviewers=args.reviewers,
                                     owner=args.owner, create=not args.again)
    except ValueError:
        raise UsageError("数据库名和角色名只能由英文字母、数字和下划线组成，请改正后重试。") from None
    print("".join(f"{statement};\n" for statement in statements), end="")
    return 0
