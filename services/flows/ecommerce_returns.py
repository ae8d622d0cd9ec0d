"""ecommerce return service: return requests, their approval, and the refund they get.

``POST /returns`` records a request against an order (order, items and payment known by
id: return_db holds no copy of order_db) with its items, its first status-history row and
the refund it will ask for (``refunds``, pending). ``POST /returns/{id}/approval`` issues
the RMA, moves the request to ``approved`` and queues ``return.approved`` (carrying the
payment id and the amount) in one transaction; approving again answers the same. The
payment service refunds and publishes ``payment.refunded``; consumed here, it marks the
refund succeeded and the request ``refunded`` (once per event).
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import uuid
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from psycopg.rows import dict_row
from pydantic import Field, field_validator

from service_events.envelope import Envelope
from services.errors import Conflict, NotFound
from services.flows.common import Body
from services.flows.ecommerce_common import Currency, apply_once, outbox_of, price
from services.flows.ecommerce_outbox import Outbox
from services.patterns import Context
from services.patterns.postgres import row_json

RMA_DAYS = 30  # how long an RMA is valid


class ReturnItem(Body):
    order_item_id: uuid.UUID
    product_id: uuid.UUID
    quantity: int = Field(ge=1, le=999)
    refund_amount: str
    reason_code: str | None = Field(None, min_length=1, max_length=32)
    item_condition: Literal["unopened", "like_new", "used", "damaged", "defective"] | None = None

    @field_validator("refund_amount")
    @classmethod
    def _amount(cls, v: str) -> str:
        return str(price(v, "refund_amount"))


class ReturnRequest(Currency):
    order_id: uuid.UUID
    user_id: uuid.UUID
    payment_id: uuid.UUID
    reason_code: str = Field(min_length=1, max_length=32)
    customer_notes: str | None = Field(None, max_length=5000)
    items: list[ReturnItem] = Field(min_length=1, max_length=100)

    @field_validator("items")
    @classmethod
    def _distinct(cls, v: list[ReturnItem]) -> list[ReturnItem]:
        if len({i.order_item_id for i in v}) != len(v):
            raise ValueError("an order item appears once per return")
        return v


class Approval(Body):
    authorized_by: str = Field("system", min_length=1, max_length=64)
    instructions: str | None = Field(None, max_length=2000)


class Returns:
    def __init__(self, ctx: Context, outbox: Outbox) -> None:
        self.ctx = ctx
        self.outbox = outbox

    @staticmethod
    def _view(cur: Any, return_id: Any) -> dict[str, Any]:
        r = cur.execute("SELECT * FROM return_requests WHERE id = %s", (return_id,)).fetchone()
        if r is None:
            raise NotFound(f"no return {return_id}", "return_id")
        out = row_json(r)
        for name, table, order in (
            ("items", "return_items", "created_at, id"),
            ("status_history", "return_status_history", "created_at, id"),
            ("refunds", "refunds", "created_at, id"),
            ("authorizations", "return_authorizations", "issued_at"),
        ):
            rows = cur.execute(f"SELECT * FROM {table} WHERE return_request_id = %s "
                               f"ORDER BY {order}", (return_id,)).fetchall()  # fmt: skip
            out[name] = [row_json(x) for x in rows]
        return out

    def view(self, return_id: uuid.UUID) -> dict[str, Any]:
        with self.ctx.clients.pg().connection() as conn, \
                conn.cursor(row_factory=dict_row) as cur:  # fmt: skip
            return self._view(cur, return_id)

    @staticmethod
    def _history(cur: Any, return_id: Any, before: str | None, after: str, by: str,
                 note: str) -> None:  # fmt: skip
        cur.execute(
            "INSERT INTO return_status_history (return_request_id, from_status, to_status, "
            "changed_by, note) VALUES (%s, %s, %s, %s, %s)",
            (return_id, before, after, by, note))  # fmt: skip

    def request(self, r: ReturnRequest) -> dict[str, Any]:
        amount = sum((decimal.Decimal(i.refund_amount) for i in r.items), decimal.Decimal(0))
        with self.ctx.clients.pg().connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=dict_row) as cur:  # fmt: skip
            row = cur.execute(
                "INSERT INTO return_requests (order_id, user_id, reason_code, customer_notes) "
                "VALUES (%s, %s, %s, %s) RETURNING id",
                (r.order_id, r.user_id, r.reason_code, r.customer_notes),
            ).fetchone()
            assert row is not None
            rid = row["id"]
            cur.executemany(
                "INSERT INTO return_items (return_request_id, order_item_id, product_id, "
                "quantity, reason_code, item_condition, refund_amount) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(rid, i.order_item_id, i.product_id, i.quantity, i.reason_code,
                  i.item_condition, i.refund_amount) for i in r.items])  # fmt: skip
            cur.execute(
                "INSERT INTO refunds (return_request_id, payment_id, amount, currency) "
                "VALUES (%s, %s, %s, %s)",
                (rid, r.payment_id, amount, r.currency),
            )
            self._history(cur, rid, None, "requested", "customer", "return requested")
            return self._view(cur, rid)

    def approve(self, return_id: uuid.UUID, a: Approval) -> tuple[dict[str, Any], bool]:
        with self.ctx.clients.pg().connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=dict_row) as cur:  # fmt: skip
            r = cur.execute("SELECT * FROM return_requests WHERE id = %s FOR UPDATE",
                            (return_id,)).fetchone()  # fmt: skip
            if r is None:
                raise NotFound(f"no return {return_id}", "return_id")
            if r["status"] in ("approved", "refunded"):
                return self._view(cur, return_id), False
            if r["status"] != "requested":
                raise Conflict(f"return {return_id} is {r['status']}", "status")
            cur.execute(
                "INSERT INTO return_authorizations (return_request_id, rma_number, "
                "authorized_by, instructions, expires_at) VALUES (%s, %s, %s, %s, %s)",
                (
                    return_id,
                    f"RMA-{os.urandom(6).hex().upper()}",
                    a.authorized_by,
                    a.instructions,
                    dt.datetime.now(dt.UTC) + dt.timedelta(days=RMA_DAYS),
                ),
            )
            cur.execute("UPDATE return_requests SET status = 'approved', updated_at = now() "
                        "WHERE id = %s", (return_id,))  # fmt: skip
            self._history(cur, return_id, "requested", "approved", a.authorized_by,
                          "return approved")  # fmt: skip
            refund = cur.execute(
                "UPDATE refunds SET status = 'requested', updated_at = now() "
                "WHERE return_request_id = %s AND status = 'pending' "
                "RETURNING payment_id, amount, currency",
                (return_id,),
            ).fetchone()
            if refund is None:
                raise Conflict(f"return {return_id} has no pending refund", "return_id")
            self.outbox.add(conn, "return.approved", key=str(r["order_id"]), data={
                "return_id": str(return_id), "order_id": str(r["order_id"]),
                "payment_id": str(refund["payment_id"]), "user_id": str(r["user_id"]),
                "amount": str(refund["amount"]), "currency": refund["currency"]})  # fmt: skip
            view = self._view(cur, return_id)
        self.outbox.relay_quietly()
        return view, True

    def refunded(self, env: Envelope) -> None:
        """``payment.refunded`` of a return's refund: the refund succeeded, the request
        is refunded."""
        d = env.data
        return_id = d.get("return_request_id")
        if not return_id:
            return  # a refund not asked for by a return (a cancellation, an agent's)

        def effect(conn: Any) -> None:
            with conn.cursor(row_factory=dict_row) as cur:
                r = cur.execute("SELECT status FROM return_requests WHERE id = %s FOR UPDATE",
                                (return_id,)).fetchone()  # fmt: skip
                if r is None:
                    raise NotFound(f"no return {return_id}", "return_id")
                cur.execute(
                    "UPDATE refunds SET status = 'succeeded', payment_refund_id = %s, "
                    "completed_at = now(), updated_at = now() WHERE return_request_id = %s "
                    "AND payment_id = %s",
                    (d["refund_id"], return_id, d["payment_id"]),
                )
                if r["status"] == "approved":
                    cur.execute("UPDATE return_requests SET status = 'refunded', "
                                "resolved_at = now(), updated_at = now() WHERE id = %s",
                                (return_id,))  # fmt: skip
                    self._history(
                        cur,
                        return_id,
                        "approved",
                        "refunded",
                        "system",
                        f"refund {d['refund_id']} of {d['amount']} succeeded",
                    )

        apply_once(self.ctx, self.outbox, env, effect)


def handlers(ctx: Context, publisher: Any) -> dict[str, Any]:
    return {"payment.refunded": Returns(ctx, outbox_of(ctx, publisher)).refunded}


def register(app: FastAPI, ctx: Context, publisher: Any) -> None:
    returns = Returns(ctx, outbox_of(ctx, publisher))

    @app.get("/returns/{return_id}", tags=["returns"])
    async def get_return(return_id: uuid.UUID) -> dict[str, Any]:
        """The request with its items, history, RMA and refunds."""
        return await run_in_threadpool(returns.view, return_id)

    @app.post("/returns", status_code=201, tags=["returns"])
    async def request_return(body: ReturnRequest) -> dict[str, Any]:
        """Ask to return items of an order; the refund (sum of the items' amounts) is
        asked of the payment service once the return is approved."""
        return await run_in_threadpool(returns.request, body)

    @app.post("/returns/{return_id}/approval", status_code=201, tags=["returns"])
    async def approve(return_id: uuid.UUID, body: Approval) -> Any:
        """Approve: issues the RMA and publishes ``return.approved`` (the payment service
        refunds). Repeating it answers 200."""
        view, new = await run_in_threadpool(returns.approve, return_id, body)
        return JSONResponse(view, status_code=201 if new else 200)
