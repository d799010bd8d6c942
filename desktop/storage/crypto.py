"""Encryption at rest: key derivation, keying a SQLCipher connection, telling files apart.

What is stored, and where:

- The 16-byte salt is the first 16 bytes of the database file. SQLCipher keeps its salt there,
  and when it is keyed with a raw key *plus* salt (``PRAGMA key = "x'<key><salt>'"``) it writes
  exactly that salt as the header of a new file. Opening reads the salt back from the header, so
  there is no side file to lose.
- The scrypt parameters are stored in that salt (`new_salt`): 10 random bytes, the tag ``DJ``,
  the tag version 1, log2(n), r and p. A register made before the tag existed has 16 random
  bytes there and was made with `KDF_V1` (n=2^15); `kdf_for_salt` tells them apart (a random
  salt looks tagged with odds of 2^-24, and opening then falls back to `KDF_V1`). New registers
  get `DEFAULT_KDF` (OWASP's scrypt guidance: n=2^17, r=8, p=1); one made with weaker
  parameters is re-keyed on its next successful open (engine.py), which writes a new salt.
  Tests pass cheap parameters to create, which are then stored like any others.
- Nothing else: the passphrase and the derived key live only in memory while a register is open.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3

from desktop.errors import NotARegister

SALT_BYTES = 16
KEY_BYTES = 32
PAGE_SIZE = 4096  # SQLCipher 4 default; an encrypted file is a whole number of these pages
SQLITE_MAGIC = b"SQLite format 3\x00"
CACHE_KIB = 64 * 1024

DatabaseError = sqlcipher3.DatabaseError
SQLITE_NOTADB = 26  # what a wrong key produces: page 1 fails its HMAC check


@dataclass(frozen=True)
class KdfParams:
    """scrypt cost parameters (n = CPU/memory cost, r = block size, p = parallelism)."""

    n: int
    r: int
    p: int


#: The key derivation of registers made before the parameters were stored (about 0.1 s and
#: 32 MiB on a laptop). Never edit: those registers open only with it.
KDF_V1 = KdfParams(n=2**15, r=8, p=1)
#: What a new register gets, and what an older one is re-keyed to (OWASP: n=2^17, r=8, p=1;
#: about 0.4 s and 128 MiB on a laptop).
DEFAULT_KDF = KdfParams(n=2**17, r=8, p=1)
_TAG = b"DJ\x01"
_RANDOM_BYTES = SALT_BYTES - len(_TAG) - 3
# what a tag may say: a file (a backup picked for a restore) is not trusted to ask for more
# than 1 GiB of memory or minutes of work
_LOG2_N, _R, _P = range(10, 21), range(1, 17), range(1, 5)
_MAX_MEMORY = 2**30


def derive_key(passphrase: str, salt: bytes, kdf: KdfParams = DEFAULT_KDF) -> bytes:
    """The 32-byte database key for `passphrase` and the file's salt.

    The passphrase is NFC-normalised first, so the same Chinese or accented passphrase typed on
    Windows and on macOS (which may hand over decomposed characters) opens the same file.
    """
    if len(salt) != SALT_BYTES:
        raise ValueError(f"salt must be {SALT_BYTES} bytes, got {len(salt)}")
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return hashlib.scrypt(secret, salt=salt, n=kdf.n, r=kdf.r, p=kdf.p,
                          maxmem=max(64 * 2**20, 130 * kdf.r * kdf.n * kdf.p), dklen=KEY_BYTES)


def new_salt(kdf: KdfParams = DEFAULT_KDF) -> bytes:
    """A random salt that also records `kdf` (see the module's docstring)."""
    log2_n = kdf.n.bit_length() - 1
    salt = os.urandom(_RANDOM_BYTES) + _TAG + bytes([log2_n % 256, kdf.r % 256, kdf.p % 256])
    if 1 << log2_n != kdf.n or kdf_for_salt(salt) != kdf:
        raise ValueError(f"scrypt parameters out of range: {kdf}")
    return salt


def kdf_for_salt(salt: bytes) -> KdfParams | None:
    """The parameters a tagged salt records; None for an untagged one (made with KDF_V1)."""
    tag, params = salt[_RANDOM_BYTES:_RANDOM_BYTES + len(_TAG)], salt[-3:]
    if len(salt) != SALT_BYTES or tag != _TAG:
        return None
    log2_n, r, p = params
    if log2_n not in _LOG2_N or r not in _R or p not in _P or 128 * r * p << log2_n > _MAX_MEMORY:
        return None
    return KdfParams(n=1 << log2_n, r=r, p=p)


def kdf_candidates(salt: bytes) -> list[KdfParams]:
    """The parameters to try, in order, for a file with `salt`."""
    stored = kdf_for_salt(salt)
    return [stored, KDF_V1] if stored is not None and stored != KDF_V1 else [KDF_V1]


def cost(kdf: KdfParams) -> int:
    return kdf.n * kdf.r * kdf.p


def raw_key(key: bytes, salt: bytes) -> str:
    """The SQLCipher raw-key literal: 64 hex digits of key followed by 32 of salt."""
    return f"x'{key.hex()}{salt.hex()}'"


def connect(path: Path, key_literal: str, *, configure: bool = True) -> sqlcipher3.Connection:
    """Open `path`, key it and check the key; raise sqlcipher3.DatabaseError if it does not fit.

    Only after the key is proven (a read of sqlite_master) are WAL mode and the other pragmas set,
    so a wrong passphrase never writes anything, not even a -wal or -shm file. With
    `configure=False` the connection is only keyed and checked (to look before opening).
    """
    conn = sqlcipher3.connect(str(path), check_same_thread=False)
    try:
        # A failed key check is reported to the user as a KnownError; SQLCipher's own log lines
        # on stderr ("hmac check failed") would only alarm people.
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f'PRAGMA key = "{key_literal}"')
        conn.execute("PRAGMA busy_timeout = 5000")  # a busy file must not look like a wrong key
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if not configure:
            return conn
        # Transactions are begun explicitly (see engine.py), which gives real SAVEPOINTs.
        conn.isolation_level = None
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        # Up to 64 MiB of page cache (allocated only as used): bulk inserts into the random-order
        # UUID and hash indexes take about half the time of the 2 MiB default (bench_storage.py).
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    except BaseException:
        conn.close()
        raise
    return conn


def export_copy(source: Path, key_literal: str, target: Path, target_literal: str) -> None:
    """Write every table of the database `source` (opened with `key_literal`) into the new file
    `target`, keyed with `target_literal` (its salt becomes the file's header).

    `target` is a part file its caller checks and flushes to disk (fsync) before renaming it
    into place, or removes: so it is written with no journal and no syncs of its own (a small
    register's copy took about 1 s of fsyncs on a busy disk, 15 ms without)."""
    conn = connect(source, key_literal, configure=False)
    try:
        conn.execute("ATTACH DATABASE ? AS dj_copy KEY ?", (str(target), target_literal))
        conn.execute("PRAGMA dj_copy.journal_mode = OFF").fetchall()
        conn.execute("PRAGMA dj_copy.synchronous = OFF")
        conn.execute("SELECT sqlcipher_export('dj_copy')").fetchall()
        conn.execute("DETACH DATABASE dj_copy")
    finally:
        conn.close()


def read_header(path: Path) -> bytes:
    """The first page of `path` (fewer bytes if the file is shorter)."""
    with open(path, "rb") as fh:
        return fh.read(PAGE_SIZE)


# Files a clerk may pick by mistake. A random salt matches one of these with odds of 2**-32.
_KNOWN_MAGIC = (
    (b"PK\x03\x04", "这是压缩包、数据包或 Excel/WPS 表格文件"),
    (b"%PDF", "这是 PDF 文件"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "这是旧版 Office 文件"),
)
# Control bytes that text (UTF-8, GBK, Big5) does not contain; 4 KiB of ciphertext always does.
_BINARY_BYTES = frozenset([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])


def not_a_register_reason(path: Path, head: bytes) -> str | None:
    """Why `path` cannot be an encrypted register, or None if it may be one.

    An encrypted page is indistinguishable from noise without the key, so a file that looks like
    one and does not open is taken to mean a wrong passphrase.
    """
    size = path.stat().st_size
    if size == 0:
        return "文件为空"
    if head.startswith(SQLITE_MAGIC):
        return "这是未加密的普通 SQLite 数据库"
    for magic, what in _KNOWN_MAGIC:
        if head.startswith(magic):
            return what
    if not _BINARY_BYTES.intersection(head):
        return "这是文本文件"
    if size < 1024:
        return "文件太短"
    if size % PAGE_SIZE:
        return "文件长度不对，可能已损坏或被截断"
    return None


def check_is_register(path: Path) -> bytes:
    """Raise NotARegister if `path` plainly is not a register; return the 16-byte salt."""
    head = read_header(path)
    reason = not_a_register_reason(path, head)
    if reason:
        raise NotARegister(
            f"{path} 不是登记库文件（{reason}）。请确认选择的是登记软件创建的登记库文件（.dengji）。"
        )
    return head[:SALT_BYTES]
