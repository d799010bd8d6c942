"""No program text reaches a person (issue 16): every Chinese message template, rendered with
realistic values of each parameter's kind — and with the values a query or a rule might hand
over by mistake (a row tuple, a list, None, a date, a truth value) — reads as Chinese, never as
a Python repr. And the duplicate-ID message through the real editing path names the person, not
a query row."""

from __future__ import annotations

import random
import string
from datetime import UTC, date, datetime

import pytest

from desktop import sampledata
from desktop.domain.messages import MESSAGES, render, render_template, spoken
from desktop.domain.units import USCC_WHY
from desktop.formspec import shipped_forms
from desktop.services.editing import EditSession
from desktop.services.registers import init_register
from desktop.storage import KdfParams

#: every catalog of Chinese templates filled with str.format
CATALOGS = {"messages": MESSAGES, "units": USCC_WHY}

REPR_MARKS = ("('", "',)", ",)", "[", "]", "{'", "{", "}", "None", "True", "False",
              "datetime.", "date(", "Row(", "<", "\\n")

# realistic values by the parameter's kind (its name)
REALISTIC = {
    "allowed": "1、3、5", "area": "0311", "areas": "110101、110102", "birth": "1985-03",
    "category": "专职律师", "chars": "@#", "code": "99", "computed": 12, "country": "美国",
    "detail": "东城区不属于天津市", "digit": "9", "digits": "19851340", "due": "2024-05-01",
    "earliest": "2024-05-01", "end": "2026-01-31", "expected": "男", "extension": 6,
    "firm": "北京市甲律师事务所", "first": "张三", "hint": "如 0311-1234567", "joined": "2020-07-01",
    "kind": "党支部", "latest": "2026-07-01", "lengths": "7 或 8", "licence": "11101201910123456",
    "max": 50, "members": 8, "min": 3, "months": 12, "n": 17, "name": "王敏",
    "names": "王敏、李强", "org": "中共北京市甲律师事务所支部委员会", "other": "转正日期",
    "other_value": "2024-05-01", "place": "北京市", "post": "书记", "second": "李四",
    "segment": "199", "sex": "女", "shortest": 6, "table": "民族", "taken": "2025-06-01",
    "this_year": 2026, "today": "2026-12-07", "total": 10, "typed": 11, "value": "abc",
    "value_text": "（110101198503120012）", "where": "附件1 律师党员信息采集表中“王敏”",
    "year": "2031", "years": 3,
}
# what a careless caller might hand over instead of text
CARELESS = [("王敏",), ["王敏", "李强"], None, date(2024, 5, 1),
            datetime(2024, 5, 1, 9, 30, tzinfo=UTC), True, {"王敏": 2}, {"王敏"}, ("王敏", None)]


def _params(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f and f != "label"]


def _templates():
    for catalog, templates in CATALOGS.items():
        for code, template in templates.items():
            yield pytest.param(template, id=f"{catalog}:{code}")


def _clean(text: str) -> None:
    for mark in REPR_MARKS:
        assert mark not in text, f"{mark!r} in {text!r}"


def test_every_parameter_has_a_realistic_value():
    missing = {p for t in (t for c in CATALOGS.values() for t in c.values()) for p in _params(t)}
    assert missing - set(REALISTIC) == set()


@pytest.mark.parametrize("template", list(_templates()))
def test_template_renders_for_people(template):
    params = {p: REALISTIC[p] for p in _params(template)}
    text = render_template(template, "公民身份号码", params)
    _clean(text)
    assert "{" not in text  # every placeholder filled
    for careless in CARELESS:
        _clean(render_template(template, "姓名", dict.fromkeys(_params(template), careless)))


def test_spoken_says_values_as_words():
    assert spoken(("王敏",)) == "王敏"
    assert spoken(["王敏", "李强"]) == "王敏、李强"
    assert spoken(None) == "" and spoken(True) == "是" and spoken(False) == "否"
    assert spoken(date(2024, 5, 1)) == "2024-05-01"
    assert spoken(datetime(2024, 5, 1, 9, 30)) == "2024-05-01 09:30"
    assert spoken(12) == "12"


def test_an_unknown_code_still_reads_as_text():
    _clean(render("no_such_code", "姓名", {"x": ("a",)}))


@pytest.fixture
def reg(tmp_path):
    r = init_register(tmp_path / "r.dengji", "服务测试口令-1234", level="firm",
                      unit_name="测试律师事务所党支部", unit_code="311301028813998665",
                      kdf=KdfParams(n=2**10, r=8, p=1))
    yield r
    r.close()


def test_duplicate_id_message_names_the_person(reg):
    forms = shipped_forms()
    rng = random.Random(16)
    firm = sampledata.firms(rng, 1)[0]
    member = sampledata.lawyer_member(rng, firm, date.today())
    form = forms.form("lawyer_member")

    first = EditSession(reg, forms, form, reg.own_unit_id, actor="测试员")
    for label, raw in member.items():
        if form.field_by_label(label):
            first.set_raw(form.field_by_label(label).id, raw)
    first.save()
    second = EditSession(reg, forms, form, reg.own_unit_id, actor="测试员")
    findings = second.set_raw("id_number", member["公民身份号码"])
    (message,) = [f.message for f in findings if f.code == "duplicate_in_register"]
    assert f"中“{member['姓名']}”" in message
    _clean(message)
