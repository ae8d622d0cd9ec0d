"""The legacy (pre-expression) parameters old SDKs still send, turned into expressions.

Expected, QueryFilter, ScanFilter and KeyConditions become condition trees,
AttributeUpdates an update, AttributesToGet a projection; the evaluator then treats them
like their expression counterparts. Mixing the two styles in one request is refused with
DynamoDB's message.
"""

from __future__ import annotations

from typing import Any

from emulation.dynamodb import values as V
from emulation.dynamodb.errors import validation
from emulation.dynamodb.expr_parser import Node

_ARITY = {"EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "NOT_NULL": 0, "NULL": 0,
          "CONTAINS": 1, "NOT_CONTAINS": 1, "BEGINS_WITH": 1, "BETWEEN": 2}  # fmt: skip
_CMP = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}


def check_mixing(req: dict[str, Any], legacy: tuple[str, ...], modern: tuple[str, ...]) -> None:
    old = [p for p in legacy if req.get(p) is not None]
    new = [p for p in modern if req.get(p) is not None]
    if old and new:
        raise validation(
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {" + ", ".join(old) + "} Expression parameters: {"
            + ", ".join(new) + "}"
        )  # fmt: skip


def _condition(name: str, spec: dict[str, Any], where: str) -> Node:
    path = ("path", (name,))
    op = spec.get("ComparisonOperator")
    values = [V.check_value(v) for v in spec.get("AttributeValueList") or []]
    if op == "IN":
        if not values:
            raise validation("One or more parameter values were invalid: Invalid number of "
                             "argument(s) for the IN ComparisonOperator")  # fmt: skip
        return ("in", path, [("value", v, None) for v in values])
    if op not in _ARITY:
        raise validation(f"1 validation error detected: Value '{op}' at "
                         f"'{where}.comparisonOperator' failed to satisfy constraint: Member "
                         "must satisfy enum value set: "
                         "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, "
                         "BEGINS_WITH, GE, CONTAINS]")  # fmt: skip
    if len(values) != _ARITY[op]:
        raise validation(f"One or more parameter values were invalid: Invalid number of "
                         f"argument(s) for the {op} ComparisonOperator")  # fmt: skip
    vals = [("value", v, None) for v in values]
    if op in _CMP:
        return ("cmp", _CMP[op], path, vals[0])
    if op == "BETWEEN":
        return ("between", path, vals[0], vals[1])
    if op == "NOT_NULL":
        return ("fn", "attribute_exists", [path])
    if op == "NULL":
        return ("fn", "attribute_not_exists", [path])
    if op == "BEGINS_WITH":
        return ("fn", "begins_with", [path, vals[0]])
    node = ("fn", "contains", [path, vals[0]])
    return node if op == "CONTAINS" else ("not", node)


def conditions(specs: Any, operator: Any, where: str) -> Node | None:
    """QueryFilter / ScanFilter / KeyConditions (ComparisonOperator form)."""
    if not specs:
        return None
    nodes = [_condition(name, spec, where) for name, spec in specs.items()]
    return _join(nodes, operator)


def expected(specs: Any, operator: Any) -> Node | None:
    """The Expected map: Value/Exists, or ComparisonOperator/AttributeValueList."""
    if not specs:
        return None
    nodes: list[Node] = []
    for name, spec in specs.items():
        if "ComparisonOperator" in spec:
            nodes.append(_condition(name, spec, "expected"))
            continue
        exists = spec.get("Exists", True)
        if "Value" in spec:
            if not exists:
                raise validation(
                    "One or more parameter values were invalid: Value cannot be used when "
                    f"Exists is false for Attribute: {name}"
                )
            nodes.append(("cmp", "=", ("path", (name,)), ("value", V.check_value(spec["Value"]),
                                                          None)))  # fmt: skip
        elif exists:
            raise validation(
                "One or more parameter values were invalid: Exists is set to TRUE for attribute "
                f"({name}), Value must also be set"
            )
        else:
            nodes.append(("fn", "attribute_not_exists", [("path", (name,))]))
    return _join(nodes, operator)


def _join(nodes: list[Node], operator: Any) -> Node:
    if operator not in (None, "AND", "OR"):
        raise validation(f"1 validation error detected: Value '{operator}' at "
                         "'conditionalOperator' failed to satisfy constraint: Member must "
                         "satisfy enum value set: [AND, OR]")  # fmt: skip
    if len(nodes) == 1 and operator is not None:
        pass
    out = nodes[0]
    for n in nodes[1:]:
        out = ("or" if operator == "OR" else "and", out, n)
    return out


def attribute_updates(specs: Any) -> dict[str, list[Any]]:
    clauses: dict[str, list[Any]] = {}
    for name, spec in (specs or {}).items():
        action = spec.get("Action", "PUT")
        value = V.check_value(spec["Value"]) if "Value" in spec else None
        if action == "PUT":
            if value is None:
                raise validation(
                    "One or more parameter values were invalid: Only DELETE action "
                    f"is allowed when no attribute value is specified: {name}"
                )
            clauses.setdefault("SET", []).append(((name,), ("value", value, None)))
        elif action == "DELETE":
            if value is None:
                clauses.setdefault("REMOVE", []).append(((name,), None))
            else:
                clauses.setdefault("DELETE", []).append(((name,), ("value", value, None)))
        elif action == "ADD":
            if value is None:
                raise validation(
                    "One or more parameter values were invalid: Only DELETE action "
                    f"is allowed when no attribute value is specified: {name}"
                )
            clauses.setdefault("ADD", []).append(((name,), ("value", value, None)))
        else:
            raise validation(f"1 validation error detected: Value '{action}' at "
                             "'attributeUpdates.action' failed to satisfy constraint: Member must"
                             " satisfy enum value set: [ADD, PUT, DELETE]")  # fmt: skip
    return clauses
