"""Return: the clerk comments on records or fields and returns the package; the firm imports
the signed return file, sees the comments beside the fields, and its next export answers them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from desktop.errors import KnownError
from desktop.services import packages as svc
from desktop.services.packages.records import package_records
from desktop.storage import Record
from desktop.storage.tables import Package, ReturnNote
from tests.exchange.conftest import CITY, World, counts

#: on both stores (tests/exchange/conftest.py): what reads or writes sealed columns
BOTH_STORES = {"test_the_whole_return_loop", "test_cli_return",
               "test_a_conflict_returned_to_its_sender_goes_out_with_the_next_return",
               "test_a_packages_records_are_listed_by_form_and_name"}


@pytest.fixture
def merged(world: World):
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=61, parent=city)
    sent = world.export(firm.register)
    world.merge(city, sent.path)
    with firm.register.session() as session:  # the first by name (sealed on a server:
        member = min(session.scalars(select(Record).where(  # sorted here, not by the database)
            Record.form_id == "lawyer_member")), key=lambda r: r.name)
    return world, city, firm, sent, member


def comments_file(world: World, rows: list[dict], name: str = "comments.jsonl"):
    path = world.folder / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_the_whole_return_loop(merged) -> None:
    world, city, firm, sent, member = merged
    path = comments_file(world, [
        {"record_id": member.id, "field": "手机号码", "comment": "手机号码与花名册不一致，请核实"},
        {"记录编号": member.id, "意见": "请补充入党介绍人情况"},
    ])
    package, written, ret = svc.return_package(city, world.forms, sent.package_id[:8], path,
                                               world.folder)
    assert ret.suffix == ".djret" and ret.exists()
    assert package.status == "returned"
    with city.session() as session:
        states = set(session.execute(select(Record.state)).scalars())
        notes = session.execute(select(ReturnNote)).scalars().all()
    assert states == {"已退回"}
    assert {(n.field, n.label, n.status, n.direction) for n in notes} == {
        ("mobile", "手机号码", "open", "sent"), (None, "", "open", "sent")}
    [row] = svc.dashboard(city)
    assert (row.status, row.open_comments) == ("已退回", 2)

    # the firm imports the signed return file (through the same merge command)
    [report] = world.merge(firm.register, ret)
    assert report.status == "returned" and report.comments == 2
    shown = svc.record_notes(firm.register, member.id)
    assert [(n.field, n.label, n.comment) for n in shown] == [
        ("mobile", "手机号码", "手机号码与花名册不一致，请核实"), (None, "", "请补充入党介绍人情况")]
    assert shown[0].author == CITY.name
    with firm.register.session() as session:
        assert session.get(Record, member.id).state == "已退回"
    assert world.merge(firm.register, ret)[0].status == "already"

    # the firm's next export answers the comments; the city sees them answered
    again = world.export(firm.register)
    assert again.answered == 2 and again.sequence == 2
    assert svc.record_notes(firm.register, member.id) == []
    assert len(svc.record_notes(firm.register, member.id, open_only=False)) == 2
    world.merge(city, again.path)
    with city.session() as session:
        notes = session.execute(select(ReturnNote)).scalars().all()
    assert {(n.status, n.answered_in) for n in notes} == {("answered", again.package_id)}
    [row] = svc.dashboard(city)
    assert (row.status, row.open_comments, row.sequence) == ("已收到（待审核）", 0, 2)


def test_a_bad_comments_file_returns_nothing(merged) -> None:
    world, city, firm, sent, member = merged
    path = comments_file(world, [
        {"record_id": member.id, "field": "没有这个栏目", "comment": "x"},
        {"record_id": "00000000-0000-0000-0000-000000000000", "comment": "x"},
        {"record_id": member.id, "field": "姓名"},
        "not json",
    ])
    path.write_text(path.read_text("utf-8") + "{oops\n", "utf-8")
    before = counts(city)
    with pytest.raises(KnownError) as caught:
        svc.return_package(city, world.forms, sent.package_id, path, world.folder)
    message = str(caught.value)
    for part in ("没有这个栏目", "不在这个数据包中", "缺少意见", "不是有效的 JSON"):
        assert part in message
    assert counts(city) == before
    assert not list(world.folder.glob("*.djret"))


def test_comments_given_as_a_list(merged) -> None:
    """The window passes its comments as dicts: checked the same way as a file's lines."""
    world, city, firm, sent, member = merged
    before = counts(city)
    with pytest.raises(KnownError, match="没有这个栏目"):
        svc.return_package(city, world.forms, sent.package_id, [
            {"record_id": member.id, "field": "没有这个栏目", "comment": "x"}], world.folder)
    assert counts(city) == before and not list(world.folder.glob("*.djret"))
    _, written, ret = svc.return_package(city, world.forms, sent.package_id, [
        {"record_id": member.id, "field": "手机号码", "comment": "请核实"}], world.folder)
    assert ret.exists() and written.manifest["record_count"] == 1


def test_return_of_an_unknown_package(merged) -> None:
    world, city, firm, sent, member = merged
    path = comments_file(world, [{"record_id": member.id, "comment": "x"}])
    with pytest.raises(KnownError, match="没有编号为"):
        svc.return_package(city, world.forms, "ffffffff", path, world.folder)


def test_a_return_file_for_another_firm_is_refused(merged) -> None:
    world, city, firm, sent, member = merged
    other = world.firm(seed=62, parent=city)
    path = comments_file(world, [{"record_id": member.id, "comment": "请核实"}])
    _, _, ret = svc.return_package(city, world.forms, sent.package_id, path, world.folder)
    before = counts(other.register)
    [report] = world.merge(other.register, ret)
    assert report.status == "refused" and "不是发给本单位的" in report.reason
    assert counts(other.register) == before


def test_cli_return(merged, dengji, monkeypatch) -> None:
    from desktop.storage import DEFAULT_KDF, UnitInfo
    from tests.exchange.conftest import PASSPHRASE

    world, _, _, _, _ = merged
    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    city = world.register(UnitInfo("C2", "市", "city"), "cli-city.dengji", kdf=DEFAULT_KDF)
    firm = world.firm(seed=63, parent=city)
    sent = world.export(firm.register)
    assert dengji("merge", "--db", city.path, sent.path).code == 0
    with firm.register.session() as session:
        rid = session.execute(select(Record.id)).scalars().first()
    path = comments_file(world, [{"record_id": rid, "field": "姓名", "comment": "错别字"}],
                         "c2.jsonl")
    out = world.folder / "return.djret"
    result = dengji("return", "--db", city.path, "--package", sent.package_id, "--comments",
                    path, "--out", out)
    assert result.code == 0 and result.out.strip() == str(out) and out.exists()
    assert "意见 1 条" in result.err
    with city.session() as session:
        assert session.get(Package, sent.package_id).status == "returned"


def test_a_conflict_returned_to_its_sender_goes_out_with_the_next_return(world: World) -> None:
    from tests.exchange.test_merge import two_firms_sharing_a_person

    city, a, b = two_firms_sharing_a_person(world)
    pa, pb = world.export(a.register), world.export(b.register)
    world.merge(city, pa.path, pb.path)
    [c] = svc.list_conflicts(city)
    svc.resolve_conflict(city, c.id, "return_b", "此人已在甲所登记，请核实")
    _, written, ret = svc.return_package(city, world.forms, pb.package_id, None, world.folder)
    assert written.manifest["record_count"] == 1
    [report] = world.merge(b.register, ret)
    assert report.status == "returned"
    [note] = svc.record_notes(b.register, c.record_b)
    assert note.comment == "此人已在甲所登记，请核实"
    with pytest.raises(KnownError, match="没有任何意见"):
        svc.return_package(city, world.forms, pa.package_id, None, world.folder)


def test_own_packages_verify_but_do_not_merge(merged) -> None:
    world, city, firm, sent, member = merged
    v = svc.verify_file(sent.path, world.forms, firm.register)
    assert v.ok and ("序号", None) in [(c.name, c.ok) for c in v.checks]
    before = counts(firm.register)
    [report] = world.merge(firm.register, sent.path)
    assert report.status == "refused" and "本单位自己发出" in report.reason
    assert counts(firm.register) == before


def test_a_packages_records_are_listed_by_form_and_name(world: World) -> None:
    """The return dialog lists what a received package delivered by form and name
    (services/packages/records.package_records) — on PostgreSQL too, where the names are
    sealed and the database cannot order them."""
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=67, members=8, parent=city)
    sent = world.export(firm.register)
    world.merge(city, sent.path)
    with city.session() as session:
        stored = session.execute(select(Record.id, Record.form_id, Record.name).where(
            Record.package_id == sent.package_id).order_by(Record.id)).all()
    listed = package_records(city, sent.package_id)
    assert listed == sorted(((r, f, n) for r, f, n in stored), key=lambda r: (r[1], r[2]))
    assert [n for _, f, n in listed if f == "lawyer_member"] == sorted(
        m["姓名"] for m in firm.members)
    assert [n for _, _, n in listed] != [n for _, _, n in stored]  # not by id by chance
