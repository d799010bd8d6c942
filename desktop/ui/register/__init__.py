"""The 登记库 menu's own entries: 备份… (a checked copy of the register, on the write pool),
恢复… (check, confirm, restore, then the window closes) and 关于 (versions and where the register
and its backups live). The work is storage/backup.py."""
