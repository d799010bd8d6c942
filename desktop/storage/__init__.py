"""Storage: the encrypted register (SQLCipher), its tables, audit chain and repositories, the
register's files on disk (files.py: fsync, side files, the backup folder, publishing a file
only once the register has recorded it), its backups and restores (backup.py; a file's checked
copies: copies.py), re-keying a register to stronger key-derivation parameters or a new
passphrase (rekey.py), and the recovery key that opens it when the passphrase is forgotten,
with its side file (recovery.py). secrets.py decides once whether a register is a file or on
PostgreSQL (server/) for its passphrase, recovery key and backups.

No Qt here. Services open sessions from a `Register` and own the transactions; the functions
below never commit.
"""

from desktop.storage.audit import AuditCheck, append_audit, verify_audit_chain
from desktop.storage.crypto import DEFAULT_KDF, KdfParams
from desktop.storage.engine import Register, UnitInfo, create_register, open_register
from desktop.storage.keys import own_keys
from desktop.storage.migrations import SCHEMA_VERSION
from desktop.storage.records import bulk_insert_records, find_keys
from desktop.storage.tables import (
    KEY_ENCRYPTION,
    KEY_SIGNING,
    RECORD_STATES,
    UNIT_LEVELS,
    AuditEntry,
    Meta,
    Override,
    Record,
    RecordKey,
    Unit,
    UnitKey,
)

__all__ = [
    "DEFAULT_KDF",
    "KEY_ENCRYPTION",
    "KEY_SIGNING",
    "RECORD_STATES",
    "SCHEMA_VERSION",
    "UNIT_LEVELS",
    "AuditCheck",
    "AuditEntry",
    "KdfParams",
    "Meta",
    "Override",
    "Record",
    "RecordKey",
    "Register",
    "Unit",
    "UnitInfo",
    "UnitKey",
    "append_audit",
    "bulk_insert_records",
    "create_register",
    "find_keys",
    "open_register",
    "own_keys",
    "verify_audit_chain",
]
