"""Rows for any PostgreSQL table, generated from its schema alone.

A domain generator (``seed/domains``) may hand in *partial* rows — the realistic part,
names, prices, statuses, the values an invariant ties together — and this module fills
in every other column so that the row is valid for the schema: types and lengths, NOT
NULL, CHECK constraints, unique constraints (partial ones included), foreign keys and
declared cross-service references (values picked from the parent's generated rows; a
row that names one parent inherits that parent's other ids, so a payment's ``user_id``
is its order's), and range partitions (times fall in partitions that exist).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from seed import values
from seed.pg_checks import Rule, satisfy
from seed.pg_model import ColumnSpec, Parent, TableKey, TableSpec
from seed.rng import Clock

Row = dict[str, Any]
ATTEMPTS = 25


class SeedError(Exception):
    """Data for a table could not be made valid (names the table and the constraint)."""


class Pools:
    """Generated rows of every table so far, with look-ups by column values."""

    def __init__(self) -> None:
        self.rows: dict[TableKey, list[Row]] = {}
        self._index: dict[tuple[TableKey, tuple[str, ...]], dict[tuple[Any, ...], Row]] = {}

    def find(self, key: TableKey, cols: tuple[str, ...], vals: tuple[Any, ...]) -> Row | None:
        ix = self._index.get((key, cols))
        if ix is None:
            ix = {tuple(r.get(c) for c in cols): r for r in self.rows.get(key, ())}
            self._index[(key, cols)] = ix
        return ix.get(vals)


def _windows(spec: TableSpec, clock: Clock) -> list[tuple[dt.datetime, dt.datetime]]:
    """The parts of the seeded history that fall in one of the table's range partitions."""
    out = []
    for lo, hi in spec.ranges:
        a = max(dt.datetime.fromisoformat(lo), clock.start)
        b = min(dt.datetime.fromisoformat(hi), clock.now)
        if b > a:
            out.append((a, b))
    return out


def _clamp(v: Any, rule: Rule, one: Any) -> Any:
    if rule.lo is not None and (v < rule.lo or (rule.lo_strict and v <= rule.lo)):
        v = type(v)(rule.lo) + (one if rule.lo_strict else 0)
    if rule.hi is not None and (v > rule.hi or (rule.hi_strict and v >= rule.hi)):
        v = type(v)(rule.hi) - (one if rule.hi_strict else 0)
    while v in rule.exclude:
        v += one
    return v


def _int_for(name: str, rng: random.Random, n: int) -> int:
    low = name.lower()
    if "quantity" in low or low in ("qty",):
        return rng.randint(1, 25)
    if low.endswith(("count", "attempts", "attempt", "times_used")):
        return rng.randint(0, 5)
    if low in ("position",):
        return n % 10
    if low in ("version",):
        return 1
    if "weight" in low:
        return rng.randint(100, 5000)
    if low.endswith("days"):
        return rng.randint(1, 10)
    if low.endswith("year"):
        return rng.randint(2026, 2031)
    if low.endswith("month"):
        return rng.randint(1, 12)
    if low.endswith(("width", "height")):
        return rng.choice([640, 800, 1024, 1280])
    if "seconds" in low:
        return rng.choice([60, 300, 3600])
    if "limit" in low:
        return rng.randint(50, 500)
    return rng.randint(0, 100)


def _numeric_for(col: ColumnSpec, rng: random.Random) -> Decimal:
    low = col.name.lower()
    scale = col.scale if col.scale is not None else 2
    if "lat" in low:
        v = Decimal(str(values.place(rng).lat))
    elif "lon" in low or "lng" in low:
        v = Decimal(str(values.place(rng).lon))
    elif "rating" in low:
        v = Decimal(rng.randint(100, 500)).scaleb(-2)
    else:
        v = values.money(rng, 1, 400)
    if col.length is not None:  # numeric(p, s): |v| < 10^(p-s)
        top = Decimal(10) ** (col.length - scale) - Decimal(1).scaleb(-scale)
        v = min(v, top)
    return v.quantize(Decimal(1).scaleb(-scale))


ValueGen = Callable[[random.Random, Clock, int], Any]


def column_gen(col: ColumnSpec) -> ValueGen:
    """A generator of values of ``col``'s type and CHECK rules, decided once per column
    (times are handled by the row filler, relative to the row's anchor time)."""
    rule = col.rule
    base = col.base
    if rule.choices:
        choices = rule.choices
        return lambda r, c, n: r.choice(choices)
    if col.array:
        if base == "char" and col.length == 2:
            return lambda r, c, n: sorted({values.place(r).country for _ in range(r.randint(1, 3))})
        return lambda r, c, n: [
            values.slugify(w) for w in r.sample(values.vocab.WORDS, r.randint(1, 3))
        ]
    if base == "uuid":
        return lambda r, c, n: values.new_uuid(r)
    if base in ("integer", "smallint", "bigint"):
        name = col.name
        return lambda r, c, n: _clamp(_int_for(name, r, n), rule, 1)
    if base == "numeric":
        one = Decimal(1).scaleb(-(col.scale or 0))
        return lambda r, c, n: _clamp(_numeric_for(col, r), rule, one)
    if base in ("double precision", "real"):
        return lambda r, c, n: float(_clamp(r.uniform(0, 100), rule, 0.01))
    if base == "boolean":
        low = col.name.lower()
        likely = low.startswith(("is_active", "is_enabled", "is_available")) or "verified" in low
        p = 0.9 if likely else 0.3
        return lambda r, c, n: r.random() < p
    if base in ("varchar", "char", "text", "citext", "bpchar"):
        if base == "char" and col.length and col.length <= 4 and "last4" in col.name:
            return lambda r, c, n: f"{r.randint(0, 9999):04d}"
        gen = values.string_gen(col.name, col.length)
        if base == "char" and col.length:
            width = col.length
            inner = gen

            def gen(r: random.Random, n: int) -> str:
                s = inner(r, n)
                return s if len(s) == width else (s.upper() + "X" * width)[:width]

        if rule.case == "lower":
            return lambda r, c, n: gen(r, n).lower()
        if rule.case == "upper":
            return lambda r, c, n: gen(r, n).upper()
        return lambda r, c, n: gen(r, n)
    if base in ("jsonb", "json"):
        name = col.name
        return lambda r, c, n: values.json_for(name, r)
    if base == "date":
        name = col.name
        return lambda r, c, n: values.date_for(name, r, c)
    if base == "time":
        if "start" in col.name:
            return lambda r, c, n: dt.time(r.choice([21, 22, 23]), 0)
        return lambda r, c, n: dt.time(7, 0)
    if base == "inet":
        return lambda r, c, n: f"198.51.100.{r.randint(1, 254)}"
    if base == "bytea":
        return lambda r, c, n: r.getrandbits(256).to_bytes(32, "big")
    raise SeedError(f"no generator for column {col.name} of type {base}")


def column_value(col: ColumnSpec, rng: random.Random, clock: Clock, n: int) -> Any:
    return column_gen(col)(rng, clock, n)


_ALWAYS_TIMES = (
    "created_at",
    "updated_at",
    "requested_at",
    "received_at",
    "issued_at",
    "recorded_at",
    "occurred_at",
    "granted_at",
    "used_at",
    "starts_at",
)


def _anchor_column(spec: TableSpec) -> str | None:
    if spec.partition_column:
        return spec.partition_column
    for c in spec.columns.values():
        if c.base == "timestamptz" and c.name == "created_at":
            return c.name
    for c in spec.columns.values():
        if c.base == "timestamptz" and not c.nullable:
            return c.name
    return None


class TableGenerator:
    """Generates the rows of one table into ``pools``."""

    def __init__(self, spec: TableSpec, pools: Pools, rng: random.Random, clock: Clock) -> None:
        self.spec, self.pools, self.rng, self.clock = spec, pools, rng, clock
        self.anchor = _anchor_column(spec)
        self.frozen_base = set(spec.primary_key) | {c for p in spec.parents for c in p.columns}
        self.windows = _windows(spec, clock)
        # a unique constraint over a freshly drawn uuid cannot collide: not tracked
        # (domain-provided ids are stable_uuid of distinct names: unique as well)
        from_parents = {c for p in spec.parents for c in p.columns}
        fresh = {
            c for c, col in spec.columns.items() if col.base == "uuid" and c not in from_parents
        }
        self.uniques = [u for u in spec.uniques if not (set(u.columns) & fresh)]
        self.seen: list[set[tuple[Any, ...]]] = [set() for _ in self.uniques]
        self.rows: list[Row] = []
        self.dropped = 0
        # per column, decided once: (name, kind, generator, may be NULL)
        self.plan: list[tuple[str, str, ValueGen | None, bool]] = []
        for c, col in spec.columns.items():
            if col.identity:
                self.plan.append((c, "identity", None, False))
            elif col.base == "timestamptz":
                self.plan.append((c, "time", None, col.nullable))
            else:
                nullable = col.nullable and c not in self.frozen_base
                self.plan.append((c, "value", column_gen(col), nullable))
        self.inherit = [
            c
            for c, col in spec.columns.items()
            if c != "id" and (col.base == "uuid" or c.endswith("_id"))
        ]

    # -- parents ------------------------------------------------------------------------
    def _parent(self, p: Parent, row: Row, chosen: dict[TableKey, Row]) -> None:
        if all(c in row for c in p.columns):
            vals = tuple(row[c] for c in p.columns)
            if None not in vals and p.target not in chosen:
                found = self.pools.find(p.target, p.target_columns, vals)
                if found is not None:
                    chosen[p.target] = found
            return
        nullable = all(self.spec.columns[c].nullable for c in p.columns)
        if p.target == self.spec.key:  # self-reference: an earlier row, sometimes
            pool = self.rows
            if not pool or self.rng.random() < 0.6:
                for c in p.columns:
                    row.setdefault(c, None)
                return
        else:
            pool = self.pools.rows.get(p.target, [])
        if nullable and (not pool or self.rng.random() < 0.2):
            for c in p.columns:
                row.setdefault(c, None)
            return
        if not pool:
            if p.kind == "fk":
                raise SeedError(
                    f"{'.'.join(self.spec.key)}: parent table {'.'.join(p.target)} "
                    "has no rows to reference"
                )
            return  # an unresolvable ID reference: the column gets a fresh value
        parent = chosen.get(p.target) or self.rng.choice(pool)
        chosen[p.target] = parent
        for c, tc in zip(p.columns, p.target_columns, strict=True):
            row.setdefault(c, parent[tc])

    # -- one row --------------------------------------------------------------------------
    def _fill(self, base: Row, n: int) -> Row | None:
        row = dict(base)
        chosen: dict[TableKey, Row] = {}
        for p in self.spec.parents:
            self._parent(p, row, chosen)
        # a row that names a parent carries that parent's other ids
        for parent in chosen.values():
            for c in self.inherit:
                if c not in row and c in parent:
                    row[c] = parent[c]
        rng, clock = self.rng, self.clock
        later: list[tuple[str, bool]] = []
        for c, kind, gen, nullable in self.plan:
            if c in row:
                continue
            if kind == "identity":
                row[c] = n + 1
            elif kind == "time":
                later.append((c, nullable))
            elif nullable and rng.random() < 0.15:
                row[c] = None
            else:
                row[c] = gen(rng, clock, n)  # type: ignore[misc]
        anchor = row.get(self.anchor) if self.anchor else None
        if self.anchor and anchor is None:
            if self.windows:  # spread over the partitions, not only the busiest
                a, b = self.windows[int(rng.random() * len(self.windows))]
                anchor = clock.between(rng, a, b)
            else:
                anchor = clock.past(rng)
            row[self.anchor] = anchor
        for c, nullable in later:
            if c in row:
                continue
            if nullable and not c.endswith(_ALWAYS_TIMES) and rng.random() < 0.6:
                row[c] = None
            elif anchor is not None:
                row[c] = clock.after(rng, anchor, 45)
            else:
                row[c] = clock.past(rng)
        return row if self._checks(row) else None

    def _checks(self, row: Row) -> bool:
        frozen = self.frozen_base
        repaired = False
        for chk in self.spec.checks:
            if chk.predicate(row) is not False:
                continue
            repaired = True
            for cmp in chk.comparisons:
                if chk.predicate(row) is False:
                    satisfy(cmp, row, frozen)
            if chk.predicate(row) is False:
                for c in chk.columns:
                    if c in self.spec.columns and self.spec.columns[c].nullable and c not in frozen:
                        row[c] = None
            if chk.predicate(row) is False:
                return False
        # a repair may have broken a check that passed before it
        return not repaired or all(chk.predicate(row) is not False for chk in self.spec.checks)

    def _unique_ok(self, row: Row) -> bool:
        keys = []
        for u, seen in zip(self.uniques, self.seen, strict=True):
            if u.where is not None and not u.where(row):
                keys.append(None)
                continue
            k = tuple(row.get(c) for c in u.columns)
            if k in seen:
                return False
            keys.append(k)
        for k, seen in zip(keys, self.seen, strict=True):
            if k is not None:
                seen.add(k)
        return True

    def add(self, base: Row, n: int) -> Row | None:
        for attempt in range(ATTEMPTS):
            row = self._fill(base, n)
            if row is None:
                continue
            if attempt:
                self._disambiguate(row, n, attempt)
            if self._unique_ok(row):
                self.rows.append(row)
                return row
        self.dropped += 1
        return None

    def _disambiguate(self, row: Row, n: int, attempt: int) -> None:
        """On a retry, make the free text columns of unique constraints distinct."""
        for u in self.spec.uniques:
            for c in u.columns:
                col = self.spec.columns[c]
                v = row.get(c)
                if isinstance(v, str) and c not in self.frozen_base and col.base != "char":
                    suffix = f"-{n}-{attempt}"
                    limit = col.length or 10_000
                    row[c] = v[: limit - len(suffix)] + suffix
                    if col.rule.case == "upper":
                        row[c] = row[c].upper()


def generate(
    spec: TableSpec,
    pools: Pools,
    rng: random.Random,
    clock: Clock,
    count: int,
    partials: list[Row] | None = None,
    after_row: Callable[[Row], None] | None = None,
) -> tuple[list[Row], int]:
    """``count`` rows (or one per partial row); returns (rows, rows dropped)."""
    gen = TableGenerator(spec, pools, rng, clock)
    todo = partials if partials is not None else [{} for _ in range(count)]
    for n, base in enumerate(todo):
        row = gen.add(base, n)
        if row is not None and after_row:
            after_row(row)
    pools.rows[spec.key] = gen.rows
    return gen.rows, gen.dropped
