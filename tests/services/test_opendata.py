"""开放数据 (issue #17, 对接): services.opendata.export_open and the schema and dictionary it
writes, checked with a third-party validator (jsonschema's Draft202012Validator with format
checking), read back into a new register, and attacked: a non-empty folder, a failure half
way, a schema that would accept anything."""

from __future__ import annotations

import copy
import hashlib
import json
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from python_calamine import CalamineWorkbook
from sqlalchemy import select, update

from desktop.domain.rules import RULES
from desktop.domain.states import ACCEPTED, DRAFT, RETURNED
from desktop.errors import KnownError, UsageError
from desktop.formspec import FormSet, shipped_forms
from desktop.formspec.dictionary import RULE_TEXTS, field_lines
from desktop.formspec.jsonschema import (
    FORMAT,
    ID18,
    LICENCE,
    MOBILE,
    PHONE,
    USCC,
    form_schema,
    stored_values,
)
from desktop.progress import run
from desktop.services import opendata
from desktop.services import packages as svc
from desktop.services.intake.importing import import_file
from desktop.storage import AuditEntry, Record, UnitInfo
from tests.conftest import make_firm_records
from tests.exchange.conftest import CITY, World
from tests.services.conftest import stored_actor


@pytest.fixture(scope="module")
def forms() -> FormSet:
    return shipped_forms()


@pytest.fixture
def world(store_world: World) -> World:
    """Every test with registers runs on files and on PostgreSQL (tests/services/conftest.py)."""
    return store_world


@pytest.fixture
def file_world(tmp_path: Path, forms: FormSet):
    """Registers on files only, for the tests of what the export writes from the values it
    read (the schema, the labels, the dictionary) and of a folder refused before anything is
    read: the export's reads of the register and its audit run on both stores in the others."""
    w = World(tmp_path, forms)
    yield w
    for r in w.opened:
        r.close()


def validator(folder: Path, form) -> Draft202012Validator:
    schema = json.loads((folder / f"{form.id}-{form.version}.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def lines(folder: Path, form) -> list[dict]:
    text = (folder / f"{form.id}-{form.version}.jsonl").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines()]


def stored(register, form_id: str, states=None) -> list[dict]:
    """The stored values of a form's records (empty values left out), as sorted JSON texts."""
    with register.session() as session:
        q = select(Record.data, Record.state).where(Record.form_id == form_id)
        rows = session.execute(q).all()
    out = []
    for data, state in rows:
        if states is None or state in states:
            out.append(json.dumps({k: v for k, v in json.loads(data).items() if v is not None},
                                  ensure_ascii=False, sort_keys=True))
    return sorted(out)


def varied_firm(world: World):
    """A firm with members of every kind the forms allow: 预备党员, a flowing member with a
    region, a lost member with a year-month, a 未转入 member, a draft."""
    records = make_firm_records(seed=7, members=6, today=date.today(), full_only=False)
    m = records.members
    m[0].update({"是否流动党员": "是", "外出流向": "河北省-石家庄市-长安区", "是否失联党员": "是",
                 "失去联系日期": "2021-03"})
    m[1].update({"组织关系是否已转入本所党组织": "否", "未转入情形": "4",
                 "处理情况": "已书面报告上级党组织"})
    m[2].update({"证件类型": "护照", "公民身份号码": "E12345678", "备注": "含“引号”和 | 竖线"})
    records.refresh_org()
    unit = UnitInfo(records.firm.uscc, f"中共{records.firm.name}支部委员会", "firm", CITY.code)
    reg = world.register(unit)
    world.import_records(reg, m, records.org)
    return reg, records


def test_every_exported_record_validates_and_reads_back_into_a_new_register(
        world: World, forms: FormSet, tmp_path: Path) -> None:
    reg, records = varied_firm(world)
    with reg.session() as session:  # one member back to draft: it is no official record
        first = session.execute(select(Record.id).where(Record.form_id == "lawyer_member")
                                .order_by(Record.id).limit(1)).scalar_one()
        session.execute(update(Record).where(Record.id == first).values(state=DRAFT))
        session.commit()
    out = tmp_path / "开放数据"
    result = run(opendata.export_open(reg, forms, out, actor="测试"))
    assert result.counts == {"lawyer_member": 5, "staff_member": 0, "party_org": 1}

    official = {"lawyer_member": stored(reg, "lawyer_member", {s for s in (ACCEPTED, RETURNED)}
                                        | {"待提交", "已提交"}),
                "party_org": stored(reg, "party_org")}
    assert len(official["lawyer_member"]) == 5
    back = world.register(UnitInfo("31110000MD01234564", "新登记库", "firm", CITY.code))
    checked = 0
    for fid, want in official.items():
        form = forms.form(fid)
        check = validator(out, form)
        got = lines(out, form)
        assert len(got) == len(want)
        for line in got:
            errors = [e.message for e in check.iter_errors(line)]
            assert errors == [], (fid, errors)
            assert line["format"] == FORMAT and line["form"] == fid
            assert line["form_version"] == form.version
            assert set(line["data"]) == {f.id for f in form.fields}  # every field, null if empty
            checked += 1
        # the import reads the export's own file (open lines: services/intake/jsonl.py)
        imported = run(import_file(back, forms, form, out / f"{fid}-{form.version}.jsonl"))
        assert imported.refused == 0 and imported.imported == len(want)
        assert stored(back, fid) == want  # every field of every record, nothing lost
    assert checked == 6


def test_codes_come_with_their_labels_and_dates_are_iso(file_world: World, forms: FormSet,
                                                       tmp_path: Path) -> None:
    reg, _ = varied_firm(file_world)
    run(opendata.export_open(reg, forms, tmp_path / "out"))
    got = lines(tmp_path / "out", forms.form("lawyer_member"))
    flowing = next(x for x in got if x["data"]["destination"])
    assert [r["label"] for r in flowing["data"]["destination"]] == ["河北省", "石家庄市",
                                                                  "长安区（石家庄市）"]
    assert flowing["data"]["lost_date"] == "2021-03"
    assert flowing["data"]["sex"]["label"] in ("男", "女")
    assert flowing["state"] == {"code": "待提交", "label": "已完成（待上报）"}
    passport = next(x for x in got if x["data"]["id_type"]["code"] == "4")
    assert passport["data"]["id_number"] == "E12345678"  # no pattern for a 护照 number
    org = lines(tmp_path / "out", forms.form("party_org"))[0]
    firm = org["data"]["firms"][0]
    assert set(firm) == {"name", "uscc", "org_form"}  # every sub-field, null if empty
    assert firm["org_form"] is None or set(firm["org_form"]) == {"code", "label"}
    date.fromisoformat(org["data"]["term_start"])


def test_the_schema_refuses_what_the_register_refuses(file_world: World, forms: FormSet,
                                                      tmp_path: Path) -> None:
    reg, _ = varied_firm(file_world)
    run(opendata.export_open(reg, forms, tmp_path / "out"))
    form = forms.form("lawyer_member")
    check = validator(tmp_path / "out", form)
    good = next(x for x in lines(tmp_path / "out", form) if x["data"]["id_type"]["code"] == "1")
    assert check.is_valid(good)

    def bad(change) -> list[str]:
        line = copy.deepcopy(good)
        change(line["data"])
        return [e.message for e in check.iter_errors(line)]

    assert bad(lambda d: d["sex"].update(code="3", label="未知"))  # a code not in its table
    assert bad(lambda d: d["sex"].update(label="女" if d["sex"]["code"] == "1" else "男"))
    assert bad(lambda d: d.update(ethnicity={"code": "99", "label": "汉族"}))
    assert bad(lambda d: d.update(id_number="11010519491231002"))  # 17 characters
    assert bad(lambda d: d.update(mobile="12345678901"))
    assert bad(lambda d: d.update(licence="2" * 17))
    assert bad(lambda d: d.update(firm_uscc="31110000MD0123456I"))  # I is no USCC character
    assert bad(lambda d: d.update(name=None))  # required
    assert bad(lambda d: d.pop("name"))  # every field is present
    assert bad(lambda d: d.update(birth_date="1979-02-30"))  # format: date
    assert bad(lambda d: d.update(birth_date="1979-02"))  # 附件1 needs the full date
    assert bad(lambda d: d.update(join_date="2006/07/29"))
    assert bad(lambda d: d.update(name="张三3"))  # person_name
    assert bad(lambda d: d.update(unknown="x"))  # no field of the form
    assert bad(lambda d: d.update(lost_contact=True, lost_date=None))  # required_if
    assert bad(lambda d: d.update(flowing=True, destination=None))
    assert bad(lambda d: d.update(destination=[d["sex"]]))  # a region of another table
    assert bad(lambda d: d.update(transferred="否"))  # a bool is true or false
    line = copy.deepcopy(good)
    line["state"] = {"code": DRAFT, "label": DRAFT}
    assert not check.is_valid(line)  # a draft is never exported
    org = forms.form("party_org")
    org_check = validator(tmp_path / "out", org)
    org_line = lines(tmp_path / "out", org)[0]
    assert org_check.is_valid(org_line)
    org_line["data"]["lawyer_total"] = -1  # int_range
    assert not org_check.is_valid(org_line)
    org_line = lines(tmp_path / "out", org)[0]
    org_line["data"]["firms"] = []  # min_rows
    assert not org_check.is_valid(org_line)


def test_a_month_precision_date_is_a_year_month_in_the_society_schema(forms: FormSet) -> None:
    form = forms.form("society_member")
    birth = next(f for f in form.fields if f.type == "date" and f.precision == "month")
    schema = form_schema(form)
    check = Draft202012Validator(schema["properties"]["data"]["properties"][birth.id],
                                 format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert check.is_valid("1963-09") and check.is_valid("1963-09-12")
    assert not check.is_valid("1963-13") and not check.is_valid("1963-02-30")
    assert not check.is_valid("196309")


def test_reading_an_open_line_back_drops_nothing(forms: FormSet) -> None:
    """stored_values (what the import reads of an open line) keeps a key that is no field or
    sub-field, so the import names it instead of losing it."""
    form = forms.form("party_org")
    data = {"org_name": "中共某所支部", "org_category": {"code": "631", "label": "党支部"},
            "firms": [{"name": "某所", "uscc": "31110000MD01234564", "org_form": None,
                       "备注": "x"}, "not a row"],
            "old_field": 1, "remarks": None}
    assert stored_values(form, data) == {
        "org_name": "中共某所支部", "org_category": "631",
        "firms": [{"name": "某所", "uscc": "31110000MD01234564", "备注": "x"}, "not a row"],
        "old_field": 1}


def test_the_patterns_agree_with_the_register_checks() -> None:
    import re

    from desktop.domain import identifiers as ids

    samples = ["13912345678", "12912345678", "1391234567", "0311-85551234", "010-12345678-123",
               "0311-8555123", "311-85551234", "110105194912310021", "11010519491231002X",
               "1101051949123100", "31110000MD0123456X", "11301200411615011", "01301200411615011"]
    for s in samples:
        assert bool(re.fullmatch(MOBILE, s)) == ids.is_mobile(s)
        assert bool(re.fullmatch(PHONE, s)) == (ids.is_mobile(s) or ids.is_landline(s))
    assert re.fullmatch(ID18, "11010519491231002X") and not re.fullmatch(ID18, "1101051949123100x")
    assert re.fullmatch(LICENCE, "11301200411615011") and not re.fullmatch(LICENCE, "01301200411615011")
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for ch in map(chr, range(32, 127)):
        assert bool(re.fullmatch(USCC, ch * 18)) == (ch in alphabet), ch


def test_a_folder_that_is_not_empty_is_refused_and_nothing_is_written(
        file_world: World, forms: FormSet, tmp_path: Path) -> None:
    reg, _ = varied_firm(file_world)
    out = tmp_path / "out"
    out.mkdir()
    (out / "旧文件.txt").write_text("x", "utf-8")
    audit_before = _audit(reg)
    with pytest.raises(UsageError, match="不是空的"):
        run(opendata.export_open(reg, forms, out))
    assert [p.name for p in out.iterdir()] == ["旧文件.txt"]
    (tmp_path / "a-file").write_text("x", "utf-8")
    with pytest.raises(UsageError, match="同名文件"):
        run(opendata.export_open(reg, forms, tmp_path / "a-file"))
    assert _audit(reg) == audit_before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    empty = tmp_path / "empty"
    empty.mkdir()
    run(opendata.export_open(reg, forms, empty))  # an empty folder is fine
    assert (empty / "manifest.json").is_file()


def test_a_failure_half_way_leaves_no_export_and_no_audit_entry(
        world: World, forms: FormSet, tmp_path: Path, monkeypatch) -> None:
    reg, _ = varied_firm(world)
    audit_before = _audit(reg)

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(opendata, "write_dictionary", broken)
    with pytest.raises(KnownError, match="磁盘空间不足.*未作任何改动"):
        run(opendata.export_open(reg, forms, tmp_path / "out"))
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if ".part" in p.name] == []
    assert _audit(reg) == audit_before


def test_a_killed_export_leaves_a_part_folder_that_the_next_start_removes(
        world: World, forms: FormSet, tmp_path: Path) -> None:
    """The generator stopped half way (as a kill stops it) leaves no export; what a killed
    process leaves (its part folder, noted) is removed by paths.tidy."""
    import os
    import subprocess
    import sys

    from desktop.paths import private_dir, tidy

    reg, _ = varied_firm(world)
    task = opendata.export_open(reg, forms, tmp_path / "out")
    next(task)
    next(task)
    task.close()  # as a cancel does
    assert not (tmp_path / "out").exists()
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    # a dead process's note of its part folder (the pid of a process that has ended)
    part = tmp_path / ".out.deadbeef.part"
    part.mkdir()
    (part / "lawyer_member-2026.1.jsonl").write_text("{}\n", "utf-8")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    note = private_dir("parts") / f"{dead}-test"
    note.write_text(str(part), encoding="utf-8")
    assert part in tidy()
    assert not part.exists() and not os.path.exists(note)


_CHILD = """
import sys, time
from pathlib import Path
from desktop.formspec import shipped_forms
from desktop.progress import run
from desktop.services import opendata
from desktop.storage import open_register

def stop(*args, **kwargs):  # the data files are written: wait here for the kill
    print("ready", flush=True)
    time.sleep(600)

opendata.write_dictionary = stop
with open_register(sys.argv[1], sys.argv[2]) as reg:  # a file's path or a server's URL
    run(opendata.export_open(reg, shipped_forms(), Path(sys.argv[3])))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_half_way_leaves_no_export_and_the_next_start_tidies(
        world: World, forms: FormSet, tmp_path: Path) -> None:
    from desktop.paths import tidy
    from desktop.storage import open_register
    from tests.exchange.conftest import PASSPHRASE

    reg, _ = varied_firm(world)
    audit_before = len(_audit(reg))
    world.opened.remove(reg)
    reg.close()  # the child opens it, as a second `dengji export-open` would
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(reg.path), PASSPHRASE, str(out)],
                             stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    try:
        assert child.stdout.readline().strip() == "ready"
        parts = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
        assert len(parts) == 1 and any(parts[0].glob("*.jsonl"))  # half of a set, hidden
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    assert not out.exists()  # no half set under the folder's name
    with open_register(reg.path, PASSPHRASE) as again:  # (re-keyed on open: weak test KDF)
        assert "open.export" not in [a.action for a in _audit(again)[audit_before:]]
    removed = tidy()  # the next start
    assert parts[0] in removed and not parts[0].exists()


def test_the_manifest_lists_every_file_with_its_hash_and_the_export_is_audited(
        world: World, forms: FormSet, tmp_path: Path) -> None:
    reg, _ = varied_firm(world)
    out = tmp_path / "out"
    result = run(opendata.export_open(reg, forms, out, actor="张经办"))
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    names = sorted(p.name for p in out.iterdir() if p.name != "manifest.json")
    assert sorted(manifest["files"]) == names == sorted(result.files)
    for name, entry in manifest["files"].items():
        data = (out / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    assert manifest["format"] == FORMAT and manifest["full_values"] is True
    assert {f["form"]: f["records"] for f in manifest["forms"]} == result.counts
    entry = _audit(reg)[-1]
    assert (entry.action, entry.actor) == ("open.export", stored_actor(reg, "张经办"))
    detail = json.loads(entry.detail)
    assert detail["records"] == result.counts and detail["full"] is True
    assert detail["files"] == {n: e["sha256"] for n, e in manifest["files"].items()}


def test_the_dictionary_lists_every_field_code_and_rule_with_its_source(
        file_world: World, forms: FormSet, tmp_path: Path) -> None:
    reg, _ = varied_firm(file_world)
    out = tmp_path / "out"
    run(opendata.export_open(reg, forms, out))
    book = CalamineWorkbook.from_path(str(out / "数据字典.xlsx"))
    sheets = {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
    md = (out / "数据字典.md").read_text("utf-8")
    for form in (forms.form("lawyer_member"), forms.form("party_org")):
        rows = sheets[form.attachment]
        ids = {str(r[1]) for r in rows}
        for line in field_lines(form):
            assert line.id in ids and f"| {line.id} |" in md
        sex = next(r for r in rows if r[1] == "sex") if form.id == "lawyer_member" else None
        if sex:
            assert "性别（sex）" in sex[9]
    ethnicity = next(r for r in sheets["附件1"] if r[1] == "ethnicity")
    assert forms.tables["ethnicity"].source in ethnicity[11]  # a code table is its own source
    licence = next(r for r in sheets["附件1"] if r[1] == "licence")
    assert "执业证号编制办法" in licence[11] and "17 位数字" in licence[10]
    codes = {(str(r[0]), str(r[3])) for r in sheets["代码表"][1:]}
    for table in ("sex", "ethnicity", "regions", "org_category"):
        assert all((table, c.code) in codes for c in forms.tables[table].codes)


def test_every_rule_has_a_description_and_a_source() -> None:
    assert sorted(set(RULES) - set(RULE_TEXTS)) == []
    assert sorted(set(RULE_TEXTS) - set(RULES)) == []
    assert all(text and source for text, source in RULE_TEXTS.values())


def test_a_city_exports_what_it_accepted_and_its_own_records(
        world: World, forms: FormSet, tmp_path: Path) -> None:
    city = world.register(CITY, "city.dengji")
    firms = [world.firm(seed=s, parent=city) for s in (61, 62)]
    sent = [world.export(f.register) for f in firms]
    for s in sent:
        (tmp_path / s.path.name).write_bytes(s.path.read_bytes())
    world.merge(city, *(tmp_path / s.path.name for s in sent))
    svc.accept_package(city, sent[0].package_id)  # the second firm's is not accepted
    out = tmp_path / "city-out"
    result = run(opendata.export_open(city, forms, out))
    assert result.counts == {"lawyer_member": 4, "staff_member": 0, "party_org": 1}
    assert run(opendata.open_counts(city, forms)) == result.counts  # what the window says
    got = lines(out, forms.form("lawyer_member"))
    assert {x["unit"]["code"] for x in got} == {sent[0].path.name.split("-")[0]}
    assert {x["state"]["code"] for x in got} == {ACCEPTED}
    check = validator(out, forms.form("lawyer_member"))
    assert all(check.is_valid(x) for x in got)


def _audit(register) -> list:
    with register.session() as session:
        return list(session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())
