"""The ``cdc`` link kind in the local stack (``emulation.links``): provisioning and worker.

PostgreSQL side, provisioned from the link (``provision``):

Per link: a replication login (``REPLICATION``, ``SELECT`` on the captured tables only,
``CONNECT`` on that one database; never the service's login) whose password is kept in
``state.json``; a publication for the captured tables; a logical replication slot
(``pgoutput``) so the WAL is kept from provisioning on, even before Connect first starts;
the WAL a slot may hold is bounded by the server's ``max_slot_wal_keep_size``
(``emulation/engines/postgres.py``). The slot and publication are named by
``polystore.naming.replication_slot_name`` (the connector config names the same).

Idempotent: a second run changes nothing; a changed ``tables`` list is applied to the
publication and the grants. Runs after the engines' provisioning (the tables must exist).
Then, when the stack runs Kafka Connect (engine ``connect``), the link's connector
(``cdc.connector``, the function infra uses) is PUT to it, reading as that login.
:func:`drop_slots` removes the slots (a slot left behind would pin WAL; ``reset`` wipes the
data dir, which drops them too).

Worker (``workers``): the sink consumer ``python -m cdc.consumer`` feeding ``cdc.handler``
the MSK event shape, once the stack runs Kafka (engine ``kafka``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from emulation.engines.base import Endpoints, Progress, Worker
from emulation.state import State, StateDir
from polystore.naming import (
    LOCAL_ENVIRONMENT,
    local_name,
    replication_role_name,
    replication_slot_name,
    store_env_var,
)
from polystore.topology.model import CdcLink, PostgresStore, System

KAFKA, CONNECT = "kafka", "connect"  # the engines a CDC link needs beyond the stores'


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
    return {"host": ep.host, "port": ep.port("postgres"), "user": ep.admin_user,
            "password": ep.admin_password, "sslmode": "disable"}  # fmt: skip


def provision(systems: list[System], ep: Endpoints, progress: Progress) -> None:
    """The PostgreSQL side of every CDC link, then its connector where Connect runs."""
    provision_postgres(systems, ep, progress)
    if ep.port(CONNECT):
        register(systems, ep, connect_url(ep), progress)


def provision_postgres(systems: list[System], ep: Endpoints, progress: Progress) -> None:
    import psycopg
    from psycopg import sql

    todo = sources(systems, ep.state)
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


def drop_slots(systems: list[System], ep: Endpoints) -> list[str]:
    """Drop the links' slots (ending the connector's walsender first); the dropped names."""
    import psycopg

    dropped = []
    for src in sources(systems, ep.state):
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


def connectors(systems: list[System], ep: Endpoints) -> dict[str, dict[str, str]]:
    """Every CDC link's connector config for the local stack (``cdc.connector``, the
    function infra uses too), reading as the link's replication login."""
    from cdc.connector import Database, connector_config, connector_name

    by_name = {s.name: s for s in systems}
    out = {}
    for src in sources(systems, ep.state):
        db = Database(host=ep.host, port=ep.port("postgres"), user=src.role, password=src.password)
        out[connector_name(src.link)] = connector_config(
            by_name[src.system], src.link, LOCAL_ENVIRONMENT, db)  # fmt: skip
    return out


def register(systems: list[System], ep: Endpoints, connect_url: str,
             progress: Progress) -> None:  # fmt: skip
    """PUT each connector's config to the local Connect worker (idempotent: an unchanged
    config is a no-op, a changed one restarts the connector, which resumes from offsets)."""
    import httpx

    from emulation.errors import ProvisionError

    for name, config in connectors(systems, ep).items():
        resp = httpx.put(f"{connect_url}/connectors/{name}/config", json=config, timeout=60)
        if resp.status_code >= 300:
            raise ProvisionError(f"Kafka Connect refused connector {name}: "
                                 f"HTTP {resp.status_code} {resp.text[:500]}",
                                 "see the Connect log; the config is cdc.connector's")  # fmt: skip
        progress(f"cdc: connector {name} registered")


def connect_url(ep: Endpoints) -> str:
    return f"http://{ep.host}:{ep.port(CONNECT)}"


def bootstrap(ep: Endpoints) -> str:
    return f"{ep.host}:{ep.port(KAFKA)}"


def workers(system: System, name: str, link: CdcLink, ep: Endpoints,
            state_dir: StateDir) -> list[Worker]:  # fmt: skip
    """The link's sink consumer (none until the stack runs Kafka)."""
    if not ep.port(KAFKA):
        return []
    target = system.stores[link.target]
    table_env = store_env_var(link.target, target)
    assert table_env is not None
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap(ep),
        "AWS_ENDPOINT_URL_DYNAMODB": ep.url("dynamodb"),
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        table_env: local_name(system, link.target),
        "POLYSTORE_STACKS": str(system.source.parent),
    }  # fmt: skip
    dead = state_dir.root / "logs" / f"cdc-{system.name}-{name}-dead-letter.jsonl"
    return [Worker(
        f"cdc-sink-{system.name}-{name}",
        [sys.executable, "-m", "cdc.consumer", "--system", system.name, "--link", name,
         "--dead-letter", str(dead)],
        env=env, description=f"{link.topic} → {link.target} (CDC sink)",
    )]  # fmt: skip
