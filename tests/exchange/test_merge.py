"""Merging: records keep their ids, state and confirmed warnings, get this register's hashes;
a newer package replaces the older; the same person from two firms becomes a conflict."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select, text

from desktop.domain.identifiers import normalise_id
from desktop.exchange.merge import apply_package
from desktop.progress import run
from desktop.services import packages as svc
from desktop.storage import Override, Record, RecordKey, Unit, UnitInfo
from desktop.storage.server import blind_value
from desktop.storage.tables import Conflict, Package, ReturnNote
from tests.exchange.conftest import CITY, Firm, World, counts


def records_of(register, **where) -> list[Record]:
    """The records whose attributes have these values (compared here: a server register's
    name is sealed, so SQL cannot compare it)."""
    with register.session() as session:
        rows = session.execute(select(Record).order_by(Record.id)).scalars()
        return [r for r in rows if all(getattr(r, k) == v for k, v in where.items())]


def test_records_arrive_under_the_sender_with_their_ids_and_new_hashes(world: World) -> None:
    city = world.register(CITY)
    firm = world.firm(seed=21, parent=city)
    sent = {r.id: r for r in records_of(firm.register)}
    exported = world.export(firm.register)
    [report] = world.merge(city, exported.path)
    assert report.status == "merged"
    got = records_of(city)
    assert {r.id for r in got} == set(sent)
    with city.session() as session:
        unit = session.get(Unit, got[0].unit_id)
        keys = list(session.execute(select(RecordKey)).scalars())
    assert unit.code == exported.path.name.split("-")[0] and not unit.is_own
    assert unit.parent_code == CITY.code and unit.level == "firm"
    for r in got:
        assert r.state == "已提交" and r.package_id == exported.package_id
        assert json.loads(r.data) == json.loads(sent[r.id].data)
        assert r.revision == sent[r.id].revision
        values = json.loads(r.data)
        if r.form_id == "lawyer_member":
            assert r.person_key == city.person_hash(normalise_id(values["id_number"]))
            assert r.person_key != sent[r.id].person_key  # each register hashes with its own key
    person_keys = {k.value for k in keys if k.kind == "person"}
    # record_key holds them as stored: blinded on a server register (storage/server)
    assert person_keys == {blind_value(city.engine, r.person_key) for r in got if r.person_key}
    # and the firm's own records are now marked submitted
    assert {r.state for r in records_of(firm.register)} == {"已提交"}


def test_confirmed_warnings_travel_with_the_records(world: World) -> None:
    city = world.register(CITY)
    firm = world.firm(seed=22, parent=city)
    rid = records_of(firm.register, form_id="lawyer_member")[0].id
    with firm.register.session() as session:
        session.add(Override(record_id=rid, field="phone", rule="phone_unusual",
                             reason="号码已电话核实", actor="书记"))
        session.commit()
    world.merge(city, world.export(firm.register).path)
    with city.session() as session:
        [o] = session.execute(select(Override)).scalars().all()
    assert (o.record_id, o.field, o.rule, o.reason, o.actor) == (
        rid, "phone", "phone_unusual", "号码已电话核实", "书记")
    assert o.created_at.tzinfo is not None


def test_a_newer_package_replaces_the_older(world: World) -> None:
    city = world.register(CITY)
    firm = world.firm(seed=23, parent=city)
    first = world.export(firm.register)
    assert world.merge(city, first.path)[0].status == "merged"
    gone = records_of(firm.register, form_id="lawyer_member")[0]
    with firm.register.session() as session:  # the firm deletes one member, adds another
        session.delete(session.get(Record, gone.id))
        session.commit()
    from tests.conftest import make_firm_records

    extra = make_firm_records(seed=23, members=5)
    world.import_records(firm.register, [extra.members[4] | {
        "执业机构": firm.members[0]["执业机构"],
        "执业机构统一社会信用代码": firm.members[0]["执业机构统一社会信用代码"]}], None)
    second = world.export(firm.register)
    assert second.sequence == 2 and second.supersedes == first.package_id
    [report] = world.merge(city, second.path)
    assert report.status == "merged" and report.outcome.replaced == 5
    assert {r.id for r in records_of(city)} == {r.id for r in records_of(firm.register)}
    assert all(r.package_id == second.package_id for r in records_of(city))
    with city.session() as session:
        old = session.get(Package, first.package_id)
        new = session.get(Package, second.package_id)
        conflicts = session.execute(select(Conflict)).scalars().all()
    assert old.superseded_by == second.package_id and old.status == "superseded"
    assert old.content is not None  # the older stays in the history
    assert new.supersedes == first.package_id and new.superseded_by is None
    assert conflicts == []  # a firm's own records never conflict with its earlier ones


def test_older_and_newer_given_together_merge_in_order(world: World) -> None:
    city = world.register(CITY)
    firm = world.firm(seed=24, parent=city)
    first, second = world.export(firm.register), world.export(firm.register)
    reports = world.merge(city, second.path, first.path)
    assert [(r.path.name, r.status) for r in reports] == [
        (first.path.name, "merged"), (second.path.name, "merged")]
    assert {r.package_id for r in records_of(city)} == {second.package_id}


def two_firms_sharing_a_person(world: World):
    """A city and two linked firms whose member lists both hold one person (same ID number,
    different licence numbers)."""
    from tests.conftest import make_firm_records

    city = world.register(CITY)
    a = world.firm(seed=31, parent=city)
    records = make_firm_records(seed=32, members=4, today=date.today())
    licence = records.members[0]["律师执业证号"]
    records.members[0] = dict(a.members[0], 执业机构=records.firm.name,
                              执业机构统一社会信用代码=records.firm.uscc,
                              律师执业证号=licence[:-1] + str((int(licence[-1]) + 1) % 10))
    records.refresh_org()
    b_reg = world.register(UnitInfo(records.firm.uscc, f"中共{records.firm.name}支部委员会",
                                    "firm", CITY.code))
    world.import_records(b_reg, records.members, records.org)
    world.link(b_reg, city)
    return city, a, Firm(b_reg, records.members, records.org)


def test_the_same_person_from_two_firms_is_a_conflict(world: World) -> None:
    city, a, b = two_firms_sharing_a_person(world)
    world.merge(city, world.export(a.register).path)
    [report] = world.merge(city, world.export(b.register).path)
    assert report.status == "merged" and report.outcome.conflicts == 1
    [c] = svc.list_conflicts(city)
    assert c.kind == "person" and c.name_a == c.name_b == a.members[0]["姓名"]
    assert "（" in c.unit_a and c.unit_a != c.unit_b
    assert len(records_of(city, name=a.members[0]["姓名"])) == 2  # nothing overwritten
    # the clerk keeps both, with a note; the decision survives the firm's next package
    svc.resolve_conflict(city, c.id, "keep_both", "同一人在两所兼职，已电话核实")
    assert svc.list_conflicts(city) == []
    [again] = world.merge(city, world.export(b.register).path)
    assert again.outcome.conflicts == 0
    [kept] = svc.list_conflicts(city, open_only=False)
    assert kept.resolution == "keep_both" and kept.note == "同一人在两所兼职，已电话核实"


@pytest.mark.parametrize("action, survivor", [("keep_a", "a"), ("keep_b", "b")])
def test_keep_one_removes_the_other(world: World, action: str, survivor: str) -> None:
    city, a, b = two_firms_sharing_a_person(world)
    pa, pb = world.export(a.register), world.export(b.register)
    world.merge(city, pa.path, pb.path)
    [c] = svc.list_conflicts(city)
    svc.resolve_conflict(city, c.id, action)
    left = records_of(city, name=a.members[0]["姓名"])
    assert [r.package_id for r in left] == [pa.package_id if survivor == "a" else pb.package_id]
    [done] = svc.list_conflicts(city, open_only=False)
    assert done.status == "resolved" and done.resolution == action


def test_return_one_drafts_a_comment_for_its_sender(world: World) -> None:
    city, a, b = two_firms_sharing_a_person(world)
    world.merge(city, world.export(a.register).path, world.export(b.register).path)
    [c] = svc.list_conflicts(city)
    svc.resolve_conflict(city, c.id, "return_b")
    with city.session() as session:
        [note] = session.execute(select(ReturnNote)).scalars().all()
    assert note.status == "draft" and note.record_id == c.record_b
    assert "已由" in note.comment


def test_conflict_decisions_refuse_nonsense(world: World) -> None:
    from desktop.errors import KnownError

    city, a, b = two_firms_sharing_a_person(world)
    world.merge(city, world.export(a.register).path, world.export(b.register).path)
    [c] = svc.list_conflicts(city)
    before = counts(city)
    with pytest.raises(KnownError, match="理由"):
        svc.resolve_conflict(city, c.id, "keep_both", "  ")
    with pytest.raises(KnownError, match="没有编号为 999"):
        svc.resolve_conflict(city, 999, "keep_a")
    with pytest.raises(KnownError, match="无效"):
        svc.resolve_conflict(city, c.id, "delete_everything")
    assert counts(city) == before
    svc.resolve_conflict(city, c.id, "keep_a")
    with pytest.raises(KnownError, match="已处理过"):
        svc.resolve_conflict(city, c.id, "keep_b")


def test_an_upward_export_waits_for_open_conflicts(world: World) -> None:
    city, a, b = two_firms_sharing_a_person(world)
    pa, pb = world.export(a.register), world.export(b.register)
    world.merge(city, pa.path, pb.path)
    svc.accept_package(city, pa.package_id)
    svc.accept_package(city, pb.package_id)
    from desktop.services.packages import ExportBlocked

    province = world.register(UnitInfo("P1", "省律师行业党委", "province"))
    world.link(city, province)
    with pytest.raises(ExportBlocked, match="冲突"):
        world.export(city)
    [c] = svc.list_conflicts(city)
    svc.resolve_conflict(city, c.id, "keep_a")
    # a: 4 members + 附件3, b: the same less the removed duplicate; the city has no own records
    assert world.export(city).records == 9


def test_a_failure_in_the_middle_writes_nothing(world: World, monkeypatch) -> None:
    """All of one package's writes are one transaction: a crash after the records were
    inserted leaves no record, key, unit or package behind."""
    city = world.register(CITY)
    firm = world.firm(seed=25, parent=city)
    path = world.export(firm.register).path
    before = counts(city)

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    import desktop.exchange.merge as merge_module

    monkeypatch.setattr(merge_module, "_find_conflicts", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        world.merge(city, path)
    assert counts(city) == before
    monkeypatch.undo()
    assert world.merge(city, path)[0].status == "merged"


def test_a_record_id_already_used_by_another_unit_is_refused(world: World) -> None:
    city = world.register(CITY)
    a = world.firm(seed=26, parent=city)
    b = world.firm(seed=27, parent=city)
    stolen = records_of(a.register, form_id="lawyer_member")[0].id
    world.merge(city, world.export(a.register).path)
    with b.register.session() as session:  # firm b's record happens to carry the same id
        rec = records_of(b.register, form_id="lawyer_member")[0]
        session.execute(text("PRAGMA defer_foreign_keys = ON"))
        session.execute(Record.__table__.update().where(Record.id == rec.id)
                        .values(id=stolen))
        session.execute(RecordKey.__table__.update().where(RecordKey.record_id == rec.id)
                        .values(record_id=stolen))
        session.commit()
    before = counts(city)
    [report] = world.merge(city, world.export(b.register).path)
    assert report.status == "refused" and stolen in report.reason
    assert counts(city) == before


def test_apply_package_refuses_an_unverified_package(world: World) -> None:
    from desktop.exchange.format.reader import Verification

    city = world.register(CITY)
    with city.session() as session, pytest.raises(AssertionError):
        apply_package(session, city, Verification("x", 0, ""), "x", b"", "t", None)


def test_a_large_merge_prepares_files_in_a_worker_process(world: World) -> None:
    """The same results with the worker process: refusals, order, sequence checks against
    packages merged earlier in the same batch, and a file changed after it was verified."""
    from desktop.exchange import pipeline

    city = world.register(CITY)
    firms = [world.firm(seed=s, parent=city) for s in (28, 29)]
    first, second = world.export(firms[0].register), world.export(firms[0].register)
    other = world.export(firms[1].register)
    bad = world.folder / "bad.djpkg"
    bad.write_bytes(other.path.read_bytes()[:-10])
    replay = world.folder / "replay.djpkg"
    replay.write_bytes(first.path.read_bytes())
    reports = run(svc.merge_packages(city, world.forms, [second.path, bad, first.path,
                                                         other.path, replay], parallel=True))
    by_name = {r.path.name: r.status for r in reports}
    assert by_name == {first.path.name: "merged", second.path.name: "merged",
                       other.path.name: "merged", "bad.djpkg": "refused",
                       "replay.djpkg": "already"}
    assert {r.package_id for r in records_of(city)} == {second.package_id, other.package_id}
    # a file that changes between its verification (ahead, in the worker) and its writing
    third = world.export(firms[1].register)
    original = pipeline._arrived

    def swapped(prepared, forms):
        prepared.path.write_bytes(prepared.path.read_bytes() + b"\0")
        return original(prepared, forms)

    pipeline._arrived = swapped
    try:
        before = counts(city)
        [report] = run(svc.merge_packages(city, world.forms, [third.path], parallel=True))
    finally:
        pipeline._arrived = original
    assert report.status == "refused" and "核验后被改动" in report.reason
    assert counts(city) == before


def test_a_merge_is_one_transaction_a_cancel_or_a_late_failure_keeps_nothing(
        world: World, monkeypatch) -> None:
    """Fully in or fully out: a merge cancelled after its first package, or failing at its
    last, leaves none of its packages behind (issue 8)."""
    city = world.register(CITY)
    paths = [world.export(world.firm(seed=s, parent=city).register).path for s in (61, 62, 63)]
    before = counts(city)
    task = svc.merge_packages(city, world.forms, paths)
    steps = [next(task) for _ in range(2)]  # the first package written, the second next
    assert steps[1].done == 1
    task.close()  # the clerk cancels
    assert counts(city) == before

    import desktop.exchange.merge as merge_module

    real, calls = merge_module._find_conflicts, []

    def fail_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(merge_module, "_find_conflicts", fail_third)
    with pytest.raises(RuntimeError, match="disk full"):
        world.merge(city, *paths)
    assert counts(city) == before
    monkeypatch.undo()
    assert [r.status for r in world.merge(city, *paths)] == ["merged"] * 3
