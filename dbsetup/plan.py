"""The setups a topology asks for: one ``StoreSetup`` per PostgreSQL store, one
``ReplicationSetup`` per CDC link, with the names of ``polystore.naming``."""

from __future__ import annotations

from dbsetup.replication import ReplicationSetup
from dbsetup.store import StoreSetup
from polystore.naming import replication_role_name, replication_slot_name, service_role_name
from polystore.topology.model import PostgresStore, System


def store_setups(system: System, rerun: str, only: str | None = None) -> list[StoreSetup]:
    """Every PostgreSQL store of ``system`` (or the one named ``only``)."""
    out = []
    for name, store in system.postgres_stores().items():
        if only is None or name == only:
            out.append(StoreSetup(
                label=f"{system.name}.{name}", database=store.database,
                login=service_role_name(system, store.owner),
                extensions=tuple(store.extensions), migrations=system.migrations_dir(name),
                rerun=rerun))  # fmt: skip
    return out


def replication_setups(system: System, environment: str,
                       source: str | None = None) -> dict[str, ReplicationSetup]:  # fmt: skip
    """CDC link -> its replication setup (only the links reading ``source``, if given)."""
    out = {}
    for name, link in system.cdc_links().items():
        if source is not None and link.source != source:
            continue
        store = system.stores[link.source]
        assert isinstance(store, PostgresStore)  # the topology check guarantees it
        out[name] = ReplicationSetup(
            label=f"{system.name}.{name}", database=store.database, tables=tuple(link.tables),
            login=replication_role_name(system, name),
            slot=replication_slot_name(system, environment, name))  # fmt: skip
    return out
