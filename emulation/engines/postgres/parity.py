"""PostgreSQL parity: server major, databases, roles and their reach, extensions, tables,
indexes."""

from __future__ import annotations

from dbsetup.store import MAINTENANCE_DATABASES
from emulation.engines.base import Endpoints
from emulation.engines.postgres.version import majors
from polystore.naming import service_role_name
from polystore.topology.model import System

_PUBLIC_CONNECT = """
SELECT datname FROM pg_database
WHERE datallowconn AND (datacl IS NULL OR EXISTS (
    SELECT 1 FROM aclexplode(datacl) a WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT'))
"""
_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
"""
_INDEXES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('i', 'I')
"""
BOOKKEEPING_TABLES = {"schema_migrations"}  # dbmate's own


def check(systems: list[System], ep: Endpoints) -> list[str]:
    import psycopg

    admin = {"host": ep.host, "port": ep.port("postgres"), "user": ep.admin_user,
             "password": ep.admin_password, "sslmode": "disable", "autocommit": True}  # fmt: skip
    drift: list[str] = []
    with psycopg.connect(dbname="postgres", **admin) as conn:
        drift += version_drift(systems, int(conn.execute("SHOW server_version_num").fetchone()[0]))
        dbs = {d for (d,) in conn.execute("SELECT datname FROM pg_database WHERE datallowconn")}
        roles = dict(conn.execute("SELECT rolname, rolcanlogin FROM pg_roles").fetchall())
        public = {d for (d,) in conn.execute(_PUBLIC_CONNECT)}
        for name in sorted(public & (dbs | set(MAINTENANCE_DATABASES))):
            drift.append(f"postgres: PUBLIC may connect to database {name} "
                         "(every service login could open it)")  # fmt: skip
        for system in systems:
            for store_name, store in system.postgres_stores().items():
                where = f"{system.name}.{store_name}"
                role = service_role_name(system, store.owner)
                if store.database not in dbs:
                    drift.append(f"{where}: database {store.database} is missing")
                    continue
                if not roles.get(role):
                    drift.append(f"{where}: login role {role} is missing or cannot log in")
                    continue
                reach = {
                    d
                    for d in dbs
                    if conn.execute(
                        "SELECT has_database_privilege(%s, %s, 'CONNECT')", (role, d)
                    ).fetchone()[0]
                }
                own = {s.database for s in system.stores_of(store.owner).values()
                       if s.kind == "postgres"}  # fmt: skip
                if store.database not in reach:
                    drift.append(f"{where}: {role} cannot connect to its own database "
                                 f"{store.database}")  # fmt: skip
                for other in sorted(reach - own):
                    drift.append(f"{where}: {role} can connect to {other}, which it does not own")
                drift += _database(system, store_name, store.database, admin, psycopg)
    return drift


def version_drift(systems: list[System], server_version_num: int) -> list[str]:
    """A line per declared major the server does not run (``SHOW server_version_num``)."""
    running = server_version_num // 10000
    shown = f"{running}.{server_version_num % 10000}"
    return [f"postgres: the local server runs PostgreSQL {shown}; {', '.join(stores)} "
            f"declare{'s' if len(stores) == 1 else ''} PostgreSQL {major} (as AWS runs it)"
            for major, stores in sorted(majors(systems).items()) if major != running]  # fmt: skip


def _database(system: System, store_name: str, database: str, admin: dict[str, object],
              psycopg: object) -> list[str]:  # fmt: skip
    where = f"{system.name}.{store_name} ({database})"
    schema = system.schema(store_name)
    store = system.postgres_stores()[store_name]
    drift = []
    with psycopg.connect(dbname=database, **admin) as conn:  # type: ignore[attr-defined]
        exts = {e for (e,) in conn.execute("SELECT extname FROM pg_extension")}
        for ext in sorted(set(store.extensions) - exts):
            drift.append(f"{where}: extension {ext} is not installed")
        tables = {t for (t,) in conn.execute(_TABLES)} - BOOKKEEPING_TABLES
        declared = set(schema.base_tables())
        for t in sorted(declared - tables):
            drift.append(f"{where}: table {t} is declared in the migrations but missing")
        for t in sorted(tables - declared):
            drift.append(f"{where}: table {t} exists but no migration declares it")
        indexes = {i for (i,) in conn.execute(_INDEXES)}
        for ix in sorted(set(schema.indexes) - indexes):
            spec = schema.indexes[ix]
            if spec.table in declared:
                drift.append(f"{where}: index {ix} on {spec.table} "
                             f"({', '.join(spec.columns)}) is missing")  # fmt: skip
    return drift
