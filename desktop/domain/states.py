"""The states of a record and the one set of words every layer shows for them.

A record's `state` column and a package's record lines hold the state *codes* below; they were
chosen long ago and travel between registers, so they never change. People never see a code:
the list, the status bar, the filters, the commands and the documentation show `word(code)`,
which says what happens next:

    草稿 → 已完成（待上报） → 已上报 → 已接收 / 已退回

已作废 is no state a record is kept in: a voided draft is removed from the register and only the
audit log keeps it (action ``record.void`` with its content digest).

Official outputs (附件4–6, a form's Excel and print, packages) take only records that are no
draft (`is_official`); they say how many drafts they left out.
"""

from __future__ import annotations

#: stored and package codes (never shown: see WORDS)
DRAFT = "草稿"
COMPLETE = "待提交"  # marked complete, waits for the next package
SENT = "已提交"  # went upward in a package
RETURNED = "已退回"
ACCEPTED = "已接收"
#: the audit's word for a voided draft (no record is stored in this state)
VOIDED = "已作废"

#: the codes a stored record (or a package's record line) may hold, in the usual order
RECORD_STATES = (DRAFT, COMPLETE, SENT, RETURNED, ACCEPTED)

#: what a person reads for each code
WORDS = {DRAFT: "草稿", COMPLETE: "已完成（待上报）", SENT: "已上报", RETURNED: "已退回",
         ACCEPTED: "已接收", VOIDED: "已作废"}

#: one line per state for help texts and the documentation
MEANINGS = {
    DRAFT: "正在填写，自动保存；不计入汇总表、导出和数据包，可作废",
    COMPLETE: "没有错误、警告已确认理由；随下次上报发出，可退回草稿修改",
    SENT: "已随数据包上报；修改后成为草稿，须重新标记完成",
    RETURNED: "上级退回，请按意见修改后重新标记完成",
    ACCEPTED: "下级上报、经本级审核接收，随本单位下次上报",
    VOIDED: "草稿已作废，只留在操作日志中",
}


def word(code: str) -> str:
    """The word shown for a state code (an unknown code as it is)."""
    return WORDS.get(code, code)


def is_official(code: str) -> bool:
    """Whether a record in this state goes into official outputs and packages."""
    return code in RECORD_STATES and code != DRAFT


def left_out_note(drafts: int) -> str:
    """The line an official output carries when drafts were left out ("" for none)."""
    return f"另有 {drafts} 条草稿未计入" if drafts else ""
