"""ecommerce shipping service: a shipment for each confirmed order, and its tracking.

``order.confirmed`` creates the order's shipment (once: the event's claim, and an order
that already has a shipment gets no second one) with the address snapshot the event
carries, on the method the checkout named or else the first active standard method of an
active carrier. ``POST /shipments/{id}/tracking`` appends a carrier event, moves the
shipment's status and queues ``shipment.updated`` in one transaction (the shipment row
locked); a carrier event repeated with the same ``carrier_event_code`` answers the first.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import Field

from service_events.envelope import Envelope
from services.errors import Conflict, NotFound
from services.flows.common import Body
from services.flows.ecommerce_common import apply_once, log, outbox_of
from services.flows.ecommerce_outbox import Outbox
from services.patterns import Context
from services.patterns.postgres import row_json

FINAL = {"delivered", "cancelled", "returned"}  # no carrier event moves these


class Tracking(Body):
    status: Literal["label_created", "in_transit", "out_for_delivery", "delivered",
                    "exception", "returned", "cancelled"]  # fmt: skip
    tracking_number: str | None = Field(None, min_length=1, max_length=128)
    carrier_event_code: str | None = Field(None, min_length=1, max_length=64)
    description: str | None = Field(None, max_length=2000)
    location: str | None = Field(None, max_length=255)
    occurred_at: dt.datetime | None = None


class Shipments:
    def __init__(self, ctx: Context, outbox: Outbox) -> None:
        self.ctx = ctx
        self.outbox = outbox

    def view(self, shipment_id: uuid.UUID) -> dict[str, Any]:
        with self.ctx.clients.pg().connection() as conn, \
                conn.cursor(row_factory=dict_row) as cur:  # fmt: skip
            if cur.execute("SELECT 1 FROM shipments WHERE id = %s", (shipment_id,)).fetchone() \
                    is None:  # fmt: skip
                raise NotFound(f"no shipment {shipment_id}", "shipment_id")
            return self.view_in(cur, shipment_id)

    def create(self, env: Envelope) -> None:
        """``order.confirmed``: the order's shipment, once."""
        d = env.data

        def effect(conn: Any) -> None:
            if conn.execute("SELECT 1 FROM shipments WHERE order_id = %s",
                            (d["order_id"],)).fetchone():  # fmt: skip
                return
            method = conn.execute(
                "SELECT m.id, m.carrier_id FROM shipping_methods m JOIN carriers c "
                "ON c.id = m.carrier_id WHERE m.is_active AND c.is_active "
                "AND (%(code)s::text IS NULL OR m.code = %(code)s) "
                "ORDER BY m.service_level = 'standard' DESC, m.code LIMIT 1",
                {"code": d.get("shipping_method")}).fetchone()  # fmt: skip
            if method is None:
                # nothing to retry until a method exists: logged, the order waits
                log.error("no active shipping method for order %s", d["order_id"])
                return
            row = conn.execute(
                "INSERT INTO shipments (order_id, carrier_id, method_id, ship_to) "
                "VALUES (%s, %s, %s, %s) RETURNING id, status",
                (d["order_id"], method[1], method[0],
                 Jsonb(d.get("ship_to") or {}))).fetchone()  # fmt: skip
            assert row is not None
            self._announce(conn, row[0], d["order_id"], row[1])

        apply_once(self.ctx, self.outbox, env, effect)

    def _announce(self, conn: Any, shipment_id: Any, order_id: Any, status: str,
                  tracking_number: str | None = None) -> None:  # fmt: skip
        self.outbox.add(conn, "shipment.updated", key=str(order_id), data={
            "shipment_id": str(shipment_id), "order_id": str(order_id), "status": status,
            "tracking_number": tracking_number})  # fmt: skip

    def track(self, shipment_id: uuid.UUID, t: Tracking) -> tuple[dict[str, Any], bool]:
        with self.ctx.clients.pg().connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=dict_row) as cur:  # fmt: skip
            s = cur.execute("SELECT * FROM shipments WHERE id = %s FOR UPDATE",
                            (shipment_id,)).fetchone()  # fmt: skip
            if s is None:
                raise NotFound(f"no shipment {shipment_id}", "shipment_id")
            if t.carrier_event_code is not None and cur.execute(
                    "SELECT 1 FROM shipment_tracking WHERE shipment_id = %s "
                    "AND carrier_event_code = %s", (shipment_id, t.carrier_event_code)
            ).fetchone():  # fmt: skip
                return self.view_in(cur, shipment_id), False
            if s["status"] in FINAL and t.status != s["status"]:
                raise Conflict(f"shipment {shipment_id} is {s['status']}", "status")
            at = t.occurred_at or dt.datetime.now(dt.UTC)
            cur.execute(
                "INSERT INTO shipment_tracking (shipment_id, status, carrier_event_code, "
                "description, location, occurred_at) VALUES (%s, %s, %s, %s, %s, %s)",
                (shipment_id, t.status, t.carrier_event_code, t.description, t.location, at),
            )
            number = t.tracking_number or s["tracking_number"]
            cur.execute(
                "UPDATE shipments SET status = %s, tracking_number = %s, updated_at = now(), "
                "shipped_at = CASE WHEN %s IN ('in_transit', 'out_for_delivery', 'delivered') "
                "THEN coalesce(shipped_at, %s) ELSE shipped_at END, "
                "delivered_at = CASE WHEN %s = 'delivered' THEN %s ELSE delivered_at END "
                "WHERE id = %s",
                (t.status, number, t.status, at, t.status, at, shipment_id),
            )
            self._announce(conn, shipment_id, s["order_id"], t.status, number)
            view = self.view_in(cur, shipment_id)
        self.outbox.relay_quietly()
        return view, True

    @staticmethod
    def view_in(cur: Any, shipment_id: Any) -> dict[str, Any]:
        s = cur.execute("SELECT * FROM shipments WHERE id = %s", (shipment_id,)).fetchone()
        events = cur.execute(
            "SELECT * FROM shipment_tracking WHERE shipment_id = %s "
            "ORDER BY occurred_at, recorded_at",
            (shipment_id,),
        ).fetchall()
        return row_json(s) | {"tracking": [row_json(r) for r in events]}


def handlers(ctx: Context, publisher: Any) -> dict[str, Any]:
    return {"order.confirmed": Shipments(ctx, outbox_of(ctx, publisher)).create}


def register(app: FastAPI, ctx: Context, publisher: Any) -> None:
    shipments = Shipments(ctx, outbox_of(ctx, publisher))

    @app.get("/shipments/{shipment_id}", tags=["shipping"])
    async def get_shipment(shipment_id: uuid.UUID) -> dict[str, Any]:
        """The shipment with its tracking events, oldest first."""
        return await run_in_threadpool(shipments.view, shipment_id)

    @app.post("/shipments/{shipment_id}/tracking", status_code=201, tags=["shipping"])
    async def track(shipment_id: uuid.UUID, body: Tracking) -> Any:
        """A carrier event: moves the shipment and publishes ``shipment.updated``. The same
        ``carrier_event_code`` again answers 200 with nothing changed."""
        view, new = await run_in_threadpool(shipments.track, shipment_id, body)
        return JSONResponse(view, status_code=201 if new else 200)
