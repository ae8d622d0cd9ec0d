"""order-processor: registration, money that never goes negative, idempotent retries."""

from __future__ import annotations

import decimal
from concurrent.futures import ThreadPoolExecutor

import pytest

from emulation.stack import LocalStack
from polystore.topology.model import Topology
from tests.services.conftest import RecordingPublisher, client_for

pytestmark = pytest.mark.slow
SYSTEMS = ["order-processor"]
USER = "order-processor.user"


def test_register_then_read_back_through_generated_routes(stack: LocalStack,
                                                          topology: Topology) -> None:  # fmt: skip
    api = client_for(stack, topology, USER, RecordingPublisher())
    r = api.post("/users", json={"username": "alice", "email": "Alice@Example.com",
                                 "password": "correct horse"})  # fmt: skip
    assert r.status_code == 201, r.text
    assert api.get("/users/alice").json()["email"] == "alice@example.com"
    assert "password_hash" not in api.get("/users/alice").json()
    assert api.get("/users", params={"email": "alice@example.com"}).json()["items"][0][
        "username"] == "alice"  # fmt: skip
    assert api.get("/users/alice/balance").json()["current_balance"] == "0"
    again = api.post("/users", json={"username": "alice", "email": "other@example.com",
                                     "password": "correct horse"})  # fmt: skip
    assert again.status_code == 409 and again.json()["error"]["field"] == "username"
    dup = api.post("/users", json={"username": "alice2", "email": "alice@example.com",
                                   "password": "correct horse"})  # fmt: skip
    assert dup.status_code == 409 and dup.json()["error"]["field"] == "email"


@pytest.mark.parametrize("body, field", [
    ({"username": "Bob!", "email": "b@example.com", "password": "longenough"}, "username"),
    ({"username": "bob", "email": "not-an-email", "password": "longenough"}, "email"),
    ({"username": "bob", "email": "b@example.com", "password": "short"}, "password"),
    ({"username": "bob", "email": "b@example.com", "password": "longenough", "x": 1}, "x"),
])
def test_bad_registrations_are_422_naming_the_field(stack: LocalStack, topology: Topology,
                                                    body: dict[str, str], field: str) -> None:
    r = client_for(stack, topology, USER, RecordingPublisher()).post("/users", json=body)
    assert r.status_code == 422, r.text
    assert field in str(r.json()["detail"][0]["loc"])


def test_deposits_withdrawals_and_idempotency(stack: LocalStack, topology: Topology) -> None:
    api = client_for(stack, topology, USER, RecordingPublisher())
    api.post("/users", json={"username": "carol", "email": "carol@example.com",
                             "password": "correct horse"})  # fmt: skip
    first = api.post("/users/carol/deposits", json={"amount": "100.50"},
                     headers={"Idempotency-Key": "dep-1"})  # fmt: skip
    assert first.status_code == 201, first.text
    retry = api.post("/users/carol/deposits", json={"amount": "100.50"},
                     headers={"Idempotency-Key": "dep-1"})  # fmt: skip
    assert retry.status_code == 200 and retry.json() == first.json()
    too_much = api.post("/users/carol/withdrawals", json={"amount": "1000"})
    assert too_much.status_code == 409 and too_much.json()["error"]["field"] == "amount"
    assert api.post("/users/carol/withdrawals", json={"amount": "0.5"}).status_code == 201
    assert api.post("/users/carol/withdrawals", json={"amount": "-1"}).status_code == 422
    assert api.post("/users/nobody/deposits", json={"amount": "1"}).status_code == 404
    assert api.get("/users/carol/balance").json()["current_balance"] == "100.00000000"
    txs = api.get("/users/carol/transactions").json()["items"]
    assert [t["transaction_type"] for t in txs] == ["WITHDRAW", "DEPOSIT"]  # newest first
    only = api.get("/users/carol/transactions", params={"type": "DEPOSIT"}).json()["items"]
    assert [t["transaction_type"] for t in only] == ["DEPOSIT"]


def test_concurrent_withdrawals_never_overdraw(stack: LocalStack, topology: Topology) -> None:
    api = client_for(stack, topology, USER, RecordingPublisher())
    api.post("/users", json={"username": "dave", "email": "dave@example.com",
                             "password": "correct horse"})  # fmt: skip
    api.post("/users/dave/deposits", json={"amount": "500"})

    def withdraw(_: int) -> int:
        return api.post("/users/dave/withdrawals", json={"amount": "1"}).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(withdraw, range(1000)))
    accepted = codes.count(201)
    assert accepted == 500 and codes.count(409) == 500, sorted(set(codes))
    balance = decimal.Decimal(api.get("/users/dave/balance").json()["current_balance"])
    assert balance == 0
    txs, cursor = [], None
    while True:
        page = api.get("/users/dave/transactions", params={"cursor": cursor} if cursor
                       else {}).json()  # fmt: skip
        txs += page["items"]
        cursor = page["next"]
        if not cursor:
            break
    total = sum(decimal.Decimal(t["amount"]) * (1 if t["transaction_type"] == "DEPOSIT" else -1)
                for t in txs)  # fmt: skip
    assert total == balance and len(txs) == 501


def test_order_created_once_per_key_and_published(stack: LocalStack, topology: Topology) -> None:
    pub = RecordingPublisher()
    api = client_for(stack, topology, "order-processor.order", pub)
    order = {"username": "erin", "asset_id": "BTC", "order_type": "BUY", "quantity": "0.5",
             "price": "60000"}  # fmt: skip
    a = api.post("/orders", json=order, headers={"Idempotency-Key": "o-1"})
    b = api.post("/orders", json=order, headers={"Idempotency-Key": "o-1"})
    assert a.status_code == 201 and b.status_code == 200 and a.json() == b.json()
    assert [e[0] for e in pub.events] == ["order.created"]
    oid = a.json()["order_id"]
    assert api.get(f"/orders/{oid}").json()["total_amount"] == "30000.00000000"
    assert api.get("/users/erin/orders", params={"asset_id": "BTC"}).json()["items"][0][
        "order_id"] == oid  # fmt: skip
