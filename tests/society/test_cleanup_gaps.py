"""并入会员证号 on a removed duplicate, and a malformed legacy 会员证号: a warning on import, an
error for a number the clerk types."""

from __future__ import annotations

from datetime import date

from desktop.domain.context import Environment
from desktop.domain.validation import Validator
from desktop.formspec import shipped_forms
from tests.society.conftest import by_no, entry, fill, ident


def test_a_removed_duplicate_names_the_kept_member_number(dengji, sdb, load, tmp_path):
    idn = ident("1970-03-05")
    load([entry("0024-000001", "王建国", idn=idn, 手机="13900000001"),
          entry("0024-000002", "王建国", idn=idn)])
    out = tmp_path / "p.xlsx"
    assert dengji("cleanup", "propose", "--db", sdb, "--out", out).code == 0
    filled = fill(out, tmp_path / "f.xlsx", agree={"重复录入": "all"})
    result = dengji("cleanup", "apply", "--db", sdb, filled, "--handler", "清理员")
    assert result.code == 0, result.out + result.err
    removed, kept = by_no(sdb)["0024-000002"][0], by_no(sdb)["0024-000001"][0]
    assert removed["status"] == "2" and removed["merged_into"] == "0024-000001"
    assert "merged_into" not in kept


def test_merged_into_is_a_field_of_the_form():
    form = shipped_forms().form("society_member")
    spec = form.field("merged_into")
    assert spec.label == "并入会员证号" and spec.section == "cleanup" and not spec.required


def _member_no_findings(convert_legacy: bool) -> list:
    form = shipped_forms().form("society_member")
    validator = Validator(form, Environment(today=date(2026, 1, 1),
                                            convert_legacy=convert_legacy))
    values = {"member_no": "24-12", "name": "钱旧号"}
    return [f for f in validator.check_local(values) if f.field == "member_no"]


def test_a_malformed_legacy_number_is_a_warning_on_import():
    [finding] = _member_no_findings(True)
    assert (finding.severity, finding.code) == ("W", "member_number")


def test_a_malformed_number_typed_by_the_clerk_is_an_error():
    [finding] = _member_no_findings(False)
    assert (finding.severity, finding.code) == ("E", "member_number")


def test_a_register_with_a_malformed_old_number_is_imported(dengji, sdb, load):
    load([entry("24-12", "钱旧号", idn=ident("1960-12-12", 19)),
          entry("0024-000001", "王建国", idn=ident("1970-03-05"))])
    assert set(by_no(sdb)) == {"24-12", "0024-000001"}
    result = dengji("members", "check", "--db", sdb)
    assert result.code == 1 and "24-12" in result.out  # still listed for the clerk
