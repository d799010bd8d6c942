"""Frozen, typed form specifications: what a form is, as loaded from forms/*.toml."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from desktop.domain.levels import LEVELS  # noqa: F401 (re-exported for the loader)

SEVERITIES = ("E", "W", "I")

#: value types a field may have; each has one parser in domain/values.py
FIELD_TYPES = (
    "text",  # free text, trimmed (NFKC when the field says so)
    "int",  # whole number
    "bool",  # 是/否
    "date",  # stored as YYYY-MM-DD (YYYY-MM too where the field's precision is "month")
    "yearmonth",  # stored as YYYY-MM
    "code",  # stored as the code of a code table, shown as its label
    "id_number",  # 公民身份号码 / 证件号码, normalised
    "mobile",  # 11-digit mobile phone
    "landline",  # 区号-号码
    "phone",  # either of the two
    "uscc",  # 统一社会信用代码
    "licence",  # 律师执业证号
    "region",  # province-city-county codes of the regions table
    "group",  # repeating rows of sub-fields
)



@dataclass(frozen=True, slots=True)
class Code:
    code: str
    label: str
    aliases: tuple[str, ...] = ()
    parent: str | None = None
    group: str | None = None
    deprecated: bool = False
    #: a record whose field takes this code leaves the register's count (停止党籍, 转出, …):
    #: the change reports say so (exchange/changes.py), in this word
    leaves: str | None = None


@dataclass(frozen=True)
class CodeTable:
    id: str
    label: str
    source: str
    codes: tuple[Code, ...]
    path: Path | None = None
    _by_code: Mapping[str, Code] = field(default_factory=lambda: MappingProxyType({}), repr=False, compare=False)
    _by_text: Mapping[str, Code] = field(default_factory=lambda: MappingProxyType({}), repr=False, compare=False)
    taken: str = ""  # the date (ISO) the data was taken from its source, for tables that age

    @classmethod
    def build(cls, id: str, label: str, source: str, codes: tuple[Code, ...],
              path: Path | None = None, *, taken: str = "") -> CodeTable:
        by_code = {c.code: c for c in codes}
        by_text: dict[str, Code] = {}
        # weakest first, so labels win over aliases and codes win over everything
        for c in codes:
            if c.label.endswith("族") and len(c.label) > 2:
                by_text.setdefault(c.label[:-1], c)
        for c in codes:
            for a in c.aliases:
                by_text[a] = c
        for c in codes:
            by_text[c.label] = c
        return cls(id, label, source, codes, path, MappingProxyType(by_code),
                   MappingProxyType(by_text), taken)

    def get(self, code: str) -> Code | None:
        return self._by_code.get(code)

    def lookup(self, text: str) -> Code | None:
        """Find a code by its code, label or an accepted alias (import accepts all three)."""
        return self._by_code.get(text) or self._by_text.get(text)

    def label_of(self, code: str | None) -> str:
        c = self._by_code.get(code) if code is not None else None
        return c.label if c else (code or "")

    def children(self, parent: str | None) -> tuple[Code, ...]:
        return tuple(c for c in self.codes if c.parent == parent)

    def child(self, parent: str | None, text: str) -> Code | None:
        """The entry under `parent` (top level for None) whose code, label or label without its
        disambiguating “（…）” suffix is `text`."""
        index = self.__dict__.get("_child_index")
        if index is None:
            index = {}
            for c in self.codes:
                for key in (c.code, c.label, c.label.split("（", 1)[0], *c.aliases):
                    index.setdefault((c.parent, key), c)
            object.__setattr__(self, "_child_index", index)
        return index.get((parent, text))


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A use of a named rule (domain/rules) with its parameters, as the form spells it."""

    rule: str
    params: Mapping[str, Any]
    severity: str | None = None  # overrides the rule's own severity when set


@dataclass(frozen=True)
class FieldSpec:
    id: str
    label: str
    type: str
    section: str | None = None
    required: bool = False
    max_length: int | None = None
    nfkc: bool = False
    codes: CodeTable | None = None
    aliases: tuple[str, ...] = ()  # header variants accepted on import
    renamed_from: tuple[str, ...] = ()  # earlier ids, so stored data follows a rename
    hint: str = ""
    default: Any = None
    mask: str | None = None  # "id", "phone" or "birth" (domain.masking): how masked outputs show it
    rules: tuple[RuleRef, ...] = ()
    fields: tuple[FieldSpec, ...] = ()  # sub-fields of a group
    min_rows: int = 0
    #: a date field's finest unknown part: "day" (a full date) or "month" (a full date, or a
    #: year and month only where that is all a legacy register says)
    precision: str = "day"

    def sub(self, field_id: str) -> FieldSpec:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class KeySpec:
    """A lookup key promoted to the register's index (RecordKey)."""

    kind: str  # key namespace, shared by the forms that use it (e.g. "person")
    field: str  # the field whose normalised value is the key
    unique: bool  # a second record with the same key in the register is an E
    hashed: bool  # stored as a keyed hash (sensitive values such as ID numbers)


@dataclass(frozen=True, slots=True)
class PrintSpec:
    """The `[print]` section: what a record page prints under the form's grid."""

    signatures: tuple[str, ...] = ("本人签字", "党支部书记签字")
    stamp: str = "党组织（盖章）"


#: the values of a date field's `precision`
PRECISIONS = ("day", "month")

#: kinds of a summary's total group ([[summary.totals]]); each is counted in domain/summaries.py
TOTAL_KINDS = (
    "codes",  # one item per code of the field's table (`always` ones even when 0)
    "code_groups",  # the `group` of the field's code, in the order of `bands`
    "ethnicity",  # 汉族 (code 01) / 少数民族 (02–56)
    "age",  # age on the fill date (birth date, else from the ID number), banded by `limits`
    "org_category",  # 组织类别 of the member's firm, from the 附件3 records (party_org)
)


@dataclass(frozen=True, slots=True)
class TotalSpec:
    """One group of a summary's 分类统计 (`[[summary.totals]]`)."""

    kind: str  # one of TOTAL_KINDS
    label: str  # 组织类别, 性别, 年龄, … (a codes group defaults to the field's label)
    field: str | None = None
    always: tuple[str, ...] | None = None  # codes listed even when 0 (None: all of the table)
    bands: tuple[str, ...] = ()  # items in their order (age, code_groups, ethnicity)
    limits: tuple[int, ...] = ()  # age: the last age of each band but the last
    id_field: str | None = None  # age: where the birth date is read when `field` is empty


@dataclass(frozen=True, slots=True)
class ExcludedSpec:
    """`[summary.excluded]`: records left out of the table and listed apart (未转入情形4、5)."""

    field: str
    codes: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    reason: str  # why, in messages: 未转入情形4、5
    sheet: str  # the workbook sheet that lists them
    title: str  # that sheet's title (after the attachment)
    heading: str  # the printed list's title (after the summary's)


@dataclass(frozen=True, slots=True)
class SummarySpec:
    """The `[summary]` section of a form: the summary table (附件4–6) built from its records."""

    id: str
    attachment: str
    title: str
    short: str  # the table's name in its pages' QR codes (capital letters and digits)
    source_form: str
    #: (field id, header text or "" for the field's label)
    columns: tuple[tuple[str, str], ...]
    sort: tuple[str, ...]  # fields the rows are ordered by
    counter: str  # 合计：N 人 / 个
    sum_numbers: bool  # the 合计 row adds up the whole-number columns
    totals: tuple[TotalSpec, ...]
    excluded: ExcludedSpec | None = None

    @property
    def display_title(self) -> str:
        return f"{self.attachment} {self.title}".strip()


@dataclass(frozen=True)
class FormSpec:
    id: str
    version: str
    title: str
    attachment: str
    levels: tuple[str, ...]
    name_field: str
    sections: tuple[Section, ...]
    fields: tuple[FieldSpec, ...]
    rules: tuple[RuleRef, ...]
    keys: tuple[KeySpec, ...]
    path: Path | None = None
    printing: PrintSpec = PrintSpec()
    summary: SummarySpec | None = None
    #: fields the records' list shows as columns of their own (会员证号, 会员状态), in order
    list_columns: tuple[str, ...] = ()
    _by_id: Mapping[str, FieldSpec] = field(default_factory=lambda: MappingProxyType({}), repr=False, compare=False)
    _by_label: Mapping[str, FieldSpec] = field(default_factory=lambda: MappingProxyType({}), repr=False,
                                               compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", MappingProxyType({f.id: f for f in self.fields}))
        labels: dict[str, FieldSpec] = {}
        for f in self.fields:
            for a in f.aliases:
                labels.setdefault(a, f)
        for f in self.fields:
            labels[f.label] = f
        object.__setattr__(self, "_by_label", MappingProxyType(labels))

    @property
    def display_title(self) -> str:
        return f"{self.attachment} {self.title}".strip()

    @property
    def order(self) -> tuple[bool, int, str, str]:
        """Where the form stands in lists: 附件1, 附件2, …, 附件10 in their number's order,
        forms without an attachment number after them."""
        digits = "".join(ch for ch in self.attachment if ch.isdigit())
        return (not self.attachment, int(digits) if digits else 0, self.attachment, self.id)

    def field(self, field_id: str) -> FieldSpec:
        return self._by_id[field_id]

    def has_field(self, field_id: str) -> bool:
        return field_id in self._by_id

    def field_by_label(self, label: str) -> FieldSpec | None:
        """The field a label or header variant names (exact labels win over variants)."""
        return self._by_label.get(label)

    def label_of(self, path: str) -> str:
        """Human label of a finding's field path: "firms[2].uscc" → "律师事务所[2]/统一社会信用代码"."""
        if not path:
            return ""
        head, _, tail = path.partition(".")
        fid, _, idx = head.partition("[")
        f = self._by_id.get(fid)
        if f is None:
            return path
        label = f.label + (f"[{idx}" if idx else "")
        if tail and f.fields:
            try:
                label += "/" + f.sub(tail).label
            except KeyError:
                label += "/" + tail
        return label


@dataclass(frozen=True)
class FormSet:
    """Every form and code table of a forms/ folder."""

    forms: Mapping[str, FormSpec]
    tables: Mapping[str, CodeTable]

    def form(self, form_id: str) -> FormSpec:
        return self.forms[form_id]

    @property
    def summaries(self) -> Mapping[str, SummarySpec]:
        """Every form's summary (附件4–6), in the order of their forms."""
        return MappingProxyType({f.summary.id: f.summary for f in self.forms.values()
                                 if f.summary is not None})

    def summary(self, summary_id: str) -> SummarySpec:
        return self.summaries[summary_id]
