"""Every Excel file the program reads or writes, and nothing else: no SQL, no register.

Reading: book (opening, refusing what is no workbook), cells (cell values per field type),
columns (a form's columns and header matching), read (a form's records from a sheet), parts (a
large .xlsx sheet in parts), head (a sheet's first rows for the import preview), cleanup_read
(the filled cleanup workbook as rows).
Writing: write (the official layout, XlsxWriter), tables (a summary's or a form's sheets),
template (fill-in templates), annotate (the user's workbook with bad cells marked; a large one
as a stream by stream_marks), cleanup (the cleanup proposal workbook), stats (the 统计表 and 通报
workbooks). Every text cell of every writer goes through cells.put_text (text, never a formula).
"""
