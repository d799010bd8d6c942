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
from desktop.exchange.format.writer import write_registration
from desktop.progress import Progress, Task
from desktop.services.intake.checking import LiveRegisterKeys, UnitPeers
from desktop.services.packages.io import ACTOR, read_file
from desktop.services.packages.stats import stats_members
from desktop.storage import Record, Register, append_audit
from desktop.storage.files import publish

KEEP_BACKUPS = 3


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


def _refuse_errors(blockers: list) -> None:
    if blockers:
        raise ExportBlocked(f"有 {len({b.record_id for b in blockers})} 条记录存在错误（E），"
                            "改正后才能导出数据包。", blockers)


def export_package(register: Register, forms: FormSet, out_dir: Path, *,
                   to: Path | None = None, attachments: dict[str, bytes] | None = None,
                   actor: str = ACTOR, today: date | None = None) -> Task[ExportResult]:
    """Check, build, sign and write the next package into `out_dir`.

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
        recipient = (read_public_key_file(read_file(to, "公钥文件"), str(to)) if to
                     else trust.parent_recipient(session, register))
        _refuse_errors(check_own_records(session, register, forms, today))
        yield Progress(1, 4, "汇集记录")
        sequence, supersedes = outbound.next_sequence(session, sender.info.code)
        content = outbound.build_content(session, register, forms, sequence, supersedes,
                                         attachments or {})
        in_conflict = outbound.open_conflicts(session, {r["id"] for r in content.records})
        if in_conflict:
            raise ExportBlocked(f"有 {len(in_conflict)} 个重复登记冲突尚未处理，处理后才能导出"
                                "（dengji conflicts list）。", [
                outbound.Blocker(c.record_b, "", "", "", f"冲突 {c.id}：与记录 {c.record_a} "
                                 "是同一人") for c in in_conflict])
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
                        recipient, len(content.inner), answered[0], drafts[0])
