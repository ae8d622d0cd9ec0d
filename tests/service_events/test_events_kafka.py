"""The events library against a real Kafka broker (emulation/kafka's, in a temp dir)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from polystore import load_topology
from polystore.topology.model import System
from service_events import Catalog, Envelope
from service_events.client import Publisher, Subscriber
from service_events.dedupe import SeenEvents

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from confluent_kafka.admin import AdminClient, NewTopic

    from emulation.kafka import engine
    from emulation.ports import free_port
    from tests.kafka.conftest import KafkaProcesses

    ports = {engine.KAFKA: free_port(), engine.CONTROLLER_PORT_KEY: free_port()}
    procs = KafkaProcesses(tmp_path_factory.mktemp("kafka"), ports)
    engine.prepare(procs.data(engine.KAFKA), progress=lambda _: None)
    procs.start((engine.KAFKA,))
    try:
        system = load_topology().system("ecommerce")
        admin = AdminClient({"bootstrap.servers": procs.bootstrap})
        topics = [NewTopic(f"ecommerce-local-{t.topic}", t.partitions, 1)
                  for t in system.topic_stores().values()]  # fmt: skip
        for future in admin.create_topics(topics).values():
            future.result()
        yield procs.bootstrap
    finally:
        procs.stop((engine.KAFKA,))


@pytest.fixture(scope="module")
def ecommerce() -> System:
    return load_topology().system("ecommerce")


def _config(bootstrap: str) -> dict[str, Any]:
    return {"bootstrap.servers": bootstrap, "security.protocol": "PLAINTEXT"}


def test_declared_consumers_receive_the_events_in_order_per_entity(
    bootstrap: str, ecommerce: System
) -> None:
    order = Catalog.of(ecommerce, "order", "local", env={})
    pub = Publisher(order, _config(bootstrap))
    sent: list[Envelope] = []
    for i in range(30):
        key = f"order-{i % 3}"
        sent.append(pub.publish("order.created", key, {"order_id": key, "n": i}))
        sent.append(pub.publish("order.confirmed", key, {"order_id": key, "n": i}))
    pub.flush()

    payment = Catalog.of(ecommerce, "payment", "local", env={})
    sub = Subscriber(payment, f"payment-{uuid.uuid4().hex[:6]}", config=_config(bootstrap))
    got: list[Envelope] = []
    try:
        sub.run(got.append, idle_timeout=5)
    finally:
        sub.close()
    # payment is declared for order.created (and order.cancelled), not order.confirmed
    assert {e.type for e in got} == {"order.created"}
    assert sorted(e.id for e in got) == sorted(e.id for e in sent if e.type == "order.created")
    for key in ("order-0", "order-1", "order-2"):
        ns = [e.data["n"] for e in got if e.key == key]
        assert ns == sorted(ns)  # one entity's events in the order published
    assert all(e.producer == "ecommerce.order" for e in got)


def test_a_failing_handler_sees_the_event_again(bootstrap: str, ecommerce: System) -> None:
    auth = Publisher(Catalog.of(ecommerce, "auth", "local", env={}), _config(bootstrap))
    env = auth.publish("user.created", "u-1", {"user_id": "u-1", "email": "a@example.com"})
    auth.flush()
    group = f"user-{uuid.uuid4().hex[:6]}"
    catalog = Catalog.of(ecommerce, "user", "local", env={})
    sub = Subscriber(catalog, group, config=_config(bootstrap))

    def boom(_: Envelope) -> None:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError, match="database down"):
        sub.run(boom, idle_timeout=5)
    sub.close()
    seen = SeenEvents()
    handled: list[str] = []
    again = Subscriber(catalog, group, config=_config(bootstrap))  # a restarted consumer
    try:
        again.run(lambda e: handled.append(e.id) if seen.first_time(e.id) else None,
                  idle_timeout=5)  # fmt: skip
    finally:
        again.close()
    assert env.id in handled


def test_close_delivers_everything_queued(bootstrap: str, ecommerce: System) -> None:
    """A service closes its publisher on shutdown right after publishing: close() flushes
    before it shuts the producer down, so every queued event reaches the topic."""
    pub = Publisher(Catalog.of(ecommerce, "product", "local", env={}), _config(bootstrap))
    key = f"p-{uuid.uuid4().hex[:6]}"
    sent = [pub.publish("product.updated", key, {"product_id": key, "n": i}).id
            for i in range(500)]  # fmt: skip
    pub.close()  # no flush before it
    got: list[str] = []
    sub = Subscriber(Catalog.of(ecommerce, "cart", "local", env={}),
                     f"cart-{uuid.uuid4().hex[:6]}", config=_config(bootstrap))  # fmt: skip
    try:
        sub.run(lambda e: got.append(e.id) if e.key == key else None, idle_timeout=5)
    finally:
        sub.close()
    assert got == sent
