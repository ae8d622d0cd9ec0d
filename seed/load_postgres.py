"""Load a plan's PostgreSQL tables with COPY, as the owning service's own login.

A table that is empty gets a straight ``COPY table FROM STDIN`` (the fast path); a table
that already has rows gets its rows through a temporary table and
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``, so seeding twice adds nothing
(idempotent: the same seed makes the same keys). Identity columns get explicit values
(deterministic ids), then their sequence is moved past them so the service's own inserts
do not collide. ``delete`` removes exactly the plan's rows (by primary key), children
first. Everything for one store is one transaction: nothing half-written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from seed.pg_model import TableKey, TableSpec

Progress = Callable[[int], None]


class LoadError(Exception):
    """Rows could not be loaded; the transaction was rolled back (nothing half-written)."""


def connect(env: dict[str, str]) -> Any:
    return psycopg.connect(
        host=env["PGHOST"],
        port=env["PGPORT"],
        dbname=env["PGDATABASE"],
        user=env["PGUSER"],
        password=env.get("PGPASSWORD", ""),
        sslmode=env.get("PGSSLMODE", "prefer"),
        connect_timeout=10,
    )


def _copy(
    cur: Any,
    target: sql.Composable,
    cols: list[str],
    spec: TableSpec,
    rows: list[dict[str, Any]],
    advance: Progress,
) -> None:
    """COPY ``rows`` with psycopg's C dumpers (``write_row``); JSON values wrapped."""
    from psycopg.types.json import Jsonb

    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        target, sql.SQL(", ").join(map(sql.Identifier, cols))
    )
    json_at = [i for i, c in enumerate(cols) if spec.columns[c].base in ("json", "jsonb")]
    with cur.copy(stmt) as copy:
        for n, row in enumerate(rows, start=1):
            values = [row.get(c) for c in cols]
            for i in json_at:
                if values[i] is not None:
                    values[i] = Jsonb(values[i])
            copy.write_row(values)
            if n % 5000 == 0:
                advance(5000)
    advance(len(rows) % 5000)


def load_store(
    env: dict[str, str],
    specs: list[TableSpec],
    tables: dict[TableKey, list[Any]],
    advance: Progress,
) -> dict[str, int]:
    """COPY every table of one database (``specs`` in load order); rows written per table."""
    written: dict[str, int] = {}
    with connect(env) as conn, conn.cursor() as cur:
        for spec in specs:
            rows = tables.get(spec.key, [])
            if not rows:
                continue
            cols = list(spec.columns)
            table = sql.Identifier(spec.name)
            cur.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(table))
            if not cur.fetchone()[0]:
                _copy(cur, table, cols, spec, rows, advance)
                written[spec.name] = len(rows)
            else:
                tmp = sql.Identifier(f"seed_{spec.name}")
                cur.execute(
                    sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(tmp, table)
                )
                _copy(cur, tmp, cols, spec, rows, advance)
                collist = sql.SQL(", ").join(map(sql.Identifier, cols))
                cur.execute(
                    sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT DO NOTHING").format(
                        table, collist, collist, tmp
                    )
                )
                written[spec.name] = cur.rowcount
            for col in spec.columns.values():
                if col.identity:
                    cur.execute(
                        sql.SQL(
                            "SELECT setval(pg_get_serial_sequence({}, {}), "
                            "GREATEST((SELECT max({}) FROM {}), 1))"
                        ).format(
                            sql.Literal(spec.name),
                            sql.Literal(col.name),
                            sql.Identifier(col.name),
                            table,
                        )
                    )
        conn.commit()
    return written


def delete_store(
    env: dict[str, str], specs: list[TableSpec], tables: dict[TableKey, list[Any]]
) -> dict[str, int]:
    """Delete the plan's rows by primary key, children before parents."""
    deleted: dict[str, int] = {}
    with connect(env) as conn, conn.cursor() as cur:
        for spec in reversed(specs):
            rows = tables.get(spec.key, [])
            pk = list(spec.primary_key) or list(spec.columns)
            if not rows:
                continue
            table = sql.Identifier(spec.name)
            tmp = sql.Identifier(f"seed_del_{spec.name}")
            cur.execute(
                sql.SQL("CREATE TEMP TABLE {} AS SELECT {} FROM {} WITH NO DATA").format(
                    tmp, sql.SQL(", ").join(map(sql.Identifier, pk)), table
                )
            )
            _copy(cur, tmp, pk, spec, rows, lambda n: None)
            match = sql.SQL(" AND ").join(
                sql.SQL("t.{} = d.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in pk
            )
            cur.execute(sql.SQL("DELETE FROM {} t USING {} d WHERE {}").format(table, tmp, match))
            deleted[spec.name] = cur.rowcount
            cur.execute(sql.SQL("DROP TABLE {}").format(tmp))
        conn.commit()
    return deleted


def count_rows(env: dict[str, str], table: str) -> int:
    with connect(env) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        return int(cur.fetchone()[0])


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    return fn(), time.perf_counter() - t
