"""Registers of a firm, a city and a province that know each other's keys, with realistic
records, for the package tests. Registers use cheap scrypt parameters (made in milliseconds).

Both stores (issue 18): a module that sets ``BOTH_STORES = True`` (or a set of its test names)
runs those tests twice, `world[sqlite]` (every register a file) and `world[postgresql]` (every
register, the firms' too, in a new PostgreSQL database: tests/services/conftest.py's
StoreWorld); ``WORLDS = [...]`` runs a module's tests in other layouts (tests/exchange/layouts.py:
firms on the server sending to a city in a file). Choose the tests whose registers read or write what the server seals (records,
names, return comments, conflict notes, package summaries, the audit log); the rest hold on
both stores through the same code and run once (the suite's time).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from desktop.exchange.format.keys import public_key_file
from desktop.exchange.trust import own_sender
from desktop.formspec import FormSet, shipped_forms
from desktop.progress import run
from desktop.services import packages as svc
from desktop.services.intake.importing import import_file
from desktop.storage import (
    AuditEntry,
    KdfParams,
    Override,
    Record,
    RecordKey,
    Register,
    Unit,
    UnitInfo,
    create_register,
)
from desktop.storage.tables import Conflict, ExpectedUnit, Package, ReturnNote, TrustedKey
from tests.conftest import make_firm_records
from tests.pg.cluster import new_database, pg_cluster  # noqa: F401 (the fixture)

FAST_KDF = KdfParams(n=2**10, r=8, p=1)
PASSPHRASE = "口令 Exchange-Tests-1"
CITY = UnitInfo("11000000CITY00001X", "北京市律师行业党委", "city", "110000PROV")
PROVINCE = UnitInfo("110000PROV", "北京省级律师行业党委（测试）", "province")
TABLES = (Record, RecordKey, Override, Unit, Package, TrustedKey, ReturnNote, Conflict,
          ExpectedUnit, AuditEntry)


@dataclass
class Firm:
    register: Register
    members: list[dict]
    org: dict


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def key_file(register: Register) -> bytes:
    with register.session() as session:
        sender, _ = own_sender(session, register)
    return public_key_file(sender.info, sender.signing_private)


def fingerprint_of(register: Register) -> str:
    return svc.own_public_key(register).fingerprint


def counts(register: Register) -> dict[str, int]:
    """Rows per table: what "nothing written" is checked against."""
    with register.session() as session:
        return {t.__tablename__: session.execute(select(func.count()).select_from(t))
                .scalar_one() for t in TABLES}


def overstate_members(register: Register, more: int = 5) -> str:
    """Make the 附件3 record say `more` lawyer members than the register holds; its id."""
    with register.session() as session:
        org = session.execute(select(Record).where(Record.form_id == "party_org")).scalar_one()
        values = json.loads(org.data)
        values["lawyer_members"] = values.get("lawyer_members", 4) + more
        session.execute(update(Record).where(Record.id == org.id)
                        .values(data=json.dumps(values, ensure_ascii=False)))
        session.commit()
        return org.id


@pytest.fixture(scope="session")
def forms() -> FormSet:
    return shipped_forms()


STORES = ["sqlite", "postgresql"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """BOTH_STORES (True, or a set of test names) runs a module's tests on STORES; WORLDS (a
    list of tests/exchange/layouts.py's layouts) runs every test of the module on those."""
    if "world" not in metafunc.fixturenames:
        return
    both = getattr(metafunc.module, "BOTH_STORES", False)
    worlds = getattr(metafunc.module, "WORLDS", None)
    if worlds:
        metafunc.parametrize("world", worlds, indirect=True)
    elif both is True or (bool(both) and metafunc.function.__name__ in both):
        metafunc.parametrize("world", STORES, indirect=True)


@pytest.fixture
def world(request: pytest.FixtureRequest, tmp_path: Path, forms: FormSet) -> Iterator[World]:
    """Registers in files; with the parameter "postgresql" (BOTH_STORES) every register, with
    "firms-on-server" the firms' only, in new databases of the session's cluster, dropped
    after the test (tests/exchange/layouts.py)."""
    with ExitStack() as databases:
        layout = getattr(request, "param", "sqlite")
        if layout == "sqlite":
            w = World(tmp_path, forms)
        else:
            from tests.exchange.layouts import LAYOUTS

            cluster = request.getfixturevalue("pg_cluster")
            w = LAYOUTS[layout](tmp_path, forms, server=lambda: cluster.url(
                databases.enter_context(new_database(cluster))))
        try:
            yield w
        finally:
            for r in w.opened:
                r.close()


class World:
    """Makes registers and links them (each trusts the other's key, as after the paper check)."""

    def __init__(self, folder: Path, forms: FormSet,
                 server: Callable[[], str] | None = None) -> None:
        self.folder, self.forms, self.opened = folder, forms, []
        self.n = 0
        #: with `server` (the URL of a new database each call), the registers of the levels
        #: above the firms live in PostgreSQL; the firms keep their files
        self.server = server

    def register(self, unit: UnitInfo, name: str | None = None, *, kdf: KdfParams = FAST_KDF
                 ) -> Register:
        """A new register; kdf=DEFAULT_KDF for one the `dengji` command can open."""
        self.n += 1
        where = (self.server() if self.server and unit.level != "firm"
                 else self.folder / (name or f"r{self.n}.dengji"))
        reg = create_register(where, PASSPHRASE, unit, kdf=kdf)
        self.opened.append(reg)
        return reg

    def trust(self, register: Register, other: Register) -> None:
        path = self.folder / f"key-{self.n}-{other.own_unit_id[:6]}.djkey"
        self.n += 1
        path.write_bytes(key_file(other))
        svc.trust_key(register, self.forms, path, fingerprint_of(other))

    def link(self, child: Register, parent: Register) -> None:
        self.trust(child, parent)
        self.trust(parent, child)

    def firm(self, seed: int = 1, members: int = 4, *, code: str | None = None,
             parent: Register | None = None) -> Firm:
        records = make_firm_records(seed=seed, members=members, today=date.today())
        unit = UnitInfo(code or records.firm.uscc, f"中共{records.firm.name}支部委员会", "firm",
                        CITY.code)
        reg = self.register(unit)
        self.import_records(reg, records.members, records.org)
        if parent is not None:
            self.link(reg, parent)
        return Firm(reg, records.members, records.org)

    def import_records(self, reg: Register, members: list[dict], org: dict | None) -> None:
        self.n += 1
        for form_id, rows in (("lawyer_member", members), ("party_org", [org] if org else [])):
            if rows:
                path = write_jsonl(self.folder / f"in-{self.n}-{form_id}.jsonl", rows)
                result = run(import_file(reg, self.forms, self.forms.form(form_id), path))
                assert result.refused == 0, [r.findings for r in result.refused_rows]

    def export(self, reg: Register, **kw) -> svc.ExportResult:
        out = self.folder / "out"
        return run(svc.export_package(reg, self.forms, out, **kw))

    def merge(self, reg: Register, *paths: Path) -> list[svc.MergeReport]:
        return run(svc.merge_packages(reg, self.forms, list(paths)))


# --- taking packages apart and putting them back together --------------------------------


def unzip(data: bytes) -> dict[str, bytes]:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(members: dict[str, bytes] | list[tuple[str, bytes]]) -> bytes:
    """A zip of `members` (a list may hold a name twice), deflated, with correct CRCs."""
    import io
    import zipfile

    items = members.items() if isinstance(members, dict) else members
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in items:
            archive.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), content,
                             compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def resign(data: bytes, register: Register, change=None, members: dict | None = None) -> bytes:
    """Re-sign a package's manifest with `register`'s key after `change(manifest)`; with
    `members`, also replace members and recompute their hashes (a consistent forgery).
    A version 2 package is re-sealed (tests/exchange/formats.py: reseal)."""
    import hashlib

    from tests.exchange.formats import reseal, version

    if version(data) >= 2:
        return reseal(data, register, change, members)

    from desktop.exchange.format.keys import b64
    from desktop.exchange.format.manifest import canonical

    parts = unzip(data)
    if members:
        parts.update(members)
    manifest = json.loads(parts["manifest.json"])
    if members:
        for name, content in members.items():
            manifest["members"][name] = {"sha256": hashlib.sha256(content).hexdigest(),
                                         "size": len(content)}
    if change:
        change(manifest)
    with register.session() as session:
        sender, _ = own_sender(session, register)
    manifest["signer"] = {"signing_key": b64(sender.info.signing_key),
                          "encryption_key": b64(sender.info.encryption_key),
                          "fingerprint": sender.info.fingerprint}
    raw = canonical(manifest)
    parts["manifest.json"], parts["manifest.sig"] = raw, sender.signing_private.sign(raw)
    return rezip(parts)
