"""Services: the use cases, without Qt — what the command line and the window both run.

- intake/     from a file to checked rows and into the register (read, check, import, preview)
- packages/   the signed, encrypted packages: export, merge, review, records, files, stats, keys
- cleanup/    个人会员清理: model, propose, decide, members, workbook, paper
- registers   creating and opening registers
- editing     a record edited in the window; listing: a form's records for the tables
- exporting   a form or a summary as Excel, the template, the user's workbook marked
- printing    record pages, the package cover, table pages, archive-check
- handover    移交: the successor's passphrase and recovery key, the 经办人, the 移交清单
- ids         new record ids

Services may use storage, exchange, reports, formspec and domain; file formats themselves are
read and written in reports/ (no openpyxl, calamine, XlsxWriter or reportlab here).
"""
