"""The 登记库 menu's own entries: 备份… (a checked copy of the register, on the write pool),
恢复… (check, confirm, restore, then the window closes) and 关于 (versions and where the register
and its backups live), 本单位信息… (unit_info.py: the unit's name and code, 经办人, 审批人, 填报人,
联系方式; services/unit.py), and the register's secrets: 修改口令… (passphrase.py), 新的恢复密钥…
and the offer of one on open (renewal.py), the recovery key shown once to be saved and printed
(sheet.py), 忘记口令… from the passphrase dialog (recovery.py, keyentry.py) and 移交…
(handover.py); the work is services/secrets.py and services/handover.py. The backup work is
storage/backup.py."""
