"""After the cleanup: re-admission (重新入会), withdrawal after the deadline (已退会), the
reversal of a mistaken decision (恢复在册: a new decision, audited), member numbers, and the
statistics table of the register.

Every change goes through `write_changes` (Record.data, revision, updated_at, one audit entry
per record).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlmodel import select

from desktop.domain.context import Environment
from desktop.domain.forms import FormSet
from desktop.domain.identifiers import id_birth_date, id_sex, mask_id
from desktop.domain.society.cleanup import (
    ACTIVE,
    DUPLICATE,
    IN_REGISTER,
    NO_ID,
    READMITTED,
    WITHDRAWN,
)
from desktop.domain.society.member_numbers import (
    SOCIETIES_TABLE,
    Society,
    format_member_number,
    next_member_number,
    own_society,
    parse_member_number,
)
from desktop.domain.society.stats import CleanupStats, stats_from_statuses
from desktop.domain.validation import Validator
from desktop.domain.values import parse_value
from desktop.errors import KnownError
from desktop.services.cleanup.decide import resolve_numbers
from desktop.services.cleanup.model import (
    FORM_ID,
    Change,
    Write,
    cleanup_findings,
    cleanup_validator,
    cleanup_values,
    load_values,
    society_form,
    write_changes,
)
from desktop.services.cleanup.stored import member_fields, member_numbers, status_counts
from desktop.storage import Record, RecordKey, Register, Unit

PERSON_KIND = "society_person"
READMIT_BASIS = "本人同意，补全身份证号等信息后重新办理入会手续"
_ID_FIELDS = ("id_number", "sex", "birth_date")


def find_entry(register: Register, session, *, record_id: str = "", member_no: str = "") -> str:
    """The record id of one entry of the own register, named by record id or member number."""
    unit = register.own_unit_id
    if record_id:
        r = Record.__table__
        found = session.connection().execute(select(r.c.id).where(
            r.c.id == record_id, r.c.form_id == FORM_ID, r.c.unit_id == unit)).first()
        if found is None:
            raise KnownError(f"记录编号“{record_id}”不在本会的会员登记库中，请核对。")
        return record_id
    if not member_no:
        raise KnownError("请用 --member-no 指定会员证号，或用 --record 指定记录编号。")
    held = resolve_numbers(session, [member_no], unit).get(member_no, [])
    if not held:
        raise KnownError(f"会员证号“{member_no}”不在会员登记库中，请核对。")
    if len(held) > 1:
        names = "、".join(f"{n}（记录编号 {rid}）" for rid, n in held)
        raise KnownError(f"会员证号“{member_no}”登记了 {len(held)} 条：{names}。请用 --record 指定其中一条。")
    return held[0][0]


def readmit(register: Register, forms: FormSet, *, id_number: str, handler: str, agreed: bool,
            record_id: str = "", member_no: str = "", approver: str = "", basis: str = "",
            batch: str = "", when: date | None = None, actor: str = "") -> Change:
    """重新入会: a member moved out for having no ID number completes it and agrees to rejoin.

    The ID number is checked like any entry (format, checksum, birth date and sex against the
    record, missing ones filled from it) and must not belong to another entry that is still a
    member or was revoked: that person is already in the register.
    """
    when = when or date.today()
    if not agreed:
        raise KnownError("重新入会须经本人同意。确认本人同意后，请加上 --agreed 再运行。")
    if not handler.strip():
        raise KnownError("请用 --handler 填写经办人。")
    form = society_form(forms)
    value, problems = parse_value(form.field("id_number"), id_number, convert_legacy=True)
    if not value:
        raise KnownError("请用 --id-number 填写补全的公民身份号码。")
    with register.session() as session:
        rid = find_entry(register, session, record_id=record_id, member_no=member_no)
        values, revision = load_values(session, [rid])[rid]
        status = str(values.get("status") or "1")
        name = values.get("name") or ""
        if status != NO_ID:
            label = form.field("status").codes.label_of(status)
            raise KnownError(f"{name}的会员状态是“{label}”，只有“暂时移出-无身份证号”的会员可以办理重新入会"
                             "（已退会的请按新会员办理入会）。")
        new = dict(values, id_number=value)
        birth, sex = id_birth_date(value), id_sex(value)
        if birth and not new.get("birth_date"):
            new["birth_date"] = birth.isoformat()
        if sex and not new.get("sex"):
            new["sex"] = sex
        new = cleanup_values(new, READMITTED, basis=basis or READMIT_BASIS, handler=handler,
                             approver=approver, reason="", batch=batch, when=when)
        validator = Validator(form, Environment(today=when))
        errors = [f.message for f in validator.check_local(new, rid)
                  if f.severity == "E" and f.field in _ID_FIELDS]
        errors += [m for _, m in cleanup_findings(cleanup_validator(form, when), new, rid)]
        if errors:
            raise KnownError(f"{name}不能重新入会：" + "；".join(errors))
        key = register.key_hash(PERSON_KIND, value)
        others = [o for o in same_person(session, key, register.own_unit_id)
                  if o[0] != rid and o[3] != DUPLICATE]
        if others:
            o = others[0]
            label = form.field("status").codes.label_of(o[3])
            raise KnownError(f"公民身份号码 {mask_id(value)} 已登记在会员证号 {o[2] or '（无）'}（{o[1]}，"
                             f"{label}）名下：同一人不能再次入会。如确为同一人，请按重复录入处理。")
        write = Write(rid, revision, new, status,
                      {"member_no": str(values.get("member_no") or ""), "basis": new["basis"],
                       "handler": handler, "approver": approver, "agreed": True,
                       "date": when.isoformat(), "id_completed": True},
                      person_key=register.person_hash(value), keys=((PERSON_KIND, key),))
        [change] = write_changes(session, [write], actor=actor or handler,
                                 action="society.readmit", target=rid)
        session.commit()
    return change


def withdraw_overdue(register: Register, forms: FormSet, *, deadline: date, handler: str,
                     approver: str = "", batch: str = "", when: date | None = None,
                     actor: str = "") -> list[Change]:
    """已退会: members still moved out for having no ID number after the deadline the clerk
    set (the notice: 2021-04-30). Refused before the deadline has passed."""
    when = when or date.today()
    if when <= deadline:
        raise KnownError(f"退会期限 {deadline.isoformat()} 还没有过（今天是 {when.isoformat()}）："
                         "期限内暂时移出的会员仍可补全身份证号重新入会。期限过后再运行。")
    if not handler.strip():
        raise KnownError("请用 --handler 填写经办人。")
    form = society_form(forms)
    basis = (f"因无身份证号暂时移出，至 {deadline.isoformat()} 未补全信息或本人不愿继续入会，"
             "按退会处理")
    with register.session() as session:
        rows = member_fields(session.connection(), (), unit_id=register.own_unit_id,
                             status={NO_ID})
        stored = load_values(session, [r[0] for r in rows])
        writes = []
        validator = cleanup_validator(form, when)
        for rid, (values, revision) in sorted(stored.items()):
            new = cleanup_values(values, WITHDRAWN, basis=basis, handler=handler,
                                 approver=approver, reason="", batch=batch, when=when)
            problems = cleanup_findings(validator, new, rid)
            if problems:
                raise KnownError(f"{values.get('name')}：" + "；".join(m for _, m in problems))
            writes.append(Write(rid, revision, new, NO_ID,
                                {"member_no": str(values.get("member_no") or ""), "basis": basis,
                                 "handler": handler, "approver": approver,
                                 "deadline": deadline.isoformat(), "date": when.isoformat()}))
        changes = write_changes(session, writes, actor=actor or handler,
                                action="society.withdraw", target=deadline.isoformat(),
                                detail={"deadline": deadline.isoformat()}) if writes else []
        session.commit()
    return changes


def restore(register: Register, forms: FormSet, *, basis: str, handler: str,
            record_id: str = "", member_no: str = "", approver: str = "", batch: str = "",
            when: date | None = None, actor: str = "") -> Change:
    """恢复在册: reverse a mistaken cleanup decision by a new one that puts the member back in
    the register (status 在册; the cleanup fields now say who restored it and why). The old
    decision stays in the audit log; the new one is audited with the status it reverses.
    Refused for a member who is in the register already, and for a removed copy of a person
    whose other entry is still a member (restore that one, or leave it merged)."""
    when = when or date.today()
    if not handler.strip():
        raise KnownError("请填写经办人。")
    if not basis.strip():
        raise KnownError("请写明恢复的依据，如“经核实，误将其作为重复录入清理”。")
    form = society_form(forms)
    label = form.field("status").codes.label_of
    with register.session() as session:
        rid = find_entry(register, session, record_id=record_id, member_no=member_no)
        values, revision = load_values(session, [rid])[rid]
        status = str(values.get("status") or IN_REGISTER)
        name = values.get("name") or ""
        if status in ACTIVE:
            raise KnownError(f"{name}的会员状态是“{label(status)}”，仍是会员，无需恢复。")
        idv = values.get("id_number")
        if status == DUPLICATE and idv:
            other = next((o for o in same_person(session,
                                                  register.key_hash(PERSON_KIND, str(idv)),
                                                  register.own_unit_id)
                          if o[0] != rid and o[3] != DUPLICATE), None)
            if other is not None:
                raise KnownError(f"{name}与会员证号 {other[2] or '（无）'}（{other[1]}）的公民身份号码"
                                 "相同，是同一人，不能恢复为两个会员。如保留的条目选错了，请恢复本条后"
                                 "将另一条按重复录入处理。")
        new = cleanup_values(values, IN_REGISTER, basis=basis.strip(), handler=handler.strip(),
                             approver=approver.strip(), reason="", batch=batch, when=when)
        problems = cleanup_findings(cleanup_validator(form, when), new, rid)
        if problems:
            raise KnownError(f"{name}不能恢复：" + "；".join(m for _, m in problems))
        write = Write(rid, revision, new, status,
                      {"member_no": str(values.get("member_no") or ""), "basis": basis.strip(),
                       "handler": handler.strip(), "approver": approver.strip(),
                       "reverses": status, "reverses_basis": str(values.get("basis") or ""),
                       "date": when.isoformat()})
        [change] = write_changes(session, [write], actor=actor or handler,
                                 action="society.restore", target=rid)
        session.commit()
    return change


def same_person(session, key: str, unit_id: str) -> list[tuple[str, str, str, str]]:
    """(record id, name, 会员证号, status) of the unit's member entries whose ID number has the
    keyed hash `key`, by record id. The typed columns blind the key and open the row on
    PostgreSQL."""
    k, r = RecordKey.__table__, Record.__table__
    rows = session.connection().execute(
        select(r.c.id, r.c.name, r.c.data).join(r, r.c.id == k.c.record_id)
        .where(k.c.kind == PERSON_KIND, k.c.value == key, r.c.form_id == FORM_ID,
               r.c.unit_id == unit_id).order_by(r.c.id)).all()
    out = []
    for rid, name, data in rows:
        values = json.loads(data) if data else {}
        out.append((rid, name or "", str(values.get("member_no") or ""),
                    str(values.get("status") or IN_REGISTER)))
    return out


# --- member numbers -------------------------------------------------------------------------


@dataclass(frozen=True)
class NextNumber:
    society: Society
    number: str
    issued: int  # numbers already issued under the prefix


def next_number(register: Register, forms: FormSet, society_code: str = "") -> NextNumber:
    """The next free member number of the register's own society (forms/codes/societies.toml:
    the entry named like the register's unit, or `society_code`)."""
    table = forms.tables.get(SOCIETIES_TABLE)
    if table is None:
        raise KnownError("缺少发证法学会代码表 forms/codes/societies.toml，请重新安装本软件。")
    with register.session() as session:
        unit = session.get(Unit, register.own_unit_id)
        society = own_society(table, unit.name if unit else "", society_code or None)
        if society is None:
            if society_code:
                raise KnownError(f"发证法学会代码表中没有代码“{society_code}”。"
                                 f"请在 {table.path} 中加入本会后重试。")
            raise KnownError(f"本单位“{unit.name if unit else ''}”不在发证法学会代码表 {table.path} 中。"
                             "请在该表中加入本会（代码为会员证号前缀，名称与本单位名称相同），"
                             "或用 --society 指定本会的代码。")
        numbers = member_numbers(session.connection(), society.code)
    mine = [n for n in numbers if (p := parse_member_number(n)) and p.prefix == society.code]
    try:
        number = next_member_number(society.code, mine)
    except ValueError as err:
        raise KnownError(str(err)) from None
    return NextNumber(society, number, len(set(mine)))


def first_number(society: Society) -> str:
    return format_member_number(society.code, 1)


# --- statistics ----------------------------------------------------------------------------


def register_stats(register: Register, *, filler: str = "", contact: str = "", filed: str = "",
                   unit_id: str | None = None) -> CleanupStats:
    """The 统计表 of the register's own members, from their statuses."""
    with register.session() as session:
        counts = {status: n for (_, status), n in
                  status_counts(session.connection(), unit_id or register.own_unit_id).items()}
        unit = session.get(Unit, unit_id or register.own_unit_id)
    return stats_from_statuses(counts,
                               unit=unit.name if unit else "", unit_code=unit.code if unit else "",
                               filler=filler, contact=contact, filed=filed)


def stats_by_unit(register: Register, *, filed: str = "", own: bool = True
                  ) -> list[CleanupStats]:
    """The table of every unit whose member records are in the register — the own unit first,
    then the units whose packages were received and merged — each computed from its records'
    statuses (the same computation the unit did itself)."""
    with register.session() as session:
        rows = status_counts(session.connection())
        units = {u.id: u for u in session.exec(select(Unit)).all()}
    counts: dict[str, dict[str, int]] = {}
    for (unit_id, status), n in rows.items():
        counts.setdefault(unit_id, {})[status] = n
    order = sorted((u for u in counts if own or u != register.own_unit_id),
                   key=lambda u: (u != register.own_unit_id, units[u].code if u in units else u))
    return [stats_from_statuses(counts[u], unit=units[u].name if u in units else u,
                                unit_code=units[u].code if u in units else "", filed=filed)
            for u in order]
