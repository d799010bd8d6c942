"""Explicit schema versions (qutebrowser's habit): refuse newer, back up, then migrate older.

The version lives in the `meta` table (key ``schema_version``). A migration is a function that
takes a SQLAlchemy Connection inside the transaction that also bumps the version, so a failed
migration leaves the register as it was (and the backup beside it).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, text

from desktop.errors import NewerSchema

SCHEMA_VERSION = 1

#: {from_version: fn(connection)} — each brings the schema from `from_version` to the next one.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


def newer_schema_error(path: Path, found: int) -> NewerSchema:
    return NewerSchema(
        f"无法打开 {path}：此登记库由更新版本的登记软件创建（版本 {found}），"
        f"本版本只支持到 {SCHEMA_VERSION}，请升级软件；文件未作任何改动。"
    )


def backup_path(path: Path, old_version: int) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.bak-v{old_version}-{stamp}")
    n = 1
    while candidate.exists():  # two migrations within one second
        n += 1
        candidate = path.with_name(f"{path.name}.bak-v{old_version}-{stamp}-{n}")
    return candidate


def backup_file(path: Path, old_version: int) -> Path:
    """Copy the (closed, checkpointed) register beside itself before it is migrated."""
    target = backup_path(path, old_version)
    shutil.copy2(path, target)
    return target


def migrate(connection: Connection, found: int) -> int:
    """Run the migrations from `found` up to SCHEMA_VERSION on `connection`; return the new
    version. The caller owns the transaction."""
    version = found
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise RuntimeError(f"no migration from schema version {version}")
        step(connection)
        version += 1
        connection.execute(
            text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": str(version)}
        )
    return version
