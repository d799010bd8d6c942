"""Issue requirement: "Adding a field is a TOML edit only".

A copy of forms/ gets one more field in lawyer_member.toml; without touching any code the new
field is loaded, validated, reported with its label, and stored by `dengji import`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from desktop.domain.context import Environment
from desktop.domain.validation import Validator
from desktop.formspec import load_forms
from desktop.paths import forms_dir
from tests.conftest import TODAY, has_cjk, stored_data

WECHAT = """
[[fields]]
id = "wechat"
label = "微信号"
section = "personal"
type = "text"
rules = [{ rule = "pattern", regex = "[A-Za-z][-_A-Za-z0-9]{5,19}", hint = "6–20 位字母数字" }]
"""


@pytest.fixture
def tmp_forms(tmp_path: Path) -> Path:
    folder = tmp_path / "forms"
    shutil.copytree(forms_dir(), folder)
    with (folder / "lawyer_member.toml").open("a", encoding="utf-8") as fh:
        fh.write(WECHAT)
    return folder


def test_the_new_field_is_loaded(tmp_forms):
    form = load_forms(tmp_forms).form("lawyer_member")
    spec = form.field("wechat")
    assert (spec.label, spec.type, spec.section) == ("微信号", "text", "personal")
    assert form.field_by_label("微信号") is spec
    assert form.fields[-1] is spec
    # the shipped form is untouched
    assert not load_forms(forms_dir()).form("lawyer_member").has_field("wechat")


def test_a_bad_value_gives_a_finding_on_the_new_field(tmp_forms, firm_records):
    form = load_forms(tmp_forms).form("lawyer_member")
    validator = Validator(form, Environment(today=TODAY))
    good = dict(firm_records.members[0], 微信号="zhang_san-88")
    values, findings = validator.validate(good)
    assert findings == []
    assert values["wechat"] == "zhang_san-88"

    _, findings = validator.validate(dict(good, 微信号="8zs"))
    assert [(f.field, f.severity, f.code) for f in findings] == [("wechat", "E", "pattern")]
    assert "微信号" in findings[0].message and "6–20 位字母数字" in findings[0].message
    assert has_cjk(findings[0].message)


def test_dengji_validate_and_import_use_the_new_field(
    tmp_forms, live_firm_records, dengji, db, jsonl, monkeypatch
):
    firm_records = live_firm_records
    monkeypatch.setenv("DENGJI_FORMS_DIR", str(tmp_forms))
    bad = jsonl([dict(firm_records.members[0], 微信号="8zs")], "bad.jsonl")
    result = dengji("validate", "--form", "lawyer_member", bad)
    assert result.code == 1
    assert result.lines[0].split("\t")[:3] == ["1", "微信号", "E"]

    good = jsonl([dict(m, 微信号=f"wx_member{i}") for i, m in enumerate(firm_records.members)])
    result = dengji("import", "--db", db, "--form", "lawyer_member", good)
    assert result.code == 0, result.out + result.err
    stored = stored_data(db, "lawyer_member")
    assert sorted(d["wechat"] for d in stored) == [f"wx_member{i}" for i in range(4)]


def test_without_the_edit_the_label_is_unknown(live_firm_records, dengji, jsonl):
    """Control: the shipped forms do not know 微信号, so the same file is refused."""
    firm_records = live_firm_records
    path = jsonl([dict(firm_records.members[0], 微信号="zhang_san-88")])
    result = dengji("validate", "--form", "lawyer_member", path)
    assert result.code == 1
    assert "1\t微信号\tE\t" in result.out
