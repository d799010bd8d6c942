"""Checking a batch of rows (services/checking.py) without and with a register."""

from __future__ import annotations

from desktop.progress import Progress, run
from desktop.services.intake.checking import check_rows
from desktop.services.intake.jsonl import read_rows
from desktop.storage import open_register
from tests.conftest import PASSPHRASE, TODAY, make_firm_records


def check(forms, form_id, path, **kw):
    return run(check_rows(forms, forms.form(form_id), read_rows(path), today=TODAY, **kw))


def triples(result):
    return {(f.field, f.severity, f.code) for f in result.findings}


def test_clean_batch(forms, firm_records, jsonl):
    results = check(forms, "lawyer_member", jsonl(firm_records.members))
    assert [r.no for r in results] == [1, 2, 3, 4]
    assert all(r.findings == [] for r in results)
    assert len({r.record_id for r in results}) == 4


def test_progress_is_yielded_and_the_result_returned(forms, firm_records, jsonl):
    task = check_rows(
        forms, forms.form("lawyer_member"), read_rows(jsonl(firm_records.members)), today=TODAY
    )
    steps = []
    while True:
        try:
            steps.append(next(task))
        except StopIteration as stop:
            results = stop.value
            break
    assert all(isinstance(s, Progress) for s in steps)
    assert steps and steps[-1].done == steps[-1].total > 0
    assert [s.done for s in steps] == sorted(s.done for s in steps)  # never goes back
    assert len(results) == 4


def test_same_id_number_twice_in_a_file(forms, firm_records, jsonl):
    first, second = firm_records.members[0], firm_records.members[1]
    twin = dict(
        second, 公民身份号码=first["公民身份号码"], 性别=first["性别"], 出生日期=first["出生日期"]
    )
    results = check(forms, "lawyer_member", jsonl([first, firm_records.members[2], twin]))
    assert triples(results[0]) == {("id_number", "E", "duplicate_in_file")}
    assert triples(results[1]) == set()
    assert ("id_number", "E", "duplicate_in_file") in triples(results[2])
    assert "第 3 行" in results[0].findings[0].message
    assert "第 1 行" in next(
        f.message for f in results[2].findings if f.code == "duplicate_in_file"
    )
    # the ID number is a hashed key: the message does not repeat it
    assert first["公民身份号码"] not in results[0].findings[0].message


def test_duplicates_are_found_after_normalising(forms, jsonl):
    # 11010519491231002X typed with a lower x, and as its 15-digit legacy form
    base = {"姓名": "张三", "公民身份号码": "11010519491231002X"}
    rows = [
        base,
        dict(base, 公民身份号码="11010519491231002x"),
        dict(base, 公民身份号码="110105491231002"),
    ]
    results = check(forms, "lawyer_member", jsonl(rows))
    for r in results:
        assert ("id_number", "E", "duplicate_in_file") in triples(r)


def test_same_licence_twice(forms, firm_records, jsonl):
    a, b = firm_records.members[0], firm_records.members[1]
    results = check(forms, "lawyer_member", jsonl([a, dict(b, 律师执业证号=a["律师执业证号"])]))
    found = [f for f in results[0].findings if f.code == "duplicate_in_file"]
    assert [(f.field, f.severity) for f in found] == [("licence", "E")]
    assert a["律师执业证号"] in found[0].message  # not hashed: shown


def test_legacy_15_digit_id_is_converted_with_information(forms, firm_records, jsonl):
    m = firm_records.members[0]
    legacy = m["公民身份号码"][:6] + m["公民身份号码"][8:17]
    assert len(legacy) == 15
    (result,) = check(forms, "lawyer_member", jsonl([dict(m, 公民身份号码=legacy)]))
    assert result.values["id_number"] == m["公民身份号码"]
    assert triples(result) == {("id_number", "I", "id_legacy15_converted")}
    assert m["公民身份号码"] in result.findings[0].message


def test_defaults_fill_missing_fields(forms, firm_records, jsonl):
    raw = {
        k: v
        for k, v in firm_records.members[0].items()
        if k not in ("证件类型", "执业类别", "党籍状态")
    }
    (result,) = check(forms, "lawyer_member", jsonl([raw]))
    assert result.findings == []
    assert (
        result.values["id_type"],
        result.values["practice_category"],
        result.values["party_status"],
    ) == ("1", "1", "1")


def test_unreadable_rows_pass_through(forms, firm_records, jsonl):
    results = check(forms, "lawyer_member", jsonl([firm_records.members[0], "{oops"]))
    assert results[1].values is None
    assert [(f.severity, f.code) for f in results[1].findings] == [("E", "json_invalid")]


def test_against_a_register(forms, firm_records, jsonl, db, dengji):
    members = jsonl(firm_records.members, "members.jsonl")
    assert dengji("import", "--db", db, "--form", "lawyer_member", members).code == 0
    with open_register(db, PASSPHRASE) as reg, reg.session() as session:
        results = check(forms, "lawyer_member", members, register=reg, session=session)
        new = check(
            forms,
            "lawyer_member",
            jsonl(make_firm_records(2026, 6).members[4:], "new.jsonl"),
            register=reg,
            session=session,
        )
    for r in results:
        assert {
            ("id_number", "E", "duplicate_in_register"),
            ("licence", "E", "duplicate_in_register"),
            ("firm", "E", "firm_not_registered"),
        } == triples(r)
        name = next(f for f in r.findings if f.field == "licence").message
        assert "附件1 律师党员基本信息登记表" in name
    assert all(triples(r) == {("firm", "E", "firm_not_registered")} for r in new)


def test_a_large_file_gives_the_same_findings_as_a_small_one(forms, tmp_path):
    """Files over a few MiB are checked on several processes; line numbers, unreadable lines
    and duplicates across the whole file must come out exactly as in one process."""
    from desktop.services.intake import checking
    from desktop.services.intake.jsonl import MAX_LINE_BYTES
    from desktop.services.intake.read import check_file
    from tests.conftest import write_jsonl

    members = make_firm_records(77, 2600).members
    rows: list = list(members)
    rows[10] = bad_mobile = dict(rows[10], 手机号码="123")
    first = rows[5]
    rows[2500] = twin = dict(
        rows[2500],
        公民身份号码=first["公民身份号码"],
        性别=first["性别"],
        出生日期=first["出生日期"],
    )
    oops, array = "{oops", "[1, 2]"
    long_line = '{"备注": "' + "x" * MAX_LINE_BYTES + '"}'
    rows.insert(700, oops)
    rows.insert(1300, "")
    rows.insert(1301, long_line)
    rows.insert(2000, array)
    path = write_jsonl(tmp_path / "big.jsonl", rows)
    assert path.stat().st_size >= getattr(checking, "PARALLEL_FROM_BYTES", 0)

    def line_of(item):
        return next(i for i, r in enumerate(rows, start=1) if r is item)

    def summary(results):
        return [
            (r.no, r.values, sorted((f.field, f.severity, f.code) for f in r.findings))
            for r in results
        ]

    whole = run(check_file(forms, forms.form("lawyer_member"), path, today=TODAY))
    one = check(forms, "lawyer_member", path)
    assert summary(whole) == summary(one)
    bad = {r.no: {f.code for f in r.findings} for r in whole if r.findings}
    assert "duplicate_in_file" in bad.pop(line_of(twin))  # (and a licence/sex warning)
    assert bad == {
        line_of(bad_mobile): {"mobile"},
        line_of(oops): {"json_invalid"},
        line_of(long_line): {"line_too_long"},
        line_of(array): {"json_not_object"},
        line_of(first): {"duplicate_in_file"},
    }
    assert len(whole) == 2600 + 3
