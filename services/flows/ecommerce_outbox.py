"""The transactional outbox of an ecommerce service: events commit with their change.

A flow writes its rows and :meth:`Outbox.add` in one PostgreSQL transaction, so an event
exists exactly when the change it announces exists: no event for a rolled-back change, no
change whose event was never sent. After the commit :meth:`Outbox.relay` publishes the
unsent rows in ``seq`` order and marks them sent; a relay that fails (Kafka down, the
process killed between the commit and the publish) leaves them unsent, and the next pass
— the request's own, or the background :class:`OutboxRelay` every ``INTERVAL`` s —
publishes them with the envelope id they were given at ``add``: a row published twice (a
crash after the broker acknowledged it and before it was marked) is one event id twice,
which every consumer dedupes.

One relayer at a time per database (a transaction-scoped advisory lock), so the rows of
one entity go out in the order their transactions committed: a later change of an entity
reads the committed earlier one, so its row has a larger ``seq`` and is visible no sooner.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from psycopg.types.json import Jsonb

from service_events import Catalog
from service_events.envelope import Envelope
from services.patterns import Context

log = logging.getLogger("services.outbox")
LOCK = 0x6F7574626F78  # "outbox": the advisory lock of the relayer of this database
BATCH = 200
INTERVAL = 0.25  # s between background passes (a missed wake-up costs at most this)


def has_outbox(ctx: Context) -> bool:
    """Whether the service's own database declares an ``outbox`` table (its migrations)."""
    system, service = ctx.config.system, ctx.config.service
    return any(s.kind == "postgres" and "outbox" in system.schema(n).tables
               for n, s in system.stores_of(service).items())  # fmt: skip


class Outbox:
    def __init__(self, ctx: Context, publisher: Any) -> None:
        self.ctx = ctx
        self.publisher = publisher
        self.catalog = Catalog.of(ctx.config.system, ctx.config.service, "local",
                                  ctx.config.env)  # fmt: skip
        self.relayed = 0
        self.last_error: str | None = None

    def add(self, conn: Any, event_type: str, key: str, data: dict[str, Any]) -> Envelope:
        """Queue ``event_type`` in the caller's transaction (refused at once, before any
        commit, unless the topology declares this service produces it)."""
        self.catalog.topic_for(event_type)
        env = Envelope(type=event_type, producer=self.catalog.producer, key=key, data=data)
        conn.execute(
            "INSERT INTO outbox (event_id, event_type, event_key, envelope) "
            "VALUES (%s, %s, %s, %s)",
            (env.id, env.type, env.key, Jsonb(json.loads(env.to_bytes()))))  # fmt: skip
        return env

    def relay(self, wait: bool = False) -> int:
        """Publish every unsent row, oldest first; return how many. Without ``wait``, a
        pass that finds another relayer at work returns 0 (that one publishes the rows)."""
        total = 0
        while True:
            with self.ctx.clients.pg().connection() as conn, conn.transaction():
                lock = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
                got = conn.execute(f"SELECT {lock}(%s)", (LOCK,)).fetchone()
                if not wait and not (got and got[0]):
                    return total
                rows = conn.execute(
                    "SELECT seq, envelope FROM outbox WHERE sent_at IS NULL "
                    "ORDER BY seq LIMIT %s", (BATCH,)).fetchall()  # fmt: skip
                if not rows:
                    return total
                seqs = [r[0] for r in rows]
                envs = [Envelope.from_bytes(json.dumps(r[1]).encode(), f"outbox seq {r[0]}")
                        for r in rows]  # fmt: skip
                try:
                    self.publisher.relay(envs)
                except Exception as exc:
                    self.last_error = f"{type(exc).__name__}: {exc}"[:500]
                    conn.execute("UPDATE outbox SET attempts = attempts + 1, last_error = %s "
                                 "WHERE seq = ANY(%s)", (self.last_error, seqs))  # fmt: skip
                    error: Exception | None = exc
                else:
                    conn.execute("UPDATE outbox SET sent_at = now(), attempts = attempts + 1, "
                                 "last_error = NULL WHERE seq = ANY(%s)", (seqs,))  # fmt: skip
                    error = None
            if error is not None:  # committed the attempt count; the rows stay unsent
                raise error
            total += len(rows)
            self.relayed += len(rows)

    def relay_quietly(self) -> None:
        """After a flow's commit: publish now if possible; a failure is logged, not the
        request's (its event is safe in the outbox and the background relay retries)."""
        try:
            self.relay()
        except Exception:
            log.warning("outbox relay failed; the background relay retries", exc_info=True)

    def pending(self) -> int:
        with self.ctx.clients.pg().connection() as conn:
            row = conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()
        return int(row[0]) if row else 0


class OutboxRelay:
    """The background relay: a pass every ``INTERVAL`` s, backing off while Kafka fails."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        delay = INTERVAL
        while not self._stop.wait(delay):
            try:
                self.outbox.relay()
                delay = INTERVAL
            except Exception:
                log.warning("outbox relay failed; retrying in %.1fs", delay, exc_info=True)
                delay = min(30.0, delay * 2)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="outbox-relay")
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        try:  # what the last requests queued goes out before the process ends
            self.outbox.relay(wait=True)
        except Exception:
            log.warning("outbox rows left unsent at shutdown (sent at the next start)")

    def state(self) -> dict[str, Any]:
        alive = self._thread is not None and self._thread.is_alive()
        try:
            pending: int | str = self.outbox.pending()
        except Exception as exc:  # a health report reports
            pending = f"{type(exc).__name__}: {exc}"[:200]
        return {"running": alive, "relayed": self.outbox.relayed, "pending": pending,
                "last_error": self.outbox.last_error}  # fmt: skip
