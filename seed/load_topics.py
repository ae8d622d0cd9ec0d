"""Events onto topics, where the data flow would produce them — when there is a Kafka.

There is no local Kafka engine yet (another change brings one): without
``KAFKA_BOOTSTRAP_SERVERS`` in the producer's variables, or without a Kafka client
installed, events are reported as not loaded — never silently dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

NOT_LOADED = "not loaded: no local Kafka yet"


def produce(
    env: dict[str, str], topic: str, events: list[dict[str, Any]], advance: Callable[[int], None]
) -> tuple[int, str]:
    """(events written, status)."""
    servers = env.get("KAFKA_BOOTSTRAP_SERVERS")
    if not servers:
        return 0, NOT_LOADED
    try:
        from confluent_kafka import Producer  # type: ignore[import-not-found]
    except ImportError:
        return 0, f"not loaded: no Kafka client installed (KAFKA_BOOTSTRAP_SERVERS={servers})"
    producer = Producer({"bootstrap.servers": servers, "enable.idempotence": True})
    for event in events:
        key = str(next(iter(v for k, v in event.items() if k != "event"), ""))
        producer.produce(topic, key=key.encode(), value=json.dumps(event, sort_keys=True))
        advance(1)
    producer.flush(30)
    return len(events), "loaded"
