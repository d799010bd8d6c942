"""Colours, words and the style sheet of the window: calm, readable, like a paper form."""

from __future__ import annotations

from desktop.domain import states

MARK_GLYPH = "●"
MARK_COLOURS = {"E": "#c62828", "W": "#e08a00", "I": "#1565c0"}
SEVERITY_WORDS = {"E": "错误", "W": "警告", "I": "提示"}
#: by state code (domain.states)
STATE_COLOURS = {states.DRAFT: "#6d6d6d", states.COMPLETE: "#2e7d32", states.SENT: "#1565c0",
                 states.RETURNED: "#c62828", states.ACCEPTED: "#1565c0"}

STYLE_SHEET = """
QLineEdit, QComboBox { padding: 2px 4px; min-height: 22px; }
QLineEdit[severity="E"], QComboBox[severity="E"] { border: 1px solid #c62828; background: #fff6f6; }
QLineEdit[severity="W"], QComboBox[severity="W"] { border: 1px solid #e08a00; background: #fffaf0; }
QGroupBox { font-weight: bold; border: 1px solid #d0d4da; border-radius: 4px; margin-top: 12px;
            padding: 8px 6px 6px 6px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; color: #2b4a6f; }
QLabel#fieldLabel { color: #333; }
QLabel#formTitle { font-size: 15px; font-weight: bold; color: #2b4a6f; }
QLabel#recordState { color: #555; }
QListWidget#findings { border: 1px solid #d0d4da; }
QTableView { gridline-color: #e3e6ea; selection-background-color: #cfe3fa;
             selection-color: #000; alternate-background-color: #f7f9fb; }
QHeaderView::section { padding: 3px 6px; background: #eef1f5; border: none;
                       border-right: 1px solid #d9dde3; border-bottom: 1px solid #d9dde3; }
QToolButton, QPushButton { padding: 3px 10px; }
"""
