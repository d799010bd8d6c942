"""The Excel menu: importing a workbook into the current form (preview, column mapping, check,
all-or-nothing import; ui/excel/importing.py with its panels and table models), exporting a form
or a summary 附件4–6 in the official layout and saving a fill-in template (export.py). The work
is services/intake; the menu is built by actions.py from the window's context."""
