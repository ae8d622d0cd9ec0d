"""Names derived from the topology, in one place so AWS and the local stack agree.

Services read the standard variables their clients honour (libpq's ``PG*``, boto3's
``AWS_*``, ``OPENSEARCH_URL``, ``KAFKA_BOOTSTRAP_SERVERS``) plus one variable per store
they own naming its physical table, index or topic. ECS task definitions and
``polystore env`` both build those names with these functions.
"""

from __future__ import annotations

from polystore.topology.model import Store, System, slug

LOCAL_ENVIRONMENT = "local"

STORE_ENV_PREFIX = {
    "dynamodb": "DYNAMODB_TABLE_",
    "search": "OPENSEARCH_INDEX_",
    "topic": "KAFKA_TOPIC_",
}


def store_env_var(store_name: str, store: Store) -> str | None:
    """The variable carrying a store's physical name (``DYNAMODB_TABLE_CARDS``).

    PostgreSQL stores have none: ``PGDATABASE`` carries the database, since a service
    owns at most one database.
    """
    prefix = STORE_ENV_PREFIX.get(store.kind)
    return prefix + slug(store_name) if prefix else None


def physical_name(system: System, environment: str, logical: str) -> str:
    """A table, index or topic name unique per system and environment in one account.

    Two systems (or two stacks) may share an AWS account or a local engine, so the
    declared name is prefixed: ``tcgstore-dev-Cards``. Search index names must be lower
    case, which the declared index names already are.
    """
    return f"{system.name}-{environment}-{logical}"


def store_physical_name(system: System, environment: str, store_name: str) -> str:
    store = system.stores[store_name]
    logical = {
        "dynamodb": getattr(store, "table", None),
        "search": getattr(store, "index", None),
        "topic": getattr(store, "topic", None),
        "postgres": getattr(store, "database", None),
    }[store.kind]
    assert logical is not None
    if store.kind == "postgres":
        return logical  # one cluster per database in AWS: no collision to avoid
    return physical_name(system, environment, logical)


def local_name(system: System, store_name: str) -> str:
    """A store's physical name in the local stack (``tcgstore-local-Cards``)."""
    return store_physical_name(system, LOCAL_ENVIRONMENT, store_name)


def service_role_name(system: System, service: str) -> str:
    """The PostgreSQL login (and IAM DB-auth user) of a service: ``tcgstore_inventory``."""
    return f"{system.name}_{service}".replace("-", "_")


def replication_slot_name(system: System, environment: str, link: str) -> str:
    """A CDC link's replication slot, publication and Debezium server name (one name).

    PostgreSQL names slots with lower-case letters, digits and ``_`` only (≤ 63):
    ``bellyfed_local_bellyfed_cdc``.
    """
    return f"{system.name}_{environment}_{link}".replace("-", "_").lower()[:63]


def replication_role_name(system: System, link: str) -> str:
    """The PostgreSQL login a CDC connector uses (never a service's login)."""
    return f"{system.name}_{link}_replication".replace("-", "_")[:63]


def concrete_index_name(alias: str, generation: int) -> str:
    """The index behind a search store's alias: ``tcgstore-local-cards-000001``.

    Services and the sync handler use the store's name (``OPENSEARCH_INDEX_*``), which
    is an alias; a reindex builds the next generation and swaps the alias atomically.
    """
    return f"{alias}-{generation:06d}"
