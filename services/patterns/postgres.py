"""PostgreSQL access patterns: the declared select, with joins and keyset pagination.

The SQL comes from the declaration and the migrations' schema: the key condition's
placeholders become bound parameters (validated against the column types first, so a
malformed id is a 422 naming the parameter, not a database error), joined tables are
reached through the foreign keys the migrations declare and returned nested under
the referencing column's name (``user_id`` → ``user``), and pages are cut by keyset
on the declared order plus the primary key, so a page never skips or repeats a row.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid
from typing import Any

from psycopg import sql

from polystore.topology import key_conditions as kc
from polystore.topology.model import AccessPattern
from polystore.topology.schema_model import DatabaseSchema, Table
from services import cursor as cursors
from services.errors import BadParameter
from services.patterns import Context, Page, redact

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
_SQL_OPS = {"=": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _check_value(column_type: str, name: str, value: str) -> Any:
    """``value`` parsed for a column of ``column_type``; 422 naming ``name`` otherwise."""
    t = column_type.lower()
    try:
        if t == "uuid":
            return str(uuid.UUID(value))
        if t in ("integer", "int", "int4", "bigint", "int8", "smallint", "int2", "serial",
                 "bigserial"):  # fmt: skip
            return int(value)
        if t.startswith(("numeric", "decimal")):
            return decimal.Decimal(value)
        if t.startswith("timestamp"):
            return dt.datetime.fromisoformat(value)
        if t == "date":
            return dt.date.fromisoformat(value)
        if t in ("boolean", "bool"):
            if value.lower() not in ("true", "false"):
                raise ValueError(value)
            return value.lower() == "true"
    except (ValueError, decimal.InvalidOperation):
        raise BadParameter(f"{name}: {value!r} is not a valid {column_type}", name) from None
    return value


def _joins(schema: DatabaseSchema, table: str, joins: tuple[str, ...]
           ) -> list[tuple[str, str, list[tuple[str, str]]]]:  # fmt: skip
    """(joined table, alias, [(local column, joined column)]) through the declared FKs."""
    out = []
    for j in joins:
        fk = next((f for f in schema.foreign_keys if f.table == table and f.ref_table == j),
                  None)  # fmt: skip
        if fk is not None:
            alias = fk.columns[0].removesuffix("_id") if len(fk.columns) == 1 else j
            out.append((j, alias, list(zip(fk.columns, fk.ref_columns, strict=True))))
            continue
        back = next((f for f in schema.foreign_keys if f.table == j and f.ref_table == table),
                    None)  # fmt: skip
        if back is None:
            raise RuntimeError(f"no foreign key between {table} and {j}")  # checked at load
        out.append((j, j, list(zip(back.ref_columns, back.columns, strict=True))))
    return out


def _order(ap: AccessPattern, t: Table) -> list[str]:
    cols = list(ap.order_by)
    for pk in t.primary_key:
        if pk not in cols:
            cols.append(pk)
    return cols


def build(ap: AccessPattern, schema: DatabaseSchema, params: dict[str, Any],
          after: list[Any] | None, limit: int) -> tuple[sql.Composed, list[Any]]:  # fmt: skip
    assert ap.table is not None
    t = schema.tables[ap.table]
    base = sql.Identifier("t")
    select: list[sql.Composable] = [sql.SQL("t.*")]
    joins: list[sql.Composable] = []
    for i, (j, alias, on) in enumerate(_joins(schema, ap.table, ap.joins)):
        ja = sql.Identifier(f"j{i}")
        select.append(sql.SQL("to_jsonb({}) AS {}").format(ja, sql.Identifier(f"__join_{alias}")))
        cond = sql.SQL(" AND ").join(
            sql.SQL("{}.{} = {}.{}").format(base, sql.Identifier(a), ja, sql.Identifier(b))
            for a, b in on)  # fmt: skip
        joins.append(sql.SQL("LEFT JOIN {} {} ON {}").format(sql.Identifier(j), ja, cond))
    where: list[sql.Composable] = []
    args: list[Any] = []
    for term in kc.parse(ap.key_condition) if ap.key_condition else []:
        col = sql.SQL("{}.{}").format(base, sql.Identifier(term.attribute))
        values = [params[v[1:]] if v.startswith(":") else _literal(v) for v in term.values]
        if term.op in _SQL_OPS:
            where.append(sql.SQL("{} " + _SQL_OPS[term.op] + " %s").format(col))
        elif term.op == "between":
            where.append(sql.SQL("{} BETWEEN %s AND %s").format(col))
        elif term.op == "begins_with":
            where.append(sql.SQL("starts_with({}::text, %s)").format(col))
        else:
            where.append(sql.SQL("{} IS " + ("NULL" if values[0] is None else "NOT NULL"))
                         .format(col))  # fmt: skip
            continue
        args += values
    order = _order(ap, t)
    desc = ap.order == "desc"
    if after is not None:
        lhs = sql.SQL(", ").join(sql.SQL("{}.{}").format(base, sql.Identifier(c)) for c in order)
        where.append(sql.SQL("({}) {} ({})").format(
            lhs, sql.SQL("<" if desc else ">"), sql.SQL(", ").join([sql.SQL("%s")] * len(order))))
        args += after
    direction = sql.SQL(" DESC" if desc else " ASC")
    query = sql.SQL("SELECT {} FROM {} {} {}{} ORDER BY {} LIMIT {}").format(
        sql.SQL(", ").join(select), sql.Identifier(ap.table), base, sql.SQL(" ").join(joins),
        sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where) if where else sql.SQL(""),
        sql.SQL(", ").join(sql.SQL("{}.{}").format(base, sql.Identifier(c)) + direction
                           for c in order),
        sql.Literal(limit + 1))  # fmt: skip
    return query, args


def _literal(token: str) -> Any:
    if token.startswith("'"):
        return token[1:-1]
    if token.lower() == "null":
        return None
    return decimal.Decimal(token) if re.fullmatch(r"-?\d+(\.\d+)?", token) else token


def _jsonable(v: Any) -> Any:
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal | uuid.UUID):
        return str(v)
    return v


def row_json(row: dict[str, Any]) -> dict[str, Any]:
    """A PostgreSQL row as JSON values (timestamps ISO, numerics and UUIDs as strings)."""
    return {k: _jsonable(v) for k, v in row.items()}


def run(ctx: Context, name: str, params: dict[str, str], cursor: str | None,
        limit: int | None) -> Page:  # fmt: skip
    system = ctx.config.system
    ap = system.access_patterns[name]
    schema = system.schema(ap.store)
    assert ap.table is not None
    table = schema.tables[ap.table]
    typed = {}
    for term in kc.parse(ap.key_condition) if ap.key_condition else []:
        col = table.columns[term.attribute]
        for v in term.values:
            if v.startswith(":"):
                typed[v[1:]] = _check_value(col.type, v[1:], params[v[1:]])
    size = min(limit or ap.limit or DEFAULT_LIMIT, ap.limit or MAX_LIMIT, MAX_LIMIT)
    after = cursors.decode(name, cursor)
    query, args = build(ap, schema, typed, after, size)
    from psycopg.rows import dict_row

    with ctx.clients.pg().connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, args).fetchall()
    more = len(rows) > size
    rows = rows[:size]
    items = []
    for row in rows:
        item = {k: _jsonable(v) for k, v in row.items() if not k.startswith("__join_")}
        for k, v in row.items():
            if k.startswith("__join_"):
                # Joined rows are other entities: their contact details stay out too.
                item[k.removeprefix("__join_")] = redact(v, ("email", "phone")) if v else None
        items.append(redact(item))
    nxt = None
    if more and rows:
        nxt = cursors.encode(name, [_jsonable(rows[-1][c]) for c in _order(ap, table)])
    return Page(items, nxt)
