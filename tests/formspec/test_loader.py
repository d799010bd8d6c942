"""The strict loader: malformed forms and code tables are refused with a FormSpecError whose
Chinese message names the file and the key. Small forms are written inline."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.domain.context import Environment
from desktop.domain.validation import Validator
from desktop.errors import FormSpecError
from desktop.formspec import load_code_table, load_forms
from tests.conftest import TODAY, has_cjk

SEX = """\
[table]
id = "sex"
label = "性别"
source = "GB/T 2261.1"

[[codes]]
code = "1"
label = "男"
aliases = ["男性"]

[[codes]]
code = "2"
label = "女"
"""

HEAD = """\
[form]
id = "tiny"
version = "1"
title = "小表"
name_field = "name"
"""

NAME = """
[[fields]]
id = "name"
label = "姓名"
type = "text"
required = true
"""

SEX_FIELD = """
[[fields]]
id = "sex"
label = "性别"
type = "code"
codes = "sex"
"""

GOOD = HEAD + NAME + SEX_FIELD


def write_forms(root: Path, form: str, *, sex: str = SEX, name: str = "tiny") -> Path:
    folder = root / "forms"
    (folder / "codes").mkdir(parents=True, exist_ok=True)
    (folder / "codes" / "sex.toml").write_text(sex, encoding="utf-8")
    (folder / f"{name}.toml").write_text(form, encoding="utf-8")
    return folder


def refused(root: Path, form: str, **kw) -> str:
    with pytest.raises(FormSpecError) as info:
        load_forms(write_forms(root, form, **kw))
    message = str(info.value)
    assert has_cjk(message)
    assert info.value.exit_code == 2
    return message


def test_the_good_tiny_form_loads(tmp_path):
    forms = load_forms(write_forms(tmp_path, GOOD))
    form = forms.form("tiny")
    assert [f.id for f in form.fields] == ["name", "sex"]
    assert form.field("sex").codes is forms.tables["sex"]
    assert form.field_by_label("姓名").id == "name"
    assert forms.tables["sex"].lookup("男性").code == "1"


# (case id, form text, file named, key named, other words the message must contain)
CASES = [
    (
        "unknown key in [form]",
        HEAD + 'colour = "red"\n' + NAME,
        "tiny.toml",
        "form.colour",
        ["colour"],
    ),
    ("unknown top-level key", GOOD + "\n[extras]\nx = 1\n", "tiny.toml", "extras", []),
    (
        "unknown key in a field",
        HEAD + NAME + 'colour = "red"\n',
        "tiny.toml",
        "fields[0].colour",
        [],
    ),
    ("unknown key in a second field", GOOD + "widht = 3\n", "tiny.toml", "fields[1].widht", []),
    (
        "unknown key in a section",
        HEAD + '\n[[sections]]\nid = "a"\nlabel = "甲"\ncolor = 1\n' + NAME,
        "tiny.toml",
        "sections[0].color",
        [],
    ),
    (
        "unknown key in [[keys]]",
        GOOD + '\n[[keys]]\nkind = "p"\nfield = "name"\nsalted = true\n',
        "tiny.toml",
        "keys[0].salted",
        [],
    ),
    (
        "key on a missing field",
        GOOD + '\n[[keys]]\nkind = "p"\nfield = "nope"\n',
        "tiny.toml",
        "keys[0].field",
        ["nope"],
    ),
    (
        "unknown rule name",
        HEAD + NAME + 'rules = [{ rule = "no_such_rule" }]\n',
        "tiny.toml",
        "fields[0].rules[0].rule",
        ["no_such_rule"],
    ),
    (
        "unknown rule parameter",
        HEAD + NAME + 'rules = [{ rule = "mobile", strict = true }]\n',
        "tiny.toml",
        "fields[0].rules[0]",
        ["strict", "mobile"],
    ),
    (
        "missing required rule parameter",
        HEAD + NAME + 'rules = [{ rule = "pattern", regex = "[a-z]+" }]\n',
        "tiny.toml",
        "fields[0].rules[0]",
        ["hint", "pattern"],
    ),
    (
        "rule without a name",
        HEAD + NAME + 'rules = [{ regex = "x" }]\n',
        "tiny.toml",
        "fields[0].rules[0]",
        [],
    ),
    (
        "bad severity",
        HEAD + NAME + 'rules = [{ rule = "person_name", severity = "X" }]\n',
        "tiny.toml",
        "fields[0].rules[0].severity",
        [],
    ),
    (
        "field rule at form level",
        GOOD + '\n[[rules]]\nrule = "mobile"\n',
        "tiny.toml",
        "rules[0].rule",
        ["mobile"],
    ),
    (
        "form rule at field level",
        HEAD + NAME + 'rules = [{ rule = "required_if", field = "name", when_field = "name", '
        'equals = "x" }]\n',
        "tiny.toml",
        "fields[0].rules[0].rule",
        ["required_if"],
    ),
    (
        "missing code table",
        HEAD + NAME + '\n[[fields]]\nid = "nation"\nlabel = "民族"\n'
        'type = "code"\ncodes = "ethnicity"\n',
        "tiny.toml",
        "fields[1].codes",
        ["ethnicity"],
    ),
    (
        "code field without a table",
        HEAD + NAME + '\n[[fields]]\nid = "nation"\nlabel = "民族"\ntype = "code"\n',
        "tiny.toml",
        "fields[1]",
        ["codes"],
    ),
    (
        "unknown field type",
        HEAD + '\n[[fields]]\nid = "name"\nlabel = "姓名"\ntype = "string"\n',
        "tiny.toml",
        "fields[0].type",
        ["string"],
    ),
    (
        "wrongly typed value",
        HEAD + '\n[[fields]]\nid = "name"\nlabel = "姓名"\ntype = "text"\nrequired = "yes"\n',
        "tiny.toml",
        "fields[0].required",
        [],
    ),
    (
        "bad field id",
        HEAD + '\n[[fields]]\nid = "Name"\nlabel = "姓名"\ntype = "text"\n',
        "tiny.toml",
        "fields[0].id",
        [],
    ),
    (
        "duplicate field ids",
        GOOD + '\n[[fields]]\nid = "name"\nlabel = "别名"\ntype = "text"\n',
        "tiny.toml",
        "fields",
        ["name", "重复"],
    ),
    (
        "duplicate field labels",
        GOOD + '\n[[fields]]\nid = "name2"\nlabel = "姓名"\ntype = "text"\n',
        "tiny.toml",
        "fields",
        ["姓名", "重复"],
    ),
    (
        "alias that is another field's label",
        HEAD + NAME + 'aliases = ["性别"]\n' + SEX_FIELD,
        "tiny.toml",
        "fields[0].aliases",
        ["性别"],
    ),
    (
        "form rule parameter naming a missing field",
        GOOD + '\n[[rules]]\nrule = "required_if"\nfield = "nope"\nwhen_field = "sex"\n'
        'equals = "1"\n',
        "tiny.toml",
        "rules[0].field",
        ["nope"],
    ),
    (
        "form rule when_field naming a missing field",
        GOOD + '\n[[rules]]\nrule = "required_if"\nfield = "name"\nwhen_field = "gender"\n'
        'equals = "1"\n',
        "tiny.toml",
        "rules[0].when_field",
        ["gender"],
    ),
    (
        "field rule parameter naming a missing field",
        HEAD + NAME + '\n[[fields]]\nid = "idno"\nlabel = "公民身份号码"\ntype = "id_number"\n'
        'rules = [{ rule = "resident_id", type_field = "id_kind" }]\n',
        "tiny.toml",
        "fields[1].rules[0].type_field",
        ["id_kind"],
    ),
    (
        "name_field naming a missing field",
        HEAD.replace('"name"', '"fullname"') + NAME,
        "tiny.toml",
        "form.name_field",
        ["fullname"],
    ),
    (
        "form id differs from the file name",
        HEAD.replace('"tiny"', '"small"') + NAME,
        "tiny.toml",
        "form.id",
        ["small"],
    ),
    (
        "missing [form] key",
        HEAD.replace('title = "小表"\n', "") + NAME,
        "tiny.toml",
        "form",
        ["title"],
    ),
    (
        "section that is not defined",
        HEAD + NAME + 'section = "nowhere"\n',
        "tiny.toml",
        "fields[0].section",
        ["nowhere"],
    ),
    (
        "unknown level",
        HEAD + 'levels = ["firm", "county"]\n' + NAME,
        "tiny.toml",
        "form.levels",
        ["county"],
    ),
    (
        "sub-fields on a non-group field",
        HEAD + NAME + '\n[[fields.fields]]\nid = "x"\nlabel = "甲"\ntype = "text"\n',
        "tiny.toml",
        "fields[0].fields",
        [],
    ),
    (
        "unknown key in a group sub-field",
        HEAD + NAME + '\n[[fields]]\nid = "firms"\nlabel = "律所"\ntype = "group"\n'
        '\n[[fields.fields]]\nid = "x"\nlabel = "甲"\ntype = "text"\nbogus = 1\n',
        "tiny.toml",
        "fields[1].fields[0].bogus",
        [],
    ),
    ("invalid TOML", GOOD + "\nthis is = = not toml\n", "tiny.toml", "", ["TOML"]),
]


@pytest.mark.parametrize(
    ("form", "file", "key", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_loader_refuses_with_file_and_key(tmp_path, form, file, key, words):
    message = refused(tmp_path, form)
    assert file in message
    if key:
        assert f"{file} 的 {key}" in message, message
    for word in words:
        assert word in message, message


CODE_CASES = [
    (
        "unknown key in a code entry",
        SEX.replace('label = "女"', 'label = "女"\ncolour = "red"'),
        "codes[1].colour",
    ),
    ("unknown key in [table]", SEX.replace("source", "origin"), "table.origin"),
    ("table id differs from the file name", SEX.replace('id = "sex"', 'id = "gender"'), "table.id"),
    ("a label used twice", SEX.replace('label = "女"', 'label = "男"'), "codes[1]"),
    (
        "parent not in the table",
        SEX.replace('label = "女"', 'label = "女"\nparent = "9"'),
        "codes[1].parent",
    ),
    (
        "deprecated not a boolean",
        SEX.replace('label = "女"', 'label = "女"\ndeprecated = "yes"'),
        "codes[1].deprecated",
    ),
]


@pytest.mark.parametrize(
    ("sex", "key"), [c[1:] for c in CODE_CASES], ids=[c[0] for c in CODE_CASES]
)
def test_code_table_refused_with_file_and_key(tmp_path, sex, key):
    message = refused(tmp_path, GOOD, sex=sex)
    assert f"sex.toml 的 {key}" in message, message


def test_invalid_toml_in_a_code_table_names_the_file(tmp_path):
    message = refused(tmp_path, GOOD, sex=SEX + "\n[[codes]\n")
    assert "sex.toml" in message and "TOML" in message


def test_empty_code_table_is_refused(tmp_path):
    path = tmp_path / "sex.toml"
    path.write_text('[table]\nid = "sex"\nlabel = "性别"\ncodes = []\n', encoding="utf-8")
    with pytest.raises(FormSpecError):
        load_code_table(path)


def test_missing_forms_folder_is_refused(tmp_path):
    with pytest.raises(FormSpecError) as info:
        load_forms(tmp_path / "nowhere")
    assert "nowhere" in str(info.value)


def test_rule_parameters_and_severity_are_kept(tmp_path):
    form_text = (
        HEAD + NAME + 'rules = [{ rule = "min_length", min = 2, severity = "I" }]\n' + SEX_FIELD
    )
    form = load_forms(write_forms(tmp_path, form_text)).form("tiny")
    (ref,) = form.field("name").rules
    assert (ref.rule, dict(ref.params), ref.severity) == ("min_length", {"min": 2}, "I")
    findings = Validator(form, Environment(today=TODAY)).check({"name": "张"})
    assert [(f.field, f.severity, f.code) for f in findings] == [("name", "I", "too_short")]


def test_group_subfield_rule_naming_a_missing_field_is_refused(tmp_path):
    form_text = (
        HEAD + NAME + '\n[[fields]]\nid = "people"\nlabel = "人员"\ntype = "group"\n'
        '\n[[fields.fields]]\nid = "idno"\nlabel = "公民身份号码"\ntype = "id_number"\n'
        'rules = [{ rule = "resident_id", type_field = "id_kind" }]\n'
    )
    message = refused(tmp_path, form_text)
    assert "id_kind" in message


def test_invalid_pattern_regex_is_refused_at_load(tmp_path):
    form_text = (
        HEAD + NAME + '\n[[fields]]\nid = "wechat"\nlabel = "微信号"\ntype = "text"\n'
        'rules = [{ rule = "pattern", regex = "[A-Z", hint = "字母" }]\n'
    )
    message = refused(tmp_path, form_text)
    assert "fields[1].rules[0]" in message
