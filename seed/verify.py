"""``--verify``: read the seeded stores back and check the invariants, first failure first.

Generic invariants, from the topology: every planned row and item is there; every
declared cross-service reference resolves (``orders.user_id`` exists in ``user_profiles``,
and through it in auth); every store a link feeds has converged with its source (a
stream-to-search index holds every item of its table; a CDC read model every row) —
when the link is not running locally yet, the violation says so and names the link.
Then each domain's own invariants (balances equal the sum of their transactions, events
replay to the stock, ...). Every read uses the owning service's variables.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from psycopg import sql

from polystore.topology.model import Reference
from seed import load_dynamodb, load_postgres, load_search
from seed.domains import domain_for
from seed.plan import Plan
from seed.targets import Target, physical


class Reader:
    """Reads a system's stores back, each with its owner's variables."""

    def __init__(self, plan: Plan, target: Target) -> None:
        self.plan, self.target, self.system = plan, target, plan.system
        self._scans: dict[str, list[dict[str, Any]]] = {}

    def env(self, store: str) -> dict[str, str]:
        return self.target.env(self.system, self.system.stores[store].owner)

    def sql(self, store: str, query: str | sql.Composable, *args: Any) -> list[tuple[Any, ...]]:
        with load_postgres.connect(self.env(store)) as conn, conn.cursor() as cur:
            cur.execute(query, args or None)
            return list(cur.fetchall())

    def scan(self, store: str, fresh: bool = False) -> list[dict[str, Any]]:
        if fresh or store not in self._scans:
            env = self.env(store)
            self._scans[store] = load_dynamodb.scan_all(env, physical(self.system, store, env))
        return self._scans[store]

    def search(self, store: str) -> tuple[int, set[str]]:
        env = self.env(store)
        return load_search.count_and_ids(env, physical(self.system, store, env))


def _values(reader: Reader, ref: str) -> set[Any]:
    store, table, column = Reference.split(ref)
    rows = reader.sql(
        store,
        sql.SQL("SELECT DISTINCT {} FROM {} WHERE {} IS NOT NULL").format(
            sql.Identifier(column), sql.Identifier(table), sql.Identifier(column)
        ),
    )
    return {str(r[0]) for r in rows}


def check(plan: Plan, target: Target, wait_s: float = 10.0) -> Iterator[str]:
    """Violations, in a stable order (the CLI stops at the first)."""
    yield from check_data(plan, target)
    yield from check_links(plan, target, wait_s)


def check_data(plan: Plan, target: Target) -> Iterator[str]:
    """Rows and items present, references resolve, the domain's invariants hold."""
    reader = Reader(plan, target)
    system = plan.system
    for (store, table), rows in plan.tables.items():
        n = reader.sql(store, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        if n[0][0] < len(rows):
            yield (f"{system.name}: {store}.{table} holds {n[0][0]} rows, {len(rows)} were seeded")
    for store, items in plan.items.items():
        have = len(reader.scan(store))
        if have < len(items):
            yield f"{system.name}: table of {store} holds {have} items, {len(items)} were seeded"
    for ref in system.references:
        src, dst = _values(reader, ref.source), _values(reader, ref.target)
        missing = src - dst
        if missing:
            yield (
                f"{system.name}: reference {ref.source} -> {ref.target}: "
                f"{len(missing)} values have no target (e.g. {sorted(missing)[0]})"
            )
    yield from domain_for(system.name)(plan).check(reader)


def check_links(plan: Plan, target: Target, wait_s: float) -> Iterator[str]:
    """Every store a link feeds has converged with the link's source."""
    reader = Reader(plan, target)
    system = plan.system
    for name, link in system.stream_links().items():
        source = system.stores[link.source]
        want = {str(i[source.key.hash]) for i in reader.scan(link.source)}  # type: ignore[union-attr]
        deadline = time.monotonic() + wait_s
        while True:
            count, ids = reader.search(link.target)
            if want <= ids or (count >= len(want) and len(want) > len(ids)):
                break
            if time.monotonic() > deadline:
                yield (
                    f"{system.name}: index {link.target} holds {count} of the {len(want)} "
                    f"items of {link.source}: it is fed by link {name} (stream-to-search) "
                    f"and has not converged after {wait_s:.0f}s — is the {name} sync "
                    "running? (the local stream-to-search sync is not built yet)"
                )
                break
            time.sleep(0.5)
    for name, link in system.cdc_links().items():
        have = len(reader.scan(link.target, fresh=True))
        rows = sum(len(plan.rows(link.source, t)) for t in link.tables)
        if rows and have == 0:
            yield (
                f"{system.name}: read model {link.target} holds 0 items for {rows} rows of "
                f"{link.source} ({', '.join(link.tables)}): it is fed by link {name} (cdc) "
                "and has not converged — no local Kafka/Connect yet"
            )
