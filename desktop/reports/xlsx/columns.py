"""The columns of a form in a workbook, and how a header cell names one.

Every field is one column headed by its label; a repeating group (the firms of 附件3) is spread
over numbered columns — 律师事务所1名称, 律师事务所1统一社会信用代码, 律师事务所1组织形式,
律师事务所2名称, … — so each firm's cells can carry a drop-down and be pointed at. Templates,
exports and the reader share this layout, so an exported or template workbook reads back.

The reader also accepts what people really type: the label or any alias of FieldSpec.aliases,
full-width letters, spaces and line breaks inside a header, a "*" marking a required column, a
hint in brackets after the label (出生日期（yyyy-mm-dd）), and for a group its sub-field alone or
with the number in any place (名称, 律师事务所名称, 名称2, 律师事务所（2）名称).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from desktop.domain.forms import FieldSpec, FormSpec

#: headers that number the rows and are no field (ignored without a note)
ROW_NUMBER_HEADERS = frozenset({"序号", "编号", "序", "no", "no.", "行号"})
#: numbered column sets a template offers for a group without a max_rows rule
DEFAULT_GROUP_ROWS = 3

_MARKS = re.compile(r"[\s*★※☆]+")
_BRACKETED_TAIL = re.compile(r"[(\[【][^()\[\]【】]*[)\]】]$")
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
              "十": 10}
_NUMBER = r"(\d{1,2}|[一二三四五六七八九十])"
_LEADING_NO = re.compile(rf"^[(（]?{_NUMBER}[)）]?[/、.\-_:：]?(.+)$")
_TRAILING_NO = re.compile(rf"^(.+?)[/、.\-_:：]?[(（]?{_NUMBER}[)）]?$")


@dataclass(frozen=True, slots=True)
class FormColumn:
    """One column: the field path its cells fill and the field (or sub-field) spec."""

    path: str  # "id_number", or "firms[2].uscc" for a group column
    label: str  # the header text written by templates and exports
    spec: FieldSpec  # the field whose values the column holds
    group: FieldSpec | None = None  # the group, for a group column
    index: int = 0  # the group row (1-based), 0 when the header had no number


def column_letter(index: int) -> str:
    """Excel column letters of a 0-based column index: 0 → A, 27 → AB."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def group_rows(form: FormSpec, group: FieldSpec) -> int:
    """How many numbered column sets a template offers for a group (its max_rows rule)."""
    for ref in form.rules:
        if ref.rule == "max_rows" and ref.params.get("field") == group.id:
            return max(int(ref.params.get("max", DEFAULT_GROUP_ROWS)), group.min_rows, 1)
    return max(DEFAULT_GROUP_ROWS, group.min_rows)


def group_label(group: FieldSpec, index: int, sub: FieldSpec) -> str:
    return f"{group.label}{index}{sub.label}"


def form_columns(form: FormSpec, rows_per_group: dict[str, int] | None = None
                 ) -> list[FormColumn]:
    """The columns of a form in field order; `rows_per_group` overrides group_rows()."""
    out: list[FormColumn] = []
    for spec in form.fields:
        if spec.type != "group":
            out.append(FormColumn(spec.id, spec.label, spec))
            continue
        n = (rows_per_group or {}).get(spec.id) or group_rows(form, spec)
        for i in range(1, n + 1):
            for sub in spec.fields:
                out.append(FormColumn(f"{spec.id}[{i}].{sub.id}", group_label(spec, i, sub), sub,
                                      spec, i))
    return out


def column_for(form: FormSpec, path: str) -> FormColumn | None:
    """The column that fills a field path ("id_number", "firms[2].uscc"), for a mapping a
    person chose by hand; None if the form has no such field."""
    head, _, rest = path.partition("[")
    if not form.has_field(head):
        return None
    spec = form.field(head)
    if not rest:
        return None if spec.type == "group" else FormColumn(spec.id, spec.label, spec)
    number, _, sub_id = rest.partition("].")
    try:
        sub, index = spec.sub(sub_id), int(number)
    except (KeyError, ValueError):
        return None
    return FormColumn(path, group_label(spec, index, sub), sub, spec, index)


def normalise_header(text: object) -> str:
    """Compare headers without width, spaces, line breaks, required marks or a trailing colon."""
    s = unicodedata.normalize("NFKC", str(text))
    s = _MARKS.sub("", s).rstrip(":").lower()
    return s


class HeaderMatcher:
    """Which field a header cell names, from the form's labels and aliases."""

    def __init__(self, form: FormSpec) -> None:
        self.form = form
        self._top: dict[str, FieldSpec] = {}
        for spec in form.fields:
            if spec.type == "group":
                continue
            for name in spec.aliases:
                self._top.setdefault(normalise_header(name), spec)
        for spec in form.fields:
            if spec.type != "group":
                self._top[normalise_header(spec.label)] = spec
        self._groups = [g for g in form.fields if g.type == "group"]

    def match(self, header: object) -> FormColumn | None:
        """The column a header names, or None (not a field of this form)."""
        h = normalise_header(header)
        if not h:
            return None
        found = self._match_normalised(h)
        if found is None:
            stripped = _BRACKETED_TAIL.sub("", h)
            if stripped and stripped != h:
                found = self._match_normalised(stripped)
        return found

    @staticmethod
    def is_row_number(header: object) -> bool:
        return normalise_header(header) in ROW_NUMBER_HEADERS

    def _match_normalised(self, h: str) -> FormColumn | None:
        spec = self._top.get(h)
        if spec is not None:
            return FormColumn(spec.id, spec.label, spec)
        for group in self._groups:
            found = self._match_group(group, h)
            if found is not None:
                return found
        return None

    def _match_group(self, group: FieldSpec, h: str) -> FormColumn | None:
        names = [normalise_header(n) for n in (group.label, *group.aliases)]
        rest = h
        for name in names:
            if h.startswith(name):
                rest = h[len(name):]
                break
        if not rest:  # the group's own label: its first sub-field, several rows in one cell
            sub = group.fields[0]
            return FormColumn(f"{group.id}[1].{sub.id}", h, sub, group, 0)
        index = 0
        sub = self._sub(group, rest)
        if sub is None:
            m = _LEADING_NO.match(rest) or None
            if m:
                index, sub = _number(m[1]), self._sub(group, m[2])
            if sub is None:
                m = _TRAILING_NO.match(rest)
                if m:
                    index, sub = _number(m[2]), self._sub(group, m[1])
        if sub is None or index > 99:
            return None
        return FormColumn(f"{group.id}[{max(index, 1)}].{sub.id}", h, sub, group, index)

    @staticmethod
    def _sub(group: FieldSpec, text: str) -> FieldSpec | None:
        for sub in group.fields:
            if text in {normalise_header(n) for n in (sub.label, *sub.aliases)}:
                return sub
        return None


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _CN_DIGITS[text]
