"""What the ecommerce flows share: the service's outbox, applying an event once, money.

Every ecommerce service owns one PostgreSQL database and nothing else; another service's
rows are known by id only. A consumed event is applied in one transaction that claims its
envelope id (``processed_events``), makes its change and queues the events it causes in
the outbox; the outbox is relayed after the commit (:mod:`services.flows.ecommerce_outbox`).
"""

from __future__ import annotations

import decimal
import logging
from collections.abc import Callable
from typing import Any

from pydantic import Field, field_validator

from service_events.dedupe import claim_in_postgres
from service_events.envelope import Envelope
from services.errors import ApiError
from services.flows.common import Body
from services.flows.ecommerce_outbox import Outbox
from services.patterns import Context

log = logging.getLogger("services.ecommerce")
CENT = decimal.Decimal("0.01")
MAX_AMOUNT = decimal.Decimal("9999999999.99")  # numeric(12, 2)

_OUTBOXES: dict[int, Outbox] = {}


def outbox_of(ctx: Context, publisher: Any) -> Outbox:
    """The one outbox of this service process (its flows, consumer and relay share it)."""
    key = id(ctx.clients)
    if key not in _OUTBOXES:
        _OUTBOXES[key] = Outbox(ctx, publisher)
    return _OUTBOXES[key]


def price(value: str, field: str, positive: bool = True) -> decimal.Decimal:
    """A money amount of ``numeric(12, 2)``: a decimal string, at most 2 places."""
    try:
        d = decimal.Decimal(value)
    except decimal.InvalidOperation:
        raise ValueError(f"{field} must be a decimal string, got {value!r}") from None
    if not d.is_finite() or d < 0 or (positive and d == 0):
        raise ValueError(f"{field} must be a {'positive' if positive else 'non-negative'} amount")
    if d != d.quantize(CENT):
        raise ValueError(f"{field} has more than 2 decimal places")
    if d > MAX_AMOUNT:
        raise ValueError(f"{field} is above {MAX_AMOUNT}")
    return d.quantize(CENT)


class Address(Body):
    """A shipping address as the order snapshots it (order-db ``shipping_addresses``)."""

    recipient_name: str = Field(min_length=1, max_length=200)
    company: str | None = Field(None, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    region: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, max_length=20)
    country_code: str = Field(min_length=2, max_length=2, pattern=r"^[A-Z]{2}$")
    phone: str | None = Field(None, max_length=32)


class Currency(Body):
    currency: str = Field("USD", min_length=3, max_length=3)

    @field_validator("currency")
    @classmethod
    def _upper(cls, v: str) -> str:
        if not v.isalpha() or not v.isupper():
            raise ValueError("an ISO 4217 code, upper case (USD)")
        return v


def apply_once(ctx: Context, outbox: Outbox | None, env: Envelope,
               effect: Callable[[Any], None]) -> bool:  # fmt: skip
    """Apply ``env`` once: claim its id, run ``effect(conn)`` in the same transaction, then
    relay what it queued. A business refusal (an :class:`ApiError`: the order is in
    another state, the refund exceeds the payment) is logged and the event counts as
    handled — retrying it would refuse again; its partial writes roll back to a savepoint.
    Any other error rolls everything back and the consumer gets the event again."""
    consumer = f"{ctx.config.system.name}.{ctx.config.service}"
    with ctx.clients.pg().connection() as conn, conn.transaction():
        if not claim_in_postgres(conn, consumer, env.id):
            return False
        try:
            with conn.transaction():  # a savepoint
                effect(conn)
        except ApiError as exc:
            log.warning("event not applied", extra={"fields": {
                "event": env.type, "event_id": env.id, "reason": str(exc)}})  # fmt: skip
    if outbox is not None:
        outbox.relay_quietly()
    return True
