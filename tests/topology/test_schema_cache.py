"""The parsed-migration cache returns what parsing returns, and never stale SQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from polystore.topology import schema_cache
from polystore.topology.sql_schema import parse_migrations

SQL = """-- migrate:up
CREATE TABLE a (id int PRIMARY KEY, name text NOT NULL);
CREATE INDEX idx_a_name ON a (name);
-- migrate:down
DROP TABLE a;
"""


@pytest.fixture
def migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("POLYSTORE_CACHE_DIR", str(tmp_path / "cache"))
    d = tmp_path / "m"
    d.mkdir()
    (d / "001_init.sql").write_text(SQL)
    return d


def entries(d: Path) -> list[Path]:
    return sorted((d.parent / "cache").glob("*.pickle"))


def test_hit_equals_a_fresh_parse(migrations: Path) -> None:
    first = schema_cache.parse_migrations_cached(migrations)
    assert len(entries(migrations)) == 1
    second = schema_cache.parse_migrations_cached(migrations)
    fresh = parse_migrations(migrations)
    assert second[0].indexes == first[0].indexes == fresh[0].indexes
    assert second[0].tables.keys() == fresh[0].tables.keys() == {"a"}


def test_an_edited_migration_is_parsed_again(migrations: Path) -> None:
    schema_cache.parse_migrations_cached(migrations)
    (migrations / "001_init.sql").write_text(SQL.replace("idx_a_name", "idx_a_by_name"))
    schema, problems = schema_cache.parse_migrations_cached(migrations)
    assert problems == []
    assert set(schema.indexes) == {"a_pkey", "idx_a_by_name"}
    assert len(entries(migrations)) == 2


def test_a_corrupt_entry_falls_back_to_parsing(migrations: Path) -> None:
    schema_cache.parse_migrations_cached(migrations)
    [entry] = entries(migrations)
    entry.write_bytes(b"not a pickle")
    schema, _ = schema_cache.parse_migrations_cached(migrations)
    assert "idx_a_name" in schema.indexes


def test_problems_are_cached_with_their_schema(migrations: Path) -> None:
    (migrations / "001_init.sql").write_text(SQL.replace("NOT NULL", "NOT NUL"))
    first = schema_cache.parse_migrations_cached(migrations)[1]
    second = schema_cache.parse_migrations_cached(migrations)[1]
    assert len(first) == 1 and "SQL syntax error" in first[0].message
    assert second == first
