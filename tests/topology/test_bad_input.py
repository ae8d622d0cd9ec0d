"""Each kind of bad input is rejected with ``path:line: message``, and only that problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from polystore.cli.main import cli

from .conftest import MiniSystem

Problems = Callable[[Path], list[str]]


def test_baseline_is_valid(mini: MiniSystem, problems_of: Problems) -> None:
    assert problems_of(mini.yaml) == []


def only(problems: list[str], path: Path, line: int, fragment: str) -> None:
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line}: "), problems[0]
    assert fragment in problems[0], problems[0]


# (description, old text, new text, line marker in the new text, message fragment)
YAML_CASES = [
    (
        "yaml syntax",
        "  shop:\n    description: sells things",
        "  shop:\n    description: [sells things",
        "description: [sells",
        "YAML syntax error",
    ),
    (
        "unknown key",
        "    table: Items\n",
        "    table: Items\n    tabel: Items\n",
        "tabel:",
        "unknown key 'tabel'",
    ),
    (
        "wrong type",
        "    logical_replication: true",
        "    logical_replication: 'yes'",
        "logical_replication: 'yes'",
        "valid boolean",
    ),
    (
        "missing required",
        "    database: mini_stock\n",
        "",
        "  stock-db:",
        "missing required field 'stores.stock-db.postgres.database'",
    ),
    (
        "duplicate service",
        "  stock:\n    description: counts things\n",
        "  stock:\n    description: counts things\n  shop:  # again\n    description: again\n",
        "# again",
        "duplicate key 'shop'",
    ),
    (
        "store without owner",
        "    owner: stock\n    database: mini_stock",
        "    database: mini_stock",
        "  stock-db:",
        "'stores.stock-db.postgres.owner'",
    ),
    (
        "store with two owners",
        "    owner: stock\n    database: mini_stock",
        "    owner: [stock, shop]\n    database: mini_stock",
        "owner: [stock, shop]",
        "valid string",
    ),
    (
        "owner is not a service",
        "    owner: stock\n    database: mini_stock",
        "    owner: stocks\n    database: mini_stock",
        "owner: stocks",
        "not a service",
    ),
    (
        "GSI on undeclared attribute",
        "EmailIndex: {hash: email}",
        "EmailIndex: {hash: mail}",
        "EmailIndex: {hash: mail}",
        "'mail' is not in the attributes",
    ),
    (
        "LSI on undeclared attribute",
        "      EmailIndex: {hash: email}\n",
        "      EmailIndex: {hash: email}\n    local_indexes:\n      ByDate: {range: created}\n",
        "ByDate: {range: created}",
        "LSI ByDate sort key 'created' is not in the attributes",
    ),
    (
        "key on undeclared attribute",
        "key: {hash: PK, range: SK}",
        "key: {hash: PK, range: Sk}",
        "key: {hash: PK, range: Sk}",
        "sort key 'Sk' is not in the attributes",
    ),
    (
        "link source without stream",
        "    stream: new-and-old-images\n",
        "",
        "source: items",
        "has no stream",
    ),
    (
        "access pattern that would scan",
        'key_condition: "email = :email"',
        'key_condition: "colour = :c"',
        "colour = :c",
        "would be a scan",
    ),
    (
        "access pattern on a non-leading column",
        'key_condition: "customer_id = :c"',
        'key_condition: "total = :t"',
        "total = :t",
        "would be a scan",
    ),
    (
        "access pattern on a missing index",
        "index: idx_orders_customer",
        "index: idx_orders_total",
        "idx_orders_total",
        "no index 'idx_orders_total'",
    ),
    (
        "search store with no source",
        "  items-to-search:\n    kind: stream-to-search\n"
        "    source: items\n    target: items-index\n",
        "",
        "  items-index:",
        "has no source",
    ),
    (
        "cdc source without logical replication",
        "    logical_replication: true\n",
        "",
        "source: shop-db",
        "does not enable logical_replication",
    ),
    (
        "partial match without edge_ngram",
        "text_fields: [name, name.prefix]",
        "text_fields: [name]",
        "partial: true",
        "edge_ngram",
    ),
    # The offending value's own line, not its parent's: pydantic's loc for this error is
    # stores.shop-topic.topic.partitions, where ``topic`` is the union tag (the store's kind)
    # and also the name of a sibling key.
    (
        "topic partitions not a number",
        "    topic: shop.events\n",
        "    topic: shop.events\n    partitions: six\n",
        "partitions: six",
        "valid integer",
    ),
    (
        "dynamodb value of the wrong type",
        "    stream: new-and-old-images\n",
        "    stream: new-and-old-images\n    pitr: 'no'\n",
        "pitr: 'no'",
        "valid boolean",
    ),
    (
        "search field type unknown",
        "colour: {type: keyword}",
        "colour: {type: keywrd}",
        "colour: {type: keywrd}",
        "colour.type",
    ),
    (
        "reference to a missing column",
        "to: shop-db.orders.id}",
        "to: shop-db.orders.uid}",
        "shop-db.orders.uid",
        "no column 'uid'",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "marker", "fragment"),
    [c[1:] for c in YAML_CASES],
    ids=[c[0] for c in YAML_CASES],
)
def test_bad_yaml_is_pinned_to_its_line(
    mini: MiniSystem, problems_of: Problems, old: str, new: str, marker: str, fragment: str
) -> None:
    mini.replace(old, new)
    only(problems_of(mini.yaml), mini.yaml.resolve(), mini.line_of(marker), fragment)


def test_cross_service_foreign_key_is_reported_in_the_migration(
    mini: MiniSystem, problems_of: Problems
) -> None:
    sql = "migrations/stock-db/001_init.sql"
    mini.replace("order_id uuid NOT NULL,", "order_id uuid NOT NULL REFERENCES orders(id),", sql)
    problems = problems_of(mini.yaml)
    path = (mini.root / sql).resolve()
    only(problems, path, mini.line_of("CREATE TABLE movements", sql), "owned by service 'shop'")


def test_sql_syntax_error_names_the_migration_line(mini: MiniSystem, problems_of: Problems) -> None:
    sql = "migrations/shop-db/001_init.sql"
    mini.replace("total numeric(12,2) NOT NULL", "total numeric(12,2) NOT NUL", sql)
    problems = problems_of(mini.yaml)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{(mini.root / sql).resolve()}:"), problems[0]
    assert "SQL syntax error" in problems[0]


def test_every_problem_is_reported_not_just_the_first(
    mini: MiniSystem, problems_of: Problems
) -> None:
    mini.replace("    table: Items\n", "    table: Items\n    tabel: Items\n")
    mini.replace("    logical_replication: true", "    logical_replication: 'yes'")
    problems = problems_of(mini.yaml)
    assert len(problems) == 2, problems
    assert {int(p.split(":")[1]) for p in problems} == {
        mini.line_of("tabel:"),
        mini.line_of("logical_replication:"),
    }


def test_cli_exits_2_with_path_line_on_stderr(mini: MiniSystem) -> None:
    mini.replace("    table: Items\n", "    table: Items\n    tabel: Items\n")
    result = CliRunner().invoke(cli, ["validate", str(mini.yaml)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        f"{mini.yaml.resolve()}:{mini.line_of('tabel:')}: unknown key 'tabel'"
    )
    assert lines[-1] == "polystore: 1 problem; nothing was run"
    assert result.stdout == ""


def test_cli_validate_prints_a_summary_per_system(mini: MiniSystem) -> None:
    result = CliRunner().invoke(cli, ["validate", str(mini.yaml)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok  mini: 2 services, 6 stores")


def test_missing_path_is_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "no such file or directory" in result.stderr
