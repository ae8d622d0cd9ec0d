"""Publish and consume envelopes with confluent-kafka, within what the catalog allows.

:class:`Publisher` keys each event by its entity (one entity's events stay in one
partition, in order) with an idempotent producer (``acks=all``): a broker retry does not
duplicate or reorder. :class:`Subscriber` commits an event's offset only after the
handler returned; a handler that raises leaves the event to be delivered again (at least
once — dedupe by ``Envelope.id``, see :mod:`service_events.dedupe`). Events of types this
service is not declared to consume (a topic may carry several) are skipped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from polystore.topology.model import System
from service_events.catalog import Catalog
from service_events.envelope import Envelope, EnvelopeError
from service_events.kafka_config import client_config

log = logging.getLogger("events")
TYPE_HEADER = "event-type"


class PublishError(RuntimeError):
    """Events the broker did not acknowledge."""


class Publisher:
    def __init__(self, catalog: Catalog, config: dict[str, Any] | None = None) -> None:
        from confluent_kafka import Producer

        self.catalog = catalog
        self._errors: list[str] = []
        self._closed = False
        self._producer = Producer({
            **(config if config is not None else client_config()),
            "enable.idempotence": True, "acks": "all", "linger.ms": 5,
        })  # fmt: skip

    def publish(self, event_type: str, key: str, data: dict[str, Any],
                schema_version: int = 1) -> Envelope:  # fmt: skip
        """Queue one event (refused unless the topology declares this service produces it)."""
        env = Envelope(type=event_type, producer=self.catalog.producer, key=key, data=data,
                       schema_version=schema_version)  # fmt: skip
        return self.publish_envelope(env)

    def publish_envelope(self, env: Envelope) -> Envelope:
        """Queue an envelope built earlier, keeping its id (an outbox's row relayed after
        its commit: a relay repeated after a crash carries the same id, and consumers
        dedupe by it). Refused unless the topology declares this service produces it."""
        if self._closed:
            raise PublishError("the publisher is closed")
        topic = self.catalog.topic_for(env.type)
        if env.producer != self.catalog.producer:
            raise ValueError(f"{self.catalog.producer} cannot relay an event of {env.producer}")
        event_type, key = env.type, env.key
        self._producer.produce(
            topic,
            key=key.encode(),
            value=env.to_bytes(),
            headers={TYPE_HEADER: event_type},
            on_delivery=self._delivered,
        )
        self._producer.poll(0)
        return env

    def _delivered(self, err: Any, msg: Any) -> None:
        if err is not None:
            self._errors.append(f"{msg.topic()}: {err}")

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is queued, then shut the producer down (a service calls this on
        shutdown; later calls do nothing). The flush comes first and raises naming what
        was not acknowledged, so closing never drops an event silently; the producer is
        shut down either way, so librdkafka's threads end here and not at exit."""
        if self._closed:
            return
        self._closed = True
        try:
            self.flush(timeout)
        finally:
            # Drop what the flush gave up on (it raised naming it), so that close()
            # does not wait for it again; librdkafka's threads and sockets end now.
            self._producer.purge()
            self._producer.flush(0)
            self._producer.close()

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every queued event is acknowledged; raise naming what was not."""
        left = self._producer.flush(timeout)
        errors, self._errors = self._errors, []
        if left or errors:
            raise PublishError(f"{left} event(s) unacknowledged after {timeout}s; "
                               f"errors: {'; '.join(errors) or 'none'}")  # fmt: skip


class Subscriber:
    def __init__(self, catalog: Catalog, group: str, topics: list[str] | None = None,
                 config: dict[str, Any] | None = None) -> None:  # fmt: skip
        from confluent_kafka import Consumer

        self.catalog = catalog
        self.topics = catalog.check_topics(topics)
        self._consumer = Consumer({
            **(config if config is not None else client_config()),
            "group.id": group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        })  # fmt: skip
        self._consumer.subscribe(self.topics)

    def run(self, handle: Callable[[Envelope], None], *, max_events: int | None = None,
            idle_timeout: float | None = None) -> int:  # fmt: skip
        """Feed declared events to ``handle``; commit each after it returns. Returns how
        many were handled (stops after ``max_events``, or ``idle_timeout`` s of silence)."""
        from confluent_kafka import TopicPartition

        handled, idle = 0, 0.0
        while max_events is None or handled < max_events:
            msg = self._consumer.poll(0.5)
            if msg is None:
                idle += 0.5
                if idle_timeout is not None and idle >= idle_timeout:
                    break
                continue
            idle = 0.0
            if msg.error():
                raise RuntimeError(f"Kafka: {msg.error()}")
            topic, partition, offset = str(msg.topic()), msg.partition() or 0, msg.offset() or 0
            where = f"{topic}-{partition}@{offset}"
            try:
                env = Envelope.from_bytes(msg.value(), where)
            except EnvelopeError as exc:
                log.error("skipping a record that is not an event: %s", exc)
                self._consumer.commit(message=msg, asynchronous=False)
                continue
            if env.type in self.catalog.consumes.get(topic, frozenset()):
                try:
                    handle(env)
                except Exception:
                    # not committed: rewind so this event comes again, then let it raise
                    self._consumer.seek(TopicPartition(topic, partition, offset))
                    raise
                handled += 1
            self._consumer.commit(message=msg, asynchronous=False)
        return handled

    def lag(self) -> int | None:
        """Events not yet consumed on the assigned partitions (high watermark - position),
        from the client's cached watermarks: no broker round trip. None before assignment."""
        parts = self._consumer.assignment()
        if not parts:
            return None
        total = 0
        for tp in self._consumer.position(parts):
            _, high = self._consumer.get_watermark_offsets(tp, cached=True)
            if high >= 0 and tp.offset >= 0:
                total += max(0, high - tp.offset)
        return total

    def close(self) -> None:
        self._consumer.close()


def publisher_from_env(system: System, service: str, env: Mapping[str, str] | None = None,
                       environment: str = "local") -> Publisher:  # fmt: skip
    """The publisher of ``service``: its catalog, Kafka settings from ``env`` (the
    process environment by default; ``KAFKA_TOPIC_*`` name its topics)."""
    env = os.environ if env is None else env
    return Publisher(Catalog.of(system, service, environment, env), client_config(env))
