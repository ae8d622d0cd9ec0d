"""The plan of one seeding run for one system: every row, item, document and event.

``build_plan`` generates everything in memory, deterministically, before anything is
written: PostgreSQL tables in foreign-key / reference order (parents first), then the
DynamoDB stores, search indexes and topics. A store that a link writes (a stream-to-search
index, a CDC read model) is not generated: its rows come from the link, and the plan
records which link feeds it so loaders skip it and ``--verify`` checks convergence.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from polystore.topology.model import System
from seed import dynamo_generate, pg_copy, pg_generate, search_generate
from seed.domains import domain_for
from seed.pg_model import TableKey, TableSpec, load_order, system_tables
from seed.rng import Clock, stream

Row = dict[str, Any]
DEFAULT_SEED = 42
ROOT_ROWS = 20  # rows of a table without parents, per unit of scale (generic rule)
CHILD_RATIO = 2  # rows of a child table per row of its first parent (generic rule)


@dataclass
class Plan:
    system: System
    seed: int
    scale: int
    clock: Clock
    specs: dict[TableKey, TableSpec] = field(default_factory=dict)
    order: list[TableKey] = field(default_factory=list)
    tables: dict[TableKey, list[Row]] = field(default_factory=dict)
    dropped: dict[TableKey, int] = field(default_factory=dict)
    items: dict[str, list[Row]] = field(default_factory=dict)  # dynamodb store -> items
    docs: dict[str, list[Row]] = field(default_factory=dict)  # search store -> documents
    events: dict[str, list[Row]] = field(default_factory=dict)  # topic store -> events
    fed_by: dict[str, str] = field(default_factory=dict)  # store -> link that writes it
    seconds: float = 0.0

    def digest(self) -> str:
        """A hash of every byte this plan would write (rows as COPY text, items, docs)."""
        h = hashlib.sha256()
        for key in self.order:
            h.update(repr(key).encode())
            for chunk in pg_copy.encode(self.specs[key], self.tables[key]):
                h.update(chunk)
        for kind in (self.items, self.docs, self.events):
            for store in sorted(kind):
                for entry in kind[store]:
                    h.update(json.dumps(entry, sort_keys=True, default=str).encode())
        return h.hexdigest()

    def spec(self, store: str, table: str) -> TableSpec | None:
        return self.specs.get((store, table))

    def rows(self, store: str, table: str) -> list[Row]:
        return self.tables.get((store, table), [])

    def stores_of(self, service: str) -> list[str]:
        return sorted(self.system.stores_of(service))

    def counts(self) -> list[tuple[str, str, str, int]]:
        """(store, kind, what, count) for the dry-run and the summary."""
        out: list[tuple[str, str, str, int]] = []
        for store, table in self.order:
            out.append((store, "postgres", table, len(self.tables.get((store, table), []))))
        for store, items in self.items.items():
            per_type: dict[str, int] = {}
            for item in items:
                per_type[_item_type(self.system, store, item)] = (
                    per_type.get(_item_type(self.system, store, item), 0) + 1
                )
            for t, n in sorted(per_type.items()):
                out.append((store, "dynamodb", t, n))
        for store, docs in self.docs.items():
            out.append((store, "search", self.system.stores[store].index, len(docs)))  # type: ignore[union-attr]
        for store, events in self.events.items():
            out.append((store, "topic", self.system.stores[store].topic, len(events)))  # type: ignore[union-attr]
        return out


def _item_type(system: System, store: str, item: Row) -> str:
    """Which declared item type an item is (by its literal key parts), for counting."""
    spec = system.stores[store]
    for name, itype in spec.items.items():  # type: ignore[union-attr]
        ok = True
        for attr, template in itype.key.items():
            head = template.split("{", 1)[0]
            value = str(item.get(attr, ""))
            if "{" not in template:
                ok = ok and value == template
            elif head:
                ok = ok and value.startswith(head)
        if ok and all(f in item for f in itype.fields if f in ("transaction_id", "asset_id")):
            return name
    return "item"


def fed_stores(system: System) -> dict[str, str]:
    """Stores a link writes (stream-to-search targets, CDC read models) -> link name."""
    out: dict[str, str] = {}
    for name, link in system.links.items():
        if link.kind in ("stream-to-search", "cdc"):
            out[link.target] = name
    return out


Sink = Callable[[TableSpec, list[Row]], None]


def build_plan(
    system: System,
    seed: int = DEFAULT_SEED,
    scale: int = 1,
    now: datetime | None = None,
    sink: Sink | None = None,
) -> Plan:
    """Generate a system's data. With a ``sink``, each PostgreSQL table is handed to it
    as soon as it is generated, and the plan then keeps only the columns later tables
    and deletion need (keys and ids): memory stays a fraction of the data's size, so
    large scales (ecommerce at 100k users) fit. The generated values are the same."""
    started = time.perf_counter()
    plan = Plan(system, seed, scale, Clock(now))
    plan.fed_by = fed_stores(system)
    domain = domain_for(system.name)(plan)
    plan.specs = system_tables(system)
    plan.order = load_order(plan.specs)
    pools = pg_generate.Pools()
    for key in plan.order:
        spec = plan.specs[key]
        partials = domain.partial_rows(*key)
        count = domain.count(*key)
        if partials is None and count is None:
            partials = _one_per_parent(plan, spec)
        if count is None:
            count = _generic_count(plan, spec)
        rng = stream(seed, system.name, *key)
        rows, dropped = pg_generate.generate(spec, pools, rng, plan.clock, count, partials)
        if sink is not None:
            sink(spec, rows)
            rows = _trim(plan, spec, rows)
            pools.rows[key] = rows
        plan.tables[key] = rows
        if dropped:
            plan.dropped[key] = dropped
    for name, store in system.dynamodb_stores().items():
        if name in plan.fed_by:
            continue
        items = domain.items(name)
        if items is None:
            rng = stream(seed, system.name, name)
            items = dynamo_generate.generic_items(store, rng, plan.clock, ROOT_ROWS * scale)
        plan.items[name] = items
    for name, sstore in system.search_stores().items():
        if name in plan.fed_by:
            continue
        docs = domain.docs(name)
        if docs is None:
            rng = stream(seed, system.name, name)
            docs = search_generate.generic_docs(sstore, rng, plan.clock, ROOT_ROWS * scale)
        plan.docs[name] = docs
    for name in system.topic_stores():
        plan.events[name] = domain.events(name) or []
    plan.seconds = time.perf_counter() - started
    return plan


def _trim(plan: Plan, spec: TableSpec, rows: list[Row]) -> list[Row]:
    """Rows reduced to what children (parents' columns, inherited ids) and deletion
    (the primary key) still read."""
    keep = set(spec.primary_key)
    keep |= {c for c, col in spec.columns.items() if col.base == "uuid" or c.endswith("_id")}
    for other in plan.specs.values():
        for p in other.parents:
            if p.target == spec.key:
                keep |= set(p.target_columns)
    cols = [c for c in spec.columns if c in keep]
    return [{c: r.get(c) for c in cols} for r in rows]


def _one_per_parent(plan: Plan, spec: TableSpec) -> list[Row] | None:
    """A child unique on its parent's columns (preferences per user) gets one row per
    parent row, in order — random picks would collide and drop rows."""
    for p in spec.parents:
        if p.target == spec.key or p.target not in plan.tables:
            continue
        if any(set(u.columns) <= set(p.columns) and u.where is None for u in spec.uniques):
            return [
                dict(zip(p.columns, (r[c] for c in p.target_columns), strict=True))
                for r in plan.tables[p.target]
            ]
    return None


def _generic_count(plan: Plan, spec: TableSpec) -> int:
    for p in spec.parents:
        if p.target != spec.key and p.target in plan.tables and p.kind == "fk":
            return CHILD_RATIO * len(plan.tables[p.target])
    for p in spec.parents:
        if p.target != spec.key and p.target in plan.tables:
            return CHILD_RATIO * len(plan.tables[p.target])
    return ROOT_ROWS * plan.scale
