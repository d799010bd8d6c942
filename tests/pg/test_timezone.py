"""Times on a PostgreSQL register are UTC whatever the server's or the client's time zone:
the columns are `timestamp without time zone` holding UTC, and an aware datetime bound to one
is converted to the session's zone first — so every connection sets its zone to UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from desktop.storage import Unit, create_register, open_register
from tests.storage.conftest import FAST_KDF, OWN_UNIT, PASSPHRASE


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/Los_Angeles"])
def test_times_are_utc_in_any_session_zone(pg_url, monkeypatch, zone) -> None:
    monkeypatch.setenv("PGTZ", zone)  # libpq asks the server for this zone at connect
    before = datetime.now(UTC).replace(tzinfo=None)
    create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF).close()
    with open_register(pg_url, PASSPHRASE) as register, register.session() as session:
        zone_shown = session.execute(text("SHOW TimeZone")).scalar_one()
        stored = session.execute(select(Unit.created_at)).scalars().first()
    stored = stored.astimezone(UTC).replace(tzinfo=None) if stored.tzinfo else stored
    assert before - timedelta(seconds=5) <= stored <= datetime.now(UTC).replace(
        tzinfo=None) + timedelta(seconds=5)
    assert zone_shown == "UTC"
