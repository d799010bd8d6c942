"""The [print] and [summary] sections go through the same strict loader: what they say is kept,
and a mistake is refused with the file and the key named."""

from __future__ import annotations

import pytest

from desktop.domain.forms import PrintSpec
from desktop.errors import FormSpecError
from desktop.formspec import load_forms
from tests.formspec.test_loader import GOOD, refused, write_forms

BIRTH = """
[[fields]]
id = "birth"
label = "出生日期"
type = "date"

[[fields]]
id = "posts"
label = "职务数"
type = "int"
"""

PRINT = """
[print]
signatures = ["本人签字", "经办人签字"]
stamp = "某单位（盖章）"
"""

SUMMARY = """
[summary]
id = "tiny_summary"
attachment = "附件9"
title = "小汇总表"
short = "FJ9"
columns = ["name", "sex", "posts"]
headers = { sex = "男女" }
counter = "人"
sum_numbers = true

[[summary.totals]]
kind = "codes"
field = "sex"
always = ["1"]

[[summary.totals]]
kind = "age"
label = "年龄"
field = "birth"
bands = ["年轻", "年长"]
limits = [40]
"""

FULL = GOOD + BIRTH + PRINT + SUMMARY


def test_print_and_summary_are_kept(tmp_path):
    forms = load_forms(write_forms(tmp_path, FULL))
    form = forms.form("tiny")
    assert form.printing == PrintSpec(("本人签字", "经办人签字"), "某单位（盖章）")
    s = forms.summary("tiny_summary")
    assert s is form.summary and list(forms.summaries) == ["tiny_summary"]
    assert s.columns == (("name", ""), ("sex", "男女"), ("posts", ""))
    assert (s.display_title, s.short, s.source_form, s.sort) == (
        "附件9 小汇总表", "FJ9", "tiny", ("name",))
    assert [(t.kind, t.label, t.always) for t in s.totals] == [
        ("codes", "性别", ("1",)), ("age", "年龄", None)]
    assert s.totals[1].limits == (40,) and s.excluded is None


def test_without_the_sections_a_form_prints_with_the_default_lines(tmp_path):
    form = load_forms(write_forms(tmp_path, GOOD)).form("tiny")
    assert form.printing == PrintSpec() and form.summary is None
    assert PrintSpec().signatures == ("本人签字", "党支部书记签字")


CASES = [
    ("unknown key in [print]", PRINT + 'colour = "red"\n', "print.colour"),
    ("too many signature lines", PRINT.replace('"经办人签字"', '"甲", "乙", "丙"'),
     "print.signatures"),
    ("unknown key in [summary]", SUMMARY.replace('counter = "人"', 'countr = "人"'),
     "summary.countr"),
    ("a column that is no field", SUMMARY.replace('"posts"]', '"nope"]'), "summary.columns[2]"),
    ("a heading for no column", SUMMARY.replace("sex = ", "birth = "), "summary.headers.birth"),
    ("a short name a QR code cannot hold", SUMMARY.replace('"FJ9"', '"附9"'), "summary.short"),
    ("unknown kind of total", SUMMARY.replace('kind = "age"', 'kind = "height"'),
     "summary.totals[1].kind"),
    ("a code the table lacks", SUMMARY.replace('["1"]', '["7"]'), "summary.totals[0].always[0]"),
    ("codes of a field without a table", SUMMARY.replace('field = "sex"', 'field = "name"'),
     "summary.totals[0]"),
    ("age bands and limits that do not match", SUMMARY.replace("[40]", "[40, 50]"),
     "summary.totals[1].limits"),
    ("unknown key in a total", SUMMARY + "width = 3\n", "summary.totals[1].width"),
    ("excluded without its codes",
     SUMMARY + '\n[summary.excluded]\nfield = "sex"\ncolumns = ["name"]\n', "summary.excluded"),
]


@pytest.mark.parametrize(("section", "key"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_mistake_in_the_sections_is_refused(tmp_path, section, key):
    message = refused(tmp_path, GOOD + BIRTH + section)
    assert f"tiny.toml 的 {key}" in message, message


def test_a_summary_id_may_not_be_a_form_id(tmp_path):
    folder = write_forms(tmp_path, FULL)
    (folder / "other.toml").write_text(
        GOOD.replace('id = "tiny"', 'id = "other"') + BIRTH
        + SUMMARY.replace("tiny_summary", "tiny"), encoding="utf-8")
    with pytest.raises(FormSpecError, match="“tiny”重复"):
        load_forms(folder)


def test_the_shipped_forms_print_the_lines_they_always_printed(forms):
    lines = {f.id: (f.printing.signatures, f.printing.stamp) for f in forms.forms.values()}
    assert lines == {
        "lawyer_member": (("本人签字", "党支部书记签字"), "党组织（盖章）"),
        "staff_member": (("本人签字", "党支部书记签字"), "党组织（盖章）"),
        "party_org": (("填表人签字", "党组织书记签字"), "党组织（盖章）"),
        "society_member": (("本人签字", "经办人签字"), "法学会（盖章）"),
    }
    assert [s.short for s in forms.summaries.values()] == ["FJ4", "FJ5", "FJ6"]


def test_forms_stand_in_the_order_of_their_attachment_numbers(tmp_path):
    folder = write_forms(tmp_path, GOOD.replace('title = "小表"', 'title = "小表"\nattachment = "附件10"'))
    for name, attachment in (("second", "附件2"), ("plain", "")):
        text = GOOD.replace('id = "tiny"', f'id = "{name}"')
        (folder / f"{name}.toml").write_text(
            text.replace('title = "小表"', f'title = "小表"\nattachment = "{attachment}"'),
            encoding="utf-8")
    assert list(load_forms(folder).forms) == ["second", "tiny", "plain"]
