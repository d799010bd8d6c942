"""Spot checks (抽查核验, issue 17) through the services, as a clerk above the firm does them:
draw a sample of the accepted records, fill the verification workbook as a verifier would
(cells written with openpyxl into the produced file), record it, report per unit. Each bad
workbook is refused whole with a finding on its cell."""

from __future__ import annotations

import io
import shutil
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from desktop.domain.spotcheck import draw
from desktop.errors import KnownError, UsageError
from desktop.progress import run
from desktop.reports.xlsx.spotcheck import IDENTITY, NOTE, RECORD, RESULT, VERIFIED_ON, VERIFIER
from desktop.services import packages as svc
from desktop.services.spotcheck import (
    draw_sample,
    record_results,
    spot_report,
    write_report,
)
from desktop.services.spotcheck.sample import population
from desktop.storage import AuditEntry, Register, open_register, verify_audit_chain
from desktop.storage.tables import SpotItem
from tests.exchange import conftest as exchange_fixtures
from tests.exchange.conftest import CITY, FAST_KDF, PASSPHRASE, PROVINCE, World
from tests.pg.cluster import pg_cluster  # noqa: F401 (the fixture)
from tests.services.conftest import STORES, create_database, drop_databases

TODAY = date.today()
world = exchange_fixtures.world  # the fixture, shared with tests/exchange


def accept_firms(w: World, reg, firms) -> tuple[list, list]:
    """Firms of (seed, members) under `reg`, each package exported, merged and accepted."""
    made = [w.firm(seed=seed, members=members, parent=reg) for seed, members in firms]
    sent = [w.export(f.register) for f in made]
    w.merge(reg, *(s.path for s in sent))
    for s in sent:
        svc.accept_package(reg, s.package_id)
    return made, sent


#: tests whose every case reads the register as one case of another test does on both stores:
#: a bad cell of the workbook (the sample's rows are read as by the other refusals) and a bad
#: request (refused before the register is read) run on the file only, for the suite's time
FILE_ONLY = {"test_a_bad_row_refuses_the_whole_workbook": ["sqlite"],
             "test_a_bad_request_is_refused": ["sqlite"]}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The tests of a city's register run on a file and on PostgreSQL (`city`, indirect);
    tests/exchange/test_merge_server.py imports `base` and `city` and gets the file's."""
    if "city" in metafunc.fixturenames:
        metafunc.parametrize("city", FILE_ONLY.get(metafunc.function.__name__, STORES),
                             indirect=True)


def built_city(w: World) -> tuple[Register, dict]:
    """A city that accepted the packages of three firms (3, 6 and 9 members + their 附件3),
    and per firm code: (its 附件3 row, its signing key's fingerprint). Every register closed."""
    reg = w.register(CITY, "city.dengji")
    firms, sent = accept_firms(w, reg, ((71, 3), (72, 6), (73, 9)))
    known = {s.path.name.split("-")[0]: (f.org, svc.own_public_key(f.register).fingerprint)
             for s, f in zip(sent, firms, strict=True)}
    for r in w.opened:
        r.close()
    return reg, known


@pytest.fixture(scope="module")
def base(tmp_path_factory, forms):
    """The city (built_city) made once on a file; each test works on a copy of its register.
    The city register's path and what is known of the firms."""
    reg, known = built_city(World(tmp_path_factory.mktemp("spotcheck"), forms))
    return reg.path, known


@pytest.fixture(scope="module")
def server_base(tmp_path_factory, forms, pg_cluster):  # noqa: F811 (the fixture)
    """The city (built_city) made once in a PostgreSQL database (the firms on files); each
    test works on a copy of that database. Its name, and what is known of the firms."""
    made: list[str] = []
    w = World(tmp_path_factory.mktemp("spotcheck-pg"), forms,
              server=lambda: create_database(pg_cluster, made))
    try:
        reg, known = built_city(w)
        yield reg.path.name, known
    finally:
        drop_databases(pg_cluster, made)


@pytest.fixture
def city(request: pytest.FixtureRequest, world: World, tmp_path: Path):
    """A copy of the city's register; with the parameter "postgresql", a copy of the server's
    database and every register the test makes above the firms on the server too."""
    if getattr(request, "param", "sqlite") == "sqlite":
        path, known = request.getfixturevalue("base")
        where = tmp_path / "city.dengji"
        shutil.copy(path, where)
    else:
        template, known = request.getfixturevalue("server_base")
        world.server = request.getfixturevalue("new_database")
        where = world.server(template)
    reg = open_register(where, PASSPHRASE, kdf=FAST_KDF)
    world.opened.append(reg)
    return world, reg, known


def sheet_rows(path: Path) -> dict[str, list[tuple[int, dict[str, object]]]]:
    """Each record sheet's data rows as {column title: value}, with their Excel row number."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        if ws.title in ("说明", IDENTITY):
            continue
        header = [c.value for c in ws[3]]
        out[ws.title] = [(r, dict(zip(header, (c.value for c in ws[r]), strict=False)))
                         for r in range(4, ws.max_row + 1)]
    return out


def fill(path: Path, out: Path, verdict=None, when: object = None) -> Path:
    """Fill every row as a verifier would: 属实 unless `verdict(row)` says (result, note),
    checked today unless `when` says otherwise."""
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        if ws.title in ("说明", IDENTITY):
            continue
        header = [c.value for c in ws[3]]
        col = {t: header.index(t) + 1 for t in (RESULT, NOTE, VERIFIER, VERIFIED_ON, RECORD)}
        for r in range(4, ws.max_row + 1):
            values = {t: ws.cell(r, c).value for t, c in col.items()}
            result, note = verdict(values) if verdict else ("属实", None)
            if result is None:
                continue
            ws.cell(r, col[RESULT]).value = result
            ws.cell(r, col[NOTE]).value = note
            ws.cell(r, col[VERIFIER]).value = "张核验"
            ws.cell(r, col[VERIFIED_ON]).value = TODAY if when is None else when
    wb.save(out)
    return out


def test_a_sample_is_stratified_reproducible_and_recorded(city, tmp_path: Path) -> None:
    world, reg, known = city
    out = tmp_path / "抽查表.xlsx"
    drawn = run(draw_sample(reg, world.forms, out, rate="10%", seed="SEED-2026", actor="李抽查"))
    # 21 accepted records (3+6+9 members, 3 附件3) → ceil(2.1) = 3, one per firm
    assert (drawn.population, drawn.units, drawn.size) == (21, 3, 3)
    with reg.session() as session:
        items = session.execute(select(SpotItem)).scalars().all()
        people = population(session.connection())
    assert len({i.unit_code for i in items}) == 3
    assert sorted(i.record_id for i in items) == sorted(draw("SEED-2026", people, 3))
    # the same seed and records give the same sample; another seed (almost surely) another
    again = run(draw_sample(reg, world.forms, tmp_path / "again.xlsx", size=3, seed="SEED-2026"))
    with reg.session() as session:
        def ids(sample_id):
            return sorted(session.execute(select(SpotItem.record_id).where(
                SpotItem.sample_id == sample_id)).scalars())
        assert ids(again.sample_id) == ids(drawn.sample_id)
    rows = sheet_rows(out)
    assert sum(len(v) for v in rows.values()) == 3
    for _, row in (x for v in rows.values() for x in v):
        assert row[RESULT] is None and str(row["记录码"]).startswith("DJ1:R:")
        assert "*" in str(row.get("公民身份号码") or "*")  # masked as every output
    wb = openpyxl.load_workbook(out)
    assert wb[IDENTITY].sheet_state == "veryHidden"
    assert "SEED-2026" in wb["说明"]["A2"].value and "dengji-spotcheck-1" in wb["说明"]["A2"].value
    # filled by the verifier: one record false
    false_id = items[0].record_id
    filled = fill(out, tmp_path / "filled.xlsx", lambda v: (
        ("不实", "入党时间与档案不符") if v[RECORD] == false_id else ("属实", None)))
    result = record_results(reg, filled, actor="王核验")
    assert result.stored and not result.findings, result.findings
    assert result.counts == {"属实": 2, "不实": 1, "无法核实": 0}
    with reg.session() as session:
        stored = {i.record_id: i for i in session.execute(select(SpotItem)).scalars()
                  if i.sample_id == drawn.sample_id}
        last = session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())).scalars(
        ).first()
        assert verify_audit_chain(session).ok
    assert stored[false_id].result == "不实" and stored[false_id].note == "入党时间与档案不符"
    assert stored[false_id].verifier == "张核验" and stored[false_id].verified_on == str(TODAY)
    assert last.action == "spotcheck.record" and last.target == drawn.sample_id
    report = spot_report(reg, world.forms, drawn.sample_id)
    [bad] = [x for x in report.lines if x.false]
    assert (bad.sampled, bad.verified, bad.false) == (1, 1, 1)
    assert bad.cells()[7] == "100.0%" and bad.route == "直接报送"
    org, key = known[bad.unit_code]
    assert bad.secretary == (org.get("书记") or "（附件3未填）")
    assert bad.contact == (org.get("联系人") or "（附件3未填）")
    assert bad.signers == (key,)
    assert report.total_cells()[2:8] == ("3", "3", "2", "1", "0", "33.3%")


def test_signers_are_found_through_inner_packages_two_levels_down(city, tmp_path) -> None:
    from desktop.storage import UnitInfo

    world, reg, known = city
    province = world.register(PROVINCE, "province.dengji")
    nation = world.register(UnitInfo("100000NATION", "全国律师行业党委（测试）", "national"),
                            "nation.dengji")
    world.link(reg, province)
    world.link(province, nation)
    up = world.export(reg)
    world.merge(province, up.path)
    svc.accept_package(province, up.package_id)
    top = world.export(province)
    world.merge(nation, top.path)
    svc.accept_package(nation, top.package_id)
    drawn = run(draw_sample(nation, world.forms, tmp_path / "n.xlsx", size=6, seed="NATION1"))
    assert drawn.units == 3
    report = spot_report(nation, world.forms)
    assert len(report.lines) == 3
    for line in report.lines:
        assert line.signers == (known[line.unit_code][1],)
        assert line.route == f"经 {CITY.name} → {PROVINCE.name} 转报"


def test_report_pdf_and_workbook(city, tmp_path: Path) -> None:
    world, reg, _ = city
    drawn = run(draw_sample(reg, world.forms, tmp_path / "s.xlsx", size=5, seed="REPORT01"))
    pdf = tmp_path / "抽查报告.pdf"
    report = run(write_report(reg, world.forms, pdf))
    assert pdf.read_bytes().startswith(b"%PDF") and report.sample_id == drawn.sample_id
    xlsx = tmp_path / "抽查报告.xlsx"
    run(write_report(reg, world.forms, xlsx, sample_id=drawn.sample_id))
    ws = openpyxl.load_workbook(xlsx).active
    texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert any("REPORT01" in t and "dengji-spotcheck-1" in t for t in texts)
    assert "合计" in texts
    with pytest.raises(UsageError, match="pdf 或 .xlsx"):
        run(write_report(reg, world.forms, tmp_path / "r.docx"))
    with pytest.raises(UsageError, match="没有样本 NOPE"):
        run(write_report(reg, world.forms, pdf, sample_id="NOPE"))


# --- bad input: nothing stored ------------------------------------------------------------------


def _stored(reg) -> int:
    with reg.session() as session:
        return session.execute(select(func.count()).select_from(SpotItem).where(
            SpotItem.result.is_not(None))).scalar_one()


def _edit(path: Path, out: Path, change) -> Path:
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(out)
    return out


@pytest.fixture
def drawn(city, tmp_path: Path):
    world, reg, _ = city
    out = tmp_path / "抽查表.xlsx"
    d = run(draw_sample(reg, world.forms, out, size=6, seed="BADINPUT"))
    return world, reg, d, fill(out, tmp_path / "filled.xlsx")


def _record_sheet(wb):
    return next(ws for ws in wb.worksheets if ws.title not in ("说明", IDENTITY))


def _col(ws, title: str) -> int:
    return [c.value for c in ws[3]].index(title) + 1


@pytest.mark.parametrize("change, cell_col, words", [
    (lambda ws: setattr(ws.cell(4, _col(ws, RESULT)), "value", "不实"), NOTE, "须在“说明”列写明"),
    (lambda ws: setattr(ws.cell(4, _col(ws, RESULT)), "value", "无法核实"), NOTE, "为何无法核实"),
    (lambda ws: setattr(ws.cell(4, _col(ws, RESULT)), "value", "大概吧"), RESULT, "应为 属实"),
    (lambda ws: setattr(ws.cell(4, _col(ws, VERIFIER)), "value", None), VERIFIER, "请填写核验人"),
    (lambda ws: setattr(ws.cell(4, _col(ws, VERIFIED_ON)), "value", "昨天"), VERIFIED_ON,
     "不是日期"),
    (lambda ws: setattr(ws.cell(4, _col(ws, VERIFIED_ON)), "value", "2026-02-30"), VERIFIED_ON,
     "不是日期"),
    (lambda ws: setattr(ws.cell(4, _col(ws, VERIFIED_ON)), "value",
                        TODAY + timedelta(days=3)), VERIFIED_ON, "到今天"),
    (lambda ws: setattr(ws.cell(4, _col(ws, VERIFIED_ON)), "value", None), VERIFIED_ON,
     "请填写核验日期"),
    (lambda ws: setattr(ws.cell(4, _col(ws, RECORD)), "value",
                        "0190a1b2-0000-7000-8000-000000000000"), RECORD, "不在本样本中"),
    (lambda ws: setattr(ws.cell(5, _col(ws, RECORD)), "value", ws.cell(4, _col(ws, RECORD)).value),
     RECORD, "已经出现"),
])
def test_a_bad_row_refuses_the_whole_workbook(drawn, tmp_path, change, cell_col, words) -> None:
    world, reg, d, filled = drawn
    path = _edit(filled, tmp_path / "bad.xlsx", lambda wb: change(_record_sheet(wb)))
    result = record_results(reg, path)
    assert result.refused and not result.stored and _stored(reg) == 0
    errors = [f for f in result.findings if f.severity == "E"]
    assert any(words in f.message for f in errors), errors
    ws = _record_sheet(openpyxl.load_workbook(path))
    letter = openpyxl.utils.get_column_letter(_col(ws, cell_col))
    assert any(f.cell.startswith(f"{ws.title}!{letter}") for f in errors), errors


def test_a_row_with_a_verifier_but_no_result_is_refused(drawn, tmp_path) -> None:
    world, reg, d, filled = drawn
    path = _edit(filled, tmp_path / "bad.xlsx",
                 lambda wb: setattr(_record_sheet(wb).cell(4, _col(_record_sheet(wb), RESULT)),
                                    "value", None))
    result = record_results(reg, path)
    assert result.refused and "没有选择核验结果" in result.findings[0].message
    assert _stored(reg) == 0


def test_a_changed_seed_is_refused(drawn, tmp_path) -> None:
    world, reg, d, filled = drawn
    path = _edit(filled, tmp_path / "seed.xlsx",
                 lambda wb: setattr(wb[IDENTITY]["B4"], "value", "OTHERSEED"))
    result = record_results(reg, path)
    assert result.refused and _stored(reg) == 0
    assert any("随机种子" in f.message and f.cell == f"{IDENTITY}!B4" for f in result.findings)

    def visible(wb):
        ws = _record_sheet(wb)
        ws["A2"].value = ws["A2"].value.replace("BADINPUT", "BADINPUX")
    path = _edit(filled, tmp_path / "seed2.xlsx", visible)
    result = record_results(reg, path)
    assert result.refused and any(f.cell.endswith("!A2") for f in result.findings)


def test_another_sample_or_register_is_refused(drawn, tmp_path) -> None:
    world, reg, d, filled = drawn
    path = _edit(filled, tmp_path / "other.xlsx",
                 lambda wb: setattr(wb[IDENTITY]["B1"], "value", "20260101-DEADBEEF"))
    with pytest.raises(UsageError, match="样本 20260101-DEADBEEF 不在本登记库中"):
        record_results(reg, path)
    other = world.register(PROVINCE, "other.dengji")
    with pytest.raises(UsageError, match="另一个登记库"):
        record_results(other, filled)
    # a copy of the register (same own unit) that never drew this sample
    path2 = _edit(filled, tmp_path / "not-a-book.xlsx", lambda wb: wb.remove(wb[IDENTITY]))
    with pytest.raises(UsageError, match="不是抽查核验表"):
        record_results(reg, path2)
    assert _stored(reg) == 0


def test_blank_rows_stay_unverified_and_a_later_workbook_adds_them(drawn, tmp_path) -> None:
    world, reg, d, _ = drawn
    first = fill(d.path, tmp_path / "half.xlsx",
                 lambda v: ("属实", None) if v[RECORD][-1] in "01234567" else (None, None))
    done = record_results(reg, first)
    assert done.stored
    later = fill(d.path, tmp_path / "all.xlsx", lambda v: ("无法核实", "档案借出"))
    again = record_results(reg, later)
    assert again.stored and again.verdicts == 6 and again.changed == done.verdicts
    assert _stored(reg) == 6


def test_a_firm_cannot_draw_and_an_empty_city_is_told(store_world: World, tmp_path) -> None:
    world = store_world
    firm = world.firm(seed=5)
    with pytest.raises(KnownError, match="由上级单位"):
        run(draw_sample(firm.register, world.forms, tmp_path / "x.xlsx", size=3))
    empty = world.register(CITY, "empty.dengji")
    with pytest.raises(KnownError, match="还没有已接收的记录"):
        run(draw_sample(empty, world.forms, tmp_path / "x.xlsx", size=3))
    assert not (tmp_path / "x.xlsx").exists()


@pytest.mark.parametrize("kw, words", [
    ({"size": 0}, "正整数"), ({"rate": "150%"}, "0 和 100%"), ({"rate": "abc"}, "0 和 100%"),
    ({"size": 3, "seed": "有中文"}, "随机种子"), ({"size": 3, "seed": "a b"}, "随机种子"),
    ({}, "之一"), ({"size": 3, "rate": "5%"}, "之一"),
])
def test_a_bad_request_is_refused(city, tmp_path, kw, words) -> None:
    world, reg, _ = city
    with pytest.raises(UsageError, match=words):
        run(draw_sample(reg, world.forms, tmp_path / "x.xlsx", **kw))
    assert not (tmp_path / "x.xlsx").exists()


def test_the_workbook_appears_only_when_the_sample_is_stored(city, tmp_path, monkeypatch):
    world, reg, _ = city
    import desktop.services.spotcheck.sample as sample_module

    def broken(*a, **k):
        raise RuntimeError("audit broke")
    monkeypatch.setattr(sample_module, "append_audit", broken)
    with pytest.raises(RuntimeError):
        run(draw_sample(reg, world.forms, tmp_path / "x.xlsx", size=3))
    assert not (tmp_path / "x.xlsx").exists() and list(tmp_path.glob(".x.xlsx*")) == []
    with reg.session() as session:
        assert session.execute(select(func.count()).select_from(SpotItem)).scalar_one() == 0
    shutil.rmtree(tmp_path / "out", ignore_errors=True)


def test_qr_codes_made_on_another_process_are_those_of_the_rows() -> None:
    import zxingcpp
    from PIL import Image

    from desktop.reports.xlsx.spotcheck import QrImages, qr_png

    codes = [f"DJ1:R:0190A1B2-C3D4-7E5F-8A9B-{i:012d}:0123456789ABCDEF" for i in range(7)]
    images = QrImages(codes, parallel=True)
    try:
        made = images.get()
    finally:
        images.close()
    assert made == [qr_png(c) for c in codes]
    assert [zxingcpp.read_barcode(Image.open(io.BytesIO(png))).text for png in made] == codes
