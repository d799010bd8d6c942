"""个人会员清理 (the society's member cleanup), without Qt.

- model.py     what the use cases share: `Decision`, `CellFinding`, `Change`, `ApplyResult`,
               `Write`, the member form, the reader and writer of stored member values
- propose.py   load the members, `propose` (duplicates, no ID, overdue, member numbers) and
               `apply_decisions` all or nothing
- decide.py    `check_decisions`: every decision checked before anything is written
- members.py   single changes (re-admit, withdraw, next member number) and `register_stats`
- search.py    finding members (name, 会员证号, whole 公民身份号码) and the moved-out list; on
               PostgreSQL from an opened index kept in memory and checked on each search
- stored.py    reading the entries' fields on both stores (json_extract on SQLite)
- workbook.py  the cleanup workbook: `write_proposal` and `read_decisions`
- paper.py     the 统计表 and the 通报 (build, write, print), every export logged

The data handed to the papers (Proposal, Notice) is in domain/society/results.py; the layouts
are in reports/xlsx (cleanup, cleanup_read, stats) and reports/pdf/cleanup.py.
"""
