"""Reports: every file format the program writes or reads besides .jsonl and the register —
Excel in reports/xlsx, PDF in reports/pdf, and output.py (writing a user's file safely).

Reports take plain data (domain and formspec types) and never import services, commands or ui;
the use cases that gather the data are in services/.
"""
