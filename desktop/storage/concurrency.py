"""Several clerks at once on one register (issue 18): a record's revision checked when it is
saved, the role that may only read, and what PostgreSQL says when such a role writes.

A record carries `revision` (1 when created, +1 on each save). A save says which revision it
started from; `claim_revision` locks the row for the rest of the transaction (``SELECT … FOR
UPDATE`` on PostgreSQL, only that row: clerks on other records do not wait; SQLite's write lock
does it there) and raises `RecordChanged` — who changed it, when, and what the record holds
now — when someone saved it in between. Nothing is overwritten: the clerk chooses.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, text
from sqlmodel import Session

from desktop.errors import KnownError
from desktop.storage.tables import AuditEntry, Record

#: PostgreSQL's SQLSTATE for "permission denied" (insufficient_privilege)
INSUFFICIENT_PRIVILEGE = "42501"

READ_ONLY_MESSAGE = ("当前数据库角色只有查看权限（{detail}），不能修改登记册。"
                     "请改用有写权限的经办人角色登录，或请数据库管理员授予权限"
                     "（docs/postgresql.md“角色”一节）。")


class RecordChanged(KnownError):
    """Someone else saved the record since this clerk loaded it.

    `theirs` is the record's values now (a dict of field id -> stored value), `revision` its
    revision now, `by` the audit log's actor of that save (``张三@zhang``), `at` its local time.
    """

    def __init__(self, record_id: str, revision: int, state: str, theirs: dict[str, Any],
                 by: str, at: str) -> None:
        self.record_id, self.revision, self.state = record_id, revision, state
        self.theirs, self.by, self.at = theirs, by, at
        super().__init__(f"此记录已被{by}于{at}修改（现为第 {revision} 版），您的修改尚未保存。"
                         "请对照两边的不同，选择保留您的修改或采用对方的修改。")

    def differences(self, mine: dict[str, Any]) -> list[tuple[str, Any, Any]]:
        """(field id, my value, their value) for every field the two differ in, in the order
        of `mine` then of `theirs`."""
        fields = list(dict.fromkeys([*mine, *self.theirs]))
        return [(f, mine.get(f), self.theirs.get(f)) for f in fields
                if mine.get(f) != self.theirs.get(f)]


def claim_revision(session: Session, record_id: str, expected: int) -> Record | None:
    """The record, locked until the transaction ends, if it is still at `expected`; None when
    it no longer exists; `RecordChanged` when another save came in between."""
    rec = session.get(Record, record_id, with_for_update=True, populate_existing=True)
    if rec is None or rec.revision == expected:
        return rec
    by, at = last_change(session, record_id)
    raise RecordChanged(record_id, rec.revision, rec.state, json.loads(rec.data), by, at)


def last_change(session: Session, record_id: str) -> tuple[str, str]:
    """Who last wrote the record and when (local time), from the audit log."""
    row = session.execute(
        select(AuditEntry.actor, AuditEntry.ts).where(AuditEntry.target == record_id)
        .order_by(AuditEntry.seq.desc()).limit(1)).first()
    if row is None:
        return "另一位经办人", "刚才"
    return row.actor, local_time(row.ts)


def local_time(ts: str) -> str:
    """An audit timestamp (ISO-8601 UTC) as this computer's local time, to the second."""
    try:
        moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return ts
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def current_role(engine: Engine) -> str | None:
    """The database role of a server register's connections (None on SQLite)."""
    if engine.dialect.name == "sqlite":
        return None
    with engine.connect() as conn:
        return conn.execute(text("SELECT current_user")).scalar_one()


def can_write(engine: Engine) -> bool:
    """Whether this register's connections may change records: always on a file; on
    PostgreSQL when the role holds INSERT, UPDATE and DELETE on `record` and on `audit_entry`
    (a reviewer role is granted SELECT only)."""
    if engine.dialect.name == "sqlite":
        return True
    checks = " AND ".join(f"has_table_privilege(current_user, '{table}', '{right}')"
                          for table in ("record", "audit_entry", "meta")
                          for right in ("INSERT", "UPDATE")) + \
        " AND has_table_privilege(current_user, 'record', 'DELETE')"
    with engine.connect() as conn:
        return bool(conn.execute(text(f"SELECT {checks}")).scalar_one())


def refusal(err: BaseException) -> KnownError | None:
    """The Chinese message for a write the server refused for want of privileges (a reviewer
    role), found anywhere in `err`'s chain; None for any other error."""
    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if getattr(cause, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
            diag = getattr(cause, "diag", None)
            said = getattr(diag, "message_primary", None) or ""
            return KnownError(READ_ONLY_MESSAGE.format(detail=_refused_table(said)))
        cause = getattr(cause, "orig", None) or cause.__cause__ or cause.__context__
    return None


def _refused_table(message: str) -> str:
    """Which table PostgreSQL refused ("permission denied for table record")."""
    table = message.rsplit(" ", 1)[-1] if message.startswith("permission denied") else ""
    return f"无权写入表 {table}" if table else "审阅角色"


def role_statements(database: str, *, clerks: str = "dengji_clerks",
                    reviewers: str = "dengji_reviewers", owner: str | None = None) -> list[str]:
    """The SQL that makes the two group roles of a register's database (docs/postgresql.md
    "Roles"): clerks read and write every table, reviewers read only. Run once by the
    administrator, as the database's owner (`owner`: also for the tables a later migration
    adds); a clerk's login role is then ``CREATE ROLE zhang LOGIN IN ROLE dengji_clerks``."""
    for name in (database, clerks, reviewers, owner or "x"):
        if not name.replace("_", "").isalnum() or not name.isascii():
            raise ValueError(f"not a plain SQL name: {name!r}")
    both = f"{clerks}, {reviewers}"
    out = [f"CREATE ROLE {clerks} NOLOGIN", f"CREATE ROLE {reviewers} NOLOGIN",
           f"GRANT CONNECT ON DATABASE {database} TO {both}",
           f"GRANT USAGE ON SCHEMA public TO {both}",
           f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {clerks}",
           f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {clerks}",
           f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {reviewers}"]
    if owner:
        default = f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT"
        out += [f"{default} SELECT, INSERT, UPDATE, DELETE ON TABLES TO {clerks}",
                f"{default} USAGE, SELECT, UPDATE ON SEQUENCES TO {clerks}",
                f"{default} SELECT ON TABLES TO {reviewers}"]
    return out
