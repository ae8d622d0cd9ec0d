"""ecommerce order service: orders from checkouts, and every status change as history.

``cart.checked_out`` creates the order, its items (the cart lines' snapshot), its
shipping-address snapshot and its first status-history row in one transaction with the
event's claim and the ``order.created`` outbox row: a redelivered checkout changes
nothing. Afterwards the order moves only through :meth:`Orders.transition` — the order
row locked, the move checked against ``MOVES``, one history row appended, the event it
causes queued — driven by ``payment.succeeded`` (confirmed, ``order.confirmed`` for
shipping), ``shipment.updated`` (shipped, delivered), ``payment.refunded`` (refunded)
and ``POST /orders/{id}/cancellation`` (``order.cancelled``). ``return.approved`` is
recorded in the history without a status change (the refund that follows is).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import Field

from service_events.envelope import Envelope
from services.errors import Conflict, NotFound
from services.flows.common import Body
from services.flows.ecommerce_common import apply_once, outbox_of, price
from services.flows.ecommerce_outbox import Outbox
from services.patterns import Context
from services.patterns.postgres import row_json

# status -> the statuses it may move to (orders_status_check lists them all)
MOVES = {
    "pending": {"confirmed", "cancelled"},
    # delivered straight from confirmed: a carrier may report delivery as its first event
    "confirmed": {"processing", "shipped", "delivered", "cancelled", "refunded"},
    "processing": {"shipped", "delivered", "cancelled", "refunded"},
    "shipped": {"delivered", "refunded"},
    "delivered": {"refunded"},
    "paid": {"shipped", "refunded"},
    "cancelled": set(),
    "refunded": set(),
}
# shipment status (shipping-db) -> the order status it means
SHIPMENT_TO_ORDER = {"in_transit": "shipped", "out_for_delivery": "shipped",
                     "delivered": "delivered"}  # fmt: skip
ADDRESS = ("recipient_name", "company", "line1", "line2", "city", "region", "postal_code",
           "country_code", "phone")  # fmt: skip


class Cancellation(Body):
    reason: str = Field("cancelled by the customer", min_length=1, max_length=500)


class Orders:
    def __init__(self, ctx: Context, outbox: Outbox) -> None:
        self.ctx = ctx
        self.outbox = outbox

    # -- reads --------------------------------------------------------------------------
    def view(self, order_id: uuid.UUID) -> dict[str, Any]:
        with self.ctx.clients.pg().connection() as conn, \
                conn.cursor(row_factory=dict_row) as cur:  # fmt: skip
            order = cur.execute("SELECT * FROM orders WHERE id = %s", (order_id,)).fetchone()
            if order is None:
                raise NotFound(f"no order {order_id}", "order_id")
            items = cur.execute("SELECT * FROM order_items WHERE order_id = %s ORDER BY id",
                                (order_id,)).fetchall()  # fmt: skip
            history = cur.execute(
                "SELECT * FROM order_status_history WHERE order_id = %s ORDER BY created_at, id",
                (order_id,),
            ).fetchall()
            address = cur.execute("SELECT * FROM shipping_addresses WHERE order_id = %s",
                                  (order_id,)).fetchall()  # fmt: skip
        return row_json(order) | {
            "items": [row_json(r) for r in items],
            "status_history": [row_json(r) for r in history],
            "shipping_addresses": [row_json(r) for r in address],
        }

    # -- writes -------------------------------------------------------------------------
    def create(self, env: Envelope) -> None:
        """``cart.checked_out``: the order, items, address and first history row, once."""
        d = env.data

        def effect(conn: Any) -> None:
            lines = d["lines"]
            subtotal = sum(
                (price(str(ln["unit_price"]), "unit_price") * int(ln["quantity"]) for ln in lines),
                start=price("0", "subtotal", positive=False),
            )
            with conn.cursor(row_factory=dict_row) as cur:
                order = cur.execute(
                    "INSERT INTO orders (user_id, cart_id, coupon_code, order_number, status, "
                    "currency, subtotal, grand_total, placed_at) VALUES (%s, %s, %s, "
                    "'EC' || lpad(nextval('order_number_seq')::text, 10, '0'), 'pending', "
                    "%s, %s, %s, now()) RETURNING *",
                    (d["user_id"], d["cart_id"], d.get("coupon_code"), d.get("currency", "USD"),
                     subtotal, subtotal)).fetchone()  # fmt: skip
                assert order is not None
                cur.executemany(
                    "INSERT INTO order_items (order_id, order_user_id, product_id, variant_id, "
                    "sku, product_name, quantity, unit_price, line_total) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [(order["id"], order["user_id"], ln["product_id"], ln.get("variant_id"),
                      ln["sku"], ln["product_name"], ln["quantity"], ln["unit_price"],
                      price(str(ln["unit_price"]), "unit_price") * int(ln["quantity"]))
                     for ln in lines])  # fmt: skip
                addr = d.get("shipping_address") or {}
                if addr:
                    cur.execute(
                        "INSERT INTO shipping_addresses (order_id, order_user_id, "
                        f"{', '.join(ADDRESS)}) VALUES (%s, %s{', %s' * len(ADDRESS)})",
                        (order["id"], order["user_id"], *(addr.get(k) for k in ADDRESS)),
                    )
                cur.execute(
                    "INSERT INTO order_status_history (order_id, order_user_id, from_status, "
                    "to_status, reason, metadata) VALUES (%s, %s, NULL, 'pending', %s, %s)",
                    (order["id"], order["user_id"], f"checkout of cart {d['cart_id']}",
                     Jsonb({"event_id": env.id, "event": env.type})))  # fmt: skip
            oid = str(order["id"])
            self.outbox.add(conn, "order.created", key=oid, data={
                "order_id": oid, "user_id": d["user_id"], "cart_id": d["cart_id"],
                "coupon_code": d.get("coupon_code"), "order_number": order["order_number"],
                "grand_total": str(order["grand_total"]), "currency": order["currency"],
                "shipping_method": d.get("shipping_method")})  # fmt: skip

        apply_once(self.ctx, self.outbox, env, effect)

    def transition(self, conn: Any, order_id: Any, to: str, reason: str, by: str = "system",
                   meta: dict[str, Any] | None = None) -> dict[str, Any] | None:  # fmt: skip
        """Move the order to ``to`` (locked, checked, one history row); None when it is
        already there. Queues ``order.confirmed``/``order.cancelled`` when it moves there."""
        with conn.cursor(row_factory=dict_row) as cur:
            order = cur.execute("SELECT * FROM orders WHERE id = %s FOR UPDATE",
                                (order_id,)).fetchone()  # fmt: skip
            if order is None:
                raise NotFound(f"no order {order_id}", "order_id")
            if order["status"] == to:
                return None
            if to not in MOVES.get(order["status"], set()):
                raise Conflict(f"order {order_id} is {order['status']}: it cannot become {to}",
                               "status")  # fmt: skip
            stamp = ", cancelled_at = now()" if to == "cancelled" else ""
            cur.execute(
                f"UPDATE orders SET status = %s, updated_at = now(){stamp} "
                "WHERE id = %s AND user_id = %s",
                (to, order_id, order["user_id"]),
            )
            cur.execute(
                "INSERT INTO order_status_history (order_id, order_user_id, from_status, "
                "to_status, reason, changed_by, metadata) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (order_id, order["user_id"], order["status"], to, reason, by,
                 Jsonb(meta or {})))  # fmt: skip
            oid, uid = str(order["id"]), str(order["user_id"])
            if to == "confirmed":
                address = cur.execute(
                    f"SELECT {', '.join(ADDRESS)} FROM shipping_addresses WHERE order_id = %s "
                    "AND address_type = 'shipping'", (order_id,)).fetchone()  # fmt: skip
                self.outbox.add(
                    conn,
                    "order.confirmed",
                    key=oid,
                    data={
                        "order_id": oid,
                        "user_id": uid,
                        "ship_to": address,
                        "grand_total": str(order["grand_total"]),
                        "currency": order["currency"],
                    },
                )
            elif to == "cancelled":
                self.outbox.add(conn, "order.cancelled", key=oid,
                                data={"order_id": oid, "user_id": uid})  # fmt: skip
            return row_json(order) | {"status": to}

    def note(self, conn: Any, order_id: Any, reason: str, meta: dict[str, Any]) -> None:
        """A history row that changes no status (a return approved)."""
        order = conn.execute("SELECT user_id, status FROM orders WHERE id = %s",
                             (order_id,)).fetchone()  # fmt: skip
        if order is None:
            raise NotFound(f"no order {order_id}", "order_id")
        conn.execute(
            "INSERT INTO order_status_history (order_id, order_user_id, from_status, "
            "to_status, reason, metadata) VALUES (%s, %s, %s, %s, %s, %s)",
            (order_id, order[0], order[1], order[1], reason, Jsonb(meta)))  # fmt: skip

    def cancel(self, order_id: uuid.UUID, c: Cancellation) -> tuple[dict[str, Any], bool]:
        with self.ctx.clients.pg().connection() as conn, conn.transaction():
            moved = self.transition(conn, order_id, "cancelled", c.reason, by="customer")
        self.outbox.relay_quietly()
        return self.view(order_id), moved is not None

    # -- events -------------------------------------------------------------------------
    def on_event(self, env: Envelope) -> None:
        d = env.data
        meta = {"event_id": env.id, "event": env.type}

        def effect(conn: Any) -> None:
            if env.type == "payment.succeeded":
                self.transition(
                    conn,
                    d["order_id"],
                    "confirmed",
                    f"payment {d['payment_id']} succeeded",
                    meta=meta,
                )
            elif env.type == "shipment.updated":
                to = SHIPMENT_TO_ORDER.get(str(d.get("status")))
                if to is not None:
                    self.transition(
                        conn,
                        d["order_id"],
                        to,
                        f"shipment {d['shipment_id']} {d['status']}",
                        meta=meta,
                    )
            elif env.type == "payment.refunded":
                if d.get("fully_refunded"):
                    self.transition(
                        conn,
                        d["order_id"],
                        "refunded",
                        f"payment {d['payment_id']} refunded",
                        meta=meta,
                    )
                else:
                    self.note(
                        conn,
                        d["order_id"],
                        f"partial refund {d.get('refund_id')} of "
                        f"{d.get('amount')} on payment {d['payment_id']}",
                        meta,
                    )
            elif env.type == "return.approved":
                self.note(conn, d["order_id"], f"return {d['return_id']} approved", meta)

        apply_once(self.ctx, self.outbox, env, effect)


def handlers(ctx: Context, publisher: Any) -> dict[str, Any]:
    orders = Orders(ctx, outbox_of(ctx, publisher))
    return {"cart.checked_out": orders.create, "payment.succeeded": orders.on_event,
            "shipment.updated": orders.on_event, "payment.refunded": orders.on_event,
            "return.approved": orders.on_event}  # fmt: skip


def register(app: FastAPI, ctx: Context, publisher: Any) -> None:
    orders = Orders(ctx, outbox_of(ctx, publisher))

    @app.get("/orders/{order_id}", tags=["orders"])
    async def get_order(order_id: uuid.UUID) -> dict[str, Any]:
        """The order with its items, shipping address and status history (oldest first)."""
        return await run_in_threadpool(orders.view, order_id)

    @app.post("/orders/{order_id}/cancellation", status_code=201, tags=["orders"])
    async def cancel_order(order_id: uuid.UUID, body: Cancellation) -> Any:
        """Cancel a pending or confirmed order: publishes ``order.cancelled`` (the payment
        service voids or refunds). Repeating it answers 200."""
        view, new = await run_in_threadpool(orders.cancel, order_id, body)
        return JSONResponse(view, status_code=201 if new else 200)
