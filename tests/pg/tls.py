"""A throwaway PostgreSQL cluster that speaks TLS only on TCP, with its own certificates.

`make_pki(folder)` writes, with `cryptography`: a test CA, the server's certificate signed by
it (CN and SAN ``DNS:localhost`` only — deliberately no ``IP:127.0.0.1``, so that
``host=127.0.0.1`` with ``sslmode=verify-full`` is a host name the certificate does not name),
a client certificate for the role `CLERK` (certificate authentication: no password anywhere),
and an impostor CA carrying the same name as the real one but another key.

`start_tls_cluster(pki)` starts a cluster (tests/pg/cluster.py `start_cluster`) listening on
127.0.0.1 at a free port, with ``ssl = on`` in postgresql.conf (so a reload can turn it off),
the server key 0600 and owned by the cluster's user as the server demands, and a pg_hba.conf
allowing the local socket (trust, for setting up) and, on TCP, only ``hostssl … cert``: a
connection without TLS finds no line and is refused.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.pg.cluster import Cluster, start_cluster

CLERK = "clerk_tls"  # the login role of the client certificate (its CN)
CA_NAME = "Dengji Test CA"


@dataclass(frozen=True)
class Pki:
    """Where the test's certificates and keys are (PEM files). `impostor_ca` has the real
    CA's name and another key: it signed nothing the server has."""

    ca: Path
    impostor_ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Dengji tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str,
                 issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool,
                 names: list[x509.GeneralName] | None = None,
                 usage: x509.ObjectIdentifier | None = None) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=5))
               .not_valid_after(now + timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer_key.public_key()), critical=False)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    os.chmod(path, 0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def make_pki(folder: Path) -> Pki:
    """A CA, the server's and the clerk's certificates signed by it, and an impostor CA."""
    folder.mkdir(parents=True, exist_ok=True)
    pki = Pki(*(folder / name for name in ("ca.crt", "impostor-ca.crt", "server.crt",
                                           "server.key", f"{CLERK}.crt", f"{CLERK}.key")))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    _write_cert(pki.ca, _certificate(CA_NAME, ca_key, CA_NAME, ca_key, ca=True))
    impostor_key = ec.generate_private_key(ec.SECP256R1())
    _write_cert(pki.impostor_ca,
                _certificate(CA_NAME, impostor_key, CA_NAME, impostor_key, ca=True))
    server_key = ec.generate_private_key(ec.SECP256R1())
    _write_cert(pki.server_cert, _certificate(
        "localhost", server_key, CA_NAME, ca_key, ca=False, names=[x509.DNSName("localhost")],
        usage=ExtendedKeyUsageOID.SERVER_AUTH))
    _write_key(pki.server_key, server_key)
    client_key = ec.generate_private_key(ec.SECP256R1())
    _write_cert(pki.client_cert, _certificate(CLERK, client_key, CA_NAME, ca_key, ca=False,
                                              usage=ExtendedKeyUsageOID.CLIENT_AUTH))
    _write_key(pki.client_key, client_key)
    return pki


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


HBA = """\
# the local socket: the tests' superuser sets up roles and databases
local   all   all                  trust
# TCP: TLS only, and the role is the client certificate's CN (no password)
hostssl all   all   127.0.0.1/32   cert
hostssl all   all   ::1/128        cert
"""


def _configure(pki: Pki):
    def prepare(data: Path) -> None:
        for source, name in ((pki.server_cert, "server.crt"), (pki.server_key, "server.key"),
                             (pki.ca, "root.crt")):
            target = data / name
            target.write_bytes(source.read_bytes())
            os.chmod(target, 0o600)
        (data / "pg_hba.conf").write_text(HBA)
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\n# tests/pg/tls.py\nssl = on\nssl_cert_file = 'server.crt'\n"
                       "ssl_key_file = 'server.key'\nssl_ca_file = 'root.crt'\n"
                       "log_connections = on\n")
    return prepare


def start_tls_cluster(pki: Pki) -> Cluster:
    """The cluster (see the module's docstring); the caller stops it. Its superuser
    connects through `cluster.url(…)` (the socket); `CLERK` exists and may create databases."""
    cluster = start_cluster(port=free_port(), prepare=_configure(pki))
    try:
        cluster.admin(f"CREATE ROLE {CLERK} LOGIN CREATEDB")
    except BaseException:
        cluster.stop()
        raise
    return cluster


def tls_url(cluster: Cluster, database: str, pki: Pki, *, host: str = "localhost",
            sslmode: str = "verify-full", rootcert: Path | None = None,
            client_cert: bool = True) -> str:
    """The URL a clerk writes: the role and host in the authority, libpq's TLS parameters in
    the query."""
    query = [f"sslmode={sslmode}", f"sslrootcert={rootcert or pki.ca}"]
    if client_cert:
        query += [f"sslcert={pki.client_cert}", f"sslkey={pki.client_key}"]
    return f"postgresql://{CLERK}@{host}:{cluster.port}/{database}?{'&'.join(query)}"


def set_ssl(cluster: Cluster, on: bool, *, within: float = 30.0) -> None:
    """Turn the server's TLS on or off by a configuration reload (as an administrator would),
    and wait until a new session sees it."""
    import psycopg

    value = "on" if on else "off"
    cluster.admin(f"ALTER SYSTEM SET ssl = {value}")
    cluster.admin("SELECT pg_reload_conf()")
    deadline = time.monotonic() + within
    while True:
        with psycopg.connect(cluster.url("postgres")) as conn:
            if conn.execute("SHOW ssl").fetchone()[0] == value:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not take ssl = {value} after a reload")
        time.sleep(0.05)
