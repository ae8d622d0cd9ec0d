"""Read a PostgreSQL store's schema out of its migrations, with PostgreSQL's own parser.

Migrations are dbmate files (``NNN_name.sql`` with ``-- migrate:up`` / ``-- migrate:down``
sections); only the ``up`` sections define the schema. pglast wraps libpg_query, the
server's real grammar, so what parses here parses in PostgreSQL. The result feeds the
ER diagrams, access-pattern checks (does this index exist, on which columns?) and the
rule that no foreign key leaves its service's database.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from pglast import ast, enums, parse_sql
from pglast.parser import ParseError
from pglast.stream import RawStream

from polystore.topology.errors import Problem
from polystore.topology.schema_model import (
    MIGRATION_RE,
    Check,
    Column,
    DatabaseSchema,
    ForeignKey,
    Index,
    Location,
    Table,
    migration_files,
)

_UP = re.compile(r"^--\s*migrate:up\b.*$", re.MULTILINE)
_DOWN = re.compile(r"^--\s*migrate:down\b.*$", re.MULTILINE)


_PARTITION_METHODS = {
    enums.PartitionStrategy.PARTITION_STRATEGY_HASH: "hash",
    enums.PartitionStrategy.PARTITION_STRATEGY_RANGE: "range",
    enums.PartitionStrategy.PARTITION_STRATEGY_LIST: "list",
}


# ALTER TABLE ... REPLICA IDENTITY: what a CDC delete/update event carries of the old row.
_REPLICA_IDENTITY = {"d": "default", "f": "full", "n": "nothing", "i": "index"}


def _names(nodes: tuple[ast.String, ...] | None) -> tuple[str, ...]:
    return tuple(n.sval for n in nodes or ())


def _sql(node: ast.Node) -> str:
    return str(RawStream()(node))


_TYPE_NAMES: dict[tuple[object, ...], str] = {}


def _type_name(tn: ast.TypeName) -> str:
    """SQL text of a column type, memoised: the same few types recur hundreds of times
    and pglast's printer is the slowest step of loading the topology."""
    mods = tn.typmods or ()
    if not all(isinstance(m, ast.A_Const) and hasattr(m.val, "ival") for m in mods):
        return _sql(tn)  # expression modifiers: not worth a key
    key = (
        tuple(n.sval for n in tn.names),
        tuple(m.val.ival for m in mods),
        len(tn.arrayBounds or ()),
        bool(tn.setof),
        bool(tn.pct_type),
    )
    text = _TYPE_NAMES.get(key)
    if text is None:
        text = _TYPE_NAMES[key] = _sql(tn)
    return text


def up_section(text: str) -> tuple[str, int]:
    """The ``migrate:up`` SQL and the 0-based line it starts at (blanked-out offsets kept)."""
    up = _UP.search(text)
    if not up:
        return "", 0
    down = _DOWN.search(text, up.end())
    body = text[up.end() : down.start() if down else len(text)]
    return body, text.count("\n", 0, up.end())


def parse_migrations(directory: Path) -> tuple[DatabaseSchema, list[Problem]]:
    """Parse every migration in ``directory`` in order into one schema."""
    schema = DatabaseSchema()
    problems: list[Problem] = []
    files = migration_files(directory)
    for path in files:
        if not MIGRATION_RE.match(path.name):
            problems.append(
                Problem(path, 1, "migration file names must look like NNN_description.sql")
            )
            continue
        schema.files.append(path)
        text = path.read_text(encoding="utf-8")
        body, first_line = up_section(text)
        if not _UP.search(text):
            problems.append(Problem(path, 1, "migration has no '-- migrate:up' section (dbmate)"))
            continue
        try:
            stmts = parse_sql(body)
        except ParseError as exc:
            offset = exc.args[1] - 1 if len(exc.args) > 1 else 0
            line = first_line + body.count("\n", 0, max(offset, 0)) + 1
            problems.append(Problem(path, line, f"SQL syntax error: {exc.args[0]}"))
            continue
        for raw in stmts:
            # stmt_location points at the end of the previous statement; skip to real text
            start = raw.stmt_location
            while start < len(body) and body[start] in " \t\r\n;":
                start += 1
            while body.startswith("--", start):
                start = body.find("\n", start) + 1 or len(body)
                while start < len(body) and body[start] in " \t\r\n":
                    start += 1
            loc = Location(path, first_line + body.count("\n", 0, start) + 1)
            _apply(schema, raw.stmt, loc, problems)
    return schema, problems


def _apply(schema: DatabaseSchema, stmt: ast.Node, loc: Location, problems: list[Problem]) -> None:
    if isinstance(stmt, ast.CreateStmt):
        _create_table(schema, stmt, loc)
    elif isinstance(stmt, ast.IndexStmt):
        table = stmt.relation.relname
        cols: list[str] = []
        desc: list[bool] = []
        for p in stmt.indexParams or ():
            cols.append(p.name if p.name else _sql(p.expr))
            desc.append(p.ordering == enums.SortByDir.SORTBY_DESC)
        name = stmt.idxname or f"{table}_{'_'.join(c for c in cols if c.isidentifier())}_idx"
        where = _sql(stmt.whereClause) if stmt.whereClause is not None else None
        schema.indexes[name] = Index(
            name, table, tuple(cols), bool(stmt.unique), where, loc, tuple(desc)
        )
    elif isinstance(stmt, ast.AlterTableStmt):
        table = stmt.relation.relname
        for cmd in stmt.cmds or ():
            if cmd.subtype == enums.AlterTableType.AT_AddConstraint and cmd.def_ is not None:
                _constraint(schema, table, cmd.def_, loc)
            elif (
                cmd.subtype == enums.AlterTableType.AT_AddColumn
                and isinstance(cmd.def_, ast.ColumnDef)
                and table in schema.tables
            ):
                _column(schema, schema.tables[table], cmd.def_, loc)
            elif (
                cmd.subtype == enums.AlterTableType.AT_ReplicaIdentity
                and isinstance(cmd.def_, ast.ReplicaIdentityStmt)
                and table in schema.tables
            ):
                schema.tables[table].replica_identity = _REPLICA_IDENTITY.get(
                    cmd.def_.identity_type, "default"
                )
    elif isinstance(stmt, ast.CreateExtensionStmt):
        schema.extensions.add(stmt.extname)


def _create_table(schema: DatabaseSchema, stmt: ast.CreateStmt, loc: Location) -> None:
    name = stmt.relation.relname
    table = Table(name, loc)
    if stmt.partbound is not None and stmt.inhRelations:
        table.partition_of = stmt.inhRelations[0].relname
        table.partition_bound = _bound(stmt.partbound)
    if stmt.partspec is not None:
        method = _PARTITION_METHODS.get(stmt.partspec.strategy, str(stmt.partspec.strategy))
        cols = tuple(p.name or _sql(p.expr) for p in stmt.partspec.partParams or ())
        table.partition_by = (method, cols)
    schema.tables[name] = table
    for elt in stmt.tableElts or ():
        if isinstance(elt, ast.ColumnDef):
            _column(schema, table, elt, loc)
        elif isinstance(elt, ast.Constraint):
            _constraint(schema, name, elt, loc)


def _column(schema: DatabaseSchema, table: Table, elt: ast.ColumnDef, loc: Location) -> None:
    """One column definition (CREATE TABLE or ALTER TABLE ... ADD COLUMN)."""
    nullable = True
    default: str | None = None
    generated: str | None = None
    for c in elt.constraints or ():
        if c.contype in (enums.ConstrType.CONSTR_NOTNULL, enums.ConstrType.CONSTR_PRIMARY):
            nullable = False
        elif c.contype == enums.ConstrType.CONSTR_DEFAULT and c.raw_expr is not None:
            default = _sql(c.raw_expr)
        elif c.contype == enums.ConstrType.CONSTR_GENERATED:
            generated = "stored"
        elif c.contype == enums.ConstrType.CONSTR_IDENTITY:
            generated = "identity"
            nullable = False
        _constraint(schema, table.name, c, loc, column=elt.colname)
    table.columns[elt.colname] = Column(
        elt.colname, _type_name(elt.typeName), nullable, default, generated
    )


def _constraint(
    schema: DatabaseSchema, table: str, c: ast.Constraint, loc: Location, column: str | None = None
) -> None:
    keys = _names(c.keys) or ((column,) if column else ())
    if c.contype == enums.ConstrType.CONSTR_PRIMARY:
        if table in schema.tables:
            t = schema.tables[table]
            t.primary_key = keys
            # a primary key implies NOT NULL on its columns, wherever it is declared
            for k in keys:
                if k in t.columns:
                    t.columns[k] = dataclasses.replace(t.columns[k], nullable=False)
        name = c.conname or f"{table}_pkey"
        schema.indexes[name] = Index(name, table, keys, True, None, loc)
    elif c.contype == enums.ConstrType.CONSTR_UNIQUE:
        name = c.conname or f"{table}_{'_'.join(keys)}_key"
        schema.indexes[name] = Index(name, table, keys, True, None, loc)
    elif c.contype == enums.ConstrType.CONSTR_CHECK and c.raw_expr is not None:
        if table in schema.tables:
            cols = sorted({".".join(f.sval for f in ref.fields if isinstance(f, ast.String))
                           for ref in _column_refs(c.raw_expr)})  # fmt: skip
            schema.tables[table].checks.append(
                Check(c.conname or f"{table}_check", table, _sql(c.raw_expr), tuple(cols), loc)
            )
    elif c.contype == enums.ConstrType.CONSTR_FOREIGN:
        cols = _names(c.fk_attrs) or ((column,) if column else ())
        schema.foreign_keys.append(
            ForeignKey(table, cols, c.pktable.relname, _names(c.pk_attrs), loc)
        )


def _column_refs(node: ast.Node) -> list[ast.ColumnRef]:
    """Every column reference inside an expression."""
    out: list[ast.ColumnRef] = []

    def walk(n: object) -> None:
        if isinstance(n, ast.ColumnRef):
            out.append(n)
        elif isinstance(n, ast.Node):
            for attr in n:
                walk(getattr(n, attr))
        elif isinstance(n, tuple | list):
            for item in n:
                walk(item)

    walk(node)
    return out


def _bound(spec: ast.PartitionBoundSpec) -> tuple[str, ...]:
    if spec.is_default:
        return ("default",)
    if spec.strategy == "h":
        return ("hash", str(spec.modulus), str(spec.remainder))
    if spec.strategy == "r":
        lo = ", ".join(_sql(d) for d in spec.lowerdatums or ())
        hi = ", ".join(_sql(d) for d in spec.upperdatums or ())
        return ("range", lo, hi)
    return ("list", *(_sql(d) for d in spec.listdatums or ()))
