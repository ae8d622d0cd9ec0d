"""inventory: stock is never oversold, every change is an event, replay matches PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from emulation.stack import LocalStack
from polystore.topology.model import Topology
from tests.services.conftest import RecordingPublisher, client_for

pytestmark = pytest.mark.slow
SYSTEMS = ["inventory"]
SERVICE = "inventory.inventory"


def test_receive_allocate_release_ship_and_replay(stack: LocalStack, topology: Topology) -> None:
    api = client_for(stack, topology, SERVICE, RecordingPublisher())
    wh = api.post("/warehouses", json={"code": "AUS-1", "name": "Austin", "country_code": "us"})
    assert wh.status_code == 201, wh.text
    assert api.post("/warehouses", json={"code": "AUS-1", "name": "x", "country_code": "US"}
                    ).status_code == 409  # fmt: skip
    wid = wh.json()["id"]
    got = api.post("/inventory/receipts", json={"sku": "SKU-1", "warehouse_id": wid,
                                                "quantity": 10})  # fmt: skip
    assert got.status_code == 201, got.text
    inv_id = got.json()["id"]
    a = api.post("/inventory/allocations", json={"sku": "SKU-1", "warehouse_id": wid,
                                                 "order_id": "o-1", "quantity": 4})  # fmt: skip
    assert a.status_code == 201 and a.json()["inventory"]["quantity_available"] == 6
    again = api.post("/inventory/allocations", json={"sku": "SKU-1", "warehouse_id": wid,
                                                     "order_id": "o-1", "quantity": 4})
    assert again.json()["replayed"] is True  # the same order twice allocates once
    b = api.post("/inventory/allocations", json={"sku": "SKU-1", "warehouse_id": wid,
                                                 "order_id": "o-2", "quantity": 3})  # fmt: skip
    assert api.post(f"/allocations/{a.json()['allocation']['id']}/ship").status_code == 200
    assert api.post(f"/allocations/{b.json()['allocation']['id']}/release").status_code == 200
    assert api.post(f"/allocations/{b.json()['allocation']['id']}/release").status_code == 409
    replay = api.get(f"/inventory/{inv_id}/replay").json()
    assert replay["differences"] == {} and replay["sequence_gaps"] == []
    assert replay["replayed"] == {"quantity_on_hand": 6, "quantity_allocated": 0, "version": 5}
    events = api.get("/queries/entity-events", params={"entity_id": f"inventory-{inv_id}"})
    assert [e["event_type"] for e in events.json()["items"]] == [
        "receipt", "allocation", "allocation", "shipment", "release"]


def test_concurrent_allocations_never_oversell(stack: LocalStack, topology: Topology) -> None:
    api = client_for(stack, topology, SERVICE, RecordingPublisher())
    wid = api.post("/warehouses", json={"code": "BOS-1", "name": "Boston",
                                        "country_code": "US"}).json()["id"]  # fmt: skip
    inv_id = api.post("/inventory/receipts", json={"sku": "HOT", "warehouse_id": wid,
                                                   "quantity": 100}).json()["id"]  # fmt: skip

    def allocate(i: int) -> int:
        return api.post("/inventory/allocations", json={
            "sku": "HOT", "warehouse_id": wid, "order_id": f"o-{i}", "quantity": 1}).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(allocate, range(1000)))
    assert codes.count(201) == 100 and codes.count(409) == 900, sorted(set(codes))
    replay = api.get(f"/inventory/{inv_id}/replay").json()
    assert replay["differences"] == {}
    assert replay["replayed"]["quantity_allocated"] == 100 == replay["replayed"][
        "quantity_on_hand"]  # fmt: skip


@pytest.mark.parametrize("body, field", [
    ({"sku": "X", "warehouse_id": "nope", "quantity": 1}, "warehouse_id"),
    ({"sku": "X", "warehouse_id": "00000000-0000-0000-0000-000000000000", "quantity": 0},
     "quantity"),
    ({"sku": "X", "warehouse_id": "00000000-0000-0000-0000-000000000000", "quantity": 1},
     "warehouse_id"),
])
def test_bad_receipts_are_4xx_naming_the_field(stack: LocalStack, topology: Topology,
                                               body: dict[str, object], field: str) -> None:
    r = client_for(stack, topology, SERVICE, RecordingPublisher()).post("/inventory/receipts",
                                                                       json=body)
    assert 400 <= r.status_code < 500, r.text
    assert field in r.text
