"""The 登记库 menu's own entries: 备份… (a checked copy of the register, on the write pool),
恢复… (check, confirm, restore, then the window closes) and 关于 (versions and where the register
and its backups live), 本单位信息… (unit_info.py: the unit's name and code, 经办人, 审批人, 填报人,
联系方式; services/unit.py). The backup work is storage/backup.py."""
