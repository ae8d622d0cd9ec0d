"""Events onto topics, where the data flow would produce them — when there is a Kafka.

Each event is written as its producer writes it: a ``service_events`` envelope (type,
producer ``system.service``, key, data), with an id derived from the event's content, so
seeding twice writes the same ids and consumers dedupe them. Nothing is reported loaded
that Kafka did not acknowledge. Without ``KAFKA_BOOTSTRAP_SERVERS`` in the producer's
variables, or without a Kafka client installed, events are reported as not loaded — never
silently dropped. Topics whose events a declared service consumes are not loaded at all
(``seed.api.plan_results`` says why).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from service_events.envelope import Envelope

NOT_LOADED = "not loaded: no local Kafka here"
_IDS = uuid.UUID("5b0e6f4e-6d1c-4e0b-9a53-2f3c2a1d7e10")  # namespace of seeded event ids


def envelope(producer: str, event: dict[str, Any], when: str = "") -> Envelope:
    """The envelope of one seeded event (``event["event"]`` is its type)."""
    data = {k: v for k, v in event.items() if k != "event"}
    key = str(next(iter(data.values()), ""))
    body = json.dumps([producer, event["event"], data], sort_keys=True, default=str)
    return Envelope(type=str(event["event"]), producer=producer, key=key, data=data,
                    id=str(uuid.uuid5(_IDS, body)),
                    **({"time": when} if when else {}))  # fmt: skip


def produce(env: dict[str, str], topic: str, producer: str, events: list[dict[str, Any]],
            advance: Callable[[int], None]) -> tuple[int, str]:  # fmt: skip
    """(events Kafka acknowledged, status)."""
    servers = env.get("KAFKA_BOOTSTRAP_SERVERS")
    if not servers:
        return 0, NOT_LOADED
    try:
        from confluent_kafka import Producer  # type: ignore[import-not-found]
    except ImportError:
        return 0, f"not loaded: no Kafka client installed (KAFKA_BOOTSTRAP_SERVERS={servers})"
    acked: list[int] = []
    errors: list[str] = []

    def delivered(err: Any, _msg: Any) -> None:
        if err is None:
            acked.append(1)
            advance(1)
        else:
            errors.append(str(err))

    producer_client = Producer({"bootstrap.servers": servers, "enable.idempotence": True,
                                "acks": "all", "log_level": 3})  # fmt: skip
    for event in events:
        env_ = envelope(producer, event)
        producer_client.produce(topic, key=env_.key.encode(), value=env_.to_bytes(),
                                on_delivery=delivered)  # fmt: skip
        producer_client.poll(0)
    left = producer_client.flush(30)
    if left or errors:
        why = errors[0] if errors else f"{left} not acknowledged within 30 s"
        return len(acked), f"partly loaded: {why}"
    return len(acked), "loaded"
