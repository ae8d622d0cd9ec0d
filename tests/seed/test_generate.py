"""Plans without engines: deterministic, valid for every schema rule, invariants hold."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from polystore.topology.loader import load_topology
from polystore.topology.model import Topology
from seed.domains.order_processor import check_users
from seed.plan import build_plan
from seed.rng import Clock, stream
from seed.search_generate import generic_docs
from tests.seed.conftest import plan_digest

SYSTEMS = ["tcgstore", "bellyfed", "order-processor", "inventory", "ecommerce"]


@pytest.mark.parametrize("name", SYSTEMS)
def test_same_seed_same_bytes_other_seed_other_bytes(topology: Topology, name: str) -> None:
    system = topology.system(name)
    a, b = build_plan(system, seed=7), build_plan(system, seed=7)
    assert plan_digest(a) == plan_digest(b)
    assert plan_digest(build_plan(system, seed=8)) != plan_digest(a)


@pytest.mark.parametrize("name", SYSTEMS)
def test_every_row_satisfies_the_schema(topology: Topology, name: str) -> None:
    plan = build_plan(topology.system(name), scale=1)
    assert not plan.dropped, plan.dropped
    total = 0
    for key in plan.order:
        spec, rows = plan.specs[key], plan.tables[key]
        total += len(rows)
        for row in rows:
            for col in spec.columns.values():
                v = row.get(col.name)
                assert v is not None or col.nullable, f"{key} {col.name} is NULL"
                if isinstance(v, str) and col.length and col.base in ("varchar", "char"):
                    assert len(v) <= col.length, f"{key} {col.name}={v!r} too long"
            for chk in spec.checks:
                assert chk.predicate(row) is not False, f"{key}: {chk.name} fails on {row}"
        for u in spec.uniques:
            keys = [
                tuple(r.get(c) for c in u.columns) for r in rows if u.where is None or u.where(r)
            ]
            dup = [k for k, n in Counter(keys).items() if n > 1]
            assert not dup, f"{key}: {u.name} duplicated {dup[:1]}"
        for p in spec.parents:
            if p.kind == "inferred":
                continue
            have = {tuple(r[c] for c in p.target_columns) for r in plan.tables[p.target]}
            for row in rows:
                vals = tuple(row.get(c) for c in p.columns)
                if None not in vals:
                    assert vals in have, f"{key} {p.columns}={vals} not in {p.target}"
        if spec.ranges:  # times fall in partitions that exist (not only the DEFAULT one)
            lo = min(dt.datetime.fromisoformat(a) for a, _ in spec.ranges)
            hi = max(dt.datetime.fromisoformat(b) for _, b in spec.ranges)
            for row in rows:
                assert lo <= row[spec.partition_column] < hi
    assert total or plan.items


def test_declared_references_resolve_in_the_plan(topology: Topology) -> None:
    system = topology.system("ecommerce")
    plan = build_plan(system)
    assert system.references
    for ref in system.references:
        s_store, s_table, s_col = ref.split(ref.source)
        t_store, t_table, t_col = ref.split(ref.target)
        src = {r[s_col] for r in plan.rows(s_store, s_table) if r.get(s_col) is not None}
        dst = {r[t_col] for r in plan.rows(t_store, t_table)}
        assert src, ref.source
        assert src <= dst, f"{ref.source} -> {ref.target}: {len(src - dst)} dangling"


def test_order_processor_balances_and_holdings_add_up(topology: Topology) -> None:
    plan = build_plan(topology.system("order-processor"))
    users, orders = plan.items["users"], plan.items["orders"]
    order_ids = {o["order_id"] for o in orders}
    assert list(check_users(users, order_ids)) == []
    kinds = Counter(i["SK"].split("#")[0] for i in users if not i["PK"].startswith("TRANS#"))
    assert {"USER", "BALANCE", "TRANS", "ASSET"} <= set(kinds)
    # the same check catches a tampered balance and a trade without its order
    balance = next(i for i in users if i["SK"] == "BALANCE")
    tampered = [dict(i) for i in users]
    next(
        i
        for i in tampered
        if i is not balance and i["SK"] == "BALANCE" and i["PK"] == balance["PK"]
    )["current_balance"] = str(Decimal(balance["current_balance"]) + 1)
    assert "current_balance" in next(iter(check_users(tampered, order_ids)))
    assert "unknown order" in next(iter(check_users(users, set())))


def test_inventory_events_replay_to_stock(topology: Topology) -> None:
    from services.flows.inventory import EFFECT

    plan = build_plan(topology.system("inventory"))
    ((store, inv),) = [k for k in plan.order if "quantity_allocated" in plan.specs[k].columns]
    replay: dict[str, list[int]] = {}
    for e in plan.items["event-store"]:
        st = replay.setdefault(e["entity_id"], [0, 0, 0])
        d_on, d_alloc = EFFECT[e["event_type"]]
        st[0] += d_on * e["payload"]["quantity"]
        st[1] += d_alloc * e["payload"]["quantity"]
        st[2] += 1
        assert e["sequence"] == st[2]  # 1..n, no gap
    rows = plan.rows(store, inv)
    assert rows
    for row in rows:
        assert replay[f"inventory-{row['id']}"] == [
            row["quantity_on_hand"],
            row["quantity_allocated"],
            row["version"],
        ]


def test_a_system_declared_tomorrow_gets_valid_data(tmp_path: Path) -> None:
    """No domain code knows this system: everything comes from the declaration."""
    mig = tmp_path / "migrations" / "shop" / "shop-db"
    mig.mkdir(parents=True)
    (mig / "001_init.sql").write_text("""-- migrate:up
CREATE TABLE customers (
    id uuid NOT NULL, email varchar(120) NOT NULL, tier varchar(8) NOT NULL,
    credit numeric(8, 2) NOT NULL, opened_at timestamptz NOT NULL, closed_at timestamptz,
    CONSTRAINT customers_pkey PRIMARY KEY (id), CONSTRAINT customers_email_key UNIQUE (email),
    CONSTRAINT customers_tier_check CHECK (tier IN ('free', 'pro')),
    CONSTRAINT customers_credit_check CHECK (credit BETWEEN 0 AND 500),
    CONSTRAINT customers_window_check CHECK (closed_at IS NULL OR closed_at > opened_at)
);
CREATE TABLE visits (
    id bigint GENERATED BY DEFAULT AS IDENTITY, customer_id uuid NOT NULL,
    pages integer NOT NULL, created_at timestamptz NOT NULL,
    CONSTRAINT visits_pkey PRIMARY KEY (id, created_at),
    CONSTRAINT visits_customer_fkey FOREIGN KEY (customer_id) REFERENCES customers (id),
    CONSTRAINT visits_pages_check CHECK (pages > 0)
) PARTITION BY RANGE (created_at);
CREATE TABLE visits_2025 PARTITION OF visits
    FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2026-01-01 00:00:00+00');
-- migrate:down
DROP TABLE visits; DROP TABLE customers;
""")
    (tmp_path / "shop.yaml").write_text("""system: shop
services:
  web: {}
stores:
  shop-db: {kind: postgres, owner: web, database: shop, migrations: migrations/shop/shop-db}
  sessions:
    kind: dynamodb
    owner: web
    table: Sessions
    attributes: {PK: S, SK: N}
    stream: new-image
    key: {hash: PK, range: SK}
    items:
      session:
        key: {PK: "SESSION#{user}", SK: "{seq}"}
        fields: {user: string, seq: integer, started_at: timestamp, cart: map}
  pages:
    kind: search
    owner: web
    index: shop-pages
    mappings:
      dynamic: "true"   # the session attributes the link copies are mapped dynamically
      properties: {title: {type: text}, views: {type: integer}, at: {type: date}}
links:
  sessions-to-pages: {kind: stream-to-search, source: sessions, target: pages}
""")
    system = load_topology([tmp_path / "shop.yaml"]).system("shop")
    plan = build_plan(system, scale=2)
    customers, visits = plan.rows("shop-db", "customers"), plan.rows("shop-db", "visits")
    assert len(customers) == 40 and len(visits) == 80
    assert {c["tier"] for c in customers} <= {"free", "pro"}
    assert all(0 <= c["credit"] <= 500 for c in customers)
    assert all(c["closed_at"] is None or c["closed_at"] > c["opened_at"] for c in customers)
    assert len({c["email"] for c in customers}) == len(customers)
    ids = {c["id"] for c in customers}
    assert all(v["customer_id"] in ids and v["pages"] > 0 for v in visits)
    assert all(
        dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        <= v["created_at"]
        < dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        for v in visits
    )
    assert plan.order.index(("shop-db", "customers")) < plan.order.index(("shop-db", "visits"))
    items = plan.items["sessions"]
    assert len(items) == 40
    assert all(i["PK"] == f"SESSION#{i['user']}" and i["SK"] == Decimal(i["seq"]) for i in items)
    assert plan.fed_by == {"pages": "sessions-to-pages"} and "pages" not in plan.docs
    # an index no link feeds would get documents of its mapping (loaded with _bulk)
    docs = generic_docs(system.stores["pages"], stream(1, "pages"), Clock(), 5)  # type: ignore[arg-type]
    assert len(docs) == 5 and set(docs[0]) == {"_id", "title", "views", "at"}
    assert isinstance(docs[0]["views"], int) and docs[0]["at"].endswith("Z")


def test_stores_a_link_feeds_are_not_generated(topology: Topology) -> None:
    plan = build_plan(topology.system("tcgstore"))
    assert plan.fed_by == {"cards-index": "cards-to-search"}
    assert "cards-index" not in plan.docs
    names = {c["name"] for c in plan.items["cards"]}
    assert len(names) == len(plan.items["cards"]) >= 300
    assert {c["rarity"] for c in plan.items["cards"]} >= {"Common", "Rare", "Mythic"}


def test_topics_whose_events_a_service_consumes_are_not_replayed(topology: Topology) -> None:
    """The user service applies order.* events: the seeded users table already holds their
    effects, so publishing the seeded history would make it apply them twice."""
    from seed.api import plan_results

    plan = build_plan(topology.system("order-processor"))
    [events] = [r for r in plan_results(plan) if r.kind == "topic"]
    assert events.planned > 0
    assert events.status.startswith("not loaded: user would apply these events again")


def test_seeded_events_are_envelopes_with_ids_that_repeat() -> None:
    from seed.load_topics import envelope
    from service_events.envelope import Envelope

    event = {"event": "order.created", "order_id": "order-1", "username": "ann"}
    a, b = envelope("sys.order", event), envelope("sys.order", dict(event))
    back = Envelope.from_bytes(a.to_bytes())
    assert (back.type, back.producer, back.key) == ("order.created", "sys.order", "order-1")
    assert back.data == {"order_id": "order-1", "username": "ann"}
    assert a.id == b.id  # seeding twice: consumers dedupe the second copy
    assert envelope("sys.order", {**event, "order_id": "order-2"}).id != a.id
