"""KeyConditionExpression (and legacy KeyConditions): checked as DynamoDB checks them,
split into the partition key value and the sort key condition, and turned into a
B-tree range over sortable key bytes."""

from __future__ import annotations

from typing import Any, Protocol

from emulation.dynamodb import values as V
from emulation.dynamodb.errors import invalid_params, validation
from emulation.dynamodb.expr_parser import Node


class KeyTarget(Protocol):
    """The table or index a Query reads: its key names and types."""

    hash: str
    range: str | None
    hash_type: str
    range_type: str | None


def split(tgt: KeyTarget, node: Node | None) -> tuple[dict[str, Any], Node | None]:
    """Split a KeyConditionExpression into the hash value and the range condition."""
    if node is None:
        raise validation("Either the KeyConditions or KeyConditionExpression parameter must be "
                         "specified in the request.")  # fmt: skip
    _check_key_operators(node)
    raw_parts = _conjuncts(node)
    parts = [_flip(p) for p in raw_parts]
    n_keys = 2 if tgt.range else 1
    if len(parts) > n_keys:
        raise validation(
            f"The number of query conditions ({len(parts)}) exceeds the number of key attributes "
            f"defined in the schema ({n_keys})"
        )
    hash_value = None
    range_cond = None
    seen: set[str] = set()
    for raw, p in zip(raw_parts, parts, strict=True):
        attr = _key_attr(p)
        if attr is None:
            raise validation("Invalid KeyConditionExpression: Query key condition not supported")
        if attr in seen:
            raise validation("Invalid KeyConditionExpression: KeyConditionExpressions must only "
                             "contain one condition per key")  # fmt: skip
        seen.add(attr)
        _check_key_operand_types(raw)
        if attr == tgt.hash:
            if p[0] != "cmp" or p[1] != "=":
                raise validation("Query key condition not supported")
            hash_value = p[3][1]
        elif attr == tgt.range:
            range_cond = p
        else:
            missing_key = tgt.range if tgt.range and tgt.range not in seen else tgt.hash
            raise validation(f"Query condition missed key schema element: {missing_key}")
    if hash_value is None:
        raise validation(f"Query condition missed key schema element: {tgt.hash}")
    if tgt.hash_type not in hash_value:
        raise invalid_params("Condition parameter type does not match schema type")
    if range_cond is not None:
        operands = range_cond[2:] if range_cond[0] != "fn" else range_cond[2][1:]
        for operand in operands:
            if operand[0] == "value" and tgt.range_type not in operand[1]:
                raise invalid_params("Condition parameter type does not match schema type")
        if range_cond[0] == "fn" and tgt.range_type == "N":
            raise validation(
                "Invalid KeyConditionExpression: Incorrect operand type for operator "
                "or function; operator or function: begins_with, operand type: N"
            )
    return hash_value, range_cond


def _check_key_operand_types(p: Node) -> None:
    """Operands no key type could match fail as expression errors (before the schema
    check): a non-string in begins_with, a non-key type in an ordering comparison."""
    allowed: tuple[str, ...]
    if p[0] == "fn":
        op, operands, allowed = "begins_with", p[2][1:], ("S", "B")
    elif p[0] == "between":
        op, operands, allowed = "BETWEEN", p[2:], ("S", "N", "B")
    elif p[0] == "cmp" and p[1] != "=":
        op, operands, allowed = p[1], p[2:], ("S", "N", "B")
    else:
        return
    for operand in operands:
        if operand[0] == "value" and V.type_of(operand[1]) not in allowed:
            raise validation(
                "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
                f"operator or function: {op}, operand type: {V.type_of(operand[1])}"
            )


def _check_key_operators(node: Node) -> None:
    tag = node[0]
    bad = None
    if tag in ("or", "not", "in"):
        bad = tag.upper()
    elif tag == "cmp" and node[1] == "<>":
        bad = "<>"
    elif tag == "fn" and node[1] != "begins_with":
        bad = node[1]
    elif tag == "size":
        bad = "size"
    if bad is not None:
        raise validation(f"Invalid operator used in KeyConditionExpression: {bad}")
    if tag == "and":
        _check_key_operators(node[1])
        _check_key_operators(node[2])


_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _flip(node: Node) -> Node:
    """``:v < k`` is ``k > :v``."""
    if node[0] == "cmp" and node[2][0] == "value" and node[3][0] == "path":
        return ("cmp", _FLIPPED[node[1]], node[3], node[2])
    return node


def _conjuncts(node: Node) -> list[Node]:
    if node[0] == "and":
        return _conjuncts(node[1]) + _conjuncts(node[2])
    return [node]


def _key_attr(node: Node) -> str | None:
    """The key attribute a supported key condition constrains, else None."""
    if node[0] == "cmp" and node[1] != "<>":
        left, right = node[2], node[3]
        if left[0] == "path" and len(left[1]) == 1 and right[0] == "value":
            return str(left[1][0])
    if (
        node[0] == "between"
        and node[1][0] == "path"
        and len(node[1][1]) == 1
        and node[2][0] == "value"
        and node[3][0] == "value"
    ):
        return str(node[1][1][0])
    if node[0] == "fn" and node[1] == "begins_with":
        a, b = node[2]
        if a[0] == "path" and len(a[1]) == 1 and b[0] == "value":
            return str(a[1][0])
    return None


def range_sql(cond: Node | None, col: str) -> tuple[str, list[Any]]:
    if cond is None:
        return "", []
    if cond[0] == "cmp":
        v = V.key_bytes(cond[3][1])
        op = {"=": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[cond[1]]
        return f" AND {col} {op} ?", [v]
    if cond[0] == "between":
        lo, hi = V.key_bytes(cond[2][1]), V.key_bytes(cond[3][1])
        if lo > hi:
            raise validation(
                "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be "
                "greater than or equal to lower bound"
            )
        return f" AND {col} >= ? AND {col} <= ?", [lo, hi]
    prefix = V.key_bytes(cond[2][1][1])
    upper = _prefix_end(prefix)
    if upper is None:
        return f" AND {col} >= ?", [prefix]
    return f" AND {col} >= ? AND {col} < ?", [prefix, upper]


def _prefix_end(prefix: bytes) -> bytes | None:
    b = bytearray(prefix)
    while b and b[-1] == 0xFF:
        b.pop()
    if not b:
        return None
    b[-1] += 1
    return bytes(b)
