"""ecommerce cart service: a user's active cart, its lines, and checkout.

A user has at most one active cart (cart-db's unique partial index ``idx_carts_user_active``
decides, under any concurrency: the cart is created with ``ON CONFLICT DO NOTHING`` and
then locked). Every change recomputes the cart's totals in the same transaction. A line
keeps the catalog's sku, name and price as they were when added (product_db is the
product service's): the order snapshots them from the checkout event.

Checkout converts the cart and queues ``cart.checked_out`` in the same transaction; the
event carries the cart's ids, lines and the shipping address. Checking out a converted
cart again answers the same, without a second event. ``order.created`` (carrying
``cart_id``) records the order the cart became (``converted_order_id``).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from psycopg.rows import dict_row
from pydantic import Field, field_validator

from service_events.envelope import Envelope
from services.errors import Conflict, NotFound
from services.flows.common import Body
from services.flows.ecommerce_common import Address, apply_once, outbox_of, price
from services.flows.ecommerce_outbox import Outbox
from services.patterns import Context
from services.patterns.postgres import row_json


class AddItem(Body):
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    quantity: int = Field(ge=1, le=999)
    unit_price: str
    sku: str = Field(min_length=1, max_length=64)
    product_name: str = Field(min_length=1, max_length=255)

    @field_validator("unit_price")
    @classmethod
    def _price(cls, v: str) -> str:
        return str(price(v, "unit_price"))


class SetQuantity(Body):
    quantity: int = Field(ge=1, le=999)


class Checkout(Body):
    shipping_address: Address
    coupon_code: str | None = Field(None, min_length=1, max_length=64)
    shipping_method: str | None = Field(None, min_length=1, max_length=64)


class Carts:
    def __init__(self, ctx: Context, outbox: Outbox) -> None:
        self.ctx = ctx
        self.outbox = outbox

    def _view(self, cur: Any, cart_id: Any) -> dict[str, Any]:
        cart = cur.execute("SELECT * FROM carts WHERE id = %s", (cart_id,)).fetchone()
        lines = cur.execute("SELECT * FROM cart_items WHERE cart_id = %s ORDER BY created_at, id",
                            (cart_id,)).fetchall()  # fmt: skip
        return row_json(cart) | {"items": [row_json(r) for r in lines]}

    def _active(self, cur: Any, user_id: uuid.UUID, create: bool) -> Any:
        if create:
            cur.execute(
                "INSERT INTO carts (user_id) VALUES (%s) "
                "ON CONFLICT (user_id) WHERE status = 'active' DO NOTHING",
                (user_id,),
            )
        row = cur.execute("SELECT id FROM carts WHERE user_id = %s AND status = 'active' "
                          "FOR UPDATE", (user_id,)).fetchone()  # fmt: skip
        if row is None:
            raise NotFound(f"user {user_id} has no active cart", "user_id")
        return row["id"]

    @staticmethod
    def _totals(cur: Any, cart_id: Any) -> None:
        cur.execute(
            "UPDATE carts SET subtotal = t.subtotal, item_count = t.items, updated_at = now() "
            "FROM (SELECT coalesce(sum(quantity * unit_price), 0) AS subtotal, "
            "coalesce(sum(quantity), 0) AS items FROM cart_items WHERE cart_id = %s) t "
            "WHERE id = %s", (cart_id, cart_id))  # fmt: skip

    def add(self, user_id: uuid.UUID, item: AddItem) -> dict[str, Any]:
        """Add a line (the same product and variant again adds to its quantity)."""
        with self.ctx.clients.pg().connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=dict_row) as cur:  # fmt: skip
            cart_id = self._active(cur, user_id, create=True)
            cur.execute(
                "INSERT INTO cart_items (cart_id, product_id, variant_id, quantity, unit_price, "
                "sku, product_name) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (cart_id, product_id, variant_id) DO UPDATE SET "
                "quantity = cart_items.quantity + EXCLUDED.quantity, "
                "unit_price = EXCLUDED.unit_price, sku = EXCLUDED.sku, "
                "product_name = EXCLUDED.product_name, updated_at = now()",
                (cart_id, item.product_id, item.variant_id, item.quantity, item.unit_price,
                 item.sku, item.product_name))  # fmt: skip
            self._totals(cur, cart_id)
            return self._view(cur, cart_id)

    def change(self, user_id: uuid.UUID, item_id: uuid.UUID,
               quantity: int | None) -> dict[str, Any]:  # fmt: skip
        """Set a line's quantity, or remove the line (``quantity`` None)."""
        with self.ctx.clients.pg().connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=dict_row) as cur:  # fmt: skip
            cart_id = self._active(cur, user_id, create=False)
            if quantity is None:
                cur.execute("DELETE FROM cart_items WHERE id = %s AND cart_id = %s",
                            (item_id, cart_id))  # fmt: skip
            else:
                cur.execute(
                    "UPDATE cart_items SET quantity = %s, updated_at = now() "
                    "WHERE id = %s AND cart_id = %s",
                    (quantity, item_id, cart_id),
                )
            if cur.rowcount == 0:
                raise NotFound(f"no item {item_id} in the active cart of {user_id}", "item_id")
            self._totals(cur, cart_id)
            return self._view(cur, cart_id)

    def get(self, user_id: uuid.UUID) -> dict[str, Any]:
        with self.ctx.clients.pg().connection() as conn, \
                conn.cursor(row_factory=dict_row) as cur:  # fmt: skip
            row = cur.execute("SELECT id FROM carts WHERE user_id = %s AND status = 'active'",
                              (user_id,)).fetchone()  # fmt: skip
            if row is None:
                raise NotFound(f"user {user_id} has no active cart", "user_id")
            return self._view(cur, row["id"])

    def checkout(self, cart_id: uuid.UUID, c: Checkout) -> tuple[dict[str, Any], bool]:
        """Convert the cart and queue ``cart.checked_out`` (once: a converted cart answers
        as it is, with no second event)."""
        with self.ctx.clients.pg().connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=dict_row) as cur:  # fmt: skip
            cart = cur.execute("SELECT * FROM carts WHERE id = %s FOR UPDATE",
                               (cart_id,)).fetchone()  # fmt: skip
            if cart is None:
                raise NotFound(f"no cart {cart_id}", "cart_id")
            if cart["status"] == "converted":
                return self._view(cur, cart_id), False
            if cart["status"] != "active":
                raise Conflict(f"cart {cart_id} is {cart['status']}", "cart_id")
            if cart["user_id"] is None:
                raise Conflict("a guest cart must belong to a user before checkout", "cart_id")
            view = self._view(cur, cart_id)
            if not view["items"]:
                raise Conflict(f"cart {cart_id} is empty", "cart_id")
            cur.execute("UPDATE carts SET status = 'converted', updated_at = now() "
                        "WHERE id = %s", (cart_id,))  # fmt: skip
            lines = [{k: line[k] for k in ("product_id", "variant_id", "sku", "product_name",
                                           "quantity", "unit_price")}
                     for line in view["items"]]  # fmt: skip
            self.outbox.add(conn, "cart.checked_out", key=str(cart["user_id"]), data={
                "cart_id": str(cart_id), "user_id": str(cart["user_id"]),
                "currency": cart["currency"], "coupon_code": c.coupon_code,
                "shipping_method": c.shipping_method, "lines": lines,
                "shipping_address": c.shipping_address.model_dump()})  # fmt: skip
            view = self._view(cur, cart_id)
        self.outbox.relay_quietly()
        return view, True

    def converted(self, env: Envelope) -> None:
        """``order.created``: record the order a checked-out cart became."""
        cart_id = env.data.get("cart_id")
        if not cart_id:
            return

        def effect(conn: Any) -> None:
            conn.execute("UPDATE carts SET converted_order_id = %s, updated_at = now() "
                         "WHERE id = %s", (env.data["order_id"], cart_id))  # fmt: skip

        apply_once(self.ctx, None, env, effect)


def handlers(ctx: Context, publisher: Any) -> dict[str, Any]:
    return {"order.created": Carts(ctx, outbox_of(ctx, publisher)).converted}


def register(app: FastAPI, ctx: Context, publisher: Any) -> None:
    carts = Carts(ctx, outbox_of(ctx, publisher))

    @app.get("/users/{user_id}/cart", tags=["cart"])
    async def get_cart(user_id: uuid.UUID) -> dict[str, Any]:
        """The user's active cart with its lines."""
        return await run_in_threadpool(carts.get, user_id)

    @app.post("/users/{user_id}/cart/items", status_code=201, tags=["cart"])
    async def add_item(user_id: uuid.UUID, body: AddItem) -> dict[str, Any]:
        """Add a line to the active cart (created on first use); answers the cart."""
        return await run_in_threadpool(carts.add, user_id, body)

    @app.patch("/users/{user_id}/cart/items/{item_id}", tags=["cart"])
    async def set_quantity(user_id: uuid.UUID, item_id: uuid.UUID,
                           body: SetQuantity) -> dict[str, Any]:  # fmt: skip
        return await run_in_threadpool(carts.change, user_id, item_id, body.quantity)

    @app.delete("/users/{user_id}/cart/items/{item_id}", tags=["cart"])
    async def remove_item(user_id: uuid.UUID, item_id: uuid.UUID) -> dict[str, Any]:
        return await run_in_threadpool(carts.change, user_id, item_id, None)

    @app.post("/carts/{cart_id}/checkout", status_code=201, tags=["cart"])
    async def checkout(cart_id: uuid.UUID, body: Checkout) -> Any:
        """Check the cart out: publishes ``cart.checked_out`` (the order service creates
        the order). Repeating it answers 200 with the converted cart."""
        view, new = await run_in_threadpool(carts.checkout, cart_id, body)
        return JSONResponse(view, status_code=201 if new else 200)
