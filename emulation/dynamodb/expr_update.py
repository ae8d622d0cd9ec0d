"""Applying an UpdateExpression (or legacy AttributeUpdates) to an item.

The update works on a deep copy and returns it, so a failed update leaves nothing
half-applied; operand values are all computed from the item as it was before the
update, as DynamoDB does.
"""

from __future__ import annotations

import copy
import decimal
from typing import Any

from emulation.dynamodb import values as V
from emulation.dynamodb.errors import invalid_params, validation
from emulation.dynamodb.expr_eval import check_overlap, resolve
from emulation.dynamodb.expr_parser import Node, Path

_TYPE_WORD = {"S": "STRING", "N": "NUMBER", "B": "BINARY", "BOOL": "BOOLEAN", "NULL": "NULL",
              "M": "MAP", "L": "LIST", "SS": "SET", "NS": "SET", "BS": "SET"}  # fmt: skip
_MISSING_ATTR = "The provided expression refers to an attribute that does not exist in the item"
_BAD_TYPE = "An operand in the update expression has an incorrect data type"
_BAD_PATH = "The document path provided in the update expression is invalid for update"


def check_update(clauses: dict[str, list[Any]], keys: tuple[str, ...]) -> list[Path]:
    paths = [p for actions in clauses.values() for p, _ in actions]
    check_overlap(paths, "UpdateExpression")
    for p in paths:
        if p[0] in keys:
            raise invalid_params(
                f"Cannot update attribute {p[0]}. This attribute is part of the key"
            )
    for word in ("ADD", "DELETE"):
        for _, node in clauses.get(word, []):
            t = V.type_of(node[1])
            ok = ("N", "SS", "NS", "BS") if word == "ADD" else ("SS", "NS", "BS")
            if t not in ok:
                raise validation(
                    f"Invalid UpdateExpression: Incorrect operand type for operator or function; "
                    f"operator: {word}, operand type: {_TYPE_WORD[t]}"
                )
    for _, node in clauses.get("SET", []):
        _check_set_value(node)
    return paths


def _check_set_value(node: Node) -> None:
    if node[0] in ("+", "-"):
        for side in node[1:]:
            if side[0] == "value" and V.type_of(side[1]) != "N":
                raise validation(
                    "Invalid UpdateExpression: Incorrect operand type for operator or function; "
                    f"operator: {node[0]}, operand type: {_TYPE_WORD[V.type_of(side[1])]}"
                )
            _check_set_value(side)
    elif node[0] == "list_append":
        for side in node[1:]:
            if side[0] == "value" and V.type_of(side[1]) != "L":
                raise validation(
                    "Invalid UpdateExpression: Incorrect operand type for operator or function; "
                    f"operator or function: list_append, operand type: "
                    f"{_TYPE_WORD[V.type_of(side[1])]}"
                )
            _check_set_value(side)
    elif node[0] == "if_not_exists":
        _check_set_value(node[2])


def _value(old: dict[str, Any], node: Node) -> Any:
    tag = node[0]
    if tag == "value":
        return node[1]
    if tag == "path":
        v = resolve(old, node[1])
        if v is None:
            raise validation(_MISSING_ATTR)
        return v
    if tag == "if_not_exists":
        v = resolve(old, node[1])
        return v if v is not None else _value(old, node[2])
    if tag == "list_append":
        a, b = _value(old, node[1]), _value(old, node[2])
        if "L" not in a or "L" not in b:
            raise validation(_BAD_TYPE)
        return {"L": a["L"] + b["L"]}
    a, b = _value(old, node[1]), _value(old, node[2])
    if "N" not in a or "N" not in b:
        raise validation(_BAD_TYPE)
    x, y = decimal.Decimal(a["N"]), decimal.Decimal(b["N"])
    return {"N": V.format_number(V.check_arithmetic(x + y if tag == "+" else x - y))}


def apply_update(old: dict[str, Any], clauses: dict[str, list[Any]]) -> dict[str, Any]:
    new = copy.deepcopy(old)
    for path, node in clauses.get("SET", []):
        _assign(new, path, _value(old, node))
    removals = sorted(
        (p for p, _ in clauses.get("REMOVE", [])),
        key=lambda p: [(-x if isinstance(x, int) else 0) for x in p],
    )
    for path in removals:
        _remove(new, path)
    for path, node in clauses.get("ADD", []):
        cur = resolve(new, path)
        v = node[1]
        t = V.type_of(v)
        if cur is None:
            _assign(new, path, copy.deepcopy(v))
        elif t == "N" and "N" in cur:
            total = decimal.Decimal(cur["N"]) + decimal.Decimal(v["N"])
            _assign(new, path, {"N": V.format_number(V.check_arithmetic(total))})
        elif t in cur and t != "N":
            merged = list(cur[t]) + [x for x in v[t] if x not in cur[t]]
            _assign(new, path, {t: merged})
        else:
            raise validation(_BAD_TYPE)
    for path, node in clauses.get("DELETE", []):
        cur = resolve(new, path)
        v = node[1]
        t = V.type_of(v)
        if cur is None:
            continue
        if t not in cur:
            raise validation(_BAD_TYPE)
        if t == "NS":
            gone = {decimal.Decimal(x) for x in v[t]}
            left = [x for x in cur[t] if decimal.Decimal(x) not in gone]
        else:
            left = [x for x in cur[t] if x not in v[t]]
        if left:
            _assign(new, path, {t: left})
        else:
            _remove(new, path)
    return new


def _parent(item: dict[str, Any], path: Path) -> Any:
    if len(path) == 1:
        return None
    parent = resolve(item, path[:-1])
    if parent is None:
        raise validation(_BAD_PATH)
    return parent


def _assign(item: dict[str, Any], path: Path, v: Any) -> None:
    if len(path) == 1:
        item[path[0]] = v
        return
    parent = _parent(item, path)
    last = path[-1]
    if isinstance(last, int):
        if "L" not in parent:
            raise validation(_BAD_PATH)
        lst = parent["L"]
        if last < len(lst):
            lst[last] = v
        else:
            lst.append(v)
    else:
        if "M" not in parent:
            raise validation(_BAD_PATH)
        parent["M"][last] = v


def _remove(item: dict[str, Any], path: Path) -> None:
    if len(path) == 1:
        item.pop(path[0], None)
        return
    parent = resolve(item, path[:-1])
    last = path[-1]
    if parent is None:
        return
    if isinstance(last, int):
        if "L" in parent and last < len(parent["L"]):
            del parent["L"][last]
    elif "M" in parent:
        parent["M"].pop(last, None)
