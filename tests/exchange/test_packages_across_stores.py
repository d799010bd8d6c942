"""Packages between the stores (issue 18): firms keep their registers in PostgreSQL, the city
its file — the reverse of test_merge_server.py (SQLite firms, a server city). A firm's package
is written from sealed columns (opened by the program) and must reach a file register with
every value in clear; the city's return file must reach the firm's server register with its
comments readable; `dengji verify` takes either. The tests of test_returns and test_cli that
carry a package from a firm to a city and back run again here, in this layout (what the city
alone does in them holds as on a file: they run once).
"""

from __future__ import annotations

import json

from sqlalchemy import select

from desktop.services import packages as svc
from desktop.storage import Record
from tests.exchange.conftest import CITY, World
from tests.exchange.test_cli import (  # noqa: F401 (run again here, in this layout)
    clerk,
    test_verify_prints_what_the_package_is_and_each_check,
)
from tests.exchange.test_returns import (  # noqa: F401
    merged,
    test_a_packages_records_are_listed_by_form_and_name,
    test_the_whole_return_loop,
)

WORLDS = ["firms-on-server"]  # tests/exchange/conftest.py, tests/exchange/layouts.py


def stored(register, **where) -> dict[str, tuple[str, str, dict]]:
    """id → (form, name, values) of a register's records (opened on a server)."""
    with register.session() as session:
        rows = session.execute(select(Record.id, Record.form_id, Record.name, Record.data)
                               .filter_by(**where)).all()
    return {rid: (form_id, name, json.loads(data)) for rid, form_id, name, data in rows}


def test_a_server_firms_records_reach_a_city_file_in_clear(world: World) -> None:
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=81, members=5, parent=city)
    assert firm.register.engine.dialect.name == "postgresql"
    assert city.engine.dialect.name == "sqlite"
    sent = world.export(firm.register)
    [report] = world.merge(city, sent.path)
    assert report.status == "merged" and report.outcome.records == 6
    own = stored(firm.register)
    received = stored(city, package_id=sent.package_id)
    assert received == own  # the same ids, names and values, as the firm holds them
    names = {name for form, name, _ in received.values() if form == "lawyer_member"}
    assert names == {m["姓名"] for m in firm.members}
    numbers = {values["id_number"] for form, _, values in received.values()
               if form == "lawyer_member"}
    assert numbers == {m["公民身份号码"] for m in firm.members}
    assert "dj1." not in json.dumps(list(received.values()), ensure_ascii=False)
    [row] = svc.dashboard(city)
    assert (row.records, row.package_id) == (6, sent.package_id) and row.name.startswith("中共")
