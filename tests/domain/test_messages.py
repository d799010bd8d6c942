"""Wording of findings: every code a rule can emit has a Chinese message whose placeholders the
rule fills, and the message names the field the finding is attached to."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from desktop.domain.messages import MESSAGES, render
from tests.conftest import has_cjk

DOMAIN = Path(__file__).resolve().parents[2] / "desktop"


def _problem_calls():
    """(file, code, param names or None) of every Problem("S", "code", {...}) in desktop/."""
    for path in sorted(DOMAIN.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Problem"):
                continue
            args = node.args
            if len(args) < 2 or not isinstance(args[1], ast.Constant):
                continue
            params = None
            if len(args) >= 3 and isinstance(args[2], ast.Dict):
                params = {k.value for k in args[2].keys if isinstance(k, ast.Constant)}
            elif len(args) < 3 and not any(k.arg == "params" for k in node.keywords):
                params = set()
            yield path.name, args[1].value, params


CALLS = list(_problem_calls())


def test_the_scan_finds_the_rules():
    codes = {code for _, code, _ in CALLS}
    assert {"id_checksum", "sex_mismatch", "count_mismatch", "admission_rule"} <= codes


@pytest.mark.parametrize(("where", "code", "params"), CALLS, ids=[f"{w}:{c}" for w, c, _ in CALLS])
def test_every_emitted_code_has_a_message_with_its_placeholders(where, code, params):
    assert code in MESSAGES, f"{where} emits {code} without wording"
    if params is None:
        return  # parameters built elsewhere
    wanted = {name for _, name, _, _ in string.Formatter().parse(MESSAGES[code]) if name}
    assert wanted <= params | {"label"}, f"{code}: template needs {wanted - params - {'label'}}"


def test_source_row_codes_are_worded_in_place():
    # sources.py words its own messages (line numbers); they are not in MESSAGES by design
    assert "json_invalid" not in MESSAGES


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_message_is_chinese(code):
    assert has_cjk(MESSAGES[code])


def test_render_never_raises():
    assert render("no_such_code", "姓名", {}) == "“姓名”：no_such_code"
    assert render("too_long", "姓名", {}) == MESSAGES["too_long"]  # missing parameters
    assert render("required", "姓名", {}) == "“姓名”必须填写"


#: (code, label of the field the shipped forms attach it to)
ATTACHED = [
    ("required", "姓名"),
    ("sex_mismatch", "性别"),
    ("birth_mismatch", "出生日期"),
    ("out_of_scope", "执业类别"),
    ("licence_category_mismatch", "执业类别"),
    ("degree_education", "学位"),
    ("join_age", "入党日期"),
    ("probation_short", "转正日期"),
    ("probation_long", "转正日期"),
    ("probation_extended", "转正日期"),
    ("probation_expired", "人员类别"),
    ("probationer_post", "党内职务"),
    ("suspended_post", "党内职务"),
    ("firm_not_registered", "执业机构"),
    ("secretary_not_found", "书记"),
    ("secretary_not_full", "书记"),
    ("count_mismatch", "正式党员数"),
    ("count_exceeds_total", "执业律师总数"),
    ("term_length", "届满日期"),
    ("admission_rule", "学历"),
    ("region_nesting", "外出流向"),
    ("id_checksum", "公民身份号码"),
    ("uscc_not_law_firm", "执业机构统一社会信用代码"),
    ("member_number", "会员证号"),
]


def _named(code, label):
    return pytest.param(code, label)


# formerly unnamed in their messages
ATTACHED_UNNAMED = [
    _named("licence_sex_mismatch", "律师执业证号"),
    _named("probation_overdue", "人员类别"),
    _named("two_secretaries", "党内职务"),
    _named("branch_min_members", "组织类别"),
    _named("term_overdue", "届满日期"),
    _named("term_long_overdue", "届满日期"),
    _named("committee_needed", "是否设支部委员会"),
    _named("committee_members", "委员人数"),
    _named("approval_age", "批准入会日期"),
    _named("firm_not_registered", "所在律师事务所"),  # 附件2 attaches it to 所在律师事务所
]


@pytest.mark.parametrize(("code", "label"), ATTACHED + ATTACHED_UNNAMED)
def test_message_names_the_field(code, label):
    names = {name for _, name, _, _ in string.Formatter().parse(MESSAGES[code]) if name}
    text = render(code, label, {n: "〇" for n in names if n != "label"})
    assert label in text, text
