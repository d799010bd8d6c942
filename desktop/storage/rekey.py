"""Re-keying a register: to stronger key-derivation parameters (crypto.py) on a successful
open, to a new passphrase (services/secrets.py: a passphrase change, a recovery).

In steps a kill at any moment cannot leave half done: the register file is copied into its
备份 folder first (with its recovery slot, recovery.carry); a new salt (recording the
parameters) and key are chosen, from the same passphrase or a new one; ``sqlcipher_export``
writes every table into a hidden part file keyed with them; the part is checked (its header
holds the new salt, it opens with the new key, ``quick_check`` passes, every table has as many
rows as the register's) and flushed to disk; the recovery side file gets the new salt's slot
beside the old one (recovery.add_slot, through `prepare`); then the part replaces the register
file in one rename. Until that rename the old file, with its old salt and key, is the register;
after it, the new one is; each opens by its passphrase and by the recovery key. A part file
left by a kill is removed at the next start (paths.tidy), and a re-key to stronger parameters
is tried again at the next open.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desktop.paths import tracked_part
from desktop.storage import crypto, recovery
from desktop.storage.crypto import KdfParams
from desktop.storage.files import (
    backup_file,
    fsync,
    has_side_files,
    prune_backups,
    remove_with_side_files,
)


@dataclass(frozen=True)
class Rekeyed:
    key_literal: str  # what now opens the register
    backup: Path  # the copy taken before, openable with the old parameters


def rekey_file(path: Path, key_literal: str, passphrase: str, kdf: KdfParams, *,
               backup: Path | None = None,
               prepare: Callable[[bytes, bytes], None] | None = None) -> Rekeyed | None:
    """Re-key the closed register at `path` (opened by `key_literal`) to `kdf` and a key derived
    from `passphrase` (the same one, or a new one: a passphrase change, a recovery), after
    backing it up (unless `backup`, a copy taken moments before in the same open — by a
    migration — is given). `prepare(new_salt, new_key)` runs after the new file is checked and
    before it is renamed over the register (the recovery slot of the new salt is written
    then: recovery.add_slot). None, with the register unchanged, when it cannot be done now (a
    -wal file another process may still need, a full disk, a read-only folder)."""
    if has_side_files(path, ("-wal", "-journal")):
        return None
    if backup is None:
        try:
            backup = backup_file(path, "rekey")
            recovery.carry(path, backup)
            prune_backups(path)
        except OSError:
            return None
    salt = crypto.new_salt(kdf)
    new_key = crypto.derive_key(passphrase, salt, kdf)
    new_literal = crypto.raw_key(new_key, salt)
    part = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.rekeying")
    with tracked_part(part):
        try:
            crypto.export_copy(path, key_literal, part, new_literal)
            if crypto.read_header(part)[: crypto.SALT_BYTES] != salt:
                raise RuntimeError("SQLCipher did not write the chosen salt as the file header")
            _same_content(path, key_literal, part, new_literal)
            fsync(part)
            if prepare is not None:
                prepare(salt, new_key)
            if has_side_files(path, ("-wal", "-journal")):
                raise OSError("the register was written to while it was re-keyed")
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{path}-shm")
            os.replace(part, path)
            fsync(path.parent, directory=True)
        except (OSError, crypto.DatabaseError):
            remove_with_side_files(part)
            return None
        except BaseException:
            remove_with_side_files(part)
            raise
    return Rekeyed(new_literal, backup)


def _same_content(path: Path, key_literal: str, part: Path, new_literal: str) -> None:
    """Raise unless `part` opens with `new_literal`, passes quick_check and has every table of
    `path` with as many rows."""
    old = crypto.connect(path, key_literal, configure=False)
    new = crypto.connect(part, new_literal, configure=False)
    try:
        if new.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise crypto.DatabaseError("the re-keyed copy fails quick_check")
        tables = [name for (name,) in old.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for name in tables:
            count = f'SELECT count(*) FROM "{name}"'
            if old.execute(count).fetchone() != new.execute(count).fetchone():
                raise crypto.DatabaseError(f"the re-keyed copy lost rows of {name}")
    finally:
        old.close()
        new.close()
