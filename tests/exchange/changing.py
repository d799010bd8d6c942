"""A firm that reports, changes its records as a clerk would, and reports again: the scenario
of the change-report tests (tests/exchange, tests/cli, tests/ui test_changes*)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from desktop.exchange.trust import own_unit
from desktop.services import packages as svc
from desktop.services.drafts import reopen, void_draft
from desktop.services.editing import EditSession
from desktop.storage import KdfParams, Record, Register, UnitInfo
from tests.conftest import make_firm_records
from tests.exchange.conftest import CITY, FAST_KDF, World

NEW_MOBILE = "13912345678"


@dataclass
class Changed:
    """What the firm did between its two packages, by record id."""

    firm: Register
    code: str
    mobile: str  # record whose mobile changed (from `old_mobile` to NEW_MOBILE)
    old_mobile: str
    suspended: str  # 党籍状态 → 停止党籍
    transferred: str  # 未转入情形 4 (离开执业律所六个月以上): 转出
    voided: str  # taken back to draft and voided
    org: str  # the 附件3 record, whose counts follow
    added: str  # a new member imported
    first: svc.ExportResult


def members(reg: Register) -> list[tuple[str, dict]]:
    with reg.session() as session:
        rows = session.execute(select(Record.id, Record.data)
                               .where(Record.form_id == "lawyer_member")
                               .order_by(Record.id)).all()
    return [(rid, json.loads(data)) for rid, data in rows]


def edit(world: World, reg: Register, record_id: str, form_id: str = "lawyer_member",
         **raw: str) -> None:
    """Change fields in the editor and mark the record complete again, as a clerk does."""
    e = EditSession(reg, world.forms, world.forms.form(form_id), reg.own_unit_id,
                    actor="测试员")
    try:
        e.load(record_id)
        for field, value in raw.items():
            e.set_raw(field, value, check=False)
        assert e.save()
        check = e.submit_check()
        assert not check.errors, [f.message for f in check.errors]
        e.submit({(w.field, w.code): "已核实" for w in check.warnings})
    finally:
        e.close()


def changed_firm(world: World, city: Register, *, seed: int = 61, accept: bool = True,
                 kdf: KdfParams = FAST_KDF) -> Changed:
    """A firm of 5 members exports, the city merges (and accepts) it; then the firm changes a
    mobile number, suspends one member, records one as 未转入情形 4, voids one and imports a
    new one: the next export's records against the first package."""
    records = make_firm_records(seed=seed, members=6, today=date.today())
    newcomer = records.members.pop()
    records.refresh_org()
    reg = world.register(UnitInfo(records.firm.uscc, f"中共{records.firm.name}支部委员会", "firm",
                                  CITY.code), kdf=kdf)
    world.import_records(reg, records.members, records.org)
    world.link(reg, city)
    first = world.export(reg)
    assert [r.status for r in world.merge(city, first.path)] == ["merged"]
    if accept:
        svc.accept_package(city, first.package_id)
    (a, va), (b, _), (c, _), (d, _), *_ = members(reg)
    edit(world, reg, a, mobile=NEW_MOBILE)
    edit(world, reg, b, party_status="停止党籍")
    edit(world, reg, d, transferred="否", transfer_case="4",
         handling="已于2026年向市律师行业党委书面报告")
    with reg.session() as session:  # a member in case 4 is not counted: 附件3 says so
        org, data = session.execute(select(Record.id, Record.data)
                                    .where(Record.form_id == "party_org")).one()
    counts = json.loads(data)
    edit(world, reg, org, "party_org", lawyer_members=str(counts["lawyer_members"] - 1),
         full_members=str(counts["full_members"] - 1))
    reopen(reg, world.forms, c, actor="测试员")
    void_draft(reg, world.forms, c, actor="测试员")
    before = {rid for rid, _ in members(reg)}
    world.import_records(reg, [newcomer], None)
    [added] = [rid for rid, _ in members(reg) if rid not in before]
    with reg.session() as session:
        code = own_unit(session, reg).code
    return Changed(reg, code, a, va["mobile"], b, d, c, org, added, first)
