"""The register on PostgreSQL (docs/postgresql.md): its URL (location.py), opening, creating and
migrating it (store.py), its backups with pg_dump (dump.py), and the confidentiality SQLCipher
gives a file: a data key wrapped by a key derived from the passphrase (datakey.py) that seals
the personal columns (sealing.py: the `Sealed` column type, and `seal_value` / `open_value`
for raw SQL) and keeps the unique keys' lookup values as keyed hashes (`Blinded`,
`blind_value`).

storage/engine.py dispatches here when a register's location is a ``postgresql://`` URL; the
rest of the program sees the same `Register`.
"""

from desktop.storage.server.location import ServerLocation, is_server_url, register_location
from desktop.storage.server.sealing import (
    Blinded,
    Sealed,
    SealingError,
    blind_value,
    open_value,
    open_values,
    seal_value,
)

__all__ = ["Blinded", "Sealed", "SealingError", "ServerLocation", "blind_value", "is_server_url",
           "open_value", "open_values",
           "register_location", "seal_value"]
