"""Turning what a workbook cell holds into what validation reads, per field type.

python-calamine gives str, float, int, bool, date/datetime. What people's workbooks hold:
- ID numbers, licences and codes stored as numbers. Excel keeps 15 significant digits, so an
  18-digit number was already rounded when it was typed: that is said for the cell, never
  guessed; a shorter one (a 15-digit legacy ID, a mobile number) is read back as digits.
- dates as date cells, as bare Excel serial numbers, as 8-digit numbers (20200105), as text in
  the usual Chinese ways (2020.1.5, 2020年1月5日, 二〇二〇年一月五日); 年月 typed as a number
  (2021.03 — Excel keeps 2021.3; 2021.1 could be January or October and is reported).
- full-width digits, trailing spaces (also the ideographic space and zero-width characters).
A converter returns the raw value for Validator.parse (MISSING when the cell says nothing it
can use) and at most one reading note (severity, code, message).

Writing: `put_text` is the one way every writer (XlsxWriter or openpyxl) puts text in a cell.
The text is always a string cell, never a formula (XlsxWriter's write() and openpyxl's value
setter turn "=..." into one, openpyxl also "#N/A" into an error); text that starts with =, +,
-, @, a tab or a carriage return also gets Excel's quote prefix, so it stays text when a clerk
edits the cell. Formulas the program writes on purpose never go through it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from desktop.domain.forms import FieldSpec

MISSING = object()
EXCEL_DIGITS = 15
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_CN_YEAR = re.compile(r"^([〇零○一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月"
                      r"(?:([一二三四五六七八九十]{1,3})日)?$")
_CN_DIGIT = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0", "○": "0"}
_EPOCH = date(1899, 12, 30)
IDENTIFIER_TYPES = ("id_number", "licence", "uscc", "mobile", "landline", "phone")
#: first characters that make Excel take typed text for a formula
FORMULA_FIRST = ("=", "+", "-", "@", "\t", "\r")
#: text openpyxl would store as an error cell, not as text
_ERROR_TEXTS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
#: characters XML 1.0 cannot hold (openpyxl refuses them; XlsxWriter escapes them itself)
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")

Note = tuple[str, str, str]  # (severity, code, message)
Converter = Callable[[Any, str], tuple[Any, Note | None]]


def clean_text(text: str) -> str:
    """Trim spaces (also 　 and no-break spaces) and drop zero-width characters."""
    if _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text)
    return text.strip()


def _cn_number(text: str) -> int:
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + int(_CN_DIGIT[text[1]])
    if text.endswith("十"):
        return int(_CN_DIGIT[text[0]]) * 10
    if "十" in text:
        return int(_CN_DIGIT[text[0]]) * 10 + int(_CN_DIGIT[text[2]])
    return int(_CN_DIGIT[text])


def chinese_date(text: str) -> str | None:
    """二〇二〇年一月五日 → 2020-01-05 (二〇二一年三月 → 2021-03); None if not such a date."""
    m = _CN_YEAR.match(text)
    if not m:
        return None
    try:
        year = "".join(_CN_DIGIT[c] for c in m[1])
        month = _cn_number(m[2])
        if m[3]:
            return f"{year}-{month:02d}-{_cn_number(m[3]):02d}"
        return f"{year}-{month:02d}"
    except (KeyError, IndexError, ValueError):
        return None


def serial_date(number: float) -> date | None:
    """An Excel serial day number (1900 date system) as a date."""
    days = int(number)
    if days < 1 or days > 2958465:
        return None
    if days < 60:  # before Excel's fictitious 1900-02-29
        days += 1
    return _EPOCH + timedelta(days=days)


def _digits(number: float | int) -> str | None:
    if isinstance(number, float):
        if not number.is_integer():
            return None
        number = int(number)
    return str(number)


def _text(value: Any, label: str) -> tuple[Any, Note | None]:
    if isinstance(value, str):
        s = clean_text(value)
        return (s or MISSING), None
    if isinstance(value, bool):
        return ("是" if value else "否"), None
    if isinstance(value, float | int):
        return (_digits(value) or str(value)), None
    if isinstance(value, datetime):
        return value.date().isoformat(), None
    if isinstance(value, date):
        return value.isoformat(), None
    return str(value), None


def _identifier(value: Any, label: str) -> tuple[Any, Note | None]:
    if isinstance(value, float | int) and not isinstance(value, bool):
        digits = _digits(value)
        if digits is None:
            return str(value), None
        if len(digits) > EXCEL_DIGITS:
            return MISSING, ("E", "xlsx_number_rounded",
                             f"{label}以数字形式保存，Excel 只保留 15 位有效数字，已变成 {digits}，"
                             f"末尾几位无法恢复。请把该列设为文本格式，重新输入完整的{label}")
        return digits, None
    return _text(value, label)


def _phone(value: Any, label: str) -> tuple[Any, Note | None]:
    raw, note = _identifier(value, label)
    if note is None and isinstance(value, float | int) and isinstance(raw, str) \
            and not (len(raw) == 11 and raw.startswith("1")):
        note = ("W", "xlsx_phone_number",
                f"{label}以数字形式保存，开头的 0（区号）可能已被 Excel 去掉。请把该列设为文本格式"
                f"后重新输入，如 0311-85551234")
    return raw, note


def _date(value: Any, label: str) -> tuple[Any, Note | None]:
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    if isinstance(value, float | int) and not isinstance(value, bool):
        digits = _digits(value)
        if digits and len(digits) == 8:  # 20200105
            return digits, None
        if digits and len(digits) == 6:  # 202001: a year-month
            return f"{digits[:4]}-{digits[4:]}", None
        if isinstance(value, float) and not value.is_integer() and 1800 < value < 2200:
            return _float_yearmonth(value, label)
        day = serial_date(value)
        return (day if day else str(value)), None
    if isinstance(value, str):
        s = clean_text(value)
        if not s:
            return MISSING, None
        return (chinese_date(s) or s), None
    return _text(value, label)


def _float_yearmonth(value: float, label: str) -> tuple[Any, Note | None]:
    year, _, frac = repr(value).partition(".")
    if len(frac) == 1 and frac == "1":
        return MISSING, ("E", "xlsx_yearmonth_ambiguous",
                         f"{label}以数字 {value} 保存，无法分辨是 1 月还是 10 月。请把该列设为文本"
                         f"格式后输入，如 {year}-01 或 {year}-10")
    if len(frac) in (1, 2) and 1 <= int(frac) <= 12:
        return f"{year}-{int(frac):02d}", None
    return str(value), None


def _yearmonth(value: Any, label: str) -> tuple[Any, Note | None]:
    if isinstance(value, float) and not value.is_integer() and 1800 < value < 2200:
        return _float_yearmonth(value, label)
    return _date(value, label)


def _number(value: Any, label: str) -> tuple[Any, Note | None]:
    if isinstance(value, float) and value.is_integer():
        return int(value), None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value, None
    return _text(value, label)


def _bool(value: Any, label: str) -> tuple[Any, Note | None]:
    if isinstance(value, bool):
        return value, None
    return _text(value, label)


def _words(value: Any, label: str) -> tuple[Any, Note | None]:
    """A text field (姓名, 单位名称…): a TRUE/FALSE cell is no text anyone typed as such."""
    if isinstance(value, bool):
        return MISSING, ("E", "xlsx_bool_in_text",
                         f"{label}是逻辑值 {'TRUE' if value else 'FALSE'}（Excel 的“是/否”），不是文字。"
                         f"请把该单元格设为文本格式后重新输入{label}")
    return _text(value, label)


_BY_TYPE: dict[str, Converter] = {
    "text": _words, "int": _number, "bool": _bool, "date": _date, "yearmonth": _yearmonth,
    "id_number": _identifier, "licence": _identifier, "uscc": _identifier,
    "mobile": _identifier, "landline": _phone, "phone": _phone,
}


def converter(spec: FieldSpec) -> Converter:
    """The cell converter of a field type (text for anything not listed)."""
    return _BY_TYPE.get(spec.type, _text)


# --- writing ---------------------------------------------------------------------------------


def needs_quote(text: str) -> bool:
    """Would Excel take this text for a formula if it were typed? (=, +, -, @, tab, CR)"""
    return bool(text) and text[0] in FORMULA_FIRST


def put_text(target: Any, text: Any, *, at: tuple[int, int] | None = None, fmt: Any = None,
             quoted: Any = None) -> Any:
    """Put `text` (str() of anything else) in a cell as text that never becomes a formula.

    `target` is one of:
    - an XlsxWriter worksheet, with `at` = (row, column), 0-based: written with write_string
      in `fmt`, or in `quoted` (the same format with quote_prefix) when needs_quote();
    - an openpyxl cell (ws.cell(r, c) or a WriteOnlyCell): its value is set, typed as a
      string, with the quote prefix when needs_quote(); the cell is returned;
    - an openpyxl write-only worksheet: what to append for the text (the str itself when
      openpyxl keeps it as text anyway, else a WriteOnlyCell typed as a string).
    Characters XML cannot hold are left out of openpyxl's cells (openpyxl would refuse the
    whole workbook).
    """
    if text.__class__ is not str:
        text = "" if text is None else str(text)
    write_string = getattr(target, "write_string", None)
    if write_string is not None:  # XlsxWriter
        row, col = at  # type: ignore[misc]
        write_string(row, col, text, quoted if quoted is not None and text
                     and text[0] in FORMULA_FIRST else fmt)
        return None
    if XML_ILLEGAL.search(text):
        text = XML_ILLEGAL.sub("", text)
    risky = bool(text) and (text[0] in FORMULA_FIRST or text in _ERROR_TEXTS)
    if type(target).__name__ == "WriteOnlyWorksheet":
        if not risky:
            return text
        from openpyxl.cell import WriteOnlyCell

        target = WriteOnlyCell(target)
    target.value = text
    target.data_type = "s"
    if risky and text[0] in FORMULA_FIRST:
        target.quotePrefix = True
    return target


def put_row(target: Any, values: Any) -> list[Any]:
    """A row for an openpyxl write-only worksheet's append(): every str through put_text,
    numbers, dates and None as they are."""
    return [put_text(target, v) if isinstance(v, str) else v for v in values]
