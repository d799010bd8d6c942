"""The unit code fits the unit's level (issue 16): a law firm's party organisation by its firm's
统一社会信用代码 (check character included), a city or province committee by its GB/T 2260 code,
a law society by the 区号 prefix of its member numbers. One domain function decides; `dengji
init` and the first-run dialog refuse a wrong code with the reason, in Chinese."""

from __future__ import annotations

import pytest

from desktop.domain.levels import LEVELS
from desktop.domain.units import CODE_HINTS, unit_code_problem
from desktop.formspec import shipped_forms
from tests.conftest import has_cjk

TABLES = shipped_forms().tables
GOOD = {
    "firm": ["311301028813998665", "31110000MD01234564", " 311301028813998665 "],
    "city": ["320100", "110100"],
    "province": ["320000", "110000"],
    "society-county": ["024-01", "0312-01"],
    "society-city": ["0024", "0312", "00311"],
    "society-province": ["024", "0311"],
    "national": ["全国", "000000"],
}
BAD = {
    "firm": [("31110000MD0123456X", "校验位"), ("3111000MD0123456", "18 位"),
             ("91110108MA01C2DE3R", "31"), ("31110000MD012345I4", "字母")],
    "city": [("320000", "江苏省"), ("32010", "6 位"), ("999900", "不是现行"),
             ("11110000CITY00001X", "6 位")],
    "province": [("320100", "南京市"), ("BENCH", "6 位")],
    "society-county": [("0024", "县（区）"), ("SYFXH-0024", "区号前缀")],
    "society-city": [("024", "省法学会"), ("024-01", "县（区）"), ("SYFXH-0024", "区号前缀")],
    "society-province": [("0024", "与本单位的层级不符"), ("0312-01", "县（区）")],
}


@pytest.mark.parametrize(("level", "code"), [(lv, c) for lv, cs in GOOD.items() for c in cs])
def test_a_fitting_code_is_taken(level, code):
    assert unit_code_problem(level, code, TABLES) is None


@pytest.mark.parametrize(("level", "code", "why"),
                         [(lv, c, w) for lv, cs in BAD.items() for c, w in cs])
def test_a_wrong_code_is_refused_with_the_reason(level, code, why):
    problem = unit_code_problem(level, code, TABLES)
    assert problem is not None and why in problem and has_cjk(problem)
    assert "{" not in problem and "None" not in problem


@pytest.mark.parametrize("level", LEVELS)
def test_an_empty_code_is_refused_at_every_level_and_each_level_has_a_hint(level):
    assert unit_code_problem(level, "  ", TABLES) == "单位代码不能为空"
    assert has_cjk(CODE_HINTS[level])


def test_without_the_tables_only_the_form_is_checked():
    assert unit_code_problem("city", "999900", {}) is None
    assert unit_code_problem("city", "9999", {}) is not None


def test_dengji_init_refuses_a_wrong_code(dengji, tmp_path):
    path = tmp_path / "x.dengji"
    result = dengji("init", "--db", path, "--level", "firm", "--unit-name", "某律师事务所党支部",
                    "--unit-code", "31110000MD0123456X")
    assert result.code == 1 and "校验位" in result.err and "Traceback" not in result.err
    assert not path.exists()
    result = dengji("init", "--db", path, "--level", "city", "--unit-name", "某市律师行业党委",
                    "--unit-code", "320000")
    assert result.code == 1 and "江苏省" in result.err
    assert dengji("init", "--db", path, "--level", "city", "--unit-name", "某市律师行业党委",
                  "--unit-code", "320100").code == 0
