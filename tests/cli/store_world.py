"""tests/exchange's World of registers that know each other's keys, with every register on
one store (tests/cli/conftest.py `store_world`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from desktop.formspec import FormSet
from desktop.storage import KdfParams, Register, UnitInfo, create_register
from tests.exchange.conftest import FAST_KDF, PASSPHRASE, World


class StoreWorld(World):
    """tests/exchange's World with every register, the firms' too, at `place()`: a new file
    or a new PostgreSQL database (World itself keeps the firms on files)."""

    def __init__(self, folder: Path, forms: FormSet, place: Callable[[str], Path | str]) -> None:
        super().__init__(folder, forms)
        self.place = place

    def register(self, unit: UnitInfo, name: str | None = None, *, kdf: KdfParams = FAST_KDF
                 ) -> Register:
        self.n += 1
        reg = create_register(self.place(name or f"r{self.n}.dengji"), PASSPHRASE, unit, kdf=kdf)
        self.opened.append(reg)
        return reg
