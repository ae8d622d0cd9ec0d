"""The schema a PostgreSQL store's migrations define: plain dataclasses.

Kept apart from the parser (sql_schema.py) so that code reading a schema — and the
cache that stores parsed schemas — does not import pglast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

MIGRATION_RE = re.compile(r"^\d+_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Location:
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    default: str | None = None  # SQL text of the DEFAULT expression
    # "stored" (GENERATED ALWAYS AS ... STORED: never written) or "identity" (a sequence)
    generated: str | None = None


@dataclass(frozen=True)
class Check:
    """A CHECK constraint: its name, SQL text and the columns it mentions."""

    name: str
    table: str
    expression: str
    columns: tuple[str, ...]
    location: Location


@dataclass(frozen=True)
class ForeignKey:
    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    location: Location


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    columns: tuple[str, ...]  # expressions appear as their SQL text
    unique: bool
    where: str | None
    location: Location
    descending: tuple[bool, ...] = ()


@dataclass
class Table:
    name: str
    location: Location
    columns: dict[str, Column] = field(default_factory=dict)
    primary_key: tuple[str, ...] = ()
    partition_by: tuple[str, tuple[str, ...]] | None = None  # (method, columns)
    partition_of: str | None = None
    # What the WAL keeps of an updated/deleted row: "default" (the primary key) or "full".
    replica_identity: str = "default"
    # a partition's bounds: ("range", from, to) | ("hash", modulus, remainder)
    # | ("list", value, ...) | ("default",); values as SQL literal text
    partition_bound: tuple[str, ...] | None = None
    checks: list[Check] = field(default_factory=list)


@dataclass
class DatabaseSchema:
    """Tables, indexes (constraints included) and foreign keys the migrations create."""

    tables: dict[str, Table] = field(default_factory=dict)
    indexes: dict[str, Index] = field(default_factory=dict)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    extensions: set[str] = field(default_factory=set)
    files: list[Path] = field(default_factory=list)

    def base_tables(self) -> dict[str, Table]:
        """Tables that are not partitions of another table."""
        return {n: t for n, t in self.tables.items() if t.partition_of is None}


def migration_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.sql") if p.is_file())
