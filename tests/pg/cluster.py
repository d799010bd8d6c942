"""A throwaway PostgreSQL cluster for the tests, and a fresh database per test.

`pg_cluster` (session): initdb in a new temporary folder, the server listening only on a Unix
socket in that folder (no TCP port), trust authentication for the one local user; stopped and
removed at the end of the session even when tests fail (and at exit, if the session dies).
Run as root, the cluster's programs run as the ``postgres`` system user (initdb refuses root)
and the folder is handed to it. `pg_url` (per test): ``CREATE DATABASE`` with a new name, the
``postgresql:///<db>?host=<socket folder>&user=<role>`` URL of it, dropped afterwards.

`start_cluster(port=…, prepare=…)` makes a cluster that also listens on 127.0.0.1 at `port`,
with `prepare(data folder)` run between initdb and the start to write its configuration (the
TLS tests' certificates and pg_hba.conf: tests/pg/tls.py); the session cluster uses neither.

Tests that need PostgreSQL skip, saying why, only when no initdb can be found at all
(.ci/run installs PostgreSQL, so CI runs them).
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROLE = "dengji_test"


def _program(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int("".join(c for c in p.split("/")[4] if c.isdigit()) or 0))
    return found[-1] if found else shutil.which(name)


@dataclass
class Cluster:
    folder: Path
    bin: Path
    as_user: list[str]
    port: int | None = None  # a TCP port on 127.0.0.1 besides the socket (None: socket only)

    @property
    def socket_dir(self) -> str:
        return str(self.folder)

    def url(self, database: str, role: str = ROLE) -> str:
        """The URL of `database` through the Unix socket."""
        port = f"&port={self.port}" if self.port else ""
        return f"postgresql:///{database}?host={self.socket_dir}{port}&user={role}"

    def admin(self, sql: str) -> None:
        """Run one statement as the cluster's superuser (autocommit)."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def stop(self) -> None:
        if not (self.folder / "data" / "postmaster.pid").exists():
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"),
                        "-m", "immediate", "-w", "stop"], capture_output=True, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def _system_user(*names: str) -> pwd.struct_passwd:
    for name in names:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(f"none of the users {names} exists to run the test cluster as")


def start_cluster(*, port: int | None = None,
                  prepare: Callable[[Path], None] | None = None) -> Cluster:
    """A new cluster listening on a Unix socket in its folder, and on 127.0.0.1:`port` when
    a port is given; `prepare(data folder)` runs after initdb, before the start, and what it
    writes there is handed to the cluster's user (modes kept)."""
    initdb = _program("initdb")
    if initdb is None:
        pytest.skip("PostgreSQL is not installed here (no initdb on PATH or in "
                    "/usr/lib/postgresql/*/bin): install it (apt-get install postgresql; "
                    ".ci/run does) to run the PostgreSQL tests")
    bin_dir = Path(os.path.realpath(initdb)).parent
    # a short folder: the socket path must stay under 108 bytes
    folder = Path(tempfile.mkdtemp(prefix="djpg-", dir="/tmp"))
    as_user: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
        owner = _system_user("postgres", "nobody")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", owner.pw_name, "--"]
    cluster = Cluster(folder, bin_dir, as_user, port)
    listen = f"-c listen_addresses=127.0.0.1 -p {port}" if port else "-c listen_addresses=''"
    atexit.register(cluster.stop)
    data = folder / "data"
    try:
        subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", ROLE,
                        "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
                       capture_output=True, text=True, check=True)
        if prepare is not None:
            prepare(data)
            if owner is not None:
                for path in (data, *data.rglob("*")):
                    os.chown(path, owner.pw_uid, owner.pw_gid)
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l",
                        str(folder / "server.log"), "-o",
                        f"{listen} -k {folder} -c fsync=off "
                        "-c full_page_writes=off -c max_connections=200", "start"],
                       capture_output=True, text=True, check=True)
    except subprocess.CalledProcessError as err:
        log = folder / "server.log"
        cluster.stop()
        raise RuntimeError(f"the test cluster did not start: {err.stderr}\n"
                           f"{log.read_text() if log.exists() else ''}") from err
    return cluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@contextmanager
def new_database(cluster: Cluster, owner: str | None = None) -> Iterator[str]:
    """The name of a new, empty database in `cluster` (owned by `owner`), dropped after."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    cluster.admin(f"CREATE DATABASE {name}" + (f" OWNER {owner}" if owner else ""))
    try:
        yield name
    finally:
        cluster.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_database(pg_cluster: Cluster) -> Iterator[str]:
    """The name of a new, empty database, dropped after the test."""
    with new_database(pg_cluster) as name:
        yield name


@pytest.fixture
def pg_url(pg_cluster: Cluster, pg_database: str) -> str:
    """The URL of a new, empty database (see the module's docstring)."""
    return pg_cluster.url(pg_database)
