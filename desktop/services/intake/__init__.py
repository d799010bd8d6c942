"""Intake: one path from a file (.jsonl or an Excel workbook) to checked rows and into the
register.

- read.py      the choice between .jsonl and a workbook (`read_source`, `check_file`)
- workbook.py  a workbook's rows checked (`check_workbook`, `read_sheet`, `CellRowResult`)
- parts.py     a large .xlsx sheet read and checked part by part on every core
- rowcheck.py  the local check of every row, on every core (workers, packing, gc)
- checking.py  a batch's unique keys and cross rules against itself and the register
- jsonl.py     .jsonl lines into `SourceRow`s
- preview.py   the import dialog's first look at a workbook and its column mapping
- importing.py `import_file`: all or nothing, or the clean rows only, in one transaction

Reading an .xlsx runs one way, nothing importing back up: read → workbook → parts and
checking → rowcheck → jsonl; the file formats themselves are read in reports/xlsx.
"""
