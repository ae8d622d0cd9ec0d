"""tcgstore end to end through the stack's real Kafka: the order service publishes
``order.placed``; inventory moves the stock (all lines or none, never below zero) and
payment records the payment, each once however often the event comes."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from emulation.stack import LocalStack
from polystore.topology.model import Topology
from service_events import Catalog, Envelope, client_config
from service_events.client import TYPE_HEADER
from services.flows.tcgstore_events import apply_to_stock
from tests.services.conftest import client_for, service_env, wait_for

pytestmark = pytest.mark.slow
SYSTEMS = ["tcgstore"]
WAIT = 90.0  # seconds: consumer group join + delivery on a loaded machine




@pytest.fixture(scope="module")
def apps(stack: LocalStack, topology: Topology) -> Iterator[dict[str, TestClient]]:
    # ``with``: the lifespan runs, so inventory's and payment's consumer threads run
    with client_for(stack, topology, "tcgstore.order") as order, \
            client_for(stack, topology, "tcgstore.inventory") as inventory, \
            client_for(stack, topology, "tcgstore.payment") as payment:  # fmt: skip
        yield {"order": order, "inventory": inventory, "payment": payment}


def receive(inv: TestClient, card: str, location: str, qty: int) -> None:
    r = inv.post(f"/cards/{card}/stock-movements", json={
        "location": location, "quantity_delta": qty, "movement_type": "receipt"})  # fmt: skip
    assert r.status_code == 201, r.text


def levels(inv: TestClient, card: str) -> dict[str, int]:
    return {x["location"]: x["quantity_on_hand"]
            for x in inv.get(f"/cards/{card}/stock").json()["items"]}  # fmt: skip


def handled(app: TestClient) -> int:
    return int(app.get("/health").json()["consumer"]["handled"])


def pg(stack: LocalStack, topology: Topology) -> psycopg.Connection[Any]:
    e = service_env(stack, topology, "tcgstore.inventory")
    return psycopg.connect(host=e["PGHOST"], port=e["PGPORT"], user=e["PGUSER"],
                           password=e["PGPASSWORD"], dbname=e["PGDATABASE"],
                           autocommit=True)  # fmt: skip


def republish(stack: LocalStack, topology: Topology, order_id: str) -> None:
    """Deliver an order's event twice more: the very same envelope (a Kafka redelivery)
    and a new envelope with the same data (the order service publishing it again)."""
    from confluent_kafka import Consumer, Producer

    env = service_env(stack, topology, "tcgstore.order")
    cfg = client_config(env)
    topic = Catalog.of(topology.system("tcgstore"), "order", "local", env).topic_for("order.placed")
    reader = Consumer(
        {
            **cfg,
            "group.id": f"test-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    reader.subscribe([topic])
    original: Envelope | None = None
    deadline = time.monotonic() + WAIT
    try:
        while original is None and time.monotonic() < deadline:
            msg = reader.poll(0.5)
            if msg is not None and not msg.error():
                e = Envelope.from_bytes(msg.value())
                if e.key == order_id:
                    original = e
    finally:
        reader.close()
    assert original is not None, f"order.placed of {order_id} not on {topic}"
    again = Envelope(type=original.type, producer=original.producer, key=original.key,
                     data=original.data)  # fmt: skip
    producer = Producer(cfg)
    for e in (original, again):
        producer.produce(topic, key=e.key.encode(), value=e.to_bytes(),
                         headers={TYPE_HEADER: e.type})  # fmt: skip
    assert producer.flush(30) == 0
    producer.close()


def test_order_moves_stock_and_records_payment_once(
    apps: dict[str, TestClient], stack: LocalStack, topology: Topology
) -> None:
    inv, pay, order = apps["inventory"], apps["payment"], apps["order"]
    receive(inv, "card-a", "S1", 5)
    receive(inv, "card-a", "S2", 3)
    receive(inv, "card-b", "S1", 2)
    placed = order.post("/orders", json={"customer_id": "cust-e2e", "lines": [
        {"card_id": "card-a", "quantity": 6, "unit_price": "2.50"},
        {"card_id": "card-b", "quantity": 1, "unit_price": "10"}]})  # fmt: skip
    assert placed.status_code == 201, placed.text
    oid = placed.json()["OrderId"]

    moves = wait_for(
        "the order's stock movements",
        lambda: inv.get(f"/orders/{oid}/stock-movements").json()["items"],
    )
    # the line of 6 is taken from the location with most available first, then the next
    assert sorted((m["card_id"], m["location"], m["quantity_delta"], m["movement_type"])
                  for m in moves) == [("card-a", "S1", -5, "sale"), ("card-a", "S2", -1, "sale"),
                                      ("card-b", "S1", -1, "sale")]  # fmt: skip
    assert levels(inv, "card-a") == {"S1": 0, "S2": 2} and levels(inv, "card-b") == {"S1": 1}
    pays = wait_for("the payment", lambda: pay.get(f"/orders/{oid}/payments").json()["items"])
    assert [(p["Amount"], p["Currency"], p["Method"], p["Status"]) for p in pays] == [
        ("25.00000000", "USD", "card", "PENDING")
    ]
    assert pay.get(f"/payments/{pays[0]['PaymentId']}").json()["OrderId"] == oid
    assert inv.get(f"/orders/{oid}/stock-shortages").json()["items"] == []

    # redelivered (same envelope) and republished (new envelope id): nothing changes
    before = {"inventory": handled(inv), "payment": handled(pay)}
    republish(stack, topology, oid)
    for name, app in (("inventory", inv), ("payment", pay)):
        wait_for(
            f"{name} consumed both copies",
            lambda app=app, name=name: handled(app) >= before[name] + 2,
        )
    assert len(inv.get(f"/orders/{oid}/stock-movements").json()["items"]) == 3
    assert levels(inv, "card-a") == {"S1": 0, "S2": 2} and levels(inv, "card-b") == {"S1": 1}
    assert len(pay.get(f"/orders/{oid}/payments").json()["items"]) == 1
    with pg(stack, topology) as conn:
        claims = conn.execute("SELECT count(*) FROM processed_events WHERE event_id = %s",
                              (f"order.placed:{oid}",)).fetchone()  # fmt: skip
    assert claims == (1,)


def test_a_short_order_moves_nothing_and_is_recorded(apps: dict[str, TestClient]) -> None:
    inv, pay, order = apps["inventory"], apps["payment"], apps["order"]
    receive(inv, "card-c", "S1", 4)
    receive(inv, "card-d", "S1", 2)
    placed = order.post("/orders", json={"customer_id": "cust-short", "lines": [
        {"card_id": "card-c", "quantity": 1, "unit_price": "1"},
        {"card_id": "card-d", "quantity": 3, "unit_price": "1"},
        {"card_id": "card-none", "quantity": 1, "unit_price": "1"}]})  # fmt: skip
    oid = placed.json()["OrderId"]
    short = wait_for(
        "the shortage record", lambda: inv.get(f"/orders/{oid}/stock-shortages").json()["items"]
    )
    assert sorted((s["card_id"], s["requested"], s["available"]) for s in short) == [
        ("card-d", 3, 2),
        ("card-none", 1, 0),
    ]
    assert inv.get(f"/orders/{oid}/stock-movements").json()["items"] == []
    assert levels(inv, "card-c") == {"S1": 4} and levels(inv, "card-d") == {"S1": 2}
    # payment knows nothing of stock: the order's payment is recorded (docs/services.md)
    wait_for("the payment", lambda: pay.get(f"/orders/{oid}/payments").json()["items"])


def test_concurrent_and_repeated_orders_never_oversell(apps: dict[str, TestClient],
                                                      stack: LocalStack,
                                                      topology: Topology) -> None:  # fmt: skip
    """Two replicas' worth of handlers on one card: 200 orders of 1 (each delivered twice,
    shuffled) from 8 threads against 150 units across two locations."""
    inv = apps["inventory"]
    receive(inv, "card-hot", "S1", 100)
    receive(inv, "card-hot", "S2", 50)
    ctx = inv.app.state.ctx  # type: ignore[attr-defined]
    envs = [Envelope(type="order.placed", producer="tcgstore.order", key=f"hot-{i}",
                     data={"OrderId": f"hot-{i}", "Total": "1", "Currency": "USD",
                           "Lines": [{"LineNumber": 1, "CardId": "card-hot", "Quantity": 1,
                                      "UnitPrice": "1"}]}) for i in range(200)]  # fmt: skip
    work = envs + envs
    random.Random(7).shuffle(work)
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda e: apply_to_stock(ctx, e), work))
    assert outcomes.count("applied") == 150 and outcomes.count("short") == 50
    assert outcomes.count("duplicate") == 200
    assert levels(inv, "card-hot") == {"S1": 0, "S2": 0}
    with pg(stack, topology) as conn:
        moved = conn.execute("SELECT count(*), sum(quantity_delta) FROM stock_movements "
                             "WHERE reference_id LIKE 'hot-%'").fetchone()  # fmt: skip
        shorts = conn.execute("SELECT count(*) FROM stock_shortages "
                              "WHERE order_id LIKE 'hot-%'").fetchone()  # fmt: skip
    assert moved == (150, -150) and shorts == (50,)


def test_a_malformed_event_is_skipped(apps: dict[str, TestClient]) -> None:
    ctx = apps["inventory"].app.state.ctx  # type: ignore[attr-defined]
    bad = Envelope(type="order.placed", producer="tcgstore.order", key="bad",
                   data={"OrderId": "bad", "Lines": "not a list"})  # fmt: skip
    assert apply_to_stock(ctx, bad) == "malformed"
    assert apps["inventory"].get("/orders/bad/stock-shortages").json()["items"] == []


def test_a_stopped_service_closes_its_producer_cleanly(
    stack: LocalStack, topology: Topology, tmp_path: Any
) -> None:
    """SIGTERM (what ECS and ``polystore down`` send): the lifespan flushes and closes the
    producer of the events it published; the shutdown completes with no error and no
    librdkafka complaint."""
    import signal
    import subprocess
    import sys

    import httpx

    from emulation.ports import free_port
    from emulation.runtimes.embedded import process_env

    port = free_port()
    log = tmp_path / "order.log"
    env = process_env(service_env(stack, topology, "tcgstore.order"))
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "services", "tcgstore.order", "--host",
                                 "127.0.0.1", "--port", str(port)], env=env, stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for("the order service", lambda: _ok(url + "/health"))
        r = httpx.post(url + "/orders", json={"customer_id": "cust-stop", "lines": [
            {"card_id": "card-z", "quantity": 1, "unit_price": "1"}]})  # fmt: skip
        assert r.status_code == 201, r.text
        proc.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal once its shutdown is complete
        assert proc.wait(30) in (0, -signal.SIGTERM), log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert "Application shutdown complete" in text and '"exception"' not in text, text
    assert "TERMINATE" not in text and "still in queue" not in text, text
    logged = [json.loads(x) for x in text.splitlines() if x.startswith("{")]
    assert [(x["method"], x["status"]) for x in logged if x.get("path") == "/orders"] == [
        ("POST", 201)
    ]  # the access log: one JSON line per request


def _ok(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
