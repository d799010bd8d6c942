"""The window's lists on a PostgreSQL register: every name opened in one pass, newest first
from the form's index, and a sealed name that does not belong to its row refused."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import update
from sqlmodel import select

from desktop.formspec import shipped_forms
from desktop.services import listing
from desktop.storage import Record, create_register
from desktop.storage.server import SealingError, open_values, seal_value
from tests.storage.conftest import FAST_KDF, OWN_UNIT, PASSPHRASE

NAMES = ["张三", "李四", "Ólafur O'Brien", "王\u200b五", "赵" * 60, "", "钱七"]


@pytest.fixture
def filled(pg_url):
    register = create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF)
    forms = shipped_forms()
    unit_id = next(u.id for u in listing.list_units(register) if u.is_own)
    rows = [{"form_id": "lawyer_member", "form_version": "1", "unit_id": unit_id,
             "data": "{}", "name": name} for name in NAMES]
    with register.session() as s:
        for row in rows:
            s.add(Record(**row))
            s.commit()  # one by one: each its own creation time
    yield register, forms.forms["lawyer_member"], unit_id
    register.close()


def test_names_open_in_one_pass_newest_first(filled):
    register, form, unit_id = filled
    index = listing.load_index(register, form, unit_id)
    assert index.names == [n for n in reversed(NAMES)]
    many = listing.load_names(register, index.rowids * 1000)  # the whole-table path (> 5000)
    assert many == index.names * 1000


def test_a_name_moved_from_another_row_does_not_open(filled, pg_url):
    register, form, unit_id = filled
    index = listing.load_index(register, form, unit_id)
    first, second = index.rowids[0], index.rowids[1]
    with psycopg.connect(pg_url) as conn:  # a DBA copies one row's sealed name onto another
        conn.execute("UPDATE record SET name = (SELECT name FROM record WHERE id = %s) "
                     "WHERE id = %s", (first, second))
    with pytest.raises(SealingError, match=str(second)):
        listing.load_names(register, index.rowids)


@pytest.mark.parametrize("stored", ["dj1.not base64!", "plain text", "dj1.", "dj1.QUJD"])
def test_damaged_values_are_refused_not_passed_through(filled, stored):
    register, _form, _unit = filled
    good = seal_value(register.engine, "record", "name", "row-1", "张三")
    with pytest.raises(SealingError, match="row-2"):
        open_values(register.engine, "record", "name", [("row-1", good), ("row-2", stored)])
    assert open_values(register.engine, "record", "name", [("row-1", good), ("x", None)]) \
        == ["张三", None]


def test_the_list_is_read_from_the_forms_index(filled, pg_url):
    """Newest first without sorting the table: the plan walks ix_record_form_created."""
    register, _form, _unit = filled
    with psycopg.connect(pg_url) as conn:
        conn.execute("SET enable_seqscan = off")  # 7 rows: make the planner show its choice
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT id FROM record WHERE form_id = 'lawyer_member' "
            "ORDER BY created_at DESC, id DESC"))
    assert "ix_record_form_created" in plan and "Sort" not in plan
    with psycopg.connect(pg_url) as conn:
        indexes = {r[0] for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'record'")}
    assert "ix_record_name" not in indexes  # sealed values: an index of them finds nothing
    with register.session() as s:  # and the register still writes names
        s.execute(update(Record).where(Record.id == _first(register)).values(name="新名字"))
        s.commit()


def _first(register) -> str:
    with register.session() as s:
        return s.exec(select(Record.id)).first()
