"""Package use cases: export, verify, merge (with return files), accept, return, keys, expected
units, the dashboard and conflicts. UI-free: the window and the `dengji` command call these;
long ones are generators that yield Progress. Each use case owns its transaction(s): a merge
writes each package in one transaction, and nothing at all of a package that fails a check.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select, update

from desktop.domain.context import Environment
from desktop.domain.findings import ERROR
from desktop.domain.validation import Validator
from desktop.domain.values import parse_date, upgrade_stored
from desktop.errors import KnownError, UsageError
from desktop.exchange import conflicts as conflict_repo
from desktop.exchange import dashboard as dash
from desktop.exchange import outbound, returns, trust
from desktop.exchange.errors import PackageRefused
from desktop.exchange.keys import PublicKeyInfo, public_key_file, read_public_key_file
from desktop.exchange.manifest import (
    FORM_SETS,
    KIND_RETURN,
)
from desktop.exchange.merge import MergeOutcome, Units, apply_package
from desktop.exchange.pipeline import Prepared, backup_register, order_key, prepared_files
from desktop.exchange.reader import Verification, recheck, verify_package
from desktop.exchange.writer import Written, write_registration
from desktop.formspec.model import FormSet
from desktop.services.checking import LiveRegisterKeys, UnitPeers
from desktop.services.progress import Progress, Task
from desktop.storage import Record, Register, append_audit
from desktop.storage.tables import Package, utcnow

ACTOR = "命令行"
KEEP_BACKUPS = 3
ACCEPTED, SUBMITTED = "已接收", "已提交"


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


def _read(path: Path, what: str = "数据包") -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise UsageError(f"无法读取{what} {path}（{err.strerror or err}）。请检查路径。") from err


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.writing")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise KnownError(f"无法写入 {path}（{err.strerror or err}）。请换一个有写入权限的位置。") from err


# --- keys -------------------------------------------------------------------------------------


def own_public_key(register: Register) -> PublicKeyInfo:
    with register.session() as session:
        return trust.own_sender(session, register)[0].info


def export_public_key(register: Register, out: Path) -> PublicKeyInfo:
    """Write the own unit's public key file (names the unit; both public keys; self-signed)."""
    with register.session() as session:
        sender, _ = trust.own_sender(session, register)
    _write_atomic(Path(out), public_key_file(sender.info, sender.signing_private))
    return sender.info


def key_info_of_file(path: Path, forms: FormSet) -> PublicKeyInfo:
    """The unit and public keys named by a public key file, or by a package's signer."""
    data = _read(path, "文件")
    if not data.startswith(b"PK"):
        return read_public_key_file(data, str(path))
    v = verify_package(data, Path(path).name, forms)
    if v.manifest is None or not v.ok:
        raise v.refused()
    s = v.manifest.sender
    return PublicKeyInfo(s.code, s.name, s.level, v.manifest.signing_key,
                         v.manifest.encryption_key)


def trust_key(register: Register, forms: FormSet, path: Path, typed_fingerprint: str,
              actor: str = ACTOR) -> tuple[PublicKeyInfo, bool]:
    """Trust the key in `path` (a .djkey file or a package) once its fingerprint matches what
    the clerk typed from the stamped paper cover. Returns (key, newly trusted)."""
    info = key_info_of_file(path, forms)
    with register.session() as session:
        if info.code == trust.own_unit(session, register).code:
            raise KnownError("这是本单位自己的公钥，无需信任。")
        key, new = trust.trust(session, info, typed_fingerprint, actor)
        if new:
            append_audit(session, actor, "keys.trust", info.code, {
                "unit": info.name, "level": info.level, "fingerprint": info.fingerprint,
                "how": key.confirmed_how})
        session.commit()
    return info, new


# --- export -----------------------------------------------------------------------------------


def check_own_records(session, register: Register, forms: FormSet, today: date
                      ) -> list[outbound.Blocker]:
    """Every E of the own unit's records, with register and cross rules (LiveRegisterKeys,
    UnitPeers), as the window shows them: what keeps the package from being exported."""
    env = Environment(today=today, keys=LiveRegisterKeys(register, session, forms),
                      peers=UnitPeers(session, forms, register.own_unit_id))
    validators: dict[str, Validator] = {}
    out: list[outbound.Blocker] = []
    rows = session.execute(select(Record.id, Record.form_id, Record.name, Record.data)
                           .where(Record.unit_id == register.own_unit_id)
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
    None generates the official workbooks and print PDFs (services/package_files.py).
    """
    today = today or date.today()
    yield Progress(0, 4, "校验本单位记录")
    if attachments is None:
        # the files are made (and their making audited) before the export's own transaction
        # opens, so that transaction never works from a snapshot older than those writes
        from desktop.services.package_files import package_attachments

        with register.session() as session:
            _refuse_errors(check_own_records(session, register, forms, today))
        attachments = yield from package_attachments(register, forms, today=today)
    with register.session() as session:
        sender, _ = trust.own_sender(session, register)
        recipient = (read_public_key_file(_read(to, "公钥文件"), str(to)) if to
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
        _write_atomic(path, written.data)
        yield Progress(3, 4, "记录导出")
        outbound.record_sent(session, register, written, recipient, len(content.inner))
        answered = returns.answer_notes(session, written.package_id)
        session.execute(update(Record).where(Record.unit_id == register.own_unit_id)
                        .values(state=SUBMITTED))
        append_audit(session, actor, "export", written.package_id, {
            "file": written.file_name, "sequence": sequence, "supersedes": supersedes,
            "records": len(content.records), "recipient": recipient.code,
            "recipient_fingerprint": recipient.fingerprint, "inner": len(content.inner),
            "attachments": sorted(content.attachments), "answered": answered})
        session.commit()
    yield Progress(4, 4, "完成")
    return ExportResult(path, written.package_id, sequence, supersedes, len(content.records),
                        recipient, len(content.inner), answered)


# --- verify and merge -------------------------------------------------------------------------


def verify_file(path: Path, forms: FormSet, register: Register | None = None,
                fingerprint: str | None = None) -> Verification:
    """Every check of one package or return file (with a register: trust, recipient, sequence,
    decryption and every record too). Writes nothing."""
    data = _read(path)
    if register is None:
        return verify_package(data, Path(path).name, forms, expected_fingerprint=fingerprint)
    with register.session() as session:
        view = trust.register_view(session, register)
    return verify_package(data, Path(path).name, forms, view, expected_fingerprint=fingerprint)


@dataclass(frozen=True)
class MergeReport:
    """What happened to one file of a merge: "merged", "already", "returned" (a return file
    imported) or "refused" (with the reason; nothing of it was written)."""

    path: Path
    status: str
    reason: str = ""
    outcome: MergeOutcome | None = None
    comments: int = 0
    verification: Verification | None = None


COMMIT_EVERY = 2.0  # seconds: a merge commits its finished packages this often


def merge_packages(register: Register, forms: FormSet, paths: Sequence[Path], *,
                   actor: str = ACTOR, today: date | None = None, backup: bool = True,
                   parallel: bool | None = None) -> Task[list[MergeReport]]:
    """Verify and merge packages (and import return files), reporting per file.

    A package is written only when every check passed, and all its writes are atomic (a
    savepoint in the batch's transaction, committed every COMMIT_EVERY seconds and at the end,
    or when the task is cancelled: whole packages only; each commit carries one audit entry
    naming its packages). A refused package leaves no trace but its report. Packages of one sender are merged in sequence order. The register is backed up
    once, before the first write.
    """
    today = today or date.today()
    ordered = sorted(paths, key=order_key)
    reports: list[MergeReport] = []
    backed_up = not backup
    with register.session() as session:
        view = trust.register_view(session, register)
        units = Units(session, view.own_code)
        done: list[dict] = []  # audit details of the packages written since the last commit
        last_commit = time.monotonic()

        def commit() -> None:
            if done:  # one audit entry per transaction, naming every package it wrote
                append_audit(session, actor, "merge", f"{len(done)} 个文件",
                             {"packages": list(done)})
                done.clear()
            session.commit()

        files = prepared_files(ordered, forms, view, today, parallel=parallel)
        try:
            for i, prepared in enumerate(files):
                yield Progress(i, len(ordered), f"核验 {prepared.path.name}")
                v = prepared.verification
                if v is None:
                    reports.append(MergeReport(prepared.path, "refused", prepared.error))
                    continue
                recheck(v, view)
                if v.ok and v.manifest.sender.code == view.own_code:
                    reports.append(MergeReport(prepared.path, "refused", "这是本单位自己发出的"
                                               "数据包（或退回文件），不能合并到本登记库",
                                               verification=v))
                    continue
                if not v.ok or v.already:
                    reports.append(MergeReport(prepared.path, "already" if v.ok else "refused",
                                               "" if v.ok else v.reason(), verification=v))
                    continue
                if not backed_up:
                    session.commit()  # nothing written yet: ends the read snapshot
                    backup_register(register)
                    backed_up = True
                report = _write_one(session, register, prepared, today, units)
                reports.append(report)
                m = v.manifest
                if report.status == "merged":  # what the next file of the batch meets
                    view.merged.setdefault(m.sender.code, {})[m.sequence] = m.package_id
                    o = report.outcome
                    done.append({"file": report.path.name, "package": m.package_id,
                                 "sender": m.sender.code, "sequence": m.sequence,
                                 "records": o.records, "replaced": o.replaced,
                                 "conflicts": o.conflicts, "sha256": v.sha256})
                elif report.status == "returned":
                    view.returns_seen.add(m.package_id)
                    done.append({"file": report.path.name, "return": m.package_id,
                                 "returns": m.returns, "from": m.sender.code,
                                 "comments": report.comments, "sha256": v.sha256})
                v.members, v.records, v.inner = {}, None, {}  # reports keep no data
                if time.monotonic() - last_commit > COMMIT_EVERY:
                    commit()
                    last_commit = time.monotonic()
            commit()
        except GeneratorExit:  # cancelled: keep the packages already merged, whole
            commit()
            raise
        finally:
            files.close()
    yield Progress(len(ordered), len(ordered), "完成")
    return reports


def _write_one(session, register: Register, prepared: Prepared, today: date, units: Units
               ) -> MergeReport:
    """Write one verified package or return file inside a savepoint: all of it, or nothing."""
    v, path = prepared.verification, prepared.path
    m = v.manifest
    savepoint = session.begin_nested()
    try:
        if m.kind == KIND_RETURN:
            n = returns.apply_return(session, v, register.own_unit_id, path.name)
            savepoint.commit()
            return MergeReport(path, "returned", comments=n, verification=v)
        outcome = apply_package(session, register, v, path.name, prepared.data, today, units,
                                prepared.issues)
        savepoint.commit()
    except PackageRefused as err:
        savepoint.rollback()
        units.reload()
        return MergeReport(path, "refused", err.reason, verification=v)
    except BaseException:
        savepoint.rollback()
        raise
    return MergeReport(path, "merged", outcome=outcome, verification=v)


# --- accept and return ------------------------------------------------------------------------


def accept_package(register: Register, package: str, actor: str = ACTOR) -> Package:
    """Accept a received package: its records become 已接收 (and go upward with the next
    export)."""
    with register.session() as session:
        p = returns.find_package(session, package)
        if p.superseded_by:
            raise KnownError(f"数据包 {p.id} 已被同一单位更新的数据包取代，请处理最新的数据包。")
        p.status = "accepted"
        n = session.execute(update(Record).where(Record.package_id == p.id)
                            .values(state=ACCEPTED, updated_at=utcnow())).rowcount
        append_audit(session, actor, "package.accept", p.id, {"sender": p.sender_code,
                                                              "records": n})
        session.commit()
    return p


def return_package(register: Register, forms: FormSet, package: str, comments: Path | None,
                   out: Path, actor: str = ACTOR) -> tuple[Package, Written, Path]:
    """Return a received package with the comments of a .jsonl file (and those drafted while
    resolving conflicts); write the signed return file to `out` (a file, or a folder)."""
    with register.session() as session:
        p = returns.find_package(session, package)
        if p.superseded_by:
            raise KnownError(f"数据包 {p.id} 已被同一单位更新的数据包取代，请退回最新的数据包。")
        notes = returns.read_comments(Path(comments), session, forms, p.id) if comments else []
        sender, _ = trust.own_sender(session, register)
        recipient = trust.trusted_info(session, p.sender_code, p.signer_fingerprint)
        if recipient is None:
            raise KnownError(f"{p.sender_name} 的公钥已不在信任列表中，无法为其加密退回文件。")
        form_set = FORM_SETS.get(p.sender_level, "party")
        written = returns.return_package(session, p, notes, sender, recipient, form_set, actor)
        target = Path(out) / written.file_name if Path(out).is_dir() else Path(out)
        _write_atomic(target, written.data)
        append_audit(session, actor, "package.return", p.id, {
            "return_id": written.package_id, "file": target.name, "comments":
            written.manifest["record_count"], "to": p.sender_code})
        session.commit()
    return p, written, target


# --- expected units, dashboard, conflicts -----------------------------------------------------


def import_expected_units(register: Register, path: Path, deadline: str | None = None,
                          actor: str = ACTOR) -> tuple[int, int]:
    rows = dash.read_expected(Path(path), deadline)
    with register.session() as session:
        added, updated = dash.save_expected(session, rows)
        append_audit(session, actor, "units.import", Path(path).name,
                     {"added": added, "updated": updated})
        session.commit()
    return added, updated


def add_expected_unit(register: Register, code: str, name: str, deadline: str | None = None,
                      actor: str = ACTOR) -> None:
    day = parse_date(deadline) if deadline else None
    if deadline and day is None:
        raise UsageError(f"截止日期“{deadline}”无法识别，请写成 2026-12-31。")
    if not code.strip() or not name.strip():
        raise UsageError("请填写单位代码和名称。")
    row = dash.ExpectedRow(code.strip(), name.strip(), day.isoformat() if day else None)
    with register.session() as session:
        dash.save_expected(session, [row])
        append_audit(session, actor, "units.add", row.code, {"name": row.name,
                                                            "deadline": row.deadline})
        session.commit()


def dashboard(register: Register, today: date | None = None) -> list[dash.UnitStatus]:
    with register.session() as session:
        return dash.dashboard(session, today or date.today())


def list_conflicts(register: Register, *, open_only: bool = True
                   ) -> list[conflict_repo.ConflictView]:
    with register.session() as session:
        return conflict_repo.list_conflicts(session, open_only=open_only)


def resolve_conflict(register: Register, conflict_id: int, action: str, note: str = "",
                     actor: str = ACTOR) -> None:
    with register.session() as session:
        c = conflict_repo.resolve(session, conflict_id, action, note, actor)
        append_audit(session, actor, "conflict.resolve", str(c.id), {
            "action": action, "note": c.note, "record_a": c.record_a, "record_b": c.record_b})
        session.commit()


def record_notes(register: Register, record_id: str, *, open_only: bool = True
                 ) -> list[returns.NoteView]:
    """Return comments received for one own record (the editor shows them beside fields)."""
    with register.session() as session:
        return returns.notes_for(session, record_id, open_only=open_only)


def received_packages(register: Register) -> list[Package]:
    """Every package received or sent, newest first, without their file contents."""
    cols = [c for c in Package.__table__.columns if c.name != "content"]
    with register.session() as session:
        rows = session.execute(select(*cols).order_by(Package.handled_at.desc())).all()
    return [Package(**row._mapping) for row in rows]

