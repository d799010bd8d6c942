"""The 抽查 menu (抽查核验, issue 17): 抽取样本…, 导入核验结果…, 抽查报告… — the same use cases
as `dengji spotcheck`, run as Operations with progress (desktop/services/spotcheck)."""
