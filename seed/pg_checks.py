"""CHECK constraints as Python: what a generator may draw, and a test for a finished row.

The migrations' CHECK expressions (kept as SQL text by the schema reader) are parsed
again with pglast, PostgreSQL's own grammar, and turned into

* per-column *rules* read off the top-level conjuncts the generator can honour up front
  (``status IN (...)``, ``qty >= 0``, ``rating BETWEEN 1 AND 5``, ``code = upper(code)``);
* a *predicate* over a whole row with SQL's three-valued logic (a CHECK passes unless it
  is false), for everything else (``ends_at IS NULL OR ends_at > starts_at``);
* a *repair* that adjusts one side of a failing comparison or nulls a nullable column,
  so multi-column checks hold without per-table code.

Only the expression forms the migrations use are understood; anything else makes the
predicate raise ``Unsupported`` with the check's text, so a new form is a clear error,
never silently bad data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pglast import ast, enums, parse_sql

Row = dict[str, Any]
Predicate = Callable[[Row], bool | None]


class Unsupported(Exception):
    """A CHECK expression form the seeder does not understand."""


@dataclass
class Rule:
    """What a CHECK says about one column, as far as a generator can use it up front."""

    choices: tuple[Any, ...] | None = None
    lo: Any = None
    lo_strict: bool = False
    hi: Any = None
    hi_strict: bool = False
    exclude: set[Any] = field(default_factory=set)
    case: str | None = None  # "lower" | "upper"


def parse_expr(sql: str) -> ast.Node:
    stmt = parse_sql(f"SELECT {sql}")[0].stmt
    return stmt.targetList[0].val


def _const(node: ast.A_Const) -> Any:
    if node.isnull:
        return None
    v = node.val
    if isinstance(v, ast.Integer):
        return v.ival
    if isinstance(v, ast.Float):
        return Decimal(v.fval)
    if isinstance(v, ast.Boolean):
        return v.boolval
    if isinstance(v, ast.String):
        return v.sval
    raise Unsupported(f"constant {v!r}")


def _colname(node: ast.ColumnRef) -> str:
    return str(node.fields[-1].sval)


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
}


def _coerce(a: Any, b: Any) -> tuple[Any, Any]:
    """Compare a timestamp with an ISO literal, a Decimal with a float, as SQL would."""
    if isinstance(a, dt.datetime) and isinstance(b, str):
        return a, dt.datetime.fromisoformat(b)
    if isinstance(b, dt.datetime) and isinstance(a, str):
        return dt.datetime.fromisoformat(a), b
    if isinstance(a, float) and isinstance(b, Decimal):
        return Decimal(str(a)), b
    if isinstance(b, float) and isinstance(a, Decimal):
        return a, Decimal(str(b))
    return a, b


def compile_expr(node: ast.Node) -> Callable[[Row], Any]:
    """A function of a row computing ``node`` (None is SQL NULL)."""
    if isinstance(node, ast.ColumnRef):
        name = _colname(node)
        return lambda row: row.get(name)
    if isinstance(node, ast.A_Const):
        value = _const(node)
        return lambda row: value
    if isinstance(node, ast.TypeCast):
        return compile_expr(node.arg)
    if isinstance(node, ast.FuncCall):
        fname = node.funcname[-1].sval
        args = [compile_expr(a) for a in node.args or ()]
        if fname in ("lower", "upper") and len(args) == 1:
            arg = args[0]
            if fname == "lower":
                return lambda row: None if (v := arg(row)) is None else str(v).lower()
            return lambda row: None if (v := arg(row)) is None else str(v).upper()
        if fname in ("cardinality", "array_length") and args:
            arg = args[0]
            return lambda row: None if (v := arg(row)) is None else len(v)
        if fname == "length" and len(args) == 1:
            arg = args[0]
            return lambda row: None if (v := arg(row)) is None else len(v)
        raise Unsupported(f"function {fname}()")
    if isinstance(node, ast.BoolExpr):
        parts = [compile_expr(a) for a in node.args]
        if node.boolop == enums.BoolExprType.AND_EXPR:

            def _and(row: Row) -> bool | None:
                vals = [p(row) for p in parts]
                if any(v is False for v in vals):
                    return False
                return None if any(v is None for v in vals) else True

            return _and
        if node.boolop == enums.BoolExprType.OR_EXPR:

            def _or(row: Row) -> bool | None:
                vals = [p(row) for p in parts]
                if any(v is True for v in vals):
                    return True
                return None if any(v is None for v in vals) else False

            return _or
        inner = parts[0]
        return lambda row: None if (v := inner(row)) is None else not v
    if isinstance(node, ast.NullTest):
        arg = compile_expr(node.arg)
        if node.nulltesttype == enums.NullTestType.IS_NULL:
            return lambda row: arg(row) is None
        return lambda row: arg(row) is not None
    if isinstance(node, ast.A_Expr):
        op = node.name[-1].sval if node.name else ""
        left = compile_expr(node.lexpr) if node.lexpr is not None else None
        if node.kind == enums.A_Expr_Kind.AEXPR_IN:
            values = [compile_expr(v) for v in node.rexpr]
            negate = op == "<>"

            def _in(row: Row) -> bool | None:
                v = left(row)  # type: ignore[misc]
                if v is None:
                    return None
                found = any(v == f(row) for f in values)
                return not found if negate else found

            return _in
        if node.kind in (enums.A_Expr_Kind.AEXPR_BETWEEN, enums.A_Expr_Kind.AEXPR_NOT_BETWEEN):
            lo, hi = (compile_expr(v) for v in node.rexpr)
            negate = node.kind == enums.A_Expr_Kind.AEXPR_NOT_BETWEEN

            def _between(row: Row) -> bool | None:
                v, a, b = left(row), lo(row), hi(row)  # type: ignore[misc]
                if v is None or a is None or b is None:
                    return None
                v, a = _coerce(v, a)
                v, b = _coerce(v, b)
                inside = a <= v <= b
                return not inside if negate else inside

            return _between
        if node.kind == enums.A_Expr_Kind.AEXPR_OP:
            right = compile_expr(node.rexpr)
            if op in _CMP:
                cmp = _CMP[op]

                def _cmp(row: Row) -> bool | None:
                    a, b = left(row), right(row)  # type: ignore[misc]
                    if a is None or b is None:
                        return None
                    a, b = _coerce(a, b)
                    return cmp(a, b)

                return _cmp
            if op in _ARITH and left is not None:
                fn = _ARITH[op]

                def _arith(row: Row) -> Any:
                    a, b = left(row), right(row)  # type: ignore[misc]
                    return None if a is None or b is None else fn(a, b)

                return _arith
        raise Unsupported(f"operator {op!r}")
    raise Unsupported(type(node).__name__)


def compile_check(sql: str) -> Predicate:
    """The row predicate of one CHECK's SQL text."""
    return compile_expr(parse_expr(sql))


def _conjuncts(node: ast.Node) -> list[ast.Node]:
    if isinstance(node, ast.BoolExpr) and node.boolop == enums.BoolExprType.AND_EXPR:
        return [c for a in node.args for c in _conjuncts(a)]
    return [node]


def rules_of(sql: str) -> dict[str, Rule]:
    """The per-column rules in the top-level conjuncts of one CHECK."""
    out: dict[str, Rule] = {}
    for node in _conjuncts(parse_expr(sql)):
        if not isinstance(node, ast.A_Expr) or not isinstance(node.lexpr, ast.ColumnRef):
            continue
        col = _colname(node.lexpr)
        rule = out.setdefault(col, Rule())
        op = node.name[-1].sval if node.name else ""
        if node.kind == enums.A_Expr_Kind.AEXPR_IN and op == "=":
            if all(isinstance(v, ast.A_Const) for v in node.rexpr):
                rule.choices = tuple(_const(v) for v in node.rexpr)
        elif node.kind == enums.A_Expr_Kind.AEXPR_BETWEEN:
            lo, hi = node.rexpr
            if isinstance(lo, ast.A_Const) and isinstance(hi, ast.A_Const):
                rule.lo, rule.hi = _const(lo), _const(hi)
        elif node.kind == enums.A_Expr_Kind.AEXPR_OP:
            r = node.rexpr
            if isinstance(r, ast.A_Const):
                v = _const(r)
                if op in (">", ">="):
                    rule.lo, rule.lo_strict = v, op == ">"
                elif op in ("<", "<="):
                    rule.hi, rule.hi_strict = v, op == "<"
                elif op in ("<>", "!="):
                    rule.exclude.add(v)
            elif (
                op == "="
                and isinstance(r, ast.FuncCall)
                and r.funcname[-1].sval in ("lower", "upper")
                and r.args
                and isinstance(r.args[0], ast.ColumnRef)
                and _colname(r.args[0]) == col
            ):
                rule.case = r.funcname[-1].sval
    return out


@dataclass
class Comparison:
    """``left op right`` between two columns (or a column and a constant)."""

    left: str
    op: str
    right: str | None
    const: Any = None


def comparisons(sql: str) -> list[Comparison]:
    """Every column-vs-column/constant comparison in a CHECK, for repairs."""
    out: list[Comparison] = []

    def walk(node: Any) -> None:
        if isinstance(node, ast.BoolExpr):
            for a in node.args:
                walk(a)
        elif (
            isinstance(node, ast.A_Expr)
            and node.kind == enums.A_Expr_Kind.AEXPR_OP
            and isinstance(node.lexpr, ast.ColumnRef)
        ):
            op = node.name[-1].sval
            if op not in _CMP:
                return
            if isinstance(node.rexpr, ast.ColumnRef):
                out.append(Comparison(_colname(node.lexpr), op, _colname(node.rexpr)))
            elif isinstance(node.rexpr, ast.A_Const):
                out.append(Comparison(_colname(node.lexpr), op, None, _const(node.rexpr)))

    walk(parse_expr(sql))
    return out


def _step(v: Any) -> Any:
    """The smallest sensible increment of a value's type."""
    if isinstance(v, dt.datetime):
        return dt.timedelta(hours=1)
    if isinstance(v, dt.date):
        return dt.timedelta(days=1)
    if isinstance(v, Decimal):
        return Decimal("0.01")
    return 1


def satisfy(cmp: Comparison, row: Row, frozen: set[str]) -> bool:
    """Change one side of ``cmp`` so it holds; False if neither side may change."""
    left = row.get(cmp.left)
    right = row.get(cmp.right) if cmp.right else cmp.const
    if left is None or right is None:
        return False
    op = cmp.op
    step = _step(right)
    if isinstance(left, dt.datetime) and isinstance(right, dt.datetime):
        step = dt.timedelta(hours=1)
    want: dict[str, Any] = {
        ">": right + step,
        ">=": right,
        "<": right - step,
        "<=": right,
        "=": right,
    }
    if cmp.left not in frozen and op in want:
        row[cmp.left] = type(left)(want[op]) if isinstance(left, int | Decimal) else want[op]
        return True
    if cmp.right and cmp.right not in frozen:
        inverse = {">": left - step, ">=": left, "<": left + step, "<=": left, "=": left}
        if op in inverse:
            row[cmp.right] = inverse[op]
            return True
    return False
