"""End to end: PostgreSQL → Debezium (Kafka Connect) → Kafka → sink consumer → DynamoDB.

Kafka and Connect (with Debezium) are the local engines of ``emulation/kafka`` started in
a temp dir (jars from the user cache, downloaded once), or the ones named by
``KAFKA_BOOTSTRAP_SERVERS`` and ``KAFKA_CONNECT_URL``.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from polystore.topology.model import Topology
from tests.support.cdc_pipeline import Pipeline, engines_from_env, start_kafka

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    given = engines_from_env()
    if given is not None:
        yield given
        return
    kafka = start_kafka(tmp_path_factory.mktemp("kafka"))
    try:
        yield kafka.bootstrap, kafka.connect_url
    finally:
        kafka.stop()


@pytest.fixture(scope="module")
def pipeline(topology: Topology, tmp_path_factory: pytest.TempPathFactory,
             engines: tuple[str, str]) -> Iterator[Pipeline]:  # fmt: skip
    p = Pipeline.start(topology, tmp_path_factory.mktemp("cdc-state"), *engines)
    try:
        p.start_consumer()
        yield p
    finally:
        p.close()


def _restaurant(conn, name: str = "Ramen Ya", city: str = "Portland") -> str:  # type: ignore[no-untyped-def]
    rid = str(uuid.uuid4())
    conn.execute("INSERT INTO restaurants (restaurant_id, name, slug, cuisine, city) "
                 "VALUES (%s, %s, %s, 'japanese', %s)", (rid, name, rid, city))  # fmt: skip
    return rid


def test_inserts_updates_deletes_converge(pipeline: Pipeline) -> None:
    with pipeline.connect_db() as conn:
        rids = [_restaurant(conn, f"R{i}") for i in range(5)]
        user = str(uuid.uuid4())
        conn.execute("INSERT INTO users (user_id, email, username) VALUES (%s, %s, %s)",
                     (user, f"{user}@example.com", user[:20]))  # fmt: skip
        for rid in rids:
            conn.execute("INSERT INTO menu_items (restaurant_id, name, price) "
                         "VALUES (%s, 'Tonkotsu', 14.50)", (rid,))  # fmt: skip
            conn.execute("INSERT INTO reviews (restaurant_id, user_id, rating, body) "
                         "VALUES (%s, %s, 4, 'good')", (rid, user))  # fmt: skip
    pipeline.wait_converged(120)
    with pipeline.connect_db() as conn:
        conn.execute("UPDATE restaurants SET name = 'Renamed', city = 'Austin' WHERE "
                     "restaurant_id = %s", (rids[0],))  # fmt: skip
        conn.execute("UPDATE menu_items SET price = 15.25 WHERE restaurant_id = %s", (rids[1],))
        conn.execute("DELETE FROM reviews WHERE restaurant_id = %s", (rids[2],))
        conn.execute("DELETE FROM restaurants WHERE restaurant_id = %s", (rids[3],))  # cascades
        # moves a review's item (its key includes created_at)
        conn.execute("UPDATE reviews SET created_at = created_at - interval '1 day' "
                     "WHERE restaurant_id = %s", (rids[4],))  # fmt: skip
    pipeline.wait_converged(60)
    model = pipeline.read_model()
    assert model[(f"RESTAURANT#{rids[0]}", "PROFILE")]["GSI1PK"] == "CITY#Austin"
    assert not [k for k in model if k[0] == f"RESTAURANT#{rids[3]}"]


def test_kill_9_of_the_sink_consumer_loses_nothing(pipeline: Pipeline) -> None:
    with pipeline.connect_db() as conn:
        rids = [_restaurant(conn, f"K{i}") for i in range(200)]
    pipeline.kill_consumer(signal.SIGKILL)  # wherever it was
    with pipeline.connect_db() as conn:
        for rid in rids[:100]:
            conn.execute("UPDATE restaurants SET name = name || '!' WHERE restaurant_id = %s",
                         (rid,))  # fmt: skip
        for rid in rids[100:150]:
            conn.execute("DELETE FROM restaurants WHERE restaurant_id = %s", (rid,))
    pipeline.start_consumer()
    pipeline.wait_converged(120)
    dead = Path(pipeline.logs / "cdc-dead-letter.jsonl")
    assert not dead.exists() or dead.read_text() == ""
