"""One form's tab in the main window: the record table with search and sorting (formtab.py,
table.py), the record editor with its field widgets, repeating groups, live findings and the
return comments of an imported return file (editor.py, fields.py, group.py, findings.py,
notes.py). The tab gets the register and the worker pools from the window as arguments."""
