"""Query and Scan: key ranges read from SQLite B-trees, pages cut as DynamoDB cuts them.

A page ends when ``Limit`` items have been evaluated or when the items read reach 1 MB
(before the filter, as DynamoDB counts), and then carries ``LastEvaluatedKey``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from emulation.dynamodb import key_conditions
from emulation.dynamodb import values as V
from emulation.dynamodb.engine import Engine, check_key_values
from emulation.dynamodb.errors import DynamoError, constraint, invalid_params, validation
from emulation.dynamodb.expr_eval import condition, project
from emulation.dynamodb.expr_parser import Node, Path
from emulation.dynamodb.items_api import capacity, read_units
from emulation.dynamodb.request_exprs import parse
from emulation.dynamodb.storage import IndexInfo, TableInfo, partition_hash

PAGE_BYTES = 1024 * 1024
SELECTS = ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT")
_BAD_START = (
    "The provided starting key is invalid: The provided key element does not match the schema"
)


class _Target:
    """The table or index a read goes through."""

    def __init__(self, t: TableInfo, ix: IndexInfo | None) -> None:
        self.t, self.ix = t, ix
        self.hash = ix.hash if ix else t.hash
        self.range = ix.range if ix else t.range
        self.hash_type = ix.hash_type if ix else t.hash_type
        self.range_type = ix.range_type if ix else t.range_type
        names = list(t.key_names)
        if ix:
            names += [n for n in (ix.hash, ix.range) if n and n not in names]
        self.key_names = tuple(names)

    def visible(self, item: dict[str, Any]) -> dict[str, Any]:
        """The item as the index holds it (its projection applied)."""
        ix = self.ix
        if ix is None or ix.projection == "ALL":
            return item
        keep = set(self.key_names) | set(ix.non_key)
        return {k: v for k, v in item.items() if k in keep}


def _target(engine: Engine, req: dict[str, Any]) -> _Target:
    t = engine.table(req.get("TableName"))
    name = req.get("IndexName")
    if name is None:
        return _Target(t, None)
    ix = t.indexes.get(name)
    if ix is None:
        raise validation(f"The table does not have the specified index: {name}")
    if req.get("ConsistentRead") and not ix.local:
        raise validation("Consistent reads are not supported on global secondary indexes")
    return _Target(t, ix)


def _select(req: dict[str, Any], tgt: _Target, projection: list[Path] | None) -> str:
    select = req.get("Select")
    if select is not None and select not in SELECTS:
        raise constraint(
            select,
            "select",
            "Member must satisfy enum value set: [SPECIFIC_"
            "ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]",
        )
    if projection is not None:
        if select not in (None, "SPECIFIC_ATTRIBUTES"):
            which = "ProjectionExpression" if req.get("ProjectionExpression") else "AttributesToGet"
            raise validation(f"Cannot specify the {which} when choosing to get {select}")
        return "SPECIFIC_ATTRIBUTES"
    if select == "SPECIFIC_ATTRIBUTES":
        raise validation(
            "1 validation error detected: Select type SPECIFIC_ATTRIBUTES requires "
            "ProjectionExpression or AttributesToGet"
        )
    if select == "ALL_PROJECTED_ATTRIBUTES" and tgt.ix is None:
        raise validation(
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
        )
    if select == "ALL_ATTRIBUTES" and tgt.ix and not tgt.ix.local and tgt.ix.projection != "ALL":
        raise invalid_params(
            f"Select type ALL_ATTRIBUTES is not supported for global secondary index "
            f"{tgt.ix.name} because its projection type is not ALL"
        )
    return select or ("ALL_PROJECTED_ATTRIBUTES" if tgt.ix else "ALL_ATTRIBUTES")


def _limit(req: dict[str, Any]) -> int | None:
    limit = req.get("Limit")
    if limit is None:
        return None
    if not isinstance(limit, int) or limit < 1:
        raise constraint(limit, "limit", "Member must have value greater than or equal to 1")
    return limit


def _start_key(tgt: _Target, req: dict[str, Any]) -> dict[str, Any] | None:
    esk = req.get("ExclusiveStartKey")
    if esk is None:
        return None
    if not isinstance(esk, dict) or set(esk) != set(tgt.key_names):
        raise validation(_BAD_START)
    try:
        checked = V.check_item(esk, "ExclusiveStartKey")
        check_key_values(tgt.t, checked)
    except DynamoError:
        raise validation(_BAD_START) from None
    for name, kind in ((tgt.hash, tgt.hash_type), (tgt.range, tgt.range_type)):
        if name is not None and kind not in checked[name]:
            raise validation(_BAD_START)
    return checked


def _position(tgt: _Target, esk: dict[str, Any]) -> tuple[Any, ...]:
    t = tgt.t
    thk = V.key_bytes(esk[t.hash])
    trk = V.key_bytes(esk[t.range]) if t.range else b""
    if tgt.ix is None:
        return (partition_hash(thk), thk, trk)
    hk = V.key_bytes(esk[tgt.hash])
    rk = V.key_bytes(esk[tgt.range]) if tgt.range else b""
    return (partition_hash(hk), hk, rk, thk, trk)


# --- reading ------------------------------------------------------------------------------


def _rows(
    engine: Engine, tgt: _Target, where: str, args: list[Any], order: str
) -> Iterator[tuple[str, int]]:
    """(item JSON, item size) in the read's order, fetched as the page consumes them."""
    t = tgt.t
    if tgt.ix is None:
        sql = f"SELECT item, size FROM items WHERE tid = ?{where} ORDER BY {order}"
        yield from engine.store.db.execute(sql, [t.tid, *args])
        return
    sql = (
        "SELECT it.item, it.size FROM idx i JOIN items it ON it.tid = ? AND it.ph = i.tph AND "
        f"it.hk = i.thk AND it.rk = i.trk WHERE i.iid = ?{where} ORDER BY {order}"
    )
    yield from engine.store.db.execute(sql, [t.tid, tgt.ix.iid, *args])


def _page(
    engine: Engine, req: dict[str, Any], tgt: _Target, rows: Iterator[tuple[str, int]],
    select: str, projection: list[Path] | None, filt: Node | None,
) -> dict[str, Any] | bytes:  # fmt: skip
    limit = _limit(req)
    cap_mode = req.get("ReturnConsumedCapacity") or "NONE"
    whole = (
        select != "COUNT"
        and projection is None
        and filt is None
        and (tgt.ix is None or tgt.ix.projection == "ALL")
    )
    if whole and cap_mode == "NONE":
        return _whole_items(tgt, rows, limit)
    items: list[dict[str, Any]] = []
    scanned = 0
    size = 0
    last: dict[str, Any] | None = None
    more = False
    for text, item_size in rows:
        if (limit is not None and scanned >= limit) or size >= PAGE_BYTES:
            more = True
            break
        item = json.loads(text)
        scanned += 1
        size += item_size
        last = item
        visible = tgt.visible(item)
        if filt is not None and not condition(visible, filt):
            continue
        if select == "COUNT":
            items.append({})
        elif projection is not None:
            src = item if tgt.ix is None or tgt.ix.local else visible
            items.append(project(src, projection))
        elif select == "ALL_ATTRIBUTES":
            items.append(item)
        else:
            items.append(visible)
    else:
        more = limit is not None and scanned >= limit and scanned > 0
    out: dict[str, Any] = {"Count": len(items), "ScannedCount": scanned}
    if select != "COUNT":
        out["Items"] = items
    if more and last is not None:
        out["LastEvaluatedKey"] = {k: last[k] for k in tgt.key_names}
    units = read_units(size, bool(req.get("ConsistentRead")))
    out.update(capacity(req, tgt.t, units))
    return out


def _whole_items(tgt: _Target, rows: Iterator[tuple[str, int]], limit: int | None) -> bytes:
    """The common page: whole items, no filter: the stored JSON goes out as it is."""
    texts: list[str] = []
    size = 0
    more = False
    for text, item_size in rows:
        if (limit is not None and len(texts) >= limit) or size >= PAGE_BYTES:
            more = True
            break
        texts.append(text)
        size += item_size
    else:
        more = limit is not None and len(texts) >= limit and len(texts) > 0
    n = len(texts)
    parts = ['{"Items":[', ",".join(texts), f'],"Count":{n},"ScannedCount":{n}']
    if more and texts:
        last = json.loads(texts[-1])
        lek = {k: last[k] for k in tgt.key_names}
        parts += [',"LastEvaluatedKey":', V.compact_json(lek)]
    parts.append("}")
    return "".join(parts).encode()


def query(engine: Engine, req: dict[str, Any]) -> dict[str, Any] | bytes:
    tgt = _target(engine, req)
    parsed = parse(req, projection=True, key_condition=True, filter_=True)
    hash_value, range_cond = key_conditions.split(tgt, parsed.key_condition)
    if parsed.filter is not None:
        for name in _filter_keys(parsed.filter, tgt):
            raise validation(
                "Filter Expression can only contain non-primary key attributes: Primary key "
                f"attribute: {name}"
            )
    select = _select(req, tgt, parsed.projection)
    forward = req.get("ScanIndexForward", True)
    hk = V.key_bytes(hash_value)
    rcol = "rk" if tgt.ix is None else "i.rk"
    prefix = "" if tgt.ix is None else "i."
    where = f" AND {prefix}ph = ? AND {prefix}hk = ?"
    args: list[Any] = [partition_hash(hk), hk]
    rsql, rargs = key_conditions.range_sql(range_cond, rcol)
    where += rsql
    args += rargs
    esk = _start_key(tgt, req)
    if esk is not None:
        if not V.equal(esk[tgt.hash], hash_value):
            raise validation("The provided starting key is outside query boundaries based on "
                             "provided conditions")  # fmt: skip
        pos = _position(tgt, esk)
        cmp = ">" if forward else "<"
        if tgt.ix is None:
            where += f" AND rk {cmp} ?"
            args.append(pos[2])
        else:
            where += f" AND (i.rk, i.thk, i.trk) {cmp} (?, ?, ?)"
            args += list(pos[2:])
    direction = "" if forward else " DESC"
    order = (f"rk{direction}" if tgt.ix is None else
             f"i.rk{direction}, i.thk{direction}, i.trk{direction}")  # fmt: skip
    rows = _rows(engine, tgt, where, args, order)
    return _page(engine, req, tgt, rows, select, parsed.projection, parsed.filter)


def _filter_keys(node: Node, tgt: _Target) -> list[str]:
    keys = {tgt.hash, tgt.range} - {None}
    found: list[str] = []

    def walk(n: Any) -> None:
        if isinstance(n, tuple):
            if n and n[0] == "path" and n[1][0] in keys:
                found.append(n[1][0])
            for x in n[1:]:
                walk(x)
        elif isinstance(n, list):
            for x in n:
                walk(x)

    walk(node)
    return found


def scan(engine: Engine, req: dict[str, Any]) -> dict[str, Any] | bytes:
    tgt = _target(engine, req)
    parsed = parse(req, projection=True, filter_=True)
    select = _select(req, tgt, parsed.projection)
    segment, total = req.get("Segment"), req.get("TotalSegments")
    where, args = "", []
    prefix = "" if tgt.ix is None else "i."
    if segment is not None or total is not None:
        if total is None:
            raise validation("The TotalSegments parameter is required but was not present in the "
                             "request when Segment parameter is present")  # fmt: skip
        if segment is None:
            raise validation("The Segment parameter is required but was not present in the "
                             "request when parameter TotalSegments is present")  # fmt: skip
        if not isinstance(total, int) or total < 1 or total > 1000000:
            raise constraint(total, "totalSegments", "Member must have value less than or equal "
                             "to 1000000" if isinstance(total, int) and total > 1 else
                             "Member must have value greater than or equal to 1")  # fmt: skip
        if not isinstance(segment, int) or segment < 0:
            raise constraint(segment, "segment", "Member must have value greater than or equal "
                             "to 0")  # fmt: skip
        if segment >= total:
            raise validation(f"The Segment parameter is zero-based and must be less than parameter "
                             f"TotalSegments: Segment: {segment} is not less than TotalSegments: "
                             f"{total}")  # fmt: skip
        lo = (segment << 32) // total
        hi = ((segment + 1) << 32) // total
        where += f" AND {prefix}ph >= ? AND {prefix}ph < ?"
        args += [lo, hi]
    esk = _start_key(tgt, req)
    if esk is not None:
        pos = _position(tgt, esk)
        if tgt.ix is None:
            where += " AND (ph, hk, rk) > (?, ?, ?)"
        else:
            where += " AND (i.ph, i.hk, i.rk, i.thk, i.trk) > (?, ?, ?, ?, ?)"
        args += list(pos)
    order = "ph, hk, rk" if tgt.ix is None else "i.ph, i.hk, i.rk, i.thk, i.trk"
    rows = _rows(engine, tgt, where, args, order)
    return _page(engine, req, tgt, rows, select, parsed.projection, parsed.filter)
