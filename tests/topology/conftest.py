"""A small, complete system used as the valid baseline that bad-input tests break."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

MINI_YAML = """\
system: mini
description: smallest system that uses every kind of store
services:
  shop:
    description: sells things
  stock:
    description: counts things
stores:
  shop-db:
    kind: postgres
    owner: shop
    database: mini_shop
    extensions: [pg_trgm]
    logical_replication: true
    migrations: migrations/shop-db
  stock-db:
    kind: postgres
    owner: stock
    database: mini_stock
    migrations: migrations/stock-db
  items:
    kind: dynamodb
    owner: shop
    table: Items
    attributes: {PK: S, SK: S, email: S}
    key: {hash: PK, range: SK}
    global_indexes:
      EmailIndex: {hash: email}
    stream: new-and-old-images
  items-index:
    kind: search
    owner: shop
    index: mini-items
    settings:
      analysis:
        tokenizer:
          edge: {type: edge_ngram, min_gram: 2, max_gram: 10}
        analyzer:
          prefix: {type: custom, tokenizer: edge, filter: [lowercase]}
    mappings:
      properties:
        name: {type: text, fields: {prefix: {type: text, analyzer: prefix}}}
        colour: {type: keyword}
  shop-topic:
    kind: topic
    owner: shop
    topic: shop.events
  read-model:
    kind: dynamodb
    owner: shop
    table: ReadModel
    attributes: {PK: S}
    key: {hash: PK}
    items:
      order:
        key: {PK: "ORDER#{id}"}
        fields: {id: string, total: decimal-string}
links:
  items-to-search:
    kind: stream-to-search
    source: items
    target: items-index
  shop-cdc:
    kind: cdc
    source: shop-db
    topic: shop-topic
    target: read-model
    tables:
      orders: {item: order}
  order-placed:
    kind: event
    event: order.placed
    producer: shop
    topic: shop-topic
    consumers: [stock]
access_patterns:
  user-by-email:
    store: items
    operation: query
    index: EmailIndex
    key_condition: "email = :email"
  user-items:
    store: items
    operation: query
    key_condition: "PK = :pk AND begins_with(SK, 'ITEM#')"
  orders-of-customer:
    store: shop-db
    operation: select
    table: orders
    index: idx_orders_customer
    key_condition: "customer_id = :c"
  search-items:
    store: items-index
    operation: search
    text_fields: [name, name.prefix]
    filter_fields: [colour]
    partial: true
references:
  - {from: stock-db.movements.order_id, to: shop-db.orders.id}
"""

SHOP_SQL = """\
-- migrate:up
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE customers (id uuid PRIMARY KEY, email text NOT NULL);
CREATE TABLE orders (
  id uuid PRIMARY KEY,
  customer_id uuid NOT NULL REFERENCES customers(id),
  total numeric(12,2) NOT NULL
);
CREATE INDEX idx_orders_customer ON orders (customer_id);

-- migrate:down
DROP TABLE orders;
DROP TABLE customers;
"""

STOCK_SQL = """\
-- migrate:up
CREATE TABLE movements (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id uuid NOT NULL,
  quantity integer NOT NULL
);

-- migrate:down
DROP TABLE movements;
"""


class MiniSystem:
    """Writes the mini system to a directory; tests replace one piece of text at a time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.yaml = root / "mini.yaml"
        self.files: dict[str, str] = {
            "mini.yaml": MINI_YAML,
            "migrations/shop-db/001_init.sql": SHOP_SQL,
            "migrations/stock-db/001_init.sql": STOCK_SQL,
        }
        self.write()

    def write(self) -> None:
        for rel, text in self.files.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    def replace(self, old: str, new: str, file: str = "mini.yaml") -> None:
        text = self.files[file]
        assert old in text, f"fixture text not found in {file}: {old!r}"
        self.files[file] = text.replace(old, new, 1)
        self.write()

    def line_of(self, needle: str, file: str = "mini.yaml") -> int:
        """1-based line of the first line containing ``needle`` in the current text."""
        for i, line in enumerate(self.files[file].splitlines(), start=1):
            if needle in line:
                return i
        raise AssertionError(f"{needle!r} not in {file}")


@pytest.fixture
def mini(tmp_path: Path) -> MiniSystem:
    return MiniSystem(tmp_path)


@pytest.fixture
def problems_of() -> Callable[[Path], list[str]]:
    from polystore import TopologyError, load_topology

    def run(path: Path) -> list[str]:
        try:
            load_topology([path])
        except TopologyError as exc:
            return [str(p) for p in exc.problems]
        return []

    return run
