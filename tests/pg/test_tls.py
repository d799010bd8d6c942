"""A register on a server reached over TLS (issue 18: "connections use TLS when the URL asks;
sslmode=verify-full works"), against a cluster of this module's own that takes TLS only on TCP
and authenticates the clerk by a client certificate (tests/pg/tls.py).

The commands (`init`, `import`, `export-excel`, `audit`, `backup` — pg_dump gets the URL's TLS
parameters too) and `open_register` work on
``postgresql://clerk_tls@localhost:PORT/db?sslmode=verify-full&sslrootcert=…&sslcert=…&sslkey=…``;
the server's own statistics show the session encrypted. Each way it can go wrong is refused
with a Chinese message saying what to fix, libpq's words kept as the detail: a server
certificate from another CA, a host name the certificate does not name, a server without TLS
when the URL asks for it, a plain connection to the TLS-only server, a missing root
certificate, no or a wrong client certificate, a client key others can read. A URL carrying a
password (the role's or the key's `sslpassword`) is refused before any connection.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from desktop.errors import KnownError
from desktop.storage import create_register, open_register
from desktop.storage.server.dump import dump
from desktop.storage.server.location import ServerLocation
from tests.conftest import PASSPHRASE as CLI_PASSPHRASE
from tests.conftest import UNIT_CODE, UNIT_NAME, make_firm_records
from tests.pg.cluster import Cluster, new_database
from tests.pg.tls import CLERK, Pki, make_pki, set_ssl, start_tls_cluster, tls_url
from tests.storage.conftest import FAST_KDF, OWN_UNIT, PASSPHRASE


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls(pki: Pki) -> Iterator[Cluster]:
    cluster = start_tls_cluster(pki)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def database(tls: Cluster) -> Iterator[str]:
    """A new empty database owned by the clerk's role."""
    with new_database(tls, CLERK) as name:
        yield name


@pytest.fixture(scope="module")
def untouched(tls: Cluster) -> Iterator[str]:
    """One empty database for the refusals: each test checks that it is still empty."""
    with new_database(tls, CLERK) as name:
        yield name


@pytest.fixture
def url(tls: Cluster, database: str, pki: Pki) -> str:
    return tls_url(tls, database, pki)


@pytest.fixture(autouse=True)
def no_home_certificates(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """libpq's defaults (~/.postgresql/root.crt, postgresql.crt/.key) point into an empty
    home: what a test proves comes from its URL alone."""
    monkeypatch.setenv("HOME", str(tmp_path / "home-of-clerk"))
    for name in ("PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY", "PGSERVICE"):
        monkeypatch.delenv(name, raising=False)


def _tables(tls: Cluster, database: str) -> list[str]:
    with psycopg.connect(tls.url(database)) as conn:
        return [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]


def _log(tls: Cluster) -> str:
    return (tls.folder / "server.log").read_text(errors="replace")


def test_the_commands_work_over_verify_full_and_pg_dump_too(dengji, jsonl, tls, database, url,
                                                            tmp_path):
    made = dengji("init", "--db", url, "--level", "firm", "--unit-name", UNIT_NAME,
                  "--unit-code", UNIT_CODE)
    assert made.code == 0, made.err
    records = make_firm_records(seed=1818, members=4, today=date.today())
    for form, rows in (("party_org", [records.org]), ("lawyer_member", records.members)):
        result = dengji("import", "--db", url, "--form", form, jsonl(rows, f"{form}.jsonl"))
        assert result.code == 0, result.err
    book = tmp_path / "附件1.xlsx"
    listed = dengji("export-excel", "--db", url, "--form", "lawyer_member", "--out", book)
    assert listed.code == 0, listed.err
    assert book.stat().st_size > 0
    audit = dengji("audit", "--db", url)
    assert audit.code == 0, audit.err

    before = len(_log(tls))
    out = tmp_path / "tls.dump"
    backup = dengji("backup", "--db", url, "--out", out)
    assert backup.code == 0, backup.err
    assert out.read_bytes().startswith(b"PGDMP") and "校验通过" in backup.out
    # pg_dump reached the server over TCP (the URL's host), where only hostssl with a client
    # certificate is allowed: it had sslmode, sslrootcert, sslcert and sslkey from the URL
    during = _log(tls)[before:]
    dumped = [line for line in during.splitlines()
              if "connection authorized" in line and f"database={database}" in line
              and "pg_dump" in line]
    assert dumped, during
    assert all(f"user={CLERK}" in line and "SSL enabled" in line for line in dumped), dumped

    with psycopg.connect(tls.url(database)) as conn:
        assert conn.execute("SELECT count(*) FROM record").fetchone()[0] == 5
        actors = {r[0] for r in conn.execute("SELECT DISTINCT actor FROM audit_entry")}
    # the audit log names the certificate's role
    assert actors and all(a == CLERK or a.endswith(f"@{CLERK}") for a in actors), actors


def test_every_session_of_the_clerk_is_encrypted(tls, database, url):
    create_register(url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF).close()
    with open_register(url, PASSPHRASE, kdf=FAST_KDF) as reg, reg.engine.connect() as conn:
        ssl, version, client_dn, user = conn.execute(text(
            "SELECT s.ssl, s.version, s.client_dn, current_user FROM pg_stat_ssl s "
            "WHERE s.pid = pg_backend_pid()")).one()
    assert ssl is True and version in ("TLSv1.2", "TLSv1.3")
    assert user == CLERK and f"CN={CLERK}" in client_dn
    # and the server itself never let the clerk's role in without TLS
    authorized = [line for line in _log(tls).splitlines()
                  if "connection authorized" in line and f"user={CLERK}" in line]
    assert authorized and all("SSL enabled" in line for line in authorized)


def test_the_host_name_check_is_what_refuses_an_address_the_certificate_does_not_name(
        dengji, tls, database, pki):
    # the certificate names DNS:localhost only; verify-ca checks the CA and not the name
    by_address = tls_url(tls, database, pki, host="127.0.0.1", sslmode="verify-ca")
    create_register(by_address, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF).close()
    refused = dengji("audit", "--db", tls_url(tls, database, pki, host="127.0.0.1"))
    assert refused.code != 0
    assert "服务器证书上的名称与地址中的主机名 127.0.0.1 不符" in refused.err
    assert "请在地址中写证书上的主机名（localhost）" in refused.err
    assert 'does not match host name "127.0.0.1"' in refused.err  # libpq's words kept


def _refused(url: str, database: str, tls: Cluster) -> str:
    """The message `init` and `open_register` give for `url`; nothing made in the database."""
    with pytest.raises(KnownError) as made:
        create_register(url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF)
    with pytest.raises(KnownError) as opened:
        open_register(url, PASSPHRASE, kdf=FAST_KDF)
    assert _tables(tls, database) == []
    first, second = str(made.value), str(opened.value)
    assert first.startswith("无法连接 PostgreSQL 登记库") and first == second
    return first


def test_a_server_certificate_from_another_ca_is_refused(dengji, tls, untouched, pki):
    url = tls_url(tls, untouched, pki, rootcert=pki.impostor_ca)
    said = _refused(url, untouched, tls)
    assert f"服务器证书无法验证：它不是由 sslrootcert 指向的根证书（{pki.impostor_ca}）所签发" in said
    assert "certificate verify failed" in said
    run = dengji("init", "--db", url, "--level", "firm", "--unit-name", UNIT_NAME,
                 "--unit-code", UNIT_CODE)
    assert run.code == 1 and "服务器证书无法验证" in run.err and _tables(tls, untouched) == []


def test_a_plain_connection_to_the_tls_only_server_is_refused(tls, untouched, pki):
    said = _refused(tls_url(tls, untouched, pki, sslmode="disable"), untouched, tls)
    assert "服务器只接受加密连接" in said and "sslmode=disable" in said
    assert "sslmode=verify-full&sslrootcert=" in said and "no encryption" in said


def test_a_missing_root_certificate_names_the_file_and_the_default(tls, untouched, pki,
                                                                   tmp_path):
    missing = tmp_path / "no-such-ca.crt"
    said = _refused(tls_url(tls, untouched, pki, rootcert=missing), untouched, tls)
    assert f"找不到或读不出根证书文件 {missing}" in said
    default = tls_url(tls, untouched, pki).replace(f"sslrootcert={pki.ca}&", "")
    assert "sslrootcert" not in default
    said = _refused(default, untouched, tls)
    assert "根证书文件 ~/.postgresql/root.crt" in said and "sslrootcert=根证书路径" in said


def test_client_certificate_problems_are_told_apart(tls, untouched, pki, tmp_path):
    without = _refused(tls_url(tls, untouched, pki, client_cert=False), untouched, tls)
    assert "服务器要求客户端证书" in without and "sslcert=证书路径&sslkey=私钥路径" in without

    other_role = tls_url(tls, untouched, pki).replace(f"{CLERK}@", "dengji_test@")
    said = _refused(other_role, untouched, tls)
    assert "客户端证书上的名称（CN）与登录角色 dengji_test 不符" in said

    stranger = make_pki(tmp_path / "stranger")  # a certificate from a CA the server never saw
    url = tls_url(tls, untouched, pki).replace(str(pki.client_cert), str(stranger.client_cert))
    url = url.replace(str(pki.client_key), str(stranger.client_key))
    said = _refused(url, untouched, tls)
    assert "服务器不信任这张客户端证书" in said

    loose = tmp_path / "loose.key"
    shutil.copyfile(pki.client_key, loose)
    os.chmod(loose, 0o644)
    said = _refused(tls_url(tls, untouched, pki).replace(str(pki.client_key), str(loose)),
                    untouched, tls)
    assert f"请执行 chmod 600 {loose}" in said


@pytest.fixture
def ssl_off(tls: Cluster) -> Iterator[None]:
    """The same server with TLS turned off by a reload, on again afterwards."""
    set_ssl(tls, False)
    try:
        yield
    finally:
        set_ssl(tls, True)


def test_a_url_asking_for_tls_is_refused_by_a_server_without_it(dengji, ssl_off, tls,
                                                                  untouched, pki):
    for mode in ("require", "verify-full"):
        said = _refused(tls_url(tls, untouched, pki, sslmode=mode), untouched, tls)
        assert f"服务器没有开启 TLS 加密，而地址要求加密连接（sslmode={mode}），未以明文连接" in said
        assert "ssl = on" in said and "server does not support SSL" in said
    # libpq's default (prefer) falls back to plain text, which pg_hba refuses
    said = _refused(tls_url(tls, untouched, pki, sslmode="prefer"), untouched, tls)
    assert "服务器只接受加密连接" in said
    run = dengji("audit", "--db", tls_url(tls, untouched, pki, sslmode="require"))
    assert run.code == 1 and "服务器没有开启 TLS 加密" in run.err


def test_pg_dump_refused_by_tls_says_what_to_fix_and_leaves_no_file(tls, untouched, pki,
                                                                    tmp_path):
    out = tmp_path / "backups" / "refused.dump"
    with pytest.raises(KnownError) as err:
        dump(ServerLocation(tls_url(tls, untouched, pki, rootcert=pki.impostor_ca)), out)
    said = str(err.value)
    assert said.startswith(f"备份 PostgreSQL 登记库 {untouched} 未完成，未作任何改动：pg_dump 无法连接")
    assert "服务器证书无法验证" in said and "pg_dump 的说明：" in said
    assert "certificate verify failed" in said and "pg_dump: error:" not in said
    assert not out.exists() and list(out.parent.iterdir()) == []


@pytest.mark.parametrize("secret_in", [
    "sslpassword={s}", "SSLPassword={s}", "password={s}", "pass%77ord={s}", "user:{s}@"])
def test_a_url_with_a_password_is_refused_before_connecting(dengji, tls, untouched, pki,
                                                            secret_in):
    secret = "Hunter2-key-secret"
    url = tls_url(tls, untouched, pki)
    if secret_in.startswith("user:"):
        url = url.replace(f"{CLERK}@", f"{CLERK}:{secret}@")
    else:
        url = f"{url}&{secret_in.format(s=secret)}"
    before = len(_log(tls))
    run = dengji("init", "--db", url, "--level", "firm", "--unit-name", UNIT_NAME,
                 "--unit-code", UNIT_CODE)
    assert run.code == 2 and secret not in run.out + run.err
    expected = "sslpassword" if "sslpassword" in secret_in.lower() else ".pgpass"
    assert expected in run.err
    assert _tables(tls, untouched) == []
    assert "host=127.0.0.1" not in _log(tls)[before:]  # no connection was even tried


def test_a_real_dengji_process_opens_the_register_over_tls(dengji, tls, database, url):
    """One run of the program in its own process (the other tests call the same `main` in
    this one): nothing of the test's own process (its imports, its patched key cost) helps."""
    assert dengji("init", "--db", url, "--level", "firm", "--unit-name", UNIT_NAME,
                  "--unit-code", UNIT_CODE).code == 0
    env = {**os.environ, "DENGJI_PASSPHRASE": CLI_PASSPHRASE}
    done = subprocess.run([sys.executable, "-m", "desktop", "audit", "--db", url],
                          capture_output=True, text=True, env=env, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_a_misspelt_sslmode_is_named(tls, untouched, pki):
    said = _refused(tls_url(tls, untouched, pki, sslmode="verify"), untouched, tls)
    assert "地址中的 sslmode 写错了" in said and 'invalid sslmode value: "verify"' in said


@pytest.mark.parametrize("said", [
    "connection failed: server closed the connection unexpectedly\n"
    "\tThis probably means the server terminated abnormally",
    "SSL SYSCALL error: EOF detected",
    # a translated libpq (pg_dump under a Chinese locale, if LC_MESSAGES=C were lost)
    "pg_dump: 错误: 连接到服务器失败: SSL 错误: 证书验证失败",
])
def test_what_is_not_a_known_refusal_keeps_the_general_advice_and_libpq_words(said):
    from desktop.storage.server.failures import GENERAL, advice, refusal_message

    url = "postgresql://clerk@db.example.org/reg?sslmode=verify-full"
    assert advice(url, said) is None
    message = refusal_message(url, url, said)
    assert message.endswith(GENERAL) and said.splitlines()[0].split(": ", 1)[-1] in message


def test_pg_dump_speaks_libpq_english_whatever_the_clerks_locale(monkeypatch):
    from desktop.storage.server.dump import client_environment

    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    env = client_environment()
    assert env["LC_MESSAGES"] == "C" and "LC_ALL" not in env
    assert env["LC_CTYPE"] == "zh_CN.UTF-8" and env["PGCONNECT_TIMEOUT"] == "15"
