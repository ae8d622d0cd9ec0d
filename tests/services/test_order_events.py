"""order-processor end to end through the stack's real Kafka: the order service publishes
``order.*``, the user service's consumer applies them to balances and holdings, once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from emulation.stack import LocalStack
from polystore.topology.model import Topology
from tests.services.conftest import client_for, wait_for

pytestmark = pytest.mark.slow
SYSTEMS = ["order-processor"]




@pytest.fixture(scope="module")
def apps(stack: LocalStack, topology: Topology) -> Iterator[tuple[TestClient, TestClient]]:
    # ``with``: the lifespan runs, so the user service's consumer thread runs as in a server
    with client_for(stack, topology, "order-processor.user") as user, \
            client_for(stack, topology, "order-processor.order") as order:  # fmt: skip
        yield user, order


def _balance(user: TestClient, name: str) -> str:
    return str(user.get(f"/users/{name}/balance").json()["current_balance"])


def test_buy_then_execute_moves_money_and_holding(apps: tuple[TestClient, TestClient]) -> None:
    user, order = apps
    assert (
        user.post(
            "/users",
            json={"username": "dave", "email": "dave@example.com", "password": "correct horse"},
        ).status_code
        == 201
    )
    assert user.post("/users/dave/deposits", json={"amount": "1000"}).status_code == 201
    placed = order.post("/orders", json={"username": "dave", "asset_id": "BTC",
                                         "order_type": "BUY", "quantity": "0.5",
                                         "price": "300"})  # fmt: skip
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    wait_for("ORDER_PAYMENT reserved", lambda: _balance(user, "dave") == "850.00000000")
    done = order.post(f"/orders/{order_id}/execution")
    assert done.status_code == 201, done.text
    assert done.json()["status"] == "EXECUTED"
    assets = wait_for("the BTC holding", lambda: user.get("/users/dave/assets").json()["items"])
    assert [(a["asset_id"], a["quantity"]) for a in assets] == [("BTC", "0.50000000")]
    trades = user.get("/users/dave/asset-transactions").json()["items"]
    assert [t["order_id"] for t in trades if t.get("transaction_type") == "BUY"] == [order_id]
    # executing again republishes the same event; it is applied once
    again = order.post(f"/orders/{order_id}/execution")
    assert again.status_code == 200 and again.json()["status"] == "EXECUTED"
    assert order.post(f"/orders/{order_id}/cancellation").status_code == 409
    # a later event behind the repeated one proves the repeat was consumed (in order)
    second = order.post("/orders", json={"username": "dave", "asset_id": "BTC",
                                         "order_type": "BUY", "quantity": "1",
                                         "price": "100"}).json()  # fmt: skip
    wait_for("second payment", lambda: _balance(user, "dave") == "750.00000000")
    assert user.get("/users/dave/assets").json()["items"][0]["quantity"] == "0.50000000"
    # cancelling the second refunds it
    assert order.post(f"/orders/{second['order_id']}/cancellation").status_code == 201
    wait_for("the refund", lambda: _balance(user, "dave") == "850.00000000")
    kinds = [t["transaction_type"] for t in user.get("/users/dave/transactions").json()["items"]]
    assert sorted(kinds) == ["DEPOSIT", "ORDER_PAYMENT", "ORDER_PAYMENT", "ORDER_REFUND"]
    state = user.get("/health").json()["consumer"]
    assert state["running"] and state["group"] == "order-processor.user"
    assert state["handled"] >= 5
    # everything on the topic was consumed: the lag reported is 0 once the batch ended
    wait_for("lag 0", lambda: user.get("/health").json()["consumer"]["lag"] == 0)


def test_unknown_order_is_404_and_health_without_consumer(
        apps: tuple[TestClient, TestClient]) -> None:  # fmt: skip
    _, order = apps
    r = order.post("/orders/nope/execution")
    assert r.status_code == 404 and "nope" in r.text
    assert "consumer" not in order.get("/health").json()  # the order service consumes nothing


def test_an_unfunded_order_is_not_paid_and_its_cancel_refunds_nothing(
    apps: tuple[TestClient, TestClient],
) -> None:
    user, order = apps
    assert user.post("/users", json={"username": "erin", "email": "erin@example.com",
                                     "password": "correct horse"}).status_code == 201  # fmt: skip
    assert user.post("/users/erin/deposits", json={"amount": "10"}).status_code == 201
    big = order.post("/orders", json={"username": "erin", "asset_id": "ETH", "order_type": "BUY",
                                      "quantity": "1", "price": "300"}).json()  # fmt: skip
    assert order.post(f"/orders/{big['order_id']}/cancellation").status_code == 201
    # a later event of the same user (same partition) shows the earlier ones were consumed
    order.post("/orders", json={"username": "erin", "asset_id": "ETH", "order_type": "BUY",
                                "quantity": "1", "price": "4"})  # fmt: skip
    wait_for("the small payment", lambda: _balance(user, "erin") == "6.00000000")
    kinds = [t["transaction_type"] for t in user.get("/users/erin/transactions").json()["items"]]
    assert sorted(kinds) == ["DEPOSIT", "ORDER_PAYMENT"]  # no payment, so no refund, for big
