"""Merges into registers on PostgreSQL (issue 18): the city's and the province's registers live
in a server database, the firms keep their SQLite files — the chain firm(SQLite) → city(PG) →
province(PG) → national(PG). The tests are those of test_merge, test_upward,
test_provenance and tests/services/test_spotcheck that run the merge's and the sample's SQL (units, owners and names, conflicts and their kept
decisions, inner packages), run again here on this world; every other test of those modules
holds for both stores through the same code."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from desktop.services import packages as svc
from desktop.storage import Record
from tests.exchange.conftest import CITY, World
from tests.exchange.test_merge import (  # noqa: F401 (run again here, on this world)
    test_a_newer_package_replaces_the_older,
    test_conflict_decisions_refuse_nonsense,
    test_keep_one_removes_the_other,
    test_records_arrive_under_the_sender_with_their_ids_and_new_hashes,
    test_the_same_person_from_two_firms_is_a_conflict,
    two_firms_sharing_a_person,
)
from tests.exchange.test_provenance import (  # noqa: F401
    city_world,
    test_a_renamed_sender_is_a_change_for_the_clerk_to_confirm,
    test_the_honest_chain_merges_at_every_level,
    test_the_same_forgery_forwarded_by_a_city_is_refused_by_the_province,
)
from tests.exchange.test_upward import (  # noqa: F401
    chain,
    test_the_province_checks_every_signature_and_merges,
    test_three_levels_up,
)
from tests.services.test_spotcheck import (  # noqa: F401
    base,
    city,
    test_signers_are_found_through_inner_packages_two_levels_down,
)

#: firms on SQLite files, every register above them in a new PostgreSQL database
#: (tests/exchange/conftest.py, tests/exchange/layouts.py)
WORLDS = ["above-on-server"]


def test_the_city_is_on_the_server_and_reads_names_and_owners_in_clear(world: World) -> None:
    town = world.register(CITY)
    assert town.engine.dialect.name == "postgresql"
    firm = world.firm(seed=71, parent=town)
    assert firm.register.engine.dialect.name == "sqlite"
    sent = world.export(firm.register)
    [report] = world.merge(town, sent.path)
    assert report.status == "merged" and report.outcome.records == len(firm.members) + 1
    with town.session() as session:
        names = set(session.scalars(select(Record.name).where(
            Record.form_id == "lawyer_member")))
        ids = list(session.scalars(select(Record.id)))
    assert names == {m["姓名"] for m in firm.members}
    from desktop.exchange.merge import record_owners

    with town.engine.connect() as conn:
        owners = record_owners(conn, ids)
        stored = {row[0] for row in conn.exec_driver_sql("SELECT name FROM record")}
    assert {name for _s, name in owners.values()} >= names
    assert {sender for sender, _n in owners.values()} == {sent.path.name.split("-")[0]}
    assert not stored & names and all(s.startswith("dj1.") for s in stored)  # sealed there
    # a second package of the same firm replaces the first one's records on the server
    [again] = world.merge(town, world.export(firm.register).path)
    assert again.status == "merged"
    with town.session() as session:
        assert len(session.scalars(select(Record.id)).all()) == len(ids)
    assert svc.list_conflicts(town) == []


def test_a_sample_and_its_report_on_the_server_read_the_records_in_clear(
        city, tmp_path: Path) -> None:  # noqa: F811
    from desktop.progress import run
    from desktop.services.spotcheck import draw_sample, spot_report
    from tests.exchange.conftest import PROVINCE

    world, reg, known = city  # the city's file register, three firms accepted
    province = world.register(PROVINCE)
    assert province.engine.dialect.name == "postgresql"
    world.link(reg, province)
    up = world.export(reg)
    [merged] = world.merge(province, up.path)
    assert merged.status == "merged"
    svc.accept_package(province, up.package_id)
    drawn = run(draw_sample(province, world.forms, tmp_path / "p.xlsx", size=6, seed="PROV01"))
    assert drawn.units == 3
    report = spot_report(province, world.forms)
    contacts = {code: org["联系人"] for code, (org, _fp) in known.items()}
    assert {line.unit_code: line.contact for line in report.lines} == contacts  # opened
    assert all(line.signers == (known[line.unit_code][1],) for line in report.lines)
