"""Where a register on PostgreSQL is: a ``postgresql://`` URL, checked and kept as given.

``postgresql://角色@主机/库``, ``postgresql:///库?host=/socket/dir`` and
``postgresql://?service=名`` (a PGSERVICE entry) are accepted; the URL reaches libpq unchanged
(sslmode=verify-full and the other connection parameters are libpq's), so ~/.pgpass and the
service file are read by libpq itself. A URL carrying a password — the role's, or the client
key's ``sslpassword`` — is refused: it would stay in the shell's history, the process list
and the audit log.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from desktop.errors import UsageError

SCHEMES = ("postgresql", "postgres")


def is_server_url(text: str | os.PathLike[str]) -> bool:
    """Whether `text` names a register on a server (a postgresql:// URL)."""
    if isinstance(text, ServerLocation):
        return True
    if not isinstance(text, str):
        return False
    return text.split("://", 1)[0].lower() in SCHEMES and "://" in text


@dataclass(frozen=True)
class ServerLocation:
    """A checked ``postgresql://`` URL. `name` is the database (or service) it names, for
    messages and the names of backups; `str()` is the URL itself (it holds no password)."""

    url: str

    @classmethod
    def parse(cls, text: str) -> ServerLocation:
        parts = urlsplit(text)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        keys = {k.strip().lower() for k in query}
        if "sslpassword" in keys:
            raise UsageError(
                "登记库地址中不能写客户端私钥的口令 sslpassword（它会留在命令历史和进程列表中）。"
                "请使用不加口令的客户端私钥，只让本人可读（chmod 600，放在 "
                "~/.postgresql/postgresql.key 或 sslkey 指向的位置），地址中只写 sslcert 和 sslkey。")
        if parts.password is not None or "password" in keys:
            raise UsageError(
                "登记库地址中不能写口令（它会留在命令历史和进程列表中）。请把数据库口令写在 "
                "~/.pgpass（Windows：%APPDATA%\\postgresql\\pgpass.conf）或服务文件 "
                "pg_service.conf 中，由 PostgreSQL 自己读取；地址只写 postgresql://角色@主机/库。")
        if not parts.path.strip("/") and "dbname" not in query and "service" not in query:
            raise UsageError(
                f"登记库地址 {text} 没有写数据库名。请写成 postgresql://角色@主机/库，"
                "或 postgresql:///库?host=/套接字目录，或 postgresql://?service=服务名。")
        return cls(text)

    @property
    def name(self) -> str:
        parts = urlsplit(self.url)
        query = dict(parse_qsl(parts.query))
        return (unquote(parts.path.strip("/")) or query.get("dbname")
                or query.get("service", "")) or "register"

    @property
    def stem(self) -> str:
        return self.name

    def is_file(self) -> bool:  # commands look at a file register's permissions; none here
        return False

    def is_dir(self) -> bool:
        return False

    def exists(self) -> bool:
        return True

    def resolve(self) -> ServerLocation:
        return self

    def __str__(self) -> str:
        return self.url


def register_location(text: str) -> Path | ServerLocation:
    """What a ``--db`` argument names: a register file's path, or a checked server URL."""
    if is_server_url(text):
        return ServerLocation.parse(text)
    return Path(text)
