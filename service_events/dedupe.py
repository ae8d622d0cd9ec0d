"""Idempotent consumption: handle each event id once, although Kafka delivers at least once.

The reliable form is :func:`claim_in_postgres`, called in the same transaction as the
handler's writes: the event's effect and the record that it was handled commit together,
so a redelivery after a crash finds the id and does nothing. :class:`SeenEvents` is the
in-process form for handlers whose effect is itself idempotent (a cache, a metric).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

# The table claim_in_postgres writes; a consuming service's migrations create it.
PROCESSED_EVENTS_DDL = """\
CREATE TABLE IF NOT EXISTS processed_events (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT processed_events_pkey PRIMARY KEY (consumer, event_id)
)"""


def claim_in_postgres(conn: Any, consumer: str, event_id: str) -> bool:
    """True the first time ``consumer`` claims ``event_id`` (psycopg connection, inside
    the handler's transaction); False for a redelivery."""
    cur = conn.execute(
        "INSERT INTO processed_events (consumer, event_id) VALUES (%s, %s) "
        "ON CONFLICT DO NOTHING", (consumer, event_id))  # fmt: skip
    return bool(cur.rowcount == 1)


class SeenEvents:
    """The last ``capacity`` event ids, in memory."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, event_id: str) -> bool:
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True
