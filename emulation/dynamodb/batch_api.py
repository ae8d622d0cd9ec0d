"""BatchGetItem, BatchWriteItem, TransactGetItems, TransactWriteItems.

A batch is validated whole before anything is written (DynamoDB rejects a batch with one
bad request without writing any of it); this engine then writes it in one transaction
and never returns UnprocessedItems/UnprocessedKeys (it is never throttled).
Transactions are atomic; a failed condition cancels all actions with one reason each.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from emulation.dynamodb import values as V
from emulation.dynamodb.engine import Engine
from emulation.dynamodb.errors import DynamoError, constraint, missing, validation
from emulation.dynamodb.expr_eval import condition, project
from emulation.dynamodb.items_api import (
    capacity_mode,
    collection_metrics,
    read_units,
    return_values,
    updated_item,
    write_units,
)
from emulation.dynamodb.request_exprs import parse
from emulation.dynamodb.storage import TableInfo

MAX_BATCH_WRITE = 25
MAX_BATCH_GET = 100
MAX_BATCH_GET_BYTES = 16 * 1024 * 1024
MAX_TRANSACT = 100
MAX_TRANSACT_BYTES = 4 * 1024 * 1024
TOKEN_TTL_S = 600
_DUPLICATES = "Provided list of item keys contains duplicates"


def _key_id(t: TableInfo, key: dict[str, Any]) -> tuple[str, int, bytes, bytes]:
    return (t.name, *t.locate(key))


def batch_get_item(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    items = req.get("RequestItems")
    if items is None:
        raise missing("requestItems")
    if not items:
        raise constraint("{}", "requestItems", "Member must have length greater than or equal to 1")
    total = sum(len(spec.get("Keys") or []) for spec in items.values())
    if total > MAX_BATCH_GET:
        raise validation("Too many items requested for the BatchGetItem call")
    plans = []
    for name, spec in items.items():
        t = engine.table(name, "requestItems.member.key")
        keys = spec.get("Keys")
        if not keys:
            raise constraint(
                "[]",
                "requestItems." + name + ".member.keys",
                "Member must have length greater than or equal to 1",
            )
        parsed = parse(spec, projection=True)
        seen = set()
        checked = []
        for k in keys:
            key = engine.key_from_request(t, k)
            loc = t.locate(key)
            if loc in seen:
                raise validation(_DUPLICATES)
            seen.add(loc)
            checked.append((key, loc))
        plans.append((t, checked, parsed.projection, spec))
    _consumed(req, {})  # the parameter is checked before anything is read
    out: dict[str, list[Any]] = {}
    unprocessed: dict[str, Any] = {}
    units: dict[str, float] = {}
    size = 0
    for t, keys, projection, spec in plans:
        found = out.setdefault(t.name, [])
        consistent = bool(spec.get("ConsistentRead"))
        stored = engine.store.get_many(t, [loc for _key, loc in keys])  # one statement
        for n, (_key, loc) in enumerate(keys):
            if size > MAX_BATCH_GET_BYTES:  # DynamoDB stops at 16 MB and hands back the rest
                rest = {k: v for k, v in spec.items() if k != "Keys"}
                left = unprocessed.setdefault(t.name, {**rest, "Keys": []})
                left["Keys"] += [key for key, _loc in keys[n:]]
                break
            row = stored.get(loc)
            units[t.name] = units.get(t.name, 0.0) + read_units(row[1] if row else 0, consistent)
            if row is not None:
                size += row[1]
                item = json.loads(row[0])
                found.append(project(item, projection) if projection is not None else item)
    return {"Responses": out, "UnprocessedKeys": unprocessed, **_consumed(req, units)}


def batch_write_item(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    items = req.get("RequestItems")
    if items is None:
        raise missing("requestItems")
    if not isinstance(items, dict) or not items:
        raise validation("The requestItems parameter is required for BatchWriteItem")
    for name, requests in items.items():
        if not requests:
            raise validation(
                f"1 validation error detected: Value '{{{name}=[]}}' at 'requestItems' failed to "
                "satisfy constraint: Map value must satisfy constraint: [Member must have length "
                "less than or equal to 25, Member must have length greater than or equal to 1]"
            )
        if len(requests) > MAX_BATCH_WRITE:
            raise validation(
                f"1 validation error detected: Value at 'RequestItems.{name}.member' failed to "
                f"satisfy constraint: Member must have length less than or equal to 25"
            )
    if sum(len(v) for v in items.values()) > MAX_BATCH_WRITE:
        raise validation("Too many items requested for the BatchWriteItem call")
    plan: list[tuple[TableInfo, Any, tuple[int, bytes, bytes], dict[str, Any] | None, int]] = []
    seen: set[Any] = set()
    for name, requests in items.items():
        t = engine.table(name, "requestItems.member.key")
        for r in requests:
            if not isinstance(r, dict) or len(r) != 1:
                raise validation("Supplied AttributeValue has more than one datatypes set, must "
                                 "contain exactly one of the supported datatypes")  # fmt: skip
            if "PutRequest" in r:
                raw = (r["PutRequest"] or {}).get("Item")
                if raw is None:
                    raise missing("requestItems." + name + ".member.putRequest.item")
                item, size = V.check_item_sized(raw)
                for k, kind in ((t.hash, t.hash_type), (t.range, t.range_type)):
                    if k is not None and (k not in item or kind not in item[k]):
                        # a batch words a missing or mistyped key as GetItem does
                        raise validation("The provided key element does not match the schema")
                size = engine.check_item_keys(t, item, size)
                key, new = t.key_of(item), item
            elif "DeleteRequest" in r:
                key = engine.key_from_request(t, (r["DeleteRequest"] or {}).get("Key"))
                new, size = None, 0
            else:
                raise validation("Unknown write request type; expected PutRequest or "
                                 "DeleteRequest")  # fmt: skip
            loc = t.locate(key)
            ident = (t.name, *loc)
            if ident in seen:
                raise validation(_DUPLICATES)
            seen.add(ident)
            plan.append((t, key, loc, new, size))
    _consumed(req, {})
    units: dict[str, float] = {}
    with engine.store.tx():
        old = engine.load_many(plan)
        for t, _key, loc, new, size in plan:
            row = old.get((t.name, *loc))
            units[t.name] = units.get(t.name, 0.0) + write_units(max(size, row[1] if row else 0))
            if row is None and new is None:
                continue
            engine.change(t, loc, row, new, new_size=size)
    return {
        "UnprocessedItems": {},
        **_collections(req, [(t, k) for t, k, *_ in plan]),
        **_consumed(req, units),
    }


def _consumed(req: dict[str, Any], units: dict[str, float]) -> dict[str, Any]:
    """ConsumedCapacity of a batch or transaction: one entry per table, when asked."""
    mode = capacity_mode(req)
    if mode == "NONE":
        return {}
    out = []
    for name, cu in units.items():
        entry: dict[str, Any] = {"TableName": name, "CapacityUnits": cu}
        if mode == "INDEXES":
            entry["Table"] = {"CapacityUnits": cu}
        out.append(entry)
    return {"ConsumedCapacity": out}


def _collections(req: dict[str, Any], written: list[tuple[TableInfo, Any]]) -> dict[str, Any]:
    """ItemCollectionMetrics per table with an LSI, as the single-item writes give them."""
    out: dict[str, list[Any]] = {}
    for t, key in written:
        got = collection_metrics(req, t, key)
        if got:
            out.setdefault(t.name, []).append(got["ItemCollectionMetrics"])
    return {"ItemCollectionMetrics": out} if out else {}


# --- transactions -------------------------------------------------------------------------

_ACTIONS = ("ConditionCheck", "Put", "Delete", "Update")
_CANCELLING_KEY_ERRORS = (
    "One or more parameter values were invalid: Type mismatch for key",
    "One or more parameter values were invalid: Missing the key",
    "The provided key element does not match the schema",
)


def _prepare(engine: Engine, action: dict[str, Any]) -> dict[str, Any]:
    kinds = [k for k in _ACTIONS if k in action]
    if len(kinds) != 1:
        raise validation("TransactItems can only contain one of Check, Put, Update or Delete")
    kind = kinds[0]
    spec = action[kind]
    t = engine.table(spec.get("TableName"))
    plan: dict[str, Any] = {"kind": kind, "t": t, "spec": spec}
    try:
        if kind == "Put":
            if spec.get("Item") is None:
                raise missing("transactItems.member.put.item")
            item, size = V.check_item_sized(spec["Item"])
            plan["size"] = engine.check_item_keys(t, item, size)
            plan["item"], plan["key"] = item, t.key_of(item)
        else:
            plan["key"] = engine.key_from_request(t, spec.get("Key"))
    except DynamoError as err:
        # a key of the wrong type cancels the transaction with a ValidationError reason;
        # everything else (an empty key value, a bad expression) is refused up front
        if not err.message.startswith(_CANCELLING_KEY_ERRORS):
            raise
        plan["invalid"] = err.message
    if kind == "Put":
        plan["parsed"] = parse(spec, condition=True)
    else:
        if kind == "Update":
            if spec.get("UpdateExpression") is None:
                raise missing("transactItems.member.update.updateExpression")
            plan["parsed"] = parse(spec, condition=True, update=True, key_names=t.key_names)
        else:
            plan["parsed"] = parse(spec, condition=True)
        if kind == "ConditionCheck" and plan["parsed"].condition is None:
            raise missing("transactItems.member.conditionCheck.conditionExpression")
    on_fail = spec.get("ReturnValuesOnConditionCheckFailure") or "NONE"
    if on_fail not in ("NONE", "ALL_OLD"):
        raise constraint(on_fail, "transactItems.member.returnValuesOnConditionCheckFailure",
                         "Member must satisfy enum value set: [ALL_OLD, NONE]")  # fmt: skip
    plan["loc"] = t.locate(plan["key"]) if "invalid" not in plan else None
    return plan


def _token_answer(engine: Engine, token: Any, req: dict[str, Any]) -> tuple[str, Any]:
    if token is None:
        return "", None
    if not isinstance(token, str) or not 1 <= len(token) <= 36:
        raise constraint(token, "clientRequestToken",
                         "Member must have length less than or equal to 36")  # fmt: skip
    body = {k: v for k, v in req.items() if k != "ReturnConsumedCapacity"}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    db = engine.store.db
    db.execute("DELETE FROM tokens WHERE ts < ?", (time.time() - TOKEN_TTL_S,))
    row = db.execute("SELECT digest, answer FROM tokens WHERE token = ?", (token,)).fetchone()
    if row is None:
        return digest, None
    if row[0] != digest:
        raise DynamoError("IdempotentParameterMismatchException",
                          "The request uses the same client token as a previous, but "
                          "non-identical request. Do not reuse a client token with different "
                          "requests, unless the requests are identical.")  # fmt: skip
    return digest, json.loads(row[1])


def _check_count(actions: Any) -> None:
    if not isinstance(actions, list):
        raise missing("transactItems")
    if not actions:
        raise constraint(
            "[]", "transactItems", "Member must have length greater than or equal to 1"
        )
    if len(actions) > MAX_TRANSACT:
        raise constraint(
            f"[{len(actions)} items]",
            "transactItems",
            f"Member must have length less than or equal to {MAX_TRANSACT}",
        )


def transact_write_items(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    actions = req.get("TransactItems")
    if actions is None:
        raise missing("transactItems")
    _check_count(actions)
    if len(json.dumps(actions)) > MAX_TRANSACT_BYTES:
        raise validation("Transaction request size exceeds the maximum allowed size of 4 MB")
    plans = [_prepare(engine, a) for a in actions]
    seen = set()
    for p in plans:
        if p["loc"] is None:
            continue
        ident = (p["t"].name, *p["loc"])
        if ident in seen:
            raise validation("Transaction request cannot include multiple operations on one item")
        seen.add(ident)
    with engine.store.tx():
        digest, answer = _token_answer(engine, req.get("ClientRequestToken"), req)
        if answer is not None:
            return dict(answer)
        reasons: list[dict[str, Any]] = []
        writes = []
        failed = False
        for p in plans:
            t, loc = p["t"], p["loc"]
            if loc is None:
                reasons.append({"Code": "ValidationError", "Message": p["invalid"]})
                failed = True
                continue
            row = engine.load(t, loc)
            old = row[0] if row else None
            cond = p["parsed"].condition
            if cond is not None and not condition(old or {}, cond):
                reason: dict[str, Any] = {
                    "Code": "ConditionalCheckFailed",
                    "Message": "The conditional request failed",
                }
                if p["spec"].get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old:
                    reason["Item"] = old
                reasons.append(reason)
                failed = True
                continue
            try:
                if p["kind"] == "Put":
                    writes.append((t, loc, row, p["item"], p["size"]))
                elif p["kind"] == "Delete":
                    writes.append((t, loc, row, None, 0))
                elif p["kind"] == "Update":
                    new, size = updated_item(engine, t, p["key"], old, p["parsed"])
                    writes.append((t, loc, row, new, size))
            except DynamoError as err:
                reasons.append({"Code": "ValidationError", "Message": err.message})
                failed = True
                continue
            reasons.append({"Code": "None"})
        if failed:
            codes = ", ".join(r["Code"] for r in reasons)
            raise DynamoError(
                "TransactionCanceledException",
                f"Transaction cancelled, please refer cancellation reasons for specific reasons "
                f"[{codes}]",
                extra={"CancellationReasons": reasons},
            )
        units: dict[str, float] = {}
        for t, loc, row, new, size in writes:
            # a transactional write costs two write units per KB (Developer Guide)
            cost = 2 * write_units(max(size, row[1] if row else 0))
            units[t.name] = units.get(t.name, 0.0) + cost
            if row is None and new is None:
                continue
            engine.change(t, loc, row, new, new_size=size)
        out: dict[str, Any] = _collections(
            req, [(p["t"], p["key"]) for p in plans if p["kind"] != "ConditionCheck"]
        )
        out.update(_consumed(req, units))
        if digest:
            engine.store.db.execute("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?, ?)",
                                    (req["ClientRequestToken"], digest, time.time(),
                                     json.dumps(out)))  # fmt: skip
    return out


def transact_get_items(engine: Engine, req: dict[str, Any]) -> dict[str, Any]:
    actions = req.get("TransactItems")
    if actions is None:
        raise missing("transactItems")
    _check_count(actions)
    plans = []
    seen = set()
    for a in actions:
        spec = a.get("Get")
        if spec is None:
            raise missing("transactItems.member.get")
        t = engine.table(spec.get("TableName"))
        key = engine.key_from_request(t, spec.get("Key"))
        ident = _key_id(t, key)
        if ident in seen:
            raise validation("Transaction request cannot include multiple operations on one item")
        seen.add(ident)
        plans.append((t, key, parse(spec, projection=True).projection))
    _consumed(req, {})
    responses: list[dict[str, Any]] = []
    units: dict[str, float] = {}
    for t, key, projection in plans:
        row = engine.load(t, t.locate(key))
        # a transactional read costs two strongly consistent read units per 4 KB
        units[t.name] = units.get(t.name, 0.0) + 2 * read_units(row[1] if row else 0, True)
        if row is None:
            responses.append({})
        else:
            item = row[0]
            responses.append({"Item": project(item, projection) if projection else item})
    return {"Responses": responses, **_consumed(req, units)}


__all__ = ["batch_get_item", "batch_write_item", "return_values", "transact_get_items",
           "transact_write_items"]  # fmt: skip
