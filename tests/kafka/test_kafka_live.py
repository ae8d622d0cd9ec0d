"""Kafka and Kafka Connect as real processes: data in, data out, data kept.

One broker and one worker for the module (tests/kafka/conftest.py); the restart tests
run last and leave both running again.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, ResourceType

from emulation.kafka import probes, topics
from emulation.kafka.broker import cluster_id
from polystore.naming import local_name
from polystore.topology.model import Topology
from tests.kafka.conftest import KafkaProcesses

pytestmark = pytest.mark.slow


def produce(bootstrap: str, topic: str, records: list[tuple[str, str]]) -> None:
    """Produce with acks=all and idempotence; fail unless every record is acknowledged."""
    errors: list[Any] = []
    producer = Producer(probes.client_config(bootstrap, acks="all", **{"enable.idempotence": True}))
    for key, value in records:
        producer.produce(
            topic,
            key=key,
            value=value,
            on_delivery=lambda err, _msg: errors.append(err) if err else None,
        )
    assert producer.flush(30) == 0, "records still unacknowledged after 30 s"
    assert errors == []


def consume_all(
    bootstrap: str, topic: str, expected: int, timeout: float = 30
) -> list[tuple[str, str]]:
    """Read ``topic`` from the beginning with a fresh group until ``expected`` records."""
    consumer = Consumer(
        probes.client_config(
            bootstrap,
            **{
                "group.id": f"test-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            },
        )
    )
    consumer.subscribe([topic])
    out: list[tuple[str, str]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < expected and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise AssertionError(msg.error())
            out.append((msg.key().decode(), msg.value().decode()))
    finally:
        consumer.close()
    return out


def create_topic(bootstrap: str, name: str, partitions: int = 1) -> None:
    from confluent_kafka.admin import NewTopic

    admin = AdminClient(probes.client_config(bootstrap))
    admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])[
        name
    ].result(30)


def test_produce_consume_round_trip(kafka_procs: KafkaProcesses) -> None:
    topic = f"roundtrip-{uuid.uuid4().hex[:8]}"
    create_topic(kafka_procs.bootstrap, topic, partitions=3)
    records = [(f"k{i % 7}", json.dumps({"n": i})) for i in range(500)]
    produce(kafka_procs.bootstrap, topic, records)
    got = consume_all(kafka_procs.bootstrap, topic, len(records))
    assert sorted(got) == sorted(records)
    # per-key order is what keyed events rely on
    for key in {k for k, _ in records}:
        assert [v for k, v in got if k == key] == [v for k, v in records if k == key]


def test_broker_refuses_undeclared_topics(kafka_procs: KafkaProcesses) -> None:
    """As on MSK Serverless, producing to a topic nobody created does not create it."""
    producer = Producer(probes.client_config(kafka_procs.bootstrap, **{"message.timeout.ms": 3000}))
    errors: list[Any] = []
    producer.produce("never-declared", value=b"x", on_delivery=lambda err, _m: errors.append(err))
    producer.flush(10)
    assert errors and errors[0] is not None
    assert "never-declared" not in probes.kafka(kafka_procs.bootstrap)["topics"]


def test_connect_lists_debezium_postgres(kafka_procs: KafkaProcesses) -> None:
    plugins = probes.connector_plugins(kafka_procs.connect_url)
    classes = {p["class"]: p for p in plugins}
    assert "io.debezium.connector.postgresql.PostgresConnector" in classes
    assert classes["io.debezium.connector.postgresql.PostgresConnector"]["type"] == "source"
    assert probes.connect(kafka_procs.connect_url) == []
    # the worker's internal topics exist, so its configs and offsets are kept in Kafka
    names = probes.kafka(kafka_procs.bootstrap)["topics"]
    assert {
        "polystore-connect-configs",
        "polystore-connect-offsets",
        "polystore-connect-status",
    } <= set(names)


def test_topics_from_the_topology(kafka_procs: KafkaProcesses, topology: Topology) -> None:
    systems = list(topology.systems.values())
    bootstrap = kafka_procs.bootstrap
    assert topics.parity(systems, bootstrap)  # nothing provisioned yet: all missing
    first = topics.provision(systems, bootstrap, progress=lambda _: None)
    declared = topics.declared(systems)
    assert sorted(first.created) == sorted(s.name for s in declared)
    assert topics.parity(systems, bootstrap) == []
    again = topics.provision(systems, bootstrap, progress=lambda _: None)
    assert not again.changed and again.problems == []

    bellyfed = topology.systems["bellyfed"]
    cdc = local_name(bellyfed, "cdc-topic")
    metadata = AdminClient(probes.client_config(bootstrap)).list_topics(timeout=10)
    assert len(metadata.topics[cdc].partitions) == bellyfed.stores["cdc-topic"].partitions


def test_parity_reports_drift_and_provisioning_repairs_it(
    kafka_procs: KafkaProcesses, topology: Topology
) -> None:
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry

    systems = [topology.systems["ecommerce"]]
    bootstrap = kafka_procs.bootstrap
    topics.provision(systems, bootstrap, progress=lambda _: None)
    admin = AdminClient(probes.client_config(bootstrap))
    user_events = local_name(systems[0], "user-events")
    order_events = local_name(systems[0], "order-events")
    # out-of-band changes: a shorter retention on one topic, extra partitions on another,
    # and a topic with the system's prefix that the topology does not declare
    admin.incremental_alter_configs(
        [
            ConfigResource(
                ResourceType.TOPIC,
                user_events,
                incremental_configs=[
                    ConfigEntry("retention.ms", "1000", incremental_operation=AlterConfigOpType.SET)
                ],
            )
        ]
    )[ConfigResource(ResourceType.TOPIC, user_events)].result(30)
    admin.create_partitions([NewPartitions(order_events, 8)])[order_events].result(30)
    stray = "ecommerce-local-typo.events"
    create_topic(bootstrap, stray)

    # the broker applies metadata a moment after the controller accepts it
    deadline = time.monotonic() + 10
    while len(drift := topics.parity(systems, bootstrap)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any(user_events in ln and "retention.ms=1000" in ln for ln in drift), drift
    assert any(order_events in ln and "8 partitions, declared 6" in ln for ln in drift), drift
    assert any(stray in ln and "not declared" in ln for ln in drift), drift

    report = topics.provision(systems, bootstrap, progress=lambda _: None)
    assert any(user_events in ln for ln in report.reconfigured)
    assert any(order_events in ln and "cannot remove partitions" in ln for ln in report.problems)
    remaining = topics.parity(systems, bootstrap)
    assert not any(user_events in ln for ln in remaining)
    assert any(order_events in ln for ln in remaining)  # reported, never silently "fixed"


def test_stop_start_keeps_data(kafka_procs: KafkaProcesses) -> None:
    topic = f"durable-{uuid.uuid4().hex[:8]}"
    create_topic(kafka_procs.bootstrap, topic)
    records = [(f"k{i}", f"v{i}") for i in range(200)]
    produce(kafka_procs.bootstrap, topic, records)
    before = probes.kafka(kafka_procs.bootstrap)["cluster_id"]

    kafka_procs.stop()
    kafka_procs.start()

    assert probes.kafka(kafka_procs.bootstrap)["cluster_id"] == before
    assert before == cluster_id(kafka_procs.data("kafka"))
    assert sorted(consume_all(kafka_procs.bootstrap, topic, len(records))) == sorted(records)
    assert any(
        p["class"].endswith("PostgresConnector")
        for p in probes.connector_plugins(kafka_procs.connect_url)
    )


def test_kill9_of_the_broker_keeps_acknowledged_records(kafka_procs: KafkaProcesses) -> None:
    topic = f"crash-{uuid.uuid4().hex[:8]}"
    create_topic(kafka_procs.bootstrap, topic, partitions=2)
    records = [(f"k{i % 13}", f"v{i}") for i in range(2000)]
    produce(kafka_procs.bootstrap, topic, records)  # every record acknowledged (acks=all)

    kafka_procs.kill9("kafka")
    kafka_procs.start(("kafka",))

    got = consume_all(kafka_procs.bootstrap, topic, len(records))
    assert sorted(got) == sorted(records)
    # Connect rejoins the restarted broker on its own
    assert probes.connect(kafka_procs.connect_url) == []
