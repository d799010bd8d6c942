"""The data dictionary of a form version: every field with its type, its code table and the
rules that check it, each rule with what it checks and where the requirement comes from.

Made from the loaded FormSpec (forms/*.toml) and the rule registry (domain/rules), so a field,
a code or a rule added to a form appears in the dictionary with no other change; a rule that
is registered but not described here fails tests/services/test_opendata.py.
The writers are in reports/dictionary (数据字典.xlsx and 数据字典.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.domain.forms import CodeTable, FieldSpec, FormSpec, RuleRef
from desktop.domain.rules import RULES
from desktop.formspec.jsonschema import JSON_TYPES, file_stem

#: what a person reads for each field type
TYPE_WORDS = {
    "text": "文字", "int": "整数", "bool": "是/否（true/false）", "date": "日期（YYYY-MM-DD）",
    "yearmonth": "年月（YYYY-MM）", "code": "代码（代码与名称）", "id_number": "证件号码",
    "mobile": "手机号码", "landline": "固定电话（区号-号码）", "phone": "手机号码或固定电话",
    "uscc": "统一社会信用代码", "licence": "律师执业证号", "region": "行政区划（省-市-县，各级代码与名称）",
    "group": "多行（每行若干子栏目）",
}

_CHARTER = "《中国共产党章程》"
_BRANCH_RULES = "《中国共产党支部工作条例（试行）》（2018）"
_DEVELOPMENT = "《中国共产党发展党员工作细则》"
_TERMS = "中共中央办公厅《关于党的基层组织任期的意见》（2018）"
_LICENCE_RULES = "司法部《律师和律师事务所执业证号编制办法》（2009 年起施行）"
_FORM_NOTICE = "登记表填表说明（本表的栏目要求）"
_APP = "登记 Dengji 的核对规则"
_SOCIETY_RULES = "《中国法学会会员管理办法》（入会条件）"

#: rule name → (what it checks, its source)
RULE_TEXTS: dict[str, tuple[str, str]] = {
    "admission_rule": ("入会学历条件：法学专业大学专科以上，或非法学专业大学本科以上", _SOCIETY_RULES),
    "approval_age": ("批准入会时年满 18 周岁（提醒）", _APP),
    "birth_matches_id": ("出生日期与公民身份号码第 7–14 位一致", "GB 11643-1999 公民身份号码"),
    "committee_members": ("设支部委员会的须填委员人数，人数与正式党员数相称", _BRANCH_RULES),
    "date_after": ("本日期不早于所对照的日期", _FORM_NOTICE),
    "degree_education": ("学位与学历相称（如博士学位须为研究生学历）", "GB/T 6864 学位代码；GB/T 4658 学历代码"),
    "empty_if": ("所对照栏目为指定值时本栏目应为空", _FORM_NOTICE),
    "firm_registered": ("执业机构已在附件3党组织基本信息中登记（跨记录）", _FORM_NOTICE),
    "in_scope": ("只登记本表范围内的人员（如专职律师）", _FORM_NOTICE),
    "int_range": ("整数在规定范围内", _FORM_NOTICE),
    "intern_cert": ("14 位实习证编号的省、市、年月、性别、类别各位有效（各省编号不一，仅提醒）", "广东、浙江等省的实习证编号方式"),
    "join_age": ("入党时年满 18 周岁", f"{_CHARTER}第一条"),
    "joint_branch_firms": ("联合党支部所覆盖的律师事务所正式党员均不足 3 人", f"{_BRANCH_RULES}第五条"),
    "landline": ("固定电话写作“区号-号码”，区号有效，号码位数与区号相符", "长途区号表（forms/codes/phone_areas）"),
    "lawyer_licence": ("17 位数字，1 开头；省份、首次执业年度、执业类别、性别各位有效", _LICENCE_RULES),
    "licence_matches": ("执业证号的执业类别位、性别位、省份与本记录一致（提醒）", _LICENCE_RULES),
    "max_rows": ("行数不超过上限（提醒）", _BRANCH_RULES),
    "member_number": ("会员证号为“区号-六位序号”", "各级法学会会员证号的现行编号方式（长途区号-序号）"),
    "min_length": ("不少于规定字数（提醒）", _FORM_NOTICE),
    "min_rows_if": ("所对照栏目为指定值时至少填写规定行数", _BRANCH_RULES),
    "mobile": ("11 位手机号码，1 开头、第二位 3–9，号段已分配", "工业和信息化部电信网码号资源（forms/codes/mobile_segments）"),
    "not_future": ("不晚于今天", _APP),
    "org_counts": ("党员人数与党员记录、律师和工作人员总数相符，符合党支部设置的人数要求（跨记录）", _BRANCH_RULES),
    "pattern": ("符合规定的格式", _FORM_NOTICE),
    "person_name": ("姓名只含汉字、字母和间隔号“·”", _APP),
    "phone": ("手机号码或“区号-号码”形式的固定电话", "工业和信息化部电信网码号资源"),
    "post_holder": ("担任党内职务的应为党籍正常的正式党员", _CHARTER),
    "probation": ("预备期一年；延长预备期一次，不少于半年、不超过一年；转正日期与之相符",
                  f"{_CHARTER}第七条；{_DEVELOPMENT}"),
    "region_nesting": ("省、市、县三级相互隶属", "GB/T 2260 中华人民共和国行政区划代码"),
    "required_if": ("所对照栏目为指定值时本栏目必须填写", _FORM_NOTICE),
    "resident_id": ("18 位公民身份号码：出生日期、地址码、校验位（ISO 7064 MOD 11-2）有效，居住证号码与证件类型相符",
                    "GB 11643-1999 公民身份号码；GB/T 2260 行政区划代码"),
    "secretary": ("书记为本组织党籍正常的正式党员（跨记录）", _BRANCH_RULES),
    "sex_matches_id": ("性别与公民身份号码第 17 位一致（奇数为男）", "GB 11643-1999 公民身份号码；GB/T 2261.1 性别代码"),
    "single_secretary": ("一个党组织只有一名书记（跨记录）", _BRANCH_RULES),
    "term": ("党支部、党总支每届 3 年，党委每届 5 年，届满未换届的提醒", f"{_CHARTER}第三十一条；{_TERMS}"),
    "uscc": ("18 位统一社会信用代码：字符集、校验位（模 31）、登记管理机关行政区划码有效，律师事务所以 31 开头",
             "GB 32100-2015 法人和其他组织统一社会信用代码编码规则"),
}

_SEVERITY = {"E": "错误", "W": "警告", "I": "提示"}


@dataclass(frozen=True)
class RuleLine:
    rule: str
    scope: str  # field, record (within the record), cross (against other records)
    severity: str  # "" when the rule says per finding; else the form's override
    fields: tuple[str, ...]  # the fields it names (record rules)
    text: str
    source: str

    @property
    def words(self) -> str:
        level = f"（{_SEVERITY[self.severity]}）" if self.severity in _SEVERITY else ""
        return f"{self.text}{level}"


@dataclass(frozen=True)
class FieldLine:
    no: int
    id: str  # "firms.uscc" for a sub-field
    label: str
    section: str
    type: str
    type_words: str
    json_type: str
    required: bool
    max_length: int | None
    precision: str  # "day", "month" (a date may hold a year-month alone) or ""
    table: CodeTable | None
    rules: tuple[RuleLine, ...]
    hint: str


def rule_line(ref: RuleRef) -> RuleLine:
    """What a form's use of a rule checks, and its source."""
    text, source = RULE_TEXTS.get(ref.rule, (ref.rule, _APP))
    if ref.rule == "pattern":
        text = f"{text}：{ref.params.get('hint', '')}"
    scope = RULES[ref.rule].scope if ref.rule in RULES else ""
    fields = tuple(str(v) for k, v in sorted(ref.params.items())
                   if k == "field" or (k.endswith("_field") and isinstance(v, str)))
    return RuleLine(ref.rule, scope, ref.severity or "", fields, text, source)


def _line(no: int, spec: FieldSpec, path: str, section: str, rules: list[RuleLine]) -> FieldLine:
    if spec.codes is not None:  # the value is one of the table's codes (an E otherwise)
        rules = [RuleLine("code_table", "field", "", (), f"取值为代码表《{spec.codes.label}》中的代码",
                          spec.codes.source or _APP), *rules]
    return FieldLine(
        no=no, id=path, label=spec.label, section=section, type=spec.type,
        type_words=TYPE_WORDS.get(spec.type, spec.type), json_type=JSON_TYPES.get(spec.type, ""),
        required=spec.required or (spec.type == "group" and spec.min_rows > 0),
        max_length=spec.max_length,
        precision=spec.precision if spec.type == "date" else "",
        table=spec.codes, rules=tuple(rules), hint=spec.hint)


def field_lines(form: FormSpec) -> list[FieldLine]:
    """Every field (and sub-field) of the form in form order, with the field rules it uses and
    the record rules that name it."""
    record_rules = [rule_line(r) for r in form.rules]
    sections = {s.id: s.label for s in form.sections}
    out: list[FieldLine] = []
    for spec in form.fields:
        section = sections.get(spec.section or "", "")
        named = [r for r in record_rules if spec.id in r.fields]
        out.append(_line(len(out) + 1, spec, spec.id, section,
                         [rule_line(r) for r in spec.rules] + named))
        for sub in spec.fields:
            out.append(_line(len(out) + 1, sub, f"{spec.id}.{sub.id}", section,
                             [rule_line(r) for r in sub.rules]))
    return out


@dataclass(frozen=True)
class Dictionary:
    """The data dictionary of the forms of one export."""

    forms: tuple[FormSpec, ...]

    def fields(self, form: FormSpec) -> list[FieldLine]:
        return field_lines(form)

    def tables(self) -> list[CodeTable]:
        """Every code table a field of these forms uses, once, in the order first used."""
        seen: dict[str, CodeTable] = {}
        for form in self.forms:
            for line in field_lines(form):
                if line.table is not None:
                    seen.setdefault(line.table.id, line.table)
        return list(seen.values())

    def record_rules(self, form: FormSpec) -> list[RuleLine]:
        return [rule_line(r) for r in form.rules]

    @staticmethod
    def stem(form: FormSpec) -> str:
        return file_stem(form)
