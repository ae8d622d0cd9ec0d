"""The ``cdc`` link kind in the local stack (``emulation.links``): provisioning and worker.

PostgreSQL side, provisioned from the link (``provision``): ``dbsetup.replication``, the
code a deployed store's setup task runs -- per link a replication login (``SELECT`` on
the captured tables only, ``CONNECT`` on that one database; never the service's login)
whose password is kept in ``state.json``, a publication for the captured tables and a
logical replication slot (``pgoutput``), named by
``polystore.naming.replication_slot_name`` (the connector config names the same). The
WAL a slot may hold is bounded by the server's ``max_slot_wal_keep_size``
(``emulation/engines/postgres/server.py``). Idempotent; runs after the engines'
provisioning (the tables must exist).
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

from dbsetup.plan import replication_setups
from dbsetup.replication import ReplicationSetup
from emulation.engines.base import Endpoints, Progress, Worker
from emulation.state import State, StateDir
from polystore.naming import LOCAL_ENVIRONMENT, local_name, store_env_var
from polystore.topology.model import CdcLink, System

KAFKA, CONNECT = "kafka", "connect"  # the engines a CDC link needs beyond the stores'


@dataclass(frozen=True)
class CdcSource:
    system: str
    link: str
    setup: ReplicationSetup  # database, tables, login, slot (also the publication's name)
    password: str

    @property
    def role(self) -> str:
        return self.setup.login

    @property
    def slot(self) -> str:
        return self.setup.slot

    @property
    def database(self) -> str:
        return self.setup.database


def sources(systems: list[System], state: State) -> list[CdcSource]:
    out = []
    for system in systems:
        for name, setup in replication_setups(system, LOCAL_ENVIRONMENT).items():
            out.append(CdcSource(system.name, name, setup, state.password_for(setup.login)))
    return out


def provision(systems: list[System], ep: Endpoints, progress: Progress) -> None:
    """The PostgreSQL side of every CDC link, then its connector where Connect runs."""
    provision_postgres(systems, ep, progress)
    if ep.port(CONNECT):
        register(systems, ep, connect_url(ep), progress)


def provision_postgres(systems: list[System], ep: Endpoints, progress: Progress) -> None:
    """Each link's replication login, publication and slot (``dbsetup.replication``, the
    code the deployed store's setup task runs), the password kept in ``state.json``."""
    import dbsetup
    from emulation.engines.postgres.provision import admin_server, local_errors

    todo = sources(systems, ep.state)
    admin = admin_server(ep)
    with local_errors():
        for src in todo:
            dbsetup.setup_replication(admin, src.setup, src.password)
    if todo:
        progress(f"cdc: {len(todo)} publication(s), slot(s) and replication login(s)")


def drop_slots(systems: list[System], ep: Endpoints) -> list[str]:
    """Drop the links' slots (ending the connector's walsender first); the dropped names."""
    import dbsetup
    from emulation.engines.postgres.provision import admin_server

    admin = admin_server(ep)
    return [src.slot for src in sources(systems, ep.state)
            if dbsetup.drop_slot(admin, src.setup)]  # fmt: skip


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
