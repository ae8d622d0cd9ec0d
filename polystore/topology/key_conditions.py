"""Parse the key conditions access patterns declare, to prove a key or index serves them.

DynamoDB: ``PK = :pk AND begins_with(SK, 'TRANS#')`` (the KeyConditionExpression syntax).
PostgreSQL: ``user_id = :user_id AND status = :status`` (equalities, then one range).
Both are a conjunction of terms; each term names one attribute and an operator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'[^']*')
      | (?P<param>:[A-Za-z_][A-Za-z0-9_]*)
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|<>|=|<|>|\(|\)|,)
      | (?P<word>[A-Za-z_#][A-Za-z0-9_.#]*)
    )""",
    re.VERBOSE,
)

RANGE_OPS = ("<", "<=", ">", ">=", "between", "begins_with")


@dataclass(frozen=True)
class Term:
    attribute: str
    op: str  # '=', '<', '<=', '>', '>=', 'between', 'begins_with'
    values: tuple[str, ...]


class ConditionSyntaxError(ValueError):
    pass


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ConditionSyntaxError(f"cannot read key condition at {text[pos:]!r}")
        out.append(m.group(m.lastgroup or "word"))
        pos = m.end()
    return out


def parse(text: str) -> list[Term]:
    """Parse a conjunction of key-condition terms; raise ConditionSyntaxError if malformed."""
    toks = _tokens(text)
    terms: list[Term] = []
    i = 0

    def need(tok: str) -> None:
        nonlocal i
        if i >= len(toks) or toks[i].lower() != tok:
            got = toks[i] if i < len(toks) else "end of condition"
            raise ConditionSyntaxError(f"expected {tok!r} in key condition, got {got!r}")
        i += 1

    def value() -> str:
        nonlocal i
        if i >= len(toks) or toks[i] in ("(", ")", ",", "=", "<", ">", "<=", ">="):
            raise ConditionSyntaxError("expected a :placeholder or literal in key condition")
        i += 1
        return toks[i - 1]

    while i < len(toks):
        if toks[i].lower() == "begins_with":
            i += 1
            need("(")
            attr = value()
            need(",")
            prefix = value()
            need(")")
            terms.append(Term(attr, "begins_with", (prefix,)))
        else:
            attr = value()
            if i >= len(toks):
                raise ConditionSyntaxError(f"term on {attr!r} has no operator")
            op = toks[i].lower()
            i += 1
            if op == "between":
                low = value()
                need("and")
                terms.append(Term(attr, "between", (low, value())))
            elif op in ("=", "<", "<=", ">", ">="):
                terms.append(Term(attr, op, (value(),)))
            elif op == "is":
                # "col IS NULL" / "IS NOT NULL" — only meaningful against a partial index
                if i < len(toks) and toks[i].lower() == "not":
                    i += 1
                terms.append(Term(attr, "is", (value(),)))
            else:
                raise ConditionSyntaxError(f"unsupported operator {op!r} in key condition")
        if i < len(toks):
            need("and")
    if not terms:
        raise ConditionSyntaxError("key condition is empty")
    return terms


def dynamodb_served(terms: list[Term], hash_key: str, range_key: str | None) -> str | None:
    """None if (hash, range) serves ``terms`` as a Query; else why it does not."""
    eq = [t for t in terms if t.op == "="]
    if not any(t.attribute == hash_key for t in eq):
        return f"needs an equality on the partition key {hash_key!r}"
    for t in terms:
        if t.attribute == hash_key:
            if t.op != "=":
                return f"partition key {hash_key!r} only takes '='"
            continue
        if t.attribute != range_key:
            allowed = f"the sort key {range_key!r}" if range_key else "no sort key"
            return (
                f"attribute {t.attribute!r} is not a key here ({allowed}); use a filter or an index"
            )
    if len(terms) > 2:
        return "a key condition has at most two terms (partition key, then sort key)"
    return None


def columns_served(
    terms: list[Term], columns: tuple[str, ...], predicate: str | None
) -> str | None:
    """None if a B-tree index on ``columns`` serves ``terms``; else why it does not.

    Equalities must cover a leading prefix of the index columns; at most one range term
    may follow on the next column. Columns the partial-index predicate fixes are free.
    """
    free = set(re.findall(r"[a-z_][a-z0-9_]*", predicate or ""))
    eq = {t.attribute for t in terms if t.op in ("=", "is")} - free
    ranges = [t.attribute for t in terms if t.op in RANGE_OPS and t.attribute not in free]
    prefix = columns[: len(eq)]
    if set(prefix) != eq:
        return (
            f"equality columns {sorted(eq)} are not a leading prefix of the index {list(columns)}"
        )
    if len(ranges) > 1:
        return f"more than one range column {ranges}"
    if ranges and (len(columns) <= len(eq) or columns[len(eq)] != ranges[0]):
        return f"range column {ranges[0]!r} does not follow the equality columns in the index"
    return None
