"""What a generator needs to know about each PostgreSQL table, read from the topology.

Everything comes from ``System.schema(store)`` (the parsed migrations) and the system's
declared ``references``: column types and lengths, NOT NULL, defaults, generated
columns, CHECK rules, unique constraints and indexes (partial ones with their
predicate), foreign keys, cross-service ID references, and the ranges of the range
partitions. ``load_order`` sorts every table of a system so that parents come first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from polystore.topology.model import System
from seed import pg_checks
from seed.pg_checks import Predicate, Rule

TableKey = tuple[str, str]  # (store, table)
_TYPE_RE = re.compile(r"^([a-z0-9_ ]+?)(?:\((\d+)(?:,\s*(\d+))?\))?(\[\])?$")


@dataclass
class ColumnSpec:
    name: str
    base: str  # uuid, varchar, char, text, citext, integer, smallint, bigint, numeric, ...
    length: int | None
    scale: int | None
    array: bool
    nullable: bool
    default: str | None
    identity: bool
    rule: Rule = field(default_factory=Rule)


@dataclass
class Parent:
    """Where some columns of a row come from: an in-database foreign key, a declared
    cross-service reference, or an inferred one (a column named like a declared
    reference's source column)."""

    columns: tuple[str, ...]
    target: TableKey
    target_columns: tuple[str, ...]
    kind: str  # "fk" | "reference" | "inferred"


@dataclass
class Unique:
    columns: tuple[str, ...]
    where: Predicate | None
    name: str


@dataclass
class CheckSpec:
    name: str
    sql: str
    predicate: Predicate
    comparisons: list[pg_checks.Comparison]
    columns: tuple[str, ...] = ()


@dataclass
class TableSpec:
    store: str
    name: str
    columns: dict[str, ColumnSpec]  # written columns (GENERATED ALWAYS ones left out)
    primary_key: tuple[str, ...]
    parents: list[Parent]
    uniques: list[Unique]
    checks: list[CheckSpec]
    partition_column: str | None = None
    ranges: list[tuple[str, str]] = field(default_factory=list)  # range partitions' bounds

    @property
    def key(self) -> TableKey:
        return (self.store, self.name)


def _column(
    name: str, type_text: str, nullable: bool, default: str | None, generated: str | None
) -> ColumnSpec:
    m = _TYPE_RE.match(type_text.lower())
    if not m:
        return ColumnSpec(
            name, type_text.lower(), None, None, False, nullable, default, generated == "identity"
        )
    base, a, b, arr = m.groups()
    base = {
        "character varying": "varchar",
        "character": "char",
        "int": "integer",
        "int4": "integer",
        "int8": "bigint",
        "int2": "smallint",
        "bool": "boolean",
        "decimal": "numeric",
        "timestamp with time zone": "timestamptz",
        "float8": "double precision",
    }.get(base, base)
    return ColumnSpec(
        name,
        base,
        int(a) if a else None,
        int(b) if b else None,
        bool(arr),
        nullable,
        default,
        generated == "identity",
    )


def _strip_literal(text: str) -> str:
    text = text.strip()
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1]
    return text


def table_specs(system: System, store: str) -> dict[str, TableSpec]:
    """Every base table of a postgres store (partitions folded into their parent)."""
    schema = system.schema(store)
    out: dict[str, TableSpec] = {}
    for name, table in schema.base_tables().items():
        cols: dict[str, ColumnSpec] = {}
        for c in table.columns.values():
            if c.generated == "stored":
                continue  # PostgreSQL computes it; COPY must not name it
            cols[c.name] = _column(c.name, c.type, c.nullable, c.default, c.generated)
        checks: list[CheckSpec] = []
        for chk in table.checks:
            for col, rule in pg_checks.rules_of(chk.expression).items():
                if col in cols:
                    _merge(cols[col].rule, rule)
            checks.append(
                CheckSpec(
                    chk.name,
                    chk.expression,
                    pg_checks.compile_check(chk.expression),
                    pg_checks.comparisons(chk.expression),
                    chk.columns,
                )
            )
        uniques = [
            Unique(ix.columns, pg_checks.compile_check(ix.where) if ix.where else None, ix.name)
            for ix in schema.indexes.values()
            if ix.table == name and ix.unique and all(c in cols for c in ix.columns)
        ]
        parents = [
            Parent(fk.columns, (store, fk.ref_table), fk.ref_columns, "fk")
            for fk in schema.foreign_keys
            if fk.table == name
        ]
        spec = TableSpec(store, name, cols, table.primary_key, parents, uniques, checks)
        if table.partition_by and table.partition_by[0] == "range":
            spec.partition_column = table.partition_by[1][0]
            for part in schema.tables.values():
                b = part.partition_bound
                if part.partition_of == name and b and b[0] == "range":
                    spec.ranges.append((_strip_literal(b[1]), _strip_literal(b[2])))
            spec.ranges.sort()
        out[name] = spec
    return out


def _merge(into: Rule, rule: Rule) -> None:
    for attr in ("choices", "lo", "hi", "case"):
        if getattr(rule, attr) is not None:
            setattr(into, attr, getattr(rule, attr))
    into.lo_strict = into.lo_strict or rule.lo_strict
    into.hi_strict = into.hi_strict or rule.hi_strict
    into.exclude |= rule.exclude


def system_tables(system: System) -> dict[TableKey, TableSpec]:
    """Every table of every postgres store, with declared and inferred references."""
    specs: dict[TableKey, TableSpec] = {}
    for store in system.postgres_stores():
        for spec in table_specs(system, store).values():
            specs[spec.key] = spec
    declared: dict[str, TableKey] = {}
    target_col: dict[str, str] = {}
    for ref in system.references:
        s_store, s_table, s_col = ref.split(ref.source)
        t_store, t_table, t_col = ref.split(ref.target)
        if (s_store, s_table) in specs and (t_store, t_table) in specs:
            specs[(s_store, s_table)].parents.append(
                Parent((s_col,), (t_store, t_table), (t_col,), "reference")
            )
            declared.setdefault(s_col, (t_store, t_table))
            target_col.setdefault(s_col, t_col)
    # A column named like a declared reference's source (``user_id``, ``order_id``)
    # that has no parent of its own refers to the same thing: the same pool of ids.
    for spec in specs.values():
        taken = {c for p in spec.parents for c in p.columns}
        for col, cs in spec.columns.items():
            target = declared.get(col)
            if (
                target
                and col not in taken
                and target != spec.key
                and cs.base == _base(specs, target, target_col[col])
            ):
                spec.parents.append(Parent((col,), target, (target_col[col],), "inferred"))
    return specs


def _base(specs: dict[TableKey, TableSpec], key: TableKey, col: str) -> str | None:
    c = specs[key].columns.get(col)
    return c.base if c else None


def load_order(specs: dict[TableKey, TableSpec]) -> list[TableKey]:
    """Parents before children; inferred edges that would close a cycle are dropped."""
    hard: dict[TableKey, set[TableKey]] = {k: set() for k in specs}
    for k, spec in specs.items():
        for p in spec.parents:
            if p.kind != "inferred" and p.target != k and p.target in specs:
                hard[k].add(p.target)
    for k, spec in specs.items():
        for p in spec.parents:
            if p.kind == "inferred" and p.target in specs and not _reaches(hard, p.target, k):
                hard[k].add(p.target)
    order: list[TableKey] = []
    done: set[TableKey] = set()

    def visit(k: TableKey, path: tuple[TableKey, ...]) -> None:
        if k in done or k in path:
            return
        for dep in sorted(hard[k]):
            visit(dep, (*path, k))
        done.add(k)
        order.append(k)

    for k in sorted(specs):
        visit(k, ())
    return order


def _reaches(graph: dict[TableKey, set[TableKey]], start: TableKey, goal: TableKey) -> bool:
    seen, todo = set(), [start]
    while todo:
        k = todo.pop()
        if k == goal:
            return True
        if k not in seen:
            seen.add(k)
            todo.extend(graph.get(k, ()))
    return False


def describe(spec: TableSpec) -> dict[str, Any]:
    return {
        "table": spec.name,
        "columns": list(spec.columns),
        "parents": [
            f"{'.'.join(p.target)}({', '.join(p.target_columns)}) [{p.kind}]" for p in spec.parents
        ],
    }
