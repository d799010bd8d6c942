"""本单位信息: the own unit's name and code, and the names a clerk sets once (经办人, 审批人,
填报人, 联系方式) that forms, outputs and the audit log default to.

Name and code live in the own `Unit` row (the manifest's sender is read from it, so a renamed
unit travels upward with the next package and the receiving level sees it as a pending unit
change to confirm). The clerk-set names live in the `meta` table under ``unit.<field>``.

A changed CODE is refused once the register has sent or received a package: the other levels
know this unit by its code (trusted keys, audit anchors, expected units, the recipient code of
packages sent to it), so a new code would make its next package look like a stranger's, or the
packages addressed to it undeliverable. Before the first package the code may be corrected
freely (a typo at first run); afterwards the clerk is told to make a new register with the right
code and tell the level above. Every change is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from sqlmodel import Session, select

from desktop.domain.forms import CodeTable
from desktop.domain.levels import LEVEL_NAMES
from desktop.domain.units import unit_code_problem
from desktop.errors import KnownError, UsageError
from desktop.storage import Meta, Register, Unit, append_audit
from desktop.storage.tables import Package

#: the clerk-set names, as stored (meta key ``unit.<field>``) and as shown
PERSON_FIELDS = {"handler": "经办人", "approver": "审批人", "filler": "填报人", "phone": "联系方式"}
#: what every field of the profile is called in the dialog, the CLI and the audit log
FIELD_LABELS = {"name": "单位名称", "code": "单位代码", **PERSON_FIELDS}
#: who the audit log names when no 经办人 is set yet (never the operating-system login)
NO_HANDLER = "经办人（未填写）"
MAX_LENGTH = 100


@dataclass(frozen=True)
class UnitProfile:
    code: str
    name: str
    level: str
    parent_code: str | None = None
    handler: str = ""
    approver: str = ""
    filler: str = ""
    phone: str = ""

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES.get(self.level, self.level)

    @property
    def actor(self) -> str:
        """Who the audit log names for work done in this register's window."""
        return self.handler or NO_HANDLER

    @property
    def missing(self) -> tuple[str, ...]:
        """The clerk-set names not filled yet (their Chinese labels)."""
        return tuple(label for key, label in PERSON_FIELDS.items() if not getattr(self, key))


def _meta_key(field: str) -> str:
    return f"unit.{field}"


def read_profile(session: Session, register: Register) -> UnitProfile:
    unit = session.get(Unit, register.own_unit_id)
    if unit is None:
        raise KnownError(f"登记库 {register.path} 中没有本单位信息，已损坏，请用备份恢复。")
    keys = [_meta_key(f) for f in PERSON_FIELDS]
    values = {m.key: m.value for m in session.exec(select(Meta).where(Meta.key.in_(keys)))}
    return UnitProfile(unit.code, unit.name, unit.level, unit.parent_code,
                       **{f: values.get(_meta_key(f), "") for f in PERSON_FIELDS})


def unit_profile(register: Register) -> UnitProfile:
    """The own unit's profile."""
    with register.session() as session:
        return read_profile(session, register)


def _clean(field: str, value: object) -> str:
    if field not in FIELD_LABELS:
        raise UsageError(f"本单位信息没有“{field}”这一项；可改：{'、'.join(FIELD_LABELS.values())}")
    text = " ".join(str(value or "").split())  # no newlines or tabs in a name on paper
    if len(text) > MAX_LENGTH:
        raise KnownError(f"“{FIELD_LABELS[field]}”最多 {MAX_LENGTH} 个字")
    if field in ("name", "code") and not text:
        raise KnownError(f"“{FIELD_LABELS[field]}”不能为空")
    return text


def code_is_known(session: Session) -> bool:
    """Whether other units may know this register's code: a package was sent or received."""
    return session.exec(select(Package.id).limit(1)).first() is not None


def save_unit_profile(register: Register, actor: str, changes: Mapping[str, object], *,
                      tables: Mapping[str, CodeTable] | None = None) -> UnitProfile:
    """Apply `changes` (field → new value; fields of FIELD_LABELS) to the own unit's profile,
    audited as one entry ``unit.profile``; returns the new profile. A new code is checked
    against the unit's level (with the code `tables`: regions, societies) and refused once a
    package was sent or received (see the module docstring). Nothing changes when a value is
    refused."""
    with register.session() as session:
        new = write_profile(session, register, actor, changes, tables=tables)
        session.commit()
    return new


def write_profile(session: Session, register: Register, actor: str,
                  changes: Mapping[str, object], *,
                  tables: Mapping[str, CodeTable] | None = None) -> UnitProfile:
    """save_unit_profile inside the caller's transaction (flushed, not committed), for a use
    case that changes the profile together with other things (a handover)."""
    cleaned = {f: _clean(f, v) for f, v in changes.items()}
    old = read_profile(session, register)
    new = replace(old, **cleaned)
    changed = [f.name for f in fields(UnitProfile)
               if f.name in cleaned and getattr(old, f.name) != getattr(new, f.name)]
    if not changed:
        return old
    if "code" in changed:
        if code_is_known(session):
            raise KnownError(
                f"本单位代码不能再改：登记库已经收发过数据包，上级和下级单位按代码“{old.code}”"
                "识别本单位，改了代码的数据包会被当作另一个单位的。如代码确实填错，"
                "请用正确的代码新建登记库，并告知上级单位。")
        problem = unit_code_problem(old.level, new.code, tables or {})
        if problem:
            raise KnownError(f"单位代码不符合要求：{problem}")
    unit = session.get(Unit, register.own_unit_id)
    unit.name, unit.code = new.name, new.code
    session.add(unit)
    for f in PERSON_FIELDS:
        if f in changed:
            row = session.get(Meta, _meta_key(f))
            if row is None:
                session.add(Meta(key=_meta_key(f), value=getattr(new, f)))
            else:
                row.value = getattr(new, f)
                session.add(row)
    # the unit's own name and code are public facts; the people's names and phone travel
    # upward in the audit log, so the log says which of them changed, not to what
    detail = {"changed": [FIELD_LABELS[f] for f in changed]}
    detail.update({f: {"old": getattr(old, f), "new": getattr(new, f)}
                   for f in ("name", "code") if f in changed})
    append_audit(session, actor or old.actor, "unit.profile", old.code, detail)
    return new
