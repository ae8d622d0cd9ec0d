"""The topology as plain data: the stable JSON behind ``polystore show --format json``.

This is a machine interface other tools rely on. Its shape is versioned (``version``)
and documented in the README; add fields freely, never rename or remove one without
bumping the version.
"""

from __future__ import annotations

from typing import Any

from polystore.topology.model import (
    CdcLink,
    DynamoStore,
    Link,
    PostgresStore,
    SearchStore,
    Store,
    System,
    TopicStore,
    Topology,
)

SHOW_FORMAT_VERSION = 1


def describe_topology(topology: Topology, systems: list[System] | None = None) -> dict[str, Any]:
    chosen = systems if systems is not None else topology.select(None)
    return {"version": SHOW_FORMAT_VERSION, "systems": [describe_system(s) for s in chosen]}


def describe_system(system: System) -> dict[str, Any]:
    return {
        "name": system.name,
        "description": system.description,
        "file": str(system.source),
        "services": [
            {
                "name": name,
                "description": svc.description,
                "port": svc.port,
                "stores": sorted(system.stores_of(name)),
                "consumes": system.consumed_topics(name),
            }
            for name, svc in system.services.items()
        ],
        "stores": [describe_store(system, name, store) for name, store in system.stores.items()],
        "links": [describe_link(name, link) for name, link in system.links.items()],
        "access_patterns": [
            {"name": name, **ap.model_dump(mode="json", exclude_none=True)}
            for name, ap in system.access_patterns.items()
        ],
        "references": [{"from": r.source, "to": r.target, "via": r.via} for r in system.references],
    }


def describe_link(name: str, link: Link) -> dict[str, Any]:
    out = {"name": name, **link.model_dump(mode="json", exclude_defaults=False)}
    if isinstance(link, CdcLink):
        # version 1 has `tables` as a list of names; the per-table transform is added beside
        out["transform"] = out["tables"]
        out["tables"] = list(link.tables)
    return out


def describe_store(system: System, name: str, store: Store) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "kind": store.kind,
        "owner": store.owner,
        "description": store.description,
        "holds": list(store.holds),
    }
    if isinstance(store, DynamoStore):
        base.update(
            table=store.table,
            attributes=dict(store.attributes),
            key={"hash": store.key.hash, "range": store.key.range},
            global_indexes={
                n: {"hash": g.hash, "range": g.range, "projection": g.projection}
                for n, g in store.global_indexes.items()
            },
            local_indexes={
                n: {"range": lsi.range, "projection": lsi.projection}
                for n, lsi in store.local_indexes.items()
            },
            stream=store.stream,
            ttl=store.ttl,
            pitr=store.pitr,
            billing=store.billing,
            deletion_protection=store.deletion_protection,
            items={
                n: {"key": dict(i.key), "fields": dict(i.fields)} for n, i in store.items.items()
            },
        )
    elif isinstance(store, PostgresStore):
        schema = system.schema(name)
        base.update(
            database=store.database,
            engine=store.engine,
            engines={env: store.engine_for(env) for env in ("dev", "staging", "prod")},
            version=store.version,
            extensions=list(store.extensions),
            logical_replication=store.logical_replication,
            read_replicas=store.read_replicas,
            migrations=str(system.migrations_dir(name)),
            tables={
                t.name: {
                    "columns": {c.name: c.type for c in t.columns.values()},
                    "primary_key": list(t.primary_key),
                    "partition_by": (
                        {"method": t.partition_by[0], "columns": list(t.partition_by[1])}
                        if t.partition_by
                        else None
                    ),
                }
                for t in schema.base_tables().values()
            },
            indexes={
                i.name: {
                    "table": i.table,
                    "columns": list(i.columns),
                    "unique": i.unique,
                    "where": i.where,
                }
                for i in schema.indexes.values()
            },
        )
    elif isinstance(store, SearchStore):
        base.update(index=store.index, **store.body())
    elif isinstance(store, TopicStore):
        base.update(
            topic=store.topic,
            partitions=store.partitions,
            retention_hours=store.retention_hours,
            platform=store.platform,
        )
    return base


def store_summary(store: Store) -> str:
    """One short line for tables: keys, indexes, stream, TTL, PITR."""
    if isinstance(store, DynamoStore):
        key = store.key.hash + (f" / {store.key.range}" if store.key.range else "")
        parts = [f"{store.table} ({key})"]
        if store.global_indexes:
            parts.append("GSI " + ", ".join(store.global_indexes))
        if store.local_indexes:
            parts.append("LSI " + ", ".join(store.local_indexes))
        if store.stream:
            parts.append(f"stream {store.stream}")
        if store.ttl:
            parts.append(f"TTL {store.ttl}")
        parts.append("PITR" if store.pitr else "no PITR")
        return "; ".join(parts)
    if isinstance(store, PostgresStore):
        extra = [store.engine]
        if store.logical_replication:
            extra.append("logical replication")
        if store.read_replicas:
            extra.append(f"{store.read_replicas} replica(s)")
        return f"{store.database} ({', '.join(extra)})"
    if isinstance(store, SearchStore):
        return f"index {store.index} ({len(store.field_paths())} fields)"
    return f"topic {store.topic} ({store.partitions} partitions)"
