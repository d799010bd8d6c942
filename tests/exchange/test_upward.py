"""Upward: a city sends its firms' accepted records with their original packages under inner/;
the province checks the city's signature, every firm's signature inside, and that each record
is exactly what its firm signed; the national level does the same one level higher."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from desktop.exchange.format.manifest import PLAIN_RECORDS, parse_manifest
from desktop.exchange.format.records import digest
from desktop.exchange.format.writer import jsonl
from desktop.services import packages as svc
from desktop.storage import Record, Unit, UnitInfo
from desktop.storage.tables import Package
from tests.exchange.conftest import CITY, PROVINCE, World, counts, resign, unzip
from tests.exchange.formats import data_lines, open_members, reseal

#: on both stores (tests/exchange/conftest.py): what reads or writes sealed columns
BOTH_STORES = {"test_the_law_society_chain"}  # the party chain: test_merge_server.py


NATION = UnitInfo("100000NATION", "全国律师行业党委（测试）", "national")


@pytest.fixture
def chain(world: World):
    """Two firms merged and accepted by a city linked to a province."""
    city = world.register(CITY, "city.dengji")
    province = world.register(PROVINCE, "province.dengji")
    world.link(city, province)
    firms = [world.firm(seed=s, parent=city) for s in (51, 52)]
    sent = [world.export(f.register) for f in firms]
    assert [r.status for r in world.merge(city, *(s.path for s in sent))] == ["merged"] * 2
    for s in sent[:1]:
        svc.accept_package(city, s.package_id)
    return world, city, province, firms, sent


def test_only_accepted_records_go_up_with_their_original_packages(chain) -> None:
    world, city, province, firms, sent = chain
    up = world.export(city)
    assert up.records == 5 and up.inner == 1  # the second firm's package is not accepted yet
    parts = open_members(up.path.read_bytes(), city)  # inside the encrypted payload
    [inner_name] = [n for n in parts if n.startswith("inner/")]
    assert parts[inner_name] == sent[0].path.read_bytes()  # unchanged, byte for byte
    m = parse_manifest(parts["manifest.json"])
    assert m.inner[0].package_id == sent[0].package_id
    assert m.inner[0].fingerprint == svc.own_public_key(firms[0].register).fingerprint
    assert {u.code for u in m.units} == {CITY.code, sent[0].path.name.split("-")[0]}


def test_the_province_checks_every_signature_and_merges(chain) -> None:
    world, city, province, firms, sent = chain
    svc.accept_package(city, sent[1].package_id)
    up = world.export(city)
    v = svc.verify_file(up.path, world.forms, province)
    assert v.ok, v.reason()
    assert ("内含数据包", True) in [(c.name, c.ok) for c in v.checks]
    [report] = world.merge(province, up.path)
    assert report.status == "merged" and report.outcome.records == 10
    with province.session() as session:
        units = {u.code: u for u in session.execute(select(Unit)).scalars()}
        rows = session.execute(select(Record.unit_id, Record.state, Record.package_id)).all()
    firm_codes = {s.path.name.split("-")[0] for s in sent}
    assert firm_codes < set(units) and CITY.code in units
    assert all(units[c].parent_code == CITY.code and units[c].level == "firm" for c in firm_codes)
    # records sit under their firms, keep the city's 已接收, and came in the city's package
    assert {units_id for units_id, _, _ in rows} == {units[c].id for c in firm_codes}
    assert {(state, pid) for _, state, pid in rows} == {("已接收", up.package_id)}
    [row] = svc.dashboard(province)
    assert (row.code, row.records, row.status) == (CITY.code, 10, "已收到（待审核）")


def test_three_levels_up(chain) -> None:
    world, city, province, firms, sent = chain
    nation = world.register(NATION, "nation.dengji")
    world.link(province, nation)
    up = world.export(city)
    world.merge(province, up.path)
    svc.accept_package(province, up.package_id)
    top = world.export(province)
    assert top.inner == 1 and top.records == 5
    v = svc.verify_file(top.path, world.forms, nation)
    assert v.ok, v.reason()
    [report] = world.merge(nation, top.path)
    assert report.status == "merged" and report.outcome.records == 5
    with nation.session() as session:
        [stored] = session.execute(select(Package.content).where(
            Package.id == top.package_id)).scalars().all()
    assert stored == top.path.read_bytes()


def _decrypted_lines(data: bytes, register) -> tuple[dict, list[dict]]:
    return json.loads(unzip(data)["manifest.json"]), data_lines(data, register)


def test_a_city_that_alters_a_firm_record_is_caught(chain) -> None:
    """The city changes a member's name, recomputes the digest and signs with its own (trusted)
    key: the record no longer matches what the firm signed inside."""
    world, city, province, firms, sent = chain
    up = world.export(city)
    manifest, lines = _decrypted_lines(up.path.read_bytes(), city)
    victim = next(line for line in lines if line["form_id"] == "lawyer_member")
    old = digest(victim["id"], victim["form_id"], victim["form_version"], victim["revision"],
                 victim["values"])
    victim["values"]["name"] = "王冒名"
    new = digest(victim["id"], victim["form_id"], victim["form_version"], victim["revision"],
                 victim["values"])
    def change(m: dict) -> None:
        m["record_digests"] = sorted(set(m["record_digests"]) - {old} | {new})

    forged = resign(up.path.read_bytes(), city, change, members={PLAIN_RECORDS: jsonl(lines)})
    path = world.folder / "forged.djpkg"
    path.write_bytes(forged)
    before = counts(province)
    [report] = world.merge(province, path)
    assert report.status == "refused"
    assert "与来源数据包中签名的内容不符" in report.reason
    assert counts(province) == before


def test_a_tampered_inner_package_is_caught(chain) -> None:
    world, city, province, firms, sent = chain
    up = world.export(city).path.read_bytes()
    parts = open_members(up, city)
    [name] = [n for n in parts if n.startswith("inner/")]
    # the city, a recipient of the firm's package, changes its audit log (it cannot sign as
    # the firm: the firm's manifest and signature stay)
    inner = reseal(parts[name], city, members={"audit/audit.jsonl": b'{"nothing": 1}\n'},
                   sign=False)
    forged = resign(up, city, members={name: inner})
    path = world.folder / "forged.djpkg"
    path.write_bytes(forged)
    before = counts(province)
    [report] = world.merge(province, path)
    assert report.status == "refused" and "内含数据包" in report.reason
    assert "哈希不符" in report.reason
    assert counts(province) == before


def test_an_inner_package_by_another_signer_is_caught(chain, world: World) -> None:
    """The city swaps in a package signed by a key other than the firm's it had trusted."""
    _, city, province, firms, sent = chain
    up = world.export(city).path.read_bytes()
    parts = open_members(up, city)
    [name] = [n for n in parts if n.startswith("inner/")]
    other = world.register(UnitInfo("ZZ", "冒充的律所", "firm"))
    forged_inner = resign(parts[name], other)
    forged = resign(up, city, members={name: forged_inner})
    path = world.folder / "forged.djpkg"
    path.write_bytes(forged)
    [report] = world.merge(province, path)
    assert report.status == "refused" and "与应有的" in report.reason


def test_the_law_society_chain(world: World) -> None:
    from stdnum.cn import ric

    county = world.register(UnitInfo("SC-130102", "长安区法学会", "society-county", "SC-1301"))
    society_city = world.register(UnitInfo("SC-1301", "石家庄市法学会", "society-city"))
    world.link(county, society_city)
    members = []
    for i in range(3):
        body = f"130102198003{15 + i:02d}01{i}"
        members.append({"会员证号": f"0311-00012{i}", "发证法学会": "石家庄市法学会",
                        "批准入会日期": "2015-05-01", "姓名": f"李明{'一二三'[i]}",
                        "性别": "男" if i % 2 else "女", "出生日期": f"1980-03-{15 + i:02d}",
                        "民族": "汉族", "公民身份号码": body + ric.calc_check_digit(body + "0"),
                        "政治面貌": "中共党员", "学历": "大学本科毕业", "学位": "法学学士学位",
                        "所学专业是否法学": "是", "工作单位": "河北某大学法学院",
                        "手机": f"1391234567{i}", "通讯地址": "石家庄市长安区中山东路100号",
                        "最近联系日期": "2025-06-01", "会员状态": "在册"})
    path = world.folder / "society.jsonl"
    path.write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in members), "utf-8")
    from desktop.progress import run
    from desktop.services.intake.importing import import_file

    result = run(import_file(county, world.forms, world.forms.form("society_member"), path))
    assert result.imported == 3, [r.findings for r in result.rows]
    sent = world.export(county)
    assert "-society-" in sent.path.name and sent.path.name.startswith("SC-130102-society-")
    [report] = world.merge(society_city, sent.path)
    assert report.status == "merged" and report.outcome.records == 3


def test_the_province_merges_a_city_package_prepared_in_a_worker(chain) -> None:
    """Prepared in a worker process, the manifests travel back without their digests; the
    records still arrive under their firms, as in process."""
    from desktop.progress import run

    world, city, province, firms, sent = chain
    svc.accept_package(city, sent[1].package_id)
    up = world.export(city)
    [report] = run(svc.merge_packages(province, world.forms, [up.path], parallel=True))
    assert report.status == "merged", report.reason
    assert report.outcome.records == up.records
    with province.session() as session:
        codes = set(session.execute(select(Unit.code).join(Record, Record.unit_id == Unit.id))
                    .scalars())
    assert codes == {s.path.name.split("-")[0] for s in sent}
