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
#: an audited read (导出、打印、显示完整…) by a role that may not append to the audit log
AUDIT_GRANTS_MESSAGE = (
    "当前数据库角色 {role} 不能写入审计日志，而这一操作（导出、打印或显示完整信息）必须记入审计日志，"
    "因此没有进行，未生成任何文件。请数据库管理员以数据库所有者身份重新执行 docs/postgresql.md"
    "“Roles: clerks and reviewers”一节的授权语句（CREATE ROLE 之后的各条；命令 dengji roles "
    "--database 库名 --again 输出这些语句，即 desktop/storage/concurrency.py 的 role_statements），"
    "之后重新打开登记库再试。")


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
    PostgreSQL when the role holds INSERT, UPDATE and DELETE on `record`, INSERT and UPDATE on
    `meta` and INSERT on `audit_entry` (a reviewer role reads, and appends to the audit log
    only: role_statements)."""
    if engine.dialect.name == "sqlite":
        return True
    rights = [("record", "INSERT"), ("record", "UPDATE"), ("record", "DELETE"),
              ("meta", "INSERT"), ("meta", "UPDATE"), ("audit_entry", "INSERT")]
    checks = " AND ".join(f"has_table_privilege(current_user, '{table}', '{right}')"
                          for table, right in rights)
    with engine.connect() as conn:
        return bool(conn.execute(text(f"SELECT {checks}")).scalar_one())


def audit_refusal(session: Session) -> KnownError | None:
    """On PostgreSQL, why this role may not append to the audit log (the grants made before
    reviewers could: INSERT on `audit_entry`, UPDATE of `meta.value`); None when it may, and
    always on a file. Asked before an audited read writes its file, so a refusal leaves none."""
    if session.get_bind().dialect.name == "sqlite":
        return None
    may = session.execute(text(
        "SELECT has_table_privilege(current_user, 'audit_entry', 'INSERT') AND "
        "has_column_privilege(current_user, 'meta', 'value', 'UPDATE')")).scalar_one()
    if may:
        return None
    role = session.execute(text("SELECT current_user")).scalar_one()
    return KnownError(AUDIT_GRANTS_MESSAGE.format(role=role))


def require_audit(session: Session) -> None:
    """Raise `audit_refusal`'s message when there is one (nothing written yet)."""
    refused = audit_refusal(session)
    if refused is not None:
        raise refused


def require_audit_of(register: Any) -> None:
    """`require_audit` in a session of its own on `register` (a storage Register); nothing is
    asked of a file register."""
    if getattr(register, "kind", "file") == "file":
        return
    with register.session() as session:
        require_audit(session)


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
                    reviewers: str = "dengji_reviewers", owner: str | None = None,
                    create: bool = True) -> list[str]:
    """The SQL that makes the two group roles of a register's database (docs/postgresql.md
    "Roles"), run once by the administrator as the database's owner (`owner`: also for the
    tables a later migration adds); a clerk's login role is then ``CREATE ROLE zhang LOGIN IN
    ROLE dengji_clerks``. Without `create` the same minus the two CREATE ROLE: what to run
    again on a database whose grants are older (they are all repeatable).

    Clerks read and write every table but the audit log, which they append to; reviewers read
    every table and append to the audit log (an audited read: an export, a print, a full ID
    number shown), nothing else. The server enforces it: the grants, and row-level security
    on `meta` (reviewers update the audit chain's head row only; any other row is refused
    loudly by the WITH CHECK, not skipped, since the key column is not theirs to change) and on `audit_entry` (an
    entry names the role that wrote it: ``current_user``, or ``张三@current_user``, as
    storage/audit.py writes it; for clerks too, so one clerk cannot write in another's name).
    The owner (the program's migrations) bypasses row-level security."""
    for name in (database, clerks, reviewers, owner or "x"):
        if not name.replace("_", "").isalnum() or not name.isascii():
            raise ValueError(f"not a plain SQL name: {name!r}")
    both = f"{clerks}, {reviewers}"
    own_name = ("actor = current_user OR "
                "right(actor, length(current_user) + 1) = '@' || current_user")
    out = [f"CREATE ROLE {clerks} NOLOGIN", f"CREATE ROLE {reviewers} NOLOGIN"] if create else []
    out += [f"GRANT CONNECT ON DATABASE {database} TO {both}",
            f"GRANT USAGE ON SCHEMA public TO {both}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {clerks}",
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {clerks}",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {reviewers}",
            f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_entry FROM {clerks}",
            f"GRANT INSERT ON audit_entry TO {reviewers}",
            f"GRANT UPDATE (value) ON meta TO {reviewers}",
            "ALTER TABLE meta ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE audit_entry ENABLE ROW LEVEL SECURITY"]
    policies = [
        ("meta", f"{clerks}_all", f"FOR ALL TO {clerks} USING (true) WITH CHECK (true)"),
        ("meta", f"{reviewers}_read", f"FOR SELECT TO {reviewers} USING (true)"),
        ("meta", f"{reviewers}_head", f"FOR UPDATE TO {reviewers} USING (true) "
                                      "WITH CHECK (key = 'audit_head')"),
        ("audit_entry", f"{clerks}_read", f"FOR SELECT TO {both} USING (true)"),
        ("audit_entry", f"{clerks}_append", f"FOR INSERT TO {both} WITH CHECK ({own_name})"),
    ]
    for table, policy, rule in policies:
        out += [f"DROP POLICY IF EXISTS {policy} ON {table}",
                f"CREATE POLICY {policy} ON {table} {rule}"]
    if owner:
        default = f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT"
        out += [f"{default} SELECT, INSERT, UPDATE, DELETE ON TABLES TO {clerks}",
                f"{default} USAGE, SELECT, UPDATE ON SEQUENCES TO {clerks}",
                f"{default} SELECT ON TABLES TO {reviewers}"]
    return out
