"""Export of the own unit's package: every own record checked, then signed and encrypted for the
recipient. UI-free; the export is a generator that yields Progress and owns its transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select, update

from desktop.domain.context import Environment
from desktop.domain.findings import ERROR
from desktop.domain.forms import FormSet
from desktop.domain.states import DRAFT
from desktop.domain.states import SENT as SUBMITTED
from desktop.domain.validation import Validator
from desktop.domain.values import upgrade_stored
from desktop.errors import KnownError
from desktop.exchange import outbound, returns, trust
from desktop.exchange.format.keys import PublicKeyInfo, read_public_key_file
from desktop.exchange.format.manifest import CHANGES
from desktop.exchange.format.writer import write_registration
from desktop.progress import Progress, Task
from desktop.services.intake.checking import LiveRegisterKeys, UnitPeers
from desktop.services.packages.changes import summary_for_export
from desktop.services.packages.io import ACTOR, read_file
from desktop.services.packages.stats import stats_members
from desktop.storage import Record, Register, append_audit
from desktop.storage.files import publish
from desktop.storage.tables import PACKAGE_SENT, Conflict, Package

KEEP_BACKUPS = 3
#: how a refusal's line for an open conflict begins (the window offers 冲突… for it)
CONFLICT_LINE = "冲突 "


class ExportBlocked(KnownError):
    """Export refused: records with an E or in open conflicts (listed in `blockers`)."""

    def __init__(self, message: str, blockers: list[outbound.Blocker]) -> None:
        super().__init__(message)
        self.blockers = blockers


@dataclass(frozen=True)
class ExportResult:
    path: Path
    package_id: str
    sequence: int
    supersedes: str | None
    records: int
    recipient: PublicKeyInfo
    inner: int
    answered: int
    drafts: int = 0  # own drafts the package left out (they stay in the register)
    #: what changed since the last sent package (changes.Comparison.sentence), "" for a first
    changes: str = ""


def own_drafts(session, register: Register) -> int:
    """How many of the own unit's records are drafts: a package leaves them out."""
    from desktop.services.drafts import drafts_left_out

    return drafts_left_out(session, [register.own_unit_id], None)


def check_own_records(session, register: Register, forms: FormSet, today: date
                      ) -> list[outbound.Blocker]:
    """Every E of the own unit's records that the package takes (no drafts: they stay behind,
    own_drafts counts them), with register and cross rules (LiveRegisterKeys, UnitPeers) over
    every stored record, as the window shows them: what keeps the package from being exported."""
    env = Environment(today=today, keys=LiveRegisterKeys(register, session, forms),
                      peers=UnitPeers(session, forms, register.own_unit_id))
    validators: dict[str, Validator] = {}
    out: list[outbound.Blocker] = []
    rows = session.execute(select(Record.id, Record.form_id, Record.name, Record.data)
                           .where(Record.unit_id == register.own_unit_id,
                                  Record.state != DRAFT)
                           .order_by(Record.form_id, Record.created_at))
    for rid, form_id, name, data in rows:
        form = forms.forms.get(form_id)
        if form is None:
            out.append(outbound.Blocker(rid, form_id, name, "", f"表单“{form_id}”本软件不认识"))
            continue
        validator = validators.get(form_id)
        if validator is None:
            validator = validators[form_id] = Validator(form, env)
        for f in validator.check(upgrade_stored(form.fields, json.loads(data)), rid):
            if f.severity == ERROR:
                out.append(outbound.Blocker(rid, form.display_title, name,
                                            form.label_of(f.field), f.message))
    return out


def _refusal(blockers: list) -> ExportBlocked | None:
    if not blockers:
        return None
    return ExportBlocked(f"有 {len({b.record_id for b in blockers})} 条记录存在错误（E），"
                         "改正后才能导出数据包。", blockers)


def _refuse_errors(blockers: list) -> None:
    refusal = _refusal(blockers)
    if refusal is not None:
        raise refusal


def _conflict_refusal(session, record_ids: set[str]) -> ExportBlocked | None:
    in_conflict = outbound.open_conflicts(session, record_ids)
    if not in_conflict:
        return None
    return ExportBlocked(f"有 {len(in_conflict)} 个重复登记冲突尚未处理，处理后才能导出"
                         "（dengji conflicts list）。", [
        outbound.Blocker(c.record_b, "", "", "", f"{CONFLICT_LINE}{c.id}：与记录 {c.record_a} "
                         "是同一人") for c in in_conflict])


def export_check(register: Register, forms: FormSet, today: date | None = None
                 ) -> ExportBlocked | None:
    """The refusal the export would give (None: none) for the own records' errors, then for
    open conflicts: checked before the clerk is asked for a key file or a folder."""
    with register.session() as session:
        refusal = _refusal(check_own_records(session, register, forms, today or date.today()))
        if refusal is None and session.execute(
                select(Conflict.id).where(Conflict.status == "open").limit(1)).first():
            refusal = _conflict_refusal(session, outbound.included_ids(session, register))
        return refusal


def last_sent_package(register: Register) -> str | None:
    """The id of the newest package this unit exported (None before the first)."""
    with register.session() as session:
        return session.execute(
            select(Package.id).where(Package.direction == PACKAGE_SENT,
                                     Package.kind == "registration")
            .order_by(Package.sequence.desc()).limit(1)).scalar_one_or_none()


@dataclass(frozen=True)
class BlockerRecord:
    """What the refusal list needs of a blocking record to offer its way out."""

    form_id: str
    name: str
    state: str


def blocker_records(register: Register, record_ids: list[str]) -> dict[str, BlockerRecord]:
    """The form, name and state of each own record named by a refusal (others are left out)."""
    found: dict[str, BlockerRecord] = {}
    ids = sorted(set(record_ids))
    with register.session() as session:
        for start in range(0, len(ids), 900):
            for rid, form_id, name, state in session.execute(
                    select(Record.id, Record.form_id, Record.name, Record.state)
                    .where(Record.id.in_(ids[start:start + 900]),
                           Record.unit_id == register.own_unit_id)):
                found[rid] = BlockerRecord(form_id, name or "", state)
    return found


def drafts_beside(register: Register, forms: FormSet, blockers: list[outbound.Blocker]
                  ) -> list[outbound.Blocker]:
    """The own drafts of the same person as a blocking record: a mistaken draft puts a
    duplicate's error on the genuine record; voiding it is the way out."""
    blocking = {b.record_id for b in blockers}
    if not blocking:
        return []
    out: list[outbound.Blocker] = []
    ids = sorted(blocking)
    with register.session() as session:
        named: dict[str, str] = {}
        for start in range(0, len(ids), 900):
            named.update(session.execute(
                select(Record.person_key, Record.name)
                .where(Record.id.in_(ids[start:start + 900]),
                       Record.person_key.is_not(None))).all())
        keys = sorted(named)
        for start in range(0, len(keys), 900):
            for rid, form_id, name, key in session.execute(
                    select(Record.id, Record.form_id, Record.name, Record.person_key)
                    .where(Record.person_key.in_(keys[start:start + 900]),
                           Record.unit_id == register.own_unit_id, Record.state == DRAFT)
                    .order_by(Record.created_at)):
                if rid in blocking:
                    continue
                form = forms.forms.get(form_id)
                out.append(outbound.Blocker(
                    rid, form.display_title if form else form_id, name or "", "",
                    f"草稿：与{named[key] or '上面的记录'}是同一人（证件号码相同）。"
                    "若是误建的，作废这条草稿"))
    return out


def export_package(register: Register, forms: FormSet, out_dir: Path, *,
                   to: Path | None = None, recipient: PublicKeyInfo | None = None,
                   attachments: dict[str, bytes] | None = None,
                   actor: str = ACTOR, today: date | None = None) -> Task[ExportResult]:
    """Check, build, sign and write the next package into `out_dir`.

    The package is for the key file `to`, else `recipient`, else the trusted parent's key.
    Refused (ExportBlocked) while an own record has an E or an included record is in an open
    conflict. `attachments` ("xlsx/附件4.xlsx" -> bytes, "pdf/…") are hashed like every member;
    None generates the official workbooks and print PDFs (services/package_files.py). A law
    society's package also carries its statistics table (services/package_stats.py).
    """
    today = today or date.today()
    yield Progress(0, 4, "校验本单位记录")
    if attachments is None:
        # the files are made before the export's own transaction opens; their making is not
        # audited apart (the export's entry lists them, and only a written package has one)
        from desktop.services.packages.files import package_attachments

        with register.session() as session:
            _refuse_errors(check_own_records(session, register, forms, today))
        attachments = yield from package_attachments(register, forms, today=today)
    with register.session() as session:
        level = trust.own_unit(session, register).level
    attachments = {**(attachments or {}), **stats_members(register, level, today)}
    with register.session() as session:
        sender, _ = trust.own_sender(session, register)
        if to:
            recipient = read_public_key_file(read_file(to, "公钥文件"), str(to))
        elif recipient is None:
            recipient = trust.parent_recipient(session, register)
        _refuse_errors(check_own_records(session, register, forms, today))
        yield Progress(1, 4, "汇集记录")
        sequence, supersedes = outbound.next_sequence(session, sender.info.code)
        content = outbound.build_content(session, register, forms, sequence, supersedes,
                                         attachments or {})
        in_conflict = _conflict_refusal(session, {r["id"] for r in content.records})
        if in_conflict is not None:
            raise in_conflict
        # the change summary since the last sent package travels inside the payload
        member, comparison = summary_for_export(session, register, forms, sender.info.code,
                                                content.records)
        if member is not None:
            content.attachments[CHANGES] = member
        yield Progress(2, 4, "加密并签名")
        written = write_registration(content, sender, recipient)
        path = Path(out_dir) / written.file_name
        yield Progress(3, 4, "记录导出")
        answered: list[int] = []
        drafts: list[int] = []

        def record() -> None:
            outbound.record_sent(session, register, written, recipient, len(content.inner))
            answered.append(returns.answer_notes(session, written.package_id))
            session.execute(update(Record).where(Record.unit_id == register.own_unit_id,
                                                 Record.state != DRAFT)
                            .values(state=SUBMITTED))
            drafts.append(own_drafts(session, register))
            append_audit(session, actor, "export", written.package_id, {
                "file": written.file_name, "sequence": sequence, "supersedes": supersedes,
                "records": len(content.records), "recipient": recipient.code,
                "recipient_fingerprint": recipient.fingerprint, "inner": len(content.inner),
                "attachments": sorted(content.attachments), "answered": answered[0],
                "drafts_left_out": drafts[0]})
            session.commit()

        # the file appears under its name only once the register holds its sequence
        publish(path, written.data, record)
    yield Progress(4, 4, "完成")
    return ExportResult(path, written.package_id, sequence, supersedes, len(content.records),
                        recipient, len(content.inner), answered[0], drafts[0],
                        comparison.sentence() if comparison is not None else "")
