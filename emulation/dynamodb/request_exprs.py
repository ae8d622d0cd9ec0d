"""The expressions of one request, parsed and checked together.

DynamoDB checks a request's expressions as a whole: every ``#name``/``:value`` must be
defined and every defined one used by some expression of the request; legacy and
expression parameters must not be mixed. :func:`parse` does that once per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulation.dynamodb import legacy
from emulation.dynamodb.engine import check_all_used, placeholders
from emulation.dynamodb.errors import validation
from emulation.dynamodb.expr_eval import check_condition, check_overlap
from emulation.dynamodb.expr_parser import (
    Node,
    Path,
    parse_condition,
    parse_projection,
    parse_update,
)
from emulation.dynamodb.expr_update import check_update


@dataclass
class Parsed:
    condition: Node | None = None
    update: dict[str, list[Any]] | None = None
    projection: list[Path] | None = None
    key_condition: Node | None = None
    filter: Node | None = None


def parse(
    req: dict[str, Any],
    *,
    condition: bool = False,
    update: bool = False,
    projection: bool = False,
    key_condition: bool = False,
    filter_: bool = False,
    key_names: tuple[str, ...] = (),
) -> Parsed:
    legacy_names: list[str] = []
    modern_names: list[str] = []
    if condition:
        legacy_names += ["Expected"]
        modern_names += ["ConditionExpression"]
    if update:
        legacy_names += ["AttributeUpdates"]
        modern_names += ["UpdateExpression"]
    if projection:
        legacy_names += ["AttributesToGet"]
        modern_names += ["ProjectionExpression"]
    if key_condition:
        legacy_names += ["KeyConditions"]
        modern_names += ["KeyConditionExpression"]
    if filter_:
        legacy_names += ["QueryFilter" if key_condition else "ScanFilter"]
        modern_names += ["FilterExpression"]
    legacy.check_mixing(req, tuple(legacy_names), tuple(modern_names))
    has_expr = any(req.get(n) is not None for n in modern_names)
    ph = placeholders(req, has_expr)
    out = Parsed()
    op = req.get("ConditionalOperator")
    if op is not None and has_expr:
        raise validation(
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {ConditionalOperator} Expression parameters: {"
            + ", ".join(n for n in modern_names if req.get(n) is not None) + "}"
        )  # fmt: skip
    if condition:
        if req.get("ConditionExpression") is not None:
            out.condition = parse_condition(req["ConditionExpression"], "ConditionExpression", ph)
            check_condition(out.condition, "ConditionExpression")
        else:
            out.condition = legacy.expected(req.get("Expected"), op)
    if update:
        if req.get("UpdateExpression") is not None:
            out.update = parse_update(req["UpdateExpression"], ph)
        elif req.get("AttributeUpdates") is not None:
            out.update = legacy.attribute_updates(req["AttributeUpdates"])
        if out.update is not None:
            check_update(out.update, key_names)
    if projection:
        if req.get("ProjectionExpression") is not None:
            out.projection = parse_projection(req["ProjectionExpression"], ph)
            check_overlap(out.projection, "ProjectionExpression")
        elif req.get("AttributesToGet") is not None:
            names = req["AttributesToGet"]
            if not names:
                raise validation(
                    "1 validation error detected: Value '[]' at 'attributesToGet' failed to "
                    "satisfy constraint: Member must have length greater than or equal to 1"
                )
            if len(set(names)) != len(names):
                raise validation(
                    "One or more parameter values were invalid: Duplicate value in attribute "
                    "name: " + next(n for n in names if names.count(n) > 1)
                )
            out.projection = [(n,) for n in names]
    if key_condition:
        if req.get("KeyConditionExpression") is not None:
            out.key_condition = parse_condition(
                req["KeyConditionExpression"], "KeyConditionExpression", ph
            )
        else:
            out.key_condition = legacy.conditions(req.get("KeyConditions"), None, "keyConditions")
    if filter_:
        if req.get("FilterExpression") is not None:
            out.filter = parse_condition(req["FilterExpression"], "FilterExpression", ph)
            check_condition(out.filter, "FilterExpression")
        else:
            name = "QueryFilter" if key_condition else "ScanFilter"
            out.filter = legacy.conditions(req.get(name), op, name[0].lower() + name[1:])
    check_all_used(ph)
    return out
