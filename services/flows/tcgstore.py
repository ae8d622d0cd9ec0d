"""tcgstore (seed 000): the card catalog, inventory movements, orders.

Cards live in DynamoDB (the source of truth); the search index is fed from the Cards
stream by the stream-to-search link, never written here. Inventory is PostgreSQL with
strong consistency: a movement and the level it changes commit together, and the
level's CHECK constraints make "never negative" hold under any concurrency. An order
writes its items and line items, then publishes ``order.placed`` for inventory and
payment (declared consumers of the event link), which apply it in
:mod:`services.flows.tcgstore_events`.
"""

from __future__ import annotations

import decimal
import uuid
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from psycopg.rows import dict_row
from pydantic import Field, field_validator

from polystore.topology.model import DynamoStore
from services import items
from services.errors import NotFound
from services.flows.common import Body, money, now_iso
from services.patterns import Context
from services.patterns.dynamodb import plain
from services.patterns.postgres import row_json


class Card(Body):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    set: str = Field(min_length=1, max_length=100)
    rarity: str = Field(min_length=1, max_length=50)
    type: str = Field("", max_length=50)
    number: int = Field(ge=0, le=100_000)
    price: str
    foil: bool = False
    released_at: str | None = None

    @field_validator("price")
    @classmethod
    def _price(cls, v: str) -> str:
        return str(money(v, "price").quantize(decimal.Decimal("0.01")))


class Movement(Body):
    location: str = Field(min_length=1, max_length=64)
    quantity_delta: int = Field(ge=-1_000_000, le=1_000_000)
    movement_type: Literal["receipt", "sale", "return", "adjustment", "transfer_in",
                           "transfer_out", "damaged"]  # fmt: skip
    reason: str | None = Field(None, max_length=500)
    reference_id: str | None = Field(None, max_length=64)


class Line(Body):
    card_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=1000)
    unit_price: str

    @field_validator("unit_price")
    @classmethod
    def _price(cls, v: str) -> str:
        return str(money(v, "unit_price"))


class OrderBody(Body):
    customer_id: str = Field(min_length=1, max_length=64)
    currency: str = Field("USD", min_length=3, max_length=3)
    payment_method: Literal["card", "paypal", "apple_pay", "google_pay"] = "card"
    lines: list[Line] = Field(min_length=1, max_length=100)


def _dynamo_store(ctx: Context, kind_table: str) -> tuple[str, DynamoStore]:
    for name, store in ctx.config.system.stores_of(ctx.config.service).items():
        if isinstance(store, DynamoStore) and store.table == kind_table:
            return name, store
    raise LookupError(kind_table)


def handlers(ctx: Context, publisher: Any) -> dict[str, Any]:
    """inventory and payment apply ``order.placed`` (services.flows.tcgstore_events)."""
    from services.flows.tcgstore_events import handlers as event_handlers

    return event_handlers(ctx)


def register(app: FastAPI, ctx: Context, publisher: Any) -> None:
    service = ctx.config.service
    if service == "catalog":
        name, cards = _dynamo_store(ctx, "Cards")
        table = ctx.config.physical(name)

        def put(card_id: str, card: Card, must_exist: bool) -> dict[str, Any]:
            db = ctx.clients.dynamo()
            values = card.model_dump() | {"Id": card_id, "updated_at": now_iso()}
            item = items.item(cards, "card", **{k: v for k, v in values.items()
                                                if v is not None})  # fmt: skip
            cond = "attribute_exists(Id)" if must_exist else "attribute_not_exists(Id)"
            try:
                db.put_item(TableName=table, Item=item, ConditionExpression=cond)
            except db.exceptions.ConditionalCheckFailedException:
                if must_exist:
                    raise NotFound(f"no card {card_id}") from None
                raise
            return plain(item)

        @app.post("/cards", status_code=201, tags=["cards"])
        async def create_card(body: Card) -> dict[str, Any]:
            """Create a card; the Cards stream indexes it for search."""
            return await run_in_threadpool(put, str(uuid.uuid4()), body, False)

        @app.put("/cards/{card_id}", tags=["cards"])
        async def update_card(card_id: str, body: Card) -> dict[str, Any]:
            return await run_in_threadpool(put, card_id, body, True)

        @app.delete("/cards/{card_id}", status_code=204, tags=["cards"])
        async def delete_card(card_id: str) -> None:
            def delete() -> None:
                db = ctx.clients.dynamo()
                try:
                    db.delete_item(TableName=table, Key=items.key(cards, "card", Id=card_id),
                                   ConditionExpression="attribute_exists(Id)")  # fmt: skip
                except db.exceptions.ConditionalCheckFailedException:
                    raise NotFound(f"no card {card_id}") from None

            await run_in_threadpool(delete)

    elif service == "inventory":

        def move(card_id: str, m: Movement) -> dict[str, Any]:
            with ctx.clients.pg().connection() as conn, conn.transaction(), \
                    conn.cursor(row_factory=dict_row) as cur:  # fmt: skip
                cur.execute("INSERT INTO inventory_levels (card_id, location) VALUES (%s, %s) "
                            "ON CONFLICT DO NOTHING", (card_id, m.location))
                level = cur.execute(
                    "UPDATE inventory_levels SET quantity_on_hand = quantity_on_hand + %s, "
                    "version = version + 1, updated_at = now() WHERE card_id = %s AND "
                    "location = %s RETURNING *", (m.quantity_delta, card_id, m.location)
                ).fetchone()  # a negative level fails the CHECK: a 409 naming the rule
                cur.execute(
                    "INSERT INTO stock_movements (card_id, location, quantity_delta, "
                    "movement_type, reason, reference_id) VALUES (%s, %s, %s, %s, %s, %s)",
                    (card_id, m.location, m.quantity_delta, m.movement_type, m.reason,
                     m.reference_id))  # fmt: skip
            return row_json(level)

        @app.post("/cards/{card_id}/stock-movements", status_code=201, tags=["inventory"])
        async def stock_movement(card_id: str, body: Movement) -> dict[str, Any]:
            """Record a movement and change the level in one transaction (never negative)."""
            return await run_in_threadpool(move, card_id, body)

    elif service == "order":
        orders_name, orders = _dynamo_store(ctx, "Orders")
        lines_name, lines = _dynamo_store(ctx, "OrderLineItems")

        def place(o: OrderBody) -> dict[str, Any]:
            db = ctx.clients.dynamo()
            order_id, now = str(uuid.uuid4()), now_iso()
            totals = [decimal.Decimal(ln.unit_price) * ln.quantity for ln in o.lines]
            writes = [{"Put": {"TableName": ctx.config.physical(lines_name),
                               "Item": items.item(lines, "line_item", OrderId=order_id,
                                                  LineNumber=i, CardId=ln.card_id,
                                                  Quantity=ln.quantity, UnitPrice=ln.unit_price,
                                                  LineTotal=str(t))}}
                      for i, (ln, t) in enumerate(zip(o.lines, totals, strict=True), 1)]
            order = items.item(orders, "order", OrderId=order_id, CustomerId=o.customer_id,
                               Status="PLACED", Total=str(sum(totals)), Currency=o.currency,
                               CreatedAt=now, UpdatedAt=now)  # fmt: skip
            writes.append({"Put": {"TableName": ctx.config.physical(orders_name), "Item": order}})
            db.transact_write_items(TransactItems=writes)
            body = plain(order)
            # One event for the whole order (keyed by it): inventory moves all its lines
            # or none, payment needs its total; both dedupe by the OrderId.
            publisher.domain("order.placed", key=order_id, data={
                "OrderId": order_id, "CustomerId": o.customer_id, "Total": body["Total"],
                "Currency": o.currency, "Method": o.payment_method,
                "Lines": [{"LineNumber": i, "CardId": ln.card_id, "Quantity": ln.quantity,
                           "UnitPrice": ln.unit_price} for i, ln in enumerate(o.lines, 1)]})
            return body

        @app.post("/orders", status_code=201, tags=["orders"])
        async def place_order(body: OrderBody) -> dict[str, Any]:
            """Place an order (order + line items in one transaction); publishes order.placed."""
            return await run_in_threadpool(place, body)
