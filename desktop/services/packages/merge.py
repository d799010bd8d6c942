"""Verifying and merging received packages (and importing return files): every check of a
file before anything of it is written, the whole merge one transaction (fully in or fully out
after a crash, a kill or a cancel). UI-free; re-exported by desktop.services.packages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from desktop.domain.forms import FormSet
from desktop.exchange import keyevents, returns, trust
from desktop.exchange.changes import read_summary
from desktop.exchange.format.chain import anchor_of
from desktop.exchange.format.errors import PackageRefused
from desktop.exchange.format.manifest import CHANGES, KIND_RETURN
from desktop.exchange.format.reader import Verification, recheck, verify_package
from desktop.exchange.merge import MergeOutcome, Units, apply_package
from desktop.exchange.pipeline import Prepared, backup_register, order_key, prepared_files
from desktop.progress import Progress, Task
from desktop.services.packages.io import ACTOR, read_file
from desktop.services.packages.stats import received_stats, stats_summary
from desktop.storage import Register, append_audit
from desktop.storage.audit import RECORD_HASHES


def verify_file(path: Path, forms: FormSet, register: Register | None = None,
                fingerprint: str | None = None) -> Verification:
    """Every check of one package or return file (with a register: trust, recipient, sequence,
    decryption and every record too, and whatever the register would refuse of it on merging:
    verify and merge agree). Writes nothing."""
    data = read_file(path)
    if register is None:
        return verify_package(data, Path(path).name, forms, expected_fingerprint=fingerprint)
    with register.session() as session:  # open while verifying: the view asks who holds ids
        view = trust.register_view(session, register)
        return verify_package(data, Path(path).name, forms, view,
                              expected_fingerprint=fingerprint)


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
    stats_finding: str = ""  # the society's table disagrees with the package's records


def merge_packages(register: Register, forms: FormSet, paths: Sequence[Path], *,
                   actor: str = ACTOR, today: date | None = None, backup: bool = True,
                   parallel: bool | None = None) -> Task[list[MergeReport]]:
    """Verify and merge packages (and import return files), reporting per file.

    The whole merge is one transaction with one audit entry naming every file it wrote: after
    a crash, a kill or a cancel it is either fully in or fully out. A package is written only
    when every check passed; a refused package leaves no trace but its report. Packages of one
    sender are merged in sequence order. The register is backed up once, before the first
    write. A society's statistics table in a package is checked against its records (a
    disagreement is reported on the merged package and kept with it).
    """
    today = today or date.today()
    ordered = sorted(paths, key=order_key)
    reports: list[MergeReport] = []
    backed_up = not backup
    with register.session() as session:
        view = trust.register_view(session, register)
        units = Units(session, view.own_code)
        done: list[dict] = []  # audit details of the packages written
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
                    if v.rotations or v.revocations:  # keys it rotated or revoked
                        keyevents.store_received(session, v, actor)
                        view.trusted = trust.register_view(session, register).trusted
                        view.retired = keyevents.retired_view(session)
                    if v.audit_chain:
                        view.audit_heads[m.sender.code] = anchor_of(v.audit_chain)
                    o = report.outcome
                    done.append({"file": report.path.name, "package": m.package_id,
                                 "sender": m.sender.code, "sequence": m.sequence,
                                 "records": o.records, "replaced": o.replaced,
                                 "conflicts": o.conflicts, "sha256": v.sha256,
                                 RECORD_HASHES: {r.id: r.digest for r in v.records},
                                 **({"stats": report.stats_finding}
                                    if report.stats_finding else {})})
                elif report.status == "returned":
                    view.returns_seen.add(m.package_id)
                    if v.rotations:  # the level above rotated its key
                        keyevents.store_received(session, v, actor)
                        view.trusted = trust.register_view(session, register).trusted
                    done.append({"file": report.path.name, "return": m.package_id,
                                 "returns": m.returns, "from": m.sender.code,
                                 "comments": report.comments, "sha256": v.sha256})
                v.members, v.records, v.inner, v.speakers = {}, None, {}, []  # reports keep no data
            if done:  # one audit entry for the one transaction, naming every file it wrote
                append_audit(session, actor, "merge", f"{len(done)} 个文件",
                             {"packages": done})
            session.commit()
        finally:  # cancelled or failed: nothing of this merge stays (the session rolls back)
            files.close()
    yield Progress(len(ordered), len(ordered), "完成")
    return reports


def _write_one(session, register: Register, prepared: Prepared, today: date, units: Units
               ) -> MergeReport:
    """Write one verified package or return file: all of it, or nothing (a registration
    package is checked whole before its first write; a return file has a savepoint)."""
    v, path = prepared.verification, prepared.path
    m = v.manifest
    if m.kind == KIND_RETURN:
        savepoint = session.begin_nested()
        try:
            n = returns.apply_return(session, v, register.own_unit_id, path.name)
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()
        return MergeReport(path, "returned", comments=n, verification=v)
    table, finding = received_stats(v)
    carried = read_summary(v.members.get(CHANGES))  # the sender's own change summary
    try:
        outcome = apply_package(session, register, v, path.name, prepared.data, today, units,
                                prepared.issues, {**stats_summary(table, finding), **(
                                    {"changes": carried} if carried is not None else {})})
    except PackageRefused as err:
        return MergeReport(path, "refused", err.reason, verification=v)
    return MergeReport(path, "merged", outcome=outcome, verification=v, stats_finding=finding)
