"""tcgstore: cards in DynamoDB, stock in PostgreSQL that never goes negative, orders."""

from __future__ import annotations

import pytest

from emulation.stack import LocalStack
from polystore.topology.model import Topology
from tests.services.conftest import RecordingPublisher, client_for

pytestmark = pytest.mark.slow
SYSTEMS = ["tcgstore"]
CARD = {"name": "Black Lotus", "description": "Add three mana of any one color.",
        "set": "Alpha", "rarity": "rare", "type": "artifact", "number": 232, "price": "25000"}


def test_card_lifecycle(stack: LocalStack, topology: Topology) -> None:
    api = client_for(stack, topology, "tcgstore.catalog", RecordingPublisher())
    made = api.post("/cards", json=CARD)
    assert made.status_code == 201, made.text
    cid = made.json()["Id"]
    assert api.get(f"/cards/{cid}").json()["price"] == "25000.00"
    assert api.put(f"/cards/{cid}", json=CARD | {"price": "30000"}).json()["price"] == "30000.00"
    assert api.put("/cards/nope", json=CARD).status_code == 404
    assert api.delete(f"/cards/{cid}").status_code == 204
    assert api.get(f"/cards/{cid}").status_code == 404
    assert api.post("/cards", json=CARD | {"price": "cheap"}).status_code == 422
    assert api.get("/cards/search").status_code == 422  # q is required, and not an id


def test_stock_never_negative(stack: LocalStack, topology: Topology) -> None:
    api = client_for(stack, topology, "tcgstore.inventory", RecordingPublisher())
    ok = api.post("/cards/c-1/stock-movements", json={"location": "S1", "quantity_delta": 5,
                                                      "movement_type": "receipt"})  # fmt: skip
    assert ok.status_code == 201 and ok.json()["quantity_on_hand"] == 5
    over = api.post("/cards/c-1/stock-movements", json={"location": "S1", "quantity_delta": -6,
                                                        "movement_type": "sale"})  # fmt: skip
    assert over.status_code == 409, over.text
    level = api.get("/cards/c-1/stock")
    assert [x["quantity_on_hand"] for x in level.json()["items"]] == [5]
    moves = api.get("/cards/c-1/stock-movements").json()["items"]
    assert [m["quantity_delta"] for m in moves] == [5]


def test_order_with_lines_is_published(stack: LocalStack, topology: Topology) -> None:
    pub = RecordingPublisher()
    api = client_for(stack, topology, "tcgstore.order", pub)
    r = api.post("/orders", json={"customer_id": "cust-1", "lines": [
        {"card_id": "c-1", "quantity": 2, "unit_price": "10.50"},
        {"card_id": "c-2", "quantity": 1, "unit_price": "1"}]})  # fmt: skip
    assert r.status_code == 201, r.text
    oid = r.json()["OrderId"]
    assert r.json()["Total"] == "22.00000000"
    assert api.get(f"/orders/{oid}").json()["CustomerId"] == "cust-1"
    assert api.get("/customers/cust-1/orders").json()["items"][0]["OrderId"] == oid
    # one event for the whole order, keyed by it, with what inventory and payment need
    assert [(e[0], e[1]) for e in pub.events] == [("order.placed", oid)]
    data = pub.events[0][2]
    assert (data["Total"], data["Currency"], data["Method"]) == ("22.00000000", "USD", "card")
    assert [(ln["LineNumber"], ln["CardId"], ln["Quantity"]) for ln in data["Lines"]] == [
        (1, "c-1", 2), (2, "c-2", 1)]
