"""What write flows share: money as Decimal strings, ids that sort by time, retries."""

from __future__ import annotations

import decimal
import os
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, field_validator

from services.errors import BadParameter, Conflict

T = TypeVar("T")
MONEY_PLACES = decimal.Decimal("0.00000001")  # crypto amounts: 8 decimal places


class Body(BaseModel):
    """Request bodies: unknown fields are a 422 naming them, no silent coercion of types."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Amount(Body):
    amount: str
    description: str = ""

    @field_validator("amount")
    @classmethod
    def _positive_decimal(cls, v: str) -> str:
        return str(money(v, "amount"))


def money(value: str, field: str) -> decimal.Decimal:
    try:
        d = decimal.Decimal(value)
    except decimal.InvalidOperation:
        raise ValueError(f"{field} must be a decimal string, got {value!r}") from None
    if not d.is_finite() or d <= 0:
        raise ValueError(f"{field} must be a positive amount")
    if d != d.quantize(MONEY_PLACES):
        raise ValueError(f"{field} has more than 8 decimal places")
    return d.quantize(MONEY_PLACES)


def hash_password(password: str) -> str:
    """scrypt with a random salt, in a self-describing string (parameters travel with it)."""
    import hashlib

    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def time_ordered_id() -> str:
    """26 chars, sorts by creation time (ms) then randomness: newest-first by key order."""
    ms = int(time.time() * 1000)
    return f"{ms:013x}{os.urandom(8).hex()[:13]}"


def idempotency_key(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not 1 <= len(raw) <= 128 or not raw.isprintable():
        raise BadParameter("Idempotency-Key must be 1-128 printable characters",
                           "Idempotency-Key")  # fmt: skip
    return raw


def retry_on_conflict(attempt: Callable[[], T], what: str, tries: int = 60) -> T:
    """Run ``attempt`` until it stops raising ``Retry``; a bounded, jittered backoff."""
    for n in range(tries):
        try:
            return attempt()
        except Retry:
            time.sleep(min(0.05, 0.001 * (2 ** min(n, 6))) * random.random())
    raise Conflict(f"{what}: too much contention, try again")


class Retry(Exception):
    """The optimistic write lost a race: read again and retry."""
