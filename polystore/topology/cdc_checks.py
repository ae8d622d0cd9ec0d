"""Checks of a CDC link's declared transform: captured rows → items of the read model.

Kept apart from checks.py (which calls it) because the rules are about what a change
event can carry: every item field needs a source column, every column must exist, an
item's key must identify one row (it includes the table's primary key), and a key built
from columns outside the primary key needs ``REPLICA IDENTITY FULL`` — without it a delete
event carries only the primary key, and the sink could not tell which item to delete.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from polystore.topology.model import CdcLink, CdcTable, DynamoStore, ItemType
from polystore.topology.schema_model import DatabaseSchema, Table

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Found = Iterator[tuple[tuple[Any, ...], str]]


def source_columns(source: str) -> list[str] | None:
    """Columns a field source reads: a bare column name or a ``{column}`` template."""
    if _IDENT.match(source):
        return [source]
    found = _PLACEHOLDER.findall(source)
    return found or None


def cdc_transform_problems(
    lname: str, link: CdcLink, target: DynamoStore, schema: DatabaseSchema | None
) -> Found:
    base = ("links", lname)
    if target.attributes.get(target.key.hash) != "S":
        yield (
            (*base, "target"),
            f"the CDC sink keeps delete markers under a prefixed partition key, so the "
            f"partition key {target.key.hash!r} of {target.table!r} must be a string (S)",
        )
    for table, spec in link.tables.items():
        t = schema.tables.get(table) if schema is not None else None
        if schema is not None and t is None:
            continue  # reported by the caller: the table is not in the migrations
        yield from _table(base, table, spec, target, t)


def _table(
    base: tuple[Any, ...], table: str, spec: CdcTable, target: DynamoStore, t: Table | None
) -> Found:
    loc = (*base, "tables", table)
    item = target.items.get(spec.item)
    if item is None:
        known = ", ".join(sorted(target.items)) or "none declared"
        yield (
            (*loc, "item"),
            f"{spec.item!r} is not an item type of {target.table!r} (items: {known})",
        )
        return
    sources: dict[str, list[str]] = {}  # item field -> columns it reads
    for field, source in spec.fields.items():
        if field not in item.fields:
            yield (
                (*loc, "fields", field),
                f"{field!r} is not a field of item {spec.item!r} "
                f"(fields: {', '.join(sorted(item.fields))})",
            )
            continue
        cols = source_columns(source)
        if cols is None:
            yield (
                (*loc, "fields", field),
                f"source {source!r} is neither a column name nor a template like 'X#{{column}}'",
            )
            continue
        sources[field] = cols
        for col in cols:
            if t is not None and col not in t.columns:
                yield (*loc, "fields", field), f"column {col!r} is not in table {table!r}"
    for field in item.fields:
        if field in spec.fields:
            continue
        if t is not None and field not in t.columns:
            yield (
                (*loc, "item"),
                f"field {field!r} of item {spec.item!r} has no source: table {table!r} has no "
                f"column {field!r}; map it under links.{base[1]}.tables.{table}.fields",
            )
            continue
        sources[field] = [field]
    if t is not None:
        yield from _key_columns(loc, table, spec, item, sources, t)


def _key_columns(
    loc: tuple[Any, ...],
    table: str,
    spec: CdcTable,
    item: ItemType,
    sources: dict[str, list[str]],
    t: Table,
) -> Found:
    used: set[str] = set()
    for template in item.key.values():
        for field in _PLACEHOLDER.findall(template):
            used.update(sources.get(field, ()))
    missing = [c for c in t.primary_key if c not in used]
    if missing:
        yield (
            (*loc, "item"),
            f"the key of item {spec.item!r} does not include primary key column(s) "
            f"{', '.join(missing)} of {table!r}: two rows would write the same item",
        )
    outside = sorted(used - set(t.primary_key))
    if outside and t.replica_identity != "full":
        yield (
            (*loc, "item"),
            f"the key of item {spec.item!r} uses {', '.join(outside)}, outside the primary key "
            f"of {table!r}: a delete carries only the key columns unless the table has "
            f"REPLICA IDENTITY FULL (add `ALTER TABLE {table} REPLICA IDENTITY FULL;` to a "
            "migration)",
        )
