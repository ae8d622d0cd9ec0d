"""CDC sources: what a CDC link needs inside PostgreSQL, provisioned from the link.

Per link: a replication login (``REPLICATION``, ``SELECT`` on the captured tables only,
``CONNECT`` on that one database; never the service's login) whose password is kept in
``state.json``; a publication for the captured tables; a logical replication slot
(``pgoutput``) so the WAL is kept from provisioning on, even before Connect first starts;
the WAL a slot may hold is bounded by the server's ``max_slot_wal_keep_size``
(``emulation/engines/postgres.py``). The slot and publication are named by
``polystore.naming.replication_slot_name`` (the connector config names the same).

Idempotent: a second run changes nothing; a changed ``tables`` list is applied to the
publication and the grants. Runs after the postgres provisioning (the tables must exist).
:func:`drop_slots` removes the slots (``reset``: a slot left behind would pin WAL forever).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulation.runtimes.base import Endpoints, Progress
from emulation.state import State
from polystore.naming import LOCAL_ENVIRONMENT, replication_role_name, replication_slot_name
from polystore.topology.model import PostgresStore, System


@dataclass(frozen=True)
class CdcSource:
    system: str
    link: str
    database: str
    tables: tuple[str, ...]
    role: str
    password: str
    slot: str  # also the publication's name


def sources(systems: list[System], state: State) -> list[CdcSource]:
    out = []
    for system in systems:
        for name, link in system.cdc_links().items():
            store = system.stores[link.source]
            assert isinstance(store, PostgresStore)
            role = replication_role_name(system, name)
            out.append(CdcSource(
                system.name, name, store.database, tuple(link.tables), role,
                state.password_for(role), replication_slot_name(system, LOCAL_ENVIRONMENT, name),
            ))  # fmt: skip
    return out


def _admin(ep: Endpoints) -> dict[str, Any]:
    return {"host": ep.host, "port": ep.postgres_port, "user": ep.admin_user,
            "password": ep.admin_password, "sslmode": "disable"}  # fmt: skip


def provision(systems: list[System], state: State, ep: Endpoints, progress: Progress) -> None:
    import psycopg
    from psycopg import sql

    todo = sources(systems, state)
    for src in todo:
        role, db = sql.Identifier(src.role), sql.Identifier(src.database)
        with psycopg.connect(dbname="postgres", autocommit=True, **_admin(ep)) as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                  (src.role,)).fetchone()  # fmt: skip
            conn.execute(
                sql.SQL("{} ROLE {} LOGIN REPLICATION PASSWORD {}").format(
                    sql.SQL("ALTER" if exists else "CREATE"), role, sql.Literal(src.password)
                )
            )
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, role))
        with psycopg.connect(dbname=src.database, autocommit=True, **_admin(ep)) as conn:
            tables = sql.SQL(", ").join(sql.Identifier("public", t) for t in src.tables)
            with conn.transaction():
                conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
                # exactly the captured tables: revoke first, so a table dropped from the
                # link loses its grant
                conn.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}")
                             .format(role))  # fmt: skip
                conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(tables, role))
                has_pub = conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s",
                                       (src.slot,)).fetchone()  # fmt: skip
                verb = "ALTER PUBLICATION {} SET TABLE {}" if has_pub else (
                    "CREATE PUBLICATION {} FOR TABLE {}")  # fmt: skip
                conn.execute(sql.SQL(verb).format(sql.Identifier(src.slot), tables))
            has_slot = conn.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s",
                                    (src.slot,)).fetchone()  # fmt: skip
            if not has_slot:
                # outside a transaction that wrote: slot creation waits for running ones
                conn.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')",
                             (src.slot,))  # fmt: skip
    if todo:
        progress(f"cdc: {len(todo)} publication(s), slot(s) and replication login(s)")


def drop_slots(systems: list[System], state: State, ep: Endpoints) -> list[str]:
    """Drop the links' slots (ending the connector's walsender first); the dropped names."""
    import psycopg

    dropped = []
    for src in sources(systems, state):
        with psycopg.connect(dbname=src.database, autocommit=True, **_admin(ep)) as conn:
            row = conn.execute("SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s",
                               (src.slot,)).fetchone()  # fmt: skip
            if row is None:
                continue
            if row[0] is not None:
                conn.execute("SELECT pg_terminate_backend(%s)", (row[0],))
            conn.execute("SELECT pg_drop_replication_slot(%s)", (src.slot,))
            dropped.append(src.slot)
    return dropped


def connectors(systems: list[System], state: State, ep: Endpoints) -> dict[str, dict[str, str]]:
    """Every CDC link's connector config for the local stack (``cdc.connector``, the
    function infra uses too), reading as the link's replication login."""
    from cdc.connector import Database, connector_config, connector_name

    by_name = {s.name: s for s in systems}
    out = {}
    for src in sources(systems, state):
        db = Database(host=ep.host, port=ep.postgres_port, user=src.role, password=src.password)
        out[connector_name(src.link)] = connector_config(
            by_name[src.system], src.link, LOCAL_ENVIRONMENT, db)  # fmt: skip
    return out


def register(systems: list[System], state: State, ep: Endpoints, connect_url: str,
             progress: Progress) -> None:  # fmt: skip
    """PUT each connector's config to the local Connect worker (idempotent: an unchanged
    config is a no-op, a changed one restarts the connector, which resumes from offsets)."""
    import httpx

    from emulation.errors import ProvisionError

    for name, config in connectors(systems, state, ep).items():
        resp = httpx.put(f"{connect_url}/connectors/{name}/config", json=config, timeout=60)
        if resp.status_code >= 300:
            raise ProvisionError(f"Kafka Connect refused connector {name}: "
                                 f"HTTP {resp.status_code} {resp.text[:500]}",
                                 "see the Connect log; the config is cdc.connector's")  # fmt: skip
        progress(f"cdc: connector {name} registered")
