"""The law society's member register cleanup (法学会个人会员清理), as plain data and functions:
the four decision categories and member states (cleanup.py), duplicate finding (dedupe.py),
member numbers (member_numbers.py), the 个人会员清理工作情况统计表 (stats.py) and the data the
proposal workbook and the 通报 print (results.py)."""
