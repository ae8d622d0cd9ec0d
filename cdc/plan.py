"""The sink's transform as JSON, built from the topology: one function for AWS and local.

infra puts :func:`sink_spec` (as JSON) in the Lambda's environment; the local consumer
builds it from the same topology (or reads the same variable). The Lambda itself never
loads the topology.
"""

from __future__ import annotations

from cdc.transform import FieldSpec, SinkSpec, TableSpec
from polystore.naming import store_env_var
from polystore.topology.model import DynamoStore, System


def sink_spec(system: System, link_name: str) -> SinkSpec:
    """Per captured table: the item type it becomes, its key templates, each field's source."""
    link = system.cdc_links()[link_name]
    target = system.stores[link.target]
    assert isinstance(target, DynamoStore)  # the loader's checks guarantee it
    tables: dict[str, TableSpec] = {}
    for table, mapping in link.tables.items():
        item = target.items[mapping.item]
        fields = {
            name: FieldSpec(type_, mapping.fields.get(name, name))
            for name, type_ in item.fields.items()
        }
        tables[table] = TableSpec(item=mapping.item, key=dict(item.key), fields=fields)
    env = store_env_var(link.target, target)
    assert env is not None
    return SinkSpec(link=link_name, table_env=env, hash_key=target.key.hash, tables=tables)
