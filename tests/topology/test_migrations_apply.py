"""Every PostgreSQL store's migrations apply to a real PostgreSQL and roll back cleanly.

The stores come from the topology (not from listing directories), so a store whose
migrations are missing, or a directory no store owns, fails here. For each store: create
its database on one throwaway server, ``dbmate up``, then check in pg_catalog that every
table, partition, index, constraint, foreign key and extension the parser read out of the
migrations is really there, with the same columns; then ``dbmate rollback`` to the bottom,
check nothing is left, and ``up`` again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from polystore import load_topology
from polystore.topology.model import System
from polystore.topology.sql_schema import DatabaseSchema, Index, up_section
from tests.support.postgres import ThrowawayPostgres, throwaway_postgres

TOPOLOGY = load_topology()
STORES: list[tuple[System, str]] = [
    (system, name)
    for system in sorted(TOPOLOGY.systems.values(), key=lambda s: s.name)
    for name in sorted(system.postgres_stores())
]

_DOWN = re.compile(r"^--\s*migrate:down\b", re.MULTILINE)
_VERSION = re.compile(r"^(\d+)_")
# money is numeric, never binary floating point; time is timestamptz
_FORBIDDEN_TYPES = {"real", "double precision", "money", "timestamp without time zone"}


@pytest.fixture(scope="module")
def postgres() -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres() as pg:
        yield pg


def _ids() -> list[str]:
    return [f"{system.name}/{name}" for system, name in STORES]


def test_there_are_postgres_stores_to_check() -> None:
    assert len(STORES) >= 13, [f"{s.name}/{n}" for s, n in STORES]


def test_every_migrations_dir_belongs_to_a_store() -> None:
    owned = {system.migrations_dir(name) for system, name in STORES}
    root = TOPOLOGY.root / "migrations"
    on_disk = {p.parent.resolve() for p in root.rglob("*.sql")}
    assert on_disk - owned == set(), "migrations no postgres store declares"
    assert owned - on_disk == set(), "postgres stores without migrations"


@pytest.mark.parametrize(("system", "store"), STORES, ids=_ids())
def test_files_have_up_and_down(system: System, store: str) -> None:
    for path in system.schema(store).files:
        text = path.read_text(encoding="utf-8")
        up, _ = up_section(text)
        assert up.strip(), f"{path}: empty migrate:up"
        down = _DOWN.search(text)
        assert down is not None, f"{path}: no '-- migrate:down' section"
        body = "\n".join(
            ln for ln in text[down.end() :].splitlines() if not ln.strip().startswith("--")
        )
        assert body.strip(), f"{path}: empty migrate:down"


def test_cross_service_references_are_indexed_and_typed_alike() -> None:
    for system in TOPOLOGY.systems.values():
        for ref in system.references:
            types = []
            for end in (ref.source, ref.target):
                store, table, column = ref.split(end)
                schema = system.schema(store)
                types.append(schema.tables[table].columns[column].type)
                leading = [i.name for i in schema.indexes.values()
                           if i.table == table and i.columns[:1] == (column,)]  # fmt: skip
                assert leading, f"{end}: no index leads with {column}; lookups by ID would scan"
            assert types[0] == types[1], (
                f"{ref.source} is {types[0]} but {ref.target} is {types[1]}"
            )


@pytest.mark.parametrize(("system", "store"), STORES, ids=_ids())
def test_migrations_apply_and_roll_back(
    postgres: ThrowawayPostgres, system: System, store: str
) -> None:
    database = system.postgres_stores()[store].database
    migrations = system.migrations_dir(store)
    schema = system.schema(store)
    postgres.create_database(database)

    postgres.dbmate(database, migrations, "up")
    with postgres.connect(database) as conn:
        _assert_schema_matches(conn, schema, f"{system.name}/{store}")
        assert _applied_versions(conn) == _versions(schema.files)

    for _ in schema.files:
        postgres.dbmate(database, migrations, "rollback")
    with postgres.connect(database) as conn:
        left = _relations(conn) - {"schema_migrations", "schema_migrations_pkey"}
        assert left == set(), f"rollback left relations behind: {sorted(left)}"
        assert _extensions(conn) == set(), "rollback left extensions behind"
        assert _applied_versions(conn) == []

    postgres.dbmate(database, migrations, "up")  # down really undid up: up runs again
    with postgres.connect(database) as conn:
        _assert_schema_matches(conn, schema, f"{system.name}/{store}")


# ------------------------------------------------------------------------ catalog checks


def _assert_schema_matches(conn: psycopg.Connection, schema: DatabaseSchema, where: str) -> None:
    tables = _tables(conn)
    for name, table in schema.tables.items():
        assert name in tables, f"{where}: table {name} missing"
        kind, parent, strategy = tables[name]
        if table.partition_by is not None:
            method, cols = table.partition_by
            assert (kind, strategy) == ("p", method[0]), (
                f"{where}: {name} is not {method}-partitioned"
            )
            assert _partition_columns(conn, name) == cols, f"{where}: {name} partition key"
        if table.partition_of is not None:
            assert parent == table.partition_of, (
                f"{where}: {name} is not a partition of {table.partition_of}"
            )
        columns = _columns(conn, name)
        assert set(table.columns) <= set(columns), (
            f"{where}: {name} lacks {set(table.columns) - set(columns)}"
        )
        if table.primary_key:
            assert _primary_key(conn, name) == table.primary_key, f"{where}: {name} primary key"
        bad = {c: t for c, t in columns.items() if t in _FORBIDDEN_TYPES}
        assert not bad, f"{where}: {name} has columns of forbidden types {bad}"

    indexes = _indexes(conn)
    for name, idx in schema.indexes.items():
        assert name in indexes, f"{where}: index {name} missing"
        on_table, key, unique, partial = indexes[name]
        assert on_table == idx.table, f"{where}: index {name} is on {on_table}, not {idx.table}"
        if _plain(idx):
            assert key == idx.columns, f"{where}: index {name} is on {key}, not {idx.columns}"
        assert unique == idx.unique, f"{where}: index {name} unique={unique}"
        assert partial == (idx.where is not None), f"{where}: index {name} partial={partial}"

    fks = _foreign_keys(conn)
    for fk in schema.foreign_keys:
        # REFERENCES t without a column list means t's primary key
        ref_columns = fk.ref_columns or schema.tables[fk.ref_table].primary_key
        want = (fk.table, fk.columns, fk.ref_table, ref_columns)
        assert want in fks, f"{where}: foreign key {want} missing"

    assert _extensions(conn) == schema.extensions, f"{where}: extensions"


def _plain(idx: Index) -> bool:
    return all(c.isidentifier() for c in idx.columns)


def _versions(files: list[Path]) -> list[str]:
    return [m.group(1) for f in files if (m := _VERSION.match(f.name))]


def _applied_versions(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    return [r[0] for r in rows]


def _relations(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'i', 'I', 'v', 'm', 'S')"
    ).fetchall()
    return {r[0] for r in rows}


def _tables(conn: psycopg.Connection) -> dict[str, tuple[str, str | None, str | None]]:
    """name -> (relkind, parent if a partition, partition strategy if partitioned)."""
    rows = conn.execute(
        """
        SELECT c.relname, c.relkind::text, parent.relname, pt.partstrat::text
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
        LEFT JOIN pg_class parent ON parent.oid = i.inhparent
        LEFT JOIN pg_partitioned_table pt ON pt.partrelid = c.oid
        WHERE c.relkind IN ('r', 'p')
        """
    ).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _partition_columns(conn: psycopg.Connection, table: str) -> tuple[str, ...]:
    rows = conn.execute(
        """
        SELECT a.attname
        FROM pg_partitioned_table pt
        CROSS JOIN LATERAL unnest(pt.partattrs::int2[]) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = k.attnum
        WHERE pt.partrelid = %s::regclass
        ORDER BY k.ord
        """,
        (table,),
    ).fetchall()
    return tuple(r[0] for r in rows)


def _columns(conn: psycopg.Connection, table: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s",
        (table,),
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def _primary_key(conn: psycopg.Connection, table: str) -> tuple[str, ...]:
    rows = conn.execute(
        """
        SELECT a.attname
        FROM pg_constraint con
        CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
        WHERE con.conrelid = %s::regclass AND con.contype = 'p'
        ORDER BY k.ord
        """,
        (table,),
    ).fetchall()
    return tuple(r[0] for r in rows)


def _indexes(conn: psycopg.Connection) -> dict[str, tuple[str, tuple[str, ...], bool, bool]]:
    """index name -> (table, key columns (expressions as ''), unique, partial)."""
    rows = conn.execute(
        """
        SELECT ic.relname, tc.relname, x.indisunique, x.indpred IS NOT NULL,
               array(SELECT coalesce(a.attname, '')
                     FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                     LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                     WHERE k.ord <= x.indnkeyatts
                     ORDER BY k.ord)
        FROM pg_index x
        JOIN pg_class ic ON ic.oid = x.indexrelid
        JOIN pg_class tc ON tc.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = ic.relnamespace AND n.nspname = 'public'
        """
    ).fetchall()
    return {r[0]: (r[1], tuple(r[4]), r[2], r[3]) for r in rows}


def _foreign_keys(
    conn: psycopg.Connection,
) -> set[tuple[str, tuple[str, ...], str, tuple[str, ...]]]:
    rows = conn.execute(
        """
        SELECT src.relname,
               array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(n, o)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n
                     ORDER BY k.o),
               dst.relname,
               array(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(n, o)
                     JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n
                     ORDER BY k.o)
        FROM pg_constraint con
        JOIN pg_class src ON src.oid = con.conrelid
        JOIN pg_class dst ON dst.oid = con.confrelid
        JOIN pg_namespace n ON n.oid = src.relnamespace AND n.nspname = 'public'
        WHERE con.contype = 'f' AND con.conparentid = 0
        """
    ).fetchall()
    return {(r[0], tuple(r[1]), r[2], tuple(r[3])) for r in rows}


def _extensions(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'").fetchall()
    return {r[0] for r in rows}
