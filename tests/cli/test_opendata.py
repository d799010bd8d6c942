"""`dengji export-open` and `dengji schema` as a clerk and a receiving system use them: export,
check every line with a third-party validator (jsonschema), load it into a new register with
`dengji import`, and the refusals (a folder that is not empty, an unknown form)."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator

from desktop.formspec.jsonschema import form_schema
from tests.conftest import (
    UNIT_CODE,
    UNIT_NAME,
    assert_no_crash,
    count_records,
    stored_data,
    write_jsonl,
)


def _filled(dengji, db, tmp_path: Path, records) -> None:
    for form, rows in (("lawyer_member", records.members), ("party_org", [records.org])):
        result = dengji("import", "--db", db, "--form", form,
                        write_jsonl(tmp_path / f"in-{form}.jsonl", rows))
        assert result.code == 0, result.err


def _flat(rows: list[dict]) -> list[str]:
    return sorted(json.dumps({k: v for k, v in r.items() if v is not None}, ensure_ascii=False,
                             sort_keys=True) for r in rows)


def test_export_validate_and_import_into_a_new_register(dengji, db, another_store, tmp_path, forms,
                                                        live_firm_records):
    _filled(dengji, db, tmp_path, live_firm_records)
    out = tmp_path / "开放数据"
    result = dengji("export-open", "--db", db, "--out", out)
    assert result.code == 0, result.err
    assert "已导出开放数据：5 条记录" in result.err and "完整号码" in result.err
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert {f["form"]: f["records"] for f in manifest["forms"]} == {
        "lawyer_member": 4, "staff_member": 0, "party_org": 1}

    other = another_store("national.dengji")
    made = dengji("init", "--db", other, "--level", "firm", "--unit-name", UNIT_NAME,
                  "--unit-code", UNIT_CODE)
    assert made.code == 0, made.err
    for entry in manifest["forms"]:
        form = forms.form(entry["form"])
        schema = json.loads((out / entry["schema"]).read_text("utf-8"))
        printed = dengji("schema", "--form", form.id)
        assert printed.code == 0 and printed.json() == schema == json.loads(
            json.dumps(form_schema(form)))
        check = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        got = [json.loads(x) for x in (out / entry["data"]).read_text("utf-8").splitlines()]
        assert len(got) == entry["records"]
        for line in got:
            assert [e.message for e in check.iter_errors(line)] == []
        if not got:
            continue
        # the export's own file, as it is: `dengji import` reads open data lines
        back = dengji("import", "--db", other, "--form", form.id, out / entry["data"])
        assert back.code == 0, back.err
        assert _flat(stored_data(other, form.id)) == _flat(stored_data(db, form.id))


def test_an_open_data_file_of_another_form_is_refused_by_import(dengji, db, another_store, tmp_path,
                                                                forms, live_firm_records):
    _filled(dengji, db, tmp_path, live_firm_records)
    out = tmp_path / "out"
    assert dengji("export-open", "--db", db, "--out", out).code == 0
    form = forms.form("lawyer_member")
    data = out / f"{form.id}-{form.version}.jsonl"
    other = another_store("other.dengji")
    assert dengji("init", "--db", other, "--level", "firm", "--unit-name", UNIT_NAME,
                  "--unit-code", UNIT_CODE).code == 0
    wrong = dengji("import", "--db", other, "--form", "party_org", "--format", "json", data)
    assert_no_crash(wrong)
    assert wrong.code == 1 and count_records(other) == 0
    assert {d["code"] for d in wrong.json()} == {"open_other_form"}
    assert "lawyer_member" in wrong.json()[0]["message"]
    # a line whose data names a field the form does not have is no silent loss
    line = json.loads(data.read_text("utf-8").splitlines()[0])
    line["data"]["旧栏目"] = "x"
    bad = dengji("import", "--db", other, "--form", form.id, "--format", "json",
                 write_jsonl(tmp_path / "extra.jsonl", [line]))
    assert bad.code == 1 and count_records(other) == 0
    assert ("unknown_field", "E") in {(d["code"], d["severity"]) for d in bad.json()}


def test_a_folder_that_is_not_empty_is_refused_before_the_passphrase(dengji, db, tmp_path,
                                                                    monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "上次导出.jsonl").write_text("{}\n", "utf-8")
    monkeypatch.delenv("DENGJI_PASSPHRASE")  # asked for later would fail differently
    result = dengji("export-open", "--db", db, "--out", out)
    assert_no_crash(result)
    assert result.code == 2 and "不是空的" in result.err and "未导出任何文件" in result.err
    assert [p.name for p in out.iterdir()] == ["上次导出.jsonl"]


def test_an_export_is_audited_and_the_register_is_otherwise_unchanged(dengji, db, tmp_path,
                                                                      live_firm_records):
    _filled(dengji, db, tmp_path, live_firm_records)
    before = count_records(db)
    assert dengji("export-open", "--db", db, "--out", tmp_path / "a").code == 0
    assert dengji("audit", "--db", db).code == 0  # the chain holds with the new entry
    assert count_records(db) == before
    again = dengji("export-open", "--db", db, "--out", tmp_path / "a")
    assert again.code == 2 and "不是空的" in again.err


def test_schema_of_an_unknown_form_is_a_usage_error(dengji):
    result = dengji("schema", "--form", "no_such_form")
    assert_no_crash(result)
    assert result.code == 2 and result.out == ""


def test_schema_is_utf8_json_whatever_the_output_encoding(tmp_path):
    """Printed as UTF-8 bytes even where Python would write the console's code page (here an
    ASCII one, which could not hold a single label)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONIOENCODING="ascii", DENGJI_HOME=str(tmp_path / "home"))
    done = subprocess.run([sys.executable, "-m", "desktop", "schema", "--form", "party_org"],
                          capture_output=True, env=env, cwd=Path(__file__).parents[2],
                          timeout=120)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    schema = json.loads(done.stdout.decode("utf-8"))
    assert schema["properties"]["data"]["properties"]["org_name"]["title"] == "党组织名称（全称）"
    codes = schema["$defs"]["code.org_category"]["anyOf"]
    assert {"code": "631", "label": "党支部"} in [
        {"code": c["properties"]["code"]["const"], "label": c["properties"]["label"]["const"]}
        for c in codes]


def test_a_law_society_register_of_legacy_members_exports_valid_open_data(dengji, place, tmp_path,
                                                                         forms):
    """Legacy entries (出生年月 known to the month only, 15-digit numbers converted, entries
    without an ID number, copies of the same person) all validate against the schema."""
    from tests.society.legacy import legacy_rows

    sdb = place
    assert dengji("init", "--db", sdb, "--level", "society-city", "--unit-name", "沈阳市法学会",
                  "--unit-code", "0024").code == 0
    rows, _truth = legacy_rows(120, seed=17)
    for row in rows[::7]:  # some 出生年月 as a legacy register writes them
        birth = row.get("出生日期") or ""
        if len(birth) == 10:
            row["出生日期"] = f"{birth[:4]}年{int(birth[5:7])}月"
    src = write_jsonl(tmp_path / "legacy.jsonl", rows)
    imported = dengji("import", "--db", sdb, "--form", "society_member", "--partial", src)
    assert "已导入" in imported.err
    out = tmp_path / "out"
    assert dengji("export-open", "--db", sdb, "--out", out).code == 0
    form = forms.form("society_member")
    schema = json.loads((out / f"{form.id}-{form.version}.schema.json").read_text("utf-8"))
    check = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    got = [json.loads(x) for x in
           (out / f"{form.id}-{form.version}.jsonl").read_text("utf-8").splitlines()]
    assert len(got) == count_records(sdb, "society_member") > 100
    for line in got:
        assert [e.message for e in check.iter_errors(line)] == []
    birth = next(f.id for f in form.fields if f.type == "date" and f.precision == "month")
    assert any(len(x["data"][birth] or "") == 7 for x in got)  # a year-month went out as such
