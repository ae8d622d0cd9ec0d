"""Benchmark ``polystore seed`` on the embedded runtime; prints figures and ratios.

1. PostgreSQL: the rows of ecommerce's plan loaded three ways into the same (emptied)
   tables in the same run — raw COPY (psycopg ``write_row`` of the already-generated
   rows; the baseline), the seeder's loader (its own COPY text, the owner's login), and
   the seeder end to end (generation included). Target: loader >= 70 % of raw COPY.
2. DynamoDB: items/s of the seeder's parallel BatchWriteItem (today's engine: moto).
3. Wall time of ``seed`` for all five systems at the default scale on emptied stores
   (generation + load, stores in parallel). Target <= 10 s.
4. ecommerce at BENCH_USERS users (default 100,000) through ``seed`` in streaming mode
   (tables loaded as generated, the plan keeps keys only): wall time and peak RSS.

Run: ``.venv/bin/python bench/bench_seed.py`` (BENCH_STATE_DIR reuses a running stack,
BENCH_PHASES=postgres,dynamodb,all,users picks phases).
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from psycopg import sql  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

from emulation.stack import LocalStack  # noqa: E402
from polystore import load_topology  # noqa: E402
from seed import api, load_dynamodb, load_postgres  # noqa: E402
from seed.domains.ecommerce import USERS_PER_SCALE  # noqa: E402
from seed.plan import build_plan  # noqa: E402
from seed.targets import LocalTarget, physical  # noqa: E402

USERS = int(os.environ.get("BENCH_USERS", "100000"))
PG_SCALE = int(os.environ.get("BENCH_PG_SCALE", "5"))


def _raw_copy(env: dict[str, str], plan: Any, store: str) -> int:
    """The baseline: psycopg's own COPY of the generated rows (write_row per row)."""
    n = 0
    with load_postgres.connect(env) as conn, conn.cursor() as cur:
        for key in plan.order:
            if key[0] != store:
                continue
            spec, rows = plan.specs[key], plan.tables[key]
            cols = list(spec.columns)
            stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(spec.name), sql.SQL(", ").join(map(sql.Identifier, cols))
            )
            json_cols = {c for c, col in spec.columns.items() if col.base in ("json", "jsonb")}
            with cur.copy(stmt) as copy:
                for row in rows:
                    copy.write_row([Jsonb(row.get(c)) if c in json_cols and row.get(c)
                                    is not None else row.get(c) for c in cols])  # fmt: skip
            n += len(rows)
        conn.commit()
    return n


def _empty(plan: Any, target: Any) -> None:
    api.delete_plan(plan, target)


def bench_postgres(target: Any, topology: Any) -> None:
    system = topology.system("ecommerce")
    t0 = time.perf_counter()
    plan = build_plan(system, scale=PG_SCALE)
    gen_s = time.perf_counter() - t0
    rows = sum(len(r) for r in plan.tables.values())
    stores = sorted({s for s, _ in plan.order})
    envs = {s: target.env(system, system.stores[s].owner) for s in stores}
    raw_s = loader_s = float("inf")
    for _ in range(2):  # best of two, alternating, so neither gets a warmer cache
        _empty(plan, target)
        t = time.perf_counter()
        for s in stores:
            _raw_copy(envs[s], plan, s)
        raw_s = min(raw_s, time.perf_counter() - t)
        _empty(plan, target)
        t = time.perf_counter()
        for s in stores:
            specs = [plan.specs[k] for k in plan.order if k[0] == s]
            load_postgres.load_store(envs[s], specs, plan.tables, lambda n: None)
        loader_s = min(loader_s, time.perf_counter() - t)
    print(f"postgres  ecommerce scale {PG_SCALE}: {rows:,} rows in {len(stores)} databases")
    print(f"  raw COPY (psycopg write_row)     {rows / raw_s:>10,.0f} rows/s  ({raw_s:.2f}s)")
    print(
        f"  seeder loader (own login)        {rows / loader_s:>10,.0f} rows/s  "
        f"({loader_s:.2f}s)  = {raw_s / loader_s:.0%} of raw COPY (target >= 70 %)"
    )
    _empty(plan, target)  # leave the stores as found
    e2e = gen_s + loader_s
    print(
        f"  seeder end to end (gen + load)   {rows / e2e:>10,.0f} rows/s  ({e2e:.2f}s; "
        f"generation {rows / gen_s:,.0f} rows/s)  = {raw_s / e2e:.0%} of raw COPY"
    )


def bench_dynamodb(target: Any, topology: Any) -> None:
    system = topology.system("order-processor")
    plan = build_plan(system, scale=2)
    items = plan.items["users"]
    env = target.env(system, system.stores["users"].owner)
    table = physical(system, "users", env)
    best = float("inf")
    for _ in range(2):
        t = time.perf_counter()
        load_dynamodb.put_items(env, table, items, lambda n: None)
        best = min(best, time.perf_counter() - t)
    print(
        f"dynamodb  {len(items):,} items (order-processor users, {load_dynamodb.THREADS} "
        f"threads x 25/batch): {len(items) / best:,.0f} items/s on the embedded engine "
        "(target >= 15,000/s)"
    )


def bench_all(target: Any, topology: Any) -> None:
    systems = topology.select(None)
    plans = [build_plan(s) for s in systems]
    for p in plans:
        _empty(p, target)
    t = time.perf_counter()
    summary = api.seed(systems, target)
    wall = time.perf_counter() - t
    rows = sum(r.written for r in summary.results)
    slowest = max(summary.results, key=lambda r: r.seconds)
    print(
        f"all five systems, default scale: {rows:,} rows/items in {wall:.2f}s "
        f"(target <= 10 s; slowest store {slowest.system}/{slowest.store} "
        f"{slowest.seconds:.2f}s)"
    )


def bench_users(target: Any, topology: Any) -> None:
    """ecommerce at USERS users through ``seed`` in streaming mode (each table loaded as
    it is generated; the plan keeps keys only)."""
    system = topology.system("ecommerce")
    scale = max(1, USERS // USERS_PER_SCALE)
    t = time.perf_counter()
    summary = api.seed([system], target, scale=scale, stream=True)
    wall = time.perf_counter() - t
    rows = sum(r.written for r in summary.results)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    api.delete_plan(summary.plans[0], target)
    users = scale * USERS_PER_SCALE
    print(
        f"ecommerce {users:,} users (scale {scale}, streaming): {rows:,} rows in {wall:.1f}s "
        f"({rows / wall:,.0f} rows/s, generation included), peak RSS {rss:,.0f} MB"
    )
    if users < 100_000:
        factor = 100_000 / users
        print(f"  100k users, extrapolated linearly (not measured): ~{wall * factor:,.0f}s")


def main() -> None:
    topology = load_topology()
    state = os.environ.get("BENCH_STATE_DIR")
    tmp = None if state else tempfile.TemporaryDirectory(prefix="polystore-bench-seed-")
    root = Path(state) if state else Path(tmp.name) / "state"  # type: ignore[union-attr]
    stack = LocalStack(root)
    try:
        stack.up(topology.select(None), runtime="embedded")
        target = LocalTarget(root)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        phases = {"postgres": bench_postgres, "dynamodb": bench_dynamodb, "all": bench_all,
                  "users": bench_users}  # fmt: skip
        for name in os.environ.get("BENCH_PHASES", ",".join(phases)).split(","):
            phases[name](target, topology)
    finally:
        if not state:
            stack.reset()
            tmp.cleanup()  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
