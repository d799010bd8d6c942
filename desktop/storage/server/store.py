"""Opening and creating registers on PostgreSQL: the engine, the empty-database check, the keys,
schema versions and migrations (with a pg_dump backup first).

storage/engine.py calls these and wraps the result in a `Register`; nothing here imports it.
Several processes may open the same register at once (there is no file lock on a server).
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool
from sqlmodel import Session

from desktop.errors import KnownError, NotARegister, WrongPassphrase
from desktop.storage import crypto, migrations
from desktop.storage.audit import append_audit
from desktop.storage.crypto import KdfParams
from desktop.storage.server import datakey, dump, failures
from desktop.storage.server.datakey import DataKeys
from desktop.storage.server.location import ServerLocation
from desktop.storage.server.sealing import Sealer, install
from desktop.storage.tables import Meta


def connection_error(location: ServerLocation, err: BaseException) -> KnownError:
    """The clerk's message for a refused connection: what to fix (a TLS refusal told apart,
    failures.py), libpq's words as the detail."""
    said = str(getattr(err, "orig", err) or err).strip() or type(err).__name__
    return KnownError(failures.refusal_message(location.url, str(location), said))


def make_server_engine(location: ServerLocation) -> Engine:
    """An engine whose connections libpq opens from the URL as given (service files, .pgpass,
    sslmode and the rest are libpq's)."""
    # every session in UTC, whatever the server's or the client's (PGTZ) zone: the columns
    # hold UTC without a zone, and the server reads and shows times in the session's zone
    # (a PGTZ in the environment would win over a startup option: set it once connected)
    def connect() -> psycopg.Connection:
        conn = psycopg.connect(location.url)
        try:
            conn.execute("SET TIME ZONE 'UTC'")
            conn.commit()
        except BaseException:
            conn.close()
            raise
        return conn

    engine = create_engine("postgresql+psycopg://", creator=connect, poolclass=QueuePool,
                           pool_pre_ping=True)

    def translate(context) -> BaseException | None:
        if context.is_disconnect or context.connection is None:
            return connection_error(location, context.original_exception)
        return None

    event.listen(engine, "handle_error", translate)
    return engine


def _tables(engine: Engine, location: ServerLocation) -> set[str]:
    try:
        with engine.connect() as conn:
            return set(conn.execute(text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()")).scalars())
    except DBAPIError as err:
        raise connection_error(location, err) from err


def prepare_new(location: ServerLocation, passphrase: str, kdf: KdfParams
                ) -> tuple[Engine, DataKeys, dict[str, str]]:
    """An engine over an empty database, bound to fresh keys, and the key facts for `meta`.
    A register already there, or any other table, is refused and left untouched."""
    engine = make_server_engine(location)
    try:
        found = _tables(engine, location)
        if "meta" in found:
            raise KnownError(f"数据库 {location.name} 中已经有登记库，未作任何改动。"
                             "如要打开它，请去掉 init；如要新建，请请数据库管理员另建一个空数据库。")
        if found:
            raise KnownError(
                f"数据库 {location.name} 不是空的（已有 {len(found)} 个表，如 "
                f"{'、'.join(sorted(found)[:3])}），也不是登记库，未作任何改动。"
                "请请数据库管理员为登记库另建一个空数据库（CREATE DATABASE）。")
        keys, facts = datakey.new_keys(passphrase, kdf)
        install(engine, Sealer.from_key(keys.dek))
    except BaseException:
        engine.dispose()
        raise
    return engine, keys, facts


def _facts(engine: Engine, location: ServerLocation) -> dict[str, str]:
    if "meta" not in _tables(engine, location):
        raise NotARegister(f"数据库 {location.name} 不是登记库（没有登记库的表）。"
                           f"如要在其中新建登记库，请运行 dengji init --db \"{location}\"。")
    with engine.connect() as conn:  # plain reads: no key is bound yet
        return dict(conn.execute(text("SELECT key, value FROM meta")).all())


def open_server(location: ServerLocation, passphrase: str, target: KdfParams, *, rekey: bool,
                migrate: Callable[[Engine, int, str], object]
                ) -> tuple[Engine, str, bytes]:
    """The engine (bound to the register's keys), own unit id and keyed-hash secret of the
    register at `location`: refuse what is not one, a wrong passphrase and a newer schema
    untouched; migrate an older one through `migrate(engine, found, backup_reason)`; re-wrap
    the data key under `target` when it was wrapped with weaker parameters."""
    engine = make_server_engine(location)
    try:
        facts = _facts(engine, location)
        try:
            found = int(facts.get("schema_version", ""))
        except ValueError:
            raise NotARegister(f"数据库 {location.name} 中的登记库已损坏（缺少版本信息）。"
                               "请用备份恢复（pg_restore）。") from None
        if found > migrations.SCHEMA_VERSION:
            raise migrations.newer_schema_error(location, found)
        try:
            keys, used = datakey.unlock(passphrase, facts)
        except datakey.WrongKey:
            raise WrongPassphrase(f"口令不正确，无法打开登记库 {location}。"
                                  "请检查口令（区分大小写）后重试。") from None
        except datakey.DamagedKeys as err:
            raise NotARegister(f"登记库 {location} 的密钥信息已损坏（{err}），无法打开。"
                               "请用备份恢复（pg_restore）。") from None
        own_unit_id = facts.get("own_unit_id")
        if not own_unit_id:
            raise NotARegister(f"登记库 {location} 已损坏（缺少本单位信息）。请用备份恢复。")
        install(engine, Sealer.from_key(keys.dek))
        if found < migrations.SCHEMA_VERSION:
            refuse_unless_owner(engine, location, found)
            migrate(engine, found, "migrate")
        if rekey and crypto.cost(used) < crypto.cost(target):
            rewrap_if_allowed(engine, keys, passphrase, target)
    except BaseException:
        engine.dispose()
        raise
    return engine, own_unit_id, keys.hash_secret


def refuse_unless_owner(engine: Engine, location: ServerLocation, found: int) -> None:
    """A migration changes tables, which only their owner may do (PostgreSQL refuses a clerk
    or reviewer role half-way, after its backup): refuse it first, naming who can."""
    with engine.connect() as conn:
        owner, acts_as_owner = conn.execute(text(
            "SELECT pg_get_userbyid(relowner), pg_has_role(current_user, relowner, 'USAGE') "
            "FROM pg_class WHERE oid = to_regclass('record')")).one()
    if not acts_as_owner:
        raise KnownError(
            f"登记库 {location.name} 需要升级数据结构（第 {found} 版升到第 "
            f"{migrations.SCHEMA_VERSION} 版），只有登记库的所有者（数据库角色 {owner}）可以升级。"
            f"请由 {owner} 用新版本的登记软件打开一次登记库（升级前会自动备份），之后各经办人和"
            "审阅人即可照常打开。登记库未作任何改动。")


#: what PostgreSQL says when this connection may not write: insufficient_privilege (a
#: reviewer role, or a row-level policy) and read_only_sql_transaction (a standby, or
#: default_transaction_read_only for the role)
REFUSED_WRITES = frozenset({"42501", "25006"})


def may_change_keys(engine: Engine) -> bool:
    """Whether this connection's role may re-wrap the data key: INSERT and UPDATE on `meta`
    (the key facts, the audit chain's head) and INSERT on `audit_entry`, in a transaction
    that is not read-only. A reviewer (SELECT only) may not."""
    checks = " AND ".join(f"has_table_privilege(current_user, '{table}', '{right}')"
                          for table, right in (("meta", "INSERT"), ("meta", "UPDATE"),
                                               ("audit_entry", "INSERT")))
    with engine.connect() as conn:
        return bool(conn.execute(text(
            f"SELECT {checks} AND current_setting('transaction_read_only') = 'off'"
        )).scalar_one())


def rewrap_if_allowed(engine: Engine, keys: DataKeys, passphrase: str, kdf: KdfParams) -> bool:
    """At open: re-wrap the data key under the stronger `kdf` when the role may write; a role
    that may only read keeps the old wrap and opens all the same (the next clerk to open
    upgrades it). Whether it was re-wrapped. A refusal the privilege check did not foresee
    (a grant revoked meanwhile, a policy) rolls the whole re-wrap back and is taken the same
    way: the old wrap still opens the register."""
    if not may_change_keys(engine):
        return False
    try:
        rewrap(engine, keys, passphrase, kdf, action="rekey")
    except DBAPIError as err:
        if getattr(err.orig, "sqlstate", None) not in REFUSED_WRITES:
            raise
        return False
    return True


def rewrap(engine: Engine, keys: DataKeys, passphrase: str, kdf: KdfParams, *,
           action: str, actor: str = "system") -> None:
    """Wrap the data key under `passphrase` with `kdf` (a new salt), in one transaction with
    its audit entry. The data itself is not touched: only the wrapping changes."""
    with Session(engine) as session:
        for key, value in datakey.wrapped_facts(keys, passphrase, kdf).items():
            session.merge(Meta(key=key, value=value))
        append_audit(session, actor, action, "data-key",
                     {"to": f"scrypt n=2^{kdf.n.bit_length() - 1} r={kdf.r} p={kdf.p}"})
        session.commit()


def schema_backup(location: ServerLocation, engine: Engine, reason: str):
    """pg_dump the register into the 备份 folder, named by its database and the time."""
    with engine.connect() as conn:
        database = conn.execute(select(text("current_database()"))).scalar_one()
    return dump.auto_dump(location, database, reason)
