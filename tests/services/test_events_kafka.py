"""Services publish through the events library to the stack's real Kafka."""

from __future__ import annotations

import json

import pytest
from confluent_kafka import Consumer

from emulation.stack import LocalStack
from polystore.topology.model import Topology
from tests.services.conftest import client_for, service_env

pytestmark = pytest.mark.slow
SYSTEMS = ["bellyfed"]
SERVICE = "bellyfed.restaurant-api"


def test_a_served_pattern_publishes_its_analytics_event(stack: LocalStack,
                                                        topology: Topology) -> None:  # fmt: skip
    api = client_for(stack, topology, SERVICE)  # the real publisher: Kafka of the stack
    r = api.get("/restaurants", params={"city": "Nowhere"})
    assert r.status_code == 200, r.text
    env = service_env(stack, topology, SERVICE)
    consumer = Consumer({"bootstrap.servers": env["KAFKA_BOOTSTRAP_SERVERS"],
                         "group.id": "test-analytics", "auto.offset.reset": "earliest"})
    consumer.subscribe([env["KAFKA_TOPIC_ANALYTICS_TOPIC"]])
    try:
        seen = []
        for _ in range(40):
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error():
                seen.append(json.loads(msg.value()))
                break
    finally:
        consumer.close()
    assert seen, "no event on the analytics topic"
    event = seen[0]
    assert event["type"] == "RESTAURANTS_LISTED"
    assert event["producer"] == "bellyfed.restaurant-api"
    assert event["data"]["params"] == {"city": "Nowhere"}


def test_seeded_events_reach_kafka_as_envelopes(stack: LocalStack, topology: Topology) -> None:
    """seed.load_topics counts only what Kafka acknowledged, written as the producer would."""
    from seed.load_topics import produce

    env = service_env(stack, topology, SERVICE)
    topic = env["KAFKA_TOPIC_ANALYTICS_TOPIC"]
    events = [{"event": "RESTAURANT_VIEWED", "restaurant_id": f"seeded-{n}"} for n in range(3)]
    advanced: list[int] = []
    written, status = produce(env, topic, SERVICE, events, advanced.append)
    assert (written, status, sum(advanced)) == (3, "loaded", 3)
    consumer = Consumer({"bootstrap.servers": env["KAFKA_BOOTSTRAP_SERVERS"],
                         "group.id": "test-seeded", "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    seen: dict[str, dict[str, object]] = {}
    try:
        for _ in range(60):
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error():
                body = json.loads(msg.value())
                if str(body.get("key", "")).startswith("seeded-"):
                    seen[body["key"]] = body
            if len(seen) == 3:
                break
    finally:
        consumer.close()
    assert sorted(seen) == ["seeded-0", "seeded-1", "seeded-2"]
    assert {b["type"] for b in seen.values()} == {"RESTAURANT_VIEWED"}
    assert {b["producer"] for b in seen.values()} == {SERVICE}
