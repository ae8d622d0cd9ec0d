"""A store's logins and database: the owning service's login, ownership, grants, extensions.

Isolation as in AWS: each database is owned by its service's login and PUBLIC loses
CONNECT on it (and on the maintenance databases the administrator may change), so a
service's login opens its own database and no other. Then the store's migrations run
as that login (``dbsetup.migrate``), so the tables belong to the service.

RDS differs in three ways, each read from the server (``capabilities``), not configured:

* role ``rds_iam`` exists: logins authenticate with IAM tokens, so a service's login is
  ``LOGIN`` without a password plus ``GRANT rds_iam``;
* the administrator is not a superuser (RDS's master user has CREATEROLE and CREATEDB):
  to make a login own a database (``CREATE DATABASE ... OWNER``, ``ALTER DATABASE ...
  OWNER TO``) it must be able to ``SET ROLE`` to it. Since PostgreSQL 16 a CREATEROLE
  role gets ADMIN OPTION on the roles it creates, not membership, so it grants itself
  the login (``GRANT login TO CURRENT_USER``, which its ADMIN OPTION allows);
* RDS creates the store's database with the instance (owned by the master user), so
  an existing database is taken over (``ALTER DATABASE ... OWNER TO``), not refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbsetup import migrate, migration_ledger
from dbsetup.connection import PasswordFor, Server

Progress = Callable[[str], None]
MAINTENANCE_DATABASES = ("postgres", "template1")


@dataclass(frozen=True)
class StoreSetup:
    """One PostgreSQL store, as plain values (``dbsetup.plan`` builds them from a topology)."""

    label: str  # ``system.store``, for messages
    database: str
    login: str  # the owning service's login (``polystore.naming.service_role_name``)
    extensions: tuple[str, ...]
    migrations: Path
    rerun: str  # how to run the setup again, for hints ("`polystore up tcgstore`")


@dataclass(frozen=True)
class Capabilities:
    """What the connected server and administrator allow (RDS or stock PostgreSQL)."""

    version: int  # server_version_num
    superuser: bool
    iam_role: bool  # ``rds_iam`` exists: logins authenticate with IAM tokens
    replication_role: bool  # ``rds_replication`` exists: granted instead of REPLICATION

    @property
    def rds(self) -> bool:
        return self.iam_role or self.replication_role


def capabilities(conn: Any) -> Capabilities:
    row = conn.execute(
        "SELECT current_setting('server_version_num')::int, rolsuper, "
        "EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'), "
        "EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_replication') "
        "FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    return Capabilities(version=int(row[0]), superuser=bool(row[1]), iam_role=bool(row[2]),
                        replication_role=bool(row[3]))  # fmt: skip


def ensure_login(conn: Any, login: str, password: str | None, caps: Capabilities) -> None:
    """Create or update ``login``: IAM-authenticated on RDS, else with ``password``.

    The password is set on every run, so it stays in step with where the caller keeps it.
    """
    from psycopg import sql

    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone()
    verb = sql.SQL("ALTER" if exists else "CREATE")
    ident = sql.Identifier(login)
    if caps.iam_role or password is None:
        conn.execute(sql.SQL("{} ROLE {} LOGIN").format(verb, ident))
    else:
        conn.execute(sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
            verb, ident, sql.Literal(password)))  # fmt: skip
    if caps.iam_role:
        conn.execute(sql.SQL("GRANT rds_iam TO {}").format(ident))
    may_become(conn, login, caps)


def may_become(conn: Any, login: str, caps: Capabilities) -> None:
    """Let a non-superuser administrator ``SET ROLE`` to ``login`` (see the module doc)."""
    from psycopg import sql

    if caps.superuser:
        return
    # 16 split membership into ADMIN / INHERIT / SET; before, any membership allowed SET ROLE
    may = "SET" if caps.version >= 160000 else "MEMBER"
    if conn.execute("SELECT pg_has_role(current_user, %s, %s)", (login, may)).fetchone()[0]:
        return
    conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(login)))


def revoke_maintenance(conn: Any, progress: Progress) -> None:
    """PUBLIC loses CONNECT on the maintenance databases the administrator may change."""
    from psycopg import sql

    rows = conn.execute(
        "SELECT datname, pg_has_role(current_user, datdba, 'USAGE') OR "
        "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
        "FROM pg_database WHERE datname = ANY(%s)", (list(MAINTENANCE_DATABASES),)
    ).fetchall()  # fmt: skip
    for name, allowed in rows:
        if allowed:
            conn.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC")
                         .format(sql.Identifier(name)))  # fmt: skip
        else:
            progress(f"postgres: {name} belongs to another role; its PUBLIC grants are kept")


def ensure_database(conn: Any, store: StoreSetup, progress: Progress) -> None:
    """The store's database, owned by its login, reachable by that login only."""
    from psycopg import sql

    db, owner = sql.Identifier(store.database), sql.Identifier(store.login)
    row = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                       (store.database,)).fetchone()  # fmt: skip
    if row is None:
        progress(f"creating database {store.database} (owner {store.login})")
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(db, owner))
    elif row[0] != store.login:
        progress(f"database {store.database}: owner {row[0]} -> {store.login}")
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(db, owner))
    conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
    conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(db, owner))


def ensure_extensions(admin: Server, store: StoreSetup) -> None:
    from psycopg import sql

    if not store.extensions:
        return
    with admin.connect(store.database) as conn:
        for ext in store.extensions:
            conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext)))


def setup_stores(admin: Server, stores: Sequence[StoreSetup], password_for: PasswordFor,
                 progress: Progress, *, ledger_database: str = "postgres",
                 workers: int = 6) -> None:  # fmt: skip
    """Logins, databases, grants, extensions and migrations of ``stores``; idempotent.

    ``password_for(login)`` is the password to connect as a login (dbmate runs as it);
    on a server without IAM auth it is also set as the login's password.
    """
    if not stores:
        return
    with admin.connect(ledger_database) as conn:
        caps = capabilities(conn)
        migration_ledger.create(conn)
        for login in dict.fromkeys(s.login for s in stores):
            ensure_login(conn, login, None if caps.iam_role else password_for(login), caps)
        revoke_maintenance(conn, progress)

    def one(store: StoreSetup, ledger: Any) -> None:
        """Database, its grants, extensions, migrations: independent of the other stores."""
        with admin.connect(ledger_database) as conn:
            ensure_database(conn, store, progress)
        ensure_extensions(admin, store)
        migrate.migrate(admin, store, password_for, ledger)

    # Stores are independent; dbmate runs are mostly waiting, so overlap them. The
    # ledger connection is shared (psycopg serialises its use across threads).
    with admin.connect(ledger_database) as ledger, ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda s: one(s, ledger), stores))
