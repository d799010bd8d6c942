"""Every action of the main window, named once (Picard's picard/ui/mainwindow/actions.py habit).

A feature creates its QActions through `WindowContext.add_action(Action.X, …)`; the action's
objectName is the enum's value, so tests and the window find it with `window.action(Action.X)`
or `findChild(QAction, "excelImport")` — never through attributes set on the window.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    # 记录 / 编辑 (the main window's own)
    NEW_RECORD = "newRecord"
    SAVE = "save"
    SUBMIT = "submit"
    VOID_DRAFT = "voidDraft"  # 作废草稿…
    REOPEN = "reopenRecord"  # 退回草稿
    UNDO = "undo"
    REDO = "redo"
    FIND = "find"
    LOCK = "lock"
    # Excel
    EXCEL_IMPORT = "excelImport"
    EXCEL_EXPORT = "excelExport"
    EXCEL_TEMPLATE = "excelTemplate"
    # 打印
    PRINT_PREVIEW = "printPreview"
    PRINT = "print"
    PREVIEW_FORM = "previewForm"
    PREVIEW_SUMMARY = "previewSummary"  # one per summary table: objectName previewSummary:<id>
    PREVIEW_NOTICE = "previewNotice"
    # 上报
    EXPORT_PACKAGE = "exportPackage"
    EXPORT_PACKAGE_TO = "exportPackageTo"
    IMPORT_PACKAGE = "importPackage"
    DASHBOARD = "dashboard"
    RETURN_PACKAGE = "returnPackage"
    CONFLICTS = "conflicts"
    IMPORT_RETURN = "importReturn"
    OWN_KEY = "ownKey"
    TRUST_KEY = "trustKey"
    ROTATE_KEY = "rotateKey"  # 换钥… (issue #19)
    EXPORT_OPEN = "exportOpenData"  # 导出开放数据… (issue #17, 对接)
    # 抽查 (issue #17, 抽查核验)
    SPOTCHECK_SAMPLE = "spotcheckSample"  # 抽取样本…
    SPOTCHECK_RECORD = "spotcheckRecord"  # 导入核验结果…
    SPOTCHECK_REPORT = "spotcheckReport"  # 抽查报告…
    # 清理 (法学会)
    CLEANUP_PROPOSALS = "cleanupProposals"
    CLEANUP_EXPORT = "cleanupExport"
    CLEANUP_IMPORT = "cleanupImport"
    CLEANUP_WITHDRAW = "cleanupWithdraw"
    CLEANUP_READMIT = "cleanupReadmit"
    CLEANUP_RESTORE = "cleanupRestore"
    CLEANUP_NUMBER = "cleanupNumber"
    CLEANUP_STATS = "cleanupStats"
    CLEANUP_NOTICE = "cleanupNotice"
    # 登记库
    UNIT_INFO = "unitInfo"  # 本单位信息…
    CHANGE_PASSPHRASE = "changePassphrase"  # 修改口令…
    NEW_RECOVERY_KEY = "newRecoveryKey"  # 新的恢复密钥…
    HANDOVER = "handover"  # 移交…
    BACKUP = "backup"
    RESTORE = "restore"
    ABOUT = "about"
