"""ecommerce payment service: a payment per order, its capture, refunds.

``order.created`` (the topology's link) opens a ``pending`` payment for the order's grand
total; its ``idempotency_key`` is ``order.created``, so the unique (order_id,
idempotency_key) index makes a second payment for the same order impossible even beside
the event's claim. ``POST /payments/{id}/capture`` records the provider's capture (the
provider itself is outside this platform: the request names the provider's payment id)
and queues ``payment.succeeded``; capturing a captured payment answers it unchanged.

Refunds move money, so each has an idempotency key: the ``Idempotency-Key`` header of
``POST /payments/{id}/refunds`` (a retry with the same key answers the first refund, 200),
``return:<return id>`` for ``return.approved`` and ``cancel:<order id>`` for
``order.cancelled``. The payment row is locked while a refund is checked (never more than
was captured), written, and ``payment.refunded`` queued — all in one transaction.
"""

from __future__ import annotations

import decimal
import uuid
from typing import Annotated, Any

from fastapi import FastAPI, Header
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import Field, field_validator

from service_events.envelope import Envelope
from services.errors import Conflict, NotFound
from services.flows.common import Body, idempotency_key
from services.flows.ecommerce_common import apply_once, outbox_of, price
from services.flows.ecommerce_outbox import Outbox
from services.patterns import Context
from services.patterns.postgres import row_json

IdemKey = Annotated[str | None, Header(alias="Idempotency-Key")]
OPENED_BY = "order.created"  # payments.idempotency_key of the payment an order opens


class Capture(Body):
    provider: str = Field(min_length=1, max_length=32)
    provider_payment_id: str = Field(min_length=1, max_length=255)


class RefundRequest(Body):
    amount: str
    reason: str | None = Field(None, max_length=64)

    @field_validator("amount")
    @classmethod
    def _amount(cls, v: str) -> str:
        return str(price(v, "amount"))


class Payments:
    def __init__(self, ctx: Context, outbox: Outbox) -> None:
        self.ctx = ctx
        self.outbox = outbox

    def view(self, payment_id: uuid.UUID) -> dict[str, Any]:
        with self.ctx.clients.pg().connection() as conn, \
                conn.cursor(row_factory=dict_row) as cur:  # fmt: skip
            p = cur.execute("SELECT * FROM payments WHERE id = %s", (payment_id,)).fetchone()
            if p is None:
                raise NotFound(f"no payment {payment_id}", "payment_id")
            tx = cur.execute("SELECT * FROM payment_transactions WHERE payment_id = %s "
                             "ORDER BY created_at, id", (payment_id,)).fetchall()  # fmt: skip
            refunds = cur.execute(
                "SELECT * FROM refunds WHERE payment_id = %s ORDER BY created_at, id", (payment_id,)
            ).fetchall()
        return row_json(p) | {"transactions": [row_json(r) for r in tx],
                              "refunds": [row_json(r) for r in refunds]}  # fmt: skip

    def open(self, env: Envelope) -> None:
        """``order.created``: a pending payment for the order's grand total, once."""
        d = env.data

        def effect(conn: Any) -> None:
            amount = price(str(d["grand_total"]), "grand_total")
            conn.execute(
                "INSERT INTO payments (order_id, user_id, provider, idempotency_key, amount, "
                "currency) VALUES (%s, %s, 'unassigned', %s, %s, %s) "
                "ON CONFLICT (order_id, idempotency_key) DO NOTHING",
                (d["order_id"], d["user_id"], OPENED_BY, amount,
                 d.get("currency") or "USD"))  # fmt: skip

        apply_once(self.ctx, self.outbox, env, effect)

    def capture(self, payment_id: uuid.UUID, c: Capture) -> tuple[dict[str, Any], bool]:
        with self.ctx.clients.pg().connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=dict_row) as cur:  # fmt: skip
            p = cur.execute("SELECT * FROM payments WHERE id = %s FOR UPDATE",
                            (payment_id,)).fetchone()  # fmt: skip
            if p is None:
                raise NotFound(f"no payment {payment_id}", "payment_id")
            if p["status"] == "captured" or (p["status"] in ("refunded", "partially_refunded")
                                             and p["captured_at"] is not None):  # fmt: skip
                if p["provider_payment_id"] != c.provider_payment_id:
                    raise Conflict(
                        f"payment {payment_id} was captured as {p['provider_payment_id']}",
                        "provider_payment_id",
                    )
                new = False
            elif p["status"] not in ("pending", "authorized"):
                raise Conflict(f"payment {payment_id} is {p['status']}", "status")
            else:
                cur.execute(
                    "UPDATE payments SET status = 'captured', provider = %s, "
                    "provider_payment_id = %s, captured_at = now(), updated_at = now() "
                    "WHERE id = %s AND order_id = %s",
                    (c.provider, c.provider_payment_id, payment_id, p["order_id"]))  # fmt: skip
                cur.execute(
                    "INSERT INTO payment_transactions (payment_id, order_id, transaction_type, "
                    "status, amount, currency, provider_transaction_id) "
                    "VALUES (%s, %s, 'capture', 'succeeded', %s, %s, %s)",
                    (payment_id, p["order_id"], p["amount"], p["currency"],
                     c.provider_payment_id))  # fmt: skip
                self.outbox.add(conn, "payment.succeeded", key=str(p["order_id"]), data={
                    "payment_id": str(payment_id), "order_id": str(p["order_id"]),
                    "user_id": str(p["user_id"]), "amount": str(p["amount"]),
                    "currency": p["currency"]})  # fmt: skip
                new = True
        if new:
            self.outbox.relay_quietly()
        return self.view(payment_id), new

    def refund(self, conn: Any, payment_id: Any, amount: decimal.Decimal, key: str,
               reason: str | None, return_id: str | None = None
               ) -> tuple[dict[str, Any], bool]:  # fmt: skip
        """One refund of a captured payment, keyed by ``key`` (a repeated key answers the
        refund it made). Never more than was captured: the payment row is locked."""
        with conn.cursor(row_factory=dict_row) as cur:
            p = cur.execute("SELECT * FROM payments WHERE id = %s FOR UPDATE",
                            (payment_id,)).fetchone()  # fmt: skip
            if p is None:
                raise NotFound(f"no payment {payment_id}", "payment_id")
            done = cur.execute("SELECT * FROM refunds WHERE idempotency_key = %s",
                               (key,)).fetchone()  # fmt: skip
            if done is not None:
                if done["payment_id"] != p["id"] or done["amount"] != amount:
                    raise Conflict("Idempotency-Key was used for another refund",
                                   "Idempotency-Key")  # fmt: skip
                return row_json(done), False
            if p["status"] not in ("captured", "partially_refunded"):
                raise Conflict(f"payment {payment_id} is {p['status']}: nothing to refund",
                               "payment_id")  # fmt: skip
            left = p["amount"] - p["amount_refunded"]
            if amount > left:
                raise Conflict(f"refund of {amount} exceeds what is left ({left})", "amount")
            refund = cur.execute(
                "INSERT INTO refunds (payment_id, order_id, return_request_id, idempotency_key, "
                "amount, currency, reason, status, processed_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, 'succeeded', now()) RETURNING *",
                (p["id"], p["order_id"], return_id, key, amount, p["currency"],
                 reason)).fetchone()  # fmt: skip
            assert refund is not None
            full = amount == left
            cur.execute(
                "UPDATE payments SET amount_refunded = amount_refunded + %s, status = %s, "
                "updated_at = now() WHERE id = %s AND order_id = %s",
                (amount, "refunded" if full else "partially_refunded", p["id"],
                 p["order_id"]))  # fmt: skip
            cur.execute(
                "INSERT INTO payment_transactions (payment_id, order_id, transaction_type, "
                "status, amount, currency, raw_response) "
                "VALUES (%s, %s, 'refund', 'succeeded', %s, %s, %s)",
                (p["id"], p["order_id"], amount, p["currency"],
                 Jsonb({"refund_id": str(refund["id"])})))  # fmt: skip
            self.outbox.add(conn, "payment.refunded", key=str(p["order_id"]), data={
                "payment_id": str(p["id"]), "order_id": str(p["order_id"]),
                "refund_id": str(refund["id"]), "amount": str(amount),
                "currency": p["currency"], "return_request_id": return_id,
                "fully_refunded": full})  # fmt: skip
            return row_json(refund), True

    def refund_request(self, payment_id: uuid.UUID, r: RefundRequest,
                       key: str | None) -> tuple[dict[str, Any], bool]:  # fmt: skip
        with self.ctx.clients.pg().connection() as conn, conn.transaction():
            out = self.refund(conn, payment_id, decimal.Decimal(r.amount),
                              key or f"refund:{uuid.uuid4()}", r.reason)  # fmt: skip
        if out[1]:
            self.outbox.relay_quietly()
        return out

    def on_event(self, env: Envelope) -> None:
        d = env.data

        def effect(conn: Any) -> None:
            if env.type == "return.approved":
                self.refund(
                    conn,
                    d["payment_id"],
                    price(str(d["amount"]), "amount"),
                    f"return:{d['return_id']}",
                    "return",
                    d["return_id"],
                )
            elif env.type == "order.cancelled":
                self._cancelled(conn, d["order_id"])

        apply_once(self.ctx, self.outbox, env, effect)

    def _cancelled(self, conn: Any, order_id: str) -> None:
        """A cancelled order: void what is pending, refund what was captured."""
        conn.execute(
            "UPDATE payments SET status = 'cancelled', updated_at = now() "
            "WHERE order_id = %s AND status IN ('pending', 'authorized')",
            (order_id,),
        )
        rows = conn.execute(
            "SELECT id, amount - amount_refunded FROM payments WHERE order_id = %s "
            "AND status IN ('captured', 'partially_refunded')",
            (order_id,),
        ).fetchall()
        for payment_id, left in rows:
            self.refund(conn, payment_id, left, f"cancel:{order_id}:{payment_id}",
                        "order cancelled")  # fmt: skip


def handlers(ctx: Context, publisher: Any) -> dict[str, Any]:
    payments = Payments(ctx, outbox_of(ctx, publisher))
    return {"order.created": payments.open, "return.approved": payments.on_event,
            "order.cancelled": payments.on_event}  # fmt: skip


def register(app: FastAPI, ctx: Context, publisher: Any) -> None:
    payments = Payments(ctx, outbox_of(ctx, publisher))

    @app.get("/payments/{payment_id}", tags=["payments"])
    async def get_payment(payment_id: uuid.UUID) -> dict[str, Any]:
        """The payment with its provider transactions and refunds."""
        return await run_in_threadpool(payments.view, payment_id)

    @app.post("/payments/{payment_id}/capture", status_code=201, tags=["payments"])
    async def capture(payment_id: uuid.UUID, body: Capture, idem: IdemKey = None) -> Any:
        """Record the provider's capture: publishes ``payment.succeeded`` (the order is
        confirmed). Repeating it answers 200 with the same payment."""
        idempotency_key(idem)  # checked for shape; a capture happens once whatever the key
        view, new = await run_in_threadpool(payments.capture, payment_id, body)
        return JSONResponse(view, status_code=201 if new else 200)

    @app.post("/payments/{payment_id}/refunds", status_code=201, tags=["payments"])
    async def refund(payment_id: uuid.UUID, body: RefundRequest, idem: IdemKey = None) -> Any:
        """Refund part or all of a captured payment: publishes ``payment.refunded``. A retry
        with the same ``Idempotency-Key`` answers the first refund (200)."""
        got, new = await run_in_threadpool(payments.refund_request, payment_id, body,
                                           idempotency_key(idem))  # fmt: skip
        return JSONResponse(got, status_code=201 if new else 200)
