"""The data dictionary of an open data export (issue #17): 数据字典.xlsx (workbook.py, with
XlsxWriter) and 数据字典.md (markdown.py), both from formspec.dictionary's lines; nothing here
sees the register."""
