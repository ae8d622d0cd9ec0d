"""The service's event consumer: the topics the topology says it consumes, in a thread.

One consumer per service process, group ``<system>.<service>`` (so the service's replicas
share the partitions and each event is applied by one of them), started and stopped by
the app's lifespan: ``python -m services`` locally and the ECS task run the same code.

Each envelope goes to the handler the system's flow module registered for its type
(``handlers(ctx, publisher) -> {event_type: handler}``). The offset is committed only
after the handler returned (:class:`events.client.Subscriber`); a handler that raises
leaves its event uncommitted and rewound: the error is logged and kept for ``/health``,
the consumer backs off and the same event comes again. Delivery is therefore at least
once, so every handler is idempotent: it claims the envelope id in its own PostgreSQL
transaction (:func:`events.dedupe.claim_in_postgres`) or writes with DynamoDB
conditions keyed by the event (a second application finds its own item and stops).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from service_events.envelope import Envelope
from services.config import ServiceConfig

Handler = Callable[[Envelope], None]
log = logging.getLogger("services.consumer")

BACKOFF_FIRST, BACKOFF_MAX = 0.5, 30.0
BATCH = 50  # events per Subscriber.run call: the loop checks for stop in between


class EventConsumer:
    """Runs ``Subscriber.run`` in a daemon thread until :meth:`stop`."""

    def __init__(self, config: ServiceConfig, handlers: Mapping[str, Handler],
                 subscriber_factory: Callable[[], Any] | None = None) -> None:  # fmt: skip
        self.config = config
        self.handlers = dict(handlers)
        self.group = f"{config.system.name}.{config.service}"
        self._factory = subscriber_factory or self._subscriber
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.handled = 0
        self.skipped = 0
        self.failures = 0
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.last_event_at: float | None = None
        self.subscribed = False
        self.lag: int | None = None  # after the last batch, from cached watermarks

    def _subscriber(self) -> Any:
        from service_events import Catalog, client_config
        from service_events.client import Subscriber

        catalog = Catalog.of(self.config.system, self.config.service, "local",
                             self.config.env)  # fmt: skip
        return Subscriber(catalog, self.group, config=client_config(self.config.env))

    def dispatch(self, env: Envelope) -> None:
        handler = self.handlers.get(env.type)
        if handler is None:  # declared for this service, but it has nothing to do with it
            self.skipped += 1
            log.debug("no handler for %s (%s)", env.type, env.id)
            return
        t0 = time.perf_counter()
        handler(env)
        self.handled += 1
        self.last_event_at = time.time()
        log.info("event applied", extra={"fields": {
            "event": env.type, "event_id": env.id, "key": env.key,
            "ms": round((time.perf_counter() - t0) * 1000, 2)}})  # fmt: skip

    def _loop(self) -> None:
        backoff = BACKOFF_FIRST
        subscriber: Any = None
        while not self._stop.is_set():
            try:
                if subscriber is None:
                    subscriber = self._factory()
                    self.subscribed = True
                subscriber.run(self.dispatch, max_events=BATCH, idle_timeout=0.5)
                backoff = BACKOFF_FIRST
                lag = getattr(subscriber, "lag", None)
                self.lag = lag() if lag is not None else None
            except Exception as exc:  # a consumer reports and retries, it does not die
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"[:500]
                self.last_error_at = time.time()
                log.exception("event consumer failed; retrying in %.1fs", backoff,
                              extra={"fields": {"group": self.group}})  # fmt: skip
                self._stop.wait(backoff)
                backoff = min(BACKOFF_MAX, backoff * 2)
        if subscriber is not None:
            try:
                subscriber.close()
            except Exception:  # closing on shutdown: nothing more to do
                log.exception("closing the subscriber")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"consumer-{self.group}",
                                        daemon=True)  # fmt: skip
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def state(self) -> dict[str, Any]:
        """For ``/health``: running, events handled, the last error, the lag."""
        alive = self._thread is not None and self._thread.is_alive()
        return {"group": self.group, "running": alive, "subscribed": self.subscribed,
                "events": sorted(self.handlers), "handled": self.handled,
                "skipped": self.skipped, "failures": self.failures,
                "last_error": self.last_error, "last_error_at": self.last_error_at,
                "last_event_at": self.last_event_at, "lag": self.lag}  # fmt: skip


def consumer_for(config: ServiceConfig, module: Any, ctx: Any,
                 publisher: Any) -> EventConsumer | None:  # fmt: skip
    """The service's consumer, or None when it consumes no topic or handles no event."""
    if not config.system.consumed_topics(config.service):
        return None
    make = getattr(module, "handlers", None) if module is not None else None
    handlers = make(ctx, publisher) if make is not None else {}
    return EventConsumer(config, handlers) if handlers else None
