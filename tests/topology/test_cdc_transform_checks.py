"""A CDC link's declared transform is checked at load, each problem at its ``path:line``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import MiniSystem
from .test_bad_input import only

Problems = Callable[[Path], list[str]]
SHOP_SQL = "migrations/shop-db/001_init.sql"

# (description, old text, new text, line marker in the new text, message fragment)
CASES = [
    (
        "item type the target does not declare",
        "orders: {item: order}",
        "orders: {item: ordr}",
        "item: ordr",
        "'ordr' is not an item type of 'ReadModel' (items: order)",
    ),
    (
        "field source names a missing column",
        "orders: {item: order}",
        "orders: {item: order, fields: {total: amount}}",
        "fields: {total: amount}",
        "column 'amount' is not in table 'orders'",
    ),
    (
        "field source that is neither column nor template",
        "orders: {item: order}",
        "orders: {item: order, fields: {total: 'a b'}}",
        "fields: {total: 'a b'}",
        "neither a column name nor a template",
    ),
    (
        "mapped field the item does not have",
        "orders: {item: order}",
        "orders: {item: order, fields: {colour: total}}",
        "fields: {colour: total}",
        "'colour' is not a field of item 'order'",
    ),
    (
        "item field with no source",
        "fields: {id: string, total: decimal-string}",
        "fields: {id: string, total: decimal-string, status: string}",
        "orders: {item: order}",
        "field 'status' of item 'order' has no source",
    ),
    (
        "item key outside the primary key without replica identity full",
        'key: {PK: "ORDER#{id}"}\n        fields: {id: string, total: decimal-string}',
        'key: {PK: "C#{customer_id}#{id}"}\n'
        "        fields: {id: string, total: decimal-string, customer_id: string}",
        "orders: {item: order}",
        "REPLICA IDENTITY FULL",
    ),
    (
        "cdc table not in the migrations",
        "orders: {item: order}",
        "order_lines: {item: order}",
        "order_lines:",
        "table 'order_lines' is not in the migrations",
    ),
    (
        "numeric partition key on the target",
        "    attributes: {PK: S}\n    key: {hash: PK}\n    items:",
        "    attributes: {PK: N}\n    key: {hash: PK}\n    items:",
        "target: read-model",
        "must be a string (S)",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "marker", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_transform_is_pinned_to_its_line(
    mini: MiniSystem, problems_of: Problems, old: str, new: str, marker: str, fragment: str
) -> None:
    mini.replace(old, new)
    only(problems_of(mini.yaml), mini.yaml.resolve(), mini.line_of(marker), fragment)


def test_replica_identity_full_in_a_migration_allows_a_key_outside_the_primary_key(
    mini: MiniSystem, problems_of: Problems
) -> None:
    mini.replace(
        'key: {PK: "ORDER#{id}"}\n        fields: {id: string, total: decimal-string}',
        'key: {PK: "C#{customer_id}#{id}"}\n'
        "        fields: {id: string, total: decimal-string, customer_id: string}",
    )
    mini.replace(
        "CREATE INDEX idx_orders_customer ON orders (customer_id);",
        "CREATE INDEX idx_orders_customer ON orders (customer_id);\n"
        "ALTER TABLE orders REPLICA IDENTITY FULL;",
        SHOP_SQL,
    )
    assert problems_of(mini.yaml) == []


def test_item_key_without_the_whole_primary_key_is_rejected(
    mini: MiniSystem, problems_of: Problems
) -> None:
    mini.replace(
        'key: {PK: "ORDER#{id}"}\n        fields: {id: string, total: decimal-string}',
        'key: {PK: "C#{customer_id}"}\n'
        "        fields: {total: decimal-string, customer_id: string}",
    )
    mini.replace(
        "CREATE INDEX idx_orders_customer ON orders (customer_id);",
        "CREATE INDEX idx_orders_customer ON orders (customer_id);\n"
        "ALTER TABLE orders REPLICA IDENTITY FULL;",
        SHOP_SQL,
    )
    only(
        problems_of(mini.yaml),
        mini.yaml.resolve(),
        mini.line_of("orders: {item: order}"),
        "does not include primary key column(s) id of 'orders'",
    )
