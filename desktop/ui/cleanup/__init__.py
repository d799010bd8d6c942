"""The 清理 (法学会个人会员清理) feature's window side: the 清理 menu (actions), the proposals
decided and applied in the window, the Excel route, 重新入会 / 到期退会 / 下一个会员证号,
the statistics table and the notice. The work itself is in desktop/services/cleanup."""
