"""inventory (seed 003): receive, allocate, release and ship stock; every change an event.

PostgreSQL holds the current state and is the judge of the invariants (stock is never
oversold: an allocation is one conditional UPDATE; the CHECK constraints stay the last
line). Each change also appends an event to the DynamoDB event store, under the row
lock and before the PostgreSQL commit: its sequence is the row's new ``version``, so
the stream of an item has no gap, and the put is conditional, so it has no duplicate.
If the append fails, the PostgreSQL transaction rolls back: no state without its event.
``GET /inventory/{id}/replay`` folds the events back into a state and reports any
difference from PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from psycopg.rows import dict_row
from pydantic import Field

from polystore.topology.model import DynamoStore
from services import items
from services.errors import Conflict, NotFound
from services.flows.common import Body, now_iso
from services.patterns import Context
from services.patterns.dynamodb import plain
from services.patterns.postgres import row_json

# How each event type moves (on hand, allocated): the replay's fold and the writes agree.
EFFECT = {"receipt": (1, 0), "allocation": (0, 1), "release": (0, -1), "shipment": (-1, -1)}


class Warehouse(Body):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    country_code: str = Field(min_length=2, max_length=2)


class Receipt(Body):
    sku: str = Field(min_length=1, max_length=64)
    warehouse_id: str
    quantity: int = Field(gt=0, le=1_000_000)
    reference_id: str | None = Field(None, max_length=64)


class Allocation(Body):
    sku: str = Field(min_length=1, max_length=64)
    warehouse_id: str
    order_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=1_000_000)


class Inventory:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        own = ctx.config.system.stores_of(ctx.config.service)
        self.events_name = next(n for n, s in own.items() if s.kind == "dynamodb")
        store = own[self.events_name]
        assert isinstance(store, DynamoStore)
        self.events = store
        self.table = ctx.config.physical(self.events_name)

    def _append(self, entity: str, sequence: int, kind: str, payload: dict[str, Any]) -> None:
        db = self.ctx.clients.dynamo()
        item = items.item(self.events, "event", entity_id=entity, sequence=sequence,
                          event_type=kind, occurred_at=now_iso())  # fmt: skip
        item["payload"] = {"M": {k: ({"N": str(v)} if isinstance(v, int) else {"S": str(v)})
                                 for k, v in payload.items() if v is not None}}  # fmt: skip
        try:
            db.put_item(TableName=self.table, Item=item,
                        ConditionExpression="attribute_not_exists(entity_id)")  # fmt: skip
        except db.exceptions.ConditionalCheckFailedException:
            raise Conflict(f"event {sequence} of {entity} already exists") from None

    def _change(self, cur: Any, inventory_id: str, kind: str, quantity: int,
                reference: tuple[str, str] | None) -> dict[str, Any]:  # fmt: skip
        """Apply one change to a locked row; append its event; return the row after it."""
        on_hand, allocated = (d * quantity for d in EFFECT[kind])
        row = cur.execute(
            "UPDATE inventory SET quantity_on_hand = quantity_on_hand + %s, "
            "quantity_allocated = quantity_allocated + %s, version = version + 1, "
            "updated_at = now() WHERE id = %s AND quantity_on_hand + %s >= "
            "quantity_allocated + %s AND quantity_allocated + %s >= 0 RETURNING *",
            (on_hand, allocated, inventory_id, on_hand, allocated, allocated)).fetchone()
        if row is None:
            raise Conflict(f"not enough stock for {kind} of {quantity}", "quantity")
        signed = quantity if kind in ("receipt",) else -quantity
        cur.execute(
            "INSERT INTO stock_transactions (inventory_id, transaction_type, quantity, "
            "quantity_after, reference_type, reference_id) VALUES (%s, %s, %s, %s, %s, %s)",
            (inventory_id, kind, signed, row["quantity_on_hand"],
             reference[0] if reference else None, reference[1] if reference else None))
        self._append(f"inventory-{inventory_id}", row["version"], kind, {
            "quantity": quantity, "on_hand": row["quantity_on_hand"],
            "allocated": row["quantity_allocated"],
            "reference": f"{reference[0]}:{reference[1]}" if reference else None})
        return row_json(row)

    def warehouse(self, w: Warehouse) -> dict[str, Any]:
        with self.ctx.clients.pg().connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                "INSERT INTO warehouses (code, name, country_code) VALUES (%s, %s, %s) "
                "ON CONFLICT (code) DO NOTHING RETURNING *",
                (w.code, w.name, w.country_code.upper())).fetchone()
            if row is None:
                raise Conflict(f"warehouse {w.code!r} exists", "code")
            return row_json(row)

    def receive(self, r: Receipt) -> dict[str, Any]:
        with self.ctx.clients.pg().connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=dict_row) as cur:  # fmt: skip
            row = cur.execute(
                "INSERT INTO inventory (sku, warehouse_id, version) VALUES (%s, %s, 0) "
                "ON CONFLICT (sku, warehouse_id) DO UPDATE SET sku = EXCLUDED.sku RETURNING id",
                (r.sku, _uuid(r.warehouse_id, "warehouse_id"))).fetchone()
            return self._change(cur, str(row["id"]), "receipt", r.quantity,
                                ("purchase_order", r.reference_id) if r.reference_id else None)

    def allocate(self, a: Allocation) -> dict[str, Any]:
        with self.ctx.clients.pg().connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=dict_row) as cur:  # fmt: skip
            inv = cur.execute("SELECT id FROM inventory WHERE sku = %s AND warehouse_id = %s "
                              "FOR UPDATE", (a.sku, _uuid(a.warehouse_id, "warehouse_id"))
                              ).fetchone()  # fmt: skip
            if inv is None:
                raise NotFound(f"no stock of {a.sku} in warehouse {a.warehouse_id}")
            existing = cur.execute("SELECT * FROM allocations WHERE order_id = %s AND "
                                   "inventory_id = %s", (a.order_id, inv["id"])).fetchone()
            if existing is not None:  # the same order again: the first answer
                return {"allocation": row_json(existing), "replayed": True}
            after = self._change(cur, str(inv["id"]), "allocation", a.quantity,
                                 ("order", a.order_id))  # fmt: skip
            alloc = cur.execute(
                "INSERT INTO allocations (inventory_id, order_id, quantity) VALUES (%s, %s, %s) "
                "RETURNING *", (inv["id"], a.order_id, a.quantity)).fetchone()
            return {"allocation": row_json(alloc), "inventory": after, "replayed": False}

    def settle(self, allocation_id: str, kind: str) -> dict[str, Any]:
        """Release or ship a pending allocation (once: a second call is a 409)."""
        status = {"release": "released", "shipment": "fulfilled"}[kind]
        with self.ctx.clients.pg().connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=dict_row) as cur:  # fmt: skip
            alloc = cur.execute("SELECT * FROM allocations WHERE id = %s FOR UPDATE",
                                (_uuid(allocation_id, "allocation_id"),)).fetchone()
            if alloc is None:
                raise NotFound(f"no allocation {allocation_id}")
            if alloc["status"] not in ("pending", "confirmed"):
                raise Conflict(f"allocation is {alloc['status']}, not pending", "status")
            cur.execute("SELECT 1 FROM inventory WHERE id = %s FOR UPDATE",
                        (alloc["inventory_id"],))  # fmt: skip
            after = self._change(cur, str(alloc["inventory_id"]), kind, alloc["quantity"],
                                 ("allocation", str(alloc["id"])))  # fmt: skip
            done = cur.execute("UPDATE allocations SET status = %s, updated_at = now() "
                               "WHERE id = %s RETURNING *", (status, alloc["id"])).fetchone()
            return {"allocation": row_json(done), "inventory": after}

    def replay(self, inventory_id: str) -> dict[str, Any]:
        with self.ctx.clients.pg().connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute("SELECT * FROM inventory WHERE id = %s",
                              (_uuid(inventory_id, "id"),)).fetchone()  # fmt: skip
        if row is None:
            raise NotFound(f"no inventory item {inventory_id}")
        db = self.ctx.clients.dynamo()
        events: list[dict[str, Any]] = []
        req: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True,
                               "KeyConditionExpression": "entity_id = :e",
                               "ExpressionAttributeValues": {
                                   ":e": {"S": f"inventory-{inventory_id}"}}}  # fmt: skip
        while True:
            page = db.query(**req)
            events += [plain(i) for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            req["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        on_hand = allocated = 0
        gaps = [e["sequence"] for i, e in enumerate(events, 1) if e["sequence"] != i]
        for e in events:
            d_on, d_alloc = EFFECT[e["event_type"]]
            on_hand += d_on * e["payload"]["quantity"]
            allocated += d_alloc * e["payload"]["quantity"]
        replayed = {"quantity_on_hand": on_hand, "quantity_allocated": allocated,
                    "version": len(events)}  # fmt: skip
        differences = {k: {"events": v, "postgres": row[k]} for k, v in replayed.items()
                       if row[k] != v}  # fmt: skip
        return {"inventory_id": inventory_id, "events": len(events), "replayed": replayed,
                "differences": differences, "sequence_gaps": gaps[:10]}  # fmt: skip


def _uuid(value: str, field: str) -> str:
    import uuid

    from services.errors import BadParameter

    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise BadParameter(f"{field}: {value!r} is not a UUID", field) from None


def register(app: FastAPI, ctx: Context, publisher: Any) -> None:
    inv = Inventory(ctx)

    @app.post("/warehouses", status_code=201, tags=["warehouses"])
    async def create_warehouse(body: Warehouse) -> dict[str, Any]:
        return await run_in_threadpool(inv.warehouse, body)

    @app.post("/inventory/receipts", status_code=201, tags=["stock"])
    async def receive(body: Receipt) -> dict[str, Any]:
        """Stock arrives: on hand grows; a ``receipt`` event is appended."""
        return await run_in_threadpool(inv.receive, body)

    @app.post("/inventory/allocations", status_code=201, tags=["stock"])
    async def allocate(body: Allocation) -> dict[str, Any]:
        """Reserve stock for an order: 409 when not enough is available (never oversold)."""
        return await run_in_threadpool(inv.allocate, body)

    @app.post("/allocations/{allocation_id}/release", tags=["stock"])
    async def release(allocation_id: str) -> dict[str, Any]:
        return await run_in_threadpool(inv.settle, allocation_id, "release")

    @app.post("/allocations/{allocation_id}/ship", tags=["stock"])
    async def ship(allocation_id: str) -> dict[str, Any]:
        return await run_in_threadpool(inv.settle, allocation_id, "shipment")

    @app.get("/inventory/{inventory_id}/replay", tags=["stock"])
    async def replay(inventory_id: str) -> dict[str, Any]:
        """Rebuild the item's state from its events; list any difference from PostgreSQL."""
        return await run_in_threadpool(inv.replay, inventory_id)
