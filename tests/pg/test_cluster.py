"""The throwaway cluster itself: a Unix socket only, removed at the end, and a clear skip where
PostgreSQL is not installed."""

from __future__ import annotations

import psycopg
import pytest

from tests.pg import cluster as pg


def test_the_cluster_listens_on_its_socket_only(pg_cluster, pg_url):
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == ""
        assert conn.execute("SHOW unix_socket_directories").fetchone()[0] == str(
            pg_cluster.folder)
    assert pg_url.startswith("postgresql:///t_") and f"host={pg_cluster.folder}" in pg_url


def test_a_cluster_is_removed_when_stopped():
    own = pg.start_cluster()
    assert (own.folder / "data" / "postmaster.pid").exists()
    own.stop()
    assert not own.folder.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(own.url("postgres"), connect_timeout=2)


def test_no_initdb_skips_saying_how_to_install(monkeypatch):
    monkeypatch.setattr(pg, "_program", lambda name: None)
    with pytest.raises(pytest.skip.Exception, match="apt-get install postgresql"):
        pg.start_cluster()
