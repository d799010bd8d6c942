"""Backups of a PostgreSQL register: ``pg_dump`` in its custom format.

An automatic backup (before a migration, a merge, …) goes into the 备份 folder under the user
data folder (desktop/paths.py), named ``<database>-<UTC time>-<reason>.dump``; it is written to
a part file and renamed into place only when pg_dump succeeded. The personal columns are
sealed in the dump as in the database (sealing.py): the dump opens with the register's
passphrase only. ``pg_restore --dbname=<an empty database> <file>`` restores it
(docs/postgresql.md).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

from desktop.errors import KnownError
from desktop.paths import private_dir, tracked_part
from desktop.storage.files import fsync
from desktop.storage.server import failures
from desktop.storage.server.location import ServerLocation

BACKUP_FOLDER = "备份"
SUFFIX = ".dump"


def client_program(name: str) -> str | None:
    """A PostgreSQL client program (pg_dump, pg_restore, psql): on PATH, else Debian's
    /usr/lib/postgresql/<version>/bin (the newest)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(re.sub(r"\D", "", p.split("/")[4]) or 0))
    return candidates[-1] if candidates else None


def client_environment() -> dict[str, str]:
    """The environment pg_dump runs in: the clerk's, with a connect timeout and libpq's
    messages in English (a Chinese locale would translate them, and failures.py reads them to
    say what to fix in Chinese; the program's own libpq, psycopg's, is built without
    translations)."""
    env = {**os.environ, "PGCONNECT_TIMEOUT": "15", "LC_MESSAGES": "C"}
    if "LC_ALL" in env:  # LC_ALL would win over LC_MESSAGES: keep its character set only
        env["LC_CTYPE"] = env.pop("LC_ALL")
    return env


def backup_folder() -> Path:
    """The owner-only folder the automatic backups of server registers go to."""
    return private_dir(BACKUP_FOLDER)


def backup_name(database: str, reason: str) -> str:
    safe = re.sub(r"[^\w.-]", "_", database) or "register"
    return f"{safe}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}-{reason}{SUFFIX}"


def dump(location: ServerLocation, out: Path) -> Path:
    """Write a pg_dump (custom format) of the register at `location` to `out`."""
    program = client_program("pg_dump")
    if program is None:
        raise KnownError("找不到 pg_dump，无法备份 PostgreSQL 登记库，未作任何改动。请安装 "
                         "PostgreSQL 客户端（Debian/Ubuntu：apt-get install postgresql-client）后重试。")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.part")
    with tracked_part(tmp):
        try:
            done = subprocess.run(
                [program, "--format=custom", "--no-password", "--enable-row-security",
                 f"--file={tmp}",
                 f"--dbname={location.url}"],
                capture_output=True, text=True, env=client_environment(), check=False)
            if done.returncode != 0:
                raise KnownError(_failed(location, done.stderr))
            _check(tmp, location)
            fsync(tmp)
            os.replace(tmp, out)
            fsync(out.parent, directory=True)
        finally:
            if tmp.exists():
                tmp.unlink()
    return out


def _failed(location: ServerLocation, stderr: str) -> str:
    """What to tell when pg_dump failed: a refused connection (TLS among others) as the
    commands tell it (failures.py), anything else with pg_dump's own words."""
    told = failures.advice(location.url, stderr)
    if told is not None:
        return (f"备份 PostgreSQL 登记库 {location.name} 未完成，未作任何改动：pg_dump 无法连接"
                f"服务器。{told}（pg_dump 的说明：{failures.libpq_detail(stderr)}）")
    return (f"备份 PostgreSQL 登记库 {location.name} 未完成，未作任何改动："
            f"{stderr.strip()[:400]}。请检查数据库连接和备份位置后重试。")


def _check(part: Path, location: ServerLocation) -> None:
    """The dump reads back: pg_restore lists its table of contents, and the register's tables
    and their data are in it (a backup that exists is a whole one)."""
    program = client_program("pg_restore")
    if program is None:
        return  # pg_dump's exit status is all there is to go by
    done = subprocess.run([program, "--list", str(part)], capture_output=True, text=True,
                          check=False)
    listed = done.stdout
    if done.returncode != 0 or not all(f"TABLE DATA public {t} " in listed
                                       for t in ("meta", "record", "audit_entry")):
        raise KnownError(f"PostgreSQL 登记库 {location.name} 的备份读不回来（{done.stderr.strip()[:200]}），"
                         "备份未完成，未作任何改动。请检查 pg_dump 与服务器的版本后重试。")


def auto_dump(location: ServerLocation, database: str, reason: str) -> Path:
    """A backup of the register into the 备份 folder before a change that is hard to undo."""
    return dump(location, backup_folder() / backup_name(database, reason))
