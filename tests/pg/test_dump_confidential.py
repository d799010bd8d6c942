"""A pg_dump of a PostgreSQL register holding generated members (desktop/sampledata.py, through
`dengji import`) shows no name, ID number, phone or address; the same search finds every one
of them in a deliberately unencrypted control table of the same dump, so the search can fail."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import date

import psycopg
from sqlalchemy import select

from desktop.storage import Record, open_register
from desktop.storage.server.dump import client_program
from tests.conftest import PASSPHRASE, UNIT_CODE, UNIT_NAME, make_firm_records

PERSONAL = ("姓名", "公民身份号码", "手机号码", "固定电话", "家庭住址")


def _section(dump: str, table: str) -> tuple[str, str]:
    """The COPY block of `table` in a plain dump, and the dump without it."""
    match = re.search(rf"^COPY public\.{table} .*?^\\\.$", dump, re.S | re.M)
    assert match, f"no data of {table} in the dump"
    return match.group(0), dump[:match.start()] + dump[match.end():]


def test_a_dump_of_the_register_holds_no_personal_data(dengji, jsonl, pg_url, monkeypatch):
    assert dengji("init", "--db", pg_url, "--level", "firm", "--unit-name", UNIT_NAME,
                  "--unit-code", UNIT_CODE).code == 0
    people = make_firm_records(seed=1802, members=25, today=date.today())
    for form, rows in (("party_org", [people.org]), ("lawyer_member", people.members)):
        result = dengji("import", "--db", pg_url, "--form", form, jsonl(rows, f"{form}.jsonl"))
        assert result.code == 0, result.err

    # what is searched for: every personal value as given, and as the register stores it
    needles = {m[f] for m in people.members for f in PERSONAL if m.get(f)}
    from desktop.storage import crypto

    monkeypatch.setattr(crypto, "DEFAULT_KDF", crypto.KdfParams(n=2**15, r=8, p=1))
    with open_register(pg_url, PASSPHRASE) as register, register.session() as session:
        stored = [json.loads(d) for (d,) in session.execute(
            select(Record.data).where(Record.form_id == "lawyer_member"))]
    assert len(stored) == 25
    needles |= {str(v) for row in stored for k, v in row.items()
                if v and k in {"name", "id_number", "mobile", "landline", "address", "licence"}}
    needles |= {m["姓名"] for m in people.members}
    assert len(needles) >= 6 * 25  # given and stored forms, licences too

    with psycopg.connect(pg_url) as conn:  # the control: the same values, not sealed
        conn.execute("CREATE TABLE control_plain (data text)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO control_plain VALUES (%s)",
                            [(json.dumps(m, ensure_ascii=False),) for m in people.members]
                            + [(json.dumps(r, ensure_ascii=False),) for r in stored])
    dump = subprocess.run([client_program("pg_dump"), "--format=plain", f"--dbname={pg_url}"],
                          capture_output=True, text=True, check=True).stdout
    control, register_part = _section(dump, "control_plain")
    _section(dump, "record")  # the register's data is in the dump (sealed)
    assert not [n for n in needles if n not in control]
    leaked = sorted(n for n in needles if n in register_part)
    assert leaked == []
