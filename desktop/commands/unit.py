"""unit: show or correct 本单位信息 (the unit's name and code, 经办人, 审批人, 填报人, 联系方式)."""

from __future__ import annotations

from pathlib import Path

from desktop.commands.common import open_db, shipped, shown

_OPTIONS = {"name": "--name", "code": "--code", "handler": "--handler",
            "approver": "--approver", "filler": "--filler", "phone": "--phone"}


def register(sub) -> None:
    s = sub.add_parser("unit", help="查看或修改本单位信息（单位名称、代码、经办人、审批人、填报人、联系方式）")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--name", help="本单位名称")
    s.add_argument("--code", help="本单位代码（尚未收发数据包时才能修改）")
    s.add_argument("--handler", help="经办人姓名（操作日志和各类输出默认署此名）")
    s.add_argument("--approver", help="审批人姓名")
    s.add_argument("--filler", help="填报人姓名（统计表等）")
    s.add_argument("--phone", help="联系方式（电话）")
    s.set_defaults(func=cmd_unit)


def cmd_unit(args) -> int:
    from desktop.services.unit import FIELD_LABELS, save_unit_profile, unit_profile

    changes = {f: getattr(args, f) for f in _OPTIONS if getattr(args, f) is not None}
    with open_db(args.db) as reg:
        if changes:
            before = unit_profile(reg)
            # the command line is typed by the clerk named as 经办人 (or about to be)
            actor = changes.get("handler") or before.actor
            profile = save_unit_profile(reg, actor, changes, tables=shipped().tables)
        else:
            profile = unit_profile(reg)
    print(f"层级：{profile.level_name}")
    for f, label in FIELD_LABELS.items():
        print(f"{label}：{shown(getattr(profile, f)) or '（未填写）'}")
    if changes:
        print("本单位信息已保存并记入操作日志；单位名称的修改随下一个数据包报送上级，由上级确认。")
    return 0
