"""ecommerce end to end through the stack's real Kafka: auth registers an account and
publishes ``user.created``; the user service's consumer creates the profile (same id)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from emulation.stack import LocalStack
from polystore.topology.model import Topology
from tests.services.conftest import client_for, service_env, wait_for

pytestmark = pytest.mark.slow
SYSTEMS = ["ecommerce"]


@pytest.fixture(scope="module")
def apps(stack: LocalStack, topology: Topology) -> Iterator[tuple[TestClient, TestClient]]:
    with client_for(stack, topology, "ecommerce.auth") as auth, \
            client_for(stack, topology, "ecommerce.user") as user:  # fmt: skip
        yield auth, user


def test_register_creates_the_profile_by_event(apps: tuple[TestClient, TestClient],
                                               stack: LocalStack,
                                               topology: Topology) -> None:  # fmt: skip
    auth, user = apps
    r = auth.post("/register", json={"email": "Erin@Example.com", "password": "correct horse"})
    assert r.status_code == 201, r.text
    user_id = r.json()["id"]
    dup = auth.post("/register", json={"email": "erin@example.com", "password": "whatever1"})
    assert dup.status_code == 409 and dup.json()["error"]["field"] == "email"

    def profile() -> list[dict[str, str]]:
        got = user.get("/queries/profile-of-user", params={"user_id": user_id})
        assert got.status_code == 200, got.text
        return list(got.json()["items"])

    assert [p["user_id"] for p in wait_for("the profile", profile)] == [user_id]
    # the event was claimed once, in the user service's own database
    env = service_env(stack, topology, "ecommerce.user")
    with psycopg.connect(
        host=env["PGHOST"],
        port=env["PGPORT"],
        dbname=env["PGDATABASE"],
        user=env["PGUSER"],
        password=env.get("PGPASSWORD"),
    ) as conn:
        claimed = conn.execute("SELECT count(*) FROM processed_events "
                               "WHERE consumer = 'ecommerce.user'").fetchone()  # fmt: skip
    assert claimed is not None and claimed[0] == 1
    state = user.get("/health").json()["consumer"]
    assert state["running"] and state["handled"] == 1 and state["last_error"] is None


def test_bad_registration_is_422(apps: tuple[TestClient, TestClient]) -> None:
    auth, _ = apps
    r = auth.post("/register", json={"email": "nope", "password": "correct horse"})
    assert r.status_code == 422 and "email" in str(r.json()["detail"][0]["loc"])
