"""Preparing the files of a merge: read, verify, decrypt, read every record and count issues —
in worker processes (as many as the cores, at most WORKERS), a few files ahead of the one the
main process is writing, so the CPU work and the database work of a large merge overlap. Small merges (and forms that were not
loaded from a folder) are prepared in process. Nothing here touches the register.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import zipfile
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from desktop.domain.forms import FormSet
from desktop.errors import UsageError
from desktop.exchange.format.manifest import MANIFEST, Manifest, parse_manifest
from desktop.exchange.format.reader import RegisterView, Verification, verify_package
from desktop.exchange.format.records import Incoming
from desktop.exchange.merge import package_issues
from desktop.inputs import regular_file
from desktop.processes import die_with_parent
from desktop.storage import Register

#: a merge of at least this many files (or bytes) is prepared in a worker process
PARALLEL_FILES, PARALLEL_BYTES = 8, 8 << 20
WORKERS = 2  # processes preparing files (at most the machine's cores) …
MANY_FILES = 50  # … for a merge of at least this many files (one worker keeps up otherwise)
LOOKAHEAD = 3  # files prepared ahead of the one being written
KEEP_BACKUPS = 3


@dataclass
class Prepared:
    """One file of a merge, ready to be written (or refused)."""

    path: Path
    data: bytes
    error: str  # the file could not be read (then there is no verification)
    verification: Verification | None
    issues: tuple[int, int] = (0, 0)
    wire: list[tuple] | None = None  # records in transit between processes


def prepare(path: Path, forms: FormSet, view: RegisterView, today: date) -> Prepared:
    """Read and verify one file against `view`, and count its records' issues."""
    try:
        data = regular_file(path, "数据包").read_bytes()  # a FIFO or device: refused, not read
    except UsageError as err:
        return Prepared(Path(path), b"", str(err), None)
    except OSError as err:
        return Prepared(Path(path), b"", f"无法读取数据包 {path}（{err.strerror or err}）。"
                        "请检查路径。", None)
    v = verify_package(data, Path(path).name, forms, view)
    issues = package_issues(v, today) if v.ok and not v.already else (0, 0)
    return Prepared(Path(path), data, "", v, issues)


def order_key(path: Path) -> tuple[str, int]:
    """(sender code, sequence) of a package, so one sender's packages merge oldest first."""
    try:
        with zipfile.ZipFile(regular_file(path, "数据包")) as archive:
            info = archive.getinfo(MANIFEST)
            if info.file_size > 64 << 20:
                return ("", 0)
            m = parse_manifest(archive.read(info))
            return (m.sender.code, m.sequence)
    except Exception:  # only for the order: a damaged file is refused, with its reason, later
        return ("", 0)


def backup_register(register: Register, tag: str = "merge") -> Path:
    """A checked backup in the register's 备份 folder (the newest ten are kept)."""
    from desktop.storage.backup import auto_backup

    return auto_backup(register, tag).path


# --- in a worker process ------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _view_state(view: RegisterView) -> dict[str, Any]:
    raw = view.decrypt_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return {**dataclasses.asdict(dataclasses.replace(view, decrypt_key=None, owners=None)),
            "key": raw}


def _init_worker(forms_dir: str, state: dict[str, Any], parent: int) -> None:
    from desktop.formspec import shipped_forms

    die_with_parent(parent)

    key = X25519PrivateKey.from_private_bytes(state.pop("key"))
    _WORKER["forms"] = shipped_forms(Path(forms_dir))
    _WORKER["view"] = RegisterView(**{**state, "decrypt_key": key})


def _prepare_in_worker(path: Path, today: date) -> Prepared:
    prepared = prepare(path, _WORKER["forms"], _WORKER["view"], today)
    prepared.data = b""  # read again at home rather than sent through a pipe
    v = prepared.verification
    if v is not None:  # what the writer needs travels back, not the whole files
        v.members, v.speakers = {}, []  # v.units keeps what the writer needs of the speakers
        v.inner = {pid: _light(m) for pid, m in v.inner.items()}
        if v.manifest is not None:
            v.manifest = _light(v.manifest)
    if v is not None and v.records is not None:  # FormSpecs stay home: ids travel instead
        prepared.wire = [(r.id, r.unit_code, r.form.id, r.form_version, r.state, r.revision,
                          r.values, r.current, r.overrides, r.origin, r.digest, r.values_json)
                         for r in v.records]
        v.records = None
    return prepared


_HEAVY = ("record_digests", "members")


def _light(m: Manifest) -> Manifest:
    """A manifest without its per-record digests and member hashes (checked in the worker;
    the writer needs neither), so it crosses the pipe cheaply."""
    return dataclasses.replace(m, raw={k: v for k, v in m.raw.items() if k not in _HEAVY},
                               record_digests=frozenset(), members={})


def _arrived(prepared: Prepared, forms: FormSet) -> Prepared:
    v = prepared.verification
    if v is not None and v.ok and not v.already:
        try:
            prepared.data = prepared.path.read_bytes()
        except OSError as err:
            prepared.data = b""
            prepared.error = f"无法读取数据包 {prepared.path}（{err.strerror or err}）。"
        if hashlib.sha256(prepared.data).hexdigest() != v.sha256:  # changed since verified
            prepared.verification = None
            prepared.error = prepared.error or (f"数据包 {prepared.path.name} 在核验后被改动，"
                                                "未写入任何内容。请重新合并。")
            return prepared
    if prepared.wire is not None:
        prepared.verification.records = [
            Incoming(t[0], t[1], forms.forms[t[2]], *t[3:]) for t in prepared.wire]
        prepared.wire = None
    return prepared


def _forms_dir(forms: FormSet) -> Path | None:
    paths = {f.path.parent for f in forms.forms.values() if f.path is not None}
    return paths.pop() if len(paths) == 1 and all(f.path for f in forms.forms.values()) else None


def prepared_files(paths: Sequence[Path], forms: FormSet, view: RegisterView, today: date,
                   *, parallel: bool | None = None) -> Iterator[Prepared]:
    """Prepare `paths` in order; with a worker process when the merge is large enough.

    Files prepared ahead are checked against `view` as it was: the caller rechecks the
    sequence and who holds the record ids (reader.recheck) before writing each one, so they
    are not asked here.
    """
    view = dataclasses.replace(view, owners=None)
    forms_dir = _forms_dir(forms)
    if parallel is None:
        size = sum(Path(p).stat().st_size for p in paths if Path(p).is_file())
        parallel = (len(paths) >= PARALLEL_FILES or size >= PARALLEL_BYTES) and len(paths) > 1
    if not parallel or forms_dir is None or (os.cpu_count() or 1) < 2:
        for path in paths:
            yield prepare(path, forms, view, today)
        return
    workers = min(WORKERS if len(paths) >= MANY_FILES else 1, os.cpu_count() or 1)
    pool = ProcessPoolExecutor(workers, initializer=_init_worker,
                               initargs=(str(forms_dir), _view_state(view), os.getpid()))
    try:
        queue: deque[Future] = deque()
        todo = iter(paths)
        for path in todo:
            queue.append(pool.submit(_prepare_in_worker, path, today))
            if len(queue) > LOOKAHEAD:
                break
        while queue:
            prepared = queue.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                queue.append(pool.submit(_prepare_in_worker, nxt, today))
            yield _arrived(prepared, forms)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
