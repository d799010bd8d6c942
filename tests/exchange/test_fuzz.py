"""Fuzzing the package reader with hypothesis: random bytes, damaged packages, hostile zips and
correctly signed packages with wild manifests and records. Never a crash; nothing written unless
every check passed; and no damage to a good package ever changes what would be merged. Each
test draws the package of either format: version 2 as written, or the same in the version 1
layout (tests/exchange/formats.py: to_v1)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from desktop.exchange.format import encryption
from desktop.exchange.format.manifest import PAYLOAD, PLAIN_RECORDS, RECORDS
from desktop.exchange.format.reader import verify_package
from desktop.exchange.format.writer import jsonl
from desktop.exchange.trust import register_view
from desktop.formspec import shipped_forms
from desktop.services import packages as svc
from desktop.storage import Record
from tests.exchange.conftest import CITY, World, counts, resign, rezip, unzip
from tests.exchange.formats import data_lines, reseal, to_v1

pytestmark = pytest.mark.slow  # about 3,000 inputs in all
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=12)


class Bench:
    """A city, a linked firm and one good package, made once for the module."""

    def __init__(self, folder: Path) -> None:
        self.world = World(folder, shipped_forms())
        self.city = self.world.register(CITY, "city.dengji")
        self.firm = self.world.firm(seed=101, parent=self.city)
        sent = self.world.export(self.firm.register)
        self.path, self.data = sent.path, sent.path.read_bytes()
        with self.city.session() as session:
            self.view = register_view(session, self.city)
        good = verify_package(self.data, "good", self.world.forms, self.view)
        assert good.ok
        self.good_records = [(r.id, r.values, r.state) for r in good.records]
        self.v1 = to_v1(self.data, self.firm.register)
        self.manifest = json.loads(unzip(self.v1)["manifest.json"])
        self.lines = data_lines(self.data, self.firm.register)
        assert data_lines(self.v1, self.firm.register) == self.lines
        assert verify_package(self.v1, "good-v1", self.world.forms, self.view).ok
        self.n = 0

    def package(self, old: bool) -> bytes:
        """The good package in the version 1 layout (`old`) or as written (version 2)."""
        return self.v1 if old else self.data

    def check(self, data: bytes) -> None:
        """verify_package never raises; anything it accepts merges exactly the good records."""
        v = verify_package(data, "fuzzed.djpkg", self.world.forms, self.view)
        if v.ok:
            assert [(r.id, r.values, r.state) for r in v.records] == self.good_records

    def encrypted(self, lines: list) -> tuple[bytes, dict]:
        keys = [(r["fingerprint"], base64.b64decode(r["x25519"]))
                for r in self.manifest["encryption"]["recipients"]]
        return encryption.encrypt(jsonl(lines), keys, self.manifest["package_id"].encode())


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Bench:
    b = Bench(tmp_path_factory.mktemp("fuzz"))
    yield b
    for r in b.world.opened:
        r.close()


@settings(FUZZ, max_examples=600)
@given(st.binary(max_size=2000))
def test_random_bytes(bench: Bench, data: bytes) -> None:
    bench.check(data)
    bench.check(b"PK\x03\x04" + data)


@settings(FUZZ, max_examples=1200)
@given(st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                min_size=1, max_size=8),
       st.sampled_from(["flip", "truncate", "insert"]), st.booleans())
def test_damaged_packages(bench: Bench, edits, how: str, old: bool) -> None:
    data = bytearray(bench.package(old))
    for where, byte in edits:
        i = int(where * len(data))
        if how == "flip":
            data[i] = byte
        elif how == "insert":
            data[i:i] = bytes([byte])
        else:
            del data[i:]
            break
    bench.check(bytes(data))


@settings(FUZZ, max_examples=300)
@given(st.dictionaries(st.text(min_size=1, max_size=40), st.binary(max_size=300),
                       max_size=6),
       st.lists(st.sampled_from(["manifest.json", "manifest.sig", RECORDS,
                                 "audit/audit.jsonl", PAYLOAD]), max_size=2), st.booleans())
def test_hostile_zips(bench: Bench, extra: dict, dropped: list, old: bool) -> None:
    parts = {k: v for k, v in unzip(bench.package(old)).items() if k not in dropped}
    try:
        data = rezip({**parts, **extra})
    except (ValueError, UnicodeEncodeError):  # names zipfile itself refuses to write
        return
    bench.check(data)


@settings(FUZZ, max_examples=400)
@given(st.sampled_from(["format_version", "kind", "package_id", "created", "sender",
                        "recipient", "sequence", "supersedes", "forms", "record_count",
                        "units", "inner", "record_digests", "members", "encryption",
                        "answers", "returns", "form_set", "payload"]),
       json_values, st.booleans())
def test_signed_manifests_with_wild_values(bench: Bench, key: str, value, old: bool) -> None:
    """Correctly signed by the trusted firm: only the reader's own strictness protects."""
    bench.check(resign(bench.package(old), bench.firm.register,
                       lambda m: m.__setitem__(key, value)))


@settings(FUZZ, max_examples=400)
@given(st.integers(0, 4), st.sampled_from(["id", "unit", "form_id", "form_version", "state",
                                           "revision", "values", "overrides", "origin"]),
       json_values, st.booleans(), st.integers(0, 100), st.booleans())
def test_signed_records_with_wild_values(bench: Bench, row: int, key: str, value,
                                         into_values: bool, which: int, old: bool) -> None:
    """Records encrypted for the city and signed by the trusted firm, one value made wild."""
    lines = json.loads(json.dumps(bench.lines))
    if into_values:
        field = sorted(lines[row]["values"])[which % len(lines[row]["values"])]
        lines[row]["values"][field] = value
    else:
        lines[row][key] = value
    if not old:  # inside the payload, re-sealed for the city and the firm
        bench.check(reseal(bench.data, bench.firm.register, members={PLAIN_RECORDS: jsonl(lines)}))
        return
    ciphertext, envelope = bench.encrypted(lines)
    bench.check(resign(bench.v1, bench.firm.register,
                       lambda m: m.update(encryption=envelope), members={RECORDS: ciphertext}))


@settings(FUZZ, max_examples=100)
@given(st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                min_size=1, max_size=4),
       st.booleans(), st.booleans())
def test_merge_writes_nothing_of_a_damaged_package(bench: Bench, edits, shorten: bool,
                                                   old: bool) -> None:
    """Through the whole merge service and a real register: no crash, no partial write."""
    data = bytearray(bench.package(old))
    for where, byte in edits:
        data[int(where * len(data))] = byte
    if shorten:
        data = data[: int(edits[0][0] * len(data))]
    bench.n += 1
    path = bench.world.folder / f"fuzz-{bench.n}.djpkg"
    path.write_bytes(bytes(data))
    before = counts(bench.city)
    [report] = bench.world.merge(bench.city, path)
    if report.status == "merged":  # a harmless change (a zip timestamp): the real records
        with bench.city.session() as session:
            stored = session.execute(select(Record.id, Record.data, Record.state).where(
                Record.package_id == report.outcome.package_id)).all()
        assert sorted((i, json.loads(d), s) for i, d, s in stored) == sorted(
            bench.good_records, key=lambda r: r[0])
        assert svc.dashboard(bench.city)[0].records == 5
    else:
        assert report.status in ("refused", "already")
        assert counts(bench.city) == before
