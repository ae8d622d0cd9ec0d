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
