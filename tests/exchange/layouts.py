"""Where a package test's registers live (issue 18), for tests/exchange/conftest.py's `world`:

- "postgresql": every register, the firms' too, in a new PostgreSQL database
  (tests/services/conftest.py's StoreWorld);
- "above-on-server": the firms in files, every level above them in PostgreSQL databases
  (World's own `server`: test_merge_server.py);
- "firms-on-server": the firms in PostgreSQL databases, every level above them in files — a
  firm's package written from a server register is merged by a city on a file (the reverse
  of test_merge_server.py's world, where SQLite firms send to a server city).

Imported when a test asks for these layouts: tests/services/conftest.py imports
tests/exchange/conftest.py, so the conftest cannot import this module at its top.
"""

from __future__ import annotations

from desktop.storage import KdfParams, Register, UnitInfo
from tests.exchange.conftest import FAST_KDF, World
from tests.services.conftest import StoreWorld


class ServerFirms(StoreWorld):
    """Firms in new databases (`server`), the levels above them in files."""

    def register(self, unit: UnitInfo, name: str | None = None, *, kdf: KdfParams = FAST_KDF
                 ) -> Register:
        if unit.level == "firm":
            return super().register(unit, name, kdf=kdf)
        server, self.server = self.server, None
        try:
            return super().register(unit, name, kdf=kdf)
        finally:
            self.server = server


LAYOUTS: dict[str, type[World]] = {"postgresql": StoreWorld, "above-on-server": World,
                                   "firms-on-server": ServerFirms}
