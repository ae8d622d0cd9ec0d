"""bellyfed's restaurant-api: seed 001's four endpoints, generated from the topology."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from emulation.stack import LocalStack
from polystore.topology.model import Topology
from tests.services.conftest import RecordingPublisher, client_for, service_env

pytestmark = pytest.mark.slow
SYSTEMS = ["bellyfed"]
SERVICE = "bellyfed.restaurant-api"


@pytest.fixture(scope="module")
def data(stack: LocalStack, topology: Topology) -> dict[str, Any]:
    env = service_env(stack, topology, SERVICE)
    with psycopg.connect(host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"],
                         password=env["PGPASSWORD"], dbname=env["PGDATABASE"],
                         autocommit=True) as conn:  # fmt: skip
        ids = []
        for i in range(7):
            city, cuisine = ("Austin", "thai") if i < 4 else ("Boston", "thai" if i < 6 else "bbq")
            (rid,) = conn.execute(
                "INSERT INTO restaurants (name, slug, cuisine, city) VALUES (%s, %s, %s, %s) "
                "RETURNING restaurant_id", (f"R{i}", f"r-{i}", cuisine, city)).fetchone()
            ids.append(str(rid))
        (uid,) = conn.execute("INSERT INTO users (email, username, display_name) VALUES "
                              "('ann@example.com', 'ann', 'Ann') RETURNING user_id").fetchone()
        for i in range(3):
            conn.execute("INSERT INTO menu_items (restaurant_id, name, price) VALUES (%s, %s, 9.5)",
                         (ids[0], f"dish {i}"))
        for i in range(60):
            conn.execute("INSERT INTO reviews (restaurant_id, user_id, rating, body, created_at) "
                         "VALUES (%s, %s, 4, %s, now() - make_interval(mins => %s))",
                         (ids[0], uid, f"review {i}", i))
    return {"ids": ids, "user": str(uid)}


def test_list_by_city_and_cuisine_pages_and_emits(stack: LocalStack, topology: Topology,
                                                  data: dict[str, Any]) -> None:  # fmt: skip
    pub = RecordingPublisher()
    api = client_for(stack, topology, SERVICE, pub)
    r = api.get("/restaurants", params={"city": "Boston", "cuisine": "thai"})
    assert r.status_code == 200, r.text
    assert {x["name"] for x in r.json()["items"]} == {"R4", "R5"}
    r = api.get("/restaurants", params={"city": "Austin", "limit": 3})
    first = r.json()
    assert len(first["items"]) == 3 and first["next"]
    rest = api.get("/restaurants", params={"city": "Austin", "limit": 3,
                                           "cursor": first["next"]}).json()  # fmt: skip
    assert {x["name"] for x in first["items"] + rest["items"]} == {"R0", "R1", "R2", "R3"}
    assert rest["next"] is None
    assert {x["name"] for x in api.get("/restaurants", params={"cuisine": "bbq"}).json()["items"]
            } == {"R6"}  # fmt: skip
    everything = api.get("/restaurants").json()["items"]
    assert len(everything) == 7
    assert [e[0] for e in pub.events] == ["RESTAURANTS_LISTED"] * 5


def test_get_menu_and_reviews(stack: LocalStack, topology: Topology, data: dict[str, Any]) -> None:
    pub = RecordingPublisher()
    api = client_for(stack, topology, SERVICE, pub)
    rid = data["ids"][0]
    one = api.get(f"/restaurants/{rid}")
    assert one.status_code == 200 and one.json()["name"] == "R0"
    menu = api.get(f"/restaurants/{rid}/menu").json()["items"]
    assert len(menu) == 3 and all(m["restaurant"]["name"] == "R0" for m in menu)
    reviews = api.get(f"/restaurants/{rid}/reviews").json()
    assert len(reviews["items"]) == 50  # latest 50
    times = [r["created_at"] for r in reviews["items"]]
    assert times == sorted(times, reverse=True)
    assert reviews["items"][0]["body"] == "review 0"
    user = reviews["items"][0]["user"]
    assert user["display_name"] == "Ann" and "email" not in user
    assert [e[0] for e in pub.events] == ["RESTAURANT_VIEWED", "RESTAURANT_MENU_VIEWED",
                                          "RESTAURANT_REVIEWS_VIEWED"]  # fmt: skip


@pytest.mark.parametrize("path, params, status, field", [
    ("/restaurants/not-a-uuid", {}, 422, "id"),
    ("/restaurants/00000000-0000-0000-0000-000000000000", {}, 404, None),
    ("/restaurants", {"town": "Austin"}, 422, "town"),
    ("/restaurants", {"city": "Austin", "limit": "many"}, 422, "limit"),
    ("/restaurants", {"city": "Austin", "cursor": "garbage!"}, 422, "cursor"),
])
def test_bad_input_is_a_4xx_naming_the_field(stack: LocalStack, topology: Topology,
                                             data: dict[str, Any], path: str,
                                             params: dict[str, str], status: int,
                                             field: str | None) -> None:  # fmt: skip
    r = client_for(stack, topology, SERVICE, RecordingPublisher()).get(path, params=params)
    assert r.status_code == status, r.text
    assert r.json()["error"].get("field") == field


def test_health_and_openapi(stack: LocalStack, topology: Topology) -> None:
    api = client_for(stack, topology, SERVICE, RecordingPublisher())
    h = api.get("/health")
    assert h.status_code == 200 and h.json()["stores"]["bellyfed-db"] == "ok"
    spec = api.get("/openapi.json").json()
    assert {"/restaurants", "/restaurants/{id}", "/restaurants/{id}/menu",
            "/restaurants/{id}/reviews"} <= set(spec["paths"])
