"""tcgstore's inventory and payment services apply the order service's ``order.placed``.

One event per order (``stacks/tcgstore.yaml: order-placed``), keyed by the OrderId, with
its lines. Kafka delivers at least once and the order service may publish an order's
event again, so both consumers dedupe by the OrderId, not by the envelope id:

- **inventory** moves stock for every line or for none, in one PostgreSQL transaction:
  it claims ``order.placed:<OrderId>`` in ``processed_events``, locks the level rows of
  the order's cards (``SELECT ... FOR UPDATE`` in key order, so two orders sharing cards
  never deadlock), and when every card has enough available stock (on hand minus
  reserved) writes one ``sale`` movement per line and location (a line is taken from the
  locations with the most available first) and lowers those levels. When a card is
  short, no level changes: the short lines go to ``stock_shortages`` (read at ``GET
  /orders/{order_id}/stock-shortages``) and the event is done — retrying cannot create
  stock, and blocking the partition would stop every later order. The level's CHECK
  constraints stay the last guard: a level never goes below zero.
- **payment** records the order's payment in its DynamoDB table with a PaymentId derived
  from the OrderId and ``attribute_not_exists``: a redelivery finds its own item and
  stops. The record is ``PENDING``: no payment provider is declared to capture it.

A malformed event (a field missing or of the wrong type) can never be applied: it is
logged and skipped, like a record that is not an envelope, rather than retried forever.
"""

from __future__ import annotations

import decimal
import logging
import uuid
from collections import defaultdict
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from polystore.topology.model import DynamoStore
from service_events.dedupe import claim_in_postgres
from service_events.envelope import Envelope
from services import items
from services.flows.common import now_iso
from services.patterns import Context

log = logging.getLogger("services.tcgstore_events")
# PaymentId = uuid5(this, OrderId): the same order always names the same payment.
PAYMENT_NAMESPACE = uuid.UUID("5b0c7f3e-6d0a-4f7e-9a55-2f1f2c6a7d31")


class PlacedLine(BaseModel):
    LineNumber: int = Field(gt=0)
    CardId: str = Field(min_length=1, max_length=64)
    Quantity: int = Field(gt=0)
    UnitPrice: str


class Placed(BaseModel):
    """``order.placed``'s data (unknown fields are ignored: a newer producer may add some)."""

    OrderId: str = Field(min_length=1, max_length=64)
    CustomerId: str = ""
    Total: decimal.Decimal = Field(gt=0)
    Currency: str = Field(min_length=3, max_length=3)
    Method: str = "card"
    Lines: list[PlacedLine] = Field(min_length=1)


def parse(env: Envelope) -> Placed | None:
    try:
        return Placed.model_validate(env.data)
    except ValidationError as exc:
        log.error(
            "skipping a malformed order.placed",
            extra={
                "fields": {
                    "event_id": env.id,
                    "key": env.key,
                    "errors": exc.errors(include_url=False),
                }
            },
        )
        return None


def consumer_name(ctx: Context) -> str:
    return f"{ctx.config.system.name}.{ctx.config.service}"


def apply_to_stock(ctx: Context, env: Envelope) -> str:
    """Move the order's stock once; returns what happened (applied/short/duplicate/...)."""
    order = parse(env)
    if order is None:
        return "malformed"
    wanted: dict[str, int] = defaultdict(int)  # a card may be on several lines
    for line in order.Lines:
        wanted[line.CardId] += line.Quantity
    me = consumer_name(ctx)
    with ctx.clients.pg().connection() as conn, conn.transaction():
        if not claim_in_postgres(conn, me, f"order.placed:{order.OrderId}"):
            return "duplicate"
        rows = conn.execute(
            "SELECT card_id, location, quantity_on_hand - quantity_reserved "
            "FROM inventory_levels WHERE card_id = ANY(%s) "
            "ORDER BY card_id, location FOR UPDATE", (sorted(wanted),)).fetchall()  # fmt: skip
        available: dict[str, dict[str, int]] = defaultdict(dict)
        for card, location, free in rows:
            available[card][location] = max(0, int(free))
        short = [(card, q, sum(available[card].values())) for card, q in sorted(wanted.items())
                 if sum(available[card].values()) < q]  # fmt: skip
        if short:
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO stock_shortages (order_id, card_id, requested, available) "
                    "VALUES (%s, %s, %s, %s)", [(order.OrderId, *s) for s in short])  # fmt: skip
            log.warning("order short of stock: nothing moved", extra={"fields": {
                "order_id": order.OrderId, "short": [s[0] for s in short]}})  # fmt: skip
            return "short"
        for line in order.Lines:
            need, free = line.Quantity, available[line.CardId]
            for location in sorted(free, key=lambda loc: (-free[loc], loc)):
                take = min(need, free[location])
                if take <= 0:
                    break
                conn.execute(
                    "UPDATE inventory_levels SET quantity_on_hand = quantity_on_hand - %s, "
                    "version = version + 1, updated_at = now() "
                    "WHERE card_id = %s AND location = %s",
                    (take, line.CardId, location))  # fmt: skip
                conn.execute(
                    "INSERT INTO stock_movements (card_id, location, quantity_delta, "
                    "movement_type, reason, reference_id, created_by) "
                    "VALUES (%s, %s, %s, 'sale', %s, %s, %s)",
                    (line.CardId, location, -take, f"order line {line.LineNumber}",
                     order.OrderId, me))  # fmt: skip
                free[location] -= take
                need -= take
    return "applied"


def payments_store(ctx: Context) -> tuple[str, DynamoStore]:
    """The service's DynamoDB store that declares the ``payment`` item."""
    for name, store in ctx.config.system.stores_of(ctx.config.service).items():
        if isinstance(store, DynamoStore) and "payment" in store.items:
            return name, store
    raise LookupError(f"{consumer_name(ctx)} owns no store with a payment item")


def record_payment(ctx: Context, env: Envelope) -> str:
    """Put the order's payment once (conditional on its PaymentId)."""
    order = parse(env)
    if order is None:
        return "malformed"
    name, store = payments_store(ctx)
    payment_id = str(uuid.uuid5(PAYMENT_NAMESPACE, order.OrderId))
    item = items.item(store, "payment", PaymentId=payment_id, OrderId=order.OrderId,
                      Amount=str(order.Total), Currency=order.Currency, Method=order.Method,
                      Status="PENDING", CreatedAt=now_iso())  # fmt: skip
    db = ctx.clients.dynamo()
    key = next(iter(items.key(store, "payment", PaymentId=payment_id)))
    try:
        db.put_item(TableName=ctx.config.physical(name), Item=item,
                    ConditionExpression="attribute_not_exists(#k)",
                    ExpressionAttributeNames={"#k": key})  # fmt: skip
    except db.exceptions.ConditionalCheckFailedException:
        return "duplicate"
    return "applied"


def handlers(ctx: Context) -> dict[str, Any]:
    if ctx.config.service == "inventory":
        return {"order.placed": lambda env: apply_to_stock(ctx, env)}
    if ctx.config.service == "payment":
        return {"order.placed": lambda env: record_payment(ctx, env)}
    return {}
