"""DynamoDB access patterns: get, query (table or index) and batch-get, as declared.

The key condition is the declaration's, in DynamoDB's own syntax; attribute names go
through ``#n`` placeholders (reserved words), values are typed from the table's
attribute definitions (or the item templates' field types for filters). Pages are
DynamoDB's own: ``LastEvaluatedKey`` becomes the opaque cursor.
"""

from __future__ import annotations

import decimal
import re
from typing import Any

from polystore.topology import key_conditions as kc
from polystore.topology.model import AccessPattern, DynamoStore
from services import cursor as cursors
from services.errors import BadParameter, NotFound
from services.patterns import Context, Page, redact

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
_NUMERIC_FIELDS = ("integer", "number", "epoch-seconds")


def _type_of(store: DynamoStore, attribute: str) -> str:
    if attribute in store.attributes:
        return store.attributes[attribute]
    for item in store.items.values():
        if item.fields.get(attribute) in _NUMERIC_FIELDS:
            return "N"
    return "S"


def to_attr(kind: str, name: str, value: str) -> dict[str, str]:
    if kind == "N":
        try:
            decimal.Decimal(value)
        except decimal.InvalidOperation:
            raise BadParameter(f"{name}: {value!r} is not a number", name) from None
        return {"N": value}
    if kind == "B":
        return {"B": value}
    if value == "":
        raise BadParameter(f"{name}: must not be empty", name)
    return {"S": value}


def from_attr(value: dict[str, Any]) -> Any:
    (kind, v), = value.items()
    if kind == "S" or kind == "B":
        return v
    if kind == "N":
        d = decimal.Decimal(v)
        return int(d) if d == d.to_integral_value() else float(d)
    if kind == "BOOL":
        return v
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attr(x) for k, x in v.items()}
    if kind == "L":
        return [from_attr(x) for x in v]
    if kind in ("SS", "BS"):
        return sorted(v)
    if kind == "NS":
        return sorted(from_attr({"N": x}) for x in v)
    return v


def plain(item: dict[str, Any]) -> dict[str, Any]:
    return redact({k: from_attr(v) for k, v in item.items()})


def _expression(ap: AccessPattern, store: DynamoStore, params: dict[str, str]
                ) -> tuple[str, str | None, dict[str, str], dict[str, Any]]:  # fmt: skip
    """KeyConditionExpression, FilterExpression, names and values for the request."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}

    def name_of(attr: str) -> str:
        key = f"#n{len(names)}"
        for k, v in names.items():
            if v == attr:
                return k
        names[key] = attr
        return key

    def value_of(token: str, attr: str) -> str:
        key = f":v{len(values)}"
        if token.startswith(":"):
            values[key] = to_attr(_type_of(store, attr), token[1:], params[token[1:]])
        else:
            values[key] = to_attr(_type_of(store, attr), attr, token.strip("'"))
        return key

    parts = []
    for term in kc.parse(ap.key_condition or ""):
        n = name_of(term.attribute)
        if term.op == "begins_with":
            parts.append(f"begins_with({n}, {value_of(term.values[0], term.attribute)})")
        elif term.op == "between":
            lo, hi = (value_of(v, term.attribute) for v in term.values)
            parts.append(f"{n} BETWEEN {lo} AND {hi}")
        else:
            parts.append(f"{n} {term.op} {value_of(term.values[0], term.attribute)}")
    flt = None
    if ap.filter:
        # The filter is DynamoDB syntax already: its #names and :placeholders are mapped.
        def sub_name(m: re.Match[str]) -> str:
            return name_of(m.group(1))

        flt = re.sub(r"#([A-Za-z_][A-Za-z0-9_]*)", sub_name, ap.filter)
        for ph in re.findall(r":([A-Za-z_][A-Za-z0-9_]*)", ap.filter):
            attr = _filter_attribute(ap.filter, ph)
            key = f":f_{ph}"
            values[key] = to_attr(_type_of(store, attr), ph, params[ph])
            flt = re.sub(rf":{ph}\b", key, flt)
        for bare in re.findall(r"(?<![#:\w])([A-Za-z_][A-Za-z0-9_]*)\s*(?:=|<>|<|>)", flt):
            flt = re.sub(rf"(?<![#:\w]){bare}(?=\s*(?:=|<>|<|>))", name_of(bare), flt)
    return " AND ".join(parts), flt, names, values


def _filter_attribute(filter_text: str, placeholder: str) -> str:
    m = re.search(rf"#?([A-Za-z_][A-Za-z0-9_]*)\s*(?:=|<>|<=|>=|<|>)\s*:{placeholder}\b",
                  filter_text)  # fmt: skip
    return m.group(1) if m else placeholder


def run(ctx: Context, name: str, params: dict[str, str], cursor: str | None,
        limit: int | None) -> Page:  # fmt: skip
    system = ctx.config.system
    ap = system.access_patterns[name]
    store = system.stores[ap.store]
    assert isinstance(store, DynamoStore)
    table = ctx.config.physical(ap.store)
    client = ctx.clients.dynamo()
    key_expr, flt, names, values = _expression(ap, store, params)
    if ap.operation == "get":
        key = {names[k.split()[0]]: values[k.split()[-1]] for k in key_expr.split(" AND ")}
        got = client.get_item(TableName=table, Key=key)
        if "Item" not in got:
            raise NotFound(f"no item for {', '.join(f'{k}={v}' for k, v in params.items())}")
        return Page([plain(got["Item"])])
    size = min(limit or ap.limit or DEFAULT_LIMIT, ap.limit or MAX_LIMIT, MAX_LIMIT)
    req: dict[str, Any] = {"TableName": table, "KeyConditionExpression": key_expr,
                           "ExpressionAttributeNames": names,
                           "ExpressionAttributeValues": values, "Limit": size,
                           "ScanIndexForward": ap.order != "desc"}  # fmt: skip
    if ap.index:
        req["IndexName"] = ap.index
    if flt:
        req["FilterExpression"] = flt
    start = cursors.decode(name, cursor)
    if start is not None:
        req["ExclusiveStartKey"] = start
    got = client.query(**req)
    last = got.get("LastEvaluatedKey")
    return Page([plain(i) for i in got.get("Items", [])],
                cursors.encode(name, last) if last else None)


def batch_get(ctx: Context, store_name: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items for ``keys`` (typed), in the order asked, retrying unprocessed keys."""
    client = ctx.clients.dynamo()
    table = ctx.config.physical(store_name)
    store = ctx.config.system.stores[store_name]
    assert isinstance(store, DynamoStore)
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    key_attrs = [a for a in (store.key.hash, store.key.range) if a]
    for i in range(0, len(keys), 100):
        pending: dict[str, Any] = {table: {"Keys": keys[i:i + 100]}}
        for _ in range(8):
            got = client.batch_get_item(RequestItems=pending)
            for item in got["Responses"].get(table, []):
                found[tuple(str(item[a]) for a in key_attrs)] = item
            pending = got.get("UnprocessedKeys") or {}
            if not pending:
                break
    out = []
    for k in keys:
        item = found.get(tuple(str(k[a]) for a in key_attrs))
        if item is not None:
            out.append(plain(item))
    return out
