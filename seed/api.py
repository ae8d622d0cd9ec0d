"""Seeding as a library: ``seed`` (what the CLI runs) and ``seed_if_empty`` (``polystore up``).

A run builds every selected system's plan in memory (deterministic), optionally deletes
what an earlier run seeded (``reset``: the rows and items of that run's plan, by key),
then loads each store with its owner's variables — PostgreSQL by COPY, DynamoDB by
parallel BatchWriteItem, search by ``_bulk`` for indexes no link feeds, topics when a
Kafka is reachable — stores in parallel, and reports per store what was written.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from polystore.topology.model import DynamoStore, EventLink, System
from seed import load_dynamodb, load_postgres, load_search, load_topics, verify
from seed.plan import DEFAULT_SEED, Plan, build_plan
from seed.targets import LocalTarget, Target, physical

PARALLEL_STORES = 6


class Reporter(Protocol):
    def start(self, label: str, total: int) -> Callable[[int], None]: ...

    def finish(self, label: str) -> None: ...


class NullReporter:
    def start(self, label: str, total: int) -> Callable[[int], None]:
        return lambda n: None

    def finish(self, label: str) -> None:
        pass


class LineReporter:
    """One line per store when it is done (for ``polystore up``'s progress callback)."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        self.emit = emit
        self._t: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def start(self, label: str, total: int) -> Callable[[int], None]:
        with self._lock:
            self._t[label] = (time.perf_counter(), total)
        return lambda n: None

    def finish(self, label: str) -> None:
        t0, total = self._t.get(label, (time.perf_counter(), 0))
        self.emit(f"seeded {label}: {total} in {time.perf_counter() - t0:.1f}s")


@dataclass
class StoreResult:
    system: str
    store: str
    kind: str
    service: str
    planned: int
    written: int = 0
    seconds: float = 0.0
    status: str = "loaded"


@dataclass
class Summary:
    results: list[StoreResult] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    seconds: float = 0.0
    violations: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # system -> why not seeded
    checked: list[str] = field(default_factory=list)  # verify phases that passed


def manifest_path(target: Target) -> Path:
    """Where the parameters of the last run are kept (``--reset`` rebuilds its plan)."""
    if isinstance(target, LocalTarget):
        return target.dir.root / "seed.json"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "polystore" / "seed" / f"{getattr(target, 'stack', 'target')}.json"


def _read_manifest(target: Target) -> dict[str, Any]:
    try:
        return dict(json.loads(manifest_path(target).read_text()))
    except (OSError, ValueError):
        return {}


def _write_manifest(target: Target, plans: list[Plan]) -> None:
    doc = _read_manifest(target)
    for p in plans:
        doc[p.system.name] = {"seed": p.seed, "scale": p.scale, "now": p.clock.now.isoformat()}
    path = manifest_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=True))
    os.replace(tmp, path)


def plan_results(plan: Plan) -> list[StoreResult]:
    """One result per store (what would be written, and why not)."""
    system = plan.system
    out: list[StoreResult] = []
    for name, store in sorted(system.stores.items()):
        if store.kind == "postgres":
            n = sum(len(plan.rows(name, t)) for (s, t) in plan.order if s == name)
        elif store.kind == "dynamodb":
            n = len(plan.items.get(name, []))
        elif store.kind == "search":
            n = len(plan.docs.get(name, []))
        else:
            n = len(plan.events.get(name, []))
        r = StoreResult(system.name, name, store.kind, store.owner, n)
        if name in plan.fed_by:
            r.status = f"fed by link {plan.fed_by[name]}"
        elif store.kind == "topic" and n:
            consumers = sorted({c for link in system.links.values() if isinstance(link, EventLink)
                                and link.topic == name for c in link.consumers})  # fmt: skip
            if consumers:
                # The seeded stores already hold what consuming these events does: on the
                # topic, the consumers (running, or started later from the earliest
                # offset) would apply the history a second time.
                r.status = (f"not loaded: {', '.join(consumers)} would apply these events "
                            "again (the seeded stores already hold their effects)")  # fmt: skip
        out.append(r)
    return out


def _load(plan: Plan, target: Target, r: StoreResult, reporter: Reporter) -> None:
    system = plan.system
    env = target.env(system, r.service)
    label = f"{system.name}/{r.store}"
    if r.status.startswith(("fed by", "not loaded")):
        return
    t0 = time.perf_counter()
    advance = reporter.start(label, r.planned)
    try:
        if r.kind == "postgres":
            specs = [plan.specs[k] for k in plan.order if k[0] == r.store]
            r.written = sum(load_postgres.load_store(env, specs, plan.tables, advance).values())
        elif r.kind == "dynamodb":
            table = physical(system, r.store, env)
            r.written = load_dynamodb.put_items(env, table, plan.items[r.store], advance)
        elif r.kind == "search":
            index = physical(system, r.store, env)
            r.written = load_search.bulk(env, index, plan.docs[r.store], advance)
        else:
            topic = physical(system, r.store, env)
            producer = f"{system.name}.{r.service}"
            r.written, r.status = load_topics.produce(env, topic, producer,
                                                      plan.events[r.store], advance)  # fmt: skip
    finally:
        r.seconds = time.perf_counter() - t0
        reporter.finish(label)


def delete_plan(plan: Plan, target: Target) -> None:
    """Delete a plan's rows and items (by key) from every store the seeder writes."""
    system = plan.system
    for name, store in system.stores.items():
        if name in plan.fed_by:
            continue
        env = target.env(system, store.owner)
        if store.kind == "postgres":
            specs = [plan.specs[k] for k in plan.order if k[0] == name]
            load_postgres.delete_store(env, specs, plan.tables)
        elif isinstance(store, DynamoStore) and plan.items.get(name):
            keys = [
                {k: i[k] for k in (store.key.hash, store.key.range) if k} for i in plan.items[name]
            ]
            load_dynamodb.delete_items(env, physical(system, name, env), keys)


STREAM_FROM_SCALE = 20  # from this scale on, tables are loaded as they are generated


def _keys_only(system: System, seed: int, scale: int, now: datetime | None) -> Plan:
    """A plan holding only keys and ids of its rows: enough to delete them."""
    return build_plan(system, seed, scale, now, sink=lambda spec, rows: None)


def _streaming_plans(systems: list[System], target: Target, seed: int, scale: int,
                     now: datetime | None, reporter: Reporter,
                     results: list[StoreResult]) -> list[Plan]:  # fmt: skip
    """Build each plan loading every PostgreSQL table as soon as it exists (one
    transaction per table), so the whole plan never sits in memory."""
    plans = []
    for system in systems:
        by_store: dict[str, StoreResult] = {}

        def sink(spec: Any, rows: list[Any], system: System = system,
                 by_store: dict[str, StoreResult] = by_store) -> None:  # fmt: skip
            owner = system.stores[spec.store].owner
            r = by_store.get(spec.store)
            if r is None:
                r = by_store[spec.store] = StoreResult(system.name, spec.store, "postgres",
                                                       owner, 0)  # fmt: skip
            t0 = time.perf_counter()
            advance = reporter.start(f"{system.name}/{spec.store}.{spec.name}", len(rows))
            n = load_postgres.load_store(target.env(system, owner), [spec],
                                         {spec.key: rows}, advance)  # fmt: skip
            reporter.finish(f"{system.name}/{spec.store}.{spec.name}")
            r.planned += len(rows)
            r.written += sum(n.values())
            r.seconds += time.perf_counter() - t0

        plans.append(build_plan(system, seed, scale, now, sink=sink))
        results += sorted(by_store.values(), key=lambda r: r.store)
    return plans


def seed(
    systems: list[System],
    target: Target,
    *,
    seed: int = DEFAULT_SEED,
    scale: int = 1,
    now: datetime | None = None,
    reset: bool = False,
    dry_run: bool = False,
    check: bool = False,
    reporter: Reporter | None = None,
    verify_wait_s: float = 10.0,
    stream: bool | None = None,
) -> Summary:
    """Plan, (reset,) load and (verify) the given systems; see the module docstring."""
    reporter = reporter or NullReporter()
    started = time.perf_counter()
    summary = Summary()
    streaming = scale >= STREAM_FROM_SCALE and not dry_run if stream is None else stream
    if not streaming:
        summary.plans = [build_plan(s, seed, scale, now) for s in systems]
        summary.results = [r for p in summary.plans for r in plan_results(p)]
    if dry_run:
        if check:  # nothing written: check the stores as they are against the plan
            target.check(systems)
            _verify(summary, target, verify_wait_s)
        summary.seconds = time.perf_counter() - started
        return summary
    target.check(systems)
    if reset:
        previous = _read_manifest(target)
        for system in systems:
            old = previous.get(system.name)
            if old and (old["seed"], old["scale"]) != (seed, scale):
                when = datetime.fromisoformat(old["now"])
                delete_plan(_keys_only(system, old["seed"], old["scale"], when), target)
            current = [p for p in summary.plans if p.system.name == system.name]
            delete_plan(current[0] if current else _keys_only(system, seed, scale, now), target)
    if streaming:
        summary.plans = _streaming_plans(systems, target, seed, scale, now, reporter,
                                         summary.results)  # fmt: skip
        summary.results += [r for p in summary.plans for r in plan_results(p)
                            if r.kind != "postgres"]  # fmt: skip
    by_plan = {p.system.name: p for p in summary.plans}
    todo = [r for r in summary.results if not (streaming and r.kind == "postgres")]
    with ThreadPoolExecutor(max_workers=PARALLEL_STORES) as pool:
        futures = [pool.submit(_load, by_plan[r.system], target, r, reporter) for r in todo]
        for f in futures:
            f.result()
    _write_manifest(target, summary.plans)
    if check:
        _verify(summary, target, verify_wait_s)
    summary.seconds = time.perf_counter() - started
    return summary


def _verify(summary: Summary, target: Target, wait_s: float) -> None:
    """Data invariants of every system first, then link convergence (which waits)."""
    for phase in (
        lambda p: verify.check_data(p, target),
        lambda p: verify.check_links(p, target, wait_s),
    ):
        for p in summary.plans:
            summary.violations.extend(itertools.islice(phase(p), 1))
            if summary.violations:
                return
        summary.checked.append("data" if not summary.checked else "links")


def _is_empty(system: System, target: Target) -> bool:
    """No store the seeder writes holds anything yet."""
    from psycopg import sql

    for name, store in system.stores.items():
        env = target.env(system, store.owner)
        if store.kind == "postgres":
            tables = system.schema(name).base_tables()
            with load_postgres.connect(env) as conn, conn.cursor() as cur:
                for t in tables:
                    cur.execute(
                        sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(t))
                    )
                    if cur.fetchone()[0]:
                        return False
        elif store.kind == "dynamodb":
            ddb = load_dynamodb.client(env)
            if ddb.scan(TableName=physical(system, name, env), Limit=1).get("Items"):
                return False
    return True


def seed_if_empty(
    state_dir: Path | None, systems: list[System], progress: Callable[[str], None] | None = None
) -> Summary:
    """Seed the default demo into every system whose stores are all empty (``polystore up``).

    A system that already holds data is left alone (``summary.skipped`` says so).
    """
    emit = progress or (lambda line: None)
    target = LocalTarget(state_dir)
    target.check(systems)
    empty = []
    summary = Summary()
    for s in systems:
        if _is_empty(s, target):
            empty.append(s)
        else:
            summary.skipped[s.name] = "already has data"
    if empty:
        done = seed(empty, target, reporter=LineReporter(emit))
        done.skipped = summary.skipped
        return done
    return summary


def seed_after_up(
    state_dir: Path | None,
    systems: list[System],
    resumed: list[System],
    progress: Callable[[str], None] | None = None,
) -> Summary:
    """``polystore up``'s seeding: ``systems`` it provisioned and has not seeded yet.

    Those in ``resumed`` were left half-seeded by an ``up`` that was killed: they get the
    default seed again, which writes only what is missing (deterministic keys, ``ON
    CONFLICT DO NOTHING``). The others are seeded only when their stores are all empty.
    """
    again = {s.name for s in resumed}
    fresh = [s for s in systems if s.name not in again]
    summary = seed_if_empty(state_dir, fresh, progress) if fresh else Summary()
    if resumed:
        emit = progress or (lambda line: None)
        emit("seed: finishing " + ", ".join(s.name for s in resumed)
             + " (an earlier `up` stopped while seeding)")  # fmt: skip
        done = seed(resumed, LocalTarget(state_dir), reporter=LineReporter(emit))
        summary.plans += done.plans
        summary.results += done.results
    return summary
