"""Evaluating parsed expressions against items: conditions, updates, projections.

Items stay in DynamoDB's JSON form; an update works on a deep copy and returns it, so a
failed update leaves nothing half-applied. Operand values in an UpdateExpression are
all computed from the item as it was before the update, as DynamoDB does.
"""

from __future__ import annotations

import decimal
from typing import Any

from emulation.dynamodb import values as V
from emulation.dynamodb.errors import validation
from emulation.dynamodb.expr_parser import Node, Path

_VALID_TYPES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")
_TYPE_WORD = {"S": "STRING", "N": "NUMBER", "B": "BINARY", "BOOL": "BOOLEAN", "NULL": "NULL",
              "M": "MAP", "L": "LIST", "SS": "SET", "NS": "SET", "BS": "SET"}  # fmt: skip
_MISSING_ATTR = "The provided expression refers to an attribute that does not exist in the item"
_BAD_TYPE = "An operand in the update expression has an incorrect data type"
_BAD_PATH = "The document path provided in the update expression is invalid for update"


def show_path(path: Path) -> str:
    return "[" + ", ".join(f"[{p}]" if isinstance(p, int) else p for p in path) + "]"


def resolve(item: dict[str, Any], path: Path) -> Any:
    """The value at ``path`` or None."""
    cur: Any = item.get(path[0])
    for part in path[1:]:
        if cur is None:
            return None
        if isinstance(part, int):
            lst = cur.get("L")
            cur = lst[part] if lst is not None and part < len(lst) else None
        else:
            m = cur.get("M")
            cur = m.get(part) if m is not None else None
    return cur


def operand(item: dict[str, Any], node: Node) -> Any:
    kind = node[0]
    if kind == "path":
        return resolve(item, node[1])
    if kind == "value":
        return node[1]
    if kind == "size":
        v = operand(item, node[1])
        if v is None:
            return None
        t, raw = next(iter(v.items()))
        if t in ("S",):
            return {"N": str(len(raw))}
        if t == "B":
            return {"N": str(V.value_size(v))}
        if t in ("SS", "NS", "BS", "L", "M"):
            return {"N": str(len(raw))}
        return None
    raise AssertionError(node)


# --- conditions ---------------------------------------------------------------------------


def _distinct(first: Node, rest: list[Node], op: str, kind: str) -> None:
    if first[0] == "path" and any(r == first for r in rest):
        raise validation(
            f"Invalid {kind}: The first operand must be distinct from the remaining operands for "
            f"this operator or function; operator: {op}, first operand: {show_path(first[1])}"
        )


def check_condition(node: Node, kind: str) -> None:
    """Static checks DynamoDB makes before reading the item."""
    tag = node[0]
    if tag == "cmp":
        _distinct(node[2], [node[3]], node[1], kind)
    elif tag == "between":
        _distinct(node[1], [node[2], node[3]], "BETWEEN", kind)
    elif tag == "in":
        _distinct(node[1], node[2], "IN", kind)
    elif tag == "fn" and node[1] in ("begins_with", "contains"):
        _distinct(node[2][0], node[2][1:], node[1], kind)
    if tag in ("and", "or"):
        check_condition(node[1], kind)
        check_condition(node[2], kind)
    elif tag == "not":
        check_condition(node[1], kind)
    elif tag == "cmp" and node[1] not in ("=", "<>"):
        for side in node[2:]:
            _orderable(side, node[1], kind)
    elif tag == "between":
        for side in node[1:]:
            _orderable(side, "BETWEEN", kind)
        lo, hi = node[2], node[3]
        if lo[0] == "value" and hi[0] == "value":
            order = V.compare(lo[1], hi[1])
            if order is not None and order > 0:
                raise validation(
                    f"Invalid {kind}: The BETWEEN operator requires upper bound to be greater "
                    f"than or equal to lower bound; lower bound operand: AttributeValue: "
                    f"{_show(lo[1])}, upper bound operand: AttributeValue: {_show(hi[1])}"
                )
    elif tag == "fn":
        name, args = node[1], node[2]
        if name in ("attribute_exists", "attribute_not_exists", "attribute_type") and (
            args[0][0] != "path"
        ):
            raise validation(
                f"Invalid {kind}: Operator or function requires a document path; operator or "
                f"function: {name}"
            )
        if name == "attribute_type":
            t = args[1]
            if t[0] != "value" or "S" not in t[1]:
                got = next(iter(t[1])) if t[0] == "value" else t[0].upper()
                raise validation(
                    f"Invalid {kind}: Incorrect operand type for operator or function; operator "
                    f"or function: attribute_type, operand type: {got}"
                )
            if t[1]["S"] not in _VALID_TYPES:
                raise validation(
                    f"Invalid {kind}: Invalid attribute type name found; type: {t[1]['S']}, "
                    "valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
                )
        if name == "begins_with":
            for arg in args:
                if arg[0] == "value" and V.type_of(arg[1]) not in ("S", "B"):
                    raise validation(
                        f"Invalid {kind}: Incorrect operand type for operator or function; "
                        f"operator or function: begins_with, operand type: {V.type_of(arg[1])}"
                    )


def _orderable(side: Node, op: str, kind: str) -> None:
    if side[0] == "value" and V.type_of(side[1]) not in ("N", "S", "B"):
        raise validation(
            f"Invalid {kind}: Incorrect operand type for operator or function; operator or "
            f"function: {op}, operand type: {V.type_of(side[1])}"
        )


def _show(av: dict[str, Any]) -> str:
    t, raw = next(iter(av.items()))
    return "{" + f"{t}:{raw}" + "}"


def condition(item: dict[str, Any], node: Node) -> bool:
    tag = node[0]
    if tag == "and":
        return condition(item, node[1]) and condition(item, node[2])
    if tag == "or":
        return condition(item, node[1]) or condition(item, node[2])
    if tag == "not":
        return not condition(item, node[1])
    if tag == "cmp":
        a, b = operand(item, node[2]), operand(item, node[3])
        op = node[1]
        if op == "=":
            return a is not None and b is not None and V.equal(a, b)
        if op == "<>":
            return a is None or b is None or not V.equal(a, b)
        if a is None or b is None:
            return False
        order = V.compare(a, b)
        if order is None:
            return False
        return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[op]
    if tag == "between":
        a, lo, hi = (operand(item, n) for n in node[1:])
        if a is None or lo is None or hi is None:
            return False
        c1, c2 = V.compare(a, lo), V.compare(a, hi)
        return c1 is not None and c2 is not None and c1 >= 0 and c2 <= 0
    if tag == "in":
        a = operand(item, node[1])
        return a is not None and any(
            (b := operand(item, o)) is not None and V.equal(a, b) for o in node[2]
        )
    if tag == "fn":
        return _function(item, node[1], node[2])
    raise AssertionError(node)


def _function(item: dict[str, Any], name: str, args: list[Node]) -> bool:
    if name == "attribute_exists":
        return resolve(item, args[0][1]) is not None
    if name == "attribute_not_exists":
        return resolve(item, args[0][1]) is None
    v = operand(item, args[0])
    if v is None:
        return False
    if name == "attribute_type":
        return bool(V.type_of(v) == args[1][1]["S"])
    other = operand(item, args[1])
    if other is None:
        return False
    t, raw = next(iter(v.items()))
    ot, oraw = next(iter(other.items()))
    if name == "begins_with":
        if t != ot or t not in ("S", "B"):
            return False
        if t == "B":
            return bool(V.check_binary(raw).startswith(V.check_binary(oraw)))
        return bool(raw.startswith(oraw))
    # contains
    if t == "S":
        return ot == "S" and oraw in raw
    if t == "B":
        return ot == "B" and V.check_binary(oraw) in V.check_binary(raw)
    if t in ("SS", "NS", "BS"):
        if ot != t[0]:
            return False
        if t == "NS":
            return decimal.Decimal(oraw) in {decimal.Decimal(x) for x in raw}
        return oraw in raw
    if t == "L":
        return any(V.equal(x, other) for x in raw)
    return False


# --- projections --------------------------------------------------------------------------


def check_overlap(paths: list[Path], kind: str) -> None:
    seen: list[Path] = []
    for p in paths:
        for q in seen:
            n = min(len(p), len(q))
            if p[:n] == q[:n]:
                raise validation(
                    f"Invalid {kind}: Two document paths overlap with each other; must remove or "
                    f"rewrite one of these paths; path one: {show_path(q)}, path two: "
                    f"{show_path(p)}"
                )
            if (
                len(p) > 1
                and len(q) > 1
                and p[0] == q[0]
                and isinstance(p[1], int) != isinstance(q[1], int)
            ):
                raise validation(
                    f"Invalid {kind}: Two document paths conflict with each other; must remove "
                    f"or rewrite one of these paths; path one: {show_path(q)}, path two: "
                    f"{show_path(p)}"
                )
        seen.append(p)


def project(item: dict[str, Any], paths: list[Path]) -> dict[str, Any]:
    """The parts of ``item`` that ``paths`` name; lists keep the projected elements in order."""
    out: dict[str, Any] = {}
    nested = False
    for path in paths:
        v = resolve(item, path)
        if v is None:
            continue
        if len(path) == 1:
            out[path[0]] = v
            continue
        nested = True
        holder: Any = out
        key: Any = path[0]
        for part in path[1:]:
            kind = "L" if isinstance(part, int) else "M"
            if key not in holder:
                holder[key] = {kind: {}}
            holder = holder[key][kind]
            key = part
        holder[key] = v
    return finish_projection(out) if nested else out


def finish_projection(item: dict[str, Any]) -> dict[str, Any]:
    def fix(v: Any) -> Any:
        if isinstance(v, dict):
            if "L" in v and isinstance(v["L"], dict):
                return {"L": [fix(v["L"][i]) for i in sorted(v["L"])]}
            if "M" in v:
                return {"M": {k: fix(x) for k, x in v["M"].items()}}
        return v

    return {k: fix(v) for k, v in item.items()}
