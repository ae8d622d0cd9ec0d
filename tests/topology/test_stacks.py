"""The shipped declaration says what the seed documents say.

These read ``stacks/`` through the same loader every command uses, and check the
design facts each seed names (keys, indexes, links, partitioning, money types).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner

from polystore import Topology, load_topology
from polystore.cli.main import cli
from polystore.topology.model import DynamoStore, PostgresStore

SYSTEMS = {"tcgstore", "bellyfed", "order-processor", "inventory", "ecommerce"}


@pytest.fixture(scope="module")
def topo() -> Topology:
    return load_topology()


@pytest.fixture(scope="module")
def shown() -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["show", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    return {s["name"]: s for s in data["systems"]}


def test_validate_passes_on_the_five_systems() -> None:
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 0, result.output
    assert {line.split(":")[0].split()[-1] for line in result.stdout.splitlines()} == SYSTEMS


def test_show_json_lists_every_service_store_and_access_pattern(
    topo: Topology, shown: dict[str, Any]
) -> None:
    assert set(shown) == SYSTEMS
    for name, system in topo.systems.items():
        out = shown[name]
        assert {s["name"] for s in out["services"]} == set(system.services)
        assert {s["name"] for s in out["stores"]} == set(system.stores)
        assert {a["name"] for a in out["access_patterns"]} == set(system.access_patterns)
        for store in out["stores"]:
            assert store["owner"] in system.services
            assert (
                store["name"]
                in next(s for s in out["services"] if s["name"] == store["owner"])["stores"]
            )


def _store(shown: dict[str, Any], system: str, store: str) -> dict[str, Any]:
    return next(s for s in shown[system]["stores"] if s["name"] == store)


def test_order_processor_single_table_is_the_seeds(shown: dict[str, Any]) -> None:
    users = _store(shown, "order-processor", "users")
    assert users["key"] == {"hash": "PK", "range": "SK"}
    gsis = users["global_indexes"]
    assert gsis["EmailIndex"]["hash"] == "email" and gsis["EmailIndex"]["range"] is None
    assert (gsis["AssetIndex"]["hash"], gsis["AssetIndex"]["range"]) == ("asset_id", "username")
    assert gsis["UserTransactionsIndex"]["hash"] == "username"
    sort_keys = {name: item["key"]["SK"] for name, item in users["items"].items()}
    assert sort_keys["user"] == "USER"
    assert sort_keys["balance"] == "BALANCE"
    assert sort_keys["balance_transaction"] == "TRANS#{transaction_id}"
    assert sort_keys["asset_balance"] == "ASSET#{asset_id}"
    assert users["items"]["asset_transaction"]["key"]["PK"] == "TRANS#{username}#{asset_id}"
    # amounts are strings, never floats
    for item in users["items"].values():
        for field, kind in item["fields"].items():
            if any(w in field for w in ("balance", "amount", "quantity", "price")):
                assert kind == "decimal-string", (field, kind)
    orders = _store(shown, "order-processor", "orders")
    uoi = orders["global_indexes"]["UserOrdersIndex"]
    assert (uoi["hash"], uoi["range"]) == ("username", "asset_id")
    patterns = {a["name"]: a for a in shown["order-processor"]["access_patterns"]}
    txs = patterns["user-balance-transactions"]
    assert txs["key_condition"] == "PK = :username AND begins_with(SK, 'TRANS#')"
    assert (txs["order"], txs["limit"]) == ("desc", 50)
    assert patterns["get-user-by-email"]["index"] == "EmailIndex"
    assert patterns["asset-balances-of-asset"]["index"] == "AssetIndex"


def test_inventory_event_store(shown: dict[str, Any]) -> None:
    events = _store(shown, "inventory", "event-store")
    assert events["key"] == {"hash": "entity_id", "range": "sequence"}
    assert events["attributes"]["sequence"] == "N"
    assert events["ttl"] == "expires_at"
    assert events["pitr"] is True


def test_tcgstore_tables_search_and_link(topo: Topology) -> None:
    tcg = topo.system("tcgstore")
    tables = {s.table for s in tcg.dynamodb_stores().values()}
    assert tables == {"Cards", "Orders", "OrderLineItems", "Sales", "Payments"}
    assert tcg.stores["cards"].key.hash == "Id"  # type: ignore[union-attr]
    [link] = tcg.stream_links().values()
    assert (link.source, link.target) == ("cards", "cards-index")
    fields = tcg.search_stores()["cards-index"].field_paths()
    assert fields["set"].type == fields["rarity"].type == "keyword"
    search = tcg.access_patterns["search-cards"]
    assert search.fuzzy and search.partial and set(search.filter_fields) == {"set", "rarity"}
    assert search.then == "get-cards-by-ids"


def test_bellyfed_cdc_and_analytics(topo: Topology) -> None:
    bf = topo.system("bellyfed")
    [cdc] = bf.cdc_links().values()
    source = bf.stores[cdc.source]
    assert isinstance(source, PostgresStore) and source.logical_replication
    assert bf.stores[cdc.topic].kind == "topic"
    assert bf.stores[cdc.topic].platform == "msk-serverless"  # type: ignore[union-attr]
    assert isinstance(bf.stores[cdc.target], DynamoStore)
    [analytics] = bf.links_of_kind("analytics").values()
    assert set(analytics.events) == {
        "RESTAURANTS_LISTED",
        "RESTAURANT_VIEWED",
        "RESTAURANT_MENU_VIEWED",
        "RESTAURANT_REVIEWS_VIEWED",
    }
    rankings = bf.schema("bellyfed-db").tables["rankings"]
    assert rankings.primary_key == ("user_id", "ranking_id")
    assert {"reviews", "favorites"} <= set(bf.schema("bellyfed-db").tables)
    reviews = bf.access_patterns["restaurant-reviews"]
    assert (reviews.limit, reviews.order) == (50, "desc")


def test_ecommerce_database_per_service(topo: Topology) -> None:
    ec = topo.system("ecommerce")
    dbs = {s.database: s.owner for s in ec.postgres_stores().values()}
    assert len(dbs) == 10 and len(set(dbs.values())) == 10
    [created] = [
        link for link in ec.links_of_kind("event").values() if link.event == "user.created"
    ]
    assert created.producer == "auth" and "user" in created.consumers
    assert len(ec.references) == 12
    for ref in ec.references:
        # the referencing column exists and carries no foreign key
        store, table, column = ref.split(ref.source)
        schema = ec.schema(store)
        assert column in schema.tables[table].columns
        assert not [fk for fk in schema.foreign_keys if fk.table == table and column in fk.columns]


def test_seed_004_indexes_and_partitioning(topo: Topology) -> None:
    ec = topo.system("ecommerce")
    orders = ec.schema("order-db")
    assert orders.indexes["idx_orders_user_status"].columns == ("user_id", "status")
    assert orders.tables["orders"].partition_by == ("hash", ("user_id",))
    assert orders.tables["order_status_history"].partition_by == ("range", ("created_at",))
    active = ec.schema("auth-db").indexes["idx_users_active"]
    assert active.columns == ("email",) and active.where is not None
    assert "is_active" in active.where
    assert ec.schema("auth-db").tables["security_audit_logs"].partition_by[0] == "range"  # type: ignore[index]
    assert ec.schema("notification-db").tables["notifications"].partition_by[0] == "range"  # type: ignore[index]
    assert ec.schema("payment-db").tables["payments"].partition_by == ("hash", ("order_id",))


def test_money_is_never_float(topo: Topology) -> None:
    floaty = re.compile(r"\b(float\d?|real|double)\b", re.IGNORECASE)
    for system in topo.systems.values():
        for name in system.postgres_stores():
            for table in system.schema(name).tables.values():
                for col in table.columns.values():
                    assert not floaty.search(col.type), (
                        f"{system.name}/{name}: {table.name}.{col.name} {col.type}"
                    )


def test_every_postgres_store_has_an_er_diagram(topo: Topology) -> None:
    for system in topo.systems.values():
        result = CliRunner().invoke(cli, ["diagram", system.name])
        assert result.exit_code == 0, result.output
        assert result.stdout.count("erDiagram") == len(system.postgres_stores())
        assert "flowchart LR" in result.stdout
        for name in system.postgres_stores():
            for table in system.schema(name).base_tables():
                assert re.search(rf"^  {table} \{{$", result.stdout, re.MULTILINE), table
