"""Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem.

Each write reads the current item, checks the condition, writes the item with its index
rows and stream record in one transaction, and answers only after the commit.
"""

from __future__ import annotations

import json
import math
from typing import Any

from emulation.dynamodb import values as V
from emulation.dynamodb.engine import Engine
from emulation.dynamodb.errors import DynamoError, conditional_failed, constraint, missing
from emulation.dynamodb.expr_eval import condition, project
from emulation.dynamodb.expr_update import apply_update
from emulation.dynamodb.request_exprs import Parsed, parse
from emulation.dynamodb.storage import TableInfo

PUT_RETURN = ("NONE", "ALL_OLD")
UPDATE_RETURN = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")


def return_values(req: dict[str, Any], allowed: tuple[str, ...]) -> str:
    rv = req.get("ReturnValues") or "NONE"
    if rv not in UPDATE_RETURN:
        raise constraint(rv, "returnValues", "Member must satisfy enum value set: "
                         "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]")  # fmt: skip
    if rv not in allowed:
        raise DynamoError("ValidationException", "Return values set to invalid value")
    on_fail = req.get("ReturnValuesOnConditionCheckFailure") or "NONE"
    if on_fail not in ("NONE", "ALL_OLD"):
        raise constraint(on_fail, "returnValuesOnConditionCheckFailure",
                         "Member must satisfy enum value set: [ALL_OLD, NONE]")  # fmt: skip
    return str(rv)


def capacity_mode(req: dict[str, Any]) -> str:
    """``ReturnConsumedCapacity`` of a request (NONE, TOTAL or INDEXES), validated."""
    mode: str = req.get("ReturnConsumedCapacity") or "NONE"
    if mode not in ("NONE", "TOTAL", "INDEXES"):
        raise constraint(mode, "returnConsumedCapacity",
                         "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]")  # fmt: skip
    return mode


def capacity(
    req: dict[str, Any], t: TableInfo, units: float, indexes: dict[str, float] | None = None
) -> dict[str, Any]:
    """The ConsumedCapacity answer part, when the request asked for it."""
    mode = capacity_mode(req)
    if mode == "NONE":
        return {}
    total = units + sum((indexes or {}).values())
    out: dict[str, Any] = {"TableName": t.name, "CapacityUnits": total}
    if mode == "INDEXES":
        out["Table"] = {"CapacityUnits": units}
        if indexes:
            out["GlobalSecondaryIndexes"] = {k: {"CapacityUnits": v} for k, v in indexes.items()}
    return {"ConsumedCapacity": out}


def collection_metrics(req: dict[str, Any], t: TableInfo, item: dict[str, Any]) -> dict[str, Any]:
    """ItemCollectionMetrics for tables with an LSI, when asked (collections here stay far
    below DynamoDB's 10 GB, so the estimate range is always the lowest one)."""
    mode = req.get("ReturnItemCollectionMetrics") or "NONE"
    if mode not in ("NONE", "SIZE"):
        raise constraint(mode, "returnItemCollectionMetrics",
                         "Member must satisfy enum value set: [SIZE, NONE]")  # fmt: skip
    if mode == "NONE" or not any(ix.local for ix in t.indexes.values()):
        return {}
    return {"ItemCollectionMetrics": {"ItemCollectionKey": {t.hash: item[t.hash]},
                                      "SizeEstimateRangeGB": [0.0, 1.0]}}  # fmt: skip


def write_units(size: int) -> float:
    return float(max(1, math.ceil(size / 1024)))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units if consistent else units / 2)


def load(engine: Engine, t: TableInfo, loc: tuple[int, bytes, bytes]) -> dict[str, Any] | None:
    text = engine.store.get(t, loc)
    return json.loads(text) if text is not None else None


def _failed(req: dict[str, Any], old: dict[str, Any] | None) -> DynamoError:
    want = req.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    return conditional_failed(old if want and old is not None else None)


def put_item(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    t = engine.table(req.get("TableName"))
    if req.get("Item") is None:
        raise missing("item")
    item, size = V.check_item_sized(req["Item"])
    size = engine.check_item_keys(t, item, size)
    rv = return_values(req, PUT_RETURN)
    parsed = parse(req, condition=True)
    loc = t.locate(item)
    with engine.store.tx():
        row = engine.load(t, loc)
        old = row[0] if row else None
        if parsed.condition is not None and not condition(old or {}, parsed.condition):
            raise _failed(req, old)
        engine.change(t, loc, row, item, new_size=size)
    out: dict[str, Any] = {}
    if rv == "ALL_OLD" and old is not None:
        out["Attributes"] = old
    out.update(capacity(req, t, write_units(size)))
    out.update(collection_metrics(req, t, item))
    return out


def get_item(engine: Engine, req: dict[str, Any]) -> dict[str, Any] | bytes:
    t = engine.table(req.get("TableName"))
    key = engine.key_from_request(t, req.get("Key"))
    parsed = parse(req, projection=True)
    text = engine.store.get(t, t.locate(key))
    cap = capacity(req, t, read_units(len(text or ""), bool(req.get("ConsistentRead"))))
    if text is None:
        return cap
    if parsed.projection is None and not cap:
        return b'{"Item":' + text.encode() + b"}"  # the stored JSON as is: no re-encoding
    item = json.loads(text)
    if parsed.projection is not None:
        item = project(item, parsed.projection)
    return {"Item": item, **cap}


def delete_item(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    t = engine.table(req.get("TableName"))
    key = engine.key_from_request(t, req.get("Key"))
    rv = return_values(req, PUT_RETURN)
    parsed = parse(req, condition=True)
    loc = t.locate(key)
    with engine.store.tx():
        row = engine.load(t, loc)
        old = row[0] if row else None
        if parsed.condition is not None and not condition(old or {}, parsed.condition):
            raise _failed(req, old)
        if row is not None:
            engine.change(t, loc, row, None)
    out: dict[str, Any] = {}
    if rv == "ALL_OLD" and old is not None:
        out["Attributes"] = old
    out.update(capacity(req, t, write_units(row[1] if row else 0)))
    out.update(collection_metrics(req, t, key))
    return out


def updated_item(
    engine: Engine, t: TableInfo, key: dict[str, Any], old: dict[str, Any] | None,
    parsed: Parsed,
) -> tuple[dict[str, Any], int]:  # fmt: skip
    """The item after the update, and its size."""
    base = old if old is not None else dict(key)
    new = apply_update(base, parsed.update) if parsed.update else dict(base)
    return new, engine.check_item_keys(t, new)


def update_item(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    t = engine.table(req.get("TableName"))
    key = engine.key_from_request(t, req.get("Key"))
    rv = return_values(req, UPDATE_RETURN)
    parsed = parse(req, condition=True, update=True, key_names=t.key_names)
    loc = t.locate(key)
    with engine.store.tx():
        row = engine.load(t, loc)
        old = row[0] if row else None
        if parsed.condition is not None and not condition(old or {}, parsed.condition):
            raise _failed(req, old)
        new, size = updated_item(engine, t, key, old, parsed)
        engine.change(t, loc, row, new, new_size=size)
    out: dict[str, Any] = {}
    attrs: dict[str, Any] | None = None
    if rv == "ALL_OLD":
        attrs = old
    elif rv == "ALL_NEW":
        attrs = new
    elif rv in ("UPDATED_OLD", "UPDATED_NEW"):
        paths = [p for actions in (parsed.update or {}).values() for p, _ in actions]
        source = old if rv == "UPDATED_OLD" else new
        attrs = project(source or {}, paths) if source else None
    if attrs:
        out["Attributes"] = attrs
    out.update(capacity(req, t, write_units(size)))
    out.update(collection_metrics(req, t, key))
    return out
